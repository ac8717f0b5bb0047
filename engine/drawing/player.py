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
import re
from importlib import resources
from pathlib import Path

from engine.drawing.build import DrawOptions, GraphTooLargeError, build_drawing, check_graphviz, check_root, render
from engine.drawing.style import PENDING, format_number, grad_color, node_kind
from engine.core.graph import node_names, topological_order
from engine.stepper.text import describe, parenthesised

__all__ = ["DEFAULT_MAX_CELLS", "Player", "animate_backward", "step_text"]

DEFAULT_MAX_CELLS = 250_000
"""Most (frames x nodes) an animation may hold: the page stores every gradient of every frame,
so this caps it at a few megabytes and keeps stepping instant."""

_PLAYER_OPTIONS = ("rankdir", "digits", "color_by_grad", "max_nodes", "cluster")  # collapse would hide nodes


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
        return (
            f'<iframe title="{html_lib.escape(self.title)}" srcdoc="{html_lib.escape(self.html)}" '
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
                     **options) -> Player:
    """Record `root.backward_steps()` as a `Player`: an HTML page that replays it frame by frame.

    Args:
        root: the Value to backpropagate from (e.g. a loss).
        path: an `.html` file to write the page to (optional: a Player also shows in Jupyter).
        interval_ms: time per frame when playing.
        max_cells: most frames x nodes (None: no limit); more raises `GraphTooLargeError`.
        **options: drawing options (see `DrawOptions`): rankdir, digits, color_by_grad,
            max_nodes, cluster. (`collapse` would hide nodes, and the player shows every node.)

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
        frames = _record_frames(root, order, drawing_options)
    finally:
        for node, grad in zip(order, saved):
            node.grad = grad

    # Lay every box out for the widest text it will ever show, so no frame needs a new layout.
    widest = [max((f["grads"][k] for f in frames), key=len) for k in range(len(order))]
    drawing = build_drawing(root, drawing_options, grad_text=widest)
    svg = render(drawing.digraph, "svg").decode("utf-8")
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE: the SVG goes inline
    title = f"gradwalk: backprop through {drawing.names[root]}"
    data = {
        "frames": frames,
        "nodes": _node_info(root, order, drawing.names, drawing_options.digits),
        "interval": interval_ms,
        "colored": drawing_options.color_by_grad,
    }
    player = Player(_page(svg, data, title), title, len(frames))
    if path is not None:
        player.save(path)
    return player


def _html_path(path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"the player is an .html file, not {path.suffix or 'a file without suffix'!r}")
    return path


# -- frames -------------------------------------------------------------------------------------


def _record_frames(root, order, options: DrawOptions) -> list[dict]:
    """Consume `root.backward_steps()`, recording what every frame shows."""
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

    def frame(current, title, text, edges=(), updated=()):
        fills = None
        if options.color_by_grad:
            peak = max((abs(g) for g, s in zip(raw, state) if s != "p"), default=0.0)
            fills = [grad_color(g, peak) if s != "p" else "#ffffff" for g, s in zip(raw, state)]
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
    return frames


# -- what clicking a box shows --------------------------------------------------------------------

def _node_info(root, order, names, digits) -> list[dict]:
    """Per node, what its detail panel shows (the grad comes from the frame being shown): the
    definition and local-derivative formulas are the ones the step texts print."""
    info = []
    for node in order:
        name = names[node]
        parents = [parenthesised(names[p]) for p in node.parents]
        definition, formulas = describe(node, parents, parenthesised(name)) if node.parents else ("", [])
        locals_ = node.local_grad() if node.parents else ()
        info.append({
            "name": name,
            "operand": parenthesised(name),
            "kind": node_kind(node, node is root),
            "op": str(node.op),
            "formula": definition,
            "data": format_number(node.data, digits),
            "scope": node.scope or "",
            "locals": [
                [operand, formula, format_number(d, digits)] for operand, formula, d in zip(parents, formulas, locals_)
            ],
        })
    return info


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
