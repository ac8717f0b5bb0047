"""`Value`, one scalar in a computation graph, and `Op`, the definition that makes Values.

A node stores its forward result (`data`), the nodes it was computed from (`parents`, in operand
order) and `local_grad`, a closure returning the local derivatives d(node)/d(parent), one per
parent. The chain rule lives in one place, `engine.core.graph`; an op knows only its own derivative.

An op is defined once, as a row of `engine.core.table` (`define_op` adds your own): a name, a
forward function and its local derivatives, written with arithmetic and ops so that one expression
serves floats and Values (`lambda x, out: 1 - out * out` for tanh; a constant slope is a number).
On plain numbers an op is plain math; on Values it makes a node whose closure returns the
derivative's value; `partials(node)` evaluates the derivative on the parents as Values, so that
the backward pass can itself be recorded (`grad(grad(f))`). `x * 3` is `*` with b fixed to 3:
`fold` makes that one-operand op, `*3`. The closures hold plain floats, never Values, so a graph
has no reference cycles and is freed the moment its root goes away.
"""

from __future__ import annotations

import functools
import math
import operator
import types

from engine.core import graph, modes
from engine.core.protocols import NodeProtocols
from engine.core.real import as_float, refuse_nan, shown


class Value(NodeProtocols):
    """A scalar that remembers how it was computed, so that gradients can flow back through it.

    >>> x = Value(2.0, label="x")
    >>> y = (x * x + 1).tanh()
    >>> y.backward()
    >>> round(x.grad, 6)
    0.000726

    Attributes:
        data: the forward value (float).
        grad: d(root)/d(this node) after `root.backward()`; leaves accumulate across calls.
        grad_value: after `root.backward(create_graph=True)`, the gradient as a Value; else None.
        parents: the operand nodes, in order (`a + a` keeps both edges).
        local_grad: closure returning d(self)/d(parent) for each parent; None on leaves.
        op: the op that produced this node (`'+'`, `'tanh'`, `'*3'` ...); `''` on leaves.
        label: a name for printing and drawing.
        param: True for trainable parameters (networks set it; drawings style them).
        scope: the `name_scope` the node was created in (drawings cluster by it).
    """

    __slots__ = ("data", "grad", "grad_value", "parents", "local_grad", "op", "label", "param", "scope",
                 "__weakref__")

    def __init__(self, data, label: str = "", *, param: bool = False):
        if not isinstance(label, str):
            raise TypeError(f"Value's label must be a str, got {type(label).__name__} {shown(label)}")
        if not isinstance(param, bool):
            raise TypeError(f"Value's param must be True or False, got {type(param).__name__} {shown(param)}")
        fill(self, as_float(data, "Value()"), (), "", None, label, param)

    def __repr__(self) -> str:
        text = f"Value(data={self.data:.4g}, grad={self.grad:.4g}"
        if self.op:
            text += f", op={str(self.op)!r}"
        if self.label:
            text += f", label={self.label!r}"
        return text + ")"

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


_new = object.__new__


def fill(node: Value, data: float, parents: tuple, op, local_grad, label: str = "", param: bool = False) -> Value:
    """Set every field of a node: the one place that lists them."""
    node.data, node.grad, node.grad_value = data, 0.0, None
    node.parents, node.local_grad, node.op = parents, local_grad, op
    node.label, node.param, node.scope = label, param, modes.scope
    return node


def make_node(data: float, parents: tuple, op, local_grad) -> Value:
    """An op's output node. `data` is a float already, so __init__'s checks are skipped."""
    node = fill(_new(Value), data, parents, op, local_grad)
    if modes.watch is not None:
        modes.watch(node)
    return node


# -- ops: how one definition becomes nodes --------------------------------------------------------

registry: dict = {}
"""Every op by name, in the order defined (the table fills it; `define_op` adds to it)."""

# A node's local-gradient closure is `MethodType(tuple, slopes)`, the function `tuple` bound to the
# slopes: calling it runs `tuple(slopes)`, which returns `slopes` itself. It is one small object that
# runs no Python frame (`partial(tuple, slopes)` is two, and twice the bytes; see
# docs/performance.md). Slopes of 1 and 0 share one closure.
_slopes = slopes_closure = types.MethodType
_ONE, _ZERO = _slopes(tuple, (1.0,)), _slopes(tuple, (0.0,))
_data = operator.attrgetter("data")


