"""Every op's derivative has two forms: floats (what backward() multiplies) and Values (what
create_graph=True records, for gradients of gradients). They must agree wherever the float form
is defined, edge points included: 0, -0, tiny and huge numbers, the edges of exp's range, kinks."""

from __future__ import annotations

import itertools
import math

import pytest

from engine import Value, gradients
from engine.core.value import registry

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 1e-300, -1e-300, 1e-8, 1e300, -1e300, 709.0, -745.0, 3.0]
BUILTIN = [op for op in registry.values() if op.builtin]


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return False
    return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)


def _forms(op, *operands) -> list[tuple[float, float]] | None:
    """(float form, Value form) of each local derivative of op at the operands; None where the op
    is not defined there."""
    leaves = [Value(x) for x in operands]
    try:
        node = op(leaves) if op.arity is None else op(*leaves)
    except (ValueError, ArithmeticError):
        return None
    floats = node.local_grad()
    try:
        values = op.partials(node)
    except (ValueError, ArithmeticError) as error:
        raise AssertionError(f"{op.name}{tuple(operands)}: the float form is {floats}, the Value form raised {error!r}")
    return [(f, v.data if isinstance(v, Value) else float(v)) for f, v in zip(floats, values)]


def _cases():
    for op in BUILTIN:
        if op.arity == 1:
            yield from ((op, (x,)) for x in EDGES)
        elif op.arity == 2:
            yield from ((op, pair) for pair in itertools.product(EDGES, repeat=2))
            for c, position in itertools.product(EDGES, (0, 1)):  # the folded forms, `x * 3` and `2 - x`
                yield from ((op.fold(c, position), (x,)) for x in EDGES)
        else:
            yield from ((op, xs) for xs in ([0.0, 0.0], [1e300, -1e300, 2.0], [0.0, 2.0, -0.0, 3.0, 1.0], [-2.0]))


CASES = list(_cases())


def test_the_edge_points_cover_every_op_and_thousands_of_derivatives():
    assert {op.name for op in BUILTIN} <= {(op.folded_from[0] if op.folded_from else op).name for op, _ in CASES}
    compared = sum(len(f) for op, xs in CASES if (f := _forms(op, *xs)) is not None)
    assert compared > 4000  # 4,738 when this was written


@pytest.mark.parametrize("op", BUILTIN, ids=[op.name for op in BUILTIN])
def test_the_value_form_agrees_with_the_float_form_at_the_edges(op):
    for case_op, operands in CASES:
        if (case_op.folded_from[0] if case_op.folded_from else case_op) is not op:
            continue
        forms = _forms(case_op, *operands)
        for k, (as_float, as_value) in enumerate(forms or ()):
            assert _same(as_float, as_value), (case_op.name, operands, k, as_float, as_value)


@pytest.mark.parametrize("f,at,first", [
    (lambda x: x.sqrt(), 0.0, math.inf),
    (lambda x: x ** 0.5, 0.0, math.inf),
    (lambda x: x ** 0, 0.0, 0.0),
    (lambda x: x ** 1, 0.0, 1.0),
    (lambda x: 2.0 ** x, 0.0, math.log(2.0)),
    (lambda x: 0.0 ** (x + 1.0), 0.0, 0.0),
])
def test_gradients_of_gradients_at_singular_points_match_backward(f, at, first):
    x = Value(at)
    (dx,) = gradients(f(x), [x], create_graph=True)
    assert _same(dx.data, first)
    out = f(Value(at))
    out.backward(create_graph=True)
    assert _same(out.parents[0].grad if out.parents else 1.0, first) or _same(dx.data, first)
