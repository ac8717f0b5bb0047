"""Pictures of computation graphs, rendered with Graphviz.

    >>> from engine import Value, draw_dot
    >>> x, w = Value(2.0, "x"), Value(-3.0, "w")
    >>> out = (x * w).tanh()
    >>> out.backward()
    >>> dot = draw_dot(out)          # a graphviz.Digraph; Jupyter displays it inline
    >>> save_graph(out, "out.svg")   # .svg, .png or .dot, by suffix   # doctest: +SKIP

What a drawing shows
--------------------
* One box per `Value`: its name (its label, or `#k` -- the very names `backward_steps()` prints),
  its `data` and its `grad`. Boxes are coloured by kind, and a small tag names the kind:
    - **output** (the root you drew): yellow, thick border;
    - **param** (`param=True`, a trainable parameter): blue;
    - **input** (a leaf with a label): green;
    - **const** (a leaf without a label, e.g. the `2` in `tanh(2)`): grey, dashed border;
    - interior results: white.
* One small ellipse per operation, with the op text (`*`, `tanh`, and folded constants such as
  `*3` or `**2`), so `parent -> op -> result` reads like the formula.
* Gradients that were never computed are shown as `grad ?`, not as a misleading 0. The rule
  (`show_grad=None`, the default): gradients count as computed when `root.grad != 0`, because
  any backward pass seeds the root with `+1`. Pass `show_grad=True` or `False` to force it.

Determinism: Graphviz node ids come from topological positions (`v3`, `o3`, `e3_0` ...), never
from `id()`, and nothing iterates a set, so the same graph gives byte-identical DOT source (and,
with the same Graphviz, identical SVG) in every run and process.

Large graphs: laying out thousands of nodes takes Graphviz many seconds to minutes, so drawing
more than `max_nodes` boxes raises `GraphTooLargeError`. Networks built with `nn` stamp every
node with a `scope` such as `layers.1.neurons.3`; `cluster=` groups boxes by it and `collapse=`
replaces each neuron or layer by a single box, which is how a whole MLP loss fits on a page.
"""

from __future__ import annotations

import math
from pathlib import Path

import graphviz

from engine.graph import node_names, topological_order

__all__ = [
    "DEFAULT_MAX_NODES",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "draw",
    "draw_dot",
    "mimebundle",
    "render",
    "save_graph",
]

DEFAULT_MAX_NODES = 600
"""Boxes drawn at most by default. Each box comes with an op ellipse, so this is ~1,200 Graphviz
nodes: a couple of seconds of layout. (Graphviz needs ~5 s for 3,000 nodes and minutes for 10,000.)"""

INSTALL_HINT = (
    "install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
    "`conda install -c conda-forge graphviz`, or see https://graphviz.org/download/"
)

# Fill colours per kind of box; chosen light so black text stays readable on all of them.
_FILL = {
    "output": "#fff3bf",
    "param": "#d0ebff",
    "input": "#d3f9d8",
    "const": "#f1f3f5",
    "value": "#ffffff",
    "group": "#e5dbff",
}
_TAG = {"output": "output", "param": "param", "input": "input", "const": "const", "value": "", "group": ""}
_OP_FILL = "#f8f9fa"
PENDING = "grad ?"  # what a grad cell says before the gradient was computed
_FONT = "Helvetica,Arial,sans-serif"
_MAX_LINE = 60  # characters per label line before it is cut with an ellipsis
_MAX_LINES = 4  # label lines shown


class GraphTooLargeError(ValueError):
    """The graph has more boxes than `max_nodes`; the message lists what to do instead."""


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's `dot` program is not installed (or not on PATH); the message says how to install it."""


# -- the public API -----------------------------------------------------------------------------


