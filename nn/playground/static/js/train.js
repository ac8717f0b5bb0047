// The Train view: data, network settings, play/pause/step/reset, and what training looks like live.
import { CLASS_COLOURS, canvasPosition, drawAxes, drawLines, drawMap, drawPoints, fmt, projection } from "./draw.js";
import { SVG_NS } from "./graph.js";

const $ = (id) => document.getElementById(id);
const DATA_CONTROLS = ["dataset", "noise", "points", "data-seed", "test-ratio"];
const NETWORK_CONTROLS = ["hidden", "activation", "loss", "optimizer", "lr", "batch", "l2", "l1", "model-seed"];

// One name for each thing (docs/playground.md): inputs x0, x1; neuron j of layer i is Li.nj; its
// weights Li.nj.w0, ... and bias Li.nj.b, as nn labels them. The server's messages name a
// parameter by its state_dict key (layers.i.neurons.j.w.k), the same name spelled as a path.
export const neuronName = (layer, neuron) => `L${layer}.n${neuron}`;
export function parameterLabel(key) {
  const parts = key.split(".");  // layers.L.neurons.J.w.I  or  layers.L.neurons.J.b
  return neuronName(parts[1], parts[3]) + (parts[4] === "b" ? ".b" : `.w${parts[5]}`);
}

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
    this.networkKey = "";
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
    if (!$("show-thumbnails").checked || !this.centres) return;
    this.thumbnails = this.centres.map((layer) => layer.map(([x, y]) => {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = this.thumbnailSize;
      Object.assign(canvas.style, { left: `${x - this.thumbnailSize / 2}px`, top: `${y - this.thumbnailSize / 2}px` });
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

  // The network as columns of neurons; edges coloured by sign and as wide as the weight is large.
  drawNetwork() {
    const net = this.state.network;
    const svg = $("network");
    const key = net.sizes.join("-") + this.state.config.features.join();
    if (key !== this.networkKey) this.buildNetwork(net);
    let largest = 1e-9;
    net.layers.forEach((layer) => layer.w.forEach((row) => row.forEach((w) => { largest = Math.max(largest, Math.abs(w)); })));
    net.layers.forEach((layer, l) => layer.w.forEach((row, j) => row.forEach((w, i) => {
      const edge = this.edges[l][j][i];
      edge.setAttribute("stroke", w >= 0 ? CLASS_COLOURS[1] : CLASS_COLOURS[0]);
      edge.setAttribute("stroke-width", (0.4 + 4 * Math.sqrt(Math.abs(w) / largest)).toFixed(2));
      edge.setAttribute("stroke-opacity", (0.25 + 0.75 * Math.sqrt(Math.abs(w) / largest)).toFixed(2));
    })));
    net.layers.forEach((layer, l) => layer.b.forEach((b, j) => {
      this.neurons[l + 1][j].querySelector("circle").setAttribute("fill", b >= 0 ? "#e7f5ff" : "#fff4e6");
    }));
    svg.classList.toggle("dense", net.sizes.some((n) => n > 12));
    if (this.selected) this.showEditor(this.selected);
  }

  buildNetwork(net) {
    const svg = $("network");
    svg.replaceChildren();
    this.networkKey = net.sizes.join("-") + this.state.config.features.join();
    const inputs = this.state.config.features;
    const W = 440, H = 400, columns = net.sizes.length;
    const x = (c) => 30 + (c * (W - 60)) / (columns - 1);
    const y = (c, j) => { const n = net.sizes[c]; return H / 2 + (j - (n - 1) / 2) * Math.min(44, (H - 30) / n); };
    const radius = Math.max(3.5, Math.min(11, (H - 30) / Math.max(...net.sizes) / 2.6));
    const edgeLayer = document.createElementNS(SVG_NS, "g");
    const nodeLayer = document.createElementNS(SVG_NS, "g");
    svg.append(edgeLayer, nodeLayer);
    this.edges = [];
    net.layers.forEach((layer, l) => {
      this.edges.push(layer.w.map((row, j) => row.map((_, i) => {
        const name = `layers.${l}.neurons.${j}.w.${i}`;
        const line = svgElement("line", { x1: x(l), y1: y(l, i), x2: x(l + 1), y2: y(l + 1, j), class: "edge" });
        const hit = svgElement("line", { x1: x(l), y1: y(l, i), x2: x(l + 1), y2: y(l + 1, j), class: "edge-hit" });
        hit.append(svgElement("title", {}, `${parameterLabel(name)}: the weight from ${l === 0 ? inputs[i] : neuronName(l - 1, i)} into ${neuronName(l, j)}`));
        hit.addEventListener("click", () => this.showEditor(name));
        edgeLayer.append(line, hit);
        line.dataset.name = name;
        return line;
      })));
    });
    this.neurons = net.sizes.map((n, c) => Array.from({ length: n }, (_, j) => {
      const g = svgElement("g", { class: c === 0 ? "input" : "neuron" });
      g.append(svgElement("circle", { cx: x(c), cy: y(c, j), r: radius, fill: "white", stroke: "#343a40", "stroke-width": 1.2 }));
      if (c === 0) g.append(svgElement("text", { x: x(c) - radius - 4, y: y(c, j) + 4, "text-anchor": "end" }, inputs[j]));
      if (c === columns - 1) g.append(svgElement("text", { x: x(c) + radius + 4, y: y(c, j) + 4 }, "out"));
      if (c > 0) {
        const where = { layer: c - 1, neuron: j };
        g.append(svgElement("title", {}, `${neuronName(c - 1, j)}: hover to see its output, click to edit its bias ${neuronName(c - 1, j)}.b`));
        g.addEventListener("mouseenter", () => { this.hover = where; this.neuronMap = null; this.requestNeuronMap(); });
        g.addEventListener("mouseleave", () => { this.hover = null; this.neuronMap = null; this.drawBoundary(); });
        g.addEventListener("click", () => this.showEditor(`layers.${c - 1}.neurons.${j}.b`));
      }
      nodeLayer.append(g);
      return g;
    }));
    this.selected = null;
    $("weight-editor").hidden = true;
    // Where each neuron (not the inputs) is drawn, and how big its thumbnail can be.
    this.centres = net.sizes.slice(1).map((n, l) => Array.from({ length: n }, (_, j) => [x(l + 1), y(l + 1, j)]));
    this.thumbnailSize = Math.max(8, Math.round(Math.min(26, (H - 30) / Math.max(...net.sizes.slice(1)) - 2)));
    this.placeThumbnails();
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
    if (this.selected !== name) {
      $("network").querySelectorAll(".selected").forEach((el) => el.classList.remove("selected"));
      const line = $("network").querySelector(`line.edge[data-name="${name}"]`);
      if (line) line.classList.add("selected");
    }
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

function svgElement(tag, attributes, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}
