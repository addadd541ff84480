// The watch view's session archive: every past session of the study, filtered by
// arm, status, date and participant; one session at a time as a timeline, with
// the operator's typing replayed at the speed it was typed. Every text goes in
// through textContent (dom.js).

import { h, replace } from "./dom.js";

const $ = (id) => document.getElementById(id);
const MAX_PAUSE_MS = 5000; // a long pause in the typing is shortened to this in a replay

function stamp(iso) {
  return iso ? new Date(iso).toLocaleString() : "–";
}

function after(startIso, iso) {
  if (!startIso || !iso) return "–";
  return `+${((new Date(iso) - new Date(startIso)) / 1000).toFixed(1)} s`;
}

async function getJson(url) {
  const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error?.message ?? `The server answered ${response.status}.`);
  return body;
}

function filters() {
  const query = new URLSearchParams();
  for (const [name, id] of [["arm", "filter-arm"], ["status", "filter-status"], ["from", "filter-from"], ["to", "filter-to"], ["participant", "filter-participant"]]) {
    const value = $(id).value.trim();
    if (value) query.set(name, value);
  }
  return query;
}

function sessionItem(session) {
  const thumbs = session.thumbs_up || session.thumbs_down ? `👍 ${session.thumbs_up} · 👎 ${session.thumbs_down}` : null;
  return h(
    "li",
    { class: `card session-item ${session.status}`, dataset: { conversation: session.conversation_id } },
    h(
      "p",
      { class: "meta" },
      [stamp(session.started_at), session.participant ? `participant ${session.participant}` : "no participant id", session.arm && `arm ${session.arm}`, `${session.answers} answer${session.answers === 1 ? "" : "s"}`, session.status, session.wizard_errors && `${session.wizard_errors} wizard error(s)`, thumbs]
        .filter(Boolean)
        .join(" · "),
    ),
    h("blockquote", { class: "said participant-text", text: session.first_message || "(no text)" }),
    h("button", { type: "button", class: "toggle open-session", text: "Open the session", on: { click: () => openSession(session.conversation_id) } }),
  );
}

async function listSessions() {
  const status = $("archive-status");
  status.textContent = "Loading the sessions…";
  try {
    const body = await getJson(`/watch/sessions?${filters()}`);
    const select = $("filter-arm");
    if (select.options.length === 1) for (const arm of body.arms) select.append(h("option", { value: arm, text: arm }));
    replace($("sessions"), body.sessions.map(sessionItem));
    const n = body.sessions.length;
    status.textContent = n ? `${n} session${n === 1 ? "" : "s"}${body.more ? `, and ${body.more} older ones` : ""}.` : "No session matches.";
  } catch (error) {
    status.textContent = error.message;
  }
}

// -- one session ------------------------------------------------------------------

let replaying = null; // the replay in progress: {cancel}

function stopReplay() {
  if (replaying) replaying.cancel();
  replaying = null;
}

/** Type `trace` into `screen` at the speed it was typed (long pauses shortened). */
function replay(trace, screen, button) {
  stopReplay();
  let cancelled = false;
  const timers = [];
  replaying = {
    cancel: () => {
      cancelled = true;
      timers.forEach(clearTimeout);
      button.textContent = "Replay the typing";
    },
  };
  button.textContent = "Stop the replay";
  screen.textContent = "";
  let draft = "";
  let clock = 0;
  let previous = trace.events.length ? trace.events[0][0] : 0;
  trace.events.forEach(([ms, keep, insert], index) => {
    clock += Math.min(ms - previous, MAX_PAUSE_MS);
    previous = ms;
    timers.push(
      setTimeout(() => {
        if (cancelled) return;
        draft = draft.slice(0, keep) + insert;
        screen.textContent = draft;
        if (index === trace.events.length - 1) {
          button.textContent = "Replay the typing";
          replaying = null;
        }
      }, clock),
    );
  });
}

