"""Walking the graph: the topological order, and the chain rule applied along it.

Backpropagation is two ideas. First, order the nodes so that each comes after everything it was
computed from. Then walk that order backwards, and at every node apply the chain rule to each edge:

    grad[parent] += d(node)/d(parent) * grad[node]

`chain_rule` is that loop, the only one in gradwalk: `backward()`, `gradients()`, the stepper and
higher-order gradients all run it. It is written against a small node protocol, never against the
Value class: a node has `parents`, `local_grad()` (its local derivatives, one per parent, as
floats), `op.partials(node)` (the same derivatives as nodes, for gradients of gradients), and the
fields `grad` and `grad_value` that `backward()` fills in.
"""

from __future__ import annotations

import contextlib
import math

from engine.core import modes

before_pass: list = []
"""Functions `hook(order, by)` run before `backward()` or `zero_grad()` writes gradients into the
nodes `order` (`by` says who writes, e.g. "o.backward()"). The stepper puts back a part-way pass
here; detect_anomaly checks each pass with the same hook in `after_pass`."""

after_pass: list = []
"""Functions `hook(root, order)` run after `backward()` has written a pass's gradients."""


def topological_order(root) -> list:
    """Every node `root` depends on, each after all of its parents, `root` last.

    The idea is a three-line recursion: visit a node's parents, then emit the node. Recursion stops
    at Python's depth limit, so this is the same walk with an explicit stack. Parents are visited
    in operand order, so a graph gives the same order in every run and process.
    """
    order = []
    done = {}  # a node's entry: False while its parents are being ordered, True once it is in `order`
    stack = [root]  # a node on top is new (its parents go above it) or, seen again, finished
    while stack:
        node = stack[-1]
        state = done.get(node)
        if state is None:
            done[node] = False
            for parent in reversed(node.parents):
                if parent not in done:
                    stack.append(parent)
        else:
            stack.pop()
            if not state:  # back on top after all of its parents (a repeat is skipped)
                done[node] = True
                order.append(node)
    return order


def chain_rule(order, grads: dict, *, as_values: bool = False) -> dict:
    """Push gradients back through `order`, last node first: the backward pass itself.

    `grads` maps a node to d(root)/d(node); it starts with the root's 1 and is filled in place,
    edge by edge, and returned. A node with no entry passes nothing on, nor does a gradient of
    0.0, so a dead relu's inf slope never turns into NaN. With `as_values`, the slopes are
    `op.partials(node)`, Values, so the pass itself becomes a graph (a slope of plain 1 adds the
    upstream node itself, not a `*1` node): the same walk, with each edge's sum made of Values.
    """
    get = grads.get
    with modes.enable_grad() if as_values else contextlib.nullcontext():
        for node in reversed(order):
            upstream, parents = get(node), node.parents
            if upstream is None or not parents or (not as_values and upstream == 0.0):
                continue
            slopes = node.op.partials(node) if as_values else node.local_grad()
            if as_values:
                for parent, local in zip(parents, slopes):
                    added = upstream if type(local) is float and local == 1.0 else upstream * local
                    earlier = get(parent)
                    grads[parent] = added if earlier is None else earlier + added
            elif len(parents) == 1:  # most nodes: no zip to set up (docs/performance.md)
                grads[parents[0]] = get(parents[0], 0.0) + slopes[0] * upstream
            else:
                for parent, local in zip(parents, slopes):
                    grads[parent] = get(parent, 0.0) + local * upstream
    return grads


def backward(root, *, create_graph: bool = False) -> None:
    """Compute d(root)/d(node) for every node in root's graph and store it in `node.grad`.

    As in PyTorch, leaves (inputs, parameters) *accumulate* across calls, so call `zero_grad()`
    (or an optimizer's) before each training step; interior nodes hold this pass's gradient.
    With `create_graph=True` the pass is recorded too: each gradient is also kept as a Value in
    `node.grad_value`, a graph you can draw, step through and backprop again.
    """
    order = topological_order(root)
    by = f"{root.label or 'the root'}.backward()"
    for hook in before_pass:
        hook(order, by)
    if create_graph:
        _keep_recorded(order, chain_rule(order, {root: type(root)(1.0)}, as_values=True), type(root)(0.0))
    else:
        grads = chain_rule(order, {root: 1.0})
        refuse_nan_gradients(grads, by)
        get = grads.get
        for node in order:
            if node.parents:
                node.grad = get(node, 0.0)
            else:  # leaves accumulate across passes
                node.grad += get(node, 0.0)
    for hook in after_pass:
        hook(root, order)


def _keep_recorded(order, grads: dict, zero) -> None:
    """Write a recorded pass: `grad_value` the gradient as a Value (leaves accumulate it, like
    `grad`), and `grad` its float."""
    for node in order:
        g = grads.get(node, zero)
        earlier = node.grad_value
        node.grad_value = g if node.parents or earlier is None else earlier + g
        if node.parents:
            node.grad = g.data
        else:
            node.grad += g.data


def gradients(root, wrt, *, create_graph: bool = False) -> list:
    """d(root)/d(w) for each node w in `wrt`, without touching any node's `grad`.

    Floats by default; with `create_graph=True`, Values: graphs built from root's graph that you
    can differentiate again (PyTorch's `torch.autograd.grad`). A node root does not depend on
    gets 0.

        >>> from engine import Value
        >>> x = Value(3.0)
        >>> (dx,) = gradients(x ** 3, [x], create_graph=True)    # 3 x**2
        >>> (dxx,) = gradients(dx, [x])                          # 6 x
        >>> dx.data, dxx
        (27.0, 18.0)
    """
    node_type = type(root)
    if not hasattr(root, "parents"):
        raise TypeError(f"gradients() needs a Value root, got {node_type.__name__}")
    wrt = list(wrt)
    for w in wrt:
        if type(w) is not node_type:
            raise TypeError(f"gradients() takes Values to differentiate with respect to, got {type(w).__name__}")
    seed = node_type(1.0) if create_graph else 1.0
    grads = chain_rule(topological_order(root), {root: seed}, as_values=create_graph)
    if not create_graph:
        refuse_nan_gradients(grads, f"gradients() of {root.label or 'the root'}")
    zero = node_type(0.0) if create_graph else 0.0
    return [grads.get(w, zero) for w in wrt]


def refuse_nan_gradients(grads: dict, by: str) -> None:
    """Raise before anything is written if a pass made a gradient NaN: inf - inf where paths with
    infinite slopes of opposite signs meet (sqrt(x) - 2*sqrt(x) at 0). No NaN enters a graph."""
    if not any(map(math.isnan, grads.values())):  # the usual case, checked at C speed
        return
    for node, g in grads.items():
        if g != g:
            raise FloatingPointError(
                f"{by} made the gradient of {node.label or 'a ' + repr(str(node.op) or 'leaf') + ' node'} NaN: paths from "
                "the root reach it with infinite slopes of opposite signs (inf - inf), so no gradient was written")


def zero_grad(root) -> None:
    """Set `grad` to 0.0 (and `grad_value` to None) on every node in root's graph."""
    order = topological_order(root)
    for hook in before_pass:
        hook(order, f"{root.label or 'the root'}.zero_grad()")
    for node in order:
        node.grad = 0.0
        node.grad_value = None


def node_names(order) -> dict:
    """A readable name for each node: its label, or `#k` (k its position in `order`) for unlabeled
    nodes. Drawings and step printouts use the same names."""
    return {node: node.label or f"#{k}" for k, node in enumerate(order)}
