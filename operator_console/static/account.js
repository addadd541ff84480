// The operator's own corner of the sidebar: who they are in this study, their paid
// time, answers and pay so far (from the labor ledger), and what they agreed to
// about the reuse of their answers.

import { h, replace } from "./dom.js";

const WORK_REFRESH_MS = 30000; // after an answer, "Your work" is asked for at most this often

export class OperatorPanel {
  /** send(frame): to the server; openAgreement(): show the reuse agreement. */
  constructor({ send, openAgreement }) {
    this.send = send;
    this.workAskedAt = 0;
    this.who = h("div", { class: "operator-info" });
    this.work = h("button", {
      type: "button", class: "btn btn-quiet btn-small work-info", hidden: true,
      title: "Your paid time, answers and pay in this study (click to refresh)",
      on: { click: () => this.askWork() },
    });
    this.reuse = h("button", { type: "button", class: "btn btn-quiet btn-small reuse-info", hidden: true, on: { click: openAgreement } });
    this.el = h("div", { class: "sidebar-foot" }, this.who, this.work, this.reuse);
  }

  /** `hello` arrived: show who the operator is and ask for their work so far. */
  signedIn(operator) {
    replace(this.who, "Signed in as ", h("strong", { text: operator.display_name || "operator" }),
      operator.id ? h("code", { class: "operator-id", text: operator.id }) : null);
    this.askWork();
  }

  /** An answer was recorded: the work line is refreshed, now and then. */
  answered() {
    if (Date.now() - this.workAskedAt > WORK_REFRESH_MS) this.askWork();
  }

  /** Ask for the operator's paid time, answers and pay (the server reads this operator's records). */
  askWork() {
    this.workAskedAt = Date.now();
    this.send({ type: "my_work" });
  }

  /** The `my_work` frame's `work`. */
  showWork(work) {
    if (!work) return;
    const minutes = Math.round(work.paid_s / 60);
    const paid = minutes < 60 ? `${minutes} min` : `${(work.paid_s / 3600).toFixed(1)} h`;
    const answers = `${work.tasks_answered} answer${work.tasks_answered === 1 ? "" : "s"}`;
    const pay = `${work.earnings.toFixed(2)} ${work.currency}`;
    this.work.textContent = `Your work: ${paid} paid · ${answers} · ${pay}`
      + (work.below_floor ? " (below the study's pay floor: tell the researcher)" : "");
    this.work.classList.toggle("below-floor", Boolean(work.below_floor));
    this.work.hidden = false;
  }

  /** What the operator agreed to about reuse (null: the study has no agreement). */
  showReuse(summary) {
    this.reuse.hidden = summary === null;
    this.reuse.textContent = summary || "";
  }
}