def draw_dot(
    root,
    *,
    rankdir: str = "LR",
    digits: int = 4,
    show_grad: bool | None = None,
    color_by_grad: bool = False,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    cluster=None,
    collapse=None,
) -> graphviz.Digraph:
    """The computation graph of `root` as a `graphviz.Digraph` (Jupyter displays it inline).

    Args:
        root: the Value whose graph to draw (usually a loss or an output).
        rankdir: `"LR"` (left to right, the default), `"TB"`, `"RL"` or `"BT"`.
        digits: significant digits for data and grad.
        show_grad: None (default): gradients are numbers once computed, i.e. when
            `root.grad != 0` (every backward pass seeds the root with +1), and read `grad ?`
            before. True always shows the numbers; False leaves the grad row out.
        color_by_grad: tint each grad cell by sign and size: blue positive, red negative, the
            stronger the larger |grad| relative to the largest in the graph.
        max_nodes: most boxes to draw (None: no limit); more raises `GraphTooLargeError`.
        cluster: group boxes into framed clusters by `Value.scope`: `"neuron"` (nested inside
            their layer), `"layer"`, or an int depth (scope `a.b.c` at depth 2 -> `a.b`).
        collapse: replace every group (same choices as `cluster`) by one box showing the group's
            size and its parameters' gradient norm. Leaves without a scope (e.g. parameters)
            join a group when every node that uses them lies in that group.

    Raises:
        GraphTooLargeError: more than `max_nodes` boxes.
        ValueError / TypeError: an invalid option.
    """
    return _build(
        root,
        rankdir=rankdir,
        digits=digits,
        show_grad=show_grad,
        color_by_grad=color_by_grad,
        max_nodes=max_nodes,
        cluster=cluster,
        collapse=collapse,
    ).digraph


def draw(root, path=None, **draw_kw) -> graphviz.Digraph:
    """`draw_dot(root, **draw_kw)`, also saved to `path` (.svg/.png/.dot) when one is given.

    In a notebook, `draw(loss)` as the last line of a cell shows the graph inline.
    """
    dot = draw_dot(root, **draw_kw)
    if path is not None:
        save_graph(dot, path)
    return dot


