"""Grouping a drawing's boxes by `Value.scope`, for `cluster=` and `collapse=`, and drawing the
framed clusters.

Networks stamp every node with the `name_scope` it was made in (see `engine.name_scope`), such as
`layers.1.neurons.3`. A *level* picks how much of that path forms a group:

* `"neuron"`: the path up to the neuron (`layers.1.neurons.3`);
* `"layer"`: the path up to the layer (`layers.1`);
* an int depth d: the first d parts of the path (`layers.1.neurons.3` at depth 2 -> `layers.1`).

    >>> group_key("layers.1.neurons.3", "layer"), group_key("layers.1.neurons.3", 3)
    ('layers.1', 'layers.1.neurons')

Frames and collapsed boxes are labelled with a group's short name, the way networks label their
parameters (`L1.n3.w0` is weight 0 of the neuron drawn in the frame `L1.n3`):

    >>> short_name("layers.1.neurons.3"), short_name("encoder.layers.0")
    ('L1.n3', 'encoder.L0')
"""

from __future__ import annotations

from engine.drawing.style import escape

__all__ = ["ORDER_KEEPING", "check_level", "cluster_path", "emit_clusters", "group_key", "keys_with_adoption",
           "natural_order", "short_name"]

ORDER_KEEPING = {"mclimit": "0.01"}
"""Graph attributes for a grouped drawing. In a network every neuron of a layer connects to the
same boxes, so any order of them crosses the same number of edges, and Graphviz's crossing
minimiser is free to shuffle them (10-15 above 0-9, or 2, 3, 0, 1). Nearly switching it off keeps
the order the boxes are written in, which is natural order (`natural_order`), for collapsed boxes
and for frames per layer. A frame per neuron (`cluster="neuron"`) can still come out with a
layer upside down (4, 3, 2, 1, 0): Graphviz may mirror a rank of clusters at no cost."""

_SHORT = {"layers": "L", "neurons": "n"}


def check_level(option: str, level) -> None:
    """Refuse anything but None, 'neuron', 'layer' or a depth >= 1, naming the option."""
    if level is None or level in ("neuron", "layer"):
        return
    if isinstance(level, int) and not isinstance(level, bool) and level >= 1:
        return
    raise ValueError(f"{option} must be None, 'neuron', 'layer' or a depth >= 1, got {level!r}")


def _scope_prefix(scope: str, keyword: str):
    """`scope` cut just after the part following `keyword`: ('a.layers.1.neurons.3', 'layers')
    -> 'a.layers.1'. None when the scope has no such part."""
    parts = scope.split(".")
    for i, part in enumerate(parts[:-1]):
        if part == keyword:
            return ".".join(parts[: i + 2])
    return None


def group_key(scope, level):
    """The group a scope falls into at `level` ('neuron', 'layer' or a depth), or None."""
    if not scope:
        return None
    if level == "neuron":
        return _scope_prefix(scope, "neurons")
    if level == "layer":
        return _scope_prefix(scope, "layers")
    return ".".join(scope.split(".")[:level])


def cluster_path(scope, level) -> tuple:
    """The nested clusters (outermost first) a scope is drawn in: at level 'neuron' a neuron's
    cluster sits inside its layer's. () means the top level."""
    key = group_key(scope, level)
    if key is None:
        return ()
    if level == "neuron":
        layer = _scope_prefix(key, "layers")
        return (layer, key) if layer and layer != key else (key,)
    return (key,)


def short_name(key: str) -> str:
    """`key` with each `layers.i` written `Li` and each `neurons.j` written `nj`."""
    parts, out, i = key.split("."), [], 0
    while i < len(parts):
        if parts[i] in _SHORT and i + 1 < len(parts) and parts[i + 1].isdigit():
            out.append(_SHORT[parts[i]] + parts[i + 1])
            i += 2
        else:
            out.append(parts[i])
            i += 1
    return ".".join(out)


def natural_order(key: str) -> tuple:
    """A sort key that puts `neurons.2` before `neurons.10`, as a reader counts."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in key.split("."))


def keys_with_adoption(order, index, key_of) -> list:
    """`key_of(node.scope)` for every node in `order`. A leaf without a key takes its users' key
    when all of them share one, so parameters created outside any scope join the neuron that
    uses them. `index` maps id(node) to its position in `order`."""
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


def emit_clusters(dot, items) -> None:
    """Add node statements to the graphviz Digraph `dot`. `items` are (cluster path, node id,
    attributes); a node with a path goes into nested `cluster_*` subgraphs, one per key of the
    path (see `cluster_path`). Clusters are numbered and emitted in natural order of their keys,
    so the output is stable."""
    for path, name, attrs in items:
        if not path:
            dot.node(name, **attrs)
    paths: list[tuple] = []
    members: dict[tuple, list] = {}
    for path, name, attrs in items:
        for depth in range(1, len(path) + 1):
            if path[:depth] not in members:
                members[path[:depth]] = []
                paths.append(path[:depth])
        if path:
            members[path].append((name, attrs))
    paths.sort(key=lambda path: tuple(natural_order(key) for key in path))
    number = {p: n for n, p in enumerate(paths)}

    def emit(parent, path):
        with parent.subgraph(name=f"cluster_{number[path]}") as sub:
            sub.attr(
                label="<" + escape(short_name(path[-1])) + ">", style="rounded,dashed", color="#adb5bd",
                fontcolor="#495057", fontsize="11", id=f"c{number[path]}",
            )
            for name, attrs in members[path]:
                sub.node(name, **attrs)
            for child in paths:
                if len(child) == len(path) + 1 and child[: len(path)] == path:
                    emit(sub, child)

    for path in paths:
        if len(path) == 1:
            emit(dot, path)
