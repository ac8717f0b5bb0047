"""Every op defined once: the tests find each op in the registry and check all that it derives,
plus your own ops (define_op), higher-order gradients and the numeric edge cases of the rules."""

import gc
import math
import weakref

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import (
    GradcheckError, Value, define_op, grad, gradcheck, gradgradcheck, gradients, sum_values, topological_order,
)
from engine.cli import main as gradwalk
from engine.cli.formula import known_functions, parse_formula
from engine.core.value import registry
from engine.testing import expression_cases, op_names

@pytest.fixture(autouse=True)
def forget_ops_defined_here():
    """Ops a test defines are removed afterwards, so the strategies of other tests never see them."""
    before = set(registry)
    yield
    for name in set(registry) - before:
        engine.forget_op(name)


# Points where every built-in one-operand op is defined, smooth and moderate.
POINTS = (-1.3, -0.4, 0.35, 0.9, 2.2)


def _domain_points(op):
    points = []
    for x in POINTS:
        try:
            y = op.forward(x)
        except (ValueError, ArithmeticError):
            continue
        if math.isfinite(y) and all(abs(x - k) > 1e-3 for k in op.kinks):
            points.append(x)
    return points


UNARY = [name for name, op in registry.items() if op.arity == 1 and op.builtin]
BINARY = [name for name, op in registry.items() if op.arity == 2 and op.builtin]


@pytest.mark.parametrize("name", UNARY)
def test_every_unary_op_passes_gradcheck_at_several_points(name):
    op = registry[name]
    points = _domain_points(op)
    assert len(points) >= 2, name
    for x in points:
        assert gradcheck(lambda v: op(v), x), (name, x)


@pytest.mark.parametrize("name", BINARY)
def test_every_binary_op_passes_gradcheck_for_values_and_folded_constants(name):
    op = registry[name]
    for a, b in [(0.7, 1.3), (1.9, -0.6), (2.5, 2.0)]:
        assert gradcheck(lambda x, y: op(x, y), a, b), (name, a, b)
        assert gradcheck(lambda x: op(x, b), a), (name, "x op c")
        assert gradcheck(lambda y: op(a, y), b), (name, "c op y")


@pytest.mark.parametrize("name", UNARY)
def test_every_unary_op_has_a_method_a_function_and_a_formula_name(name):
    op = registry[name]
    x = Value(0.8)
    method = "__neg__" if name == "neg" else name
    assert getattr(x, method)().op == name
    if name != "neg":
        assert getattr(engine, name) is op or getattr(engine.core.functional, name) is op
        assert name in known_functions()
        out = parse_formula(f"{name}(x) * y").evaluate({"x": Value(0.8, "x"), "y": Value(2.0, "y")})
        assert any(node.op == name for node in topological_order(out))
    assert op.__doc__ and op.formula, name


