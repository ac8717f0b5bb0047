// The Train view: data, network settings, play/pause/step/reset, and what training looks like live.
import { canvasPosition, drawAxes, drawLines, drawMap, drawPoints, fmt, projection } from "./draw.js";
import { NetworkDiagram, neuronName, parameterLabel } from "./network.js";

export { neuronName, parameterLabel };

const $ = (id) => document.getElementById(id);
const DATA_CONTROLS = ["dataset", "noise", "points", "data-seed", "test-ratio"];
const NETWORK_CONTROLS = ["hidden", "activation", "loss", "optimizer", "lr", "batch", "l2", "l1", "model-seed"];

// The whole setup in the page's address (#dataset=circles&hidden=8,8&...), so that a link
// reproduces it: each control's id, and its value as the control shows it.
const URL_CONTROLS = [...DATA_CONTROLS, ...NETWORK_CONTROLS];
const URL_CHECKS = ["discretize", "show-test", "show-thumbnails"];  // written as 1 or 0

export function setupFromUrl(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const setup = {};
  for (const id of [...URL_CONTROLS, ...URL_CHECKS, "features"]) if (params.has(id)) setup[id] = params.get(id);
  return Object.keys(setup).length ? setup : null;
}

const featureBoxes = () => [...document.querySelectorAll("#features input")];
const checkedFeatures = () => featureBoxes().filter((box) => box.checked).map((box) => box.value);
function setFeatures(names) { featureBoxes().forEach((box) => { box.checked = names.includes(box.value); }); }

// A control whose value the server refused: it shows the server's value again, marked for a while.
export function markRefused(el) {
  el.classList.add("refused");
  clearTimeout(el.refusedTimer);
  el.refusedTimer = setTimeout(() => el.classList.remove("refused"), 4000);
}

export class TrainView {
  constructor(connection) {
    this.connection = connection;
    this.state = null;
    this.version = 0;
    this.history = [];
    this.hover = null;       // {layer, neuron} while the mouse is on a neuron
    this.neuronMap = null;   // that neuron's map, once it arrived
    this.selected = null;    // the parameter name being edited
    this.diagram = new NetworkDiagram($("network"), {
      enter: (where) => { this.hover = where; this.neuronMap = null; this.requestNeuronMap(); },
      leave: () => { this.hover = null; this.neuronMap = null; this.drawBoundary(); },
      neuron: (where) => this.showEditor(`layers.${where.layer}.neurons.${where.neuron}.b`),
      edge: (name) => this.showEditor(name),
      neuronTitle: ({ layer, neuron }) => `${neuronName(layer, neuron)}: hover to see its output, click to edit its bias ${neuronName(layer, neuron)}.b`,
    });
    this.fromUrl = setupFromUrl(location.hash);  // applied once the first state arrived

    connection.on("state", (m) => this.onState(m));
    connection.on("update", (m) => this.onUpdate(m));
    connection.on("neuron_map", (m) => this.onNeuronMap(m));
    connection.on("neuron_maps", (m) => this.onNeuronMaps(m));
    connection.on("saved", (m) => { $("save-result").textContent = "saved " + m.path; });
    connection.on("error", (m) => {
      if (m.request === "play") this.setPlaying(false);
      if (m.request === "config" || m.request === "dataset") this.restoreSettings();
      if (m.request === "set_param" && this.selected) this.showEditor(this.selected, { refused: true });
    });

    $("play").addEventListener("click", () => {
      const playing = !this.playing;
      this.setPlaying(playing);
      connection.send({ type: playing ? "play" : "pause" });
    });
    $("step").addEventListener("click", () => connection.send({ type: "step" }));
    $("reset").addEventListener("click", () => connection.send({ type: "reset" }));
    $("new-data").addEventListener("click", () => this.sendDataset());
    $("dataset").addEventListener("change", () => {
      const noise = { moons: 0.1, circles: 0.05, xor: 0.1, spiral: 0.05, blobs: 0.5, plane: 0.1, gauss: 0.1 }[$("dataset").value];
      if (noise !== undefined) $("noise").value = noise;
      this.sendDataset();
    });
    ["noise", "points", "data-seed", "test-ratio"].forEach((id) => $(id).addEventListener("change", () => this.sendDataset()));
    $("test-ratio").addEventListener("input", () => this.showRatio());
    $("show-test").addEventListener("change", () => { this.drawBoundary(); this.writeUrl(); });
    featureBoxes().forEach((box) => box.addEventListener("change", () => this.sendConfig()));
    NETWORK_CONTROLS.forEach((id) =>
      $(id).addEventListener("change", () => this.sendConfig()));
    $("clear-points").addEventListener("click", () => connection.send({ type: "clear_points" }));
    $("boundary").addEventListener("click", (event) => this.addPoint(event));
    $("save").addEventListener("click", () => connection.send({ type: "save", name: $("save-name").value.trim() }));
    $("discretize").addEventListener("change", () => { this.drawBoundary(); this.writeUrl(); });
    $("show-thumbnails").addEventListener("change", () => { this.placeThumbnails(); this.requestThumbnails(); this.writeUrl(); });
    $("weight-range").addEventListener("input", () => this.setParam(Number($("weight-range").value)));
    $("weight-value").addEventListener("change", () => this.setParam(Number($("weight-value").value)));
  }

