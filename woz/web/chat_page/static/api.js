// The page's calls to woz: same-origin JSON under the page's own path, and the
// chat, streamed as server-sent events in the Chat Completions wire format.
// The participant's token, which the server put in the page, authenticates
// every call in the `X-Woz-Session` header (inside a survey's frame browsers
// block third-party cookies; the cookie serves a visit without one). POSTs
// carry `X-Woz-Page: 1`, which a cross-site page cannot send. Every call
// carries the page's own query (the platform's parameters), for the return
// address at the end.

import { t } from "./i18n.js";

/** The page's path, `/p/<study id>`: every endpoint lives under it. */
export const base = location.pathname.replace(/\/+$/, "");
const query = location.search;

function meta(name) {
  const element = document.querySelector(`meta[name="${name}"]`);
  return element ? element.content : "";
}

/** The participant's page token ("" for a visit that records nothing, a preview). */
export const token = meta("woz-session");
/** Whether this is a preview (an MTurk HIT not accepted yet). */
export const preview = meta("woz-preview") === "1";

function headers(extra = {}) {
  return token ? { "X-Woz-Session": token, ...extra } : { ...extra };
}

/** A refusal from woz: the HTTP status, the error's code and the field it names. */
export class PageError extends Error {
  constructor(status, code, message, param) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || "";
    this.param = param || "";
  }
}

async function errorOf(response) {
  let error = {};
  try {
    error = (await response.json()).error || {};
  } catch {
    // not JSON (a proxy's page, say): the status says enough
  }
  return new PageError(response.status, error.code, error.message, error.param);
}

/** `url` with the page's own query added to any query it has. */
function withQuery(url) {
  if (!query) return url;
  return url.includes("?") ? `${url}&${query.slice(1)}` : `${url}${query}`;
}

async function call(method, path, body) {
  const options = { method, headers: headers(), credentials: "same-origin" };
  if (method === "POST") {
    options.headers["X-Woz-Page"] = "1";
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body || {});
  }
  const response = await fetch(withQuery(`${base}/${path}`), options);
  if (!response.ok) throw await errorOf(response);
  return response.json();
}

export const getState = () => call("GET", "state");
/** GET a JSON endpoint under the page's path (`path` may carry a query string). */
export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);

/**
 * Ask the persona and stream its answer: `onText(piece)` for each piece of text.
 * Resolves, when the stream ends, with the answer's record id (for feedback; "" if
 * the server did not say); rejects with a `PageError` for a refusal or an
 * error frame, or an `AbortError` when `signal` aborts.
 */
export async function streamChat({ model, messages, conversation, signal, onText }) {
  const response = await fetch(`${base}/chat/completions`, {
    method: "POST",
    credentials: "same-origin",
    headers: headers({
      "Content-Type": "application/json",
      "X-Woz-Page": "1",
      "X-Woz-Conversation": conversation,
    }),
    body: JSON.stringify({ model, messages, stream: true }),
    signal,
  });
  if (!response.ok) throw await errorOf(response);
  const record = response.headers.get("X-Woz-Record") || "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const events = buffer.split(/\r?\n\r?\n/);
    buffer = events.pop();
    for (const event of events) {
      if (readEvent(event, onText)) return record;
    }
  }
  throw new PageError(0, "stream_cut", "The answer was cut off.");
}

/** Handle one SSE event; true at the end of the stream. */
function readEvent(event, onText) {
  const data = event
    .split(/\r?\n/)
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5).trimStart())
    .join("\n");
  if (!data) return false; // a keep-alive comment
  if (data === "[DONE]") return true;
  const chunk = JSON.parse(data);
  if (chunk.error) throw new PageError(0, chunk.error.code, chunk.error.message);
  const piece = chunk.choices && chunk.choices[0] && chunk.choices[0].delta.content;
  if (piece) onText(piece);
  return false;
}

/**
 * What to tell the participant about a failure. Never woz's own message: under
 * a deceptive design it could say who answers.
 */
export function sayWhat(error) {
  if (!(error instanceof PageError)) return t("error.interrupted");
  const busy = ["no_operator_online", "queue_full", "shutting_down", "rate_limit_exceeded"];
  if ([429, 503, 529].includes(error.status) || busy.includes(error.code)) return t("error.busy");
  if (error.status === 504 || error.code === "answer_timeout") return t("error.no_answer");
  if (error.status === 401) return t("error.expired");
  if (error.code === "string_above_max_length") return t("error.too_long");
  if (error.code === "stream_cut") return t("error.interrupted");
  return t("error.generic");
}
