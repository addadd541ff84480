// The participant page's flow, which the server's state decides step by step:
//   consent (or refusal) -> before-questionnaire -> chat -> after-questionnaire
//   -> debrief -> completion (the platform's code, and the way back to it).
// Every action answers with the whole state; `advance` renders the step it
// calls for, so a reload, or a participant coming back with the same link,
// lands on the step they were at. Inside an allowed survey frame, the page
// tells the parent window "started", "message" and "ended" (embed.js).

import { getState, post, preview, sayWhat } from "./api.js";
import { ChatView } from "./chat.js";
import { framed, tellParent } from "./embed.js";
import { has, loadLocale, t } from "./i18n.js";
import { renderMarkdown } from "./markdown.js";
import { VoiceMode } from "./voice.js";

const $ = (id) => document.getElementById(id);
const STEPS = ["loading", "preview", "consent", "questionnaire", "chat", "debrief", "done", "withdraw", "withdrawn"];
const RETURN_DELAY_MS = 1500; // long enough to see the code before leaving

let state = null;
let chat = null;
let voice = null; // voice mode, when the study has one (voice.js)
let recordsDeleted = null;
let debriefShown = false;
let busy = false; // a step of the flow is under way (questionnaire, posting)
let countdown = null;
let locale = null;

function show(...steps) {
  for (const step of STEPS) $(step).hidden = !steps.includes(step);
  $("end").hidden = !steps.includes("chat");
  document.body.classList.toggle("chatting", steps.includes("chat"));
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

function setText(id, text) {
  $(id).textContent = text || "";
  $(id).hidden = !text;
}

function longDate(iso) {
  const options = { day: "numeric", month: "long", year: "numeric" };
  return new Date(iso).toLocaleDateString(document.documentElement.lang, options);
}

function tell(event) {
  const { session } = state;
  tellParent(state.embedding.allow, event, session.id, state.participant || null);
}

/**
 * The questionnaire for `when` ("before" or "after"), if the study has one:
 * resolves once it is submitted (at once if there is none, or it was answered).
 */
async function questionnaireStep(when) {
  const container = $("questionnaire");
  container.replaceChildren();
  show("questionnaire");
  const { runQuestionnaire } = await import("./questionnaire.js");
  await runQuestionnaire(when, container);
  container.replaceChildren();
}

// -- the flow -------------------------------------------------------------------

/** Render the step the state calls for, running the steps the page drives itself. */
async function advance() {
  const { study, session } = state;
  document.title = study.title;
  $("page-title").textContent = study.title;
  $("avatar").textContent = study.title.trim().charAt(0).toUpperCase();
  setText("page-description", study.description);
  if (state.locale !== locale) {
    locale = state.locale;
    await loadLocale(locale);
  }
  if (state.withdrawn) return renderWithdrawn();
  if (session.completion) return renderDone(false);
  if (!state.consent.given) return renderConsent();
  if (busy) return;
  if (!session.started) return step(async () => {
    await questionnaireStep("before");
    state = await post("start");
    tell("started");
  });
  if (!session.ended) return renderChat();
  if (!debriefShown) return step(async () => {
    stopCountdown();
    if (chat) chat.abort();
    await questionnaireStep("after");
    state = await post("debrief");
    debriefShown = true;
  });
  return renderDebrief();
}

/** Run a step of the flow, then advance; on failure say so. */
async function step(work) {
  busy = true;
  showError("");
  try {
    await work();
  } catch (error) {
    showError(sayWhat(error));
    return;
  } finally {
    busy = false;
  }
  await advance();
}

// Consent is opt-in: every box starts unticked, and "I agree" records exactly the
// uses ticked. A use the study needs to take part is marked so, and until it is
// ticked the page says why "I agree" is not available yet.
function renderConsent() {
  const { consent } = state;
  renderMarkdown($("consent-text"), consent.text);
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
    text.textContent = useLabel(use);
    if (use.required) {
      const needed = document.createElement("strong");
      needed.textContent = t("consent.needed");
      text.append(needed);
    }
    label.append(box, text);
    uses.append(label);
  }
  $("refuse").hidden = false;
  updateAgree();
  show("consent");
}

function useLabel(use) {
  return has(`use.${use.id}`) ? t(`use.${use.id}`) : use.label;
}

function ticked() {
  return Array.from($("uses").querySelectorAll("input:checked"), (box) => box.value);
}

/** Why "I agree" cannot be pressed yet, or "" when it can. */
function consentMissing() {
  const chosen = ticked();
  const needed = state.consent.uses.find((use) => use.required && !chosen.includes(use.id));
  if (needed) return t("consent.tick_required", { use: useLabel(needed) });
  return chosen.length === 0 ? t("consent.tick_one") : "";
}

function updateAgree() {
  const missing = consentMissing();
  $("agree").disabled = Boolean(missing);
  setText("consent-hint", missing);
}

