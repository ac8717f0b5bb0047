// The engine's graph drawing (SVG from Graphviz) and a stepper through its backward pass.
//
// The server sends the SVG only when the graph's shape changes; otherwise it sends new numbers,
// which are written into the boxes here. A reply carries, per node k (box id "v" + k): its name
// and data text; and per backward step: its header, the engine's own step text, and for each
// edge the parent's position and its gradient text after the step. Any step, forwards or back,
// is shown by replaying the edges from the start: no round trip to the server.

const SVG_NS = "http://www.w3.org/2000/svg";

// Parse Graphviz's SVG, keeping only drawing elements (no scripts, no event attributes).
function parseSvg(text) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = doc.documentElement;
  if (svg.nodeName !== "svg") throw new Error("the server sent a drawing that is not SVG");
  svg.querySelectorAll("script, foreignObject, iframe, a").forEach((el) => el.remove());
  svg.querySelectorAll("*").forEach((el) => {
    for (const attr of [...el.attributes]) if (/^on/i.test(attr.name) || /href/i.test(attr.name)) el.removeAttribute(attr.name);
  });
  return document.importNode(svg, true);
}

// The horizontal middle of a Graphviz box: from its outline polygon's points.
function boxMiddle(g) {
  const polygon = g.querySelector("polygon");
  if (!polygon) return null;
  const xs = polygon.getAttribute("points").trim().split(/\s+/).map((p) => parseFloat(p.split(",")[0]));
  return (Math.min(...xs) + Math.max(...xs)) / 2;
}

export class GraphStepper {
  constructor(prefix, { startAtEnd = false } = {}) {
    this.container = document.getElementById(prefix + "-graph");
    this.counter = document.getElementById(prefix + "-counter");
    this.slider = document.getElementById(prefix + "-slider");
    this.header = document.getElementById(prefix + "-header");
    this.text = document.getElementById(prefix + "-step-text");
    this.startAtEnd = startAtEnd;
    this.reply = null;
    this.frame = 0;
    this.boxes = [];  // per node: {g, data: <text>, grad: <text>}
    document.getElementById(prefix + "-first").addEventListener("click", () => this.go(0));
    document.getElementById(prefix + "-prev").addEventListener("click", () => this.go(this.frame - 1));
    document.getElementById(prefix + "-next").addEventListener("click", () => this.go(this.frame + 1));
    document.getElementById(prefix + "-last").addEventListener("click", () => this.go(this.total()));
    this.slider.addEventListener("input", () => this.go(Number(this.slider.value)));
  }

  total() { return this.reply ? this.reply.steps.length : 0; }

  // The view became visible: a small drawing that arrived while it was hidden fits it now.
  shown() {
    if (this.grouping === "plain") fitIfWide(this.container);
  }

  // No graph: the placeholder `text` instead, and nothing to step through.
  clear(text) {
    this.reply = null;
    this.boxes = [];
    this.frame = 0;
    this.grouping = null;
    const note = Object.assign(document.createElement("p"), { className: "placeholder", textContent: text });
    this.container.replaceChildren(note);
    this.slider.max = 0; this.slider.value = 0;
    this.counter.textContent = "–";
    this.header.textContent = "";
    this.text.textContent = "";
  }

  // A new reply: a new drawing (svg), new numbers for the drawing shown, or no drawing at all
  // (drawing_problem: Graphviz could not lay it out in time; the steps and numbers still come).
  show(reply) {
    const fresh = (reply.svg !== null && reply.svg !== undefined) || Boolean(reply.drawing_problem);
    if (reply.drawing_problem) {
      const note = Object.assign(document.createElement("p"), { className: "placeholder drawing-problem", textContent: reply.drawing_problem });
      this.container.replaceChildren(note);
      this.boxes = [];
      this.grouping = null;
    } else if (fresh) {
      const svg = parseSvg(reply.svg);
      this.container.replaceChildren(svg);
      this.natural = { width: parseFloat(svg.getAttribute("width")), height: parseFloat(svg.getAttribute("height")) };
      svg.dataset.naturalWidth = this.natural.width;
      this.indexBoxes(svg, reply.names.length, reply.groups || []);
      // A small graph fits the view; a big (clustered) one stays readable at 60% of its size,
      // and each step scrolls its node into view.
      this.grouping = reply.grouping;
      if (reply.grouping === "plain") fitIfWide(this.container); else zoom(this.container, 0.6);
    }
    this.reply = reply;
    if (fresh) this.frame = this.startAtEnd ? this.total() : 0;
    this.frame = Math.min(this.frame, this.total());
    this.slider.max = this.total();
    this.render();
  }

  // Per node, its box: its own (v{k}, with data and grad texts to rewrite), or the collapsed
  // box of the neuron it is inside (named as groups[k] says, as the box's first line does).
  indexBoxes(svg, count, groups) {
    const groupBox = {};
    svg.querySelectorAll("g.node").forEach((g) => {
      const first = g.querySelector("text");
      if (!/^g\d+$/.test(g.id) || !first) return;
      groupBox[first.textContent] = g;
      // Its |grad params| was drawn before the backward pass, and would stay 0 at every step.
      g.querySelectorAll("text").forEach((t) => { if (t.textContent.startsWith("|grad params|")) t.remove(); });
    });
    this.boxes = [];
    for (let k = 0; k < count; k++) {
      const g = svg.querySelector("#v" + k);
      if (!g) { this.boxes.push(groupBox[groups[k]] ? { g: groupBox[groups[k]], data: null, grad: null } : null); continue; }
      const box = { g, data: null, grad: null };
      const middle = boxMiddle(g);
      for (const t of g.querySelectorAll("text")) {
        const content = t.textContent;
        const kind = content.startsWith("data ") ? "data" : content.startsWith("grad ") ? "grad" : null;
        if (!kind) continue;
        box[kind] = t;
        if (middle !== null) { t.setAttribute("text-anchor", "middle"); t.setAttribute("x", middle); }
      }
      this.boxes.push(box);
    }
  }

