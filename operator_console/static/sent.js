// The operator's last few sent answers, each with a way to say it was a mistake:
// operators often know first when they slipped, and a reported error travels with
// the record into every export (`wizard_error`).

import { h, replace } from "./dom.js";
import { lastUserText } from "./transcript.js";

const KEEP = 5;

export class SentAnswers {
  /** onReport(item): the operator wants to report `item` ({recordId, label, question}). */
  constructor(onReport) {
    this.onReport = onReport;
    this.items = [];
    this.list = h("ol", { class: "sent-list" });
    this.el = h("section", { class: "sent", hidden: true, "aria-label": "Sent answers" },
      h("h2", { class: "sidebar-title", text: "Sent" }), this.list);
  }

  /** An answer to `task` was recorded as `recordId`. */
  add(recordId, task, label) {
    this.items.unshift({ recordId, label, question: lastUserText(task), reported: false });
    this.items.length = Math.min(this.items.length, KEEP);
    this.render();
  }

  reported(recordId) {
    const item = this.items.find((entry) => entry.recordId === recordId);
    if (item) item.reported = true;
    this.render();
  }

  render() {
    this.el.hidden = this.items.length === 0;
    replace(this.list, this.items.map((item) => h("li", { class: "sent-item", dataset: { recordId: item.recordId } },
      h("span", { class: "sent-label", text: item.label }),
      h("span", { class: "sent-question", text: item.question }),
      item.reported
        ? h("span", { class: "sent-reported", text: "Reported as a mistake" })
        : h("button", {
          type: "button", class: "btn btn-quiet btn-small sent-report", text: "Report a mistake",
          on: { click: () => this.onReport(item) },
        }))));
  }
}