function renderChat() {
  if (!chat) {
    chat = new ChatView({
      model: state.persona.id,
      personaName: state.persona.name,
      conversation: state.session.conversation,
      transcript: state.session.transcript,
      onRefused: reload,
      onAnswered: () => tell("message"),
    });
  }
  startCountdown(state.session.seconds_left);
  if (state.voice && !voice) voice = new VoiceMode(state, { onRefused: reload });
  show("chat");
  chat.focus();
}

// -- the time limit -------------------------------------------------------------

function clock(seconds) {
  const whole = Math.max(0, Math.ceil(seconds));
  const minutes = Math.floor(whole / 60);
  return `${minutes}:${String(whole % 60).padStart(2, "0")}`;
}

/** Show the time left, and end the chat when it runs out. */
function startCountdown(secondsLeft) {
  if (secondsLeft === null || secondsLeft === undefined || countdown) return;
  const endsAt = Date.now() + secondsLeft * 1000;
  const tick = () => {
    const left = (endsAt - Date.now()) / 1000;
    $("time-left").textContent = t("chat.time_left", { time: clock(left) });
    $("time-left").hidden = false;
    if (left <= 0) {
      stopCountdown();
      $("time-left").textContent = t("chat.time_up");
      $("time-left").hidden = false;
      endChat("time_limit");
    }
  };
  tick();
  countdown = setInterval(tick, 1000);
}

function stopCountdown() {
  if (countdown) clearInterval(countdown);
  countdown = null;
}

function endChat(reason) {
  if (chat) chat.abort();
  if (voice) voice.close();
  stopCountdown();
  return act($("end"), () => post("end", { reason }));
}

// -- the end ----------------------------------------------------------------------

function renderDebrief() {
  const { debrief } = state;
  const content = debrief.given ? debrief.content : null;
  setText("debrief-disclosure", content && content.disclosure);
  setText("debrief-reason", content && content.reason);
  $("debrief-text").hidden = !(content && content.text);
  if (content) renderMarkdown($("debrief-text"), content.text);
  $("debrief-later").hidden = content !== null || debrief.policy !== "end_of_study";
  $("debrief-thanks").hidden = content !== null || debrief.policy === "end_of_study";
  const asking = Boolean(content) && debrief.reconsent_required;
  $("reconsent").hidden = !asking || debrief.reconsent !== null;
  const answer = { granted: t("debrief.kept"), refused: t("debrief.dropped") }[
    asking ? debrief.reconsent : ""
  ];
  setText("reconsent-done", answer);
  $("finish").hidden = asking && debrief.reconsent === null; // answer first, then go on
  show("debrief", "withdraw");
}

/** The session's end: its code and the way back to the platform. `fresh`: it ended
 * just now (else the participant came back to a finished session: say so). */
function renderDone(fresh) {
  const { completion } = state.session;
  $("done-heading").textContent = t(`done.heading.${completion.outcome}`);
  $("done-again").hidden = fresh || state.withdrawn;
  $("done-text").textContent = t(`done.${completion.outcome}`);
  $("done-code").hidden = !completion.code;
  $("code-value").textContent = completion.code;
  const platform = t(`platform.${state.platform}`);
  const link = $("return-link");
  link.hidden = !completion.return_url || framed;
  if (completion.return_url) {
    link.href = completion.return_url;
    link.textContent = t("done.return", { platform });
  }
  show("done", ...(state.withdrawn ? ["withdrawn"] : completion.outcome === "screened_out" ? [] : ["withdraw"]));
  if (fresh) {
    tell("ended");
    if (completion.return_url && !framed) {
      setText("returning", t("done.returning", { platform }));
      setTimeout(() => location.assign(completion.return_url), RETURN_DELAY_MS);
    }
  }
}

function renderWithdrawn() {
  const when = state.withdrawn_at ? t("withdrawn.when", { date: longDate(state.withdrawn_at) }) : "";
  const n = recordsDeleted;
  const turns = n === null ? "" : t(n === 1 ? "withdrawn.turn" : "withdrawn.turns", { n });
  $("withdrawn-text").textContent = t("withdrawn.text", { when, turns });
  stopCountdown();
  if (chat) chat.abort();
  if (voice) voice.close();
  $("transcript").replaceChildren(); // what was deleted leaves the screen too
  if (state.session.completion) return renderDone(false);
  show("withdrawn");
}

// -- actions -------------------------------------------------------------------

/** Run an action that answers with the new state; on failure say so, keep the step. */
async function act(button, action, after = advance) {
  showError("");
  button.disabled = true;
  try {
    state = await action();
    await after();
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
    await advance();
  } catch (error) {
    show();
    showError(error.code === "no_session" ? t("error.cookies") : sayWhat(error));
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
  $("refuse").addEventListener("click", () =>
    act($("refuse"), () => post("refuse"), () => renderDone(true)),
  );
  $("end").addEventListener("click", () => endChat("participant"));
  $("finish").addEventListener("click", () =>
    act($("finish"), () => post("complete"), () => renderDone(true)),
  );
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
if (preview) {
  loadLocale(document.documentElement.lang).then(() => show("preview"));
} else {
  reload();
}
