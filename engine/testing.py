"""Hypothesis strategies for property-testing gradients: random expression graphs and inputs.

An `Expression` is a small program in single-assignment form: node k < n_vars is input x_k, and
every later node applies one op to earlier nodes. Because any earlier node may be an operand,
generated graphs share subexpressions (one node feeding several others), which is exactly where
a wrong gradient accumulation would show.

Domain safety is built into the program, not left to luck: `log`, `sqrt`, a divisor and the base
of a Value power are always fed `a*a + 0.5` (which is >= 0.5), so every generated expression is
defined everywhere. Cases also reject inputs that put `relu`/`abs` within `KINK_MARGIN` of their
kink (finite differences straddling a kink measure the wrong slope), that blow values past
`MAX_MAGNITUDE`, or that feed exp/sin/cos arguments past `MAX_FAST_ARGUMENT`.

    from hypothesis import given
    from engine import gradcheck
    from engine.testing import expression_cases

    @given(expression_cases())
    def test_backprop_matches_finite_differences(case):
        assert gradcheck(case.expression, *case.inputs)

To property-test your own op, wrap it as a function of Values and check it the same way over
`st.floats` inputs, or pass `ops=` to restrict the generated expressions to ops you care about.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hypothesis import assume
from hypothesis import strategies as st

from engine.graph import no_grad
from engine.value import Value, dot, sum_values

KINK_MARGIN = 1e-3
MAX_MAGNITUDE = 1e4
MAX_FAST_ARGUMENT = 20.0
"""Largest |argument| for exp, 2**, sin and cos. Past it their slopes are huge (exp) or swing
faster than a finite-difference step can follow (sin of 7000), so a numerical estimate would
be the thing that is wrong."""

UNARY_OPS = ("neg", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sin", "cos", "softplus")
BINARY_OPS = ("+", "-", "*", "/", "**")
CONSTANT_OPS = ("+c", "c-", "*c", "/c", "c/", "**2", "**3", "**0.5", "2**")
NARY_OPS = ("sum", "dot")
ALL_OPS = UNARY_OPS + BINARY_OPS + CONSTANT_OPS + NARY_OPS
SMOOTH_OPS = tuple(op for op in ALL_OPS if op not in ("relu", "abs"))

# Ops whose operand must be positive get it through this guard, emitted as ordinary steps.
_NEEDS_POSITIVE = {"log": (0,), "sqrt": (0,), "/": (1,), "c/": (0,), "**0.5": (0,), "**": (0,)}
_KINKED = ("relu", "abs")
_FAST = ("exp", "2**", "sin", "cos")


@dataclass(frozen=True)
class Step:
    """One assignment: node = op(*args), with `const` for ops that fold a number."""

    op: str
    args: tuple[int, ...]
    const: float | None = None


@dataclass(frozen=True)
class Expression:
    """A random scalar function of `n_vars` Values; call it like `f(x0, x1, ...)`."""

    n_vars: int
    steps: tuple[Step, ...]

    def __call__(self, *xs):
        if len(xs) != self.n_vars:
            raise TypeError(f"this expression takes {self.n_vars} inputs, got {len(xs)}")
        nodes = [x if isinstance(x, Value) else Value(x) for x in xs]
        for step in self.steps:
            nodes.append(_apply(step, [nodes[i] for i in step.args]))
        return nodes[-1]

    def node_values(self, inputs) -> list[float]:
        """Every node's data at `inputs`, computed without recording a graph."""
        with no_grad():
            nodes = [Value(x) for x in inputs]
            for step in self.steps:
                nodes.append(_apply(step, [nodes[i] for i in step.args]))
        return [node.data for node in nodes]

    def __str__(self) -> str:
        """The formula; a node used more than once is named once (`t5`) and listed after `where`."""
        uses = [0] * (self.n_vars + len(self.steps))
        for step in self.steps:
            for i in step.args:
                uses[i] += 1
        text: list[str] = [f"x{k}" for k in range(self.n_vars)]
        shared = []
        for k, step in enumerate(self.steps, start=self.n_vars):
            formula = _format(step, [text[i] for i in step.args])
            if uses[k] > 1:
                shared.append(f"t{k} = {formula}")
                text.append(f"t{k}")
            else:
                text.append(formula)
        result = text[-1]
        return result + (f"  where {'; '.join(shared)}" if shared else "")


@dataclass(frozen=True)
class Case:
    """An expression together with inputs at which it is defined, smooth and moderate."""

    expression: Expression
    inputs: tuple[float, ...]

    def __repr__(self) -> str:
        args = ", ".join(f"x{k}={x!r}" for k, x in enumerate(self.inputs))
        return f"Case(f = {self.expression}; at {args})"


def _apply(step: Step, args: list[Value]) -> Value:
    return _OPS[step.op][0](args, step.const)


def _format(step: Step, args: list[str]) -> str:
    return _OPS[step.op][1](args, step.const)


def _dot_operands(items):
    """dot's (weights, inputs, bias) from a step's operand list: two halves and an odd last one."""
    half = len(items) // 2
    return items[:half], items[half : 2 * half], items[-1] if len(items) % 2 else None


