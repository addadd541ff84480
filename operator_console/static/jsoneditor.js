// A JSON value to send, edited either as a form generated from its schema or
// as raw JSON text; the operator switches between the two (Alt+J) and the
// value carries over. Used for structured outputs and tool-call arguments.

import { append, h, replace } from "./dom.js";
import { pathText, validate } from "./schema.js";
import { SchemaForm } from "./schemaform.js";

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export class JsonEditor {
  /**
   * schema: JSON schema of the value, or null for "any JSON object".
   * options.onChange(), options.idPrefix, options.emptyMeansNoArguments.
   */
  constructor(schema, options = {}) {
    this.schema = isObject(schema) ? schema : null;
    this.onChange = options.onChange || (() => {});
    this.mode = this.schema ? "form" : "raw";
    this.form = this.schema
      ? new SchemaForm(this.schema, {
        onChange: this.onChange,
        idPrefix: options.idPrefix,
        emptyMeansNoArguments: options.emptyMeansNoArguments,
      })
      : null;
    this.raw = h("textarea", {
      class: "input raw-json",
      rows: 8,
      spellcheck: false,
      placeholder: "{ }",
      "aria-label": "Raw JSON",
      on: { input: () => { this.clearRawErrors(); this.onChange(); } },
    });
    this.rawErrors = h("div", { class: "form-summary", role: "alert", hidden: true });
    this.rawPane = h("div", { class: "raw-pane" }, this.rawErrors, this.raw);
    this.toggleButton = h("button", {
      type: "button",
      class: "btn btn-small btn-quiet editor-toggle",
      title: "Switch between the form and raw JSON (Alt+J)",
      on: { click: () => this.toggle() },
    });
    this.message = h("span", { class: "editor-message", role: "status" });
    const bar = h("div", { class: "editor-bar" }, this.message, this.form ? this.toggleButton : null);
    this.el = h("div", { class: "json-editor" }, bar, this.form ? this.form.el : null, this.rawPane);
    this.render();
  }

  render() {
    if (this.form) this.form.el.hidden = this.mode !== "form";
    this.rawPane.hidden = this.mode !== "raw";
    this.toggleButton.textContent = this.mode === "form" ? "Raw JSON" : "Form";
    this.message.textContent = this.mode === "raw" && this.form ? "Editing raw JSON" : "";
  }

  /** Form to raw JSON and back; false if the JSON could not be read into the form. */
  toggle() {
    if (!this.form) return false;
    if (this.mode === "form") {
      const value = this.form.snapshot();
      this.raw.value = JSON.stringify(value === undefined ? {} : value, null, 2);
      this.mode = "raw";
    } else {
      let value;
      try {
        value = JSON.parse(this.raw.value || "{}");
      } catch (error) {
        this.showRawErrors([`The JSON cannot be read into the form: ${error.message}`]);
        return false;
      }
      this.form.setValue(value);
      this.mode = "form";
    }
    this.render();
    this.focus();
    this.onChange();
    return true;
  }

  focus() {
    if (this.mode === "form" && this.form && this.form.focus()) return true;
    if (this.mode === "raw") {
      this.raw.focus();
      return true;
    }
    return false;
  }

  /** {value, errors}; errors are [{path, message}]. */
  getValue() {
    if (this.mode === "form") return this.form.getValue();
    let value;
    try {
      value = JSON.parse(this.raw.value);
    } catch (error) {
      return { value: undefined, errors: [{ path: [], message: `is not valid JSON (${error.message})` }] };
    }
    if (!this.schema) {
      return isObject(value) ? { value, errors: [] } : { value, errors: [{ path: [], message: "must be a JSON object" }] };
    }
    return { value, errors: validate(this.schema, this.schema, value) };
  }

  /** Validate and show what is wrong; true if the value can be sent. */
  check() {
    if (this.mode === "form") {
      const ok = this.form.check();
      if (!ok) this.form.focusFirstInvalid();
      return ok;
    }
    const { errors } = this.getValue();
    this.showRawErrors(errors.map((e) => `${pathText(e.path) || "answer"} ${e.message}`));
    return errors.length === 0;
  }

  showRawErrors(messages) {
    replace(this.rawErrors);
    this.rawErrors.hidden = messages.length === 0;
    if (!messages.length) return;
    append(this.rawErrors, [
      h("strong", { text: `${messages.length} problem${messages.length === 1 ? "" : "s"} to fix before sending:` }),
      h("ul", {}, messages.map((m) => h("li", { text: m }))),
    ]);
  }

  clearRawErrors() {
    if (!this.rawErrors.hidden) this.showRawErrors([]);
  }

  /** The draft as plain data, for sessionStorage. */
  snapshot() {
    if (this.mode === "raw") return { mode: "raw", raw: this.raw.value };
    return { mode: "form", value: this.form.snapshot() };
  }

  restore(snapshot) {
    if (!snapshot) return;
    if (snapshot.mode === "raw" || !this.form) {
      this.raw.value = typeof snapshot.raw === "string" ? snapshot.raw
        : snapshot.value === undefined ? "" : JSON.stringify(snapshot.value, null, 2);
      this.mode = "raw";
    } else if (snapshot.value !== undefined) {
      this.form.setValue(snapshot.value);
      this.mode = "form";
    }
    this.render();
  }

  /** Text of the draft, for `typing` frames (handle time and a colleague's draft). */
  draftText() {
    if (this.mode === "raw") return this.raw.value;
    const value = this.form.snapshot();
    return value === undefined ? "" : JSON.stringify(value);
  }
}