class Op:
    """An operation defined once: name, forward function, local derivatives.

    Call it on Values to build graph nodes, or on numbers for plain math. An op compares equal to
    its name, so `node.op == "tanh"` reads naturally. Make one with `define_op`.
    """

    def __init__(self, name: str, forward, derivative, *, arity: int | None = 1, linear_in=(),
                 commutative: bool = False, array_forward=None, formula: str = "", kinks=(), doc: str = "",
                 folded_from=None):
        self.name = name
        self.forward = forward  # on floats: forward(x), forward(a, b), or forward(list) for arity None
        self.derivative = derivative  # d/dx(x, out); a pair (d/da, d/db) of (a, b, out); or numbers
        self.arity = arity  # 1, 2, or None for "any number of operands"
        self.linear_in = tuple(linear_in)  # operands whose slope does not involve that operand
        self.commutative = commutative
        self.array_forward = array_forward  # forward on numpy arrays (trace replay), or None
        self.formula = formula  # the local derivative as text, for steps and drawings
        self.kinks = tuple(kinks)  # inputs where the op has no derivative (relu and abs at 0)
        self.builtin = False  # True for the table's ops, which define_op won't replace
        self.__doc__ = doc or f"The op `{name}`."
        self.folded_from = folded_from  # (base op, constant, position) for `x*3`; None otherwise
        self.slopes = _constant_slopes(arity, derivative)  # one shared closure when slopes are numbers
        self.on_values = _node_maker(self)  # the op on Values, fast: what Value's operators run

    def __repr__(self) -> str:
        return f"<op {self.name!r}>"

    def __str__(self) -> str:
        return self.name

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)

    def __eq__(self, other) -> bool:
        if isinstance(other, Op):
            other = other.name
        return self.name == other

    def __lt__(self, other) -> bool:  # so that ops sort by name
        return self.name < (other.name if isinstance(other, Op) else other)

    def __hash__(self) -> int:
        return hash(self.name)

    def __reduce__(self):  # pickle and copy an op by name, so a node's op survives a round trip
        if self.folded_from:
            base, c, position = self.folded_from
            return (refold, (base.name, c, position))
        return (lookup, (self.name,))

    # -- calling an op ----------------------------------------------------------------------------

    def __call__(self, *operands):
        """Apply the op: to Values it builds a node, to plain numbers (or numpy arrays) it is math."""
        if self.arity is None:
            if len(operands) != 1:
                raise TypeError(f"{self.name} takes one sequence of operands, got {len(operands)} arguments")
            operands = tuple(operands[0])
            if all(isinstance(v, Value) for v in operands):
                return self.on_values(operands)
            if any(isinstance(v, Value) for v in operands):
                raise TypeError(f"{self.name} takes all Values or all numbers, not a mix")
            return self._plain(operands)
        if len(operands) != self.arity:
            raise TypeError(f"{self.name} takes {self.arity} operand(s), got {len(operands)}")
        if self.arity == 1:
            (x,) = operands
            if type(x) is float and x == x:  # the common case in derivative rules: cos(x) in sin's
                return self.forward(x)
            return self.on_values(x) if isinstance(x, Value) else self._plain(x)
        a, b = operands
        if isinstance(a, Value):
            return self.on_values(a, b)
        if isinstance(b, Value):
            return self.reflected(b, a)
        return self._plain(a, b)

    def reflected(self, x: Value, number):
        """op(number, x), for Python's reflected operators: `2 - x` is the op `2-` on x."""
        return self.fold(as_float(number, self.name), 1 if self.commutative else 0).on_values(x)

    def _plain(self, *xs):
        """The forward function on plain numbers, or on numpy arrays when one is given."""
        if any(type(x).__module__ == "numpy" and getattr(x, "shape", ()) != () for x in xs):
            if self.array_forward is None:
                raise TypeError(f"the op {self.name!r} has no array_forward, so it can't run on numpy arrays")
            return self.array_forward(*xs)
        if self.arity is None:
            return self.forward([as_float(x, self.name) for x in xs[0]])
        return self.forward(*(as_float(x, self.name) for x in xs))

    def fold(self, c: float, position: int) -> "Op":
        """This two-operand op with operand `position` fixed to the number c: `x * 3` is `*` with
        b = 3, a one-operand op named `*3`; `2 - x` is `-` with a = 2, named `2-`."""
        # 0.0 and -0.0 are equal keys, but their names and slopes differ: key zeros by their sign.
        key = (id(self), position, c) if c else (id(self), position, "zero", math.copysign(1.0, c))
        folded = _folds.get(key)
        if folded is None:
            if len(_folds) >= 1024:  # a loop over ever-new constants must not grow this forever
                _folds.clear()
            folded = _folds[key] = _fold(self, c, position)
        return folded

    # -- the derivative as Values (for higher-order gradients) -------------------------------------

    def partials(self, node: Value) -> tuple:
        """d(node)/d(parent) for each parent, as Values built from the parents and the node itself."""
        parents = node.parents
        if self.arity is None:
            return tuple(self.derivative(parents, node))
        if self.arity == 1:
            return (_at(self.derivative, parents[0], node),)
        da, db = self.derivative
        return (_at(da, parents[0], parents[1], node), _at(db, parents[0], parents[1], node))


