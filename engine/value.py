"""`Value`: one scalar in a computation graph, and every operation on it.

Each node stores its forward result (`data`), the nodes it was computed from (`parents`, in
operand order) and `local_grad`, a closure returning the local partial derivatives
d(node)/d(parent), one per parent. The chain rule itself lives in exactly one place, the backward
walk in `engine.graph`; an op here only knows its own derivative.

Every op below is written the same way: compute the forward value, then hand `_node` a closure
over the plain floats its derivative needs. The closures never capture Value objects -- in
particular never the output node -- so a graph holds no reference cycles and is freed by reference
counting the moment its root goes away, without waiting for the cyclic garbage collector.

The closures take their floats as default arguments (`lambda t=t: (1.0 - t * t,)`) rather than as
free variables (`lambda: (1.0 - t * t,)`). Both return the same thing; the first is cheaper. A free
variable lives in a cell, and a cell and the tuple holding the cells are two more objects per
variable that Python's cyclic garbage collector tracks and traverses again and again while a big
graph is alive. Default arguments sit in a tuple of floats, which the collector stops tracking the
first time it sees it. (Measured: a tanh node keeps 3 collector-tracked objects alive instead of
5, and a 10^5-step tanh chain, build + backward with the collector on, runs ~10% faster.)

Plain Python numbers are folded into the op instead of becoming constant leaves: `x * 3` is one
node with op `*3` and a single parent. Drawings show the constant through the op text.
"""

from __future__ import annotations

import functools
import math

