"""Walking the graph: topological order, the backward pass (all at once or step by step), and the
switches that change how ops record the graph (`no_grad`, `name_scope`).

This is the one place where the chain rule is applied:

    parent.grad += d(node)/d(parent) * d(root)/d(node)

Every walk here is iterative, so graphs of any depth work at the default recursion limit.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from engine import value as _value


def topological_order(root) -> list:
    """Every node `root` depends on, each after all of its parents, `root` last.

    Deterministic: parents are visited in operand order, so the same graph gives the same order
    in every run and process. Iterative depth-first search, so depth is unlimited.
    """
    order = []
    # A node's entry is False while its parents are being ordered and True once it is in `order`.
    # (Nodes are keys by identity: Value defines no __eq__.)
    done = {}
    # The stack holds plain nodes, nothing per node besides: a node on top is either new (its
    # parents go on the stack above it, first operand on top) or, seen the second time, finished.
    # (Measured: a (node, iterator) pair per stack entry, two more objects per node for the garbage
    # collector to traverse, made sorting a 3*10^5-node chain take 0.7 s instead of 0.14 s.)
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


def backward(root) -> None:
    """Compute d(root)/d(node) for every node in root's graph and store it in `node.grad`.

    Gradient semantics (as in PyTorch):
      * leaves (nodes without parents: inputs, parameters) *accumulate* across calls, so call
        `zero_grad()` (or an optimizer's) before each training step;
      * interior nodes are reset at the start of every pass, so after any call they hold this
        pass's gradient, and a drawing made after a second `backward()` is still right.
    """
    order = _start_pass(root)
    for node in reversed(order):
        parents = node.parents
        if parents:
            upstream = node.grad
            locals_ = node.local_grad()
            if len(parents) == 1:  # most nodes; skipping zip's setup makes a chain's walk ~2x faster
                parents[0].grad += locals_[0] * upstream
            else:
                for parent, local in zip(parents, locals_):
                    parent.grad += local * upstream


def _start_pass(root) -> list:
    """Begin a backward pass: reset every interior node's grad and seed the root. Returns the
    topological order. Leaves keep their grads, so they accumulate across passes."""
    order = topological_order(root)
    for node in order:
        if node.parents:
            node.grad = 0.0
    root.grad += 1.0  # interior roots were just reset to 0; a leaf root accumulates like any leaf
    return order


@dataclass(frozen=True)
class EdgeStep:
    """One application of the chain rule along the edge parent -> node."""

    parent: object
    parent_name: str
    local_grad: float  # d(node)/d(parent)
    contribution: float  # local_grad * upstream: what this edge adds to parent.grad
    grad_before: float
    grad_after: float


@dataclass(frozen=True)
class BackwardStep:
    """What backward did at one node: its upstream gradient pushed to each of its parents."""

    index: int  # 1-based position among the steps
    total: int  # how many steps this backward pass has
    node: object
    node_name: str
    root_name: str
    upstream: float  # d(root)/d(node)
    edges: tuple[EdgeStep, ...]

    def __str__(self) -> str:
        lines = []
        for e in self.edges:
            lines.append(
                f"{self.node_name} -> {e.parent_name}:  "
                f"d{self.root_name}/d{e.parent_name} += {e.local_grad:.4g} (d{self.node_name}/d{e.parent_name})"
                f" * {self.upstream:.4g} (d{self.root_name}/d{self.node_name}) = {e.grad_after:.4g}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        # Shown when a REPL echoes `next(steps)`: where we are, then the chain-rule lines.
        header = (f"<BackwardStep {self.index}/{self.total} at {self.node_name} ({self.node.op}), "
                  f"d{self.root_name}/d{self.node_name} = {self.upstream:.4g}>")
        return header + "".join("\n  " + line for line in str(self).splitlines())


def node_names(order) -> dict:
    """A readable name for each node, keyed by id(): its label, or `#k` (k its position in
    `order`) for unlabeled nodes. Drawings and step printouts use the same names."""
    return {id(node): node.label or f"#{k}" for k, node in enumerate(order)}


def backward_steps(root) -> Iterator[BackwardStep]:
    """`backward()`, one node at a time: a generator yielding a `BackwardStep` per interior node.

    Steps come in the exact order `backward()` uses (reverse topological order). Each step has
    already been applied when it is yielded, so the graph always holds a consistent partial
    state; exhausting the generator leaves exactly the gradients `backward()` leaves.

        >>> from engine import Value
        >>> x = Value(3.0, "x")
        >>> y = x * x
        >>> y.label = "y"
        >>> for step in y.backward_steps():
        ...     print(step)
        y -> x:  dy/dx += 3 (dy/dx) * 1 (dy/dy) = 3
        y -> x:  dy/dx += 3 (dy/dx) * 1 (dy/dy) = 6
    """
    order = _start_pass(root)
    names = node_names(order)
    interior = [node for node in reversed(order) if node.parents]
    root_name = names[id(root)]  # the same name the root has as a node, in steps and drawings
    for index, node in enumerate(interior, start=1):
        upstream = node.grad
        edges = []
        for parent, local in zip(node.parents, node.local_grad()):
            before = parent.grad
            contribution = local * upstream
            parent.grad = before + contribution
            edges.append(EdgeStep(parent, names[id(parent)], local, contribution, before, parent.grad))
        yield BackwardStep(index, len(interior), node, names[id(node)], root_name, upstream, tuple(edges))


def zero_grad(root) -> None:
    """Set `grad` to 0.0 on every node in root's graph."""
    for node in topological_order(root):
        node.grad = 0.0


@contextmanager
def no_grad():
    """Inside this block ops compute `data` only: no parents, no closures, nothing to backprop.

    Use it for evaluation and for parameter updates. Nests, and restores the previous mode.
    The switch is process-wide, not per thread (like `name_scope`): gradwalk's graphs are meant
    to be built by one thread at a time.
    """
    previous = _value._recording
    _value._recording = False
    try:
        yield
    finally:
        _value._recording = previous


def is_grad_enabled() -> bool:
    """False inside `no_grad()`."""
    return _value._recording


class name_scope:
    """Stamp every node created inside the block with `scope` = the dotted path of open scopes.

    `nn` opens one per module call (e.g. `layers.1.neurons.3`), so drawings can cluster a
    network's nodes by the neuron or layer that made them. The engine itself never sets one.

        >>> from engine import Value
        >>> with name_scope("layer"):
        ...     y = Value(2.0) * 3
        >>> y.scope
        'layer'

    A small class rather than a @contextmanager generator: `nn` enters one per neuron call, and
    this way entering and leaving costs 0.6 us instead of 1.5 us.
    """

    __slots__ = ("name", "_previous")

    def __init__(self, name: str):
        if not isinstance(name, str) or not name:
            raise ValueError(f"name_scope needs a non-empty string, got {name!r}")
        self.name = name

    def __enter__(self):
        previous = self._previous = _value._scope
        _value._scope = self.name if previous is None else f"{previous}.{self.name}"

    def __exit__(self, *exc_info):
        _value._scope = self._previous
