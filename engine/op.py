"""`Op`: how one definition -- a name, a forward function, local derivatives -- becomes an operation.

An op is defined once (see `engine.ops` for the table of them all, and `define_op` to add your own):

    tanh = define_op("tanh", math.tanh, lambda x, out: 1 - out * out)

From that one definition the op derives everything it does:

* on plain numbers it is plain math: `tanh(0.5)` is a float;
* on a Value it makes a graph node whose local-gradient closure returns the derivative's value,
  computed from the forward-time numbers;
* `partials(node)` evaluates the same derivative on the node's parents, as Values, so that the
  backward pass can itself be recorded (`backward(create_graph=True)`, `grad(grad(f))`);
* a Value method (`x.tanh()`), an `engine` function, the CLI's formula language and the test
  strategies all look ops up in `engine.registry`.

A derivative is written with arithmetic and other ops only, so the same expression works on floats
and on Values: `lambda x, out: cos(x)` for sin. A constant slope is written as a number: `+` has
the derivatives `(1.0, 1.0)`.
"""

from __future__ import annotations

import functools
import math
import operator

from engine import modes
from engine.value import Value, as_float, make_node



def _slopes_closure(slopes: tuple):
    """A zero-argument function that returns `slopes`: a node's local-gradient closure."""
    # partial(tuple, t)() is tuple(t), which returns t itself: a callable that runs no Python
    # frame, made by one C call (see docs/performance.md).
    return _partial(tuple, slopes)


_partial = functools.partial
_data = operator.attrgetter("data")
_ONE, _ZERO = _slopes_closure((1.0,)), _slopes_closure((0.0,))


def _fmt(c: float) -> str:
    """How a constant appears in an op name: `*3`, `+0.5`, `**-1`."""
    return f"{c:g}"


