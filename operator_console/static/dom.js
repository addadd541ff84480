// Building DOM safely. Every piece of text goes in through textContent or a
// text node, every value through a property: nothing here parses HTML, so
// participant text can never become markup or script.

const PROPERTIES = new Set([
  "value", "checked", "disabled", "hidden", "selected", "title", "placeholder",
  "tabIndex", "htmlFor", "id", "type", "name", "rows", "min", "max", "step",
  "alt", "controls", "readOnly", "autocomplete", "spellcheck", "inputMode",
  "referrerPolicy", "loading", "preload",
]);

/**
 * h("div", {class: "x", text: "hello", on: {click: fn}}, child, "more text")
 * Keys: class, text, on (listeners), dataset, known properties, otherwise a
 * plain attribute (never an event handler attribute).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "on") {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (key === "dataset") Object.assign(el.dataset, value);
    else if (PROPERTIES.has(key)) el[key] = value;
    else if (/^on/i.test(key) || key === "style" || key === "href" || key === "src") {
      throw new Error(`h(): refusing attribute ${key}`);
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Append children: nodes as they are, strings and numbers as text nodes. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A URL safe to show as an image: https, or an inline data:image. */
export function safeImageUrl(url) {
  if (typeof url !== "string") return null;
  const trimmed = url.trim();
  if (/^data:image\/[a-z0-9.+-]+[;,]/i.test(trimmed)) return trimmed;
  try {
    return new URL(trimmed).protocol === "https:" ? trimmed : null;
  } catch {
    return null;
  }
}

/** A URL safe to play as audio: https, an inline data:audio, or woz's own upload. */
export function safeAudioUrl(url) {
  if (typeof url !== "string") return null;
  const trimmed = url.trim();
  if (/^data:audio\/[a-z0-9.+-]+[;,]/i.test(trimmed)) return trimmed;
  // Uploads for transcription are served by woz itself, to operators only.
  if (/^\/operator\/media\/[A-Za-z0-9_.-]+$/.test(trimmed)) return trimmed;
  try {
    return new URL(trimmed).protocol === "https:" ? trimmed : null;
  } catch {
    return null;
  }
}

/** Is the event's target a place where the operator types text? */
export function isTextField(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target.tagName === "TEXTAREA") return true;
  if (target.tagName !== "INPUT") return false;
  return !["checkbox", "radio", "button", "submit", "range", "color"].includes(target.type);
}
