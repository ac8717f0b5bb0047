"""The registry of ops: `define_op` adds one (and gives Value its method), `forget_op` removes
one, and everything that lists ops -- the CLI's functions, the test strategies, the README's table
-- reads them from here.
"""

from __future__ import annotations

import sys

from engine.op import FoldedOp, Op, _is_number
from engine.value import Value

registry: dict[str, Op] = {}
"""Every op by name, in the order defined (`engine.ops` fills it; `define_op` adds to it)."""


def lookup(name: str) -> Op:
    """The op called `name`; KeyError naming the known ops otherwise."""
    try:
        return registry[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}; the ops are: {', '.join(registry)}") from None


def refold(name: str, c: float, position: int) -> FoldedOp:
    """The op `name` with operand `position` fixed to c (how a folded op is unpickled)."""
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
def op_table() -> str:
    """The README's table of ops, made from the registry: name, what it computes, its derivative."""
    rows = ["| op | computes | local derivative |", "|---|---|---|"]
    for name, op in registry.items():
        if op.builtin:
            computes = op.__doc__.split(";")[0].rstrip(".").replace("|", "\\|")
            rows.append(f"| `{name}` | {computes} | `{op.formula}` |")
    return "\n".join(rows)
