// The researcher's watch view: polls /watch/state once a second and redraws.
// Every participant or operator text goes in through textContent (dom.js), never
// as HTML. A failed poll keeps the last picture and says so; the next one retries.

import "./archive.js";
import { h, replace } from "./dom.js";

const POLL_MS = 1000;
const LATE_S = 30; // a task closer than this to its answer timeout is shown as late

const STATUS_LABELS = {
  waiting: "waiting for an operator",
  with_operator: "with",
  operator_away: "operator reconnecting:",
  answering: "answer being saved",
  model: "answered by the model",
};

const $ = (id) => document.getElementById(id);

function seconds(value) {
  if (value === null || value === undefined) return "–";
  if (value < 60) return `${value.toFixed(1)} s`;
  const whole = Math.round(value);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString();
}

function operatorLabel(pseudonym, name) {
  if (!pseudonym) return "nobody";
  return name ? `${name} (${pseudonym})` : pseudonym;
}

function meta(...parts) {
  const shown = parts.filter(Boolean);
  return h("p", { class: "meta" }, shown.flatMap((part, i) => (i ? [" · ", part] : [part])));
}

// The participant being followed ("" for everyone): the state is asked for theirs only.
let following = "";

function participantLink(participant) {
  if (!participant) return "no participant id";
  return h("button", {
    type: "button",
    class: "participant",
    title: "Follow this participant",
    text: `participant ${participant}`,
    on: { click: () => follow(participant) },
  });
}

function follow(participant) {
  following = participant;
  $("follow").value = participant;
  $("unfollow").hidden = !participant;
  poll();
}

function figures(state) {
  const queue = state.queue;
  const ready = state.operators.filter((op) => op.connected && op.ready).length;
  return [
    h("li", {}, h("strong", { text: ready }), ` of ${state.operators.length} operators ready`),
    h("li", {}, h("strong", { text: queue.waiting }), " waiting"),
    h("li", {}, h("strong", { text: state.in_flight }), " in flight"),
    h("li", {}, "oldest wait ", h("strong", { text: seconds(queue.oldest_wait_s) })),
  ];
}

function operatorItem(op) {
  const presence = !op.connected ? "reconnecting" : op.ready ? "ready" : "paused";
  return h(
    "li",
    { class: `operator ${presence}`, dataset: { operator: op.operator } },
    h("span", { class: "name", text: operatorLabel(op.operator, op.name) }),
    h("span", { class: "presence", text: presence }),
    h("span", { class: "load", text: `holding ${op.holding} of ${op.capacity}` }),
  );
}

// Conversations shown in full, by "task:ID" or "record:ID": kept across redraws.
const conversations = new Map(); // key -> {turns: [...] | null, problem: string | null}
let lastState = null;

function conversationToggle(key, url, turns) {
  if (turns < 2) return null;
  const open = conversations.has(key);
  return h("button", {
    type: "button",
    class: "toggle",
    "aria-expanded": open ? "true" : "false",
    text: open ? "Hide the conversation" : `Show the conversation (${turns} turns)`,
    on: {
      click: async () => {
        if (conversations.has(key)) {
          conversations.delete(key);
        } else {
          conversations.set(key, { turns: null, problem: null });
          redraw();
          const entry = { turns: null, problem: null };
          try {
            const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
            const body = await response.json();
            if (response.ok) entry.turns = body.messages;
            else entry.problem = body.error?.message ?? `The server answered ${response.status}.`;
          } catch (error) {
            entry.problem = `Cannot reach woz (${error.message}).`;
          }
          if (!conversations.has(key)) return; // hidden meanwhile
          conversations.set(key, entry);
        }
        redraw();
      },
    },
  });
}

function conversationBlock(key) {
  const entry = conversations.get(key);
  if (!entry) return null;
  if (entry.problem) return h("p", { class: "flag-problem", text: entry.problem });
  if (!entry.turns) return h("p", { class: "meta", text: "Loading the conversation…" });
  return h(
    "ol",
    { class: "conversation" },
    entry.turns.map((turn) =>
      h("li", { class: `turn ${turn.role}` }, h("span", { class: "role", text: turn.role }), h("span", { class: "turn-text", text: turn.text })),
    ),
  );
}

function taskCard(task) {
  const label = STATUS_LABELS[task.status] ?? task.status;
  const who =
    task.status === "with_operator" || task.status === "operator_away"
      ? `${label} ${operatorLabel(task.operator, task.operator_name)}`
      : label;
  return h(
    "li",
    { class: `card task ${task.status}`, dataset: { task: task.task_id } },
    meta(
      participantLink(task.participant),
      task.persona,
      task.arm && `arm ${task.arm}`,
      `turn ${task.turns}`,
      task.attempt > 1 && `attempt ${task.attempt}`,
      task.waiters > 1 && `${task.waiters} requests waiting (retries)`,
    ),
    h(
      "p",
      { class: "status" },
      h("strong", { text: who }),
      ` · waited ${seconds(task.waited_s)}`,
      task.expires_in_s !== null
        ? h("span", { class: task.expires_in_s < LATE_S ? "expiry late" : "expiry", text: ` · times out in ${seconds(task.expires_in_s)}` })
        : null,
    ),
    h("blockquote", { class: "said participant-text", text: task.last_message || "(no text)" }),
    task.draft ? h("p", { class: "draft", text: task.draft }) : null,
    conversationToggle(`task:${task.task_id}`, `/watch/tasks/${encodeURIComponent(task.task_id)}`, task.turns),
    conversationBlock(`task:${task.task_id}`),
  );
}

// The record whose wizard-error flag is being written, if any. While it is, the
// recent exchanges are not redrawn, so the poll does not wipe what is typed.
let flagging = null; // {id, form}