  shown() { this.draw(); }

  setPlaying(playing) {
    this.playing = playing;
    $("play").textContent = playing ? "❚❚ pause" : "▶ play";
  }

  sendDataset() {
    this.connection.sendLatest({
      type: "dataset", name: $("dataset").value, noise: Number($("noise").value),
      points: Number($("points").value), seed: Number($("data-seed").value), test_ratio: Number($("test-ratio").value),
    });
  }

  showRatio() { $("test-ratio-value").textContent = `${Math.round(100 * Number($("test-ratio").value))}%`; }

  // Per point: is it held out for testing?
  testMask() {
    const mask = new Array(this.state.X.length).fill(false);
    this.state.test.forEach((i) => { mask[i] = true; });
    return mask;
  }

  sendConfig() {
    const text = $("hidden").value.trim();
    const hidden = text === "" ? [] : text.split(/[\s,]+/).filter((s) => s !== "").map(Number);
    const batch = $("batch").value.trim();
    this.connection.sendLatest({
      type: "config", hidden, activation: $("activation").value, loss: $("loss").value,
      optimizer: $("optimizer").value, lr: Number($("lr").value), batch_size: batch === "" ? null : Number(batch),
      l2: Number($("l2").value), l1: Number($("l1").value), seed: Number($("model-seed").value), features: checkedFeatures(),
    });
  }

  addPoint(event) {
    if (!this.state) return;
    const [px, py] = canvasPosition($("boundary"), event);
    const [x, y] = projection($("boundary"), this.state.bounds).toData(px, py);
    const label = Number(document.querySelector("input[name=add-class]:checked").value);
    this.connection.send({ type: "add_point", x, y, label });
  }

  // -- messages from the server --------------------------------------------------------------------

  onState(m) {
    this.state = m;
    this.version = m.version;
    this.history = m.history.slice();
    this.setPlaying(m.playing);
    this.showSettings(m);
    $("save-box").hidden = !m.can_save;
    this.applyFrame(m);
    if (this.fromUrl) this.applyUrlSetup();
    else this.writeUrl();
  }

  // The address's setup, sent as if typed into the controls: the server checks it like any.
  applyUrlSetup() {
    const setup = this.fromUrl;
    this.fromUrl = null;
    for (const [id, value] of Object.entries(setup)) {
      if (id === "features") setFeatures(value.split(","));
      else if (URL_CHECKS.includes(id)) $(id).checked = value === "1";
      else $(id).value = value;
    }
    if (DATA_CONTROLS.some((id) => id in setup)) this.sendDataset();
    if ([...NETWORK_CONTROLS, "features"].some((id) => id in setup)) this.sendConfig();
    this.drawBoundary();
  }

  writeUrl() {
    const params = new URLSearchParams();
    URL_CONTROLS.forEach((id) => params.set(id, $(id).value.replace(/\s+/g, "")));
    URL_CHECKS.forEach((id) => params.set(id, $(id).checked ? "1" : "0"));
    params.set("features", checkedFeatures().join(","));
    history.replaceState(null, "", "#" + params.toString().replace(/%2C/g, ","));
  }

  // The data and network controls as the server has them.
  showSettings(m) {
    const d = m.dataset, c = m.config;
    $("dataset").value = d.name;
    $("dataset").querySelector("option[value=yours]").hidden = d.name !== "yours";
    $("noise").value = d.noise; $("points").value = d.points; $("data-seed").value = d.seed;
    $("test-ratio").value = d.test_ratio; this.showRatio();
    $("hidden").value = c.hidden.join(", "); $("activation").value = c.activation; $("loss").value = c.loss;
    $("optimizer").value = c.optimizer; $("lr").value = c.lr; $("batch").value = c.batch_size === null ? "" : c.batch_size;
    $("l2").value = c.l2; $("l1").value = c.l1; $("model-seed").value = c.seed; setFeatures(c.features);
  }

  // A refused setting: every control goes back to the server's value; those that moved are marked.
  restoreSettings() {
    if (!this.state) return;
    const ids = [...DATA_CONTROLS, ...NETWORK_CONTROLS];
    const typed = ids.map((id) => $(id).value);
    this.showSettings(this.state);
    ids.forEach((id, i) => { if ($(id).value !== typed[i]) markRefused($(id)); });
  }

  onUpdate(m) {
    if (m.version < this.version || !this.state) return;  // a frame of a network since replaced
    this.history.push(...m.new_history);
    this.setPlaying(m.playing);
    this.applyFrame(m);
  }

  applyFrame(m) {
    this.state.network = m.network;
    this.state.boundary = m.boundary;
    $("stat-step").textContent = m.steps;
    $("stat-epoch").textContent = m.epoch;
    $("stat-loss").textContent = fmt(m.loss);
    const percent = (a) => (a === null || a === undefined ? "–" : `${(100 * a).toFixed(1)}%`);
    $("stat-accuracy").textContent = percent(m.accuracy);
    $("test-stats").hidden = !this.state.test.length;
    $("stat-test-loss").textContent = fmt(m.test_loss);
    $("stat-test-accuracy").textContent = percent(m.test_accuracy);
    if (this.hover) this.requestNeuronMap();
    this.draw();
    this.requestThumbnails();
  }

