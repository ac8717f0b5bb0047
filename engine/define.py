"""Adding ops: `define_op` checks a definition whole and installs it, `forget_op` removes one.

Everything that lists ops -- Value's methods, `engine.<name>`, the formula language's functions,
the test strategies, the README's table -- reads them from the registry in `engine.core.value`, so an
op defined here is known everywhere at once. A definition is checked completely before anything
changes: a refused one leaves the engine exactly as it was.
"""

from __future__ import annotations

import inspect
import keyword
import numbers

from engine.core.table import install, remove_methods, user_methods
from engine.core.value import Op, Value, lookup, registry

# Inputs a definition is tried on: an op may refuse some (log refuses -0.5), not all.
_PROBES = {1: [(0.5,), (1.5,), (-0.5,), (2.5,), (0.25,)], 2: [(0.5, 1.5), (1.5, 0.5), (2.0, 3.0), (-0.5, 2.0)],
           None: [([0.5, 1.5, 2.0],), ([1.0, -0.5],), ([0.25],)]}
_DOMAIN_ERRORS = (ValueError, ArithmeticError)


def define_op(name: str, forward, derivative, *, arity="counted", linear_in=(), commutative=False,
              array_forward=None, formula: str = "", kinks=(), doc: str = "", method: str | None = "") -> Op:
    """Define an op once, by its forward function and its local derivative(s), and install it.

    Args:
        name: the op's name, a Python identifier; also the Value method (`x.atan()`), the
            function `engine.atan` and the formula language's `atan(x)`.
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
        commutative: op(a, b) == op(b, a), so `2 op x` folds like `x op 2`.
        array_forward: the forward function on numpy arrays, used to replay a traced graph.
        formula: the derivative as text for printouts (e.g. "1/(1 + x**2)").
        kinks: inputs where the op has no derivative (relu: 0), which gradient checks stay away from.
        doc: the op's docstring.
        method: the name of the Value method (default: `name` for a one-operand op); None for none.

    The definition is tried on a few inputs first: forward and derivative must give real numbers
    (an input may be refused with ValueError). Defining a name again replaces your earlier op
    (handy when a notebook cell runs twice); gradwalk's own ops and Value's attributes can't be
    replaced. Returns the Op.

        >>> import math, engine
        >>> atan = define_op("my_atan", math.atan, lambda x, out: 1 / (1 + x * x), formula="1/(1 + x**2)")
        >>> y = engine.Value(1.0).my_atan()
        >>> y.backward()
        >>> round(y.data, 4), y.parents[0].grad
        (0.7854, 0.5)
        >>> engine.gradcheck(lambda x: x.my_atan(), 0.3)
        True
    """
    _check_name(name)
    if arity == "counted":
        arity = 2 if isinstance(derivative, (tuple, list)) else 1
    if method == "":
        method = name if arity == 1 else None
    _check_fields(name, forward, derivative, arity, linear_in, commutative, array_forward, formula, kinks, doc, method)
    derivative = tuple(derivative) if arity == 2 else derivative
    _probe(name, forward, derivative, arity)
    op = Op(name, forward, derivative, arity=arity, linear_in=linear_in, commutative=commutative,
            array_forward=array_forward, formula=formula, kinks=tuple(kinks), doc=doc)
    install(op, method)
    return op


def forget_op(name: str) -> None:
    """Remove an op you defined: from the registry, from Value's methods and from `engine`.

    Nodes made with it keep working; new ones can't be made. gradwalk's own ops stay.
    """
    op = lookup(name)
    if op.builtin:
        raise ValueError(f"{name!r} is one of gradwalk's own ops and can't be removed")
    remove_methods(name)
    del registry[name]


def unary_ops() -> dict:
    """The one-operand ops that are functions (`tanh`, `exp`, your own ...), by name."""
    return {name: op for name, op in registry.items() if op.arity == 1 and name.isidentifier()}


def op_table() -> str:
    """The README's table of ops, made from the registry: name, what it computes, its derivative."""
    rows = ["| op | computes | local derivative |", "|---|---|---|"]
    for name, op in registry.items():
        if op.builtin:
            computes = op.__doc__.split(";")[0].rstrip(".").replace("|", "\\|")
            rows.append(f"| `{name}` | {computes} | `{op.formula}` |")
    return "\n".join(rows)


# -- checking a definition before anything changes ----------------------------------------------------


def _shown(x) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_name(name) -> None:
    if not isinstance(name, str):
        raise TypeError(f"define_op: an op's name is a str, got {type(name).__name__} {_shown(name)}")
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"define_op: {_shown(name)} is not a usable op name: use a Python identifier "
                         "(letters, digits and _), which is also its Value method and formula function")
    existing = registry.get(name)
    if existing is not None and existing.builtin:
        raise ValueError(f"define_op: {name!r} is one of gradwalk's own ops; give yours another name")
    if name.startswith("_") or (hasattr(Value, name) and user_methods.get(name) != name):
        raise ValueError(f"define_op: {name!r} is taken by Value itself (Value.{name}); give your op another name")