def save_graph(root_or_digraph, path, **draw_kw) -> Path:
    """Write a drawing to `path`; the suffix picks the format: `.svg`, `.png`, or `.dot`/`.gv`.

    `root_or_digraph` is a Value (drawn with `draw_dot(root, **draw_kw)`) or a ready Digraph.
    `.dot` needs no Graphviz install. For `.svg`/`.png`, if Graphviz's `dot` program is missing
    the DOT source is still written next to `path` (same name, `.dot` suffix), and then
    `GraphvizNotFoundError` says how to install Graphviz. Returns the path written.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png", "dot", "gv"):
        raise ValueError(f"save_graph writes .svg, .png or .dot files, not {path.suffix or 'a file without suffix'!r}")
    if isinstance(root_or_digraph, graphviz.Digraph):
        if draw_kw:
            raise TypeError("drawing options only apply when save_graph is given a Value, not a Digraph")
        dot = root_or_digraph
    else:
        dot = draw_dot(root_or_digraph, **draw_kw)
    if fmt in ("dot", "gv"):
        path.write_text(dot.source, encoding="utf-8")
        return path
    try:
        data = render(dot, fmt)
    except GraphvizNotFoundError as error:
        fallback = path.with_suffix(".dot")
        fallback.write_text(dot.source, encoding="utf-8")
        raise GraphvizNotFoundError(
            f"{error} -- wrote the DOT source to {fallback} instead; render it later with "
            f"`dot -T{fmt} {fallback} -o {path}`"
        ) from None
    path.write_bytes(data)
    return path


def render(dot: graphviz.Digraph, fmt: str = "svg") -> bytes:
    """Run Graphviz on `dot` and return the `fmt` output; `GraphvizNotFoundError` if it is missing."""
    try:
        return dot.pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(f"Graphviz's `dot` program was not found on PATH; {INSTALL_HINT}") from None


def mimebundle(root, include=None, exclude=None) -> dict:
    """What Jupyter should show for a Value: its graph as SVG, or just its repr when the graph is
    too large or Graphviz is missing (a repr must never raise). Meant for `Value._repr_mimebundle_`."""
    text = {"text/plain": repr(root)}
    try:
        svg = render(draw_dot(root), "svg").decode("utf-8")
    except (GraphTooLargeError, GraphvizNotFoundError, graphviz.CalledProcessError):
        return text
    bundle = {"image/svg+xml": svg, **text}
    if include:
        bundle = {k: v for k, v in bundle.items() if k in include}
    if exclude:
        bundle = {k: v for k, v in bundle.items() if k not in exclude}
    return bundle


# -- building the graph -------------------------------------------------------------------------


class _Drawing:
    """What `_build` made: the Digraph plus the bookkeeping the backprop player needs."""

    __slots__ = ("digraph", "order", "names", "index")

    def __init__(self, digraph, order, names, index):
        self.digraph = digraph
        self.order = order  # topological order of every Value in the graph
        self.names = names  # id(value) -> display name
        self.index = index  # id(value) -> position in `order` (the k of node id `v{k}`)


def _build(
    root,
    *,
    rankdir="LR",
    digits=4,
    show_grad=None,
    color_by_grad=False,
    max_nodes=DEFAULT_MAX_NODES,
    cluster=None,
    collapse=None,
    grad_text=None,
) -> _Drawing:
    """Build the Digraph. `grad_text` (position -> text) overrides every grad cell; the player
    uses it to lay each box out for the widest text it will ever show, so frames never move."""
    _check_options(rankdir, digits, show_grad, max_nodes, cluster, collapse)
    order = topological_order(root)
    names = node_names(order)
    index = {id(node): k for k, node in enumerate(order)}
    # show_grad None: show numbers once a backward pass ran (it seeds root.grad += 1), else `grad ?`.
    computed = root.grad != 0.0 if show_grad is None else show_grad

    # Which group (collapsed box) each node belongs to: a position in `groups`, or None.
    group_of = [None] * len(order)
    groups: list[str] = []
    if collapse is not None:
        keys = _keys_with_adoption(order, index, lambda scope: _group_key(scope, collapse))
        group_pos: dict[str, int] = {}
        for k, key in enumerate(keys):
            if key is not None:
                if key not in group_pos:
                    group_pos[key] = len(groups)
                    groups.append(key)
                group_of[k] = group_pos[key]

    boxes = sum(1 for g in group_of if g is None) + len(groups)
    if max_nodes is not None and boxes > max_nodes:
        raise GraphTooLargeError(_too_large_message(order, boxes, max_nodes, collapse))

    # The cluster path (outermost first) of every drawn item; () means top level.
    def cluster_path(scope):
        return _cluster_path(scope, cluster) if cluster is not None else ()

    node_scope = [node.scope for node in order]
    if cluster is not None:
        adopted = _keys_with_adoption(order, index, lambda scope: scope)
        node_scope = adopted

    max_abs_grad = max((abs(n.grad) for n in order if math.isfinite(n.grad)), default=0.0)

    dot = graphviz.Digraph(
        name="gradwalk",
        graph_attr={
            "rankdir": rankdir,
            "fontname": _FONT,
            "nodesep": "0.25",
            "ranksep": "0.4",
            "bgcolor": "white",
            "labeljust": "l",
        },
        node_attr={"fontname": _FONT, "fontsize": "12"},
        edge_attr={"color": "#495057", "arrowsize": "0.7"},
    )

    # Node statements, each tagged with its cluster path; edges go at top level afterwards.
    items: list[tuple[tuple, str, dict]] = []
    edges: list[tuple[str, str, dict]] = []
    group_members = [[] for _ in groups]
    for k, node in enumerate(order):
        g = group_of[k]
        if g is not None:
            group_members[g].append(node)
            continue
        kind = _kind(node, node is root)
        if grad_text is not None:
            gtext = grad_text[k]
        elif show_grad is False:
            gtext = None
        elif computed:
            gtext = "grad " + _num(node.grad, digits)
        else:
            gtext = PENDING
        gfill = _grad_color(node.grad, max_abs_grad) if (color_by_grad and computed) else "#ffffff"
        label = _value_label(names[id(node)], kind, "data " + _num(node.data, digits), gtext, gfill)
        path = cluster_path(node_scope[k])
        items.append((path, f"v{k}", {"label": label, "shape": "plain", "id": f"v{k}"}))
        if node.parents:
            items.append(
                (
                    path,
                    f"o{k}",
                    {
                        "label": "<" + _escape(node.op or "?") + ">",
                        "shape": "ellipse",
                        "style": "filled",
                        "fillcolor": _OP_FILL,
                        "color": "#868e96",
                        "fontsize": "11",
                        "margin": "0.04,0.02",
                        "height": "0.3",
                        "id": f"o{k}",
                    },
                )
            )
            edges.append((f"o{k}", f"v{k}", {"id": f"e{k}"}))
            for i, parent in enumerate(node.parents):
                j = index[id(parent)]
                src = f"g{group_of[j]}" if group_of[j] is not None else f"v{j}"
                edges.append((src, f"o{k}", {"id": f"e{k}_{i}"}))

    # Collapsed groups: one box each, and one edge per distinct (source, group) pair.
    seen_group_edges: set[tuple[str, str]] = set()
    for k, node in enumerate(order):
        g = group_of[k]
        if g is None:
            continue
        for parent in node.parents:
            j = index[id(parent)]
            if group_of[j] == g:
                continue
            src = f"g{group_of[j]}" if group_of[j] is not None else f"v{j}"
            pair = (src, f"g{g}")
            if pair not in seen_group_edges:
                seen_group_edges.add(pair)  # membership test only; order comes from this loop
                edges.append((src, f"g{g}", {"id": f"x{len(seen_group_edges)}"}))
    # Boxes in natural scope order (neurons.2 before neurons.10): Graphviz keeps statement order
    # within a rank, so a layer's neurons line up 0, 1, 2, ... as in a textbook figure.
    for g in sorted(range(len(groups)), key=lambda g: _natural(groups[g])):
        key = groups[g]
        members = group_members[g]
        params = [m for m in members if m.param]
        lines = [f"{len(members)} values" + (f", {len(params)} params" if params else "")]
        if params and computed and show_grad is not False:
            norm = math.sqrt(sum(p.grad * p.grad for p in params))
            lines.append("|grad params| " + _num(norm, digits))
        holds_root = any(m is root for m in members)
        label = _group_label(key, lines, "output" if holds_root else "group")
        items.append((cluster_path(key), f"g{g}", {"label": label, "shape": "plain", "id": f"g{g}"}))

    _emit_clusters(dot, items)
    for src, dst, attrs in edges:
        dot.edge(src, dst, **attrs)
    return _Drawing(dot, order, names, index)


def _emit_clusters(dot, items) -> None:
    """Add node statements to `dot`, nesting those with a cluster path in `cluster_*` subgraphs.

    Clusters are numbered and emitted in order of first appearance, so the output is stable."""
    top = [(name, attrs) for path, name, attrs in items if not path]
    for name, attrs in top:
        dot.node(name, **attrs)
    paths: list[tuple] = []
    members: dict[tuple, list] = {}
    for path, name, attrs in items:
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            if prefix not in members:
                members[prefix] = []
                paths.append(prefix)
        if path:
            members[path].append((name, attrs))
    paths.sort(key=lambda path: tuple(_natural(key) for key in path))
    number = {p: n for n, p in enumerate(paths)}

    def emit(parent, path):
        with parent.subgraph(name=f"cluster_{number[path]}") as sub:
            sub.attr(
                label="<" + _escape(path[-1]) + ">",
                style="rounded,dashed",
                color="#adb5bd",
                fontcolor="#495057",
                fontsize="11",
                id=f"c{number[path]}",
            )
            for name, attrs in members[path]:
                sub.node(name, **attrs)
            for child in paths:
                if len(child) == len(path) + 1 and child[: len(path)] == path:
                    emit(sub, child)

    for path in paths:
        if len(path) == 1:
            emit(dot, path)


# -- grouping by scope --------------------------------------------------------------------------


def _check_level(name: str, level) -> None:
    if level is None or level in ("neuron", "layer"):
        return
    if isinstance(level, int) and not isinstance(level, bool) and level >= 1:
        return
    raise ValueError(f"{name} must be None, 'neuron', 'layer' or a depth >= 1, got {level!r}")


def _scope_prefix(scope: str, keyword: str):
    """`scope` cut just after the segment following `keyword`: ('a.layers.1.neurons.3', 'layers')
    -> 'a.layers.1'. None when the scope has no such segment."""
    parts = scope.split(".")
    for i, part in enumerate(parts[:-1]):
        if part == keyword:
            return ".".join(parts[: i + 2])
    return None


def _group_key(scope, level):
    """The group a scope falls into at `level` ('neuron', 'layer' or a depth), or None."""
    if not scope:
        return None
    if level == "neuron":
        return _scope_prefix(scope, "neurons")
    if level == "layer":
        return _scope_prefix(scope, "layers")
    return ".".join(scope.split(".")[:level])


def _cluster_path(scope, level) -> tuple:
    """Nested cluster keys for a scope: neurons sit inside their layer's cluster."""
    key = _group_key(scope, level)
    if key is None:
        return ()
    if level == "neuron":
        layer = _scope_prefix(key, "layers")
        return (layer, key) if layer and layer != key else (key,)
    return (key,)


