// The woz operator console: connects to /operator/ws (protocol v1), shows the
// tasks this operator holds as tabs, and sends answers. Keyboard-first: every
// action has a key, listed in the help overlay (? or F1).
//
// Safety: participant and app text is only ever set with textContent,
// createTextNode or element properties (see dom.js); the page's CSP forbids
// inline script and style.

import { OperatorPanel } from "./account.js";
import { Connection } from "./connection.js";
import { h, replace } from "./dom.js";
import { handleKey, SHORTCUTS } from "./keys.js";
import { HelpOverlay, Notices, ReportErrorDialog, ReuseConsentDialog, SnippetPicker } from "./overlays.js";
import { SentAnswers } from "./sent.js";
import { Chime } from "./sound.js";
import { forgetStaleDrafts, TaskView } from "./taskview.js";
import { lastUserText } from "./transcript.js";
import { monitorFor } from "./voicelive.js";

const TITLE = "woz console";
const REVOKE_REASONS = {
  client_gone: "the app closed the request (the participant left or gave up)",
  expired: "the time to answer ran out",
  reassigned: "it was given to another operator",
  released: "it was handed back",
};

function storageGet(storage, key, fallback) {
  try {
    const value = storage.getItem(key);
    return value === null ? fallback : value;
  } catch {
    return fallback;
  }
}

function storageSet(storage, key, value) {
  try {
    storage.setItem(key, value);
  } catch {
    // private mode or full: the setting lasts for this page only
  }
}