# -- making nodes: the forward value, and a closure with the local derivatives -----------------------


def _node_maker(op: Op):
    """The function that applies `op` to Values: a plain function, not a method, so that Value
    takes it as its operator or method directly (`x * y` runs it with no call in between)."""
    forward, derivative, constant = op.forward, op.derivative, op.slopes

    if op.arity == 1:
        def on_value(x):
            a = x.data
            out = forward(a)
            if out != out:
                refuse_nan(op, (a,))
            if not modes.recording:
                return make_node(out, (), "", None)
            if constant:
                return make_node(out, (x,), op, constant)
            d = derivative(a, out)
            return make_node(out, (x,), op, _ONE if d == 1.0 else _ZERO if d == 0.0 else _slopes(tuple, (d,)))

        return on_value

    if op.arity == 2:
        da, db = (d if callable(d) else (lambda a, b, out, d=d: d) for d in derivative)

        def on_values(x, other):
            if not isinstance(other, Value):
                return op.fold(as_float(other, op.name), 1).on_values(x)
            a, b = x.data, other.data
            out = forward(a, b)
            if out != out:
                refuse_nan(op, (a, b))
            if not modes.recording:
                return make_node(out, (), "", None)
            return make_node(out, (x, other), op, constant or _slopes(tuple, (da(a, b, out), db(a, b, out))))

        return on_values

    def on_many(operands, xs=None):
        """A node for op(operands): every operand a Value; `xs`, their data, if known already."""
        operands = tuple(operands)
        if xs is None:
            xs = list(map(_data, operands))
        out = forward(xs)
        if out != out:
            refuse_nan(op, xs)
        if not modes.recording:
            return make_node(out, (), "", None)
        return make_node(out, operands, op, _slopes(tuple, tuple(derivative(xs, out))))

    return on_many


# A folded op keeps its base op alive, so an id in these keys is never reused while it is here.
_folds: dict = {}


def _fold(op: Op, c: float, position: int) -> Op:
    slope = op.derivative[1 - position]  # the slope with respect to the operand that varies
    forward, array_forward = op.forward, op.array_forward
    if position == 1:  # op(x, c)
        name = f"{op.name}{c:g}"
        folded_forward = lambda x: forward(x, c)  # noqa: E731
        folded_array = array_forward and (lambda x: array_forward(x, c))
        derivative = slope if not callable(slope) else (lambda x, out: slope(x, c, out))
    else:  # op(c, x)
        name = f"{c:g}{op.name}"
        folded_forward = functools.partial(forward, c)
        folded_array = array_forward and functools.partial(array_forward, c)
        derivative = slope if not callable(slope) else (lambda x, out: slope(c, x, out))
    if callable(derivative) and 1 - position in op.linear_in:  # the slope involves only c: compute it once
        try:
            derivative = float(derivative(1.0, 1.0))
        except (ArithmeticError, ValueError):  # x / 0: the forward function refuses it, in its own words
            pass
    return Op(name, folded_forward, derivative, array_forward=folded_array, formula=op.formula, doc=op.__doc__,
              folded_from=(op, c, position))


def lookup(name: str) -> Op:
    """The op called `name`; KeyError naming the known ops otherwise."""
    try:
        return registry[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}; the ops are: {', '.join(registry)}") from None


def refold(name: str, c: float, position: int) -> Op:
    """The op `name` with operand `position` fixed to c (how a folded op is unpickled)."""
    return lookup(name).fold(c, position)


def _constant_slopes(arity, derivative):
    """The shared closure for an op whose every slope is a number (`+`: 1 and 1), else None."""
    parts = (derivative,) if arity == 1 else derivative if arity == 2 else None
    if parts is None or any(callable(d) for d in parts):
        return None
    return _slopes(tuple, tuple(float(d) for d in parts))


def _at(derivative, *args):
    """A derivative's value: a number stands for itself, a function is called on the operands."""
    return derivative(*args) if callable(derivative) else derivative


# -- a pickled node, and a number as a node -------------------------------------------------------


def _unpickled(data, parents, op, slopes, label, param, scope, grad) -> Value:
    node = fill(_new(Value), data, parents, op, None if slopes is None else types.MethodType(tuple, slopes), label, param)
    node.scope, node.grad = scope, grad
    return node


def as_value(x) -> Value:
    """`x` if it is a Value, else a new constant leaf; TypeError for anything but a number."""
    return x if isinstance(x, Value) else Value(x)