def _natural(key: str) -> tuple:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in key.split("."))


def _keys_with_adoption(order, index, key_of) -> list:
    """`key_of(node.scope)` per node; a leaf without a key takes its users' key when they all
    share one (parameters created outside any scope join the neuron that uses them)."""
    keys = [key_of(node.scope) for node in order]
    users: list[list[int]] = [[] for _ in order]
    for k, node in enumerate(order):
        for parent in node.parents:
            users[index[id(parent)]].append(k)
    for k, node in enumerate(order):
        if keys[k] is None and not node.parents and users[k]:
            first = keys[users[k][0]]
            if first is not None and all(keys[u] == first for u in users[k]):
                keys[k] = first
    return keys


def _too_large_message(order, boxes, max_nodes, collapse) -> str:
    scoped = any(node.scope for node in order)
    advice = []
    if collapse is None and scoped:
        advice.append("collapse='neuron' or collapse='layer' (one box per neuron/layer)")
    elif collapse is not None:
        advice.append("a coarser collapse= ('layer', or a smaller depth)")
    else:
        advice.append("build the graph inside engine.name_scope(...) blocks and pass collapse=")
    advice.append("draw a smaller expression (e.g. the loss of one sample)")
    advice.append(f"or raise max_nodes (Graphviz needs seconds per thousand boxes)")
    return (
        f"graph has {boxes} boxes to draw, more than max_nodes={max_nodes}; try "
        + "; ".join(advice)
    )


