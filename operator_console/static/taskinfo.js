// What the operator needs to know about a task besides the conversation: the
// header (persona, participant, badges, countdown) and the side panel
// (operator guide, what the app asked for, its tools). All app- and
// study-provided text goes in through textContent.

import { h } from "./dom.js";

/**
 * A guide written hard-wrapped in a TOML file, as flowing paragraphs: single
 * line breaks become spaces, except before list items; blank lines stay.
 */
function unwrap(text) {
  const out = [];
  for (const line of text.trim().split("\n")) {
    const previous = out.length ? out[out.length - 1] : "";
    const joins = out.length && previous.trim() !== "" && line.trim() !== ""
      && !/^\s*([-*•]|\d+[.)])\s/.test(line);
    if (joins) out[out.length - 1] = `${previous.trimEnd()} ${line.trim()}`;
    else out.push(line);
  }
  return out.join("\n");
}

function formatName(fmt) {
  if (!fmt || fmt.type === "text") return "Text";
  if (fmt.type === "json_object") return "JSON object";
  return `JSON schema${fmt.name ? ` “${fmt.name}”` : ""}${fmt.strict ? " (strict)" : ""}`;
}

/** The task's header; `countdown` is the element the app's clock updates. */
export function renderHead(task, persona, { liveText, countdown }) {
  const badges = h("div", { class: "badges" });
  const badge = (text, kind = "") => badges.append(h("span", { class: `badge ${kind}`, text }));
  if (liveText) badge("LIVE", "badge-live");
  else if (task.live) badge("live persona");
  if (task.stream) badge("streaming");
  const fmt = task.response_format || {};
  if (fmt.type && fmt.type !== "text") badge(formatName(fmt), "badge-format");
  if ((task.tools || []).length) badge(`${task.tools.length} tool${task.tools.length === 1 ? "" : "s"}`, "badge-tools");
  if (task.mode === "assist") badge("model draft", "badge-format");
  if (task.arm) badge(`arm ${task.arm}`);
  if (task.attempt > 1) badge(`attempt ${task.attempt}`, "badge-warn");
  return h("header", { class: "task-head" },
    h("div", { class: "task-title" },
      h("h2", { text: persona.display_name || task.persona }),
      h("code", { class: "persona-id", text: task.persona }),
      badges),
    h("div", { class: "task-meta" },
      h("span", { class: "meta-item" }, h("span", { class: "meta-label", text: "Participant " }),
        h("code", { class: "participant", text: task.participant || "anonymous" })),
      h("span", { class: "meta-item" }, h("span", { class: "meta-label", text: "Conversation " }),
        h("code", { text: (task.conversation_id || "").slice(0, 18) || "—" })),
      h("span", { class: "meta-item" }, h("span", { class: "meta-label", text: "API " }), h("code", { text: task.api || "?" }))),
    countdown);
}

/** The side panel for a task: guide and request details. */
export function renderAside(task, persona, { liveText }) {
  const guide = h("section", { class: "panel" },
    h("h3", { text: "Operator guide" }),
    h("div", { class: "panel-sub", text: persona.display_name || task.persona }),
    persona.guide ? h("div", { class: "guide-text", text: unwrap(persona.guide) })
      : h("p", { class: "muted", text: "No guide for this persona." }));
  const details = h("section", { class: "panel" }, h("h3", { text: "What the app asked for" }));
  const list = h("dl", { class: "facts" });
  const fact = (name, value) => list.append(h("dt", { text: name }), h("dd", { text: value }));
  fact("Answer", formatName(task.response_format));
  const choice = task.tool_choice || { mode: "auto" };
  if ((task.tools || []).length) {
    fact("Tool choice", choice.mode === "named" ? `must call ${choice.name}` : choice.mode);
    fact("Parallel calls", task.parallel_tool_calls === false ? "one call at most" : "allowed");
  }
  if (task.max_tokens) fact("Length", `at most ${task.max_tokens} tokens (about ${Math.round(task.max_tokens * 0.75)} words)`);
  fact("Delivery", task.stream ? (liveText ? "live stream: your typing is sent as you type" : "streamed after you send") : "sent in one piece");
  details.append(list);
  const tools = (task.tools || []).map((tool) => h("li", { class: "tool-spec" },
    h("code", { class: "tool-name", text: tool.name }),
    tool.description ? h("div", { class: "tool-desc", text: tool.description }) : null));
  if (tools.length) details.append(h("h4", { text: "Tools" }), h("ul", { class: "tool-specs" }, tools));
  return h("div", { class: "aside-task" }, guide, details);
}
