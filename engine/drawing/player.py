"""An animated backward pass: one self-contained HTML page you can step through in a browser.

    >>> from engine import Value, animate_backward
    >>> x, w = Value(2.0, "x"), Value(-3.0, "w")
    >>> out = (x * w).tanh()
    >>> player = animate_backward(out, "backprop.html")   # doctest: +SKIP

The page shows the graph once (Graphviz lays it out a single time, so boxes never jump between
frames) and one frame per step of `root.backward_steps()`, plus frame 0, before backward, when
every gradient is still pending. Each frame highlights the node whose gradient is being pushed
back and the edges it flows along, shows every gradient computed so far, and prints that step's
chain-rule lines -- the very text `str(step)` gives in a REPL.

In the page: buttons (|<  <  play  >  >|), a slider and the keyboard (arrows, space, Home/End)
move between frames; `#step=N` in the address opens frame N, and the address follows as you
step, so a link can point at one step. The graph can be zoomed (buttons, + and - keys) and
dragged; clicking a box shows its op, formula, data, grad and local derivatives. No network
access: CSS, JavaScript, the SVG and the frame data are all inline.

Gradient states in a frame: *pending* (`grad ?`, grey: nothing has reached the node yet),
*accumulating* (orange italic: some but not all of the node's users have sent their share -- a
node used twice gets two contributions) and *final* (black).
"""

from __future__ import annotations

import dataclasses
import html as html_lib
import json
import math
import re
from importlib import resources
from pathlib import Path

from engine.drawing.build import DrawOptions, GraphTooLargeError, build_drawing, check_graphviz, check_root, render
from engine.drawing.groups import check_level, group_key, keys_with_adoption
from engine.drawing.style import PENDING, format_number, grad_color, node_kind
from engine.core.graph import node_names, topological_order
from engine.notation import local_formulas, parenthesised, written

__all__ = ["AUTO_COLLAPSE_BOXES", "DEFAULT_MAX_CELLS", "Player", "animate_backward", "node_details", "step_text"]

DEFAULT_MAX_CELLS = 250_000
"""Most (frames x nodes) an animation may hold: the page stores every gradient of every frame,
so this caps it at a few megabytes and keeps stepping instant."""

AUTO_COLLAPSE_BOXES = 150
"""With `collapse="auto"`, a graph with more values than this that was built in neuron scopes is
drawn one box per neuron (the page would otherwise weigh megabytes)."""

_PLAYER_OPTIONS = ("rankdir", "digits", "color_by_grad", "max_nodes", "cluster")


class Player:
    """A recorded backward pass as an HTML page. `save(path)` writes it; in Jupyter a Player
    shows inline, as the last line of a cell.

    Attributes:
        html: the whole page, self-contained.
        title: the page's title.
        frames: how many frames the page has (steps + 1).
        path: where `animate_backward` saved it, or None.
    """

    def __init__(self, html: str, title: str, frames: int, path: Path | None = None):
        self.html = html
        self.title = title
        self.frames = frames
        self.path = path

    def save(self, path) -> Path:
        """Write the page to `path` (an .html file) and return the path."""
        path = _html_path(path)
        path.write_text(self.html, encoding="utf-8")
        self.path = path
        return path

    def _repr_html_(self) -> str:
        # In a sandboxed iframe the page keeps its own ids, styles and keyboard, apart from the
        # notebook's, and two players in one notebook do not interfere.
        # The page goes in single quotes, so only its few & and ' need escaping (the SVG and the
        # JSON are full of double quotes, which would each cost six characters).
        srcdoc = self.html.replace("&", "&amp;").replace("'", "&#39;")
        return (
            f'<iframe title="{html_lib.escape(self.title)}" srcdoc=\'{srcdoc}\' '
            'sandbox="allow-scripts" style="width: 100%; height: 680px; border: 1px solid #dee2e6"></iframe>'
        )

    def __repr__(self) -> str:
        where = f", saved to {str(self.path)!r}" if self.path else ""
        return f"<Player {self.title!r}: {self.frames} frames{where}>"


def step_text(step, digits: int = 4) -> str:
    """The chain-rule text of one backward step, as the REPL, the CLI and the player show it:
    `step.text(digits)`, which at the default 4 digits is `str(step)`."""
    return step.text(digits)


