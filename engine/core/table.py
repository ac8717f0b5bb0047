"""Every op gradwalk knows, each defined once: its forward value and its local derivative, side by side.

Read a row as "the op, what it computes, and how it changes when its input changes". `out` is the
op's own result, which several derivatives reuse (d tanh = 1 - tanh^2). A derivative is written
with arithmetic and ops only, so the same expression serves floats (ordinary backward) and Values
(higher-order gradients); the `_`-helpers below are that kind of expression too.

Each row becomes a Value method or operator, an `engine` function, a function of the formula
language and an op of the test strategies. `define_op` adds your own ops the same way.
"""

from __future__ import annotations

import functools
import math
import operator

from engine.core.value import Op, Value, registry


# -- installing a row: the registry, and Value's method or operator -----------------------------

_OPERATORS = {  # binary ops that Python spells as operators, and their Value methods
    "+": ("__add__", "__radd__"), "-": ("__sub__", "__rsub__"), "*": ("__mul__", "__rmul__"),
    "/": ("__truediv__", "__rtruediv__"), "**": ("__pow__", "__rpow__"),
}
user_methods: dict[str, str] = {}  # Value method -> the name of the user op it runs


def install(op: Op, method: str | None = None, *, builtin: bool = False) -> Op:
    """Put an op in the registry and give Value its method or operator (`define_op` checks first)."""
    op.builtin = builtin
    previous = registry.get(op.name)
    if previous is not None:
        remove_methods(op.name)
    registry[op.name] = op
    if op.name in _OPERATORS:
        forward_name, reflected_name = _OPERATORS[op.name]
        setattr(Value, forward_name, op.on_values)
        setattr(Value, reflected_name, op.on_values if op.commutative else _reflected(op))
    elif method:
        maker = op.on_values
        maker.__name__, maker.__qualname__, maker.__doc__ = method, f"Value.{method}", op.__doc__
        setattr(Value, method, maker)
        if not op.builtin:
            user_methods[method] = op.name
    return op


def _reflected(op: Op):
    def reflected(x, number):  # a function, so that Value binds it as a method (`2 - x`)
        return op.reflected(x, number)

    return reflected


def remove_methods(name: str) -> None:
    for method, owner in list(user_methods.items()):
        if owner == name:
            delattr(Value, method)
            del user_methods[method]


def own_op(name, forward, derivative, *, arity="counted", method="", **fields) -> Op:
    """A row of the table: gradwalk's own op, installed as `builtin` (so it can't be replaced)."""
    if arity == "counted":
        arity = 2 if isinstance(derivative, tuple) else 1
    if method == "":
        method = name if arity == 1 else None
    return install(Op(name, forward, derivative, arity=arity, **fields), method, builtin=True)

# -- small helpers the rows use (each works on floats, Values and numpy arrays) ---------------------


def _numpy():
    import numpy

    return numpy


def _is_array(x) -> bool:
    return type(x).__module__ == "numpy"


def _step(x, out=None):
    """1 where x > 0, else 0: relu's slope. A constant, so its own derivative is 0."""
    if type(x) is float:
        return 1.0 if x > 0.0 else 0.0
    if isinstance(x, Value):
        x = x.data
    if _is_array(x):
        return (x > 0).astype(float)
    return 1.0 if x > 0.0 else 0.0


def _sign(x):
    """-1, 0 or 1: abs's slope (0 at the kink, as in PyTorch)."""
    if isinstance(x, Value):
        x = x.data
    if _is_array(x):
        return _numpy().sign(x)
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


def _power_slope(x, n):
    """d/dx x**n = n x**(n-1), right wherever that is a finite float, and +-inf (never NaN) where
    it is infinite. (Computing it as n * out / x underflows for tiny x and overflows for huge x.)"""
    if _is_array(x) or _is_array(n):
        return n * x ** (n - 1.0)
    xd, nd = _number(x), _number(n)
    slope = _power_slope_of_floats(xd, nd)
    if not (isinstance(x, Value) or isinstance(n, Value)):
        return slope
    if not math.isfinite(slope) or (xd == 0.0 and nd <= 1.0):
        return slope  # a singular point: the float form, as a constant
    return n * x ** (n - 1.0)


