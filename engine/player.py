"""An animated backward pass: one self-contained HTML file you can step through in a browser.

    >>> from engine import Value, animate_backward
    >>> x, w = Value(2.0, "x"), Value(-3.0, "w")
    >>> out = (x * w).tanh()
    >>> animate_backward(out, "backprop.html")   # doctest: +SKIP

The page shows the graph once (Graphviz lays it out a single time, so boxes never jump between
frames) and one frame per step of `root.backward_steps()`, plus frame 0, before backward, when
every gradient is still pending. Each frame highlights the node whose gradient is being pushed
back and the edges it flows along, shows every gradient computed so far, and prints that step's
chain-rule line(s). Buttons (|<  <  play  >  >|), a slider, and the keyboard (left/right arrows,
space to play/pause, Home/End) move between frames. No network access: CSS, JavaScript, the SVG
and the frame data are all inline.

Gradient states in a frame: *pending* (`grad ?`, grey: nothing has reached the node yet),
*accumulating* (orange italic: some but not all of the node's users have sent their share -- a
node used twice gets two contributions) and *final* (black).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from engine.draw import (
    PENDING,
    GraphTooLargeError,
    GraphvizNotFoundError,
    INSTALL_HINT,
    _build,
    _grad_color,
    _num,
    render,
)
from engine.graph import topological_order

__all__ = ["DEFAULT_MAX_CELLS", "animate_backward"]

DEFAULT_MAX_CELLS = 250_000
"""Most (frames x nodes) an animation may hold: the page stores every gradient of every frame,
so this caps it at a few megabytes and keeps stepping instant."""

_DRAW_OPTIONS = ("rankdir", "digits", "color_by_grad", "max_nodes", "cluster")


def animate_backward(root, path, *, interval_ms: int = 900, max_cells: int | None = DEFAULT_MAX_CELLS, **draw_kw) -> Path:
    """Run `root.backward_steps()` and write an HTML page that replays it frame by frame.

    Args:
        root: the Value to backpropagate from (e.g. a loss).
        path: the `.html` file to write.
        interval_ms: time per frame when playing.
        max_cells: most frames x nodes (None: no limit); more raises `GraphTooLargeError`.
        **draw_kw: drawing options passed to `draw_dot`: rankdir, digits, color_by_grad,
            max_nodes, cluster. (`collapse` hides nodes, and the player shows every node.)

    The frames show one pass's gradients, every node starting from pending, even when the graph
    already went through `backward()` (as in `o.backward(); animate_backward(o, ...)`).

    No side effects: making the picture runs a backward pass, but every node's `grad` is put back
    as it was afterwards (also after an error), so animating inside a training loop never
    changes the next optimizer step. Returns the path written.
    """
    for key in draw_kw:
        if key not in _DRAW_OPTIONS:
            raise TypeError(f"animate_backward got an unsupported option {key!r}; it takes {', '.join(_DRAW_OPTIONS)}")
    if not isinstance(interval_ms, int) or isinstance(interval_ms, bool) or interval_ms < 50:
        raise ValueError(f"interval_ms must be an int >= 50, got {interval_ms!r}")
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"animate_backward writes an .html file, not {path.suffix or 'a file without suffix'!r}")
    digits = draw_kw.get("digits", 4)
    color_by_grad = draw_kw.get("color_by_grad", False)

    order = topological_order(root)
    steps_total = sum(1 for node in order if node.parents)
    cells = (steps_total + 1) * len(order)
    if max_cells is not None and cells > max_cells:
        raise GraphTooLargeError(
            f"animation would hold {steps_total + 1} frames x {len(order)} nodes = {cells} cells, more than "
            f"max_cells={max_cells}; animate a smaller expression (e.g. one neuron or one sample's loss) "
            f"or raise max_cells"
        )
    # Fail before touching any gradient if the picture cannot be made at all.
    if shutil.which("dot") is None:
        raise GraphvizNotFoundError(f"Graphviz's `dot` program was not found on PATH; {INSTALL_HINT}")
    # A dry build checks max_nodes and the drawing options, again before backward runs.
    _build(root, show_grad=False, **draw_kw)

    # Leaves accumulate across backward() calls, so on a graph that was already backpropagated
    # the steps would start from old gradients: frames would mix old and new numbers. Start
    # every leaf from 0, so each number shown belongs to this pass; afterwards put every
    # gradient back, because a picture should not change the model it shows.
    saved = [node.grad for node in order]
    for node in order:
        if not node.parents:
            node.grad = 0.0
    try:
        frames = _record_frames(root, order, digits, color_by_grad)
    finally:
        for node, grad in zip(order, saved):
            node.grad = grad

    # Lay every box out for the widest text it will ever show, so no frame needs a new layout.
    widest = [max((f["grads"][k] for f in frames), key=len) for k in range(len(order))]
    drawing = _build(root, grad_text=widest, **draw_kw)
    svg = render(drawing.digraph, "svg").decode("utf-8")
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE: the SVG goes inline

    html = _page(svg, frames, len(order), interval_ms, title=_title(root, drawing))
    path.write_text(html, encoding="utf-8")
    return path


def _record_frames(root, order, digits, color_by_grad) -> list[dict]:
    """Consume `root.backward_steps()`, recording what every frame shows."""
    n = len(order)
    index = {id(node): k for k, node in enumerate(order)}
    # A gradient is final once every user (every edge into a child) has sent its contribution.
    users_left = [0] * n
    for node in order:
        for parent in node.parents:
            users_left[index[id(parent)]] += 1
    grads = [PENDING] * n
    state = ["p"] * n  # p: pending, a: accumulating, d: final
    raw = [0.0] * n
    root_k = n - 1

    def fills():
        if not color_by_grad:
            return None
        peak = max((abs(g) for g, s in zip(raw, state) if s != "p"), default=0.0)
        return [_grad_color(g, peak) if s != "p" else "#ffffff" for g, s in zip(raw, state)]

    root_name = root.label or "L"
    frames = [
        {
            "current": -1,
            "op": None,
            "edges": [],
            "updated": [],
            "grads": list(grads),
            "state": "".join(state),
            "fills": fills(),
            "text": (
                f"Before backward: no gradient is known yet (grad ?).\n"
                f"Backprop starts at the output {root_name} with d{root_name}/d{root_name} = 1, then walks the graph "
                f"backwards, each node passing (local derivative x its own gradient) to its inputs.\n"
                f"Press -> (or space to play)."
            ),
        }
    ]
    steps = root.backward_steps()
    # backward_steps seeds the root when it starts; show the seed in frame 1 with the first step.
    for step in steps:
        k = index[id(step.node)]
        if grads[root_k] == PENDING:
            raw[root_k] = root.grad  # nothing flows into the root, so its seed is already final
            grads[root_k] = "grad " + _num(raw[root_k], digits)
            state[root_k] = "d"
        updated = []
        for edge in step.edges:
            j = index[id(edge.parent)]
            raw[j] = edge.grad_after
            grads[j] = "grad " + _num(edge.grad_after, digits)
            users_left[j] -= 1
            state[j] = "d" if users_left[j] == 0 else "a"
            if j not in updated:
                updated.append(j)
        header = (
            f"Step {step.index} / {step.total}: node {step.node_name} ({step.node.op}) has "
            f"d{step.root_name}/d{step.node_name} = {step.upstream:.{digits}g}; the chain rule sends it to "
            f"{len(step.edges)} input{'s' if len(step.edges) != 1 else ''}:"
        )
        text = header + "\n" + str(step)
        if step.index == step.total:
            text += "\nDone: every gradient is final: what one backward() pass computes."
        frames.append(
            {
                "current": k,
                "op": f"o{k}",
                "edges": [f"e{k}"] + [f"e{k}_{i}" for i in range(len(step.edges))],
                "updated": updated,
                "grads": list(grads),
                "state": "".join(state),
                "fills": fills(),
                "text": text,
            }
        )
    if len(frames) == 1:  # the root is a leaf: backward only seeds its gradient
        frames[0]["text"] = f"{root_name} is a leaf: backward only adds 1 to its gradient (d{root_name}/d{root_name} = 1)."
    return frames


def _title(root, drawing) -> str:
    return f"gradwalk: backprop through {drawing.names[id(root)]}"


def _json_for_script(data) -> str:
    """JSON safe inside <script>: no `</script>`, `<!--` or `&` can appear in the output."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _page(svg: str, frames, n_nodes: int, interval_ms: int, title: str) -> str:
    total = len(frames) - 1
    data = {"frames": frames, "nodes": n_nodes, "interval": interval_ms}
    svg = svg.replace("<svg ", '<svg id="gw-svg" ', 1)
    return (
        _TEMPLATE.replace("{{TITLE}}", _html_text(title))
        .replace("{{TOTAL}}", str(total))
        .replace("{{DATA}}", _json_for_script(data))
        .replace("{{SVG}}", svg)
    )


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{TITLE}}</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 0; padding: 12px 16px; color: #212529; background: #fff; }
  h1 { font-size: 16px; margin: 0 0 8px 0; font-weight: 600; }
  #gw-controls { display: flex; align-items: center; gap: 6px; flex-wrap: wrap; margin-bottom: 8px; }
  #gw-controls button { font-size: 14px; min-width: 40px; padding: 4px 10px; border: 1px solid #adb5bd;
    background: #f8f9fa; border-radius: 4px; cursor: pointer; }
  #gw-controls button:hover { background: #e9ecef; }
  #gw-counter { font-weight: 600; font-variant-numeric: tabular-nums; min-width: 110px; margin-left: 6px; }
  #gw-slider { flex: 1; min-width: 120px; max-width: 420px; }
  #gw-text { background: #f8f9fa; border-left: 4px solid #f76707; padding: 8px 10px; margin: 0 0 10px 0;
    font-size: 13px; white-space: pre-wrap; min-height: 4.5em; }
  #gw-graph svg { max-width: 100%; height: auto; }
  #gw-legend { font-size: 12px; color: #495057; margin-top: 6px; }
  #gw-legend span { display: inline-block; margin-right: 14px; }
  .sw { display: inline-block; width: 11px; height: 11px; border: 1px solid #495057; vertical-align: -1px; margin-right: 4px; }
  /* The node whose gradient is being pushed back, its op and the edges the gradient flows along. */
  g.gw-current > polygon:last-of-type { stroke: #f76707; stroke-width: 4px; }
  g.gw-current { filter: drop-shadow(0 0 5px rgba(247, 103, 7, 0.8)); }
  g.gw-op-active > ellipse { stroke: #f76707; stroke-width: 3px; fill: #ffe8cc; }
  g.gw-edge-active > path { stroke: #f76707; stroke-width: 3px; }
  g.gw-edge-active > polygon { stroke: #f76707; fill: #f76707; }
  g.gw-updated > polygon:last-of-type { stroke: #e8590c; stroke-width: 2px; stroke-dasharray: 4 2; }
  text.gw-grad-p { fill: #adb5bd; font-style: italic; }
  text.gw-grad-a { fill: #d9480f; font-style: italic; }
  text.gw-grad-d { fill: #212529; }
</style>
</head>
<body>
<h1>{{TITLE}}</h1>
<div id="gw-controls">
  <button id="gw-first" type="button" title="first frame (Home)">|&lt;</button>
  <button id="gw-prev" type="button" title="previous step (left arrow)">&lt;</button>
  <button id="gw-play" type="button" title="play / pause (space)">play</button>
  <button id="gw-next" type="button" title="next step (right arrow)">&gt;</button>
  <button id="gw-last" type="button" title="last frame (End)">&gt;|</button>
  <span id="gw-counter" aria-live="polite">Step 0 / {{TOTAL}}</span>
  <input id="gw-slider" type="range" min="0" max="{{TOTAL}}" value="0" aria-label="step">
</div>
<pre id="gw-text"></pre>
<div id="gw-graph" data-step="0" data-total="{{TOTAL}}" data-current="">
{{SVG}}
</div>
<div id="gw-legend">
  <span><b style="color:#f76707">orange</b> node: its gradient is being sent back along the orange edges</span>
  <span><i style="color:#adb5bd">grad ?</i> pending</span>
  <span><i style="color:#d9480f">grad</i> still accumulating (node used more than once)</span>
  <span>grad final</span>
  <span><span class="sw" style="background:#d3f9d8"></span>input</span>
  <span><span class="sw" style="background:#d0ebff"></span>parameter</span>
  <span><span class="sw" style="background:#f1f3f5"></span>constant</span>
  <span><span class="sw" style="background:#fff3bf"></span>output</span>
</div>
<script type="application/json" id="gw-data">{{DATA}}</script>
<script>
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("gw-data").textContent);
  var frames = data.frames, total = frames.length - 1;
  var graph = document.getElementById("gw-graph");
  var counter = document.getElementById("gw-counter");
  var text = document.getElementById("gw-text");
  var slider = document.getElementById("gw-slider");
  var playButton = document.getElementById("gw-play");
  var nodes = [], gradTexts = [], gradCells = [];
  for (var k = 0; k < data.nodes; k++) {
    var g = document.getElementById("v" + k);
    nodes.push(g);
    // The grad cell is the last row of every box (see engine.draw._value_label): its text is
    // the group's last <text>, right after the cell's background polygon. Centre the text in
    // the cell, since frames write numbers of different widths into it.
    var texts = g ? g.getElementsByTagName("text") : [];
    var t = texts.length ? texts[texts.length - 1] : null;
    var cell = t ? t.previousElementSibling : null;
    if (t && cell && cell.tagName.toLowerCase() === "polygon") {
      var box = cell.getBBox();
      t.setAttribute("x", String(box.x + box.width / 2));
      t.setAttribute("text-anchor", "middle");
    } else {
      cell = null;
    }
    gradTexts.push(t);
    gradCells.push(cell);
  }
  var marked = [];
  var step = 0, timer = null;

  function mark(el, cls) {
    if (el) { el.classList.add(cls); marked.push([el, cls]); }
  }

  function show(i) {
    step = Math.max(0, Math.min(total, i));
    var f = frames[step];
    marked.forEach(function (m) { m[0].classList.remove(m[1]); });
    marked = [];
    for (var k = 0; k < data.nodes; k++) {
      var t = gradTexts[k];
      if (!t) continue;
      t.textContent = f.grads[k];
      t.setAttribute("class", "gw-grad-" + f.state[k]);
      if (nodes[k]) nodes[k].setAttribute("data-grad-state", f.state[k]);
      if (gradCells[k]) gradCells[k].style.fill = f.fills ? f.fills[k] : "#ffffff";
    }
    if (f.current >= 0) {
      mark(nodes[f.current], "gw-current");
      mark(document.getElementById(f.op), "gw-op-active");
      f.edges.forEach(function (id) { mark(document.getElementById(id), "gw-edge-active"); });
      f.updated.forEach(function (j) { mark(nodes[j], "gw-updated"); });
    }
    graph.setAttribute("data-step", String(step));
    graph.setAttribute("data-current", f.current >= 0 ? "v" + f.current : "");
    counter.textContent = "Step " + step + " / " + total;
    text.textContent = f.text;
    slider.value = String(step);
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    playButton.textContent = "play";
  }

  function play() {
    if (timer !== null) { stop(); return; }
    if (step >= total) show(0);
    playButton.textContent = "pause";
    timer = setInterval(function () {
      if (step >= total) { stop(); return; }
      show(step + 1);
    }, data.interval);
  }

  function button(id, action) {
    document.getElementById(id).addEventListener("click", function (event) {
      action();
      // Give focus back to the page so the space bar keeps meaning play/pause, not "click again".
      event.currentTarget.blur();
    });
  }
  button("gw-first", function () { stop(); show(0); });
  button("gw-prev", function () { stop(); show(step - 1); });
  button("gw-next", function () { stop(); show(step + 1); });
  button("gw-last", function () { stop(); show(total); });
  button("gw-play", play);
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });

  document.addEventListener("keydown", function (event) {
    if (event.target === slider && (event.key === "ArrowLeft" || event.key === "ArrowRight")) return;
    if (event.key === "ArrowRight") { stop(); show(step + 1); }
    else if (event.key === "ArrowLeft") { stop(); show(step - 1); }
    else if (event.key === " " || event.key === "Spacebar") { play(); }
    else if (event.key === "Home") { stop(); show(0); }
    else if (event.key === "End") { stop(); show(total); }
    else return;
    event.preventDefault();
  });

  show(0);
})();
</script>
</body>
</html>
"""
