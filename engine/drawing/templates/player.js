// The backprop player (engine/drawing/player.py fills it into player.html). Frame data comes
// from the JSON block #gw-data: the ids of the boxes (a value's v<k>, a collapsed group's g<n>);
// frame 0 with the grad text and state of every box, and every later frame with only the boxes
// it changes; per frame what to highlight and the step's chain-rule text; per box what its
// detail panel shows.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("gw-data").textContent);
  var frames = data.frames, info = data.nodes, total = frames.length - 1;
  // Rebuild every frame whole from the differences, once: stepping then only reads.
  for (var i = 1; i <= total; i++) {
    var before = frames[i - 1], f = frames[i];
    var grads = before.grads.slice(), state = before.state.split(""), fills = before.fills ? before.fills.slice() : null;
    f.changed.forEach(function (c) {  // [box, grad text, state, fill]
      grads[c[0]] = c[1];
      state[c[0]] = c[2];
      if (fills) fills[c[0]] = c[3];
    });
    f.grads = grads;
    f.state = state.join("");
    f.fills = fills;
  }
  var graph = document.getElementById("gw-graph");
  var svg = document.getElementById("gw-svg");
  var counter = document.getElementById("gw-counter");
  var title = document.getElementById("gw-title");
  var text = document.getElementById("gw-text");
  var panel = document.getElementById("gw-node");
  var slider = document.getElementById("gw-slider");
  var playButton = document.getElementById("gw-play");
  var zoomLevel = document.getElementById("gw-zoom-level");
  var STATE_NAMES = { p: "pending", a: "accumulating", d: "final" };
  if (!data.colored) document.getElementById("gw-legend-colored").style.display = "none";

  // -- the boxes and their grad cells --------------------------------------------------------------
  var nodes = [], gradTexts = [], gradCells = [];
  for (var k = 0; k < info.length; k++) {
    var g = document.getElementById(data.boxes[k]);
    nodes.push(g);
    // The grad cell is the last row of every box (see engine.drawing_style.value_label): its text
    // is the box's last <text>, right after the cell's background polygon. Centre the text in
    // the cell, since frames write numbers of different widths into it.
    var texts = g ? g.getElementsByTagName("text") : [];
    var t = texts.length ? texts[texts.length - 1] : null;
    var cell = t ? t.previousElementSibling : null;
    if (t && cell && cell.tagName.toLowerCase() === "polygon") {
      var box = cell.getBBox();
      t.setAttribute("x", String(box.x + box.width / 2));
      t.setAttribute("text-anchor", "middle");
    } else {
      if (t && g) {  // a collapsed group's last line: centre it in its box
        var whole = g.getBBox();
        t.setAttribute("x", String(whole.x + whole.width / 2));
        t.setAttribute("text-anchor", "middle");
      }
      cell = null;
    }
    gradTexts.push(t);
    gradCells.push(cell);
  }

  var marked = [];
  var step = 0, timer = null, selected = -1;

  function mark(el, cls) {
    if (el) { el.classList.add(cls); marked.push([el, cls]); }
  }

  // -- frames ------------------------------------------------------------------------------------
  function show(i) {
    step = Math.max(0, Math.min(total, i));
    var f = frames[step];
    marked.forEach(function (m) { m[0].classList.remove(m[1]); });
    marked = [];
    for (var k = 0; k < info.length; k++) {
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
    graph.setAttribute("data-current", f.current >= 0 ? data.boxes[f.current] : "");
    counter.textContent = "Step " + step + " / " + total;
    title.textContent = f.title;
    text.textContent = f.text;
    slider.value = String(step);
    if (selected >= 0) describe(selected);
    if (f.current >= 0) keepInView(nodes[f.current]);
    try {
      history.replaceState(null, "", "#step=" + step);  // a link to this very frame
    } catch (error) {
      // A sandboxed frame (a notebook's output) may not change its address: stepping still works.
    }
  }

  function stepFromHash() {
    var match = /^#step=(\d+)$/.exec(location.hash);
    return match ? parseInt(match[1], 10) : null;
  }

  // -- clicking a box shows what it is -------------------------------------------------------------
  function row(name, value) {
    var tr = document.createElement("tr");
    [name, value].forEach(function (content) {
      var td = document.createElement("td");
      td.textContent = content;
      tr.appendChild(td);
    });
    return tr;
  }

  function describe(k) {
    var node = info[k], f = frames[step];
    var table = document.createElement("table");
    var head = document.createElement("b");
    head.textContent = node.name + " (" + (node.op ? "op " + node.op : node.kind) + ")";
    var none = node.kind === "group" ? "one box for " + node.data + " (collapsed)" : "none: a leaf (" + node.kind + ")";
    table.appendChild(row("formula", node.formula ? node.name + " = " + node.formula : none));
    table.appendChild(row("data", node.data));
    table.appendChild(row("grad", f.grads[k] + "  (" + STATE_NAMES[f.state[k]] + " at step " + step + ")"));
    node.locals.forEach(function (local) {  // [input name, derivative's formula, its value]
      var formula = local[1] && local[1] !== local[2] ? local[1] + " = " : "";
      table.appendChild(row("local", "\u2202" + node.operand + "/\u2202" + local[0] + " = " + formula + local[2]));
    });
    if (node.scope) table.appendChild(row("scope", node.scope));
    panel.replaceChildren(head, table);
    panel.setAttribute("data-node", data.boxes[k]);
  }

  function select(k) {
    if (selected >= 0 && nodes[selected]) nodes[selected].classList.remove("gw-selected");
    selected = k;
    graph.setAttribute("data-selected", data.boxes[k]);
    if (nodes[k]) nodes[k].classList.add("gw-selected");
    describe(k);
  }

  nodes.forEach(function (g, k) {
    if (g) g.addEventListener("click", function () { if (!dragged) select(k); });
    var op = data.boxes[k][0] === "v" ? document.getElementById("o" + data.boxes[k].slice(1)) : null;
    if (op) op.addEventListener("click", function () { if (!dragged) select(k); });
  });

  // -- zoom and pan ----------------------------------------------------------------------------------
  // Graphviz sizes the SVG in points; at zoom 1 a 12 pt label is 16 px, as in any document.
  var viewBox = svg.viewBox.baseVal;
  var naturalWidth = viewBox.width * 4 / 3, naturalHeight = viewBox.height * 4 / 3;
  var READABLE = 0.75;  // the smallest zoom the page starts at: 12 px text
  var zoom = 1;

  function fitZoom() {
    var w = (graph.clientWidth - 4) / naturalWidth, h = (graph.clientHeight - 4) / naturalHeight;
    return Math.min(1, w, h);
  }

  function setZoom(z) {
    zoom = Math.max(0.01, Math.min(4, z));
    svg.setAttribute("width", String(naturalWidth * zoom));
    svg.setAttribute("height", String(naturalHeight * zoom));
    zoomLevel.textContent = Math.round(zoom * 100) + "%";
    graph.setAttribute("data-zoom", zoom.toFixed(3));
  }

  function keepInView(el) {
    if (!el) return;
    var view = graph.getBoundingClientRect(), r = el.getBoundingClientRect();
    if (r.left < view.left || r.right > view.right) {
      graph.scrollLeft += (r.left + r.right) / 2 - (view.left + view.right) / 2;
    }
    if (r.top < view.top || r.bottom > view.bottom) {
      graph.scrollTop += (r.top + r.bottom) / 2 - (view.top + view.bottom) / 2;
    }
  }

  var dragStart = null, dragged = false;
  graph.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) return;
    dragStart = { x: event.clientX, y: event.clientY, left: graph.scrollLeft, top: graph.scrollTop };
    dragged = false;
  });
  graph.addEventListener("pointermove", function (event) {
    if (!dragStart) return;
    var dx = event.clientX - dragStart.x, dy = event.clientY - dragStart.y;
    if (!dragged && Math.abs(dx) + Math.abs(dy) < 5) return;  // a click, not yet a drag
    dragged = true;
    graph.classList.add("gw-dragging");
    graph.scrollLeft = dragStart.left - dx;
    graph.scrollTop = dragStart.top - dy;
  });
  function endDrag() {
    dragStart = null;
    graph.classList.remove("gw-dragging");
    setTimeout(function () { dragged = false; }, 0);  // after the click that ends a drag
  }
  graph.addEventListener("pointerup", endDrag);
  graph.addEventListener("pointerleave", endDrag);

  // -- controls --------------------------------------------------------------------------------------
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
  button("gw-zoom-in", function () { setZoom(zoom * 1.25); });
  button("gw-zoom-out", function () { setZoom(zoom / 1.25); });
  button("gw-fit", function () { setZoom(fitZoom()); });
  button("gw-natural", function () { setZoom(1); });
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  window.addEventListener("hashchange", function () {
    var wanted = stepFromHash();
    if (wanted !== null && wanted !== step) { stop(); show(wanted); }
  });

  var KEYS = {
    ArrowRight: function () { stop(); show(step + 1); },
    ArrowLeft: function () { stop(); show(step - 1); },
    " ": play,
    Spacebar: play,
    Home: function () { stop(); show(0); },
    End: function () { stop(); show(total); },
    "+": function () { setZoom(zoom * 1.25); },
    "=": function () { setZoom(zoom * 1.25); },
    "-": function () { setZoom(zoom / 1.25); },
    "0": function () { setZoom(1); },
    f: function () { setZoom(fitZoom()); }
  };
  document.addEventListener("keydown", function (event) {
    if (event.target === slider && (event.key === "ArrowLeft" || event.key === "ArrowRight")) return;
    if (event.ctrlKey || event.metaKey || event.altKey || !KEYS.hasOwnProperty(event.key)) return;
    KEYS[event.key]();
    event.preventDefault();
  });

  // Start readable: the whole graph when it fits at a readable size, else a readable zoom with
  // the current node scrolled into view.
  setZoom(Math.max(fitZoom(), READABLE));
  show(stepFromHash() || 0);
})();
