// The participant page: consent, then the chat, then the debrief and withdrawal.
// The server's state (`GET state`, and the answer to every action) decides
// which step is shown; the page keeps only the conversation and whether the
// participant ended the session.

import { getState, post, sayWhat } from "./api.js";
import { ChatView } from "./chat.js";
import { runQuestionnaire } from "./questionnaire.js";

const $ = (id) => document.getElementById(id);
const STEPS = ["loading", "consent", "questionnaire", "chat", "debrief", "withdraw", "withdrawn"];

let state = null;
let chat = null;
let ended = false;
let recordsDeleted = null;
let askedBefore = false;

function show(...steps) {
  for (const step of STEPS) $(step).hidden = !steps.includes(step);
  $("end").hidden = !steps.includes("chat");
  document.body.classList.toggle("chatting", steps.includes("chat"));
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

/** Text in paragraphs, one per blank-line-separated block. */
function fillProse(container, text) {
  container.replaceChildren();
  for (const block of text.split(/\n\s*\n/)) {
    const paragraph = document.createElement("p");
    paragraph.textContent = block.replace(/\s*\n\s*/g, " ").trim();
    if (paragraph.textContent) container.append(paragraph);
  }
}

function setText(id, text) {
  $(id).textContent = text || "";
  $(id).hidden = !text;
}

function longDate(iso) {
  const options = { day: "numeric", month: "long", year: "numeric" };
  return new Date(iso).toLocaleDateString(undefined, options);
}

// -- rendering ---------------------------------------------------------------

function render() {
  // The participant-facing title, never the study's own (it may state the research question).
  const { study } = state;
  document.title = study.title;
  $("page-title").textContent = study.title;
  $("avatar").textContent = study.title.trim().charAt(0).toUpperCase();
  setText("page-description", study.description);
  if (state.withdrawn) return renderWithdrawn();
  if (!state.consent.given) return renderConsent();
  if (state.debrief.given || ended) return renderDebrief();
  return renderChat();
}

// Consent is opt-in: every box starts unticked, and "I agree" records exactly the
// uses ticked. A use the study needs to take part is marked so, and until it is
// ticked the page says why "I agree" is not available yet.
function renderConsent() {
  const { consent } = state;
  fillProse($("consent-text"), consent.text);
  const uses = $("uses");
  uses.replaceChildren();
  for (const use of consent.uses) {
    const label = document.createElement("label");
    label.className = "use";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = use.id;
    box.addEventListener("change", updateAgree);
    const text = document.createElement("span");
    text.textContent = use.label;
    if (use.required) {
      const needed = document.createElement("strong");
      needed.textContent = " (needed to take part)";
      text.append(needed);
    }
    label.append(box, text);
    uses.append(label);
  }
  updateAgree();
  show("consent");
}

function ticked() {
  return Array.from($("uses").querySelectorAll("input:checked"), (box) => box.value);
}

/** Why "I agree" cannot be pressed yet, or "" when it can. */
function consentMissing() {
  const chosen = ticked();
  const needed = state.consent.uses.find((use) => use.required && !chosen.includes(use.id));
  if (needed) {
    return `To take part, tick “${needed.label}”: the study cannot include your conversation without it. The other uses are up to you.`;
  }
  return chosen.length === 0 ? "Tick at least one use to take part." : "";
}

function updateAgree() {
  const missing = consentMissing();
  $("agree").disabled = Boolean(missing);
  setText("consent-hint", missing);
}

/** The study's questionnaires for `when`, in their own step; false if they failed to load. */
async function askQuestionnaires(when) {
  show("questionnaire");
  try {
    await runQuestionnaire(when, $("questionnaire"));
    return true;
  } catch (error) {
    showError(sayWhat(error));
    return false;
  }
}

async function renderChat() {
  if (!askedBefore) {
    askedBefore = true;
    if (!(await askQuestionnaires("before"))) return;
  }
  if (!chat) {
    chat = new ChatView({
      model: state.persona.id,
      personaName: state.persona.name,
      onRefused: reload,
    });
  }
  show("chat");
  chat.focus();
}

function renderDebrief() {
  const { debrief } = state;
  const content = debrief.given ? debrief.content : null;
  setText("debrief-disclosure", content && content.disclosure);
  setText("debrief-reason", content && content.reason);
  $("debrief-text").hidden = !(content && content.text);
  if (content) fillProse($("debrief-text"), content.text);
  $("debrief-later").hidden = content !== null || debrief.policy !== "end_of_study";
  $("debrief-thanks").hidden = content !== null || debrief.policy === "end_of_study";
  const asking = Boolean(content) && debrief.reconsent_required;
  $("reconsent").hidden = !asking || debrief.reconsent !== null;
  const answer = {
    granted: "Thank you. Your conversation stays in the study.",
    refused: "Your conversation will not be used. To delete it as well, withdraw below.",
  }[asking ? debrief.reconsent : ""];
  setText("reconsent-done", answer);
  show("debrief", "withdraw");
}

function renderWithdrawn() {
  const when = state.withdrawn_at ? ` on ${longDate(state.withdrawn_at)}` : "";
  let text = `You withdrew from this study${when}. Your conversation was deleted from the study's data`;
  if (recordsDeleted !== null) {
    text += ` (${recordsDeleted} ${recordsDeleted === 1 ? "turn" : "turns"} deleted)`;
  }
  $("withdrawn-text").textContent = `${text}.`;
  if (chat) chat.abort();
  $("transcript").replaceChildren(); // what was deleted leaves the screen too
  show("withdrawn");
}

// -- actions -------------------------------------------------------------------

/** Run an action that answers with the new state; on failure say so, keep the step. */
async function act(button, action) {
  showError("");
  button.disabled = true;
  try {
    state = await action();
    render();
  } catch (error) {
    if (error.code === "consent_mismatch") return reload();
    showError(sayWhat(error));
  } finally {
    button.disabled = false;
  }
}

async function reload() {
  try {
    state = await getState();
    render();
  } catch (error) {
    show();
    showError(
      error.code === "no_session"
        ? "This page needs cookies to be enabled. Please allow them and reload."
        : sayWhat(error),
    );
  }
}

function wire() {
  $("agree").addEventListener("click", () =>
    act($("agree"), () =>
      post("consent", {
        version: state.consent.version,
        text_sha256: state.consent.text_sha256,
        scopes: ticked(),
      }),
    ),
  );
  $("end").addEventListener("click", async () => {
    if (chat) chat.abort();
    if (!(await askQuestionnaires("after"))) return;
    ended = true;
    act($("end"), () => post("end"));
  });
  $("reconsent-yes").addEventListener("click", () =>
    act($("reconsent-yes"), () => post("reconsent", { granted: true })),
  );
  $("reconsent-no").addEventListener("click", () =>
    act($("reconsent-no"), () => post("reconsent", { granted: false })),
  );
  $("withdraw-button").addEventListener("click", () =>
    act($("withdraw-button"), async () => {
      const answer = await post("withdraw");
      recordsDeleted = answer.records_deleted;
      return answer;
    }),
  );
}

wire();
reload();
