// The page's own words, in the study's language: one JSON file per locale
// (`locales/<code>.json`, the keys of `en.json`). A key missing from a locale
// falls back to English, and a key missing from both shows as itself, so a
// locale can be added one file at a time. Questionnaires use `t` too.

const LOCALES = "/participant/static/locales";
let english = {};
let words = {};

/** Load `code` (and English beneath it); set the document's language. */
export async function loadLocale(code) {
  english = await fetchLocale("en");
  words = code && code !== "en" ? await fetchLocale(code) : english;
  document.documentElement.lang = words.lang || code || "en";
  translatePage();
}

async function fetchLocale(code) {
  try {
    const response = await fetch(`${LOCALES}/${encodeURIComponent(code)}.json`);
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}

/** The text of `key`, with `{name}` placeholders filled from `values`. */
export function t(key, values = {}) {
  const text = words[key] ?? english[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** Whether the locale (or English) has `key`. */
export function has(key) {
  return key in words || key in english;
}

/**
 * Fill every element marked `data-i18n="key"` (its text) and `data-i18n-label`
 * (its aria-label) and `data-i18n-placeholder`, under `root`.
 */
export function translatePage(root = document) {
  // A key no locale has (its file failed to load, say) keeps the page's English.
  const each = (attribute, apply) => {
    for (const element of root.querySelectorAll(`[${attribute}]`)) {
      const key = element.getAttribute(attribute);
      if (has(key)) apply(element, t(key));
    }
  };
  each("data-i18n", (element, text) => (element.textContent = text));
  each("data-i18n-label", (element, text) => element.setAttribute("aria-label", text));
  each("data-i18n-placeholder", (element, text) => element.setAttribute("placeholder", text));
}