function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, "0")}`;
}

class ConsoleApp {
  constructor(root) {
    this.root = root;
    this.personas = new Map();
    this.snippets = [];
    this.views = new Map();
    this.active = null;
    this.hello = null;
    this.resync = null;
    this.queue = { waiting: 0, operators_online: 0, oldest_wait_s: 0 };
    this.queueAt = Date.now();
    this.wantReady = storageGet(sessionStorage, "woz.ready", "0") === "1";
    this.capacity = Math.min(5, Math.max(1, Number(storageGet(localStorage, "woz.capacity", "1")) || 1));
    this.chime = new Chime(storageGet(localStorage, "woz.sound", "on") !== "off");
    this.buildShell();
    this.connection = new Connection({
      onFrame: (frame) => this.onFrame(frame),
      onStatus: (status, detail) => this.onStatus(status, detail),
    });
    document.addEventListener("keydown", (event) => this.onKey(event));
    document.addEventListener("pointerdown", () => this.chime.unlock(), { once: true });
    setInterval(() => this.tick(), 500);
    this.renderReady();
    this.renderSound();
    this.renderEmpty();
    this.connection.start();
  }

  // -- layout -----------------------------------------------------------------

  buildShell() {
    this.connPill = h("span", { class: "pill pill-connecting", role: "status" },
      h("span", { class: "dot", "aria-hidden": "true" }), h("span", { class: "pill-text", text: "Connecting…" }));
    this.queueStats = h("span", { class: "queue-stats", "aria-live": "polite" });
    this.studyTitle = h("span", { class: "study-title" });
    this.capacitySelect = h("select", {
      class: "input select capacity", id: "capacity", title: "How many tasks you hold at once",
      on: { change: () => this.setCapacity(Number(this.capacitySelect.value)) },
    }, [1, 2, 3, 4, 5].map((n) => h("option", { value: String(n), text: String(n) })));
    this.capacitySelect.value = String(this.capacity);
    this.readyButton = h("button", { type: "button", class: "btn ready-toggle", on: { click: () => this.toggleReady() } });
    this.soundButton = h("button", { type: "button", class: "btn btn-quiet sound-toggle", on: { click: () => this.toggleSound() } });
    const helpButton = h("button", { type: "button", class: "btn btn-quiet", title: "Keyboard shortcuts (? or F1)", "aria-label": "Keyboard shortcuts", text: "?", on: { click: () => this.help.toggle() } });
    const header = h("header", { class: "topbar" },
      h("div", { class: "brand" }, h("span", { class: "logo", text: "woz" }), h("span", { class: "brand-sub", text: "console" }), this.studyTitle),
      h("div", { class: "topbar-status" }, this.connPill, this.queueStats),
      h("div", { class: "topbar-controls" },
        h("label", { class: "capacity-label", htmlFor: "capacity", text: "Hold up to" }), this.capacitySelect,
        this.readyButton, this.soundButton, helpButton));

    this.tabList = h("ol", { class: "task-tabs", role: "tablist", "aria-label": "Your tasks" });
    this.taskCount = h("span", { class: "count" });
    this.account = new OperatorPanel({ send: (frame) => this.send(frame), openAgreement: () => this.agreement.open() });
    this.sent = new SentAnswers((item) => this.report.open(item));
    const sidebar = h("nav", { class: "sidebar", "aria-label": "Tasks" },
      h("h2", { class: "sidebar-title" }, "Tasks ", this.taskCount), this.tabList, this.sent.el,
      this.account.el);

    this.empty = h("div", { class: "empty-state" });
    this.stage = h("div", { class: "stage" });
    const main = h("main", { class: "main" }, this.empty, this.stage);

    this.asideTask = h("div", { class: "aside-task-holder" });
    this.snippetList = h("ul", { class: "snippet-list" });
    const aside = h("aside", { class: "aside", "aria-label": "Guide and snippets" },
      this.asideTask,
      h("section", { class: "panel" }, h("h3", {}, "Snippets ", h("kbd", { text: "Ctrl+K" })), this.snippetList));

    this.notices = new Notices();
    this.help = new HelpOverlay(SHORTCUTS);
    this.picker = new SnippetPicker((snippet, target) => this.insertSnippet(snippet, target));
    this.agreement = new ReuseConsentDialog((version, scopes) => this.send({ type: "reuse_consent", version, scopes }));
    this.report = new ReportErrorDialog((recordId, note) => this.send({ type: "report_error", record_id: recordId, note }));
    this.overlays = [this.help, this.picker, this.agreement, this.report];
    this.blocker = h("div", { class: "blocker", hidden: true, role: "alertdialog", "aria-modal": "true" });
    replace(this.root,
      header, h("div", { class: "layout" }, sidebar, main, aside), this.notices.el, this.help.el, this.picker.el, this.agreement.el, this.report.el, this.blocker);
  }

  // -- connection and frames ----------------------------------------------------

  send(frame) {
    return this.connection.send(frame);
  }

  onStatus(status, detail) {
    const pill = this.connPill;
    pill.className = `pill pill-${status}`;
    const text = pill.querySelector(".pill-text");
    if (status === "connecting") text.textContent = "Connecting…";
    else if (status === "open") text.textContent = "Connected";
    else if (status === "waiting") {
      text.textContent = `Disconnected · retrying in ${Math.max(1, Math.round(detail / 1000))} s`;
      this.hello = null;
    } else if (status === "unauthorized") {
      text.textContent = "Not logged in";
      this.block("Not logged in", detail || "You are not logged in.",
        "The link looks like …/console/login?token=…; it logs you in and brings you back to this page.",
        null);
    } else if (status === "replaced") {
      text.textContent = "Open elsewhere";
      this.block("Console open elsewhere", "This operator connected from another tab or window, so this one stopped.",
        "Use only one console at a time. You can take over here; the other one will stop.",
        h("button", { type: "button", class: "btn btn-primary", text: "Use this tab", on: { click: () => { this.unblock(); this.connection.start(); } } }));
    }
    this.renderEmpty();
  }

  block(title, message, hint, action) {
    replace(this.blocker, h("div", { class: "dialog blocker-dialog" },
      h("h2", { text: title }), h("p", { class: "blocker-message", text: message }),
      h("p", { class: "muted", text: hint }), action ? h("div", { class: "dialog-actions" }, action) : null));
    this.blocker.hidden = false;
  }

  unblock() {
    this.blocker.hidden = true;
  }

  onFrame(frame) {
    switch (frame.type) {
      case "hello": return this.onHello(frame);
      case "task.assigned": return this.onAssigned(frame.task);
      case "task.revoked": return this.onRevoked(frame.task_id, frame.reason);
      case "reply.ack": return this.onAck(frame.task_id, frame.record_id);
      case "reply.rejected": return this.onRejected(frame.task_id, frame.error);
      case "task.draft": return this.views.get(frame.task_id)?.onModelDraft(frame.text, frame.done, frame.error);
      case "queue": return this.onQueue(frame);
      case "reuse_consent.recorded": return this.onReuseConsent(frame.consent);
      case "error_reported": return this.onErrorReported(frame.record_id);
      case "my_work": return this.account.showWork(frame.work);
      case "voice_session": return monitorFor(frame.session_id);
      case "notice": return this.notices.notify(`Note from ${frame.sender}: ${frame.text}`, "warn", { sticky: true });
      case "error": return this.onError(frame);
      default: return undefined;
    }
  }

  onHello(frame) {
    this.hello = frame;
    this.connection.confirmed();
    this.studyTitle.textContent = frame.study && frame.study.title ? frame.study.title : "";
    this.account.signedIn(frame.operator || {});
    this.personas = new Map((frame.personas || []).map((p) => [p.id, p]));
    this.snippets = Array.isArray(frame.snippets) ? frame.snippets : [];
    this.renderSnippets();
    this.agreement.offer(frame.reuse_agreement || null);
    this.account.showReuse(this.agreement.summary());
    // Held tasks come again right after hello; the first queue frame closes that list.
    this.resync = new Set();
    if (this.wantReady) this.send({ type: "ready", capacity: this.capacity });
    this.renderReady();
  }

  onAssigned(task) {
    if (!task || typeof task.id !== "string") return;
    if (this.resync) this.resync.add(task.id);
    const existing = this.views.get(task.id);
    if (existing) {
      existing.refresh(task);
      this.renderTabs();
      return;
    }
    const view = new TaskView(this, task);
    this.views.set(task.id, view);
    view.el.hidden = true;
    this.stage.append(view.el);
    this.chime.play();
    const first = this.active === null;
    if (first) this.activate(task.id);
    else this.notify(`New task from ${task.participant || "a participant"} (${this.views.size} held).`, "info");
    this.renderTabs();
    this.renderTitle();
  }

  onRevoked(taskId, reason) {
    const view = this.views.get(taskId);
    if (!view) return;
    const why = REVOKE_REASONS[reason] || "the server withdrew it";
    this.removeTask(taskId, `Task withdrawn: ${why} (${reason || "revoked"}).`, "warn");
  }

  onAck(taskId, recordId) {
    const view = this.views.get(taskId);
    if (!view) return;
    if (recordId) this.sent.add(recordId, view.task, view.persona.display_name || view.task.persona);
    this.removeTask(taskId, "Answer sent.", "success");
    this.account.answered();
  }

  onErrorReported(recordId) {
    this.sent.reported(recordId);
    this.notify("Thank you: the mistake is noted with the answer.", "success");
  }

  onRejected(taskId, error) {
    const view = this.views.get(taskId);
    if (!view) return;
    const code = error && error.code;
    if (code === "lease_lost" || code === "unknown_task" || code === "already_answered") {
      this.removeTask(taskId, `The task is gone: ${(error && error.message) || code} (${code}).`, "warn");
      return;
    }
    view.rejected(error);
  }

  onQueue(frame) {
    this.queue = frame;
    this.queueAt = Date.now();
    if (this.resync) {
      for (const [id, view] of [...this.views]) {
        if (this.resync.has(id)) continue;
        const note = view.pending
          ? "Your answer's confirmation was lost in the reconnect; the task was answered or withdrawn."
          : "A task was answered or reassigned while you were disconnected.";
        this.removeTask(id, note, "warn");
      }
      this.resync = null;
      forgetStaleDrafts(new Set(this.views.keys()));
    }
    this.renderQueue();
    this.renderEmpty();
  }

  onReuseConsent(consent) {
    this.agreement.recorded(consent);
    this.account.showReuse(this.agreement.summary());
    this.notify(consent.scopes.length ? "Your consent was recorded." : "Recorded: your answers will not be reused.", "success");
  }

  onError(frame) {
    if (frame.code === "replaced") {
      this.connection.stop("replaced");
      return;
    }
    if (frame.task_id && !this.views.has(frame.task_id)) return; // late typing for a finished task
    this.notify(`Server: ${frame.message || frame.code}`, "error");
  }

  // -- tasks --------------------------------------------------------------------

  removeTask(taskId, message, kind) {
    const view = this.views.get(taskId);
    if (!view) return;
    const index = [...this.views.keys()].indexOf(taskId);
    view.destroy();
    view.el.remove();
    this.views.delete(taskId);
    if (message) this.notify(message, kind);
    if (this.active === taskId) {
      this.active = null;
      const ids = [...this.views.keys()];
      if (ids.length) this.activate(ids[Math.min(index, ids.length - 1)]);
      else replace(this.asideTask);
    }
    this.renderTabs();
    this.renderTitle();
    this.renderEmpty();
  }

  activate(taskId) {
    const view = this.views.get(taskId);
    if (!view) return;
    for (const other of this.views.values()) other.el.hidden = other !== view;
    this.active = taskId;
    replace(this.asideTask, view.aside);
    this.renderTabs();
    this.renderEmpty();
    view.scrollToEnd();
    view.focus();
  }

  switchTask(step) {
    const ids = [...this.views.keys()];
    if (ids.length < 2) return;
    const i = ids.indexOf(this.active);
    this.activate(ids[(i + step + ids.length) % ids.length]);
  }

  get activeView() {
    return this.active ? this.views.get(this.active) : null;
  }

  renderTabs() {
    replace(this.tabList);
    let n = 0;
    for (const view of this.views.values()) {
      n += 1;
      const task = view.task;
      const persona = this.personas.get(task.persona);
      const selected = view.id === this.active;
      view.tabCountdown = h("span", { class: "tab-countdown" });
      const tab = h("button", {
        type: "button", class: `task-tab${selected ? " active" : ""}`, role: "tab",
        "aria-selected": String(selected), dataset: { taskId: view.id },
        on: { click: () => this.activate(view.id) },
      },
      h("span", { class: "tab-top" }, h("span", { class: "tab-index", text: String(n) }),
        h("span", { class: "tab-persona", text: (persona && persona.display_name) || task.persona }),
        view.liveText ? h("span", { class: "badge badge-live", text: "LIVE" }) : null,
        view.tabCountdown),
      h("span", { class: "tab-participant", text: task.participant || "anonymous" }),
      h("span", { class: "tab-preview", text: lastUserText(task) }));
      this.tabList.append(h("li", {}, tab));
    }
    this.taskCount.textContent = String(this.views.size);
    this.tick();
  }

  renderEmpty() {
    const hasTasks = this.views.size > 0;
    this.empty.hidden = hasTasks;
    if (hasTasks) return;
    let title;
    let text;
    if (!this.hello) {
      title = "Not connected";
      text = "The console reconnects by itself; your tasks are kept for a short while.";
    } else if (this.wantReady) {
      title = "Waiting for the next task…";
      text = "A sound and the page title tell you when one arrives.";
    } else {
      title = "You are paused";
      text = "Press Ready (Alt+R) to start receiving tasks.";
    }
    replace(this.empty, h("div", { class: "empty-inner" },
      h("div", { class: "empty-mark", "aria-hidden": "true", text: this.wantReady ? "◎" : "❚❚" }),
      h("h2", { text: title }), h("p", { text })));
  }

  renderTitle() {
    const n = this.views.size;
    document.title = n ? `(${n}) ${TITLE}` : TITLE;
  }

  renderQueue() {
    const q = this.queue;
    const parts = [`${q.waiting} waiting`, `${q.operators_online} operator${q.operators_online === 1 ? "" : "s"} online`];
    if (q.waiting) parts.push(`oldest ${Math.round((q.oldest_wait_s || 0) + (Date.now() - this.queueAt) / 1000)} s`);
    this.queueStats.textContent = parts.join(" · ");
  }

  renderSnippets() {
    replace(this.snippetList);
    if (!this.snippets.length) {
      this.snippetList.append(h("li", { class: "muted", text: "This study has no snippets." }));
      return;
    }
    for (const snippet of this.snippets) {
      this.snippetList.append(h("li", {},
        h("button", { type: "button", class: "snippet", title: snippet.text, on: { click: () => this.insertSnippet(snippet, null) } },
          snippet.key ? h("kbd", { text: `Alt+${snippet.key}` }) : null,
          h("span", { class: "snippet-label", text: snippet.label }),
          h("span", { class: "snippet-text", text: snippet.text }))));
    }
  }

  tick() {
    const now = Date.now();
    for (const view of this.views.values()) {
      const left = view.secondsLeft(now);
      const text = left === null ? "" : left > 0 ? clock(left) : "0:00";
      const level = left === null ? "" : left <= 10 ? "urgent" : left <= 30 ? "soon" : "";
      view.countdown.textContent = left === null ? "No deadline" : `${text} left`;
      view.countdown.dataset.level = level;
      if (view.tabCountdown) {
        view.tabCountdown.textContent = text;
        view.tabCountdown.dataset.level = level;
      }
    }
    if (this.queue.waiting) this.renderQueue();
  }

  // -- ready, capacity, sound ----------------------------------------------------

  toggleReady(ready = !this.wantReady) {
    this.chime.unlock();
    this.wantReady = ready;
    storageSet(sessionStorage, "woz.ready", ready ? "1" : "0");
    this.send(ready ? { type: "ready", capacity: this.capacity } : { type: "pause" });
    this.renderReady();
    this.renderEmpty();
  }

  setCapacity(n) {
    this.capacity = n;
    storageSet(localStorage, "woz.capacity", String(n));
    if (this.wantReady) this.send({ type: "ready", capacity: n });
  }

  renderReady() {
    replace(this.readyButton, this.wantReady ? "Pause" : "Ready", " ", h("kbd", { text: "Alt+R" }));
    this.readyButton.classList.toggle("btn-primary", !this.wantReady);
    this.readyButton.setAttribute("aria-pressed", String(this.wantReady));
    this.readyButton.title = this.wantReady ? "Stop receiving new tasks" : "Start receiving tasks";
    document.body.classList.toggle("is-ready", this.wantReady);
  }

  toggleSound() {
    this.chime.enabled = !this.chime.enabled;
    storageSet(localStorage, "woz.sound", this.chime.enabled ? "on" : "off");
    this.renderSound();
    this.chime.play();
  }

  renderSound() {
    this.soundButton.textContent = this.chime.enabled ? "Sound on" : "Sound off";
    this.soundButton.setAttribute("aria-pressed", String(this.chime.enabled));
    this.soundButton.title = "A chime for each new task (Alt+M)";
  }

  notify(text, kind = "info") {
    this.notices.notify(text, kind);
  }

  // -- snippets --------------------------------------------------------------------

  insertSnippet(snippet, target) {
    const view = this.activeView;
    if (!view) {
      this.notify("Snippets go into the answer of the task you are working on; there is none.", "info");
      return;
    }
    view.insertText(snippet.text, target);
  }

  onKey(event) {
    handleKey(this, event);
  }
}

window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("app");
  if (root) new ConsoleApp(root); // eslint-disable-line no-new
});
