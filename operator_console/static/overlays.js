// What floats over the console: the keyboard help, the snippet picker, and
// notices (toasts). Snippet text comes from the study, so it is set with
// textContent like everything else.

import { h, replace } from "./dom.js";

/** Remembers where focus was when an overlay opened, to put it back. */
class Overlay {
  constructor() {
    this.returnFocus = null;
  }

  get isOpen() {
    return !this.el.hidden;
  }

  show(focusTarget) {
    this.returnFocus = document.activeElement;
    this.el.hidden = false;
    focusTarget.focus();
  }

  hide() {
    this.el.hidden = true;
    if (this.returnFocus && this.returnFocus.isConnected) this.returnFocus.focus();
  }
}

export class HelpOverlay extends Overlay {
  /** shortcuts: [[keys, what]], keys like "Alt+↑ / Alt+↓" or "? or F1". */
  constructor(shortcuts) {
    super();
    const rows = shortcuts.map(([keys, what]) => h("tr", {},
      h("th", { scope: "row" }, keys.split(/( \/ | or )/).map((k, i) => (i % 2 ? k : h("kbd", { text: k })))),
      h("td", { text: what })));
    this.close = h("button", { type: "button", class: "btn btn-small", text: "Close", on: { click: () => this.hide() } });
    const dialog = h("div", { class: "dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": "help-title" },
      h("h2", { id: "help-title", text: "Keyboard shortcuts" }),
      h("table", { class: "shortcuts" }, h("tbody", {}, rows)),
      h("p", { class: "muted", text: "Snippet keys come from the study; they are listed in the Snippets panel." }),
      h("div", { class: "dialog-actions" }, this.close));
    this.el = h("div", { class: "overlay help-overlay", hidden: true }, dialog);
    this.el.addEventListener("click", (event) => { if (event.target === this.el) this.hide(); });
  }

  toggle(show = !this.isOpen) {
    if (show) this.show(this.close);
    else this.hide();
  }
}

export class SnippetPicker extends Overlay {
  /** onPick(snippet, target): insert `snippet` where the focus was (`target`). */
  constructor(onPick) {
    super();
    this.onPick = onPick;
    this.snippets = [];
    this.matches = [];
    this.index = 0;
    this.input = h("input", { type: "text", class: "input picker-input", placeholder: "Search snippets…", "aria-label": "Search snippets", autocomplete: "off" });
    this.list = h("ul", { class: "picker-list", role: "listbox" });
    const dialog = h("div", { class: "dialog picker", role: "dialog", "aria-modal": "true", "aria-label": "Insert a snippet" }, this.input, this.list);
    this.el = h("div", { class: "overlay picker-overlay", hidden: true }, dialog);
    this.el.addEventListener("click", (event) => { if (event.target === this.el) this.hide(); });
    this.input.addEventListener("input", () => this.render());
    this.input.addEventListener("keydown", (event) => this.onKey(event));
  }

  open(snippets) {
    if (this.isOpen) return;
    this.snippets = snippets;
    this.input.value = "";
    this.render();
    this.show(this.input);
  }

  onKey(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const n = this.matches.length;
      if (n) this.index = (this.index + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
      this.render(false);
    } else if (event.key === "Enter") {
      event.preventDefault();
      event.stopPropagation();
      const snippet = this.matches[this.index];
      if (snippet) this.pick(snippet);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.hide();
    }
  }

  pick(snippet) {
    const target = this.returnFocus;
    this.hide();
    this.onPick(snippet, target);
  }

  render(filter = true) {
    if (filter) {
      const q = this.input.value.trim().toLowerCase();
      this.matches = this.snippets.filter((s) => !q || `${s.key} ${s.label} ${s.text}`.toLowerCase().includes(q));
      this.index = 0;
    }
    replace(this.list);
    if (!this.matches.length) {
      this.list.append(h("li", { class: "muted picker-empty", text: "No snippet matches." }));
      return;
    }
    this.matches.forEach((snippet, i) => {
      const item = h("li", {
        class: `picker-item${i === this.index ? " active" : ""}`, role: "option", "aria-selected": String(i === this.index),
        on: { mousedown: (e) => { e.preventDefault(); this.pick(snippet); } },
      },
      snippet.key ? h("kbd", { text: `Alt+${snippet.key}` }) : null,
      h("span", { class: "snippet-label", text: snippet.label }),
      h("span", { class: "snippet-text", text: snippet.text }));
      this.list.append(item);
      if (i === this.index) item.scrollIntoView({ block: "nearest" });
    });
  }
}

export class Notices {
  constructor() {
    this.el = h("div", { class: "notices", "aria-live": "polite" });
  }

  /** A toast; kind is info, success, warn or error (the last two stay longer). */
  notify(text, kind = "info") {
    const notice = h("div", { class: `notice notice-${kind}`, role: kind === "error" || kind === "warn" ? "alert" : "status" });
    const close = h("button", { type: "button", class: "notice-close", "aria-label": "Dismiss", text: "×", on: { click: () => notice.remove() } });
    notice.append(h("span", { class: "notice-text", text }), close);
    this.el.append(notice);
    while (this.el.children.length > 5) this.el.firstChild.remove();
    setTimeout(() => notice.remove(), kind === "success" || kind === "info" ? 5000 : 15000);
  }
}
