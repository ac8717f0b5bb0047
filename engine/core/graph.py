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

    The idea is three lines of recursion: visit a node's parents, then emit the node.

        def visit(node):
            if node not in seen:
                seen.add(node); [visit(p) for p in node.parents]; order.append(node)

    Recursion stops at Python's depth limit, so this is the same walk with an explicit stack.
    Deterministic: parents are visited in operand order, so the same graph gives the same order in
    every run and process.
    """
    order = []
    # A node's entry is False while its parents are being ordered and True once it is in `order`.
    done = {}
    # The stack holds plain nodes: a node on top is either new (its parents go on the stack above
    # it, first operand on top) or, seen the second time, finished (docs/performance.md says why).
    stack = [root]
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
            if not state:  # back on top after all of its parents: emit it (a repeat is skipped)
                done[node] = True
                order.append(node)
    return order


def chain_rule(order, grads: dict, *, as_values: bool = False) -> dict:
    """Push gradients back through `order`, last node first: the backward pass itself.

    `grads` maps a node to d(root)/d(node); it starts with the root's 1 and is filled in place,
    edge by edge, and returned. A node with no entry has gradient 0 and passes nothing on, so a
    dead relu's inf or NaN slope never turns into NaN. With `as_values`, gradients are nodes
    built from each op's derivative (`op.partials`), so the pass is itself a graph.
    """
    get = grads.get
    if not as_values:
        for node in reversed(order):
            upstream = get(node, 0.0)
            parents = node.parents
            if upstream == 0.0 or not parents:
                continue
            if len(parents) == 1:  # most nodes: no zip to set up (docs/performance.md)
                parent = parents[0]
                grads[parent] = get(parent, 0.0) + node.local_grad()[0] * upstream
                continue
            for parent, local in zip(parents, node.local_grad()):
                grads[parent] = get(parent, 0.0) + local * upstream
        return grads
    with modes.enable_grad():
        for node in reversed(order):
            upstream = get(node)
            if upstream is None or not node.parents:
                continue
            for parent, local in zip(node.parents, node.op.partials(node)):
                # A slope of plain 1 (from `+`) adds the upstream node itself, not a `*1` node.
                contribution = upstream if type(local) is float and local == 1.0 else upstream * local
                earlier = get(parent)
                grads[parent] = contribution if earlier is None else earlier + contribution
    return grads


def backward(root, *, create_graph: bool = False) -> None:
    """Compute d(root)/d(node) for every node in root's graph and store it in `node.grad`.

    Gradient semantics (as in PyTorch):
      * leaves (nodes without parents: inputs, parameters) *accumulate* across calls, so call
        `zero_grad()` (or an optimizer's) before each training step;
      * interior nodes hold this pass's gradient after every call, so a drawing made after a
        second `backward()` is still right.

    With `create_graph=True` the backward pass is recorded too: each node's gradient is also kept
    as a Value in `node.grad_value`, a graph you can draw, step through and backprop again (leaves
    accumulate it like `grad`). `grad` stays a float either way.
    """
    order = topological_order(root)
    by = f"{root.label or 'the root'}.backward()"
    for hook in before_pass:
        hook(order, by)
    if create_graph:
        grads = chain_rule(order, {root: type(root)(1.0)}, as_values=True)
        zero = type(root)(0.0)
        for node in order:
            g = grads.get(node, zero)
            earlier = node.grad_value
            node.grad_value = g if node.parents or earlier is None else earlier + g
            if node.parents:
                node.grad = g.data
            else:  # leaves accumulate across passes
                node.grad += g.data
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
