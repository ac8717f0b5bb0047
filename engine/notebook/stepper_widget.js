// The live stepper widget (engine/notebook/stepper_widget.py). Python owns the stepper: every
// button, the slider and the keys send a move to Python, and this view redraws from the synced
// traits. Element ids (v<k>, o<k>, e<k>) are looked up inside this widget only, so two widgets
// in one notebook never mix.
function render({ model, el }) {
  el.classList.add("gw-stepper");
  el.tabIndex = 0;
  el.innerHTML =
    '<div class="gw-bar">' +
    '<button type="button" data-move="reset" title="reset (Home)">reset</button>' +
    '<button type="button" data-move="back" title="back (left arrow)">back</button>' +
    '<button type="button" data-move="step" title="step (right arrow)">step</button>' +
    '<input type="range" min="0" value="0" aria-label="step">' +
    '<span class="gw-counter"></span></div>' +
    '<div class="gw-quiz"><pre class="gw-question"></pre><div class="gw-bar">' +
    '<input type="text" class="gw-answer" placeholder="a number, or a formula such as 1 - o**2" ' +
    'aria-label="your answer" data-lm-suppress-shortcuts="true">' +
    '<button type="button" class="gw-submit">answer</button><span class="gw-score"></span></div>' +
    '<div class="gw-verdict"></div></div>' +
    '<div class="gw-echo"></div><div class="gw-error"></div>' +
    '<div class="gw-panels"><pre class="gw-text"></pre><div class="gw-node">Click a box to see its op, ' +
    'formula, data, grad and local derivatives.</div></div>' +
    '<div class="gw-graph"></div>';
  const find = (selector) => el.querySelector(selector);
  const graph = find(".gw-graph"), slider = find("input"), counter = find(".gw-counter");
  const panel = find(".gw-node"), answerBox = find(".gw-answer");
  const STATE_NAMES = { p: "pending", a: "accumulating", d: "final" };
  let gradTexts = [], boxes = [], marked = [], selected = -1;

  function byId(id) { return graph.querySelector('[id="' + id + '"]'); }

  function drawGraph() {
    graph.innerHTML = model.get("svg");
    boxes = model.get("nodes").map((_, k) => byId("v" + k));
    gradTexts = boxes.map((box) => {
      // The grad cell is a box's last <text>, after its background polygon: centre it there.
      const texts = box ? box.getElementsByTagName("text") : [];
      const t = texts.length ? texts[texts.length - 1] : null;
      const cell = t ? t.previousElementSibling : null;
      if (t && cell && cell.tagName.toLowerCase() === "polygon") {
        // From the polygon's own points, not getBBox(): the widget may draw before it is on the page.
        const xs = cell.getAttribute("points").trim().split(/\s+/).map((p) => parseFloat(p.split(",")[0]));
        t.setAttribute("x", String((Math.min(...xs) + Math.max(...xs)) / 2));
        t.setAttribute("text-anchor", "middle");
      }
      return t;
    });
    boxes.forEach((box, k) => {
      if (box) box.addEventListener("click", () => { selected = k; describe(); });
      const op = byId("o" + k);
      if (op) op.addEventListener("click", () => { selected = k; describe(); });
    });
  }

  function describe() {
    if (selected < 0) return;
    const node = model.get("nodes")[selected];
    const grad = model.get("grads")[selected], state = model.get("states")[selected];
    const lines = [
      node.name + " (" + (node.op ? "op " + node.op : node.kind) + ")",
      "formula  " + (node.formula ? node.name + " = " + node.formula : "none: a leaf (" + node.kind + ")"),
      "data     " + node.data,
      "grad     " + grad + "  (" + STATE_NAMES[state] + " at step " + model.get("position") + ")",
    ];
    node.locals.forEach((local) => {
      const formula = local[1] && local[1] !== local[2] ? local[1] + " = " : "";
      lines.push("local    \u2202" + node.operand + "/\u2202" + local[0] + " = " + formula + local[2]);
    });
    if (node.scope) lines.push("scope    " + node.scope);
    panel.textContent = lines.join("\n");
    graph.setAttribute("data-selected", "v" + selected);
    boxes.forEach((box, k) => box && box.classList.toggle("gw-selected", k === selected));
  }

  function mark(element, cls) {
    if (element) { element.classList.add(cls); marked.push([element, cls]); }
  }

  function show() {
    const grads = model.get("grads"), states = model.get("states");
    gradTexts.forEach((t, k) => {
      if (!t) return;
      t.textContent = grads[k];
      t.setAttribute("class", "gw-grad-" + states[k]);
    });
    marked.forEach(([element, cls]) => element.classList.remove(cls));
    marked = [];
    const current = model.get("current");
    if (current >= 0) {
      mark(boxes[current], "gw-current");
      mark(byId("o" + current), "gw-op-active");
      model.get("edges").forEach((id) => mark(byId(id), "gw-edge-active"));
      model.get("updated").forEach((j) => mark(boxes[j], "gw-updated"));
    }
    const position = model.get("position"), total = model.get("total");
    counter.textContent = "Step " + position + " / " + total;
    slider.max = String(total);
    slider.value = String(position);
    graph.setAttribute("data-step", String(position));
    graph.setAttribute("data-current", current >= 0 ? "v" + current : "");
    find(".gw-echo").textContent = model.get("title");
    find(".gw-text").textContent = model.get("text");
    find(".gw-error").textContent = model.get("error");
    showQuiz();
    describe();
  }

  function showQuiz() {
    // In a quiz only an answer moves the pass on, so the moving controls are put away.
    const quiz = model.get("quiz");
    find(".gw-quiz").style.display = quiz ? "" : "none";
    el.querySelectorAll("button[data-move], input[type=range]").forEach((c) => { c.style.display = quiz ? "none" : ""; });
    if (!quiz) return;
    find(".gw-question").textContent = model.get("question");
    find(".gw-score").textContent = "score " + model.get("score") + " of " + model.get("asked");
    const verdict = find(".gw-verdict");
    verdict.textContent = model.get("verdict");
    verdict.className = "gw-verdict " + (model.get("verdict_right") ? "gw-right" : "gw-miss");
  }

  function submit() {
    if (answerBox.value.trim()) send("answer", { answer: answerBox.value });
  }
  find(".gw-submit").addEventListener("click", submit);
  answerBox.addEventListener("keydown", (event) => {
    event.stopPropagation();  // typing here is an answer, not the notebook's or the widget's keys
    if (event.key === "Enter") { event.preventDefault(); submit(); }
  });
  model.on("change:asked", () => { answerBox.value = ""; });

  const send = (move, extra) => model.send(Object.assign({ move: move }, extra || {}));
  el.querySelectorAll("button[data-move]").forEach((button) => {
    button.addEventListener("click", () => send(button.getAttribute("data-move")));
  });
  slider.addEventListener("change", () => send("go", { to: parseInt(slider.value, 10) }));
  el.addEventListener("keydown", (event) => {
    if (event.target === slider || model.get("quiz")) return;
    const keys = { ArrowRight: "step", ArrowLeft: "back", Home: "reset" };
    if (keys[event.key]) send(keys[event.key]);
    else if (event.key === "End") send("go", { to: model.get("total") });
    else return;
    event.preventDefault();
  });

  drawGraph();
  show();
  model.on("change:svg", () => { drawGraph(); show(); });
  ["position", "grads", "states", "current", "title", "text", "error", "question", "verdict", "score"].forEach((name) =>
    model.on("change:" + name, show));
}

export default { render };