def animate_backward(root, path=None, *, interval_ms: int = 900, max_cells: int | None = DEFAULT_MAX_CELLS,
                     collapse="auto", **options) -> Player:
    """Record `root.backward_steps()` as a `Player`: an HTML page that replays it frame by frame.

    Args:
        root: the Value to backpropagate from (e.g. a loss).
        path: an `.html` file to write the page to (optional: a Player also shows in Jupyter).
        interval_ms: time per frame when playing.
        max_cells: most frames x nodes (None: no limit); more raises `GraphTooLargeError`.
        collapse: "auto" (one box per neuron when the graph has more than AUTO_COLLAPSE_BOXES
            values built in neuron scopes, else every value), None (every value), or a level as
            in `DrawOptions.collapse` ("neuron", "layer", an int depth). A collapsed box shows
            the norm of its parameters' gradients so far.
        **options: drawing options (see `DrawOptions`): rankdir, digits, color_by_grad,
            max_nodes, cluster.

    The frames show one pass's gradients, every node starting from pending, even when the graph
    already went through `backward()` (as in `o.backward(); animate_backward(o, ...)`).

    No side effects: making the picture runs a backward pass, but every node's `grad` is put back
    as it was afterwards (also after an error), so animating inside a training loop never
    changes the next optimizer step.
    """
    drawing_options = DrawOptions.from_keywords("animate_backward", options, allowed=_PLAYER_OPTIONS)
    if not isinstance(interval_ms, int) or isinstance(interval_ms, bool) or interval_ms < 50:
        raise ValueError(f"interval_ms must be an int >= 50, got {interval_ms!r}")
    if path is not None:
        path = _html_path(path)
    # Everything that can fail is checked before any gradient is touched.
    check_root(root)
    order = topological_order(root)
    collapse = _collapse_level(collapse, order)
    drawing_options = dataclasses.replace(drawing_options, collapse=collapse)
    steps_total = sum(1 for node in order if node.parents)
    cells = (steps_total + 1) * len(order)
    if max_cells is not None and cells > max_cells:
        raise GraphTooLargeError(
            f"animation would hold {steps_total + 1} frames x {len(order)} nodes = {cells} cells, more than "
            f"max_cells={max_cells}; animate a smaller expression (e.g. one neuron or one sample's loss) "
            f"or raise max_cells"
        )
    build_drawing(root, dataclasses.replace(drawing_options, show_grad=False))  # checks max_nodes
    check_graphviz()

    # Leaves accumulate across backward() calls, so on a graph that was already backpropagated
    # the steps would start from old gradients: frames would mix old and new numbers. Start
    # every leaf from 0, so each number shown belongs to this pass; afterwards put every
    # gradient back, because a picture should not change the model it shows.
    saved = [node.grad for node in order]
    for node in order:
        if not node.parents:
            node.grad = 0.0
    try:
        frames, raw = _record_frames(root, order, drawing_options)
        boxes = _Boxes(order, collapse)
        frames = [boxes.frame(frame, raw_grads, drawing_options) for frame, raw_grads in zip(frames, raw)]
        # Lay every box out for the widest text it will ever show, so no frame needs a new
        # layout (a collapsed box is laid out with the final gradients, as wide as any).
        widest = [max((f["grads"][boxes.box_of[k]] for f in frames), key=len) for k in range(len(order))]
        for node, g in zip(order, raw[-1]):
            node.grad = g
        show_grad = True if collapse is not None else False
        drawing = build_drawing(root, dataclasses.replace(drawing_options, show_grad=show_grad), grad_text=widest)
    finally:
        for node, grad in zip(order, saved):
            node.grad = grad
    svg = render(drawing.digraph, "svg").decode("utf-8")
    svg = _compact_svg(svg[svg.index("<svg") :])  # no XML prolog or DOCTYPE: the SVG goes inline
    title = f"gradwalk: backprop through {drawing.names[root]}"
    data = {
        "boxes": boxes.ids,
        "frames": _as_differences(frames),
        "nodes": boxes.info(root, drawing.names, drawing_options.digits),
        "interval": interval_ms,
        "colored": drawing_options.color_by_grad,
    }
    player = Player(_page(svg, data, title), title, len(frames))
    if path is not None:
        player.save(path)
    return player


def _collapse_level(collapse, order):
    """The collapse level the page is drawn at (None: every value gets its own box)."""
    if collapse == "auto":
        big = len(order) > AUTO_COLLAPSE_BOXES
        return "neuron" if big and any(node.scope and "neurons" in node.scope for node in order) else None
    check_level("collapse", collapse)
    return collapse