function stepItem(step) {
  const start = step.received_at;
  const times = [
    ["received", step.received_at, stamp(step.received_at)],
    ["taken up", step.assigned_at, after(start, step.assigned_at)],
    ["first keystroke", step.first_keystroke_at, after(start, step.first_keystroke_at)],
    ["answered", step.answered_at, after(start, step.answered_at)],
    ["delivered to the participant", step.delivered_at, after(start, step.delivered_at)],
    ["read", step.read_at, after(start, step.read_at)],
  ];
  const screen = h("pre", { class: "typing-screen", "aria-label": "The operator's typing" });
  const replayButton = step.typing
    ? h("button", { type: "button", class: "toggle", text: "Replay the typing", on: { click: (event) => (replaying && event.target.textContent === "Stop the replay" ? stopReplay() : replay(step.typing, screen, event.target)) } })
    : null;
  const flags = [step.status, step.produced_by && `by ${step.produced_by}`, step.operator && `operator ${step.operator_name ? `${step.operator_name} (${step.operator})` : step.operator}`];
  return h(
    "li",
    { class: `card step ${step.status}`, dataset: { record: step.record_id } },
    step.said.map((turn) => h("blockquote", { class: "said participant-text", text: turn.text || "(no text)" })),
    h("dl", { class: "timings" }, times.map(([label, iso, shown]) => [h("dt", { text: label }), h("dd", { text: iso ? shown : "–" })])),
    h("p", { class: "answer", text: step.answer || "(no answer)" }),
    h("p", { class: "meta", text: flags.filter(Boolean).join(" · ") }),
    step.rating !== null
      ? h("p", { class: "rating", text: `Participant's rating: ${step.rating > 0 ? "👍 good" : "👎 bad"}${step.feedback_comment ? ` (“${step.feedback_comment}”)` : ""}` })
      : null,
    step.wizard_error ? h("p", { class: "flag-problem", text: `Wizard error: ${step.wizard_error}` }) : null,
    step.typing?.truncated ? h("p", { class: "meta", text: "The typing trace was cut at its size limit." }) : null,
    replayButton,
    step.typing ? screen : null,
  );
}

function answersTable(questionnaires) {
  if (!questionnaires.length) return h("p", { class: "meta", text: "No questionnaire answered." });
  return questionnaires.map((given) =>
    h(
      "div",
      { class: "answers" },
      h("h4", { text: `${given.questionnaire} (${given.when}, ${stamp(given.submitted_at)})` }),
      h(
        "table",
        {},
        h("tbody", {}, [
          ...Object.entries(given.answers).map(([item, value]) => h("tr", {}, h("th", { text: item }), h("td", { text: Array.isArray(value) ? value.join("; ") : value }))),
          ...Object.entries(given.scores).map(([name, value]) => h("tr", { class: "score" }, h("th", { text: name }), h("td", { text: value ?? "–" }))),
        ]),
      ),
    ),
  );
}

async function openSession(conversation) {
  stopReplay();
  const panel = $("session");
  panel.hidden = false;
  replace(panel, h("p", { class: "meta", text: "Loading the session…" }));
  try {
    const session = await getJson(`/watch/session?conversation=${encodeURIComponent(conversation)}`);
    replace(
      panel,
      h("h3", { id: "session-title", tabIndex: -1, text: `Session of ${session.participant ?? "an unknown participant"}${session.arm ? `, arm ${session.arm}` : ""}` }),
      h("button", { type: "button", class: "toggle", text: "Close the session", on: { click: () => { stopReplay(); panel.hidden = true; } } }),
      h("ol", { class: "cards timeline" }, session.steps.map(stepItem)),
      h("h4", { text: "Questionnaires" }),
      answersTable(session.questionnaires),
    );
    $("session-title").focus();
  } catch (error) {
    replace(panel, h("p", { class: "flag-problem", text: error.message }));
  }
}

// Not a <form>: the view holds no form that a participant's text could turn into one.
$("archive-show").addEventListener("click", listSessions);
$("archive-filters").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.tagName === "INPUT") listSessions();
});
listSessions();