def _format_dot(texts, c) -> str:
    weights, inputs, bias = _dot_operands(texts)
    text = f"dot([{', '.join(weights)}], [{', '.join(inputs)}])"
    return f"({text} + {bias})" if bias else text


def _unary(name: str):
    return lambda a, c: getattr(a[0], name)(), lambda t, c: f"{name}({t[0]})"


def _binary(symbol: str, apply):
    return apply, lambda t, c: f"({t[0]} {symbol} {t[1]})"


# Every op: how to apply it to Values, and how to write it as text (`c` is a folded constant).
_OPS = {
    "neg": (lambda a, c: -a[0], lambda t, c: f"-({t[0]})"),
    **{name: _unary(name) for name in UNARY_OPS if name != "neg"},
    "+": _binary("+", lambda a, c: a[0] + a[1]),
    "-": _binary("-", lambda a, c: a[0] - a[1]),
    "*": _binary("*", lambda a, c: a[0] * a[1]),
    "/": _binary("/", lambda a, c: a[0] / a[1]),
    "**": _binary("**", lambda a, c: a[0] ** a[1]),
    "+c": (lambda a, c: a[0] + c, lambda t, c: f"({t[0]} + {c:g})"),
    "c-": (lambda a, c: c - a[0], lambda t, c: f"({c:g} - {t[0]})"),
    "*c": (lambda a, c: a[0] * c, lambda t, c: f"({t[0]} * {c:g})"),
    "/c": (lambda a, c: a[0] / c, lambda t, c: f"({t[0]} / {c:g})"),
    "c/": (lambda a, c: c / a[0], lambda t, c: f"({c:g} / {t[0]})"),
    "**2": (lambda a, c: a[0] ** 2, lambda t, c: f"({t[0]})**2"),
    "**3": (lambda a, c: a[0] ** 3, lambda t, c: f"({t[0]})**3"),
    "**0.5": (lambda a, c: a[0] ** 0.5, lambda t, c: f"({t[0]})**0.5"),
    "2**": (lambda a, c: 2 ** a[0], lambda t, c: f"2**({t[0]})"),
    "sum": (lambda a, c: sum_values(a), lambda t, c: f"sum({', '.join(t)})"),
    "dot": (lambda a, c: dot(*_dot_operands(a)), _format_dot),
}
assert set(_OPS) == set(ALL_OPS)


_constants = st.sampled_from([-2.0, -0.5, 0.5, 1.5, 3.0])


@st.composite
def expressions(draw, n_vars=st.integers(1, 3), max_steps: int = 8, ops=ALL_OPS) -> Expression:
    """Random `Expression`s over 1-3 variables with up to `max_steps` ops drawn from `ops`."""
    n = draw(n_vars) if isinstance(n_vars, st.SearchStrategy) else n_vars
    steps: list[Step] = []

    def emit(op, args, const=None) -> int:
        steps.append(Step(op, tuple(args), const))
        return n + len(steps) - 1

    def positive(i: int) -> int:
        square = emit("*", (i, i))
        return emit("+c", (square,), 0.5)

    def operand() -> int:
        # Favour recent nodes so the graph grows deep, while still reusing old ones.
        newest = n + len(steps) - 1
        if draw(st.booleans()):
            return newest - draw(st.integers(0, min(2, newest)))
        return draw(st.integers(0, newest))

    for _ in range(draw(st.integers(1, max_steps))):
        op = draw(st.sampled_from(ops))
        if op in UNARY_OPS or op in CONSTANT_OPS:
            arity = 1
        elif op in BINARY_OPS:
            arity = 2
        else:
            arity = draw(st.integers(2, 5))
        args = [operand() for _ in range(arity)]
        for position in _NEEDS_POSITIVE.get(op, ()):
            args[position] = positive(args[position])
        const = draw(_constants) if op in ("+c", "c-", "*c", "/c", "c/") else None
        emit(op, args, const)
    # Sum the output with every node nothing else consumed, so that no input and no step is
    # dead code: each one influences the result whose gradient the tests check.
    consumed = {i for step in steps for i in step.args}
    unused = [i for i in range(n + len(steps) - 1) if i not in consumed]
    if unused:
        emit("sum", [n + len(steps) - 1, *unused])
    return Expression(n, tuple(steps))


@st.composite
def expression_cases(draw, n_vars=st.integers(1, 3), max_steps: int = 8, ops=ALL_OPS) -> Case:
    """An `Expression` with inputs in [-2, 2] where it is finite, moderate and away from kinks."""
    expression = draw(expressions(n_vars, max_steps, ops))
    inputs = tuple(
        draw(st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)) for _ in range(expression.n_vars)
    )
    try:
        values = expression.node_values(inputs)
    except (OverflowError, ValueError, ZeroDivisionError):
        assume(False)
    assume(all(math.isfinite(v) and abs(v) < MAX_MAGNITUDE for v in values))
    for step in expression.steps:
        if step.op in _KINKED:
            assume(abs(values[step.args[0]]) > KINK_MARGIN)
        if step.op in _FAST:
            assume(abs(values[step.args[0]]) <= MAX_FAST_ARGUMENT)
    return Case(expression, inputs)