def _compact_svg(svg: str) -> str:
    """Graphviz's SVG without what no browser shows: its comments and <title> tooltips, and
    with shapes' coordinates rounded to whole points (a point is 1.33 pixels at 100% zoom)."""
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)
    svg = re.sub(r"<title>[^<]*</title>\n?", "", svg)
    whole = lambda m: str(round(float(m.group(0))))  # noqa: E731
    return re.sub(r' (d|points)="([^"]*)"',
                  lambda m: f' {m.group(1)}="{re.sub(r"-?[0-9]+[.][0-9]+", whole, m.group(2))}"', svg)


def _html_path(path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"the player is an .html file, not {path.suffix or 'a file without suffix'!r}")
    return path


# -- frames -------------------------------------------------------------------------------------


def _record_frames(root, order, options: DrawOptions) -> tuple[list[dict], list[list[float]]]:
    """Consume `root.backward_steps()`, recording what every frame shows per node, and every
    node's gradient so far per frame."""
    digits = options.digits
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
    raws = []  # per frame, every node's gradient so far

    def frame(current, title, text, edges=(), updated=()):
        fills = None
        if options.color_by_grad:
            peak = max((abs(g) for g, s in zip(raw, state) if s != "p"), default=0.0)
            fills = [grad_color(g, peak) if s != "p" else "#ffffff" for g, s in zip(raw, state)]
        raws.append(list(raw))
        return {
            "current": current, "op": f"o{current}" if current >= 0 else None, "edges": list(edges),
            "updated": list(updated), "grads": list(grads), "state": "".join(state), "fills": fills,
            "title": title, "text": text,
        }

    root_name = node_names(order)[root]  # the root's one name, in every frame
    frames = [
        frame(
            -1,
            "Before backward: no gradient is known yet (grad ?)",
            f"Backprop starts at the output {root_name} with d{root_name}/d{root_name} = 1, then walks the "
            f"graph backwards, each node passing (local derivative x its own gradient) to its inputs.\n"
            f"Press -> (or space to play); click a box to see its formula and local derivatives.",
        )
    ]
    for step in root.backward_steps():
        k = index[id(step.node)]
        if grads[n - 1] == PENDING:  # backward seeded the root; nothing flows into it, so it is final
            raw[n - 1], grads[n - 1], state[n - 1] = root.grad, "grad " + format_number(root.grad, digits), "d"
        updated = []
        for edge in step.edges:
            j = index[id(edge.parent)]
            raw[j] = edge.grad_after
            grads[j] = "grad " + format_number(edge.grad_after, digits)
            users_left[j] -= 1
            state[j] = "d" if users_left[j] == 0 else "a"
            if j not in updated:
                updated.append(j)
        # The counter and the step's own text give "step k of n"; the title says what happens.
        title = f"The gradient at {step.node_name} ({step.node.op}) goes back to its input{'s' if len(step.edges) != 1 else ''}"
        if step.index == step.total:
            title += " -- done: every gradient is final, as one backward() leaves it"
        edges = [f"e{k}"] + [f"e{k}_{i}" for i in range(len(step.edges))]
        frames.append(frame(k, title, step_text(step, digits), edges, updated))
    if len(frames) == 1:  # the root is a leaf: backward only seeds its gradient
        frames[0]["text"] = f"{root_name} is a leaf: backward only adds 1 to its gradient (d{root_name}/d{root_name} = 1)."
    return frames, raws


# -- boxes: one per value, or one per collapsed group --------------------------------------------

