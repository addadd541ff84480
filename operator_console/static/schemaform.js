// A form generated from a JSON schema: the operator fills fields instead of
// typing JSON. Used for structured outputs (response_format json_schema) and
// for tool-call arguments (a tool's `parameters`).
//
// Every field is a node {el, read(ctx), write(value), focus()}; read returns
// the value or MISSING (leave the key out) and records input problems in
// ctx.errors. Labels, hints and enum values come from the app's schema, so they
// are untrusted text and go in through textContent like everything else.

import { append, h, replace } from "./dom.js";
import { deepEqual, describe, pathText, schemaLabel, validate } from "./schema.js";

export const MISSING = Symbol("missing");
const MAX_DEPTH = 16;

const FORMAT_HINTS = {
  "date-time": "YYYY-MM-DDThh:mm:ssZ",
  date: "YYYY-MM-DD",
  time: "hh:mm:ss",
  email: "name@example.org",
  uri: "https://…",
};

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export class SchemaForm {
  /**
   * schema: the JSON schema (also the root for $refs).
   * options.onChange(): called on every edit.
   * options.idPrefix: unique prefix for element ids.
   * options.emptyMeansNoArguments: an empty schema is "no fields" (tools).
   */
  constructor(schema, options = {}) {
    this.schema = isObject(schema) ? schema : {};
    this.root = this.schema;
    this.onChange = options.onChange || (() => {});
    this.idPrefix = options.idPrefix || "f";
    this.counter = 0;
    this.fields = new Map();
    this.validated = false;
    this.summary = h("div", { class: "form-summary", role: "alert", hidden: true });
    const empty = Object.keys(this.schema).length === 0
      || (this.schema.type === "object" && !Object.keys(this.schema.properties || {}).length
        && !isObject(this.schema.additionalProperties));
    if (empty && options.emptyMeansNoArguments) {
      this.node = {
        el: h("p", { class: "muted", text: "No arguments." }),
        read: () => ({}),
        write: () => {},
        focus: () => false,
      };
    } else {
      this.node = this.build(this.schema, [], { required: true, label: null, depth: 0 });
    }
    this.el = h("div", { class: "schema-form" }, this.summary, this.node.el);
    const changed = () => {
      if (this.validated) this.check();
      this.onChange();
    };
    this.el.addEventListener("input", changed);
    this.el.addEventListener("change", changed);
  }

  /** {value, errors}: the value to send, and what is wrong with it. */
  getValue() {
    const ctx = { errors: [], lenient: false };
    let value = this.node.read(ctx);
    if (value === MISSING) value = undefined;
    const errors = [...ctx.errors];
    if (value !== undefined && !ctx.errors.length) {
      for (const e of validate(this.schema, this.root, value)) {
        if (!errors.some((x) => pathText(x.path) === pathText(e.path) && x.message === e.message)) {
          errors.push(e);
        }
      }
    }
    if (value === undefined && !errors.length) errors.push({ path: [], message: "is required" });
    return { value, errors };
  }

  /** Validate and show problems next to their fields; true if none. */
  check() {
    this.validated = true;
    const { errors } = this.getValue();
    this.showErrors(errors);
    return errors.length === 0;
  }

  /** The current value as far as it goes, for drafts; undefined if nothing. */
  snapshot() {
    const value = this.node.read({ errors: [], lenient: true });
    return value === MISSING ? undefined : value;
  }

  setValue(value) {
    this.node.write(value);
    if (this.validated) this.check();
  }

  focus() {
    return this.node.focus();
  }

  showErrors(errors) {
    for (const field of this.fields.values()) {
      field.row.classList.remove("invalid");
      field.error.hidden = true;
      field.error.textContent = "";
    }
    replace(this.summary);
    this.summary.hidden = errors.length === 0;
    if (!errors.length) return;
    const where = new Map();
    for (const error of errors) {
      let path = [...error.path];
      while (path.length && !this.fields.has(pathText(path))) path = path.slice(0, -1);
      const field = this.fields.get(pathText(path));
      if (!field) continue;
      const what = pathText(error.path) === pathText(path) ? error.message
        : `${pathText(error.path.slice(path.length)) || "value"} ${error.message}`;
      if (!where.has(field)) where.set(field, []);
      where.get(field).push(what);
    }
    for (const [field, messages] of where) {
      field.row.classList.add("invalid");
      field.error.textContent = messages.join("; ");
      field.error.hidden = false;
    }
    const count = errors.length;
    append(this.summary, [
      h("strong", { text: `${count} problem${count === 1 ? "" : "s"} to fix before sending:` }),
      h("ul", {}, errors.map((e) => h("li", {}, h("code", { text: pathText(e.path) || "answer" }), ` ${e.message}`))),
    ]);
  }

  /** Focus the first field with a problem. */
  focusFirstInvalid() {
    const row = this.el.querySelector(".invalid");
    const control = row && row.querySelector("input, select, textarea");
    if (control) control.focus();
  }

  // -- building ------------------------------------------------------------

  nextId() {
    this.counter += 1;
    return `${this.idPrefix}-${this.counter}`;
  }

  register(path, row, error) {
    this.fields.set(pathText(path), { row, error });
  }

  forget(path) {
    const prefix = pathText(path);
    for (const key of [...this.fields.keys()]) {
      if (key !== prefix && (key.startsWith(`${prefix}[`) || key.startsWith(`${prefix}.`) || prefix === "")) {
        this.fields.delete(key);
      }
    }
  }

  build(schema, path, opts) {
    const d = opts.depth > MAX_DEPTH ? { kind: "any", nullable: true, schema: {} } : describe(schema, this.root);
    switch (d.kind) {
      case "object":
        return Object.keys(d.schema.properties || {}).length ? this.objectNode(d, path, opts) : this.jsonNode(d, path, opts);
      case "array":
        return isObject(d.schema.items) || d.schema.items === true ? this.arrayNode(d, path, opts) : this.jsonNode(d, path, opts);
      case "string": return this.stringNode(d, path, opts);
      case "number":
      case "integer": return this.numberNode(d, path, opts);
      case "boolean": return this.booleanNode(d, path, opts);
      case "enum": return this.enumNode(d, path, opts);
      case "const": return this.constNode(d, path, opts);
      case "null": return this.constNode({ ...d, schema: { ...d.schema, const: null } }, path, opts);
      case "union": return this.unionNode(d, path, opts);
      default: return this.jsonNode(d, path, opts);
    }
  }

  /** A labelled row around one control. */
  row(path, opts, d, control, { after = false } = {}) {
    const label = h("label", { class: "field-label", htmlFor: control.id });
    if (opts.label !== null) {
      append(label, [h("span", { class: "field-name", text: opts.label })]);
      if (opts.required && !opts.item) append(label, [h("span", { class: "required", title: "required", text: "*" })]);
      const type = d.kind === "enum" ? "choice" : d.kind === "any" ? "JSON" : d.kind;
      append(label, [h("span", { class: "field-type", text: d.nullable ? `${type} or null` : type })]);
    }
    const error = h("div", { class: "field-error", role: "alert", hidden: true });
    const hint = d.schema.description ? h("div", { class: "field-hint", text: d.schema.description }) : null;
    const row = h("div", { class: `field field-${d.kind}${after ? " field-inline" : ""}` });
    if (opts.label === null) append(row, [control, hint, error]);
    else if (after) append(row, [h("div", { class: "inline-control" }, control, label), hint, error]);
    else append(row, [label, control, hint, error]);
    this.register(path, row, error);
    return row;
  }

  /** What an empty control means: null, left out, or a problem. */
  empty(ctx, d, opts, path, message = "is required") {
    if (ctx.lenient) return MISSING;
    if (d.nullable) return null;
    if (!opts.required) return MISSING;
    ctx.errors.push({ path, message });
    return MISSING;
  }

  stringNode(d, path, opts) {
    const s = d.schema;
    const input = h("textarea", {
      class: "input text-input",
      id: this.nextId(),
      rows: 1,
      spellcheck: true,
      dataset: { path: pathText(path) },
      placeholder: FORMAT_HINTS[s.format] || (Array.isArray(s.examples) && typeof s.examples[0] === "string" ? `e.g. ${s.examples[0]}` : d.nullable ? "empty = null" : ""),
    });
    return {
      el: this.row(path, opts, d, input),
      read: (ctx) => (input.value === "" ? this.empty(ctx, d, opts, path) : input.value),
      write: (v) => { input.value = typeof v === "string" ? v : ""; },
      focus: () => { input.focus(); return true; },
    };
  }

  numberNode(d, path, opts) {
    const s = d.schema;
    const integer = d.kind === "integer";
    const input = h("input", {
      class: "input number-input",
      id: this.nextId(),
      type: "number",
      step: integer ? "1" : "any",
      inputMode: integer ? "numeric" : "decimal",
      dataset: { path: pathText(path) },
      placeholder: d.nullable ? "empty = null" : "",
    });
    if (typeof s.minimum === "number") input.min = String(s.minimum);
    if (typeof s.maximum === "number") input.max = String(s.maximum);
    return {
      el: this.row(path, opts, d, input),
      read: (ctx) => {
        if (input.validity.badInput) {
          if (!ctx.lenient) ctx.errors.push({ path, message: "is not a number" });
          return MISSING;
        }
        const text = input.value.trim();
        if (text === "") return this.empty(ctx, d, opts, path);
        const n = Number(text);
        if (!Number.isFinite(n)) {
          if (!ctx.lenient) ctx.errors.push({ path, message: "is not a number" });
          return MISSING;
        }
        if (integer && !Number.isInteger(n)) {
          if (!ctx.lenient) ctx.errors.push({ path, message: "must be a whole number" });
          return ctx.lenient ? n : MISSING;
        }
        return n;
      },
      write: (v) => { input.value = typeof v === "number" ? String(v) : ""; },
      focus: () => { input.focus(); return true; },
    };
  }

  booleanNode(d, path, opts) {
    if (!d.nullable && opts.required) {
      const box = h("input", { type: "checkbox", id: this.nextId(), class: "checkbox", dataset: { path: pathText(path) } });
      return {
        el: this.row(path, opts, d, box, { after: opts.label !== null }),
        read: () => box.checked,
        write: (v) => { box.checked = v === true; },
        focus: () => { box.focus(); return true; },
      };
    }
    return this.choiceNode(d, path, opts, [true, false]);
  }

  enumNode(d, path, opts) {
    return this.choiceNode(d, path, opts, d.schema.enum);
  }

  choiceNode(d, path, opts, values) {
    const none = d.nullable ? "null" : opts.required ? "Choose…" : "(leave out)";
    const select = h("select", { class: "input select", id: this.nextId(), dataset: { path: pathText(path) } },
      h("option", { value: "", text: none }),
      values.map((v, i) => h("option", { value: String(i), text: typeof v === "string" ? v : JSON.stringify(v) })));
    return {
      el: this.row(path, opts, d, select),
      read: (ctx) => (select.value === "" ? this.empty(ctx, d, opts, path, "choose one") : values[Number(select.value)]),
      write: (v) => {
        const i = values.findIndex((x) => deepEqual(x, v));
        select.value = i >= 0 ? String(i) : "";
      },
      focus: () => { select.focus(); return true; },
    };
  }

  constNode(d, path, opts) {
    const shown = h("code", { class: "const-value", id: this.nextId(), text: JSON.stringify(d.schema.const) });
    return {
      el: this.row(path, opts, d, shown),
      read: () => d.schema.const,
      write: () => {},
      focus: () => false,
    };
  }

  jsonNode(d, path, opts) {
    const area = h("textarea", {
      class: "input json-input",
      id: this.nextId(),
      rows: 3,
      spellcheck: false,
      dataset: { path: pathText(path) },
      placeholder: d.kind === "object" ? "{ }" : d.kind === "array" ? "[ ]" : "any JSON value",
    });
    return {
      el: this.row(path, opts, { ...d, kind: "any" }, area),
      read: (ctx) => {
        if (area.value.trim() === "") return this.empty(ctx, d, opts, path);
        try {
          return JSON.parse(area.value);
        } catch (error) {
          if (!ctx.lenient) ctx.errors.push({ path, message: `is not valid JSON (${error.message})` });
          return MISSING;
        }
      },
      write: (v) => { area.value = v === undefined || v === MISSING ? "" : JSON.stringify(v, null, 2); },
      focus: () => { area.focus(); return true; },
    };
  }

  /** Optional and nullable groups get a switch to leave them out. */
  groupToggle(d, opts) {
    if (opts.required && !d.nullable) return null;
    const box = h("input", { type: "checkbox", class: "checkbox", id: this.nextId() });
    const label = h("label", { class: "group-toggle", htmlFor: box.id, text: d.nullable ? "null" : "leave out" });
    return { box, el: h("span", { class: "group-toggle-wrap" }, box, label) };
  }

  legend(path, opts, d, toggle) {
    const legend = h("legend", { class: "group-legend" });
    if (opts.label !== null) {
      append(legend, [h("span", { class: "field-name", text: opts.label })]);
      if (opts.required && !opts.item) append(legend, [h("span", { class: "required", title: "required", text: "*" })]);
      append(legend, [h("span", { class: "field-type", text: d.kind === "array" ? "list" : "object" })]);
    }
    if (toggle) append(legend, [toggle.el]);
    return legend;
  }

  objectNode(d, path, opts) {
    const s = d.schema;
    const required = new Set(Array.isArray(s.required) ? s.required : []);
    const toggle = this.groupToggle(d, opts);
    const body = h("div", { class: "group-body" });
    const children = Object.entries(s.properties).map(([key, child]) => {
      const node = this.build(child, [...path, key], { required: required.has(key), label: key, depth: opts.depth + 1 });
      body.append(node.el);
      return [key, node];
    });
    const error = h("div", { class: "field-error", role: "alert", hidden: true });
    const hint = s.description ? h("div", { class: "field-hint", text: s.description }) : null;
    const el = opts.label === null && !toggle
      ? h("div", { class: "group group-root" }, hint, error, body)
      : h("fieldset", { class: "group" }, this.legend(path, opts, d, toggle), hint, error, body);
    this.register(path, el, error);
    const off = () => toggle !== null && toggle.box.checked;
    if (toggle) {
      toggle.box.checked = true; // optional and nullable groups start left out
      body.hidden = off();
      toggle.box.addEventListener("change", () => { body.hidden = off(); });
    }
    return {
      el,
      read: (ctx) => {
        if (off()) return d.nullable ? null : MISSING;
        const out = {};
        for (const [key, node] of children) {
          const v = node.read(ctx);
          if (v !== MISSING) out[key] = v;
        }
        return out;
      },
      write: (v) => {
        if (toggle) {
          toggle.box.checked = v === null || v === undefined || v === MISSING;
          body.hidden = off();
        }
        for (const [key, node] of children) node.write(isObject(v) ? v[key] : undefined);
      },
      focus: () => children.some(([, node]) => node.focus()),
    };
  }

  arrayNode(d, path, opts) {
    const s = d.schema;
    const toggle = this.groupToggle({ ...d, nullable: d.nullable }, { ...opts, required: true });
    const list = h("ol", { class: "array-items" });
    const addButton = h("button", { type: "button", class: "btn btn-small", text: "+ Add item", dataset: { path: pathText(path) } });
    const body = h("div", { class: "group-body" }, list, addButton);
    const error = h("div", { class: "field-error", role: "alert", hidden: true });
    const hint = s.description ? h("div", { class: "field-hint", text: s.description }) : null;
    const el = opts.label === null && !toggle
      ? h("div", { class: "group group-root" }, hint, error, body)
      : h("fieldset", { class: "group group-array" }, this.legend(path, opts, d, toggle), hint, error, body);
    this.register(path, el, error);
    let items = [];
    const max = typeof s.maxItems === "number" ? s.maxItems : Infinity;

    const render = (values) => {
      this.forget(path);
      this.register(path, el, error);
      replace(list);
      items = values.map((value, i) => {
        const node = this.build(s.items, [...path, i], { required: true, item: true, label: `${i + 1}`, depth: opts.depth + 1 });
        if (value !== MISSING && value !== undefined) node.write(value);
        const remove = h("button", {
          type: "button",
          class: "btn btn-small btn-quiet remove-item",
          text: "Remove",
          "aria-label": `Remove item ${i + 1}`,
          on: { click: () => { render(current().filter((_, j) => j !== i)); this.onChange(); addButton.focus(); } },
        });
        list.append(h("li", { class: "array-item" }, node.el, remove));
        return node;
      });
      addButton.disabled = items.length >= max;
    };
    const current = () => items.map((node) => node.read({ errors: [], lenient: true }));
    addButton.addEventListener("click", () => {
      render([...current(), MISSING]);
      items[items.length - 1].focus();
      this.onChange();
    });
    render(Array.from({ length: typeof s.minItems === "number" ? Math.min(s.minItems, 50) : 0 }, () => MISSING));
    const off = () => toggle !== null && toggle.box.checked;
    if (toggle) {
      toggle.box.checked = false;
      toggle.box.addEventListener("change", () => { body.hidden = off(); });
    }
    return {
      el,
      read: (ctx) => {
        if (off()) return null;
        const out = [];
        for (const node of items) {
          const v = node.read(ctx);
          if (v !== MISSING) out.push(v);
        }
        if (!out.length && !opts.required && !ctx.lenient) return MISSING;
        return out;
      },
      write: (v) => {
        if (toggle) toggle.box.checked = v === null;
        body.hidden = off();
        render(Array.isArray(v) ? v : []);
      },
      focus: () => (items.length ? items[0].focus() : (addButton.focus(), true)),
    };
  }

  unionNode(d, path, opts) {
    const variants = d.variants;
    const select = h("select", { class: "input select variant-select", id: this.nextId(), dataset: { path: `${pathText(path)}#variant` } },
      d.nullable ? h("option", { value: "", text: "null" }) : null,
      variants.map((v, i) => h("option", { value: String(i), text: schemaLabel(v, this.root) })));
    const holder = h("div", { class: "variant-body" });
    let node = null;
    const show = (value) => {
      this.forget(path);
      replace(holder);
      node = null;
      if (select.value !== "") {
        node = this.build(variants[Number(select.value)], path, { required: true, label: null, depth: opts.depth + 1 });
        if (value !== undefined) node.write(value);
        holder.append(node.el);
      }
      this.register(path, row, error);
    };
    const error = h("div", { class: "field-error", role: "alert", hidden: true });
    const label = opts.label === null ? null : h("label", { class: "field-label", htmlFor: select.id },
      h("span", { class: "field-name", text: opts.label }),
      opts.required ? h("span", { class: "required", text: "*" }) : null,
      h("span", { class: "field-type", text: "one of" }));
    const hint = d.schema.description ? h("div", { class: "field-hint", text: d.schema.description }) : null;
    const row = h("div", { class: "field field-union" }, label, select, hint, error, holder);
    select.addEventListener("change", () => show(undefined));
    show(undefined);
    return {
      el: row,
      read: (ctx) => (node === null ? (d.nullable ? null : MISSING) : node.read(ctx)),
      write: (v) => {
        if (v === null && d.nullable) {
          select.value = "";
          show(undefined);
          return;
        }
        const i = variants.findIndex((variant) => validate(variant, this.root, v).length === 0);
        select.value = String(i >= 0 ? i : 0);
        show(v);
      },
      focus: () => { select.focus(); return true; },
    };
  }
}
