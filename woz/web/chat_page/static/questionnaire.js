// Questionnaires on the participant page: one form per questionnaire, asked at a
// moment of the session ("before" the chat, "after" it).
//
// Accessible by construction: a choice is a <fieldset> whose <legend> is the
// question, each option a native radio or checkbox with its <label for>; a text
// or slider has its <label for>. Everything works from the keyboard (Tab between
// questions, arrows inside a group or on the slider, Enter or the button to send).
// Required items are checked before sending: each unanswered one says so beside
// it (`aria-invalid`, `aria-describedby`) and gets the focus. The server checks
// again and names the item it refuses. Texts go in as text nodes only.

import { get, post, sayWhat } from "./api.js";
import { t } from "./i18n.js";

let formCount = 0;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "className") node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

/** The question's text, with "(required)" for required items. */
function questionText(item) {
  const parts = [document.createTextNode(item.text)];
  if (item.required) parts.push(el("span", { className: "required", text: ` ${t("survey.required")}` }));
  return parts;
}

/** One item's controls; `read()` gives its answer (null when unanswered). */
function renderItem(item, prefix) {
  const id = `${prefix}-${item.id}`;
  const error = el("p", { className: "item-error", id: `${id}-error`, hidden: "" });
  const wrap = el("div", { className: `item item-${item.kind}`, "data-item": item.id });
  if (item.kind === "likert" || item.kind === "single" || item.kind === "multiple") {
    const multiple = item.kind === "multiple";
    const choices =
      item.kind === "likert"
        ? item.points.map((label, i) => ({ value: String(i + 1), label }))
        : item.options;
    const set = el("fieldset", { className: "choices", "aria-describedby": error.id });
    if (item.required) set.setAttribute("aria-required", "true");
    set.append(el("legend", {}, ...questionText(item)));
    const row = el("div", { className: item.kind === "likert" ? "scale" : "options" });
    choices.forEach((choice, i) => {
      const input = el("input", {
        type: multiple ? "checkbox" : "radio",
        name: id,
        id: `${id}-${i}`,
        value: choice.value,
      });
      row.append(el("div", { className: "choice" }, input, el("label", { for: input.id, text: choice.label })));
    });
    set.append(row);
    wrap.append(set, error);
    const read = () => {
      const ticked = Array.from(set.querySelectorAll("input:checked"), (box) => box.value);
      if (multiple) return ticked.length ? ticked : null;
      if (!ticked.length) return null;
      return item.kind === "likert" ? Number(ticked[0]) : ticked[0];
    };
    return { item, wrap, error, focusTarget: () => set.querySelector("input"), flagged: set, read };
  }
  const label = el("label", { for: id }, ...questionText(item));
  if (item.kind === "slider") {
    const input = el("input", {
      type: "range",
      id,
      min: "0",
      max: "100",
      step: "1",
      value: "50",
      "aria-describedby": `${id}-ends ${error.id}`,
      "aria-valuetext": t("survey.notMoved"),
    });
    const shown = el("output", { for: id, className: "slider-value", text: "–" });
    let moved = false;
    input.addEventListener("input", () => {
      moved = true;
      shown.textContent = input.value;
      input.setAttribute("aria-valuetext", input.value);
    });
    const ends = el(
      "div",
      { className: "slider-ends", id: `${id}-ends` },
      el("span", { text: item.min_label ? `0: ${item.min_label}` : "0" }),
      el("span", { text: item.max_label ? `100: ${item.max_label}` : "100" }),
    );
    wrap.append(label, el("div", { className: "slider" }, input, shown), ends, error);
    const read = () => (moved ? Number(input.value) : null);
    return { item, wrap, error, focusTarget: () => input, flagged: input, read };
  }
  const long = item.kind === "long_text";
  const input = el(long ? "textarea" : "input", { id, "aria-describedby": error.id });
  if (!long) input.type = "text";
  if (long) input.rows = 4;
  if (item.max_length) input.maxLength = item.max_length;
  if (item.required) input.setAttribute("aria-required", "true");
  wrap.append(label, input, error);
  const read = () => (input.value.trim() ? input.value : null);
  return { item, wrap, error, focusTarget: () => input, flagged: input, read };
}

function setItemError(field, text) {
  field.error.textContent = text || "";
  field.error.hidden = !text;
  if (text) field.flagged.setAttribute("aria-invalid", "true");
  else field.flagged.removeAttribute("aria-invalid");
}

/** Show one questionnaire; resolves once the server has kept its answers. */
function ask(questionnaire, container, position, total) {
  return new Promise((resolve) => {
    formCount += 1;
    const prefix = `q${formCount}-${questionnaire.id}`;
    const headingId = `${prefix}-heading`;
    const form = el("form", { className: "questionnaire", novalidate: "", "aria-labelledby": headingId });
    if (total > 1) form.append(el("p", { className: "progress", text: t("survey.progress", { n: position, total }) }));
    form.append(el("h2", { id: headingId, text: questionnaire.title || t("survey.questions") }));
    if (questionnaire.intro) form.append(el("p", { className: "intro", text: questionnaire.intro }));
    const fields = questionnaire.items.map((item) => renderItem(item, prefix));
    for (const field of fields) form.append(field.wrap);
    const summary = el("p", { className: "error", role: "alert", hidden: "" });
    const submit = el("button", { type: "submit", className: "primary wide", text: t("survey.continue") });
    form.append(summary, submit);
    container.replaceChildren(form);
    container.hidden = false;
    form.querySelector("h2").setAttribute("tabindex", "-1");
    form.querySelector("h2").focus();

    const showSummary = (text) => {
      summary.textContent = text || "";
      summary.hidden = !text;
    };

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showSummary("");
      const answers = {};
      let firstMissing = null;
      for (const field of fields) {
        const value = field.read();
        const missing = value === null && field.item.required;
        setItemError(field, missing ? (field.item.kind === "slider" ? t("survey.notMoved") : t("survey.missing")) : "");
        if (missing && !firstMissing) firstMissing = field;
        if (value !== null) answers[field.item.id] = value;
      }
      if (firstMissing) {
        showSummary(t("survey.missingSummary"));
        firstMissing.focusTarget().focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = t("survey.sending");
      try {
        await post(`questionnaires/${encodeURIComponent(questionnaire.id)}`, { answers });
        resolve();
      } catch (error) {
        if (error.code === "already_submitted") return resolve();
        const field = fields.find((f) => f.item.id === error.param);
        if (error.code === "invalid_answer" && field) {
          setItemError(field, t("survey.refused"));
          field.focusTarget().focus();
        } else {
          showSummary(error.status ? t("survey.failed") : sayWhat(error));
        }
      } finally {
        submit.disabled = false;
        submit.textContent = t("survey.continue");
      }
    });
  });
}

/**
 * Ask the participant every questionnaire of the study for `when` ("before" or
 * "after") they have not answered yet, one after another, in `container`.
 * Resolves when all are submitted, at once if there are none.
 */
export async function runQuestionnaire(when, container) {
  const query = `when=${encodeURIComponent(when)}&locale=${encodeURIComponent(document.documentElement.lang || "en")}`;
  const { questionnaires } = await get(`questionnaires?${query}`);
  for (const [index, questionnaire] of questionnaires.entries()) {
    await ask(questionnaire, container, index + 1, questionnaires.length);
  }
  container.replaceChildren();
  container.hidden = true;
}