@pytest.mark.parametrize("name", [n for n in UNARY if n != "neg"])
def test_the_cli_accepts_every_function(name, capsys):
    assert gradwalk(["check", f"{name}(x) + x", "x=0.8"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("name", UNARY + BINARY)
def test_a_drawing_shows_every_op(name):
    op = registry[name]
    x, y = Value(0.8, "x"), Value(1.7, "y")
    out = op(x) if op.arity == 1 else op(x, y)
    source = engine.draw_dot(out).source
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    k = len(topological_order(out)) - 1  # the op ellipse is named after its node's position
    assert f"o{k} [label=<{escaped}>" in source, source


def test_the_strategies_generate_every_op():
    names = set(op_names())
    for name, op in registry.items():
        assert name in names


# -- your own op ------------------------------------------------------------------------------------


def _define_atan():
    return define_op("atan", math.atan, lambda x, out: 1 / (1 + x * x), formula="1/(1 + x**2)",
                     array_forward=lambda x: __import__("numpy").arctan(x), doc="arctan x; slope 1/(1 + x^2).")


def test_an_op_defined_outside_the_package_gets_everything():
    atan = _define_atan()
    x = Value(1.0, "x")
    y = x.atan()
    assert engine.atan is atan and engine.atan(x).op == "atan" and engine.atan(1.0) == math.atan(1.0)
    y.backward()
    assert (y.data, x.grad) == (math.atan(1.0), 0.5)
    assert gradcheck(lambda v: v.atan() * v, 0.3)
    assert grad(grad(lambda v: v.atan()))(1.0) == pytest.approx(-0.5)   # d2/dx2 atan = -2x/(1+x^2)^2
    assert "atan" in known_functions()
    steps = list(y.backward_steps())
    assert steps and steps[0].node is y
    assert "atan" in engine.draw_dot(y).source


def test_property_your_own_op_in_random_graphs():
    _define_atan()

    @settings(max_examples=60, deadline=None)
    @given(expression_cases(ops=["atan", "*", "+c", "sin", "sum"]))
    def backprop_matches_finite_differences(case):
        assert gradcheck(case.expression, *case.inputs, atol=1e-5, rtol=1e-4)

    backprop_matches_finite_differences()


def test_a_wrong_derivative_is_caught_by_gradcheck_naming_the_op():
    wrong = define_op("wrong_atan", math.atan, lambda x, out: 1 / (1 + 2 * x * x))
    with pytest.raises(GradcheckError, match=r"op 'wrong_atan' at \(0\.7\)"):
        gradcheck(lambda v: wrong(v) * 3, 0.7)


def test_forget_op_removes_a_user_op_everywhere():
    _define_atan()
    engine.forget_op("atan")
    assert "atan" not in registry and not hasattr(Value, "atan") and not hasattr(engine, "atan")
    assert "atan" not in op_names() and "atan" not in known_functions()
    with pytest.raises(ValueError, match="gradwalk's own ops"):
        engine.forget_op("tanh")


def test_define_op_refuses_to_replace_builtins_and_bad_definitions():
    with pytest.raises(ValueError, match="gradwalk's own ops"):
        define_op("tanh", math.tanh, lambda x, out: 1.0)
    with pytest.raises(TypeError, match="pair of derivatives"):
        define_op("two", lambda a, b: a, lambda a, b, out: 1.0, arity=2)
    with pytest.raises(TypeError, match="a function or a number"):
        define_op("strange", math.sin, "cos")


# -- higher-order gradients -------------------------------------------------------------------------


@pytest.mark.parametrize("name", UNARY)
def test_grad_of_grad_is_the_second_derivative_of_every_op(name):
    op = registry[name]
    first = grad(lambda v: op(v))
    for x in _domain_points(op):
        h = 1e-5
        numeric = (first(x + h) - first(x - h)) / (2 * h)
        assert grad(grad(lambda v: op(v)))(x) == pytest.approx(numeric, rel=1e-4, abs=1e-5), (name, x)


def test_third_derivative():
    assert grad(grad(grad(lambda x: x.sin() * x)))(0.5) == pytest.approx(-3 * math.sin(0.5) - 0.5 * math.cos(0.5))


def test_backward_create_graph_gives_value_gradients_you_can_backprop_again():
    x = Value(2.0, "x")
    y = x ** 3 + x.tanh()
    y.backward(create_graph=True)
    assert isinstance(x.grad_value, Value) and x.grad == x.grad_value.data == pytest.approx(12 + 1 - math.tanh(2) ** 2)
    (curvature,) = gradients(x.grad_value, [x])
    assert curvature == pytest.approx(12 - 2 * math.tanh(2) * (1 - math.tanh(2) ** 2))
    steps = list(x.grad_value.backward_steps())
    assert steps
    x.zero_grad()
    assert x.grad_value is None


def test_create_graph_leaves_accumulate_both_forms():
    x = Value(1.5)
    (x * x).backward(create_graph=True)
    (x * x).backward(create_graph=True)
    assert x.grad == 6.0 and x.grad_value.data == 6.0


def test_gradgradcheck_passes_and_catches_a_planted_wrong_second_derivative():
    assert gradgradcheck(lambda x, y: (x * y).tanh() + x.exp() * y, 0.3, -0.8)
    # bad_cos's own derivative has the wrong sign; my_sin's first derivative (bad_cos) is right,
    # so gradcheck passes and only the second derivative is wrong.
    bad_cos = define_op("bad_cos", math.cos, lambda x, out: engine.sin(x))
    my_sin = define_op("my_sin", math.sin, lambda x, out: bad_cos(x))
    assert gradcheck(lambda x: my_sin(x), 0.6)
    with pytest.raises(GradcheckError, match="(?s)gradgradcheck failed.*op 'bad_cos'"):
        gradgradcheck(lambda x: my_sin(x), 0.6)


def test_derivative_graphs_are_freed_without_the_cycle_collector():
    gc.disable()
    try:
        x = Value(0.7)
        y = (x * x).sin()
        y.backward(create_graph=True)
        probe = weakref.ref(x.grad_value)
        del y
        x.grad_value = None
        assert probe() is None
    finally:
        gc.enable()


# -- numeric edge cases of the derivative rules ----------------------------------------------------


@pytest.mark.parametrize("x,n,slope", [
    (1e-200, 2.0, 2e-200), (1e-300, 1.5, 1.5 * 1e-150), (1e154, 2.0, 2e154), (math.inf, 2.0, math.inf),
    (1e-160, 2.0, 2e-160), (-1e154, 2.0, -2e154), (0.0, 0.5, math.inf), (0.0, 2.0, 0.0),
])
def test_power_slopes_are_right_wherever_they_are_finite(x, n, slope):
    v = Value(x)
    (v ** n).backward()
    assert v.grad == pytest.approx(slope, rel=1e-12) if math.isfinite(slope) else v.grad == slope


def test_value_exponent_slope_is_right_for_tiny_results():
    x, y = Value(1e-100), Value(2.0)
    (x ** y).backward()
    assert x.grad == pytest.approx(2e-100, rel=1e-12)


@pytest.mark.parametrize("method", ["sin", "cos"])
def test_periodic_ops_name_themselves_at_infinity(method):
    with pytest.raises(ValueError, match=f"{method} needs a finite x, got x=inf"):
        getattr(Value(math.inf), method)()


def test_nan_never_enters_a_graph():
    with pytest.raises(ValueError, match=r"\*0 of \(inf\) is NaN"):
        Value(math.inf) * 0
    with pytest.raises(ValueError, match="is NaN"):
        Value(math.inf) - Value(math.inf)


def test_zero_to_a_value_power():
    y = Value(2.0)
    out = 0.0 ** y
    out.backward()
    assert (out.data, y.grad) == (0.0, 0.0)
    with pytest.raises(ZeroDivisionError):
        0.0 ** Value(-1.0)


def test_a_zero_upstream_gradient_passes_nothing_on():
    x = Value(0.0)
    out = x.sqrt() * 0.0 + x  # sqrt's slope at 0 is inf; times a zero upstream it stays out
    out.backward()
    assert x.grad == 1.0


def test_the_readme_op_table_matches_the_registry():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start = readme.index("<!-- ops table: made by engine.define.op_table() -->") + len("<!-- ops table: made by engine.define.op_table() -->")
    end = readme.index("<!-- end of ops table -->")
    assert readme[start:end].strip() == engine.define.op_table()


def test_anomaly_mode_names_the_op_its_inputs_and_the_line(tmp_path):
    from engine import AnomalyError, detect_anomaly

    x = Value(0.0, "x")
    with pytest.raises(AnomalyError, match=r"(?s)sqrt node .*x=0\.0.*local derivative inf.*test_ops\.py:\d+"):
        with detect_anomaly():
            y = x.sqrt() + x
            y.backward()
    with pytest.raises(AnomalyError, match=r"\*0 of \(inf\) is NaN.*test_ops\.py:\d+"):
        with detect_anomaly():
            Value(math.inf) * 0
    with pytest.raises(AnomalyError, match=r"\*10 made an infinity \(inf\) from finite inputs"):
        with detect_anomaly():
            Value(1e308) * 10 + Value(1.0).exp()  # the product saturates to inf: born here
    # outside the block nothing is checked: the same graph backpropagates to inf quietly
    y = x.sqrt() + x
    y.backward()
    assert y.parents[0].grad == 1.0 and x.grad == math.inf and not engine.core.graph.after_pass


def test_anomaly_mode_catches_an_infinity_born_from_finite_numbers():
    from engine import AnomalyError, detect_anomaly

    with pytest.raises(AnomalyError, match=r"\* made an infinity \(inf\) from finite inputs"):
        with detect_anomaly():
            Value(1e200) * Value(1e200)


def test_sum_values_rounds_once_and_still_saturates_to_inf():
    assert sum_values([Value(0.1)] * 10).data == 1.0  # a chain of + gives 0.9999999999999999
    assert sum_values([Value(1e308), Value(1e308)]).data == math.inf
    with pytest.raises(ValueError, match=r"sum of \(inf, -inf\) is NaN"):
        sum_values([Value(math.inf), Value(-math.inf)])
