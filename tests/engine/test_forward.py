"""Forward mode (`jvp`) against reverse mode and finite differences, and the op counter."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.anomaly import AnomalyError, detect_anomaly
from engine.define import define_op, forget_op
from engine.core.graph import gradients
from engine.core.modes import no_grad
from engine.core.value import Value
from engine.check import numerical_grad
from engine.forward import count_ops, jvp
from engine.testing import expression_cases


def test_jvp_of_a_product_pins_value_and_slope():
    value, slope = jvp(lambda x, y: x * y + x.tanh(), [2.0, 3.0], [1.0, 0.0])
    assert value == pytest.approx(6.0 + math.tanh(2.0))
    assert slope == pytest.approx(3.0 + 1 - math.tanh(2.0) ** 2)


def test_jvp_of_a_shared_subexpression_adds_both_paths():
    # y = t * t with t = x + 1: dy/dx = 2 t = 6 at x = 2
    assert jvp(lambda x: (lambda t: t * t)(x + 1), [2.0], [1.0]) == (9.0, 6.0)


def test_jvp_with_many_outputs_gives_one_slope_each():
    values, slopes = jvp(lambda x: [x * k for k in range(4)] + [x.exp()], [0.0], [2.0])
    assert values == [0.0, 0.0, 0.0, 0.0, 1.0]
    assert slopes == [0.0, 2.0, 4.0, 6.0, 2.0]


def test_an_input_f_ignores_and_a_constant_output_have_slope_zero():
    assert jvp(lambda x, y: x * 2, [1.0, 5.0], [0.0, 1.0]) == (2.0, 0.0)
    assert jvp(lambda x: x, [3.0], [1.5]) == (3.0, 1.5)


def test_a_dead_relu_with_zero_tangent_makes_no_nan():
    value, slope = jvp(lambda x, y: x.relu() * y, [-1.0, 2.0], [1.0, 0.0])
    assert (value, slope) == (0.0, 0.0)


@settings(max_examples=60, deadline=None)
@given(expression_cases(), st.data())
def test_jvp_matches_reverse_mode_and_finite_differences(case, data):
    tangents = [data.draw(st.floats(-1.0, 1.0)) for _ in case.inputs]
    leaves = [Value(x) for x in case.inputs]
    reverse = gradients(case.expression(*leaves), leaves)
    expected = sum(g * t for g, t in zip(reverse, tangents))
    value, slope = jvp(case.expression, case.inputs, tangents)
    assert value == pytest.approx(case.expression(*case.inputs).data)
    assert slope == pytest.approx(expected, rel=1e-9, abs=1e-9)
    numeric = numerical_grad(case.expression, *case.inputs)
    assert slope == pytest.approx(sum(n * t for n, t in zip(numeric, tangents)), rel=1e-3, abs=1e-4)


def test_an_op_defined_later_gets_forward_mode_too():
    define_op("cube_forward_test", lambda x: x ** 3, lambda x, out: 3 * x * x, formula="3x**2")
    try:
        value, slope = jvp(lambda x: x.cube_forward_test() + x, [2.0], [1.0])
        assert (value, slope) == (10.0, 13.0)
    finally:
        forget_op("cube_forward_test")


@pytest.mark.parametrize("inputs, tangents, problem", [
    ([1.0, 2.0], [1.0], "one tangent per input"),
    ([float("nan")], [1.0], "NaN"),
    ([1.0], ["1"], "jvp's tangents"),
    ([True], [1.0], "jvp's inputs"),
])
def test_jvp_refuses_bad_inputs_naming_them(inputs, tangents, problem):
    with pytest.raises((ValueError, TypeError), match=problem):
        jvp(lambda *xs: xs[0], inputs, tangents)


def test_jvp_refuses_an_f_that_returns_a_number():
    with pytest.raises(TypeError, match="must return a Value or a list of Values, got float"):
        jvp(lambda x: 3.0, [1.0], [1.0])


def test_count_ops_counts_each_node_made():
    x = Value(2.0)
    with count_ops() as c:
        y = (x * 3 + 1).tanh()
        y.backward()  # backward makes no nodes
    assert c.ops == 3
    with count_ops() as c, no_grad():
        x * x
    assert c.ops == 1
    assert repr(c) == "<1 op evaluations>"


def test_count_ops_nests_and_keeps_detect_anomaly_watching():
    with count_ops() as outer:
        Value(1.0) + 1
        with count_ops() as inner:
            Value(2.0) * 3
    with detect_anomaly(), count_ops() as watched:
        Value(2.0) * 3
        with pytest.raises(AnomalyError, match="made an infinity"):
            Value(1e200) * 1e200  # counted, then refused by the anomaly watch chained after
    assert (inner.ops, outer.ops, watched.ops) == (1, 2, 2)
    assert engine.core.modes.watch is None


def test_a_jvp_costs_one_forward_pass():
    with count_ops() as c:
        jvp(lambda x, y: (x * y).tanh() + y, [0.5, 1.5], [1.0, 0.0])
    assert c.ops == 3
