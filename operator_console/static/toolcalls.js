// Answering with tool calls: the operator picks one of the app's tools and
// fills its arguments in a form generated from the tool's `parameters`
// schema. Honours tool_choice (a named tool only) and parallel_tool_calls
// (one call at most).

import { h, replace } from "./dom.js";
import { JsonEditor } from "./jsoneditor.js";

export class ToolCallsEditor {
  /** task: the task view; options.onChange(), options.idPrefix. */
  constructor(task, options = {}) {
    const choice = task.tool_choice || { mode: "auto" };
    this.required = choice.mode === "required" || choice.mode === "named";
    this.max = task.parallel_tool_calls === false ? 1 : Infinity;
    this.tools = (task.tools || []).filter((t) => choice.mode !== "named" || t.name === choice.name);
    this.onChange = options.onChange || (() => {});
    this.idPrefix = options.idPrefix || "tool";
    this.calls = [];
    this.made = 0;
    this.list = h("ol", { class: "tool-calls" });
    this.addButton = h("button", {
      type: "button", class: "btn btn-small", text: "+ Add tool call",
      on: { click: () => { this.focusCall(this.add()); this.onChange(); } },
    });
    const rule = choice.mode === "required" ? "The app requires at least one tool call; a text answer is not allowed."
      : choice.mode === "named" ? `The app requires a call to ${choice.name}.`
        : "Answer with one or more tool calls instead of text, if that is what the app should do.";
    this.el = h("div", { class: "tool-calls-editor" },
      h("p", { class: "pane-note", text: this.max === 1 ? `${rule} One call at most.` : rule }),
      this.list, this.addButton);
    if (this.required) this.add();
  }

  /** A new, empty call (or one restored from a draft). */
  add(saved) {
    this.made += 1;
    const prefix = `${this.idPrefix}-${this.made}`;
    const call = { name: "", editor: null };
    const holder = h("div", { class: "tool-form" });
    const description = h("div", { class: "field-hint" });
    const select = h("select", { class: "input select tool-select", "aria-label": "Tool" },
      h("option", { value: "", text: "Choose a tool…" }),
      this.tools.map((t) => h("option", { value: t.name, text: t.name })));
    const choose = (name, snapshot) => {
      call.name = name;
      select.value = name;
      const tool = this.tools.find((t) => t.name === name);
      description.textContent = tool && tool.description ? tool.description : "";
      call.editor = tool ? new JsonEditor(tool.parameters || {}, {
        onChange: this.onChange, idPrefix: prefix, emptyMeansNoArguments: true,
      }) : null;
      if (call.editor && snapshot) call.editor.restore(snapshot);
      replace(holder, call.editor ? call.editor.el : null);
    };
    select.addEventListener("change", () => {
      choose(select.value);
      if (call.editor) call.editor.focus();
      this.onChange();
    });
    call.remove = h("button", {
      type: "button", class: "btn btn-small btn-quiet", text: "Remove",
      on: { click: () => {
        this.calls = this.calls.filter((c) => c !== call);
        call.item.remove();
        this.update();
        this.onChange();
      } },
    });
    call.select = select;
    call.item = h("li", { class: "tool-call-editor" },
      h("div", { class: "tool-call-bar" }, h("span", { class: "tool-call-label", text: "Call" }), select, call.remove),
      description, holder);
    this.calls.push(call);
    this.list.append(call.item);
    if (saved && saved.name) choose(saved.name, saved.args);
    else if (this.tools.length === 1) choose(this.tools[0].name);
    this.update();
    return call;
  }

  update() {
    this.addButton.hidden = this.calls.length >= this.max;
    for (const call of this.calls) call.remove.hidden = this.required && this.calls.length === 1;
  }

  get count() {
    return this.calls.length;
  }

  focusCall(call) {
    if (!call) return false;
    if (call.editor && call.editor.focus()) return true;
    call.select.focus();
    return true;
  }

  focus() {
    return this.focusCall(this.calls[0]);
  }

  /** Alt+J inside a call: its form or raw JSON. */
  toggleRaw() {
    const active = this.calls.find((c) => c.item.contains(document.activeElement)) || this.calls[0];
    if (active && active.editor) active.editor.toggle();
  }

  snapshot() {
    return this.calls.map((c) => ({ name: c.name, args: c.editor ? c.editor.snapshot() : null }));
  }

  restore(saved) {
    if (!Array.isArray(saved) || !saved.length) return;
    for (const call of this.calls) call.item.remove();
    this.calls = [];
    for (const call of saved) this.add(call);
  }

  /** {calls} ready for a reply frame, or {problem} to show the operator. */
  build() {
    if (!this.calls.length) return { problem: "Add a tool call first." };
    const calls = [];
    for (const call of this.calls) {
      if (!call.name || !call.editor) return { problem: "Choose a tool for every call, or remove the empty one." };
      if (!call.editor.check()) return { problem: `Fix the arguments of ${call.name}, then send again.` };
      calls.push({ name: call.name, arguments: JSON.stringify(call.editor.getValue().value) });
    }
    return { calls };
  }
}
