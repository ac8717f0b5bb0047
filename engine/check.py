"""Checking gradients: central finite differences, `gradcheck`, and a functional `grad` API.

Finite differences need nothing but the forward pass, so they are the independent referee for
backprop: d f / d x_i ~ (f(x + h e_i) - f(x - h e_i)) / 2h, with an error of order h^2.
"""

from __future__ import annotations

from engine.graph import backward, no_grad, topological_order
from engine.value import Value, _as_float


class GradcheckError(AssertionError):
    """Backprop and finite differences disagree; the message is a table of every input."""


def _leaves(inputs) -> list[Value]:
    """Fresh leaves for the inputs (numbers or Values; a Value's data is copied, never touched)."""
    leaves = []
    for i, x in enumerate(inputs):
        if isinstance(x, Value):
            leaves.append(Value(x.data, x.label or f"x{i}"))
        else:
            leaves.append(Value(_as_float(x, "gradcheck input"), f"x{i}"))
    return leaves


def numerical_grad_wrt(f, values, eps: float = 1e-6) -> list[float]:
    """Central finite-difference slopes of `f()` with respect to Values that already exist, such
    as a model's parameters: `f` takes no arguments and reads them itself.

    Each value's data is nudged down and up by h = eps * max(1, |data|) (relative to the data,
    so that large values are not differenced below their floating-point resolution) and always
    restored, even when `f` raises. Nothing is recorded: `f` runs under `no_grad()`.
    """
    slopes = []
    with no_grad():
        for v in values:
            original = v.data
            h = eps * max(1.0, abs(original))
            try:
                v.data = original + h
                up = _scalar(f())
                v.data = original - h
                down = _scalar(f())
            finally:
                v.data = original
            slopes.append((up - down) / ((original + h) - (original - h)))
    return slopes


def numerical_grad(f, *inputs, eps: float = 1e-6) -> list[float]:
    """Central finite-difference estimate of the gradient of `f(*inputs)` (inputs are numbers or
    Values; a Value's data is copied, never touched). See `numerical_grad_wrt` for the step."""
    leaves = _leaves(inputs)
    return numerical_grad_wrt(lambda: f(*leaves), leaves, eps)


def _scalar(out) -> float:
    return out.data if isinstance(out, Value) else _as_float(out, "f's result")


def _backprop(f, leaves: list[Value]) -> tuple[float, list[float]]:
    """f's value and d f/d leaf for each leaf, leaving every other node's grad as it was.

    f may close over Values the caller holds (say, a model's parameters); their gradients are
    saved and restored so that checking a function never changes the caller's state.
    """
    out = f(*leaves)
    if not isinstance(out, Value):
        return _scalar(out), [0.0] * len(leaves)
    order = topological_order(out)
    ours = {id(leaf) for leaf in leaves}
    saved = [(node, node.grad) for node in order if id(node) not in ours]
    backward(out)
    grads = [leaf.grad for leaf in leaves]
    for node, g in saved:
        node.grad = g
    return out.data, grads


def gradcheck(f, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare backprop's gradient of scalar `f` at `inputs` with central finite differences.

    Returns True when every input passes |analytic - numeric| <= atol + rtol * |numeric|;
    otherwise raises GradcheckError with a table of all inputs, the failing rows marked.

        >>> gradcheck(lambda x, y: (x * y).tanh(), 0.5, -1.5)
        True
    """
    leaves = _leaves(inputs)
    _, analytic = _backprop(f, leaves)
    numeric = numerical_grad(f, *inputs, eps=eps)
    rows = []
    failed = 0
    for leaf, a, n in zip(leaves, analytic, numeric):
        abs_err = abs(a - n)
        rel_err = abs_err / max(abs(a), abs(n), 1e-300)
        ok = abs_err <= atol + rtol * abs(n)
        failed += not ok
        rows.append((leaf.label, leaf.data, a, n, abs_err, rel_err, ok))
    if failed:
        raise GradcheckError(_table(rows, failed, atol, rtol))
    return True


def _table(rows, failed: int, atol: float, rtol: float) -> str:
    lines = [
        f"gradcheck failed for {failed} of {len(rows)} inputs (atol={atol:g}, rtol={rtol:g}):",
        f"  {'input':<10} {'value':>12} {'analytic':>14} {'numeric':>14} {'abs err':>10} {'rel err':>10}",
    ]
    for label, x, a, n, abs_err, rel_err, ok in rows:
        mark = "" if ok else "  <-- FAIL"
        lines.append(f"  {label:<10} {x:>12.6g} {a:>14.8g} {n:>14.8g} {abs_err:>10.2e} {rel_err:>10.2e}{mark}")
    return "\n".join(lines)


def value_and_grad(f, argnums=0):
    """Turn scalar `f` (Values in, Value out) into a function of plain floats that returns
    `(f(*args), gradient)`. The gradient is a float for an int `argnums`, a tuple for a tuple.

        >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
        (12.0, (4.0, 3.0))
    """
    single = isinstance(argnums, int)
    wanted = (argnums,) if single else tuple(argnums)

    def wrapped(*args):
        for i in wanted:
            if not -len(args) <= i < len(args):
                raise IndexError(f"argnums {i} is out of range for {len(args)} arguments")
        value, grads = _backprop(f, _leaves(args))
        picked = tuple(grads[i] for i in wanted)
        return value, picked[0] if single else picked

    wrapped.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    wrapped.__doc__ = f"Value and gradient of {getattr(f, '__name__', 'f')} (argnums={argnums})."
    return wrapped


def grad(f, argnums=0):
    """Like `value_and_grad`, but the new function returns the gradient only.

        >>> grad(lambda x: x ** 3)(2.0)
        12.0
    """
    both = value_and_grad(f, argnums)

    def wrapped(*args):
        return both(*args)[1]

    wrapped.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    wrapped.__doc__ = f"Gradient of {getattr(f, '__name__', 'f')} (argnums={argnums})."
    return wrapped