function recordCard(record) {
  const flags = [record.status];
  if (record.wizard_error) flags.push(`wizard error: ${record.wizard_error}`);
  if (record.failure) flags.push(record.failure);
  const card = h(
    "li",
    { class: `card record ${record.status}`, dataset: { record: record.id } },
    meta(
      clock(record.received_at),
      participantLink(record.participant),
      record.persona,
      record.arm && `arm ${record.arm}`,
      record.produced_by && `by ${record.produced_by}`,
      record.operator && operatorLabel(record.operator, record.operator_name),
      record.answer_s !== null && `answered in ${seconds(record.answer_s)}`,
    ),
    h("blockquote", { class: "said participant-text", text: record.last_message || "(no text)" }),
    h("p", { class: "answer", text: record.answer || "(no answer)" }),
    conversationToggle(`record:${record.id}`, `/watch/records/${encodeURIComponent(record.id)}`, record.turns),
    conversationBlock(`record:${record.id}`),
  );
  const flag = h("button", {
    type: "button",
    class: "flag",
    text: record.wizard_error ? "Change the flag" : "Flag as a wizard error",
    on: { click: () => openFlagForm(card, record) },
  });
  card.append(h("p", { class: "flags" }, h("span", { text: flags.join(" · ") }), " ", flag));
  return card;
}

function openFlagForm(card, record) {
  if (flagging) flagging.form.remove();
  const note = h("input", {
    type: "text",
    class: "flag-note",
    value: record.wizard_error ?? "",
    placeholder: "Why was this answer a wizard error?",
    "aria-label": "Why was this answer a wizard error?",
  });
  const problem = h("p", { class: "flag-problem", role: "alert" });
  const close = () => {
    form.remove();
    flagging = null;
  };
  const send = async (value) => {
    problem.textContent = "";
    const response = await fetch(`/watch/records/${encodeURIComponent(record.id)}/wizard-error`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ note: value }),
    }).catch((error) => ({ ok: false, json: async () => ({ error: { message: error.message } }) }));
    if (response.ok) {
      close();
      await poll();
      return;
    }
    const body = await response.json().catch(() => ({}));
    problem.textContent = body.error?.message ?? "The flag could not be saved.";
  };
  const form = h(
    "div",
    {
      class: "flag-form",
      on: {
        keydown: (event) => {
          if (event.key === "Enter" && event.target === note) send(note.value);
          if (event.key === "Escape") close();
        },
      },
    },
    note,
    h("button", { type: "button", text: "Save", on: { click: () => send(note.value) } }),
    record.wizard_error ? h("button", { type: "button", text: "Clear the flag", on: { click: () => send(null) } }) : null,
    h("button", { type: "button", text: "Cancel", on: { click: close } }),
    problem,
  );
  card.append(form);
  flagging = { id: record.id, form };
  note.focus();
}

function redraw() {
  if (lastState) render(lastState);
}

function render(state) {
  lastState = state;
  const shown = new Set([...state.tasks.map((t) => `task:${t.task_id}`), ...state.recent.map((r) => `record:${r.id}`)]);
  for (const key of conversations.keys()) if (!shown.has(key)) conversations.delete(key);
  document.title = `woz watch: ${state.study.title}`;
  $("study").textContent = state.study.title;
  replace($("figures"), figures(state));
  replace(
    $("operators"),
    state.operators.length ? state.operators.map(operatorItem) : h("li", { class: "empty", text: "No operator is connected." }),
  );
  const more = state.in_flight - state.tasks.length;
  replace(
    $("tasks"),
    state.tasks.length ? state.tasks.map(taskCard) : h("li", { class: "empty", text: "Nothing is waiting for an answer." }),
    more > 0 ? h("li", { class: "empty", text: `and ${more} more, newer than these` }) : null,
  );
  if (flagging === null) {
    replace(
      $("recent"),
      state.recent.length ? state.recent.map(recordCard) : h("li", { class: "empty", text: "No exchange yet." }),
    );
  }
}

function say(text, problem) {
  const el = $("connection");
  el.textContent = text;
  el.classList.toggle("problem", problem);
}

async function poll() {
  try {
    const query = following ? `?participant=${encodeURIComponent(following)}` : "";
    const response = await fetch(`/watch/state${query}`, { cache: "no-store", credentials: "same-origin" });
    const body = await response.json();
    if (!response.ok) {
      say(body.error?.message ?? `The server answered ${response.status}.`, true);
      return response.status !== 401; // logged out: polling again cannot help
    }
    render(body);
    say(`Live · updated ${clock(body.now)}`, false);
  } catch (error) {
    say(`Cannot reach woz (${error.message}); retrying…`, true);
  }
  return true;
}

async function loop() {
  while (await poll()) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function sendNotice() {
  const input = $("notice-text");
  const result = $("notice-result");
  const text = input.value.trim();
  if (!text) return;
  result.textContent = "Sending…";
  try {
    const response = await fetch("/watch/notice", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ text }),
    });
    const body = await response.json();
    if (!response.ok) {
      result.textContent = body.error?.message ?? `The server answered ${response.status}.`;
      return;
    }
    input.value = "";
    const n = body.operators;
    result.textContent = n ? `Sent to ${n} operator${n === 1 ? "" : "s"}.` : "No operator is connected: nobody got it.";
  } catch (error) {
    result.textContent = `Cannot reach woz (${error.message}).`;
  }
}

$("notice-send").addEventListener("click", sendNotice);
$("notice-text").addEventListener("keydown", (event) => {
  if (event.key === "Enter") sendNotice();
});
$("follow").addEventListener("change", (event) => follow(event.target.value.trim()));
$("unfollow").addEventListener("click", () => follow(""));
loop();