# Module state read on every op creation. They are module globals (not attributes of some
# object) because a global lookup is the cheapest read Python has, and this is the hot path.
# `engine.graph.no_grad` and `engine.graph.name_scope` are the only writers.
_recording = True  # False inside no_grad(): ops compute data only.
_scope = None  # Innermost name_scope() label, stamped on every node created inside it.


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
        parents: the operand nodes, in order (`a + a` keeps both edges).
        local_grad: closure returning d(self)/d(parent) for each parent; None on leaves.
        op: what produced this node (`'+'`, `'tanh'`, `'*3'` ...); `''` on leaves.
        label: a name for printing and drawing.
        param: True for trainable parameters (set by `nn`; drawings style them).
        scope: the `name_scope` the node was created in (set by `nn`; drawings cluster by it).
    """

    __slots__ = ("data", "grad", "parents", "local_grad", "op", "label", "param", "scope", "__weakref__")

    def __init__(self, data, label: str = "", *, param: bool = False):
        self.data = _as_float(data, "Value()")
        self.grad = 0.0
        self.parents = ()
        self.local_grad = None
        self.op = ""
        self.label = label
        self.param = param
        self.scope = _scope

    def __repr__(self) -> str:
        text = f"Value(data={self.data:.4g}, grad={self.grad:.4g}"
        if self.op:
            text += f", op={self.op!r}"
        if self.label:
            text += f", label={self.label!r}"
        return text + ")"

    # -- binary arithmetic ------------------------------------------------------------------------
    # An operand that is not a Value, int or float raises at once (rather than returning
    # NotImplemented): Python's fallback messages, such as "can't multiply sequence by non-int of
    # type 'Value'" for `[1] * x`, would blame the Value instead of naming the wrong operand.

    def __add__(self, other):
        if isinstance(other, Value):
            return _node(self.data + other.data, (self, other), "+", _ones2)
        c = _constant(other, "+")
        return _node(self.data + c, (self,), *_fold("+", c))

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, Value):
            return _node(self.data - other.data, (self, other), "-", _one_minus_one)
        c = _constant(other, "-")
        return _node(self.data - c, (self,), *_fold("-", c))

    def __rsub__(self, other):  # other - self
        c = _constant(other, "-")
        return _node(c - self.data, (self,), *_fold("c-", c))

    def __mul__(self, other):
        a = self.data
        if isinstance(other, Value):
            b = other.data
            return _node(a * b, (self, other), "*", lambda b=b, a=a: (b, a))
        c = _constant(other, "*")
        return _node(a * c, (self,), *_fold("*", c))  # slope c

    __rmul__ = __mul__

    def __truediv__(self, other):
        a = self.data
        if isinstance(other, Value):
            b = other.data
            _check_divisor(a, b)
            out = a / b
            # d/db = -a/b^2, computed as -(a/b)/b: b*b would underflow to 0 for |b| < 1e-154.
            return _node(out, (self, other), "/", lambda b=b, out=out: (1.0 / b, -out / b))
        c = _constant(other, "/")
        _check_divisor(a, c)
        return _node(a / c, (self,), *_fold("/", c))  # slope 1 / c

    def __rtruediv__(self, other):  # other / self
        c = _constant(other, "/")
        b = self.data
        _check_divisor(c, b)
        out = c / b
        return _node(out, (self,), _fmt(c) + "/", lambda b=b, out=out: (-out / b,))  # -c/b^2 as in __truediv__

    def __pow__(self, other):
        x = self.data
        if isinstance(other, Value):
            # x ** y with both varying: d/dx = y x^(y-1), d/dy = x^y ln x, so x must be positive.
            y = other.data
            if x <= 0.0:
                raise ValueError(f"x ** y with a Value exponent needs x > 0 (d/dy = x**y * log x), got x={x!r}")
            out = _power(x, y, "**")
            return _node(out, (self, other), "**", lambda x=x, y=y, out=out: (y * out / x, out * math.log(x)))
        n = _constant(other, "**")
        if x < 0.0 and not n.is_integer():
            raise ValueError(f"x ** {_fmt(n)} is not real for x={x!r} (x must be >= 0 for a fractional power)")
        out = _power(x, n, "**" + _fmt(n))
        return _node(out, (self,), "**" + _fmt(n), lambda x=x, n=n, out=out: (_power_slope(x, n, out),))

    def __rpow__(self, other):  # base ** self, base a number: d/dx = base^x ln(base)
        base = _constant(other, "**")
        if base <= 0.0:
            raise ValueError(f"{_fmt(base)} ** x needs a positive base (d/dx = base**x * log base), got {base!r}")
        out = _power(base, self.data, _fmt(base) + "**")
        log_base = math.log(base)
        return _node(out, (self,), _fmt(base) + "**", lambda out=out, log_base=log_base: (out * log_base,))

    def __neg__(self):
        return _node(-self.data, (self,), "neg", _minus_one)

    def __pos__(self):
        return self

    # -- elementary functions ---------------------------------------------------------------------

    def exp(self):
        """e^x; slope e^x. OverflowError past x ~ 709.78."""
        x = self.data
        try:
            out = math.exp(x)
        except OverflowError:
            raise OverflowError(f"exp overflows for x={x!r} (largest finite input is about 709.78)") from None
        return _node(out, (self,), "exp", lambda out=out: (out,))

    def log(self):
        """Natural log, for x > 0; slope 1/x."""
        x = self.data
        if x <= 0.0:
            raise ValueError(f"log needs x > 0, got x={x!r}")
        return _node(math.log(x), (self,), "log", lambda x=x: (1.0 / x,))

    def sqrt(self):
        """Square root, for x >= 0; slope 1/(2 sqrt x)."""
        x = self.data
        if x < 0.0:
            raise ValueError(f"sqrt needs x >= 0, got x={x!r}")
        out = math.sqrt(x)
        # The slope 1/(2 sqrt x) is infinite at 0, as in PyTorch; it is never NaN.
        return _node(out, (self,), "sqrt", lambda out=out: (0.5 / out if out else math.inf,))

    def tanh(self):
        """Hyperbolic tangent; slope 1 - tanh(x)^2."""
        t = math.tanh(self.data)  # math.tanh saturates to +-1 without overflow for any finite x
        return _node(t, (self,), "tanh", lambda t=t: (1.0 - t * t,))

    def sigmoid(self):
        """Logistic 1/(1 + e^-x), stable for every finite x; slope s(1 - s)."""
        s = _sigmoid(self.data)
        return _node(s, (self,), "sigmoid", lambda s=s: (s * (1.0 - s),))

    def relu(self):
        """max(x, 0); slope 1 for x > 0, else 0 (0 at the kink too, as in PyTorch)."""
        x = self.data
        if x > 0.0:
            return _node(x, (self,), "relu", _one)
        return _node(0.0, (self,), "relu", _zero)

    def abs(self):
        """|x|; slope sign(x), 0 at 0."""
        x = self.data
        return _node(abs(x), (self,), "abs", _one if x > 0.0 else (_minus_one if x < 0.0 else _zero))

    __abs__ = abs

    def sin(self):
        """Sine; slope cos x."""
        x = self.data
        return _node(math.sin(x), (self,), "sin", lambda x=x: (math.cos(x),))

    def cos(self):
        """Cosine; slope -sin x."""
        x = self.data
        return _node(math.cos(x), (self,), "cos", lambda x=x: (-math.sin(x),))

    def softplus(self):
        """log(1 + e^x), stable for every finite x; slope sigmoid(x)."""
        # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): the exponent is never positive, so no overflow.
        x = self.data
        out = max(x, 0.0) + math.log1p(math.exp(-abs(x)))
        return _node(out, (self,), "softplus", lambda x=x: (_sigmoid(x),))

    # -- graph operations (implemented in engine.graph) ---------------------------------------------

    def backward(self) -> None:
        """Fill in `grad` on every node of this graph: see `engine.graph.backward`."""
        _graph.backward(self)

    def backward_steps(self):
        """Backward one node at a time, yielding a readable step: see `engine.graph.backward_steps`."""
        return _graph.backward_steps(self)

    def zero_grad(self) -> None:
        """Set `grad` to 0.0 on every node of this graph."""
        _graph.zero_grad(self)

    def detach(self) -> "Value":
        """A new leaf with the same data (and label): gradients stop here."""
        return Value(self.data, self.label)

    # -- pictures (implemented in engine.draw, imported on first use) ------------------------------

    def draw(self, path=None, **draw_kw):
        """A picture of this node's graph (a graphviz.Digraph), also saved to `path` if given.

        Keyword arguments go to `engine.draw_dot` (rankdir, digits, color_by_grad, cluster, ...).
        """
        from engine.draw import draw

        return draw(self, path, **draw_kw)

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Jupyter shows a Value as its graph (plain text when too large or Graphviz is missing)."""
        from engine.draw import mimebundle

        return mimebundle(self, include, exclude)


