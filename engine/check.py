"""Checking gradients: central finite differences, `gradcheck`, `gradgradcheck`.

Finite differences need nothing but the forward pass, so they are the independent referee for
backprop: d f / d x_i ~ (f(x + h e_i) - f(x - h e_i)) / 2h, with an error of order h^2.
"""

from __future__ import annotations

import dataclasses
import html
import math
from dataclasses import dataclass

from engine.core.graph import gradients, topological_order
from engine.core.modes import enable_grad, no_grad
from engine.core.real import as_float as _as_float
from engine.core.value import Value
from engine.transform import value_and_grad


class GradcheckError(AssertionError):
    """Backprop and finite differences disagree; the message is a table of every input."""


class GradcheckReport(str):
    """`gradcheck_table`'s text, which a notebook shows as a table with the failing rows marked."""

    def _repr_html_(self) -> str:
        red = '<span style="color:#c92a2a">{}</span>'
        return "<pre>" + "\n".join(red.format(html.escape(line)) if "<-- FAIL" in line else html.escape(line)
                                    for line in self.splitlines()) + "</pre>"


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
    """f's value and d f/d leaf for each leaf. No node's `grad` changes: f may close over Values
    the caller holds (say, a model's parameters), and checking a function never touches them."""
    with enable_grad():  # even inside a caller's no_grad(): there is no gradient without a graph
        out = f(*leaves)
    if not isinstance(out, Value):
        return _scalar(out), [0.0] * len(leaves)
    return out.data, gradients(out, leaves)


