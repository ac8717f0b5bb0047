// The Backprop view: pick a data point, see its loss's computation graph, step through backward,
// and drag the sample's inputs to watch every node's data and grad change.
import { canvasPosition, drawMap, drawPoints, fmt, nearestPoint, projection } from "./draw.js";
import { GraphStepper } from "./graph.js";

const $ = (id) => document.getElementById(id);

export class BackpropView {
  constructor(connection) {
    this.connection = connection;
    this.state = null;
    this.sample = null;     // the last sample reply
    this.dragging = false;
    this.asked = false;     // a sample was asked for since the last state: do not ask again
    this.stepper = new GraphStepper("bp");

    connection.on("state", (m) => {
      const before = this.state;
      this.state = m;
      this.sample = null;  // new data or a new network: choose a point again
      this.asked = false;
      $("bp-refresh").disabled = true;
      $("bp-why-zero").hidden = true;
      if (before && (before.version !== m.version || JSON.stringify([before.X, before.y]) !== JSON.stringify([m.X, m.y]))) {
        // The graph, its steps and the arrow keys would all be of the old network or data.
        this.stepper.clear("The network or the data changed: click a point to draw its graph again.");
        $("bp-info").textContent = "No sample chosen yet.";
      }
      this.setRanges();
      this.draw();
      if (this.visible()) this.askForTeachingSample();
    });
    connection.on("update", (m) => { if (this.state) { this.state.boundary = m.boundary; if (this.visible()) this.draw(); } });
    connection.on("sample", (m) => this.onSample(m));

    const map = $("bp-map");
    map.addEventListener("mousedown", (event) => this.press(event));
    map.addEventListener("mousemove", (event) => { if (this.dragging) this.moveTo(event); });
    window.addEventListener("mouseup", () => { this.dragging = false; });
    ["bp-x0", "bp-x1"].forEach((id) => $(id).addEventListener("input", () => {
      if (this.sample) this.requestInputs([Number($("bp-x0").value), Number($("bp-x1").value)]);
    }));
    $("bp-refresh").addEventListener("click", () => {
      if (this.sample) this.ask(this.sample.index);
    });
    $("bp-teach").addEventListener("click", () => this.ask(null));
    $("bp-expand").addEventListener("change", () => { if (this.sample) this.ask(this.sample.index); });
  }

  // index null: the server picks the point with the largest loss (a hinge loss is 0 on most
  // points of a trained model, and stepping through one of those adds 0 at every step).
  ask(index) {
    this.asked = true;
    this.connection.send({ type: "sample", index, expand: $("bp-expand").checked });
  }

  askForTeachingSample() {
    if (!this.sample && !this.asked && this.state && this.state.X.length) this.ask(null);
  }

  visible() { return $("view-backprop").classList.contains("active"); }
  shown() { this.draw(); this.stepper.shown(); this.askForTeachingSample(); }

  setRanges() {
    if (!this.state) return;
    const [xmin, xmax, ymin, ymax] = this.state.bounds;
    Object.assign($("bp-x0"), { min: xmin, max: xmax });
    Object.assign($("bp-x1"), { min: ymin, max: ymax });
  }

  press(event) {
    if (!this.state) return;
    const canvas = $("bp-map");
    const [px, py] = canvasPosition(canvas, event);
    if (this.sample) {  // grab the ringed sample to drag it
      const [sx, sy] = projection(canvas, this.state.bounds).toPixel(...this.sample.x);
      if ((sx - px) ** 2 + (sy - py) ** 2 < 15 ** 2) { this.dragging = true; return; }
    }
    const index = nearestPoint(canvas, this.state.bounds, this.state.X, px, py);
    if (index >= 0) this.ask(index);
  }

  moveTo(event) {
    const canvas = $("bp-map");
    const [px, py] = canvasPosition(canvas, event);
    this.requestInputs(projection(canvas, this.state.bounds).toData(px, py));
  }

  requestInputs(x) {
    this.connection.sendLatest({ type: "sample", index: this.sample.index, x, expand: $("bp-expand").checked });
  }

  onSample(m) {
    this.sample = m;
    $("bp-refresh").disabled = false;
    $("bp-x0").value = m.x[0]; $("bp-x1").value = m.x[1];
    $("bp-x0-value").textContent = fmt(m.x[0], 3);
    $("bp-x1-value").textContent = fmt(m.x[1], 3);
    const rootData = m.data[m.root].replace("data ", "");
    const label = this.state && this.state.regression ? `target ${fmt(m.label)}` : `class ${m.label}`;
    $("bp-info").textContent = `point ${m.index}, ${label}: the network outputs ${fmt(m.output)}, ` +
      `${m.loss_name} loss ${rootData}. ${m.grouping === "collapse" ? "(A big network: one box per neuron; tick \"draw every value\" to see inside.)" : ""}`;
    $("bp-why-zero").hidden = !m.why_zero;
    $("bp-why-zero").textContent = m.why_zero || "";
    this.stepper.show(m);
    this.draw();
  }

  draw() {
    if (!this.state) return;
    const canvas = $("bp-map");
    drawMap(canvas, this.state.boundary);
    drawPoints(canvas, this.state.bounds, this.state.X, this.state.y,
      { radius: 3.5, ring: this.sample ? this.sample.x : null, values: this.state.regression });
  }
}
