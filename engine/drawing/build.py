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

Large graphs: drawing more than `max_nodes` boxes raises `GraphTooLargeError`. Networks (neurons,
layers, models) stamp every node with a `scope` such as `layers.1.neurons.3`; `cluster=` groups boxes
by it and `collapse=` replaces each neuron or layer by a single box, which is how a whole MLP
loss fits on a page. Jupyter's inline display collapses on its own (see `mimebundle`).
"""

from __future__ import annotations

import html
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import graphviz

from engine.drawing.groups import (ORDER_KEEPING, cluster_path, emit_clusters, group_key, keys_with_adoption,
                                   natural_order, short_name)
from engine.drawing.options import DEFAULT_MAX_NODES, DrawOptions
from engine.drawing.style import (
    FONT, OP_FILL, PENDING, escape, format_number, grad_color, group_label, node_kind, value_label,
)
from engine.core.graph import node_names, topological_order
from engine.core.value import Value

__all__ = [
    "DEFAULT_MAX_NODES", "INLINE_MAX_BOXES", "DrawOptions", "Drawing", "GraphTooLargeError",
    "GraphvizNotFoundError", "build_drawing", "check_graphviz", "check_root", "draw", "draw_dot", "inline_options",
    "mimebundle", "render", "save_graph",
]

INLINE_MAX_BOXES = 80
"""Boxes Jupyter shows inline at most; larger graphs are shown collapsed by neuron or layer."""

INSTALL_HINT = (
    "install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
    "`conda install -c conda-forge graphviz`, or see https://graphviz.org/download/"
)


class GraphTooLargeError(ValueError):
    """The graph has more boxes than `max_nodes`; the message lists what to do instead."""


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's `dot` program is not installed (or not on PATH); the message says how to install it."""


# -- the public API -----------------------------------------------------------------------------


def draw_dot(root, **options) -> graphviz.Digraph:
    """The computation graph of `root` as a `graphviz.Digraph` (Jupyter displays it inline).

    `root` is the Value whose graph to draw (usually a loss or an output). Options, all
    keyword-only (see `DrawOptions` for each): rankdir="LR", digits=4, show_grad=None,
    color_by_grad=False, max_nodes=600, cluster=None, collapse=None.

    Raises:
        TypeError: `root` is not a Value, or an unknown option.
        ValueError: an invalid option value.
        GraphTooLargeError: more than `max_nodes` boxes.
    """
    return build_drawing(root, DrawOptions.from_keywords("draw_dot", options)).digraph


def draw(root, path=None, **options) -> graphviz.Digraph:
    """`draw_dot(root, **options)`, also saved to `path` (.svg/.png/.dot) when one is given.

    In a notebook, `draw(loss)` as the last line of a cell shows the graph inline.
    """
    dot = build_drawing(root, DrawOptions.from_keywords("draw", options)).digraph
    if path is not None:
        save_graph(dot, path)
    return dot


def save_graph(root_or_digraph, path, **options) -> Path:
    """Write a drawing to `path`; the suffix picks the format: `.svg`, `.png`, or `.dot`/`.gv`.

    `root_or_digraph` is a Value (drawn with `draw_dot(root, **options)`) or a ready Digraph.
    `.dot` needs no Graphviz install. For `.svg`/`.png`, if Graphviz's `dot` program is missing
    the DOT source is still written next to `path` (same name, `.dot` suffix), and then
    `GraphvizNotFoundError` says how to install Graphviz. Returns the path written.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png", "dot", "gv"):
        raise ValueError(f"save_graph writes .svg, .png or .dot files, not {path.suffix or 'a file without suffix'!r}")
    if isinstance(root_or_digraph, graphviz.Digraph):
        if options:
            raise TypeError("drawing options only apply when save_graph is given a Value, not a Digraph")
        dot = root_or_digraph
    else:
        dot = build_drawing(root_or_digraph, DrawOptions.from_keywords("save_graph", options)).digraph
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


def check_graphviz() -> None:
    """Raise `GraphvizNotFoundError` (saying how to install it) unless Graphviz's `dot` is on PATH."""
    if shutil.which("dot") is None:
        raise GraphvizNotFoundError(f"Graphviz's `dot` program was not found on PATH; {INSTALL_HINT}")


# -- Jupyter ------------------------------------------------------------------------------------

# What the inline display tries, in order, until the drawing has at most INLINE_MAX_BOXES boxes.
_INLINE_CHOICES = ({}, {"collapse": "neuron", "cluster": "layer"}, {"collapse": "layer"}, {"collapse": 1})


def inline_options(root) -> DrawOptions | None:
    """The options Jupyter draws `root` with: every box when there are at most
    `INLINE_MAX_BOXES`, else one box per neuron, per layer, or per top-level scope, whichever
    is the first to fit. None when nothing fits (a graph without scopes)."""
    graph = _collect(root)
    for choice in _INLINE_CHOICES:
        options = DrawOptions(max_nodes=INLINE_MAX_BOXES, **choice)
        if _box_count(_group(graph, options)) <= INLINE_MAX_BOXES:
            return options
    return None


