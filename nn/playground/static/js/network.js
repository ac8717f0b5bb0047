// The network as columns of neurons, edges coloured by sign and as wide as the weight is large.
// One diagram class for every view that shows the network; what a hover or a click does is the
// view's business, passed in as callbacks.
import { CLASS_COLOURS } from "./draw.js";
import { SVG_NS } from "./graph.js";

// One name for each thing (docs/playground.md): inputs x0, x1; neuron j of layer i is Li.nj; its
// weights Li.nj.w0, ... and bias Li.nj.b, as nn labels them. The server's messages name a
// parameter by its state_dict key (layers.i.neurons.j.w.k), the same name spelled as a path.
export const neuronName = (layer, neuron) => `L${layer}.n${neuron}`;
export function parameterLabel(key) {
  const [, layer, , neuron, kind, input] = key.split(".");
  return `${neuronName(layer, neuron)}.${kind}${input === undefined ? "" : input}`;
}

export function svgElement(tag, attributes, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

const W = 440, H = 400;

export class NetworkDiagram {
  // `on`: { enter(where), leave(where), neuron(where), edge(name) }, each optional; `where` is
  // {layer, neuron} with layer counted from the first hidden layer.
  constructor(svg, on = {}) {
    this.svg = svg;
    this.on = on;
    this.key = "";
  }

  // Draw `net` (the server's network picture) fed `inputs`; returns true when the diagram was
  // built anew (another shape), so that the view can re-attach what it drew on top.
  draw(net, inputs) {
    const key = net.sizes.join("-") + inputs.join();
    const rebuilt = key !== this.key;
    if (rebuilt) this.build(net, inputs, key);
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
    this.svg.classList.toggle("dense", net.sizes.some((n) => n > 12));
    return rebuilt;
  }

  build(net, inputs, key) {
    this.svg.replaceChildren();
    this.key = key;
    const columns = net.sizes.length;
    const x = (c) => 30 + (c * (W - 60)) / (columns - 1);
    const y = (c, j) => { const n = net.sizes[c]; return H / 2 + (j - (n - 1) / 2) * Math.min(44, (H - 30) / n); };
    const radius = Math.max(3.5, Math.min(11, (H - 30) / Math.max(...net.sizes) / 2.6));
    const edgeLayer = document.createElementNS(SVG_NS, "g");
    const nodeLayer = document.createElementNS(SVG_NS, "g");
    this.svg.append(edgeLayer, nodeLayer);
    this.edges = net.layers.map((layer, l) => layer.w.map((row, j) => row.map((_, i) => {
      const name = `layers.${l}.neurons.${j}.w.${i}`;
      const line = svgElement("line", { x1: x(l), y1: y(l, i), x2: x(l + 1), y2: y(l + 1, j), class: "edge" });
      const hit = svgElement("line", { x1: x(l), y1: y(l, i), x2: x(l + 1), y2: y(l + 1, j), class: "edge-hit" });
      hit.append(svgElement("title", {}, `${parameterLabel(name)}: the weight from ${l === 0 ? inputs[i] : neuronName(l - 1, i)} into ${neuronName(l, j)}`));
      hit.addEventListener("click", () => this.on.edge && this.on.edge(name));
      edgeLayer.append(line, hit);
      line.dataset.name = name;
      hit.dataset.name = name;
      return line;
    })));
    this.neurons = net.sizes.map((n, c) => Array.from({ length: n }, (_, j) => {
      const g = svgElement("g", { class: c === 0 ? "input" : "neuron" });
      g.append(svgElement("circle", { cx: x(c), cy: y(c, j), r: radius, fill: "white", stroke: "#343a40", "stroke-width": 1.2 }));
      if (c === 0) g.append(svgElement("text", { x: x(c) - radius - 4, y: y(c, j) + 4, "text-anchor": "end" }, inputs[j]));
      if (c === columns - 1) g.append(svgElement("text", { x: x(c) + radius + 4, y: y(c, j) + 4 }, "out"));
      if (c > 0) {
        const where = { layer: c - 1, neuron: j };
        g.dataset.neuron = neuronName(c - 1, j);
        g.append(svgElement("title", {}, this.on.neuronTitle ? this.on.neuronTitle(where) : neuronName(c - 1, j)));
        g.addEventListener("mouseenter", () => this.on.enter && this.on.enter(where));
        g.addEventListener("mouseleave", () => this.on.leave && this.on.leave(where));
        g.addEventListener("click", () => this.on.neuron && this.on.neuron(where));
      }
      nodeLayer.append(g);
      return g;
    }));
    // Where each neuron (not the inputs) is drawn, and how big a thumbnail over it can be.
    this.centres = net.sizes.slice(1).map((n, l) => Array.from({ length: n }, (_, j) => [x(l + 1), y(l + 1, j)]));
    this.thumbnailSize = Math.max(8, Math.round(Math.min(26, (H - 30) / Math.max(...net.sizes.slice(1)) - 2)));
  }

  // Mark one edge (by its state_dict key) as selected, or none.
  select(name) {
    this.svg.querySelectorAll(".selected").forEach((el) => el.classList.remove("selected"));
    const line = name && this.svg.querySelector(`line.edge[data-name="${name}"]`);
    if (line) line.classList.add("selected");
  }
}