class Op(str):
    """An operation defined once: name, forward function, local derivatives.

    An Op *is* its name (a str subclass), so `node.op == "tanh"` and drawings read naturally;
    it also carries the math. Call it on Values to build graph nodes, or on numbers for plain
    math. Make one with `define_op`.
    """

    # Not __slots__: a str subclass can't have non-empty ones. Ops are few; nodes only point at them.

    def __new__(cls, name, *args, **kwargs):
        return super().__new__(cls, name)

    def __init__(self, name: str, forward, derivative, *, arity: int | None = 1, linear_in=(),
                 commutative: bool = False, array_forward=None, formula: str = "", kinks=(), doc: str = ""):
        self.name = name
        self.forward = forward
        self.arity = arity  # 1, 2, or None for "any number of operands"
        self.derivative = derivative
        self.linear_in = tuple(linear_in)  # operands whose slope does not involve that operand
        self.commutative = commutative
        self.array_forward = array_forward  # forward on numpy arrays (trace replay), or None
        self.formula = formula  # the local derivative as text, for steps and drawings
        self.kinks = tuple(kinks)  # inputs where the op has no derivative (relu and abs at 0)
        self.builtin = False  # True for the ops of engine.ops, which define_op won't replace
        self.__doc__ = doc or f"The op `{name}`."
        self._folds: dict = {}
        if arity == 1:
            self._constant = _slopes_closure((float(derivative),)) if _is_number(derivative) else None
        elif arity == 2:
            both_numbers = all(_is_number(d) for d in derivative)
            self._constant = _slopes_closure(tuple(map(float, derivative))) if both_numbers else None
        else:
            self._constant = None
        self._build_appliers()

    def __repr__(self) -> str:
        return f"<op {self.name!r}>"

    def __reduce__(self):  # pickle and copy an Op by name (a node's op survives a round trip)
        from engine.registry import lookup

        return (lookup, (self.name,))

    # -- calling an op ----------------------------------------------------------------------------

    def __call__(self, *operands):
        """Apply the op: to Values it builds a node, to plain numbers (or numpy arrays) it is math."""
        if self.arity is None:
            (operands,) = operands
            operands = tuple(operands)
            if all(isinstance(v, Value) for v in operands):
                return self.apply_n(operands)
            if any(isinstance(v, Value) for v in operands):
                raise TypeError(f"{self.name} takes all Values or all numbers, not a mix")
            return self._plain(operands)
        if len(operands) != self.arity:
            raise TypeError(f"{self.name} takes {self.arity} operand(s), got {len(operands)}")
        if self.arity == 1:
            (x,) = operands
            if type(x) is float and x == x:  # the common case in derivative rules: cos(x) in sin's
                return self.forward(x)
            if isinstance(x, Value):
                return self.apply1(x)
            return self._plain(x)
        a, b = operands
        if isinstance(a, Value):
            return self.apply2(a, b)
        if isinstance(b, Value):
            return self.rapply2(b, a)
        return self._plain(a, b)

    def _plain(self, *xs):
        """The forward function on plain numbers, or on numpy arrays when one is given."""
        if any(type(x).__module__ == "numpy" and hasattr(x, "shape") for x in xs):
            if self.array_forward is None:
                raise TypeError(f"the op {self.name!r} has no array_forward, so it can't run on numpy arrays")
            return self.array_forward(*xs)
        if self.arity is None:
            return self.forward([as_float(x, self.name) for x in xs[0]])
        return self.forward(*(as_float(x, self.name) for x in xs))

    def _build_appliers(self) -> None:
        """Make `apply1` (a node for op(x)) or `apply2`/`rapply2` (op(x, other), op(number, x)).

        They are plain functions, not methods, so Value can take them as its methods and
        operators directly: `x * y` runs `apply2(x, y)` with no extra call in between.
        """
        op, forward, derivative, constant = self, self.forward, self.derivative, self._constant
        slopes = _partial  # slopes(tuple, t) is the closure `lambda: t` (see _slopes_closure)

        def apply1(x):
            a = x.data
            out = forward(a)
            if out != out:
                refuse_nan(op, (a,))
            if not modes.recording:
                return make_node(out, (), "", None)
            if constant:
                return make_node(out, (x,), op, constant)
            d = derivative(a, out)
            # Slopes of exactly 1 or 0 (relu, abs) share one closure: no new object per node.
            return make_node(out, (x,), op, _ONE if d == 1.0 else _ZERO if d == 0.0 else slopes(tuple, (d,)))

        if self.arity == 2:
            da, db = (d if callable(d) else (lambda a, b, out, d=d: d) for d in derivative)

        def apply2(x, other):
            if not isinstance(other, Value):
                return op.fold(_constant(other, op), 1).apply1(x)
            a, b = x.data, other.data
            out = forward(a, b)
            if out != out:
                refuse_nan(op, (a, b))
            if not modes.recording:
                return make_node(out, (), "", None)
            return make_node(out, (x, other), op, constant or slopes(tuple, (da(a, b, out), db(a, b, out))))

        def rapply2(x, number):
            return op.fold(_constant(number, op), 1 if op.commutative else 0).apply1(x)

        if self.arity == 1:
            self.apply1 = apply1
        elif self.arity == 2:
            self.apply2, self.rapply2 = apply2, rapply2

    def apply_n(self, operands, xs=None) -> Value:
        """A node for op(operands) (an n-ary op such as `dot` or `sum`): every operand a Value;
        `xs`, their data, when the caller has it already."""
        operands = tuple(operands)
        if xs is None:
            xs = list(map(_data, operands))
        out = self.forward(xs)
        if out != out:
            refuse_nan(self, xs)
        if not modes.recording:
            return make_node(out, (), "", None)
        return make_node(out, operands, self, _slopes_closure(self.derivative(xs, out)))

    def fold(self, c: float, position: int) -> "FoldedOp":
        """This op with operand `position` fixed to the number c: `x * 3` is `*` with b = 3."""
        # 0.0 and -0.0 are equal keys, but their names and slopes differ: key zeros by their sign.
        key = (position, c) if c else (position, "zero", math.copysign(1.0, c))
        folded = self._folds.get(key)
        if folded is None:
            if len(self._folds) > 1024:  # a loop over ever-new constants must not grow this forever
                self._folds.clear()
            folded = self._folds[key] = FoldedOp(self, c, position)
        return folded

    # -- the derivative as Values (for higher-order gradients) -------------------------------------

    def partials(self, node: Value) -> tuple:
        """d(node)/d(parent) for each parent, as Values built from the parents and the node itself.

        Evaluated on the graph as it is now: `backward(create_graph=True)` records these.
        """
        parents = node.parents
        if self.arity is None:
            return tuple(self.derivative(parents, node))
        if self.arity == 1:
            return (_at(self.derivative, parents[0], node),)
        da, db = self.derivative
        return (_at(da, parents[0], parents[1], node), _at(db, parents[0], parents[1], node))


