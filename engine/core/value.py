"""`Value`: one scalar in a computation graph.

A node stores its forward result (`data`), the nodes it was computed from (`parents`, in operand
order) and `local_grad`, a closure returning the local derivatives d(node)/d(parent), one per
parent. The chain rule itself lives in one place, `engine.core.graph`; each op only knows its own
derivative, and every op is defined once, in the table of `engine.core.table`, which also gives
Value its operators (`+ - * / **`) and methods (`x.tanh()`, `x.exp()`, ...).

The closures hold plain floats, never Values -- in particular never the output node -- so a graph
has no reference cycles and is freed the moment its root goes away.
"""

from __future__ import annotations

import functools
import numbers

from engine.core import graph, modes


def as_float(x, where: str) -> float:
    """`x` as a float, or an error naming `where` and the value: the one check of a plain number.

    Any real number is taken (int, float, numpy's scalars, Fraction); bool is refused (True + x
    is a bug), and so is NaN, which would silently poison every gradient downstream.
    """
    if type(x) is float and x == x:  # the common case first; x == x is False only for NaN
        return x
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        if isinstance(x, Value):
            raise TypeError(f"{where} takes a plain number here, not a Value")
        raise TypeError(f"{where} takes a Value, int or float, not {type(x).__name__} {_shown(x)}")
    try:
        number = float(x)
    except OverflowError:  # an int past the largest float
        raise OverflowError(f"{where} got {_shown(x)}, too large for a float") from None
    if number != number:
        raise ValueError(f"{where} got NaN: a NaN input would silently poison every gradient")
    return number


def _shown(x) -> str:
    text = repr(x)
    return f"({text[:60]}...)" if len(text) > 60 else f"({text})"


