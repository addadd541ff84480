// One task the operator holds: its conversation, its details for the side
// panel, and the composer the answer is written in (text, JSON, tool calls).
// A TaskView lives as long as the task is held, across tab switches and
// reconnects, so nothing typed is lost; drafts also go to sessionStorage so
// a reload keeps them.

import { h, replace } from "./dom.js";
import { JsonEditor } from "./jsoneditor.js";
import { renderAside, renderHead } from "./taskinfo.js";
import { ToolCallsEditor } from "./toolcalls.js";
import { renderTranscript } from "./transcript.js";
import { VOICE_API, VoiceTurn } from "./voiceturn.js";

const TYPING_MS = 150;
const DRAFT_PREFIX = "woz.draft.";

/** The part of a draft that live mode streams: up to its last space or newline. */
export function streamable(text) {
  return text.slice(0, Math.max(text.lastIndexOf(" "), text.lastIndexOf("\n")) + 1);
}

function loadDraft(id) {
  try {
    const raw = sessionStorage.getItem(DRAFT_PREFIX + id);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

export function forgetDraft(id) {
  try {
    sessionStorage.removeItem(DRAFT_PREFIX + id);
  } catch {
    // storage may be unavailable; the in-memory draft is gone with the view anyway
  }
}

/** Drop saved drafts of tasks this operator no longer holds. */
export function forgetStaleDrafts(held) {
  try {
    for (const key of Object.keys(sessionStorage)) {
      if (key.startsWith(DRAFT_PREFIX) && !held.has(key.slice(DRAFT_PREFIX.length))) sessionStorage.removeItem(key);
    }
  } catch {
    // storage unavailable: nothing to clean
  }
}

let views = 0;

export class TaskView {
  constructor(app, task) {
    this.app = app;
    this.task = task;
    this.id = task.id;
    this.uid = `t${++views}`;
    this.pending = false;
    this.locked = "";
    this.lastText = "";
    this.typingTimer = null;
    this.lastTypingAt = 0;
    this.lastTypingSent = task.draft || "";
    this.modelDraft = null; // {text, done, error} in assist mode
    this.touched = false; // the operator typed something themselves
    const choice = task.tool_choice || { mode: "auto" };
    const fmt = task.response_format || { type: "text" };
    this.toolsAllowed = (task.tools || []).length > 0 && choice.mode !== "none";
    this.toolsRequired = this.toolsAllowed && (choice.mode === "required" || choice.mode === "named");
    this.liveText = Boolean(task.live && task.stream) && fmt.type === "text";
    this.answerMode = fmt.type === "text" ? "text" : "json";
    this.mode = this.toolsRequired ? "tools" : this.answerMode;

    this.countdown = h("div", { class: "countdown", role: "timer", "aria-label": "Time left to answer" });
    this.head = this.buildHead();
    this.transcript = h("div", { class: "transcript", tabIndex: -1, "aria-label": "Conversation" }, renderTranscript(task));
    // Follow the end of the conversation while images load, unless the operator scrolled up.
    this.atEnd = true;
    this.transcript.addEventListener("scroll", () => {
      const t = this.transcript;
      this.atEnd = t.scrollHeight - t.scrollTop - t.clientHeight < 24;
    });
    this.transcript.addEventListener("load", () => { if (this.atEnd) this.scrollToEnd(); }, true);
    this.composer = this.buildComposer();
    this.el = h("section", { class: "task-view", "aria-label": "Task", dataset: { taskId: task.id } },
      this.head, this.transcript, this.composer);
    this.aside = renderAside(task, this.persona, { liveText: this.liveText });
    this.restoreDraft(loadDraft(task.id));
    this.renderMode();
  }

  get persona() {
    return this.app.personas.get(this.task.persona) || { id: this.task.persona, display_name: "", guide: "", live: false };
  }

  // -- building -------------------------------------------------------------

  buildHead() {
    return renderHead(this.task, this.persona, { liveText: this.liveText, countdown: this.countdown });
  }

  buildComposer() {
    const task = this.task;
    this.status = h("div", { class: "composer-status", role: "status", "aria-live": "polite" });
    // Text answer.
    this.textArea = h("textarea", {
      class: "composer-text",
      rows: 4,
      spellcheck: true,
      "aria-label": "Answer",
      placeholder: "Write the answer…  Enter sends · Shift+Enter new line",
      on: { input: () => this.onTextInput() },
    });
    this.lockNote = h("div", { class: "live-note", hidden: !this.liveText });
    this.textPane = h("div", { class: "pane pane-text" }, this.textArea, this.lockNote);
    // JSON answer.
    const fmt = task.response_format || {};
    this.editor = this.answerMode === "json"
      ? new JsonEditor(fmt.type === "json_schema" ? fmt.json_schema || {} : null, {
        onChange: () => this.changed(), idPrefix: `${this.uid}-answer`,
      })
      : null;
    this.jsonPane = h("div", { class: "pane pane-json" }, this.editor ? this.editor.el : null);
    // Tool calls.
    this.tools = this.toolsAllowed ? new ToolCallsEditor(task, { onChange: () => this.changed(), idPrefix: `${this.uid}-tool` }) : null;
    this.toolsPane = h("div", { class: "pane pane-tools" }, this.tools ? this.tools.el : null);
    // Mode tabs.
    this.tabs = h("div", { class: "mode-tabs", role: "tablist", "aria-label": "Answer as" });
    this.modeButtons = {};
    const tab = (mode, label, hint, disabled) => {
      const button = h("button", {
        type: "button", class: "mode-tab", role: "tab", text: label, title: hint, disabled,
        dataset: { mode },
        on: { click: () => this.setMode(mode) },
      });
      this.modeButtons[mode] = button;
      this.tabs.append(button);
    };
    const answerDisabled = this.toolsRequired;
    if (this.answerMode === "text") tab("text", "Text", answerDisabled ? "The app requires a tool call" : "Answer with text", answerDisabled);
    else tab("json", fmt.type === "json_schema" ? "Structured answer" : "JSON answer", answerDisabled ? "The app requires a tool call" : "Answer with JSON (Alt+J: form / raw)", answerDisabled);
    if (this.toolsAllowed) tab("tools", "Tool calls", "Answer with tool calls (Alt+T)", false);
    this.sendButton = h("button", { type: "button", class: "btn btn-primary send", on: { click: () => this.send() } },
      "Send ", h("kbd", { text: "Enter" }));
    this.releaseButton = h("button", { type: "button", class: "btn release", title: "Hand the task back to the queue", on: { click: () => this.release() } },
      "Release ", h("kbd", { text: "Esc" }));
    this.draftStatus = h("span", { class: "draft-status" });
    this.draftBody = h("div", { class: "draft-text" });
    this.useDraftButton = h("button", {
      type: "button", class: "btn btn-small", title: "Put the model's draft in the answer, to edit it (Alt+D)",
      on: { click: () => this.useModelDraft() },
    }, "Use draft ", h("kbd", { text: "Alt+D" }));
    this.draftPanel = h("div", { class: "model-draft", hidden: task.mode !== "assist" },
      h("div", { class: "model-draft-head" }, h("span", { class: "model-draft-title", text: "Model draft" }), this.draftStatus, this.useDraftButton),
      this.draftBody);
    this.renderModelDraft();
    this.voice = task.api === VOICE_API ? new VoiceTurn(task, { onFiller: (text) => this.sayFiller(text) }) : null;
    const composer = h("section", { class: "composer", "aria-label": "Answer" },
      h("div", { class: "composer-body" },
        this.voice ? this.voice.el : null, this.draftPanel, this.tabs, this.textPane, this.jsonPane, this.toolsPane, this.status),
      h("div", { class: "composer-actions" },
        h("span", { class: "composer-hint", text: "Shift+Enter new line · Ctrl+K snippets · ? help" }),
        this.releaseButton, this.sendButton));
    composer.addEventListener("keydown", (event) => this.onComposerKey(event));
    return composer;
  }

  // -- modes and focus --------------------------------------------------------

  setMode(mode) {
    if (!this.modeButtons[mode] || this.modeButtons[mode].disabled) return;
    this.mode = mode;
    if (mode === "tools" && this.tools.count === 0) this.tools.add();
    this.renderMode();
    this.focus();
    this.changed();
  }

  renderMode() {
    this.textPane.hidden = this.mode !== "text";
    this.jsonPane.hidden = this.mode !== "json";
    this.toolsPane.hidden = this.mode !== "tools";
    for (const [mode, button] of Object.entries(this.modeButtons)) {
      button.setAttribute("aria-selected", String(mode === this.mode));
      button.classList.toggle("active", mode === this.mode);
    }
    this.tabs.hidden = Object.keys(this.modeButtons).length < 2;
  }

  /** Alt+T: between the answer and tool calls. */
  toggleTools() {
    if (!this.toolsAllowed) return;
    this.setMode(this.mode === "tools" ? this.answerMode : "tools");
  }

  /** Alt+J: form and raw JSON. */
  toggleRaw() {
    if (this.mode === "json" && this.editor) this.editor.toggle();
    else if (this.mode === "tools") this.tools.toggleRaw();
  }

  focus() {
    if (this.mode === "text") {
      this.textArea.focus();
      const end = this.textArea.value.length;
      this.textArea.setSelectionRange(end, end);
    } else if (this.mode === "json" && this.editor) {
      this.editor.focus();
    } else if (this.mode === "tools") {
      this.tools.focus();
    }
  }

  scrollToEnd() {
    this.transcript.scrollTop = this.transcript.scrollHeight;
    this.atEnd = true;
  }

  // -- typing, live lock, drafts ---------------------------------------------

  /** A voice turn: start the answer with a filler phrase, which woz says at once (the
   * participant hears it while the rest is typed), so it can no longer change. */
  sayFiller(text) {
    if (this.pending || this.locked || this.mode !== "text") return;
    const rest = this.textArea.value.trimStart();
    this.textArea.value = `${text} ${rest}`;
    this.onTextInput();
    this.flushTyping();
    this.locked = `${text} `;
    this.voice.fillerSaid(text);
    this.textArea.focus();
    this.textArea.setSelectionRange(this.textArea.value.length, this.textArea.value.length);
  }

  onTextInput() {
    const value = this.textArea.value;
    if (this.locked && !value.startsWith(this.locked)) {
      // The participant already saw the locked text: it cannot change now.
      const caret = Math.max(this.locked.length, this.textArea.selectionStart - (value.length - this.lastText.length));
      this.textArea.value = this.lastText;
      this.textArea.setSelectionRange(caret, caret);
      this.setStatus("The participant has already seen that part; it can't be changed.", "warn");
      return;
    }
    this.lastText = value;
    this.touched = true;
    this.changed();
  }

  /** Something in the composer changed: save the draft, send `typing` soon. */
  changed() {
    if (this.status.dataset.kind === "error" || this.status.dataset.kind === "warn") this.setStatus("");
    this.saveDraft();
    if (this.typingTimer !== null) return;
    const wait = Math.max(0, TYPING_MS - (Date.now() - this.lastTypingAt));
    this.typingTimer = setTimeout(() => {
      this.typingTimer = null;
      this.flushTyping();
    }, wait);
  }

  /** The draft as text for `typing`, or null when it must not be sent. */
  draftText() {
    if (this.mode === "text") return this.textArea.value;
    if (this.task.live) return null; // a live app would see half-built JSON
    if (this.mode === "json" && this.editor) return this.editor.draftText();
    return null;
  }

  flushTyping() {
    if (this.pending) return;
    const text = this.draftText();
    if (text === null || text === this.lastTypingSent) return;
    if (!this.app.send({ type: "typing", task_id: this.id, text })) return;
    this.lastTypingSent = text;
    this.lastTypingAt = Date.now();
    if (this.liveText && this.mode === "text") this.lockUpTo(text);
  }

  lockUpTo(text) {
    const stable = streamable(text);
    if (stable.length > this.locked.length && stable.startsWith(this.locked)) {
      this.locked = stable;
      this.saveDraft();
    }
    this.renderLock();
  }

  renderLock() {
    if (!this.liveText) return;
    const count = [...this.locked].length;
    replace(this.lockNote,
      h("span", { class: "live-dot", "aria-hidden": "true" }),
      count ? `Live: the participant has seen the first ${count} character${count === 1 ? "" : "s"}; that part is locked.`
        : "Live: what you type streams to the participant, word by word, as you type.");
  }

  saveDraft() {
    const draft = {
      mode: this.mode,
      text: this.textArea.value,
      locked: this.locked,
      json: this.editor ? this.editor.snapshot() : null,
      tools: this.tools ? this.tools.snapshot() : [],
    };
    try {
      sessionStorage.setItem(DRAFT_PREFIX + this.id, JSON.stringify(draft));
    } catch {
      // a full or disabled sessionStorage still leaves the in-memory draft
    }
  }

  restoreDraft(saved) {
    const task = this.task;
    if (saved) {
      this.textArea.value = saved.text || "";
      if (this.liveText && typeof saved.locked === "string" && this.textArea.value.startsWith(saved.locked)) this.locked = saved.locked;
      if (this.editor && saved.json) this.editor.restore(saved.json);
      if (this.tools) this.tools.restore(saved.tools);
      if (saved.mode && this.modeButtons[saved.mode] && !this.modeButtons[saved.mode].disabled) this.mode = saved.mode;
    } else if (task.draft) {
      if (this.answerMode === "text") {
        this.textArea.value = task.draft;
        if (this.liveText) this.locked = streamable(task.draft);
      } else if (this.editor) {
        try {
          this.editor.restore({ mode: "form", value: JSON.parse(task.draft) });
        } catch {
          this.editor.restore({ mode: "raw", raw: task.draft });
        }
      }
    }
    this.lastText = this.textArea.value;
    this.renderLock();
  }

  insertText(text, target) {
    let field = target;
    const usable = field && this.composer.contains(field)
      && (field.tagName === "TEXTAREA" || (field.tagName === "INPUT" && field.type === "text"));
    if (!usable) {
      if (this.mode !== "text" || this.modeButtons.text?.disabled) {
        this.setStatus("Put the cursor in a text field to insert a snippet.", "warn");
        return;
      }
      field = this.textArea;
    }
    let start = field.selectionStart ?? field.value.length;
    let end = field.selectionEnd ?? start;
    if (field === this.textArea && start < this.locked.length) {
      start = field.value.length;
      end = start;
    }
    field.focus();
    field.setRangeText(text, start, end, "end");
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // -- model drafts (assist mode) ---------------------------------------------

  /** A `task.draft` frame: the upstream model's draft so far. */
  onModelDraft(text, done, error) {
    const first = this.modelDraft === null;
    this.modelDraft = { text: String(text ?? ""), done: Boolean(done), error: error || null };
    this.draftPanel.hidden = false;
    this.renderModelDraft();
    // Nothing typed yet: the finished draft becomes the answer to edit.
    if (done && !error && !this.touched && this.isEmpty()) this.useModelDraft();
    else if (first && this.app.activeView === this) this.focus();
  }

  renderModelDraft() {
    const draft = this.modelDraft;
    const text = draft ? draft.text : "";
    this.draftBody.textContent = text || (draft && draft.done ? "(the model wrote nothing)" : "");
    this.draftStatus.textContent = !draft ? "waiting for the model…"
      : draft.error ? `failed: ${draft.error}` : draft.done ? "complete" : "writing…";
    this.draftStatus.dataset.kind = draft && draft.error ? "error" : "";
    this.useDraftButton.disabled = !text;
  }

  isEmpty() {
    if (this.mode === "text") return this.textArea.value === "";
    if (this.mode === "json" && this.editor) {
      const draft = this.editor.draftText();
      return draft === "" || draft === "{}";
    }
    return false;
  }

  /** Alt+D: the model's draft into the composer, replacing what is there. */
  useModelDraft() {
    const text = this.modelDraft ? this.modelDraft.text : this.task.draft || "";
    if (!text) return;
    if (this.answerMode === "json" && this.editor) {
      if (this.mode !== "json") this.setMode("json");
      try {
        this.editor.restore({ mode: "form", value: JSON.parse(text) });
      } catch {
        this.editor.restore({ mode: "raw", raw: text });
      }
    } else {
      if (this.mode !== "text") this.setMode("text");
      if (this.locked && !text.startsWith(this.locked)) {
        this.setStatus("The participant has already seen different words; the draft cannot replace them.", "warn");
        return;
      }
      this.textArea.value = text;
      this.lastText = text;
    }
    this.changed();
    if (this.app.activeView === this) this.focus();
  }

  // -- answering --------------------------------------------------------------

  onComposerKey(event) {
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.isComposing) return;
    const target = event.target;
    if (target.tagName === "BUTTON") return;
    const multiline = target.classList.contains("raw-json") || target.classList.contains("json-input");
    if (multiline && !(event.ctrlKey || event.metaKey)) return;
    event.preventDefault();
    this.send();
  }

  setStatus(text, kind = "") {
    this.status.textContent = text;
    this.status.dataset.kind = kind;
  }

  /** Build the reply frame from the composer, or show why it cannot be sent; a voice
   * turn's frame carries what the operator heard the participant say. */
  buildReply() {
    const built = this.buildAnswer();
    const heard = this.voice ? this.voice.transcript() : null;
    if (built.frame && heard) built.frame.transcript = heard;
    return built;
  }

  buildAnswer() {
    if (this.mode === "text") {
      const content = this.textArea.value;
      if (!content.trim()) return { problem: "Write an answer first." };
      return { frame: { type: "reply", task_id: this.id, content } };
    }
    if (this.mode === "json") {
      if (!this.editor.check()) return { problem: "Fix the highlighted fields, then send again." };
      return { frame: { type: "reply", task_id: this.id, content: JSON.stringify(this.editor.getValue().value) } };
    }
    const { calls, problem } = this.tools.build();
    if (problem) return { problem };
    return { frame: { type: "reply", task_id: this.id, tool_calls: calls } };
  }

  send() {
    if (this.pending) return;
    const { frame, problem } = this.buildReply();
    if (problem) {
      this.setStatus(problem, "error");
      return;
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = null;
    if (!this.app.send(frame)) {
      this.setStatus("Not connected: the answer was not sent. It is kept; send again once reconnected.", "error");
      return;
    }
    this.setPending(true);
    this.setStatus("Sending…", "info");
  }

  release() {
    if (this.pending) return;
    if (!this.app.send({ type: "release", task_id: this.id })) {
      this.setStatus("Not connected: cannot release the task right now.", "error");
      return;
    }
    this.app.removeTask(this.id, "Task released: it goes back to the queue for someone else.", "info");
  }

  setPending(pending) {
    this.pending = pending;
    this.composer.classList.toggle("pending", pending);
    this.sendButton.disabled = pending;
    this.releaseButton.disabled = pending;
  }

  rejected(error) {
    this.setPending(false);
    const code = error && error.code ? error.code : "rejected";
    const message = error && error.message ? error.message : "The server refused the answer.";
    this.setStatus(`Not sent: ${message} (${code})`, "error");
    this.focus();
  }

  /** The server sent the task again (after a reconnect): keep the draft, take the new facts. */
  refresh(task) {
    const wasPending = this.pending;
    this.task = { ...this.task, ...task };
    const head = this.buildHead();
    this.head.replaceWith(head);
    this.head = head;
    this.setPending(false);
    if (wasPending) this.setStatus("The connection dropped before the answer was confirmed; please send it again.", "warn");
  }

  /** Seconds left before the deadline, or null. */
  secondsLeft(now) {
    if (!this.task.deadline) return null;
    return (Date.parse(this.task.deadline) - now) / 1000;
  }

  destroy() {
    clearTimeout(this.typingTimer);
    forgetDraft(this.id);
  }
}