class _Boxes:
    """The boxes a page draws and what each shows: box j is value j when nothing is collapsed;
    collapsed, a value in a group is drawn in its group's box `g{n}` (numbered as
    `engine.drawing.build` numbers them: by first appearance in topological order)."""

    def __init__(self, order, collapse):
        self.order = order
        index = {id(node): k for k, node in enumerate(order)}
        keys = ([None] * len(order) if collapse is None
                else keys_with_adoption(order, index, lambda scope: group_key(scope, collapse)))
        self.ids, self.box_of, self.members, self.keys = [], [], {}, {}
        group_box: dict = {}
        for k, key in enumerate(keys):
            if key is None:
                self.box_of.append(len(self.ids))
                self.ids.append(f"v{k}")
                continue
            if key not in group_box:
                group_box[key] = len(self.ids)
                self.keys[len(self.ids)], self.members[len(self.ids)] = key, []
                self.ids.append(f"g{len(group_box) - 1}")
            self.box_of.append(group_box[key])
            self.members[group_box[key]].append(k)

    def frame(self, frame: dict, raw: list, options: DrawOptions) -> dict:
        """A per-node frame as the page shows it, per box; a group box shows the norm of its
        parameters' gradients that have arrived (its members', if it has no parameter)."""
        if not self.members:
            return frame
        grads, state, fills = [], [], []
        for j, box in enumerate(self.ids):
            if j not in self.members:
                k = int(box[1:])
                grads.append(frame["grads"][k])
                state.append(frame["state"][k])
                fills.append(frame["fills"][k] if frame["fills"] else "#ffffff")
                continue
            members = self.members[j]
            counted = [k for k in members if self.order[k].param] or members
            states = {frame["state"][k] for k in counted}
            known = [raw[k] for k in counted if frame["state"][k] != "p"]
            norm = math.sqrt(sum(g * g for g in known))
            grads.append("|grad params| " + format_number(norm, options.digits) if known else PENDING)
            state.append("p" if states == {"p"} else "d" if states == {"d"} else "a")
            fills.append("#ffffff")
        current = frame["current"]
        shown = current >= 0 and current not in self.members.get(self.box_of[current], ())
        return {
            **frame, "current": self.box_of[current] if current >= 0 else -1,
            "op": frame["op"] if shown else None,
            "edges": frame["edges"] if shown else [],
            "updated": sorted({self.box_of[k] for k in frame["updated"]}),
            "grads": grads, "state": "".join(state), "fills": fills if frame["fills"] else None,
        }

    def info(self, root, names, digits) -> list[dict]:
        """Per box, what its detail panel shows (the grad comes from the frame being shown): the
        definition and local-derivative formulas are the ones the step texts print."""
        info = []
        for j, box in enumerate(self.ids):
            if j in self.members:
                members = [self.order[k] for k in self.members[j]]
                params = sum(1 for node in members if node.param)
                info.append({
                    "name": self.keys[j], "operand": self.keys[j], "kind": "group", "op": "", "formula": "",
                    "data": f"{len(members)} values, {params} params", "scope": self.keys[j], "locals": [],
                })
                continue
            node = self.order[int(box[1:])]
            name = names[node]
            parents = [parenthesised(names[p]) for p in node.parents]
            definition = written(node.op, parents, max_terms=4) if node.parents else ""
            formulas = local_formulas(node.op, parents, parenthesised(name)) if node.parents else []
            locals_ = node.local_grad() if node.parents else ()
            info.append({
                "name": name, "operand": parenthesised(name), "kind": node_kind(node, node is root),
                "op": str(node.op), "formula": definition, "data": format_number(node.data, digits),
                "scope": node.scope or "",
                "locals": [[operand, formula, format_number(d, digits)]
                           for operand, formula, d in zip(parents, formulas, locals_)],
            })
        return info


def node_details(root, order, names, digits) -> list[dict]:
    """Per value in `order`, what clicking its box shows (the notebook's stepper widget too)."""
    return _Boxes(order, None).info(root, names, digits)


def _as_differences(frames: list[dict]) -> list[dict]:
    """Frame 0 whole; every later frame with `changed`: [box, grad text, state, fill] for each
    box that differs from the frame before, instead of every box's grads, states and fills."""
    out = [frames[0]]
    for before, frame in zip(frames, frames[1:]):
        fills, old = frame["fills"] or [None] * len(frame["grads"]), before["fills"] or [None] * len(frame["grads"])
        changed = [[j, grad, state, fill] for j, (grad, state, fill) in enumerate(zip(frame["grads"], frame["state"], fills))
                   if (grad, state, fill) != (before["grads"][j], before["state"][j], old[j])]
        out.append({**{k: v for k, v in frame.items() if k not in ("grads", "state", "fills")}, "changed": changed})
    return out


# -- the page -----------------------------------------------------------------------------------


def _template(name: str) -> str:
    """A file of the page template, shipped as package data in engine/drawing/templates/."""
    return resources.files("engine.drawing").joinpath("templates", name).read_text(encoding="utf-8")


def _json_for_script(data) -> str:
    """JSON safe inside <script>: no `</script>`, `<!--` or `&` can appear in the output."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page(svg: str, data: dict, title: str) -> str:
    """The template with every {{NAME}} filled in one pass (so no filled-in text is read again)."""
    values = {
        "TITLE": html_lib.escape(title),
        "TOTAL": str(len(data["frames"]) - 1),
        "STYLE": _template("player.css"),
        "SCRIPT": _template("player.js"),
        "DATA": _json_for_script(data),
        "SVG": svg.replace("<svg ", '<svg id="gw-svg" ', 1),
    }
    return re.sub(r"\{\{([A-Z]+)\}\}", lambda m: values[m.group(1)], _template("player.html"))