class Value:
    """A scalar that remembers how it was computed, so that gradients can flow back through it.

    >>> x = Value(2.0, label="x")
    >>> y = (x * x + 1).tanh()
    >>> y.backward()
    >>> round(x.grad, 6)
    0.000726

    Attributes:
        data: the forward value (float).
        grad: d(root)/d(this node) after `root.backward()`; leaves accumulate across calls.
        grad_value: the same gradient as a Value (a graph you can backprop through again) after
            `root.backward(create_graph=True)`; None otherwise.
        parents: the operand nodes, in order (`a + a` keeps both edges).
        local_grad: closure returning d(self)/d(parent) for each parent; None on leaves.
        op: the op that produced this node (`'+'`, `'tanh'`, `'*3'` ...); `''` on leaves.
        label: a name for printing and drawing.
        param: True for trainable parameters (set by `nn`; drawings style them).
        scope: the `name_scope` the node was created in (set by `nn`; drawings cluster by it).
    """

    __slots__ = ("data", "grad", "grad_value", "parents", "local_grad", "op", "label", "param", "scope",
                 "__weakref__")

    def __init__(self, data, label: str = "", *, param: bool = False):
        if not isinstance(label, str):
            raise TypeError(f"Value's label must be a str, got {type(label).__name__} {_shown(label)}")
        if not isinstance(param, bool):
            raise TypeError(f"Value's param must be True or False, got {type(param).__name__} {_shown(param)}")
        fill(self, as_float(data, "Value()"), (), "", None, label, param)

    def __repr__(self) -> str:
        text = f"Value(data={self.data:.4g}, grad={self.grad:.4g}"
        if self.op:
            text += f", op={str(self.op)!r}"
        if self.label:
            text += f", label={self.label!r}"
        return text + ")"

    def __pos__(self):
        return self

    # -- Python's protocols: a Value is a node, so these say what to write instead of guessing ------

    def __float__(self) -> float:
        """`float(v)` is `v.data`, as `float(tensor)` is in PyTorch."""
        return self.data

    def __format__(self, spec: str) -> str:
        """`f"{v:.3f}"` formats `v.data`; `f"{v}"` is the repr."""
        return format(self.data, spec) if spec else repr(self)

    def __eq__(self, other):
        """Values are nodes: equal only to themselves (graph walks key nodes by identity). Comparing
        with a number is refused, since `v == 0.7` would silently be False: compare `v.data`."""
        if isinstance(other, Value):
            return self is other
        if isinstance(other, numbers.Number):
            raise TypeError(f"a Value is a graph node, not a number: compare its data (v.data == {other!r})")
        return NotImplemented

    __hash__ = object.__hash__  # by identity, as the graph walks need

    def _order(self, other, sign: str):
        raise TypeError(f"a Value is a graph node and has no order: compare data (v.data {sign} ...); "
                        "for a smooth max write relu or softplus")

    def __lt__(self, other):
        self._order(other, "<")

    def __le__(self, other):
        self._order(other, "<=")

    def __gt__(self, other):
        self._order(other, ">")

    def __ge__(self, other):
        self._order(other, ">=")

    def __bool__(self):
        if modes.tracing:
            raise TypeError(
                f"a traced function branched on a Value ({self.data:g}): a tape records one path through "
                "the code, so replaying it for other inputs would be wrong. Write the branch with ops "
                "(relu, abs, ...) or don't trace this function")
        return True

    # -- the backward pass (engine.core.graph) ----------------------------------------------------

    def backward(self, *, create_graph: bool = False) -> None:
        """Fill in `grad` on every node of this graph: see `engine.backward`."""
        graph.backward(self, create_graph=create_graph)

    def zero_grad(self) -> None:
        """Set `grad` to 0.0 on every node of this graph."""
        graph.zero_grad(self)

    def __reduce__(self):
        """Pickle a node with its graph: the closure is saved as the slopes it returns."""
        slopes = None if self.local_grad is None else tuple(self.local_grad())
        return (_unpickled, (self.data, self.parents, self.op, slopes, self.label, self.param, self.scope, self.grad))

    def detach(self) -> "Value":
        """A new leaf with the same data (and label): gradients stop here."""
        return Value(self.data, self.label)

    # -- tools built on the core: the stepper and the drawings --------------------------------------

    def backward_steps(self, *, quiz: bool = False, **quiz_options):
        """Backward one node at a time, yielding a readable step: see `engine.Stepper`. With
        `quiz=True`, a `Quiz` that asks you each number first (`ask=`, `tolerance=`)."""
        if quiz:
            return tool("quiz")(self, **quiz_options)
        if quiz_options:
            raise TypeError(f"{', '.join(quiz_options)}: options of a quiz; pass quiz=True")
        return tool("stepper")(self)

    def draw(self, path=None, **draw_kw):
        """A picture of this node's graph (a graphviz.Digraph), also saved to `path` if given.

        Keyword arguments go to `engine.draw_dot` (rankdir, digits, color_by_grad, cluster, ...).
        """
        return tool("draw")(self, path, **draw_kw)

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Jupyter shows a Value as its graph (plain text when too large or Graphviz is missing)."""
        return tool("mimebundle")(self, include, exclude)


tools: dict = {}
"""The parts of the engine built on top of this core, which Value's methods hand over to:
"stepper" (engine.stepper), "draw" and "mimebundle" (engine.drawing), "quiz" (engine.cli.quiz). Each registers itself when it is
imported, and `import engine` imports them all, so the core never imports the layers above it."""


def tool(name: str):
    try:
        return tools[name]
    except KeyError:
        raise RuntimeError(f"Value needs engine's {name!r} tool: import engine (not only engine.core) first") from None


_new = object.__new__


def fill(node: Value, data: float, parents: tuple, op, local_grad, label: str = "", param: bool = False) -> Value:
    """Set every field of a node: the one place that lists them."""
    node.data = data
    node.grad = 0.0
    node.grad_value = None
    node.parents = parents
    node.local_grad = local_grad
    node.op = op
    node.label = label
    node.param = param
    node.scope = modes.scope
    return node


def _unpickled(data, parents, op, slopes, label, param, scope, grad) -> Value:
    node = fill(_new(Value), data, parents, op, None if slopes is None else functools.partial(tuple, slopes), label, param)
    node.scope, node.grad = scope, grad
    return node


def make_node(data: float, parents: tuple, op, local_grad) -> Value:
    """An op's output node. `data` is a float already, so __init__'s checks are skipped."""
    node = fill(_new(Value), data, parents, op, local_grad)
    if modes.watch is not None:
        modes.watch(node)
    return node


def as_value(x) -> Value:
    """`x` if it is a Value, else a new constant leaf; TypeError for anything but a number."""
    return x if isinstance(x, Value) else Value(x)