# -- n-ary ops ------------------------------------------------------------------------------------


def sum_values(values) -> Value:
    """One node for `v0 + v1 + ... + vn`: faster and a smaller drawing than a chain of `+` nodes.

    Plain numbers among the terms are folded into the node's data; Value terms become parents.
    """
    parents = []
    total = 0.0
    for v in values:
        if isinstance(v, Value):
            parents.append(v)
            total += v.data
        else:
            c = _as_float(v, "sum_values")
            total += c
    return _node(total, tuple(parents), "sum", lambda n=len(parents): (1.0,) * n)


def dot(weights, inputs, bias=None) -> Value:
    """One node for `w0*x0 + w1*x1 + ... + bias`: a neuron's pre-activation in a single step.

    `weights` and `inputs` have equal length; each entry is a Value or a plain number (numbers are
    constants, e.g. a network's input features). Parents are the Value entries in the order
    w0, x0, w1, x1, ..., bias; the local derivative of w_i is x_i and of x_i is w_i.
    """
    weights = list(weights)
    inputs = list(inputs)
    if len(weights) != len(inputs):
        raise ValueError(f"dot needs as many weights as inputs, got {len(weights)} and {len(inputs)}")
    # (Measured: whole-list steps for the all-Values case -- list comprehensions for the data,
    # slice assignment to interleave -- were no faster than this one loop, so there is one path.)
    parents = []
    slopes = []
    total = 0.0
    for w, x in zip(weights, inputs):
        w_is_value = isinstance(w, Value)
        x_is_value = isinstance(x, Value)
        wd = w.data if w_is_value else _as_float(w, "dot")
        xd = x.data if x_is_value else _as_float(x, "dot")
        total += wd * xd
        if w_is_value:
            parents.append(w)
            slopes.append(xd)
        if x_is_value:
            parents.append(x)
            slopes.append(wd)
    if bias is not None:
        if isinstance(bias, Value):
            total += bias.data
            parents.append(bias)
            slopes.append(1.0)
        else:
            total += _as_float(bias, "dot")
    return _node(total, tuple(parents), "dot", lambda slopes=tuple(slopes): slopes)


