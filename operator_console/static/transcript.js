// The conversation of a task, as the operator reads it. Every message, name,
// tool argument and URL is participant-controlled: text goes in through
// textContent, media only through property assignment of vetted URLs.

import { h, safeAudioUrl, safeImageUrl } from "./dom.js";

const ROLE_LABELS = {
  system: "System",
  user: "Participant",
  assistant: "Assistant",
  tool: "Tool result",
};

function prettyArguments(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text ?? "");
  }
}

function renderPart(part, role) {
  switch (part.type) {
    case "text":
      return h("div", { class: role === "tool" ? "msg-text msg-mono" : "msg-text", text: part.text ?? "" });
    case "image": {
      const url = safeImageUrl(part.url);
      if (url === null) {
        return h("div", { class: "msg-blocked" },
          h("span", { class: "msg-blocked-label", text: "Image not shown (only https: and data:image URLs are displayed): " }),
          h("span", { class: "msg-url", text: String(part.url ?? "") }));
      }
      const img = h("img", { class: "msg-image", alt: "Image sent by the participant", loading: "lazy", referrerPolicy: "no-referrer" });
      img.src = url;
      return h("figure", { class: "msg-figure" }, img);
    }
    case "audio": {
      const url = safeAudioUrl(part.url);
      if (url === null) {
        return h("div", { class: "msg-blocked" },
          h("span", { class: "msg-blocked-label", text: "Audio not playable here: " }),
          h("span", { class: "msg-url", text: String(part.url ?? "") }));
      }
      const audio = h("audio", { class: "msg-audio", controls: true, preload: "metadata" });
      audio.src = url;
      return audio;
    }
    case "file":
      return h("div", { class: "msg-file" },
        h("span", { class: "msg-file-icon", "aria-hidden": "true", text: "📎" }),
        h("span", { text: part.text || "attached file" }),
        part.media_type ? h("span", { class: "muted", text: ` (${part.media_type})` }) : null);
    default:
      return h("div", { class: "msg-text muted", text: `[${String(part.type)} part]` });
  }
}

function renderToolCall(call) {
  return h("div", { class: "tool-call" },
    h("div", { class: "tool-call-head" },
      h("span", { class: "tool-call-arrow", "aria-hidden": "true", text: "→ " }),
      h("span", { class: "tool-call-name", text: call.name }),
      call.id ? h("span", { class: "tool-call-id", text: call.id }) : null),
    h("pre", { class: "tool-call-args", text: prettyArguments(call.arguments) }));
}

/** The messages of `task` as a list of cards, oldest first. */
export function renderTranscript(task) {
  const callNames = new Map();
  for (const message of task.messages || []) {
    for (const call of message.tool_calls || []) callNames.set(call.id, call.name);
  }
  const list = h("ol", { class: "transcript-list" });
  for (const message of task.messages || []) {
    const role = ROLE_LABELS[message.role] ? message.role : "user";
    const head = h("div", { class: "msg-head" }, h("span", { class: "msg-role", text: ROLE_LABELS[role] }));
    if (message.name) head.append(h("span", { class: "msg-name", text: message.name }));
    if (role === "tool" && message.tool_call_id) {
      const name = callNames.get(message.tool_call_id);
      head.append(h("span", { class: "msg-meta", text: name ? `${name} · ${message.tool_call_id}` : message.tool_call_id }));
    }
    const body = h("div", { class: "msg-body" });
    const parts = message.content || [];
    for (const part of parts) body.append(renderPart(part, role));
    for (const call of message.tool_calls || []) body.append(renderToolCall(call));
    if (!parts.length && !(message.tool_calls || []).length) body.append(h("div", { class: "msg-text muted", text: "(empty)" }));
    list.append(h("li", { class: `msg msg-${role}` }, head, body));
  }
  return list;
}

/** The last thing the participant said, for a tab's preview line. */
export function lastUserText(task) {
  const messages = task.messages || [];
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role !== "user") continue;
    const text = (messages[i].content || []).filter((p) => p.type === "text").map((p) => p.text).join(" ");
    if (text) return text;
    if ((messages[i].content || []).some((p) => p.type === "image")) return "[image]";
    if ((messages[i].content || []).some((p) => p.type === "audio")) return "[spoken]";
  }
  return "";
}
