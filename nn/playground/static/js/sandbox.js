// The Expression sandbox: a formula, a slider per variable, its graph with data and grads, a plot
// of f and each df/dx along one variable, and the backward pass step by step.
import { SERIES_COLOURS, drawLines, fmt } from "./draw.js";
import { GraphStepper } from "./graph.js";
import { markRefused } from "./train.js";

const $ = (id) => document.getElementById(id);
const DEFAULTS = { x: 2, w: -3, b: 6.88 };  // the README's neuron, for the first formula

export class SandboxView {
  constructor(connection) {
    this.connection = connection;
    this.values = { ...DEFAULTS };
    this.accepted = {};  // the values of the last formula the server answered
    this.variables = [];
    this.stepper = new GraphStepper("sb", { startAtEnd: true });
    this.started = false;

    connection.on("formula", (m) => this.onFormula(m));
    connection.on("formula_variables", (m) => this.setVariables(m.variables, m.values));
    connection.on("error", (m) => { if (m.request === "formula") this.restoreValues(); });
    connection.on("state", () => { if (!this.started) { this.started = true; this.request(); } });

    let typing = null;
    $("formula").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => this.request(), 350); });
    $("formula").addEventListener("change", () => this.request());
    $("examples").addEventListener("change", () => {
      if ($("examples").value) { $("formula").value = $("examples").value; this.request(); }
    });
    ["plot-var", "plot-lo", "plot-hi"].forEach((id) => $(id).addEventListener("change", () => this.request()));
  }

  shown() { this.stepper.shown(); }

  request() {
    const lo = Number($("plot-lo").value), hi = Number($("plot-hi").value);
    this.connection.sendLatest({
      type: "formula", text: $("formula").value, values: this.currentValues(),
      plot: $("plot-var").value || null, range: [lo, hi],
    });
  }

  currentValues() {
    const values = {};
    for (const [name, value] of Object.entries(this.values)) if (/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(name)) values[name] = value;
    return values;
  }

  // One slider (and a box for an exact number) per variable; rebuilt when the variables change.
  setVariables(variables, values) {
    Object.assign(this.values, values);
    if (variables.join(",") === this.variables.join(",")) {
      variables.forEach((name) => this.showValue(name));
      return;
    }
    this.variables = variables;
    for (const name of Object.keys(this.values)) if (!variables.includes(name)) delete this.values[name];
    const box = $("sandbox-vars");
    box.replaceChildren();
    for (const name of variables) {
      const label = document.createElement("label");
      label.dataset.var = name;
      const title = document.createElement("span");
      title.textContent = name;
      const slider = Object.assign(document.createElement("input"), { type: "range", min: -5, max: 5, step: 0.01 });
      const number = Object.assign(document.createElement("input"), { type: "number", step: 0.1 });
      slider.addEventListener("input", () => { this.values[name] = Number(slider.value); number.value = slider.value; this.request(); });
      number.addEventListener("change", () => {
        if (number.value === "" || !isFinite(Number(number.value))) return;
        this.values[name] = Number(number.value);
        this.showValue(name);
        this.request();
      });
      label.append(title, slider, number);
      box.append(label);
      this.showValue(name);
    }
    const plotVar = $("plot-var"), chosen = plotVar.value;
    plotVar.replaceChildren(...variables.map((name) => Object.assign(document.createElement("option"), { value: name, textContent: name })));
    plotVar.value = variables.includes(chosen) ? chosen : variables[0];
  }

  // `refused`: the server refused the typed value; show the accepted one, marked, even when focused.
  showValue(name, refused = false) {
    const label = $("sandbox-vars").querySelector(`label[data-var="${name}"]`);
    if (!label) return;
    const [slider, number] = label.querySelectorAll("input");
    const value = this.values[name];
    if (refused || document.activeElement !== slider) {
      slider.min = Math.min(-5, Math.floor(value)); slider.max = Math.max(5, Math.ceil(value));
      slider.value = value;
    }
    if (refused || document.activeElement !== number) number.value = value;
    if (refused) markRefused(number);
  }

  // A refused formula or value: each variable goes back to its last accepted value. (Where f is
  // undefined, the server's formula_variables reply that follows puts the tried values back.)
  restoreValues() {
    for (const [name, value] of Object.entries(this.accepted)) {
      if (this.values[name] !== value) { this.values[name] = value; this.showValue(name, true); }
    }
  }

  onFormula(m) {
    if (m.text !== $("formula").value) return;  // an answer to a formula since edited
    this.accepted = { ...m.values };
    this.setVariables(m.variables, m.values);
    const name = m.names[m.root];
    const lines = [`${name} = ${fmt(m.output)}`];
    for (const v of m.variables) lines.push(`∂${name}/∂${v} = ${fmt(m.gradients[v])}`);
    $("sandbox-grads").textContent = lines.join("\n");
    this.stepper.show(m);
    this.plot(m, name);
  }

  plot(m, name) {
    const p = m.plot;
    const series = [{ xs: p.xs, ys: p.f, colour: SERIES_COLOURS[0], label: name, width: 2.5 }];
    m.variables.forEach((v, i) => series.push({ xs: p.xs, ys: p.grads[v], colour: SERIES_COLOURS[(i + 1) % SERIES_COLOURS.length], label: `∂${name}/∂${v}` }));
    drawLines($("sandbox-plot"), series, { marker: m.values[p.variable], title: `along ${p.variable}` });
    $("sandbox-legend").replaceChildren(...series.map((s) => {
      const span = document.createElement("span");
      span.textContent = s.label;
      span.style.setProperty("--swatch", s.colour);
      return span;
    }));
  }
}