def _check_fields(name, forward, derivative, arity, linear_in, commutative, array_forward, formula, kinks, doc,
                  method) -> None:
    where = f"define_op({name!r})"
    if not callable(forward):
        raise TypeError(f"{where}: forward must be a function of plain floats, got {_shown(forward)}")
    if arity not in (1, 2, None) or isinstance(arity, bool):
        raise ValueError(f"{where}: arity is 1, 2 or None (any number of operands), got {_shown(arity)}")
    if arity == 2:
        if not (isinstance(derivative, (tuple, list)) and len(derivative) == 2):
            raise TypeError(f"{where}: a two-operand op needs a pair of derivatives (d/da, d/db), got {_shown(derivative)}")
        parts = tuple(derivative)
    elif arity is None:
        if not callable(derivative):
            raise TypeError(f"{where}: an op of any number of operands needs derivative(xs, out) returning "
                            f"one slope per operand, got {_shown(derivative)}")
        parts = ()
    else:
        parts = (derivative,)
    for d in parts:
        if not (callable(d) or _is_real(d)):
            raise TypeError(f"{where}: a derivative is a function or a number, got {_shown(d)}")
    operands = {1: "(x)", 2: "(a, b)", None: "(xs)"}[arity]
    _check_signature(where, forward, "forward", operands)
    for d in parts or (derivative,):
        if callable(d):
            _check_signature(where, d, "a derivative", {1: "(x, out)", 2: "(a, b, out)", None: "(xs, out)"}[arity])
    positions = range(arity or 0)
    if not isinstance(linear_in, (tuple, list)) or any(type(p) is not int or p not in positions for p in linear_in):
        raise TypeError(f"{where}: linear_in lists operand positions ({list(positions)}), got {_shown(linear_in)}")
    if not isinstance(commutative, bool) or (commutative and arity != 2):
        raise TypeError(f"{where}: commutative is True or False (and True only for two operands), got {_shown(commutative)}")
    if array_forward is not None and not callable(array_forward):
        raise TypeError(f"{where}: array_forward is a function of numpy arrays or None, got {_shown(array_forward)}")
    for field, text in (("formula", formula), ("doc", doc)):
        if not isinstance(text, str):
            raise TypeError(f"{where}: {field} is text (a str), got {type(text).__name__} {_shown(text)}")
    if isinstance(kinks, (str, bytes)) or not hasattr(kinks, "__iter__"):
        raise TypeError(f"{where}: kinks is a list of numbers (inputs with no derivative), got {_shown(kinks)}")
    kinks = list(kinks)
    if not all(_is_real(k) for k in kinks):
        raise TypeError(f"{where}: kinks must be numbers, got {_shown(kinks)}")
    if method is not None:
        if arity != 1:
            raise TypeError(f"{where}: only one-operand ops become Value methods; pass method=None")
        if not isinstance(method, str) or not method.isidentifier() or method.startswith("_"):
            raise ValueError(f"{where}: method must be a plain identifier, got {_shown(method)}")
        if hasattr(Value, method) and user_methods.get(method) != name:
            raise ValueError(f"{where}: Value already has an attribute {method!r}; pass method= another name")


def _check_signature(where, f, role: str, parameters: str) -> None:
    """Refuse a function that can't be called with the arguments gradwalk will pass it."""
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):  # some builtins have no signature to read: the probes try them
        return
    try:
        signature.bind(*range(parameters.count(",") + 1))
    except TypeError:
        raise TypeError(f"{where}: {role} is called as f{parameters}, but its signature is {signature}") from None


def _probe(name, forward, derivative, arity) -> None:
    """Try the definition on a few inputs: a definition that returns a string, None or the wrong
    number of slopes is refused now, not when a later backward pass meets it."""
    tried = 0
    for args in _PROBES[arity]:
        shown = ", ".join(map(repr, args))
        try:
            out = forward(*args)
        except _DOMAIN_ERRORS:
            continue
        except Exception as error:
            raise TypeError(f"define_op({name!r}): forward({shown}) raised {type(error).__name__}: {error}") from error
        if not _is_real(out):
            raise TypeError(f"define_op({name!r}): forward({shown}) returned {_shown(out)}, not a real number")
        tried += 1
        try:
            slopes = _slopes_at(derivative, arity, args, float(out))
        except _DOMAIN_ERRORS:
            continue
        except Exception as error:
            raise TypeError(f"define_op({name!r}): the derivative at ({shown}) raised {type(error).__name__}: "
                            f"{error}") from error
        expected = len(args[0]) if arity is None else arity
        if not isinstance(slopes, (tuple, list)) or len(slopes) != expected or not all(map(_is_real, slopes)):
            raise TypeError(f"define_op({name!r}): the derivative at ({shown}) gave {_shown(slopes)}; it must give "
                            f"{expected} real number(s), one per operand")
    if not tried:
        raise ValueError(f"define_op({name!r}): forward refused every input it was tried on "
                         f"({', '.join(map(repr, _PROBES[arity]))}); it must accept some real numbers")


def _slopes_at(derivative, arity, args, out):
    if arity is None:
        return derivative(list(args[0]), out)
    parts = (derivative,) if arity == 1 else derivative
    return tuple(d(*args, out) if callable(d) else d for d in parts)


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)