def mimebundle(root, include=None, exclude=None) -> dict:
    """What Jupyter shows for a Value (`Value._repr_mimebundle_`): its graph as SVG, collapsed
    as `inline_options` decides; when even that is too large, its repr and a line saying how to
    draw it; just its repr when Graphviz is missing -- a repr must never raise."""
    bundle = {"text/plain": repr(root)}
    options = inline_options(root)
    if options is None:
        bundle["text/html"] = (
            f"<pre>{html.escape(repr(root))}</pre><p>Its graph has more than {INLINE_MAX_BOXES} boxes, too many "
            f"to show inline; <code>draw_dot(value)</code> draws it.</p>"
        )
    else:
        drawing = build_drawing(root, options)
        if options.collapse is not None:
            drawing.digraph.attr(
                label=f"{len(drawing.order)} values, one box per {_level_name(options.collapse)} "
                f"(collapse={options.collapse!r}); draw_dot(value) draws each value",
                labelloc="t", fontsize="11",
            )
        try:
            bundle["image/svg+xml"] = render(drawing.digraph, "svg").decode("utf-8")
        except (GraphvizNotFoundError, graphviz.CalledProcessError):
            pass
    if include:
        bundle = {k: v for k, v in bundle.items() if k in include}
    if exclude:
        bundle = {k: v for k, v in bundle.items() if k not in exclude}
    return bundle


def _level_name(level) -> str:
    return level if isinstance(level, str) else f"scope (depth {level})"


# -- building the graph: collect, group, check the size, emit -------------------------------------


@dataclass(frozen=True)
class Drawing:
    """A built drawing: the Digraph, plus what the backprop player needs to animate it."""

    digraph: graphviz.Digraph
    order: list  # topological order of every Value in the graph; node id `v{k}` is order[k]
    names: dict  # node -> display name (the names `backward_steps()` prints)
    index: dict  # id(value) -> its position k in `order`


class _Graph(NamedTuple):
    order: list
    names: dict
    index: dict


class _Grouping(NamedTuple):
    group_of: list  # per node: the position in `groups` of its collapsed box, or None
    groups: list  # each collapsed group's scope key, in order of first appearance
    cluster_scopes: list  # per node: the scope its cluster comes from (leaves adopted)


def build_drawing(root, options: DrawOptions = DrawOptions(), grad_text=None) -> Drawing:
    """Draw `root`'s graph with `options`. `grad_text` (a list: node position -> text) replaces
    every grad cell; the backprop player uses it to lay each box out for the widest text it will
    ever show, so frames never move."""
    check_root(root)
    graph = _collect(root)
    grouping = _group(graph, options)
    _check_size(graph, grouping, options)
    return Drawing(_emit(root, graph, grouping, options, grad_text), graph.order, graph.names, graph.index)


def check_root(root) -> None:
    """Raise a TypeError naming the type unless `root` is a Value (a drawing's root)."""
    if not isinstance(root, Value):
        raise TypeError(f"a drawing needs a Value as its root, got {type(root).__name__} {_short_repr(root)}")


def _short_repr(x) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _collect(root) -> _Graph:
    """Every node in topological order, with its display name and its position."""
    order = topological_order(root)
    return _Graph(order, node_names(order), {id(node): k for k, node in enumerate(order)})


def _group(graph: _Graph, options: DrawOptions) -> _Grouping:
    """Which collapsed box (if any) each node falls into, and the scopes clusters come from."""
    order, index = graph.order, graph.index
    group_of = [None] * len(order)
    groups: list[str] = []
    if options.collapse is not None:
        keys = keys_with_adoption(order, index, lambda scope: group_key(scope, options.collapse))
        position: dict[str, int] = {}
        for k, key in enumerate(keys):
            if key is not None:
                if key not in position:
                    position[key] = len(groups)
                    groups.append(key)
                group_of[k] = position[key]
    if options.cluster is not None:
        cluster_scopes = keys_with_adoption(order, index, lambda scope: scope)
    else:
        cluster_scopes = [None] * len(order)
    return _Grouping(group_of, groups, cluster_scopes)


def _box_count(grouping: _Grouping) -> int:
    return sum(1 for g in grouping.group_of if g is None) + len(grouping.groups)


def _check_size(graph: _Graph, grouping: _Grouping, options: DrawOptions) -> None:
    """`GraphTooLargeError`, with advice that fits this graph, when there are too many boxes."""
    boxes = _box_count(grouping)
    if options.max_nodes is None or boxes <= options.max_nodes:
        return
    if options.collapse is not None:
        advice = ["a coarser collapse= ('layer', or a smaller depth)"]
    elif any(node.scope for node in graph.order):
        advice = ["collapse='neuron' or collapse='layer' (one box per neuron/layer)"]
    else:
        advice = ["build the graph inside engine.name_scope(...) blocks and pass collapse="]
    advice.append("draw a smaller expression (e.g. the loss of one sample)")
    advice.append("or raise max_nodes (Graphviz needs seconds per thousand boxes)")
    raise GraphTooLargeError(
        f"graph has {boxes} boxes to draw, more than max_nodes={options.max_nodes}; try " + "; ".join(advice)
    )