  go(frame) {
    if (!this.reply) return;
    this.frame = Math.max(0, Math.min(this.total(), frame));
    this.render();
    const step = this.frame > 0 ? this.reply.steps[this.frame - 1] : null;
    const box = step ? this.boxes[step.node] : this.boxes[this.reply.root];
    if (box) this.reveal(box.g);
  }

  // Scroll the view so that `g` is in its middle, unless it is already in sight.
  reveal(g) {
    const view = this.container.getBoundingClientRect(), box = g.getBoundingClientRect();
    const inside = box.left >= view.left && box.right <= view.right && box.top >= view.top && box.bottom <= view.bottom;
    if (inside) return;
    this.container.scrollLeft += (box.left + box.right) / 2 - (view.left + view.right) / 2;
    this.container.scrollTop += (box.top + box.bottom) / 2 - (view.top + view.bottom) / 2;
  }

  key(event) {
    const moves = { ArrowRight: this.frame + 1, ArrowLeft: this.frame - 1, Home: 0, End: this.total() };
    if (event.key in moves) { event.preventDefault(); this.go(moves[event.key]); }
  }

  // Gradient texts after `frame` steps: the root seeded, every other node pending until an edge reaches it.
  gradsAt(frame) {
    const r = this.reply;
    const grads = r.names.map(() => "grad ?");
    grads[r.root] = r.steps.length ? "grad 1" : r.root_grad;
    for (let i = 0; i < frame; i++) for (const [parent, text] of r.steps[i].edges) grads[parent] = text;
    return grads;
  }

  render() {
    const r = this.reply;
    const grads = this.gradsAt(this.frame);
    const current = this.frame > 0 ? r.steps[this.frame - 1] : null;
    const updated = new Set(current ? current.edges.map(([p]) => p) : []);
    // Several nodes may share one collapsed box: mark the boxes once all nodes are seen.
    const currentBoxes = new Set(), updatedBoxes = new Set();
    this.boxes.forEach((box, k) => {
      if (!box) return;
      if (box.data) box.data.textContent = r.data[k];
      if (box.grad) box.grad.textContent = grads[k];
      if (current !== null && current.node === k) currentBoxes.add(box.g);
      if (updated.has(k)) updatedBoxes.add(box.g);
    });
    this.boxes.forEach((box) => {
      if (!box) return;
      box.g.classList.toggle("gw-current", currentBoxes.has(box.g));
      box.g.classList.toggle("gw-updated", updatedBoxes.has(box.g) && !currentBoxes.has(box.g));
    });
    if (this.container.firstElementChild) {
      this.container.querySelectorAll("g.edge.gw-active, g.node.gw-op").forEach((el) => el.classList.remove("gw-active", "gw-op"));
      if (current) {
        current.edges.forEach((_, i) => {
          const edge = this.container.querySelector(`#e${current.node}_${i}`);
          if (edge) edge.classList.add("gw-active");
        });
      }
    }
    this.slider.value = this.frame;
    this.counter.textContent = `step ${this.frame} / ${this.total()}`;
    if (current) {
      this.header.textContent = current.header;
      this.text.textContent = current.text;
    } else if (this.total()) {
      this.header.textContent = "forward pass done; backward not started";
      this.text.textContent = `${r.names[r.root]} is seeded with grad 1. Press ▶ (or →) to apply the chain rule at ${r.names[r.steps[0].node]}.`;
    } else {
      this.header.textContent = "nothing to step through";
      this.text.textContent = `${r.names[r.root]} is a variable itself.`;
    }
  }
}

function fitIfWide(container) {
  const svg = container.querySelector("svg");
  if (svg && Number(svg.dataset.naturalWidth) * 1.333 > container.clientWidth && container.clientWidth > 0) zoom(container, "fit");
}

// Zoom: "fit" to the container's width, a number (1 = natural size), or "in"/"out" by steps.
export function zoom(container, how) {
  const svg = container.querySelector("svg");
  if (!svg) return;
  const natural = Number(svg.dataset.naturalWidth) * 1.333;  // pt -> px
  const now = svg.getBoundingClientRect().width / natural || 1;
  const scale = how === "fit" ? (container.clientWidth - 4) / natural
    : how === "in" ? now * 1.25 : how === "out" ? now / 1.25 : Number(how);
  svg.style.width = `${Math.max(50, natural * scale)}px`;
  svg.style.height = "auto";
}

export function setupZoomButtons() {
  document.querySelectorAll("[data-zoom]").forEach((button) =>
    button.addEventListener("click", () => zoom(document.getElementById(button.dataset.target), button.dataset.zoom)));
}

export { SVG_NS };
