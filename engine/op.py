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
  strategies all look ops up in `engine.op.registry`.

A derivative is written with arithmetic and other ops only, so the same expression works on floats
and on Values: `lambda x, out: cos(x)` for sin. A constant slope is written as a number: `+` has
the derivatives `(1.0, 1.0)`.
"""

from __future__ import annotations

import functools
import math
import operator
import sys

from engine import modes
from engine.value import Value, as_float, make_node

registry: dict[str, "Op"] = {}
"""Every op by name, in the order defined (`engine.ops` fills it; `define_op` adds to it)."""


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
        return (_refold, (self.base.name, self.constant, self.position))

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


def lookup(name: str) -> Op:
    """The op called `name`; KeyError naming the known ops otherwise."""
    try:
        return registry[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}; the ops are: {', '.join(registry)}") from None


def _refold(name: str, c: float, position: int) -> FoldedOp:
    return lookup(name).fold(c, position)


# -- defining ops -----------------------------------------------------------------------------------

_OPERATORS = {  # binary ops that Python spells as operators, and their Value methods
    "+": ("__add__", "__radd__"), "-": ("__sub__", "__rsub__"), "*": ("__mul__", "__rmul__"),
    "/": ("__truediv__", "__rtruediv__"), "**": ("__pow__", "__rpow__"),
}


def define_op(name: str, forward, derivative, *, arity="counted", linear_in=(), commutative=False,
              array_forward=None, formula: str = "", kinks=(), doc: str = "", method: str | None = None) -> Op:
    """Define an op once, by its forward function and its local derivative(s), and install it.

    Args:
        name: the op's name; also the Value method (`x.atan()`) and the formula function (`atan(x)`).
        forward: the op on plain floats, e.g. `math.atan`. Raise ValueError for inputs outside
            the domain, naming the op and the value.
        derivative: the local derivative, written with arithmetic and ops so that it works on
            floats and on Values alike (which is what makes higher-order gradients work):
            `lambda x, out: 1 / (1 + x * x)` for one operand (`out` is the op's result);
            a pair of such functions `(d/da, d/db)`, each taking `(a, b, out)`, for two operands;
            a number for a constant slope.
        arity: 1 or 2 (counted from `derivative` when not given), or None for any number of
            operands (then `forward` takes a list, and `derivative(xs, out)` returns a tuple).
        linear_in: operand positions whose derivative does not involve that operand (`*` in
            both): a folded constant then gets its slope computed once.
        array_forward: the forward function on numpy arrays, used to replay a traced graph.
        formula: the derivative as text for printouts (e.g. "1/(1 + x**2)").
        kinks: inputs where the op has no derivative (relu: 0), which gradient checks stay away from.
        method: the name of the Value method (default: `name`); None for operators.

    Defining a name again replaces your earlier op (handy when a notebook cell runs twice);
    gradwalk's own ops can't be replaced. Returns the Op. Afterwards `Value.<name>`, `engine.<name>` (when imported from `engine`),
    drawings, stepping, gradcheck, the CLI and `engine.testing` all know it.

        >>> import math, engine
        >>> atan = define_op("my_atan", math.atan, lambda x, out: 1 / (1 + x * x), formula="1/(1 + x**2)")
        >>> y = engine.Value(1.0).my_atan()
        >>> y.backward()
        >>> round(y.data, 4), y.parents[0].grad
        (0.7854, 0.5)
        >>> engine.gradcheck(lambda x: x.my_atan(), 0.3)
        True
    """
    if not isinstance(name, str) or not name or not callable(forward):
        raise TypeError(f"define_op needs a name (str) and a forward function, got {name!r} and {forward!r}")
    if name in registry and registry[name].builtin:
        raise ValueError(f"{name!r} is one of gradwalk's own ops; give yours another name")
    if arity == "counted":
        arity = 2 if isinstance(derivative, tuple) else 1
    if arity == 2 and not (isinstance(derivative, tuple) and len(derivative) == 2):
        raise TypeError(f"op {name!r}: a two-operand op needs a pair of derivatives (d/da, d/db)")
    parts = derivative if isinstance(derivative, tuple) and arity != 1 else (derivative,)
    if arity is not None and not all(callable(d) or _is_number(d) for d in parts):
        raise TypeError(f"op {name!r}: a derivative is a function or a number, got {derivative!r}")
    op = Op(name, forward, derivative, arity=arity, linear_in=linear_in, commutative=commutative,
            array_forward=array_forward, formula=formula, kinks=kinks, doc=doc)
    registry[name] = op
    if method is None and arity == 1 and name.isidentifier():
        method = name
    _install_method(op, method)
    engine = sys.modules.get("engine")
    if engine is not None and name.isidentifier() and not hasattr(engine, name):
        setattr(engine, name, op)  # engine.atan(x) for an op you define; engine's own names stay
    return op


def forget_op(name: str) -> None:
    """Remove an op you defined: from the registry, from Value's methods and from `engine`.

    Nodes made with it keep working; new ones can't be made. gradwalk's own ops stay.
    """
    op = lookup(name)
    if op.builtin:
        raise ValueError(f"{name!r} is one of gradwalk's own ops and can't be removed")
    del registry[name]
    for attribute in list(_installed):
        if getattr(getattr(Value, attribute, None), "__name__", None) == name:
            delattr(Value, attribute)
            _installed.discard(attribute)
    engine = sys.modules.get("engine")
    if engine is not None and getattr(engine, name, None) is op:
        delattr(engine, name)


def _install_method(op: Op, method: str | None) -> None:
    """Give Value the op as a method (`x.tanh()`) or, for + - * / **, as an operator."""
    if op.name in _OPERATORS:
        forward_name, reflected_name = _OPERATORS[op.name]
        setattr(Value, forward_name, op.apply2)
        setattr(Value, reflected_name, op.rapply2)
        return
    if method:
        if op.arity != 1:
            raise TypeError(f"op {op.name!r}: only one-operand ops become Value methods")
        if hasattr(Value, method) and method not in _installed:
            raise ValueError(f"Value already has an attribute {method!r}; pass method= another name")
        apply1 = op.apply1  # a plain function of x, so Value takes it as a method as it is
        apply1.__name__, apply1.__qualname__, apply1.__doc__ = op.name, f"Value.{op.name}", op.__doc__
        setattr(Value, method, apply1)
        _installed.add(method)


_installed: set[str] = set()


def unary_ops() -> dict[str, Op]:
    """The one-operand ops that are functions (`tanh`, `exp`, your own ...), by name."""
    return {name: op for name, op in registry.items() if op.arity == 1 and name.isidentifier()}


# The stdlib functions some definitions are built from, re-exported for engine.ops' table.
add, sub, mul, truediv, neg = operator.add, operator.sub, operator.mul, operator.truediv, operator.neg


def op_table() -> str:
    """The README's table of ops, made from the registry: name, what it computes, its derivative."""
    rows = ["| op | computes | local derivative |", "|---|---|---|"]
    for name, op in registry.items():
        if op.builtin:
            computes = op.__doc__.split(";")[0].rstrip(".").replace("|", "\\|")
            rows.append(f"| `{name}` | {computes} | `{op.formula}` |")
    return "\n".join(rows)