# -- labels -------------------------------------------------------------------------------------


def _check_options(rankdir, digits, show_grad, max_nodes, cluster, collapse) -> None:
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    if not isinstance(digits, int) or isinstance(digits, bool) or not 1 <= digits <= 17:
        raise ValueError(f"digits must be an int from 1 to 17, got {digits!r}")
    if show_grad not in (None, True, False):
        raise ValueError(f"show_grad must be None, True or False, got {show_grad!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    _check_level("cluster", cluster)
    _check_level("collapse", collapse)


def _kind(node, is_root: bool) -> str:
    if is_root:
        return "output"
    if node.param:
        return "param"
    if not node.parents:
        return "input" if node.label else "const"
    return "value"


def _num(x: float, digits: int) -> str:
    return f"{x + 0.0:.{digits}g}"  # + 0.0 turns -0.0 into 0.0: "-0" would puzzle a reader


def _escape(text: str) -> str:
    """`text` as the body of a Graphviz HTML-like label, rendering literally.

    `& < > " '` become entities (so `<lambda>`, `a|b`, `{x}` and quotes are plain text: HTML
    labels have no record-field syntax); a backslash is doubled, because Graphviz still expands
    `\\N` (node name), `\\G` and `\\l` inside HTML labels; line breaks become `<BR/>`;
    tabs become spaces; other control characters, which SVG/XML cannot carry, are shown as
    `\\xNN`. Very long labels are cut with an ellipsis so one name cannot swamp a drawing.
    """
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(lines) > _MAX_LINES:
        lines = lines[: _MAX_LINES - 1] + ["…"]
    out = []
    for line in lines:
        if len(line) > _MAX_LINE:
            line = line[: _MAX_LINE - 1] + "…"
        chars = []
        for ch in line:
            if ch == "&":
                chars.append("&amp;")
            elif ch == "<":
                chars.append("&lt;")
            elif ch == ">":
                chars.append("&gt;")
            elif ch == '"':
                chars.append("&quot;")
            elif ch == "'":
                chars.append("&#39;")
            elif ch == "\\":
                chars.append("\\\\")  # Graphviz expands \N, \G, \l even in HTML labels; \\ is one \
            elif ch == "\t":
                chars.append("    ")
            elif ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF or ord(ch) in (0xFFFE, 0xFFFF):
                chars.append(f"\\\\x{ord(ch):02x}")
            else:
                chars.append(ch)
        out.append("".join(chars))
    return "<BR/>".join(out)


def _value_label(name: str, kind: str, data_text: str, grad_text, grad_fill: str) -> str:
    """HTML-like label for one Value: name (+ kind tag), data, grad, stacked.

    The grad cell is always last and always has a BGCOLOR (hence its own background polygon in
    SVG): the player finds and rewrites it there."""
    border = "2" if kind == "output" else "1"
    style = ' STYLE="dashed"' if kind == "const" else ""
    tag = _TAG[kind]
    head = f"<B>{_escape(name)}</B>"
    if tag:
        head += f' <FONT POINT-SIZE="9" COLOR="#495057">{tag}</FONT>'
    rows = [f"<TR><TD>{head}</TD></TR>", f"<TR><TD>{_escape(data_text)}</TD></TR>"]
    if grad_text is not None:
        rows.append(f'<TR><TD BGCOLOR="{grad_fill}">{_escape(grad_text)}</TD></TR>')
    return (
        f'<<TABLE BORDER="{border}"{style} CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" '
        f'BGCOLOR="{_FILL[kind]}" COLOR="#343a40">' + "".join(rows) + "</TABLE>>"
    )


def _group_label(key: str, lines, kind: str) -> str:
    rows = [f"<TR><TD><B>{_escape(key)}</B></TD></TR>"]
    rows += [f'<TR><TD><FONT POINT-SIZE="10">{_escape(line)}</FONT></TD></TR>' for line in lines]
    border = "2" if kind == "output" else "1"
    return (
        f'<<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
        f'BGCOLOR="{_FILL[kind]}" COLOR="#5f3dc4" STYLE="rounded">' + "".join(rows) + "</TABLE>>"
    )


def _grad_color(g: float, max_abs: float) -> str:
    """Blue for positive, red for negative gradients; the tint grows with |g| / max |g|
    (square-rooted, so small-but-nonzero gradients are still visible)."""
    if not math.isfinite(g):
        return "#ffa94d"  # orange: inf/nan stands out from both signs
    if g == 0.0 or max_abs == 0.0:
        return "#ffffff"
    t = 0.7 * math.sqrt(min(1.0, abs(g) / max_abs))
    base = (28, 126, 214) if g > 0 else (224, 49, 49)
    r, gr, b = (round(255 + (c - 255) * t) for c in base)
    return f"#{r:02x}{gr:02x}{b:02x}"
