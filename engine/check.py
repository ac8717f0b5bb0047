"""Checking gradients: central finite differences, `gradcheck`, and a functional `grad` API.

Finite differences need nothing but the forward pass, so they are the independent referee for
backprop: d f / d x_i ~ (f(x + h e_i) - f(x - h e_i)) / 2h, with an error of order h^2.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    Each value's data is nudged down and up by h = eps * max(1, |data|): relative to large
    values, so they are not differenced below their floating-point resolution. The data is
    always restored, even when `f` raises. Nothing is recorded: `f` runs under `no_grad()`.
    """
    with no_grad():
        return [_central_difference(f, v, _step(v, eps)) for v in values]


def _step(v: Value, eps: float) -> float:
    return eps * max(1.0, abs(v.data))


def _central_difference(f, v: Value, h: float) -> float:
    original = v.data
    try:
        v.data = original + h
        up = _scalar(f())
        v.data = original - h
        down = _scalar(f())
    finally:
        v.data = original
    return (up - down) / ((original + h) - (original - h))


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


@dataclass(frozen=True)
class GradcheckRow:
    """One input of a gradient check: backprop's slope against the finite-difference one."""

    label: str
    value: float
    analytic: float
    numeric: float
    ok: bool

    @property
    def abs_err(self) -> float:
        return abs(self.analytic - self.numeric)

    @property
    def rel_err(self) -> float:
        return self.abs_err / max(abs(self.analytic), abs(self.numeric), 1e-300)


def compare_gradients(f, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> list[GradcheckRow]:
    """Backprop's gradient of scalar `f` at `inputs` next to central finite differences, one
    `GradcheckRow` per input; a row is ok when |analytic - numeric| <= atol + rtol * |numeric|.

    No single finite-difference step suits every function: near a singularity (log x at
    x = 1e-5) the step of `numerical_grad` straddles a stretch where the slope changes a lot,
    or leaves the domain, while a step shrunk to a tiny x is lost in rounding for a flat
    function (exp x at x = 1e-150). So where that step disagrees with backprop (or fails),
    steps 100 and 10,000 times smaller, and one of |x| / 1000, are tried too, and the estimate
    closest to backprop's is kept. A wrong derivative disagrees at every step size.
    """
    leaves = _leaves(inputs)
    _, analytic = _backprop(f, leaves)
    rows = []
    with no_grad():
        for leaf, a in zip(leaves, analytic):
            n = _closest_slope(lambda: f(*leaves), leaf, a, eps, atol, rtol)
            rows.append(GradcheckRow(leaf.label, leaf.data, a, n, abs(a - n) <= atol + rtol * abs(n)))
    return rows


def _closest_slope(f, leaf: Value, analytic: float, eps: float, atol: float, rtol: float) -> float:
    h = _step(leaf, eps)
    steps = [h, h * 1e-2, h * 1e-4]
    if 0.0 < abs(leaf.data) * 1e-3 < steps[-1]:
        steps.append(abs(leaf.data) * 1e-3)
    best, first_error = None, None
    for step in steps:
        try:
            n = _central_difference(f, leaf, step)
        except (ValueError, ArithmeticError) as exc:  # the step left f's domain
            first_error = first_error or exc
            continue
        if best is None or abs(analytic - n) < abs(analytic - best):
            best = n
        if abs(analytic - best) <= atol + rtol * abs(best):
            break
    if best is None:
        raise first_error
    return best


def gradcheck(f, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare backprop's gradient of scalar `f` at `inputs` with central finite differences.

    Returns True when every input agrees (see `compare_gradients`); otherwise raises
    GradcheckError whose message is the table of all inputs, the failing rows marked.

        >>> gradcheck(lambda x, y: (x * y).tanh(), 0.5, -1.5)
        True
    """
    rows = compare_gradients(f, *inputs, eps=eps, atol=atol, rtol=rtol)
    if not all(row.ok for row in rows):
        raise GradcheckError(gradcheck_table(rows, atol, rtol))
    return True


def gradcheck_table(rows: list[GradcheckRow], atol: float = 1e-5, rtol: float = 1e-3) -> str:
    """The readable report of `compare_gradients`' rows: a verdict line, then one line per input."""
    failed = sum(not row.ok for row in rows)
    if failed:
        verdict = f"gradcheck failed for {failed} of {len(rows)} inputs (atol={atol:g}, rtol={rtol:g}):"
    else:
        verdict = f"gradcheck passed: backprop agrees with finite differences for all {len(rows)} inputs " \
                  f"(atol={atol:g}, rtol={rtol:g}):"
    lines = [
        verdict,
        f"  {'input':<10} {'value':>12} {'analytic':>14} {'numeric':>14} {'abs err':>10} {'rel err':>10}",
    ]
    for row in rows:
        mark = "" if row.ok else "  <-- FAIL"
        lines.append(f"  {row.label:<10} {row.value:>12.6g} {row.analytic:>14.8g} {row.numeric:>14.8g} "
                     f"{row.abs_err:>10.2e} {row.rel_err:>10.2e}{mark}")
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
