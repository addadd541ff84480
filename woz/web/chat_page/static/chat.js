// The conversation: a transcript of bubbles and a composer. Every text, the
// participant's and the answer's, goes into the page as text only
// (`textContent` and text nodes, answers through the safe Markdown subset of
// markdown.js), never parsed as markup.

import { PageError, sayWhat, streamChat } from "./api.js";
import { t } from "./i18n.js";
import { renderMarkdown } from "./markdown.js";
import { attachFeedback } from "./feedback.js";

const $ = (id) => document.getElementById(id);
// Refusals that end the chat rather than this turn: the page reloads its state.
const SESSION_REFUSALS = [
  "consent_required",
  "participant_withdrawn",
  "time_limit_reached",
  "session_ended",
];

function fill(body, role, text) {
  if (role === "assistant") renderMarkdown(body, text, { breaks: true });
  else body.textContent = text;
}

function bubble(role, text) {
  const item = document.createElement("li");
  item.className = `msg msg-${role}`;
  const body = document.createElement("div");
  body.className = "bubble";
  fill(body, role, text);
  item.append(body);
  return item;
}

function typingDots() {
  const dots = document.createElement("span");
  dots.className = "typing";
  dots.setAttribute("aria-label", t("chat.typing"));
  for (let i = 0; i < 3; i += 1) dots.append(document.createElement("span"));
  return dots;
}

export class ChatView {
  /**
   * `model`: the persona to talk to; `conversation`: the page's conversation
   * header; `transcript`: the turns so far (a participant who came back).
   * `onRefused(error)` is told of refusals the page must handle itself (no
   * consent, withdrawn, time up): it reloads the state. `onAnswered()` after
   * each answer.
   */
  constructor({ model, personaName, conversation, transcript, onRefused, onAnswered }) {
    this.model = model;
    this.onRefused = onRefused;
    this.onAnswered = onAnswered || (() => {});
    this.messages = [];
    this.conversation = conversation;
    this.inFlight = null;
    this.transcript = $("transcript");
    this.scroller = $("scroller");
    this.input = $("message");
    this.sendButton = $("send");
    this.error = $("chat-error");
    $("chat-empty").textContent = t("chat.say_hello", { name: personaName });
    for (const turn of transcript || []) {
      this.messages.push({ role: turn.role, content: turn.content });
      this.transcript.append(bubble(turn.role, turn.content));
    }
    $("chat-empty").hidden = this.messages.length > 0;
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
          fill(body, "assistant", answer);
          this.scrollDown();
        },
      });
      if (!answer) throw new PageError(0, "empty_answer", "");
      this.messages.push({ role: "assistant", content: answer });
      this.onAnswered();
      if (record) attachFeedback(theirs, record);
    } catch (error) {
      // The turn did not happen: take it back, and give the text back to edit.
      this.messages.pop();
      mine.remove();
      theirs.remove();
      if (error.name === "AbortError") return;
      this.input.value = text;
      this.fit();
      if (SESSION_REFUSALS.includes(error.code)) {
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