  // -- every neuron's thumbnail, drawn over its circle --------------------------------------------------

  requestThumbnails() {
    if ($("show-thumbnails").checked && this.state) this.connection.sendLatest({ type: "neuron_maps" });
  }

  placeThumbnails() {
    const box = $("thumbnails");
    box.replaceChildren();
    this.thumbnails = null;
    const { centres, thumbnailSize: size } = this.diagram;
    if (!$("show-thumbnails").checked || !centres) return;
    this.thumbnails = centres.map((layer) => layer.map(([x, y]) => {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = size;
      Object.assign(canvas.style, { left: `${x - size / 2}px`, top: `${y - size / 2}px` });
      box.append(canvas);
      return canvas;
    }));
  }

  onNeuronMaps(m) {
    if (m.version !== this.version || !this.thumbnails || m.maps.length !== this.thumbnails.length) return;
    m.maps.forEach((layer, l) => layer.forEach((values, j) => {
      const canvas = this.thumbnails[l][j];
      if (canvas) drawMap(canvas, { size: m.size, values }, { strong: true });
    }));
  }

  onNeuronMap(m) {
    if (this.hover && this.hover.layer === m.layer && this.hover.neuron === m.neuron) {
      this.neuronMap = m;
      this.drawBoundary();
    }
  }

  // -- drawing ---------------------------------------------------------------------------------------

  draw() {
    if (!this.state) return;
    this.drawBoundary();
    this.drawNetwork();
    this.drawCurves();
  }

  drawBoundary() {
    const canvas = $("boundary"), s = this.state;
    const showNeuron = this.hover && this.neuronMap;
    drawMap(canvas, showNeuron ? this.neuronMap : s.boundary, { discrete: !showNeuron && $("discretize").checked });
    drawPoints(canvas, s.bounds, s.X, s.y, { test: this.testMask(), showTest: $("show-test").checked, values: s.regression });
    this.ticks = drawAxes(canvas, s.bounds);
    $("boundary-caption").textContent = showNeuron
      ? `${neuronName(this.hover.layer, this.hover.neuron)}: this neuron's own output over the plane (blue positive, orange negative)`
      : s.regression ? "the model's output over the plane: blue positive, orange negative (points coloured by their value)"
        : "decision boundary: blue where the model says class 1, orange class 0; click to add a point";
  }

  drawCurves() {
    const steps = this.history.map((h) => h[0]);
    const test = this.state.test.length > 0;
    const series = (k, colour) => [{ xs: steps, ys: this.history.map((h) => h[k]), colour },
      ...(test ? [{ xs: steps, ys: this.history.map((h) => (h[k + 2] === undefined ? null : h[k + 2])), colour: "#868e96" }] : [])];
    drawLines($("loss-plot"), series(1, "#5f3dc4"), { yMin: 0, title: test ? "loss (grey: test)" : "loss" });
    drawLines($("accuracy-plot"), series(2, "#2b8a3e"), { yMin: 0, yMax: 1, title: test ? "accuracy (grey: test)" : "accuracy" });
  }

  drawNetwork() {
    if (this.diagram.draw(this.state.network, this.state.config.features)) {
      this.selected = null;
      $("weight-editor").hidden = true;
      this.placeThumbnails();
    }
    if (this.selected) this.showEditor(this.selected);
  }

  requestNeuronMap() {
    this.connection.sendLatest({ type: "neuron_map", layer: this.hover.layer, neuron: this.hover.neuron });
  }

  // -- editing one weight or bias ---------------------------------------------------------------------

  valueOf(name) {
    const parts = name.split(".");  // layers.L.neurons.J.w.I  or  layers.L.neurons.J.b
    const layer = this.state.network.layers[Number(parts[1])];
    return parts[4] === "b" ? layer.b[Number(parts[3])] : layer.w[Number(parts[3])][Number(parts[5])];
  }

  // `refused`: the server refused the typed value; show its own, marked, even in a focused input.
  showEditor(name, { refused = false } = {}) {
    if (this.selected !== name) this.diagram.select(name);
    this.selected = name;
    const value = this.valueOf(name);
    $("weight-editor").hidden = false;
    $("weight-name").textContent = parameterLabel(name);
    $("weight-name").title = `state_dict() key: ${name}`;
    const range = $("weight-range");
    if (refused || document.activeElement !== range) {
      const reach = Math.max(3, Math.ceil(Math.abs(value)));
      range.min = -reach; range.max = reach; range.value = value;
    }
    if (refused || document.activeElement !== $("weight-value")) $("weight-value").value = fmt(value, 4);
    if (refused) { markRefused($("weight-value")); markRefused(range); }
  }

  setParam(value) {
    if (!this.selected || !isFinite(value)) return;
    this.connection.sendLatest({ type: "set_param", name: this.selected, value });
  }
}