def _power_slope_of_floats(x: float, n: float) -> float:
    if n == 0.0:
        return 0.0
    if x == 0.0:  # x**(n-1) at 0: 0 for n > 1, 1 for n = 1, infinite for n < 1
        return 0.0 if n > 1.0 else (1.0 if n == 1.0 else math.copysign(math.inf, n))
    try:
        return n * x ** (n - 1.0)
    except OverflowError:  # |x**(n-1)| is past the largest float; its sign is x's for odd n-1
        odd = (n - 1.0).is_integer() and (n - 1.0) % 2 == 1.0
        return math.copysign(math.inf, n) * (-1.0 if x < 0.0 and odd else 1.0)


def _log_base(x, y, out):
    """d/dy x**y = x**y ln x; 0 where x = 0 (0**y is 0 for every y > 0, as in PyTorch)."""
    if not _is_array(x):
        xd = _number(x)
        if xd == 0.0:
            return 0.0
        if xd < 0.0:
            raise ValueError(f"x ** y with a Value exponent needs x > 0 (a positive base: d/dy = x**y * log x), "
                             f"got x={xd!r}")
    return out * log(x)


def _sqrt_slope(out):
    """1/(2 sqrt x): infinite at 0, as in PyTorch, never a ZeroDivisionError or NaN."""
    if not _is_array(out) and _number(out) == 0.0:
        return math.inf
    return 0.5 / out


def _number(x):
    """The plain number in x: a Value's data, or x itself."""
    return x.data if isinstance(x, Value) else x


# -- forward functions that check their domain (the error names the op and the value) ---------------


def _log(x):
    if x <= 0.0:
        raise ValueError(f"log needs x > 0, got x={x!r}")
    return math.log(x)


def _sqrt(x):
    if x < 0.0:
        raise ValueError(f"sqrt needs x >= 0, got x={x!r}")
    return math.sqrt(x)


def _exp(x):
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp overflows for x={x!r} (largest finite input is about 709.78)") from None


def _periodic(name, f):
    def forward(x):
        if math.isinf(x):
            raise ValueError(f"{name} needs a finite x, got x={x!r}")
        return f(x)

    return forward


def _sigmoid(x):
    # Only ever exponentiate a non-positive number, so no input overflows.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x):
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): the exponent is never positive, so no overflow.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _div(a, b):
    if b == 0.0:
        raise ZeroDivisionError(f"division by zero: {a!r} / 0")
    return a / b


def _pow(x, y):
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError(f"0 cannot be raised to a negative power ({y!r})")
    if x < 0.0 and not float(y).is_integer():
        raise ValueError(f"a negative base ({x!r}) to a fractional power ({y!r}) is not a real number: "
                         "** needs a base >= 0 or a whole-number exponent")
    try:
        return x**y
    except OverflowError:
        raise OverflowError(f"** overflows for x={x!r}, exponent {y!r}") from None


def _dot(xs):
    # Operands are w0 ... w(n-1), x0 ... x(n-1) and an optional bias last. Products are added in
    # order, one by one from 0.0, the same order a chain of `*` and `+` nodes adds them.
    # (A plain index loop: no slices copied, and faster than reduce over map for these lengths.)
    n = len(xs) // 2
    total = 0.0
    for i in range(n):
        total += xs[i] * xs[n + i]
    return total + xs[-1] if len(xs) % 2 else total


def _dot_slopes(xs, out):
    # d/dw_i = x_i and d/dx_i = w_i: the two halves swap places; the bias's slope is 1.
    n = len(xs) // 2
    return (*xs[n:2 * n], *xs[:n], 1.0) if len(xs) % 2 else (*xs[n:], *xs[:n])


def _sum(xs):
    # math.fsum rounds once, at the end: the sum of 10**6 tiny losses doesn't drift. (It costs
    # about what a plain loop does; see docs/performance.md.)
    try:
        return math.fsum(xs)
    except (OverflowError, ValueError):  # fsum refuses what overflows or meets inf - inf:
        return functools.reduce(operator.add, xs, 0.0)  # add plainly (inf, or NaN that is refused)


def _sum_arrays(xs):
    return functools.reduce(operator.add, xs)


def _np(name):
    """numpy's function `name`, looked up when a traced graph is replayed (numpy is optional)."""
    return lambda *xs: getattr(_numpy(), name)(*xs)


# -- the table --------------------------------------------------------------------------------------
#          name        forward        local derivative(s)                            array forward

