// The conversation: a transcript of bubbles and a composer. Every text, the
// participant's and the answer's, goes into the page as text only
// (`textContent` and text nodes), never parsed as markup.

import { PageError, post, sayWhat, streamChat } from "./api.js";
import { say } from "./survey_strings.js";

const $ = (id) => document.getElementById(id);

/** A random id for this page's conversation (works without a secure context). */
function newConversationId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "page-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function bubble(role, text) {
  const item = document.createElement("li");
  item.className = `msg msg-${role}`;
  const body = document.createElement("div");
  body.className = "bubble";
  body.textContent = text;
  item.append(body);
  return item;
}

function typingDots() {
  const dots = document.createElement("span");
  dots.className = "typing";
  dots.setAttribute("aria-label", "typing");
  for (let i = 0; i < 3; i += 1) dots.append(document.createElement("span"));
  return dots;
}

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
  label.textContent = say("tellMore");
  const input = document.createElement("input");
  input.type = "text";
  input.id = inputId;
  input.maxLength = 2000;
  const send = document.createElement("button");
  send.type = "submit";
  send.className = "quiet";
  send.textContent = say("sendComment");
  comment.append(label, input, send);
  let rating = 0;
  const thumbs = [
    [1, "👍", say("good")],
    [-1, "👎", say("bad")],
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
      status.textContent = say("thanks");
    } catch {
      status.textContent = say("feedbackFailed");
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

export class ChatView {
  /**
   * `model`: the persona to talk to. `onRefused(error)` is told of refusals the
   * page must handle itself (no consent, withdrawn): it reloads the state.
   */
  constructor({ model, personaName, onRefused }) {
    this.model = model;
    this.onRefused = onRefused;
    this.messages = [];
    this.conversation = newConversationId();
    this.inFlight = null;
    this.transcript = $("transcript");
    this.scroller = $("scroller");
    this.input = $("message");
    this.sendButton = $("send");
    this.error = $("chat-error");
    $("chat-empty").textContent = `Say hello to ${personaName}.`;
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener("input", () => this.fit());
  }

  focus() {
    this.input.focus();
  }

  /** Grow the composer with its text, up to a few lines. */
  fit() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 160)}px`;
  }

  scrollDown() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  async send() {
    const text = this.input.value.trim();
    if (!text || this.inFlight) return;
    this.showError("");
    $("chat-empty").hidden = true;
    this.input.value = "";
    this.fit();
    const mine = bubble("user", text);
    this.transcript.append(mine);
    this.messages.push({ role: "user", content: text });
    const theirs = bubble("assistant", "");
    const body = theirs.firstChild;
    body.append(typingDots());
    this.transcript.append(theirs);
    this.scrollDown();
    this.setBusy(true);
    this.inFlight = new AbortController();
    let answer = "";
    try {
      const record = await streamChat({
        model: this.model,
        messages: this.messages,
        conversation: this.conversation,
        signal: this.inFlight.signal,
        onText: (piece) => {
          answer += piece;
          body.textContent = answer;
          this.scrollDown();
        },
      });
      if (!answer) throw new PageError(0, "empty_answer", "");
      this.messages.push({ role: "assistant", content: answer });
      if (record) {
        theirs.append(feedbackControls(record));
        noteRead(record);
      }
    } catch (error) {
      // The turn did not happen: take it back, and give the text back to edit.
      this.messages.pop();
      mine.remove();
      theirs.remove();
      if (error.name === "AbortError") return;
      this.input.value = text;
      this.fit();
      if (error.code === "consent_required" || error.code === "participant_withdrawn") {
        this.onRefused(error);
        return;
      }
      this.showError(sayWhat(error));
    } finally {
      this.inFlight = null;
      this.setBusy(false);
    }
  }

  setBusy(busy) {
    this.sendButton.disabled = busy;
    this.transcript.setAttribute("aria-busy", busy ? "true" : "false");
    if (!busy) this.focus();
  }

  /** Stop waiting for an answer (the session is ending). */
  abort() {
    if (this.inFlight) this.inFlight.abort();
  }
}
