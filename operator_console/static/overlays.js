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

  /** Escape closes this dialog (and goes no further); Ctrl+Enter runs `submit`, if given. */
  handleKeys(submit = null) {
    this.el.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.hide();
      } else if (submit && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        submit();
      }
    });
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

  /** A toast; kind is info, success, warn or error (the last two stay longer); a
   * sticky one stays until dismissed. */
  notify(text, kind = "info", { sticky = false } = {}) {
    const notice = h("div", { class: `notice notice-${kind}`, role: kind === "error" || kind === "warn" ? "alert" : "status" });
    const close = h("button", { type: "button", class: "notice-close", "aria-label": "Dismiss", text: "×", on: { click: () => notice.remove() } });
    notice.append(h("span", { class: "notice-text", text }), close);
    this.el.append(notice);
    while (this.el.children.length > 5) this.el.firstChild.remove();
    if (!sticky) setTimeout(() => notice.remove(), kind === "success" || kind === "info" ? 5000 : 15000);
  }
}

const USE_LABELS = {
  in_study_analysis: "Analysis within this study",
  publication_excerpts: "Quoted excerpts in publications",
  internal_model_training: "Training models within the research organisation",
  public_dataset_release: "A public dataset release",
  commercial_use: "Commercial use",
};

/** The study's reuse agreement for operators: read it, tick the uses, agree. */
export class ReuseConsentDialog extends Overlay {
  /** onAnswer(version, scopes): send the operator's consent. */
  constructor(onAnswer) {
    super();
    this.onAnswer = onAnswer;
    this.agreement = null;
    this.intro = h("p", { class: "muted" });
    this.text = h("div", { class: "agreement-text" });
    this.uses = h("fieldset", { class: "agreement-uses" });
    this.agree = h("button", { type: "button", class: "btn btn-primary", text: "Agree to the ticked uses", on: { click: () => this.answer() } });
    this.later = h("button", { type: "button", class: "btn", text: "Decide later", on: { click: () => this.hide() } });
    const dialog = h("div", { class: "dialog agreement", role: "dialog", "aria-modal": "true", "aria-labelledby": "agreement-title" },
      h("h2", { id: "agreement-title", text: "How the answers you write may be reused" }),
      this.intro, this.text, this.uses, h("div", { class: "dialog-actions" }, this.later, this.agree));
    this.el = h("div", { class: "overlay agreement-overlay", hidden: true }, dialog);
    this.handleKeys();
  }

  /** The agreement as `hello` gives it; opens the dialog when no consent to this version exists. */
  offer(agreement) {
    this.agreement = agreement;
    const consent = agreement && agreement.consent;
    if (agreement && (!consent || consent.version !== agreement.version)) this.open();
  }

  open() {
    const agreement = this.agreement;
    if (!agreement) return;
    const granted = new Set(agreement.consent ? agreement.consent.scopes : []);
    this.intro.textContent = `Version ${agreement.version}. ` + (agreement.required
      ? "Without your consent, nothing you write is used beyond running this study."
      : "Nothing you write is used for a purpose you leave unticked.")
      + " You can change this at any time from the sidebar.";
    // Paragraphs are blank-line separated; single line breaks are the file's wrapping.
    const paragraphs = agreement.text.split(/\n\s*\n/).map((block) => block.replace(/\s*\n\s*/g, " ").trim());
    replace(this.text, paragraphs.filter(Boolean).map((paragraph) => h("p", { text: paragraph })));
    replace(this.uses, h("legend", { text: "I agree that my answers may be used for:" }),
      agreement.uses.map((use) => h("label", { class: "agreement-use" },
        h("input", { type: "checkbox", value: use, checked: granted.has(use) }),
        h("span", { text: USE_LABELS[use] || use }))));
    this.show(this.uses.querySelector("input") || this.agree);
  }

  answer() {
    const scopes = [...this.uses.querySelectorAll("input:checked")].map((box) => box.value);
    this.onAnswer(this.agreement.version, scopes);
  }

  /** The server recorded a consent: remember it and close. */
  recorded(consent) {
    if (this.agreement) this.agreement.consent = consent;
    this.hide();
  }

  /** A line for the sidebar: what the operator agreed to. */
  summary() {
    const agreement = this.agreement;
    if (!agreement) return null;
    const consent = agreement.consent;
    if (!consent || consent.version !== agreement.version) return "Reuse of your answers: not agreed";
    if (!consent.scopes.length) return "Reuse of your answers: none";
    return `Reuse of your answers: ${consent.scopes.map((use) => USE_LABELS[use] || use).join(", ")}`;
  }
}

/** Asks what went wrong with an answer already sent, and reports it. */
export class ReportErrorDialog extends Overlay {
  /** onReport(recordId, note): send the report. */
  constructor(onReport) {
    super();
    this.onReport = onReport;
    this.item = null;
    this.about = h("p", { class: "muted" });
    this.note = h("textarea", { class: "input report-note", rows: 3, "aria-label": "What went wrong", placeholder: "What went wrong? (for example: answered as the wrong persona)" });
    this.submit = h("button", { type: "button", class: "btn btn-primary", text: "Report", on: { click: () => this.send() } });
    const cancel = h("button", { type: "button", class: "btn", text: "Cancel", on: { click: () => this.hide() } });
    const dialog = h("div", { class: "dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": "report-title" },
      h("h2", { id: "report-title", text: "Report a mistake in a sent answer" }),
      this.about, this.note,
      h("p", { class: "muted", text: "The researchers see your note with the answer; exports leave it out unless asked for." }),
      h("div", { class: "dialog-actions" }, cancel, this.submit));
    this.el = h("div", { class: "overlay report-overlay", hidden: true }, dialog);
    this.handleKeys(() => this.send());
  }

  open(item) {
    this.item = item;
    this.about.textContent = `${item.label}: “${item.question}”`;
    this.note.value = "";
    this.show(this.note);
  }

  send() {
    const note = this.note.value.trim();
    if (!note || !this.item) {
      this.note.focus();
      return;
    }
    this.onReport(this.item.recordId, note);
    this.hide();
  }
}