add = own_op("+", operator.add, (1.0, 1.0), commutative=True, array_forward=_np("add"),
                formula="1, 1", doc="a + b; d/da = 1, d/db = 1.")
sub = own_op("-", operator.sub, (1.0, -1.0), array_forward=_np("subtract"),
                formula="1, -1", doc="a - b; d/da = 1, d/db = -1.")
mul = own_op("*", operator.mul, (lambda a, b, out: b, lambda a, b, out: a), linear_in=(0, 1), commutative=True,
                array_forward=_np("multiply"), formula="b, a", doc="a * b; d/da = b, d/db = a.")
div = own_op("/", _div, (lambda a, b, out: 1.0 / b, lambda a, b, out: -out / b), linear_in=(0,),
                array_forward=_np("divide"), formula="1/b, -a/b**2",
                doc="a / b, b != 0; d/da = 1/b, d/db = -a/b**2 (computed as -out/b: b*b underflows).")
power = own_op("**", _pow, (lambda x, y, out: _power_slope(x, y), _log_base), array_forward=_np("power"),
                  formula="y*x**(y-1), x**y*log(x)",
                  doc="x ** y; d/dx = y x**(y-1), d/dy = x**y log x (so a Value exponent needs x > 0).")
negate = own_op("neg", operator.neg, -1.0, array_forward=_np("negative"), formula="-1", method="__neg__",
                   doc="-x; slope -1.")

exp = own_op("exp", _exp, lambda x, out: out, array_forward=_np("exp"), formula="exp(x)",
                doc="e^x; slope e^x. OverflowError past x ~ 709.78.")
log = own_op("log", _log, lambda x, out: 1.0 / x, array_forward=_np("log"), formula="1/x",
                doc="Natural log, for x > 0; slope 1/x.")
sqrt = own_op("sqrt", _sqrt, lambda x, out: _sqrt_slope(out), array_forward=_np("sqrt"), formula="1/(2*sqrt(x))",
                 doc="Square root, for x >= 0; slope 1/(2 sqrt x), infinite at 0 (never NaN).")
tanh = own_op("tanh", math.tanh, lambda x, out: 1.0 - out * out, array_forward=_np("tanh"),
                 formula="1 - tanh(x)**2", doc="Hyperbolic tangent; slope 1 - tanh(x)^2.")
sigmoid = own_op("sigmoid", _sigmoid, lambda x, out: out * (1.0 - out),
                    array_forward=lambda x: 0.5 * (1.0 + _numpy().tanh(0.5 * x)), formula="sigmoid(x)*(1 - sigmoid(x))",
                    doc="Logistic 1/(1 + e^-x), stable for every finite x; slope s(1 - s).")
relu = own_op("relu", functools.partial(max, 0.0), _step,
                 array_forward=lambda x: _numpy().maximum(x, 0.0), formula="1 if x > 0 else 0", kinks=(0.0,),
                 doc="max(x, 0); slope 1 for x > 0, else 0 (0 at the kink too, as in PyTorch).")
absolute = own_op("abs", abs, lambda x, out: _sign(x), array_forward=_np("abs"), formula="sign(x)",
                     method="abs", kinks=(0.0,), doc="|x|; slope sign(x), 0 at 0.")
sin = own_op("sin", _periodic("sin", math.sin), lambda x, out: cos(x), array_forward=_np("sin"),
                formula="cos(x)", doc="Sine, for finite x; slope cos x.")
cos = own_op("cos", _periodic("cos", math.cos), lambda x, out: -sin(x), array_forward=_np("cos"),
                formula="-sin(x)", doc="Cosine, for finite x; slope -sin x.")
softplus = own_op("softplus", _softplus, lambda x, out: sigmoid(x),
                     array_forward=lambda x: _numpy().logaddexp(0.0, x), formula="sigmoid(x)",
                     doc="log(1 + e^x), stable for every finite x; slope sigmoid(x).")

dot_op = own_op("dot", _dot, _dot_slopes, arity=None, formula="d/dw_i = x_i, d/dx_i = w_i, d/db = 1",
                   doc="w0*x0 + w1*x1 + ... (+ bias): a neuron's pre-activation in one node.")
sum_op = own_op("sum", _sum, lambda xs, out: (1.0,) * len(xs), arity=None, formula="1 for each term",
                   array_forward=_sum_arrays,
                   doc="x0 + x1 + ...: one node for a whole sum.")

Value.__abs__ = Value.abs
