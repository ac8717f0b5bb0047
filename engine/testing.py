"""Hypothesis strategies for property-testing gradients: random expression graphs and inputs.

An `Expression` is a small program in single-assignment form: node k < n_vars is input x_k, and
every later node applies one op to earlier nodes. Because any earlier node may be an operand,
generated graphs share subexpressions (one node feeding several others), which is exactly where
a wrong gradient accumulation would show.

The ops come from the op registry (`engine.core.value.registry`), so an op added with `define_op` is
generated too. Domain safety is derived from each op's forward function: where it refuses a
negative number or 0 (log, sqrt, a divisor, the base of a fractional power), the operand is
always fed `a*a + 0.5`, which is >= 0.5. Cases also reject inputs that put an op within
`KINK_MARGIN` of one of its kinks (finite differences straddling a kink measure the wrong slope),
that blow values past `MAX_MAGNITUDE`, or that feed a curved op an argument past
`MAX_FAST_ARGUMENT`.

    from hypothesis import given
    from engine import gradcheck
    from engine.testing import expression_cases

    @given(expression_cases())
    def test_backprop_matches_finite_differences(case):
        assert gradcheck(case.expression, *case.inputs)

To property-test your own op, pass `ops=` to restrict the generated expressions to the ops you
care about: `expression_cases(ops=["my_atan", "*", "+c"])`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hypothesis import assume
from hypothesis import strategies as st

from engine.core.functional import dot
from engine.core.modes import no_grad
from engine.core.value import Value, registry
from engine.notation import written

KINK_MARGIN = 1e-3
MAX_MAGNITUDE = 1e4
MAX_FAST_ARGUMENT = 20.0
"""Largest |argument| of an op whose slope is not constant (exp, sin, 2**, ...). Past it slopes
are huge (exp) or swing faster than a finite-difference step can follow (sin of 7000), so a
numerical estimate would be the thing that is wrong."""

CONSTANTS = (-2.0, -0.5, 0.5, 1.5, 3.0)
"""The numbers folded into ops such as `+c` (x + c) and `c/` (c / x)."""


def op_names() -> tuple[str, ...]:
    """Every op the strategies can generate, read from the registry now: one-operand ops by name,
    two-operand ops by symbol, folded forms as `+c` (x + c) and `c-` (c - x), and n-ary `sum`, `dot`."""
    names = []
    for name, op in registry.items():
        if op.arity == 2:
            names += [name, name + "c"] + ([] if op.commutative else ["c" + name])
        else:
            names.append(name)
    return tuple(names)


ALL_OPS = op_names()
"""The ops registered when engine.testing was imported (the strategies' default is all ops
registered when they draw, `op_names()`, which includes ops defined later)."""


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


def _base(name: str):
    """The registered op behind a generated op name, and where its constant goes (None: no constant)."""
    if name in registry:
        return registry[name], None
    if name.endswith("c") and name[:-1] in registry:
        return registry[name[:-1]], 1
    return registry[name[1:]], 0


def _folded(name: str, c: float):
    op, position = _base(name)
    return op.fold(c, position)


def _apply(step: Step, args: list[Value]) -> Value:
    op, position = _base(step.op)
    if position is not None:
        return op.fold(step.const, position)(args[0])
    if op.arity is None:
        return dot(*_dot_operands(args)) if step.op == "dot" else op(args)
    return op(*args)


def _format(step: Step, args: list[str]) -> str:
    op, position = _base(step.op)
    return written(op if position is None else op.fold(step.const, position), args)


def _dot_operands(items):
    """dot's (weights, inputs, bias) from a step's operand list: two halves and an odd last one."""
    half = len(items) // 2
    return items[:half], items[half : 2 * half], items[-1] if len(items) % 2 else None


def _refuses(forward, *args) -> bool:
    try:
        forward(*args)
    except (ValueError, ArithmeticError):
        return True
    return False


def _needs_positive(name: str, const) -> tuple[int, ...]:
    """Operand positions the op refuses a negative number or 0 at: they get the a*a + 0.5 guard."""
    op, position = _base(name)
    if position is not None:
        forward = op.fold(const, position).forward
        return (0,) if _refuses(forward, -0.5) or _refuses(forward, 0.0) else ()
    if op.arity == 1:
        return (0,) if _refuses(op.forward, -0.5) or _refuses(op.forward, 0.0) else ()
    if op.arity == 2:
        return tuple(k for k in range(2) if any(_refuses(op.forward, *((x, 1.5) if k == 0 else (1.5, x)))
                                                for x in (-0.5, 0.0)))
    return ()


def _constants_for(name: str) -> list[float]:
    """The constants this folded op is defined with at every guarded operand (e.g. c ** x needs c > 0)."""
    return [c for c in CONSTANTS if not _refuses(_folded(name, c).forward, 0.5)
            and not (_refuses(_folded(name, c).forward, -0.5) and _refuses(_folded(name, c).forward, 2.0))]


def _op_kinks(name: str) -> tuple[float, ...]:
    op, position = _base(name)
    return op.kinks if position is None else ()


def _curved(name: str) -> bool:
    """True for one-operand ops whose slope changes with their argument (exp, sin, 2**, x**2, ...)."""
    op, position = _base(name)
    if position is not None:
        op = op.fold(CONSTANTS[-1], position)
    elif op.arity != 1:
        return False
    return op.slopes is None and callable(op.derivative) and not op.kinks


SMOOTH_OPS = tuple(name for name in ALL_OPS if not _op_kinks(name))


@st.composite
def expressions(draw, n_vars=st.integers(1, 3), max_steps: int = 8, ops=None) -> Expression:
    """Random `Expression`s over 1-3 variables with up to `max_steps` ops drawn from `ops`
    (names as in `op_names()`; default: every registered op)."""
    ops = tuple(ops) if ops is not None else op_names()
    unknown = [name for name in ops if name not in op_names()]
    if unknown:
        raise ValueError(f"unknown ops {unknown}; the ops are {', '.join(op_names())}")
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
        name = draw(st.sampled_from(ops))
        op, position = _base(name)
        const = None
        if position is not None:
            const = draw(st.sampled_from(_constants_for(name)))
            arity = 1
        else:
            arity = op.arity or draw(st.integers(2, 5))
        args = [operand() for _ in range(arity)]
        for k in _needs_positive(name, const):
            args[k] = positive(args[k])
        emit(name, args, const)
    # Sum the output with every node nothing else consumed, so that no input and no step is
    # dead code: each one influences the result whose gradient the tests check.
    consumed = {i for step in steps for i in step.args}
    unused = [i for i in range(n + len(steps) - 1) if i not in consumed]
    if unused:
        emit("sum", [n + len(steps) - 1, *unused])
    return Expression(n, tuple(steps))


@st.composite
def expression_cases(draw, n_vars=st.integers(1, 3), max_steps: int = 8, ops=None) -> Case:
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
        if len(step.args) == 1:
            x = values[step.args[0]]
            assume(all(abs(x - kink) > KINK_MARGIN for kink in _op_kinks(step.op)))
            if _curved(step.op):
                assume(abs(x) <= MAX_FAST_ARGUMENT)
    return Case(expression, inputs)
