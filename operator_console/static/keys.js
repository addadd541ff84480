// The console's keyboard: every action has a key, listed in the help overlay.
// One handler on the document; a dialog that is open handles its own keys first.

import { isTextField } from "./dom.js";

export const SHORTCUTS = [
  ["Alt+R", "Ready / pause: start or stop receiving tasks"],
  ["Enter", "Send the answer"],
  ["Shift+Enter", "New line in the answer"],
  ["Ctrl+Enter", "Send from any field (also raw JSON)"],
  ["Esc", "Release the task back to the queue (closes an open overlay first)"],
  ["Alt+↑ / Alt+↓", "Previous / next task (also Ctrl+↑ / Ctrl+↓)"],
  ["Alt+<key>", "Insert the snippet with that key"],
  ["Ctrl+K or /", "Search snippets"],
  ["Alt+T", "Switch between the answer and tool calls"],
  ["Alt+J", "Switch between the form and raw JSON"],
  ["Alt+D", "Use the model's draft (assist personas) as the answer, to edit"],
  ["Alt+M", "Sound on / off"],
  ["? or F1", "Show or hide this help"],
];

/** The study's snippet whose key `event` (with Alt) stands for, if any. */
function snippetFor(snippets, event) {
  return snippets.find((s) => {
    const key = String(s.key || "").toLowerCase();
    if (!key) return false;
    if (key.length === 1 && /[0-9]/.test(key)) return event.code === `Digit${key}` || event.code === `Numpad${key}`;
    if (key.length === 1 && /[a-z]/.test(key)) return event.code === `Key${key.toUpperCase()}`;
    return event.key.toLowerCase() === key;
  });
}

/** Handle a keydown anywhere in the console `app` (a ConsoleApp). */
export function handleKey(app, event) {
  if (event.defaultPrevented || !app.blocker.hidden) return;
  const inField = isTextField(event.target);
  const plain = !event.ctrlKey && !event.altKey && !event.metaKey;
  const key = event.key;
  if (key === "F1" || (key === "?" && plain && !inField)) {
    event.preventDefault();
    app.help.toggle();
    return;
  }
  const overlay = app.overlays.find((candidate) => candidate.isOpen);
  if (key === "Escape") {
    event.preventDefault();
    if (overlay) overlay.hide();
    else if (app.activeView) app.activeView.release();
    return;
  }
  if (overlay) return;
  if (((event.ctrlKey || event.metaKey) && !event.altKey && key.toLowerCase() === "k") || (key === "/" && plain && !inField)) {
    event.preventDefault();
    app.picker.open(app.snippets);
    return;
  }
  if ((key === "ArrowUp" || key === "ArrowDown") && (event.altKey || event.ctrlKey) && !event.shiftKey) {
    event.preventDefault();
    app.switchTask(key === "ArrowUp" ? -1 : 1);
    return;
  }
  if ((event.ctrlKey || event.metaKey) && key === "Enter") {
    event.preventDefault();
    if (app.activeView) app.activeView.send();
    return;
  }
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  const commands = {
    KeyR: () => app.toggleReady(),
    KeyT: () => app.activeView && app.activeView.toggleTools(),
    KeyJ: () => app.activeView && app.activeView.toggleRaw(),
    KeyD: () => app.activeView && app.activeView.useModelDraft(),
    KeyM: () => app.toggleSound(),
  };
  if (commands[event.code] && !event.shiftKey) {
    event.preventDefault();
    commands[event.code]();
    return;
  }
  const snippet = snippetFor(app.snippets, event);
  if (snippet) {
    event.preventDefault();
    app.insertSnippet(snippet, document.activeElement);
  }
}