@dataclass(frozen=True)
class GradcheckRow:
    """One input of a gradient check: backprop's slope against the finite-difference one."""

    label: str
    value: float
    analytic: float
    numeric: float
    ok: bool
    hint: str = ""  # why a failing row may fail for a reason other than a wrong derivative

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
    function (exp x at x = 1e-150), and at a large x (sin x at x = 1e10) a step relative to x
    spans many periods. So where that step disagrees with backprop (or fails), steps 100 and
    10,000 times smaller, one of |x| / 1000, and for large x still smaller ones (down to a
    thousand times the spacing of floats near x) are tried too, and the estimate closest to
    backprop's is kept. A wrong derivative disagrees at every step size.

    A failing row gets a `hint` when an op with a kink (relu, abs) has its input on the kink, or
    within the step of it: there the slope jumps, and finite differences measure neither side.
    """
    for name, tolerance, least in (("eps", eps, "> 0"), ("atol", atol, ">= 0"), ("rtol", rtol, ">= 0")):
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not math.isfinite(tolerance) \
                or tolerance < 0 or (name == "eps" and tolerance == 0):
            raise ValueError(f"gradcheck's {name} must be a finite number {least}, got {tolerance!r}")
    leaves = _leaves(inputs)
    _, analytic = _backprop(f, leaves)
    rows, steps = [], []
    with no_grad():
        for leaf, a in zip(leaves, analytic):
            n, h = _closest_slope_and_step(lambda: f(*leaves), leaf, a, eps, atol, rtol)
            rows.append(GradcheckRow(leaf.label, leaf.data, a, n, abs(a - n) <= atol + rtol * abs(n)))
            steps.append(h)
    for k, (row, h) in enumerate(zip(rows, steps)):
        if not row.ok:
            hint = _kink_hint(f, leaves, leaves[k], h)
            if hint:
                rows[k] = dataclasses.replace(row, hint=hint)
    return rows


def _closest_slope(f, leaf: Value, analytic: float, eps: float, atol: float, rtol: float) -> float:
    """The finite-difference slope of `f()` in `leaf` closest to `analytic`, over the steps of
    `_trial_steps` (stopping at the first that agrees)."""
    return _closest_slope_and_step(f, leaf, analytic, eps, atol, rtol)[0]


def _closest_slope_and_step(f, leaf: Value, analytic: float, eps: float, atol: float, rtol: float):
    """`_closest_slope`, and the step that measured it."""
    best, best_step, first_error = None, None, None
    for step in _trial_steps(leaf.data, eps):
        try:
            n = _central_difference(f, leaf, step)
        except (ValueError, ArithmeticError) as exc:  # the step left f's domain
            first_error = first_error or exc
            continue
        if best is None or abs(analytic - n) < abs(analytic - best):
            best, best_step = n, step
        if abs(analytic - best) <= atol + rtol * abs(best):
            break
    if best is None:
        raise first_error
    return best, best_step


def _trial_steps(x: float, eps: float) -> list[float]:
    """The finite-difference steps to try at x, largest first (see `compare_gradients`)."""
    h = eps * max(1.0, abs(x))
    steps = [h, h * 1e-2, h * 1e-4]
    if 0.0 < abs(x) * 1e-3 < steps[-1]:
        steps.append(abs(x) * 1e-3)
    # A large x: keep shrinking the step, while it stays above both the smallest step tried at
    # |x| <= 1 and a thousand float spacings of x. (x + h is rounded to a float, but the slope is
    # divided by the difference actually taken, so what limits a small step is the rounding of
    # f's values: about eps_machine * |f| / h.)
    floor = max(eps * 1e-4, 1e3 * math.ulp(x))
    while steps[-1] * 1e-2 >= floor and abs(x) > 1.0:
        steps.append(steps[-1] * 1e-2)
    return steps


def _kink_hint(f, leaves: list[Value], leaf: Value, h: float) -> str:
    """"x sits on a kink of relu: ..." when moving `leaf` by +-h takes the input of an op with a
    kink (relu, abs: its `kinks`) onto or across one; "" otherwise.

    f is run at leaf - h, leaf and leaf + h (recording, to see its graph), and the inputs of its
    kinked ops compared position by position in topological order.
    """
    original = leaf.data
    try:
        seen = []
        for x in (original - h, original, original + h):
            leaf.data = x
            with enable_grad():  # the graph is what shows the kinked ops, even inside no_grad()
                out = f(*leaves)
            order = topological_order(out) if isinstance(out, Value) else []
            seen.append([(str(node.op), node.parents[0].data, tuple(getattr(node.op, "kinks", ())))
                         for node in order if getattr(node.op, "kinks", ()) and len(node.parents) == 1])
    except (ValueError, ArithmeticError):  # outside f's domain: not a kink's doing
        return ""
    finally:
        leaf.data = original
    below, here, above = seen
    if not (len(below) == len(here) == len(above)):  # f's graph changed shape: compare at x only
        below = above = here
    crossings = []
    for (op, u_below, _), (_, u, kinks), (_, u_above, _) in zip(below, here, above):
        for kink in kinks:
            sides = {(v > kink) - (v < kink) for v in (u_below, u, u_above)}  # -1, 0 (on it), 1
            if len(sides) > 1 or 0 in sides:
                crossings.append((op, u, kink))
    if not crossings:
        return ""
    ops = " and ".join(dict.fromkeys(op for op, _, _ in crossings))
    op, u, kink = crossings[0]
    where = (f"the input of {op} is exactly at its kink ({kink:g})" if u == kink else
             f"the input of {op} is {u:.3g}, and {leaf.label} +- {h:.2g} moves it across its kink ({kink:g})")
    return (f"{leaf.label} sits on a kink of {ops}: at {leaf.label} = {original:.6g} {where}, where the slope "
            f"jumps; finite differences average the two sides, backprop takes the slope at the point itself. "
            f"Check at a point off the kink.")


def gradcheck(f, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare backprop's gradient of scalar `f` at `inputs` with central finite differences.

    Returns True when every input agrees (see `compare_gradients`); otherwise raises
    GradcheckError whose message is the table of all inputs, the failing rows marked.

        >>> gradcheck(lambda x, y: (x * y).tanh(), 0.5, -1.5)
        True
    """
    rows = compare_gradients(f, *inputs, eps=eps, atol=atol, rtol=rtol)
    if not all(row.ok for row in rows):
        raise GradcheckError(gradcheck_table(rows, atol, rtol) + _blame(f, inputs, eps, atol, rtol))
    return True