class FoldedOp(Op):
    """A binary op with one operand fixed to a number: `*3`, `2-`, `**0.5` (one parent)."""

    def __new__(cls, base: Op, c: float, position: int):
        return str.__new__(cls, base.name + _fmt(c) if position == 1 else _fmt(c) + base.name)

    def __init__(self, base: Op, c: float, position: int):
        self.base, self.constant, self.position = base, c, position
        self.name = str(self)
        self.arity = 1
        self.linear_in = ()
        self.commutative = False
        self.array_forward = None
        self.formula = base.formula
        self.kinks = ()
        self.__doc__ = base.__doc__
        self._folds = {}
        d = base.derivative[1 - position]  # the slope with respect to the operand that varies
        if position == 0:  # op(c, x)
            self.forward = functools.partial(base.forward, c)
            self.derivative = d if _is_number(d) else (lambda x, out: d(c, x, out))
        else:  # op(x, c)
            forward = base.forward
            self.forward = lambda x: forward(x, c)
            self.derivative = d if _is_number(d) else (lambda x, out: d(x, c, out))
        if _is_number(d):
            self._constant = _slopes_closure((float(d),))
        elif 1 - position in base.linear_in:  # the slope involves only the constant: compute it once
            self._constant = _slopes_closure((float(self.derivative(1.0, 1.0)),))
        else:
            self._constant = None
        self._build_appliers()

    def __reduce__(self):
        from engine.registry import refold

        return (refold, (self.base.name, self.constant, self.position))

    def partials(self, node: Value) -> tuple:
        return (_at(self.derivative, node.parents[0], node),)

    def _plain(self, x):
        return self.forward(as_float(x, self.name))


class NaNError(ValueError, ArithmeticError):
    """An op's result would be NaN (inf * 0, inf - inf, ...). A ValueError (a bad value) and an
    ArithmeticError (like an overflow), so code that catches either sees it."""


def refuse_nan(op, operands) -> None:
    """Raise for an op whose result is NaN (inf * 0, inf - inf, ...): a NaN would silently poison
    every gradient downstream, so none ever enters a graph."""
    shown = ", ".join(repr(x) for x in operands)
    raise NaNError(f"{op} of ({shown}) is NaN (undefined), so gradwalk refuses it: a NaN would silently "
                     "poison every gradient downstream")


def _at(derivative, *args):
    """A derivative's value: a number stands for itself, a function is called on the operands."""
    return derivative(*args) if callable(derivative) else derivative


def _is_number(d) -> bool:
    return isinstance(d, (int, float)) and not isinstance(d, bool)


def _constant(x, op: str) -> float:
    """A plain-number operand as a float; TypeError naming its type otherwise (bool included)."""
    if type(x) is float and x == x:  # the common case first; x == x is False only for NaN
        return x
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        x = float(x)
        if x != x:
            raise ValueError(f"a NaN operand for {op} would silently poison every gradient")
        return x
    raise TypeError(f"unsupported operand for {op}: Value and {type(x).__name__} (use a Value, int or float)")
