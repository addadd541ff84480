// Under each answer on the participant page: thumbs up and down, an optional comment,
// and the note that the participant has read it. Text nodes only.

import { post } from "./api.js";
import { t } from "./i18n.js";

/**
 * Thumbs up and down under an answer, and an optional comment once one is pressed.
 * Each press is sent at once (pressing the other thumb replaces it); the buttons
 * are toggle buttons (`aria-pressed`) with spoken names.
 */
function feedbackControls(record) {
  const box = document.createElement("div");
  box.className = "feedback";
  const status = document.createElement("p");
  status.className = "feedback-status";
  status.setAttribute("role", "status");
  const comment = document.createElement("form");
  comment.className = "feedback-comment";
  comment.hidden = true;
  const inputId = `comment-${record}`;
  const label = document.createElement("label");
  label.htmlFor = inputId;
  label.textContent = t("survey.tellMore");
  const input = document.createElement("input");
  input.type = "text";
  input.id = inputId;
  input.maxLength = 2000;
  const send = document.createElement("button");
  send.type = "submit";
  send.className = "quiet";
  send.textContent = t("survey.sendComment");
  comment.append(label, input, send);
  let rating = 0;
  const thumbs = [
    [1, "👍", t("survey.good")],
    [-1, "👎", t("survey.bad")],
  ].map(([value, symbol, name]) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "thumb";
    button.textContent = symbol;
    button.setAttribute("aria-label", name);
    button.setAttribute("aria-pressed", "false");
    button.dataset.rating = String(value);
    return button;
  });
  const rate = async (text) => {
    try {
      await post("feedback", { record, rating, comment: text });
      status.textContent = t("survey.thanks");
    } catch {
      status.textContent = t("survey.feedbackFailed");
    }
  };
  for (const button of thumbs) {
    button.addEventListener("click", () => {
      rating = Number(button.dataset.rating);
      for (const other of thumbs) other.setAttribute("aria-pressed", String(other === button));
      comment.hidden = false;
      rate(input.value.trim());
    });
  }
  comment.addEventListener("submit", (event) => {
    event.preventDefault();
    if (rating) rate(input.value.trim());
  });
  box.append(...thumbs, comment, status);
  return box;
}

/**
 * Tell woz the participant has the whole answer in front of them: now if the page is in
 * view, else when they come back to it. Best-effort: a lost note loses only a timing.
 */
function noteRead(record) {
  const send = () => post("read", { record }).catch(() => {});
  if (document.visibilityState === "visible") {
    send();
    return;
  }
  const onVisible = () => {
    if (document.visibilityState !== "visible") return;
    document.removeEventListener("visibilitychange", onVisible);
    send();
  };
  document.addEventListener("visibilitychange", onVisible);
}

/** The feedback controls under the answer `item` (its record `record`), and its read note. */
export function attachFeedback(item, record) {
  item.append(feedbackControls(record));
  noteRead(record);
}