# -- helpers --------------------------------------------------------------------------------------

_new = object.__new__


def _node(data: float, parents: tuple, op: str, local_grad) -> Value:
    """Make an op's output node. Skips __init__'s type check: `data` is already a float here."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out.param = False
    out.scope = _scope
    if _recording:
        out.parents = parents
        out.local_grad = local_grad
        out.op = op
    else:
        out.parents = ()
        out.local_grad = None
        out.op = ""
    return out


def _fold(kind: str, c: float):
    """`(op, local_grad)` for an op with the plain number c folded in: `*3` has the slope 3.

    Both depend on (kind, c) only, so they are made once per constant and shared by every node
    that uses it: a million steps of `y * 1.0001 + 0.0001` create no function and format no string
    per node. (Measured: building `y * 1.0001` takes 0.82 us instead of 1.03 us.)
    """
    if c == 0.0:  # 0.0 and -0.0 are equal keys to the cache, but their names and slopes differ
        return _make_fold(kind, c)
    return _cached_fold(kind, c)


def _make_fold(kind: str, c: float):
    if kind == "+":
        return "+" + _fmt(c), _one
    if kind == "-":
        return "-" + _fmt(c), _one
    if kind == "c-":  # c - x
        return _fmt(c) + "-", _minus_one
    if kind == "*":
        return "*" + _fmt(c), lambda c=c: (c,)
    if kind == "/":
        return "/" + _fmt(c), lambda slope=1.0 / c: (slope,)
    raise AssertionError(kind)


_cached_fold = functools.lru_cache(maxsize=1024)(_make_fold)


# Shared local-gradient functions for ops whose slopes are constants: no closure per node needed.
def _one():
    return (1.0,)


def _zero():
    return (0.0,)


def _minus_one():
    return (-1.0,)


def _ones2():
    return (1.0, 1.0)


def _one_minus_one():
    return (1.0, -1.0)


def _as_float(x, where: str) -> float:
    """`x` as a float, or a TypeError naming its type. bool is refused: True + x is a bug."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        x = float(x)
        if x != x:
            raise ValueError(f"{where} got NaN: a NaN input would silently poison every gradient")
        return x
    if isinstance(x, Value):
        raise TypeError(f"{where} takes a plain number here, not a Value")
    raise TypeError(f"{where} takes a Value, int or float, not {type(x).__name__}")


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


def as_value(x) -> Value:
    """`x` if it is a Value, else a new constant leaf; TypeError for anything but int or float."""
    return x if isinstance(x, Value) else Value(x)


def _fmt(c: float) -> str:
    """How a folded constant appears in an op name: `*3`, `+0.5`, `**-1`."""
    return f"{c:g}"


def _check_divisor(a: float, b: float) -> None:
    if b == 0.0:
        raise ZeroDivisionError(f"division by zero: {a!r} / 0")


def _power(x: float, n: float, op: str) -> float:
    if x == 0.0 and n < 0.0:
        raise ZeroDivisionError(f"{op}: 0 cannot be raised to a negative power")
    try:
        return x**n
    except OverflowError:
        raise OverflowError(f"{op} overflows for x={x!r}, exponent {n!r}") from None


def _power_slope(x: float, n: float, out: float) -> float:
    """d/dx x**n = n x**(n-1), computed as n * out / x where it can be: float ** raises
    OverflowError where that product only saturates. At x = 0 it is 0 for n > 1, n**0 for n = 1
    and infinite for n < 1 -- never NaN."""
    if n == 0.0:
        return 0.0
    if x != 0.0:
        return n * out / x
    if n > 1.0:
        return 0.0
    return 1.0 if n == 1.0 else math.inf


def _sigmoid(x: float) -> float:
    # Only ever exponentiate a non-positive number, so no input overflows.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


from engine import graph as _graph  # noqa: E402  (graph needs Value defined first)