def _blame(f, inputs, eps, atol, rtol) -> str:
    """The ops of f's graph whose own derivative disagrees with their forward function, as text."""
    out = f(*_leaves(inputs))
    suspects = local_derivative_errors(out, eps, atol, rtol) if isinstance(out, Value) else []
    if not suspects:
        return ""
    return "\nops whose derivative disagrees with finite differences of its forward:\n  " + "\n  ".join(suspects)


def gradcheck_table(rows: list[GradcheckRow], atol: float = 1e-5, rtol: float = 1e-3) -> GradcheckReport:
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
        if row.hint:
            lines.append(f"    hint: {row.hint}")
    return GradcheckReport("\n".join(lines))


def local_derivative_errors(root, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> list[str]:
    """Each node whose op's local derivative disagrees with finite differences of the op's own
    forward function, as a readable line naming the op, its inputs and both slopes.

    This points a failed gradient check at the op to blame (a wrong `derivative` given to
    `define_op`, say), rather than just at the inputs of the whole function.
    """
    found = []
    for node in topological_order(root):
        op = node.op
        if not node.parents or not hasattr(op, "forward") or node.local_grad is None:
            continue
        xs = [p.data for p in node.parents]
        for k, slope in enumerate(node.local_grad()):
            numeric = _op_slope(op, xs, k, eps)
            if numeric is not None and abs(slope - numeric) > atol + rtol * abs(numeric):
                at = ", ".join(f"{x:.6g}" for x in xs)
                found.append(f"op {str(op)!r} at ({at}): its derivative with respect to operand {k} says "
                             f"{slope:.8g}, finite differences of its forward function say {numeric:.8g}")
    return found


def _op_slope(op, xs: list[float], k: int, eps: float):
    """Central difference of `op.forward` in operand k, or None where it can't be taken (a kink
    or the edge of the op's domain within the step)."""
    x = xs[k]
    h = eps * max(1.0, abs(x))
    if any(abs(x - kink) <= h for kink in getattr(op, "kinks", ())):
        return None

    def at(value):
        moved = list(xs)
        moved[k] = value
        if op.arity is None:
            return op.forward(moved)
        return op.forward(*moved)

    try:
        return (at(x + h) - at(x - h)) / ((x + h) - (x - h))
    except (ValueError, ArithmeticError):
        return None


def gradgradcheck(f, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Check second derivatives: backprop through the backward pass against finite differences
    of backprop's first derivatives. Every pair (x_i, x_j) is one row of the table.

    Returns True when all agree; otherwise raises GradcheckError with the table, the failing
    rows marked (and the ops whose second derivative looks wrong, where it can tell).

        >>> gradgradcheck(lambda x, y: (x * y).sin(), 0.5, -1.5)
        True
    """
    leaves = _leaves(inputs)
    first = value_and_grad(f, tuple(range(len(leaves))))
    _, grads = first(*leaves)  # Values: d f / d x_i, as graphs
    rows = []
    for i, g in enumerate(grads):
        analytic = gradients(g, leaves) if isinstance(g, Value) else [0.0] * len(leaves)
        for j, leaf in enumerate(leaves):
            def slope_i():
                return first(*[x.data for x in leaves])[1][i]

            numeric = _closest_slope(slope_i, leaf, analytic[j], eps, atol, rtol)
            ok = abs(analytic[j] - numeric) <= atol + rtol * abs(numeric)
            rows.append(GradcheckRow(f"{leaves[i].label},{leaf.label}", leaf.data, analytic[j], numeric, ok))
    if not all(row.ok for row in rows):
        table = gradcheck_table(rows, atol, rtol).replace("gradcheck", "gradgradcheck", 1)
        suspects = [line for g in grads if isinstance(g, Value) for line in local_derivative_errors(g)]
        if suspects:
            table += "\nops whose derivative disagrees with finite differences of its forward:\n  " + \
                     "\n  ".join(dict.fromkeys(suspects))
        raise GradcheckError(table)
    return True

