"""Property tests over generated expression graphs (strategies from engine.testing)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Value, grad, gradcheck, topological_order
from engine.testing import SMOOTH_OPS, Expression, Step, expression_cases, expressions


def run_backward(case):
    leaves = [Value(x) for x in case.inputs]
    out = case.expression(*leaves)
    out.backward()
    return leaves, out


@given(expression_cases())
def test_backward_matches_central_finite_differences(case):
    assert gradcheck(case.expression, *case.inputs, atol=1e-5, rtol=1e-4)


@given(expression_cases(ops=SMOOTH_OPS, max_steps=12))
def test_backward_matches_finite_differences_on_deeper_smooth_graphs(case):
    assert gradcheck(case.expression, *case.inputs, atol=1e-5, rtol=1e-4)


@given(expression_cases())
def test_exhausting_backward_steps_equals_backward(case):
    leaves, out = run_backward(case)
    stepped_leaves = [Value(x) for x in case.inputs]
    stepped_out = case.expression(*stepped_leaves)
    for _ in stepped_out.backward_steps():
        pass
    assert [leaf.grad for leaf in stepped_leaves] == [leaf.grad for leaf in leaves]
    assert [n.grad for n in topological_order(stepped_out)] == [n.grad for n in topological_order(out)]


@given(expression_cases())
def test_functional_grad_equals_backward(case):
    leaves, _ = run_backward(case)
    argnums = tuple(range(len(case.inputs)))
    assert grad(case.expression, argnums)(*case.inputs) == tuple(leaf.grad for leaf in leaves)


@given(expression_cases())
def test_repeated_backward_doubles_leaves_and_keeps_interior_nodes(case):
    leaves, out = run_backward(case)
    once = [node.grad for node in topological_order(out)]
    # A leaf sums its contributions again one by one, so it equals 2 g up to rounding -- and
    # rounding is relative to the contributions, which may be large and cancel (+1 - 1 + 4e-300).
    scale = max(abs(g) for g in once)
    out.backward()
    for node, g in zip(topological_order(out), once):
        if node.parents:
            assert node.grad == g
        else:
            assert node.grad == pytest.approx(2 * g, rel=1e-12, abs=1e-12 * scale)


@given(expressions())
def test_every_input_and_step_feeds_the_output(expression):
    text = str(expression)
    for k in range(expression.n_vars):
        assert f"x{k}" in text
    consumed = {i for step in expression.steps for i in step.args}
    assert consumed == set(range(expression.n_vars + len(expression.steps) - 1))


def test_a_shared_node_is_printed_once_under_where():
    shared = Expression(1, (Step("tanh", (0,)), Step("*", (1, 1)), Step("+c", (2,), 0.5)))
    assert str(shared) == "(t1*t1) + 0.5  where t1 = tanh(x0)"


@settings(max_examples=50)
@given(st.floats(-30, 30))
def test_property_testing_a_single_op_the_readme_way(x):
    # The README shows this pattern for users' own ops: compare with finite differences.
    assert gradcheck(lambda v: v.softplus() * v.sigmoid(), x)


@given(expression_cases())
def test_generated_cases_are_defined_where_drawn(case):
    out = case.expression(*case.inputs)
    assert math.isfinite(out.data)
    with pytest.raises(TypeError):
        case.expression()
