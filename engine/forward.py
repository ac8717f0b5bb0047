"""Forward mode beside reverse: `jvp` pushes a tangent forward through the graph, and
`count_ops` counts what a gradient method costs.

Reverse mode (`backward`) gives d(output)/d(every input) in one sweep from the output back. Forward
mode gives d(every node)/d(one direction) in one sweep from the inputs on:

    tangent[node] = sum over parents of d(node)/d(parent) * tangent[parent]

The local derivatives are the very ones backward uses, `node.local_grad()`, from the one op table,
so an op added with `define_op` has forward mode as soon as it has reverse mode. A full gradient of
a function of n inputs costs n forward sweeps but one reverse sweep; a function of one input and m
outputs is the other way round (demos/gradient_methods.py measures both).

    >>> from engine.core.value import Value
    >>> value, slope = jvp(lambda x, y: x * y + x, [2.0, 3.0], [1.0, 0.0])
    >>> value, slope
    (8.0, 4.0)
"""

from __future__ import annotations

from contextlib import contextmanager

from engine.core import modes
from engine.core.graph import topological_order
from engine.core.real import as_float
from engine.core.value import Value


def jvp(f, inputs, tangents):
    """`f` at `inputs`, and its derivative in the direction `tangents`: (value, slope).

    `inputs` and `tangents` are sequences of numbers of the same length; `f` takes that many
    Values and returns a Value, or a list of Values (then value and slope are lists, one entry
    per output). An input `f` ignores contributes nothing.
    """
    inputs, tangents = list(inputs), list(tangents)
    if len(inputs) != len(tangents):
        raise ValueError(f"jvp needs one tangent per input: got {len(inputs)} inputs and {len(tangents)} tangents")
    leaves = [Value(as_float(x, "jvp's inputs")) for x in inputs]
    directions = [as_float(t, "jvp's tangents") for t in tangents]
    with modes.enable_grad():
        out = f(*leaves)
    outputs = out if isinstance(out, (list, tuple)) else [out]
    for k, o in enumerate(outputs):
        if not isinstance(o, Value):
            raise TypeError(f"jvp's f must return a Value or a list of Values, got {type(o).__name__} at {k}")
    slopes = forward_sweep(outputs, dict(zip(leaves, directions)))
    values = [o.data for o in outputs]
    if isinstance(out, (list, tuple)):
        return values, slopes
    return values[0], slopes[0]


def forward_sweep(outputs, seeds: dict) -> list[float]:
    """d(output)/d(direction) for each output, `seeds` giving each input leaf's tangent.

    Nodes are visited in topological order, so every parent's tangent is known before its
    children need it. A tangent of 0 passes nothing on, so a dead relu's inf slope makes no NaN,
    exactly as in `chain_rule`.
    """
    tangent = dict(seeds)
    get = tangent.get
    for node in graph_of(outputs):
        if not node.parents:
            continue
        total = 0.0
        for parent, local in zip(node.parents, node.local_grad()):
            t = get(parent, 0.0)
            if t != 0.0:
                total += local * t
        tangent[node] = total
    return [get(o, 0.0) for o in outputs]


class _Outputs:
    """Stands for all the outputs at once: a node whose parents are the outputs."""

    def __init__(self, outputs):
        self.parents = tuple(outputs)


def graph_of(outputs) -> list:
    """Every node the outputs depend on, each after its parents, walking shared parts once."""
    return topological_order(_Outputs(outputs))[:-1]


class OpCount:
    """What a `count_ops()` block counted: `ops`, the op evaluations (new nodes)."""

    __slots__ = ("ops",)

    def __init__(self):
        self.ops = 0

    def __repr__(self) -> str:
        return f"<{self.ops} op evaluations>"


@contextmanager
def count_ops():
    """Count the op evaluations (graph nodes made) inside the block.

        >>> from engine.core.value import Value
        >>> with count_ops() as c:
        ...     y = (Value(2.0) * 3 + 1).tanh()
        >>> c.ops
        3

    Blocks nest, with each other and with `detect_anomaly()`: the watch that was there before
    still sees every node. Ops inside `no_grad()` count too: they are evaluated, only not recorded.
    """
    counter = OpCount()
    previous = modes.watch

    def watch(node):
        counter.ops += 1
        if previous is not None:
            previous(node)

    with modes.watching(watch):
        yield counter