def _emit(root, graph: _Graph, grouping: _Grouping, options: DrawOptions, grad_text) -> graphviz.Digraph:
    """The Digraph: value boxes and op ellipses, collapsed groups, clusters, then all edges."""
    items: list[tuple[tuple, str, dict]] = []  # (cluster path, node id, attributes)
    edges: list[tuple[str, str, dict]] = []
    _emit_values(root, graph, grouping, options, grad_text, items, edges)
    _emit_groups(root, graph, grouping, options, items, edges)
    dot = graphviz.Digraph(
        name="gradwalk",
        graph_attr={
            "rankdir": options.rankdir, "fontname": FONT, "nodesep": "0.25", "ranksep": "0.4",
            "bgcolor": "white", "labeljust": "l",
        },
        node_attr={"fontname": FONT, "fontsize": "12"},
        edge_attr={"color": "#495057", "arrowsize": "0.7"},
    )
    if options.cluster is not None or options.collapse is not None:
        dot.attr(**ORDER_KEEPING)
    emit_clusters(dot, items)
    for src, dst, attrs in edges:
        dot.edge(src, dst, **attrs)
    return dot


def _computed(root, options: DrawOptions) -> bool:
    # show_grad None: numbers once a backward pass ran (it seeds root.grad += 1), else `grad ?`.
    return root.grad != 0.0 if options.show_grad is None else options.show_grad


def _emit_values(root, graph, grouping, options, grad_text, items, edges) -> None:
    """A box per value (outside collapsed groups), an ellipse per op, and their edges."""
    computed = _computed(root, options)
    max_abs_grad = max((abs(n.grad) for n in graph.order if math.isfinite(n.grad)), default=0.0)
    digits = options.digits
    for k, node in enumerate(graph.order):
        if grouping.group_of[k] is not None:
            continue
        if grad_text is not None:
            text = grad_text[k]
        elif options.show_grad is False:
            text = None
        else:
            text = "grad " + format_number(node.grad, digits) if computed else PENDING
        fill = grad_color(node.grad, max_abs_grad) if (options.color_by_grad and computed) else "#ffffff"
        kind = node_kind(node, node is root)
        label = value_label(graph.names[node], kind, "data " + format_number(node.data, digits), text, fill)
        path = cluster_path(grouping.cluster_scopes[k], options.cluster) if options.cluster is not None else ()
        items.append((path, f"v{k}", {"label": label, "shape": "plain", "id": f"v{k}"}))
        if not node.parents:
            continue
        items.append((path, f"o{k}", _op_attributes(node.op, k)))
        edges.append((f"o{k}", f"v{k}", {"id": f"e{k}"}))
        for i, parent in enumerate(node.parents):
            edges.append((_box_id(graph, grouping, parent), f"o{k}", {"id": f"e{k}_{i}"}))


def _op_attributes(op: str, k: int) -> dict:
    return {
        "label": "<" + escape(op or "?") + ">", "shape": "ellipse", "style": "filled", "fillcolor": OP_FILL,
        "color": "#868e96", "fontsize": "11", "margin": "0.04,0.02", "height": "0.3", "id": f"o{k}",
    }


def _box_id(graph, grouping, node) -> str:
    """The id of the box `node` is drawn in: its own `v{j}`, or its collapsed group's `g{n}`."""
    j = graph.index[id(node)]
    group = grouping.group_of[j]
    return f"v{j}" if group is None else f"g{group}"


def _emit_groups(root, graph, grouping, options, items, edges) -> None:
    """One box per collapsed group, and one edge per distinct (source, group) pair."""
    members = [[] for _ in grouping.groups]
    seen: set[tuple[str, str]] = set()  # membership test only; edge order comes from the loop
    for k, node in enumerate(graph.order):
        g = grouping.group_of[k]
        if g is None:
            continue
        members[g].append(node)
        for parent in node.parents:
            src = _box_id(graph, grouping, parent)
            if src != f"g{g}" and (src, f"g{g}") not in seen:
                seen.add((src, f"g{g}"))
                edges.append((src, f"g{g}", {"id": f"x{len(seen)}"}))
    computed = _computed(root, options) and options.show_grad is not False
    # Boxes in natural scope order (neurons.2 before neurons.10): Graphviz keeps statement order
    # within a rank, so a layer's neurons line up 0, 1, 2, ... as in a textbook figure.
    for g in sorted(range(len(grouping.groups)), key=lambda g: natural_order(grouping.groups[g])):
        key = grouping.groups[g]
        params = [m for m in members[g] if m.param]
        lines = [f"{len(members[g])} values" + (f", {len(params)} params" if params else "")]
        if params and computed:
            norm = math.sqrt(sum(p.grad * p.grad for p in params))
            lines.append("|grad params| " + format_number(norm, options.digits))
        kind = "output" if any(m is root for m in members[g]) else "group"
        path = cluster_path(key, options.cluster) if options.cluster is not None else ()
        items.append((path, f"g{g}", {"label": group_label(short_name(key), lines, kind), "shape": "plain", "id": f"g{g}"}))
