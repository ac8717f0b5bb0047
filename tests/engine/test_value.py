"""Value: forward values and local derivatives of every op, bad-input errors, repr, memory."""

import gc
import math
import weakref

import pytest

import engine
from engine import Value, dot, gradcheck, sum_values


def leaf_grads(f, *xs):
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


# -- the worked example: a neuron tanh(x1*w1 + x2*w2 + b) -----------------------------------------


def test_neuron_worked_example_numbers():
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.backward()
    assert o.data == pytest.approx(0.7071067811865476, abs=1e-12)
    assert n.grad == pytest.approx(0.5, abs=1e-12)
    assert x1.grad == pytest.approx(-1.5, abs=1e-12)
    assert w1.grad == pytest.approx(1.0, abs=1e-12)
    assert x2.grad == pytest.approx(0.5, abs=1e-12)
    assert w2.grad == 0.0
    assert b.grad == pytest.approx(0.5, abs=1e-12)


def test_neuron_with_exp_form_of_tanh_gives_same_gradients():
    x1, w1, b = Value(2.0), Value(-3.0), Value(6.8813735870195432)
    n = x1 * w1 + b
    e = (2 * n).exp()
    o = (e - 1) / (e + 1)
    o.backward()
    assert o.data == pytest.approx(0.7071067811865476)
    assert x1.grad == pytest.approx(-1.5)
    assert w1.grad == pytest.approx(1.0)


# -- every op: value and derivative at a few points ------------------------------------------------

UNARY = [
    # name, f, value(x), derivative(x), points
    ("exp", lambda v: v.exp(), math.exp, math.exp, [-2.0, 0.0, 1.5]),
    ("log", lambda v: v.log(), math.log, lambda x: 1 / x, [0.1, 1.0, 7.0]),
    ("sqrt", lambda v: v.sqrt(), math.sqrt, lambda x: 0.5 / math.sqrt(x), [0.25, 1.0, 9.0]),
    ("tanh", lambda v: v.tanh(), math.tanh, lambda x: 1 - math.tanh(x) ** 2, [-3.0, 0.0, 0.5]),
    ("sigmoid", lambda v: v.sigmoid(), lambda x: 1 / (1 + math.exp(-x)),
     lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2, [-4.0, 0.0, 2.0]),
    ("relu", lambda v: v.relu(), lambda x: max(x, 0.0), lambda x: float(x > 0), [-1.0, 0.0, 2.5]),
    ("abs", lambda v: abs(v), abs, lambda x: (x > 0) - (x < 0), [-1.5, 0.0, 2.0]),
    ("sin", lambda v: v.sin(), math.sin, math.cos, [-1.0, 0.0, 2.0]),
    ("cos", lambda v: v.cos(), math.cos, lambda x: -math.sin(x), [-1.0, 0.0, 2.0]),
    ("softplus", lambda v: v.softplus(), lambda x: math.log(1 + math.exp(x)),
     lambda x: 1 / (1 + math.exp(-x)), [-3.0, 0.0, 3.0]),
    ("neg", lambda v: -v, lambda x: -x, lambda x: -1.0, [-1.0, 2.0]),
    ("**2", lambda v: v**2, lambda x: x * x, lambda x: 2 * x, [-3.0, 0.0, 1.5]),
    ("**-1", lambda v: v**-1, lambda x: 1 / x, lambda x: -1 / x**2, [-2.0, 0.5]),
    ("**0.5", lambda v: v**0.5, math.sqrt, lambda x: 0.5 / math.sqrt(x), [0.25, 4.0]),
    ("2**", lambda v: 2**v, lambda x: 2**x, lambda x: 2**x * math.log(2), [-1.0, 0.0, 3.0]),
    ("3*", lambda v: 3 * v, lambda x: 3 * x, lambda x: 3.0, [-1.0, 2.0]),
    ("+4", lambda v: v + 4, lambda x: x + 4, lambda x: 1.0, [-1.0, 2.0]),
    ("4+", lambda v: 4 + v, lambda x: x + 4, lambda x: 1.0, [-1.0, 2.0]),
    ("-4", lambda v: v - 4, lambda x: x - 4, lambda x: 1.0, [-1.0, 2.0]),
    ("4-", lambda v: 4 - v, lambda x: 4 - x, lambda x: -1.0, [-1.0, 2.0]),
    ("/4", lambda v: v / 4, lambda x: x / 4, lambda x: 0.25, [-1.0, 2.0]),
    ("4/", lambda v: 4 / v, lambda x: 4 / x, lambda x: -4 / x**2, [-1.0, 2.0]),
]


@pytest.mark.parametrize("name,f,value,slope,points", UNARY, ids=[u[0] for u in UNARY])
def test_unary_op_value_and_derivative(name, f, value, slope, points):
    for x in points:
        data, (g,) = leaf_grads(f, x)
        assert data == pytest.approx(value(x), rel=1e-12, abs=1e-12), (name, x)
        assert g == pytest.approx(slope(x), rel=1e-12, abs=1e-12), (name, x)


BINARY = [
    ("+", lambda a, b: a + b, lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    ("-", lambda a, b: a - b, lambda a, b: a - b, lambda a, b: (1.0, -1.0)),
    ("*", lambda a, b: a * b, lambda a, b: a * b, lambda a, b: (b, a)),
    ("/", lambda a, b: a / b, lambda a, b: a / b, lambda a, b: (1 / b, -a / b**2)),
    ("**", lambda a, b: a**b, lambda a, b: a**b, lambda a, b: (b * a ** (b - 1), a**b * math.log(a))),
]


@pytest.mark.parametrize("name,f,value,slopes", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("a,b", [(1.5, 2.0), (0.5, -3.0), (3.0, 0.25)])
def test_binary_op_value_and_derivatives(name, f, value, slopes, a, b):
    data, grads = leaf_grads(f, a, b)
    assert data == pytest.approx(value(a, b), rel=1e-12)
    assert grads == pytest.approx(list(slopes(a, b)), rel=1e-12)


def test_same_operand_twice_keeps_both_edges():
    a = Value(3.0)
    s = a + a
    assert s.parents == (a, a)
    p = a * a
    p.backward()
    assert a.grad == 6.0
    s.backward()
    assert a.grad == 6.0 + 2.0


def test_constants_are_folded_into_the_op_name():
    x = Value(2.0)
    assert (x * 3).op == "*3"
    assert (x * 3).parents == (x,)
    assert (3 - x).op == "3-"
    assert (x**2).op == "**2"
    assert (2**x).op == "2**"
    assert (x / 0.5).op == "/0.5"


def test_python_sum_and_engine_sum_values_agree():
    xs = [Value(float(k)) for k in range(1, 6)]
    total = sum(xs)
    fused = sum_values(xs + [10])
    assert total.data == 15.0
    assert fused.data == 25.0
    # A plain number becomes a constant leaf, labelled with its value, so drawings show it.
    assert fused.parents[:5] == tuple(xs)
    assert (fused.parents[5].data, fused.parents[5].label, fused.parents[5].parents) == (10.0, "10", ())
    fused.backward()
    assert [x.grad for x in xs] == [1.0] * 5


def test_dot_value_gradients_and_constant_inputs():
    w = [Value(0.5), Value(-2.0)]
    x = [Value(3.0), 4.0]  # second input is a plain-number constant
    b = Value(0.25)
    out = dot(w, x, b)
    assert out.op == "dot"
    assert out.data == pytest.approx(0.5 * 3 - 2 * 4 + 0.25)
    four = out.parents[3]  # the plain number 4.0 became a constant leaf, so a drawing shows it
    assert out.parents == (w[0], w[1], x[0], four, b)
    assert (four.data, four.label, four.parents) == (4.0, "4", ())
    out.backward()
    assert [w[0].grad, x[0].grad, w[1].grad, b.grad] == [3.0, 0.5, 4.0, 1.0]
    assert out.local_grad() == (3.0, 4.0, 0.5, -2.0, 1.0)  # halves swapped: d/dw_i = x_i, d/dx_i = w_i
    assert gradcheck(lambda w0, w1, x0, b: dot([w0, w1], [x0, 4.0], b), 0.5, -2.0, 3.0, 0.25)


def test_dot_refuses_length_mismatch():
    with pytest.raises(ValueError, match="as many weights as inputs"):
        dot([Value(1.0)], [1.0, 2.0])


def test_functional_forms_are_math_on_numbers_and_nodes_on_values():
    # One function per op: plain math on numbers, a graph node on Values.
    assert engine.tanh(0.0) == 0.0 and isinstance(engine.tanh(0.0), float)
    assert engine.exp(Value(0.0)).data == 1.0
    assert engine.log(Value(1)).op == "log"
    assert engine.sin(1.0) == math.sin(1.0)
    with pytest.raises(ValueError, match="log needs x > 0"):
        engine.log(-1.0)


# -- stability: no exception and no NaN for any finite input -----------------------------------------


@pytest.mark.parametrize("x", [-1000.0, -50.0, 0.0, 50.0, 1000.0, 1e308, -1e308])
def test_saturating_ops_are_stable(x):
    for op in ("tanh", "sigmoid", "softplus"):
        v = Value(x)
        out = getattr(v, op)()
        out.backward()
        assert math.isfinite(out.data) and math.isfinite(v.grad), (op, x)


def test_sigmoid_far_negative_is_exactly_zero():
    v = Value(-1000.0)
    s = v.sigmoid()
    s.backward()
    assert s.data == 0.0 and v.grad == 0.0


def test_softplus_large_input_is_identity_with_slope_one():
    v = Value(1000.0)
    s = v.softplus()
    s.backward()
    assert s.data == 1000.0 and v.grad == 1.0


def test_sqrt_at_zero_has_infinite_not_nan_slope():
    for f in (lambda v: v.sqrt(), lambda v: v**0.5):
        v = Value(0.0)
        out = f(v)
        out.backward()
        assert out.data == 0.0 and v.grad == math.inf


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["1", None, [1.0], True, 1 + 2j])
def test_operands_of_the_wrong_type_raise_type_error_naming_it(bad):
    x = Value(1.0)
    name = type(bad).__name__
    for op in (lambda: x + bad, lambda: bad + x, lambda: x * bad, lambda: x - bad, lambda: bad / x, lambda: x**bad):
        with pytest.raises(TypeError, match=name):
            op()
    with pytest.raises(TypeError, match=name):
        Value(bad)


def test_constructor_refuses_nan():
    with pytest.raises(ValueError, match="NaN"):
        Value(float("nan"))


@pytest.mark.parametrize(
    "f,x,pattern",
    [
        (lambda v: v.log(), 0.0, "log needs x > 0, got x=0.0"),
        (lambda v: v.log(), -2.0, "log needs x > 0, got x=-2.0"),
        (lambda v: v.sqrt(), -1.0, "sqrt needs x >= 0, got x=-1.0"),
        (lambda v: v**0.5, -4.0, r"a negative base \(-4.0\) to a fractional power \(0.5\)"),
        (lambda v: v ** Value(2.0), -1.0, "Value exponent needs x > 0"),
        (lambda v: (-2.0) ** v, 1.0, "positive base"),
    ],
)
def test_domain_errors_name_the_op_and_the_value(f, x, pattern):
    with pytest.raises(ValueError, match=pattern):
        f(Value(x))


def test_exp_overflow_names_op_and_value():
    with pytest.raises(OverflowError, match="exp overflows for x=1000.0"):
        Value(1000.0).exp()


def test_power_overflow_is_an_overflow_error():
    with pytest.raises(OverflowError, match=r"\*\*"):
        Value(1e200) ** 3.5


@pytest.mark.parametrize(
    "f", [lambda v: v / 0, lambda v: v / Value(0.0), lambda v: 1 / (v * 0), lambda v: (v * 0) ** -1]
)
def test_division_by_zero(f):
    with pytest.raises(ZeroDivisionError):
        f(Value(3.0))


# -- repr -----------------------------------------------------------------------------------------


def test_repr_is_short_and_readable():
    x = Value(2.0, "x")
    o = (x * -3.0 + 6.8813735870195432).tanh()
    o.label = "o"
    o.backward()
    assert repr(o) == "Value(data=0.7071, grad=1, op='tanh', label='o')"
    assert repr(x) == "Value(data=2, grad=-1.5, label='x')"
    assert repr(Value(0.5)) == "Value(data=0.5, grad=0)"


# -- memory: no reference cycles ------------------------------------------------------------------


def test_graph_is_freed_by_reference_counting_alone():
    was_enabled = gc.isenabled()
    gc.disable()  # prove refcounting alone frees the graph (restored below)
    try:
        x = Value(1.0)
        hidden = (x * 2.0 + x).tanh()
        out = (hidden * hidden).exp() + hidden.sigmoid() / (x + 3)
        out.backward()
        watched = weakref.ref(hidden)
        del hidden
        assert watched() is not None  # still reachable through out.parents
        del out
        assert watched() is None
    finally:
        if was_enabled:
            gc.enable()


def test_no_closure_captures_a_value():
    x, y = Value(1.5), Value(0.5)
    nodes = [x + y, x - y, x * y, x / y, x**y, x**2, 2**x, x.exp(), x.log(), x.sqrt(), x.tanh(),
             x.sigmoid(), x.relu(), abs(x), x.sin(), x.cos(), x.softplus(), -x, dot([x], [y], 1.0),
             sum_values([x, y]), 3 / x, 1 - x]
    for node in nodes:
        closure = getattr(node.local_grad, "__closure__", None) or ()
        captured = [cell.cell_contents for cell in closure]
        assert not any(isinstance(c, Value) for c in captured), node.op


def test_value_uses_slots():
    assert not hasattr(Value(1.0), "__dict__")


# -- numerically awkward but valid inputs -----------------------------------------------------------


def test_division_slopes_do_not_underflow_for_tiny_divisors():
    a, b = Value(1e-200), Value(1e-200)
    (a / b).backward()
    assert a.grad == pytest.approx(1e200) and b.grad == pytest.approx(-1e200)
    c = Value(1e-160)
    (1e-160 / c).backward()
    assert c.grad == pytest.approx(-1e160, rel=1e-12)


def test_power_slope_saturates_instead_of_raising():
    x = Value(1e-3)
    (x**-102).backward()  # the slope is -1.02e311: beyond float range, so -inf, not OverflowError
    assert x.grad == -math.inf


@pytest.mark.parametrize("n,slope", [(2, 0.0), (1, 1.0), (0, 0.0)])
def test_power_slope_at_zero(n, slope):
    x = Value(0.0)
    (x**n).backward()
    assert x.grad == slope


@pytest.mark.parametrize("f", [lambda v: v * math.nan, lambda v: v + math.nan, lambda v: math.nan - v,
                               lambda v: v / math.nan, lambda v: v**math.nan])
def test_nan_constants_are_refused(f):
    with pytest.raises(ValueError, match="NaN"):
        f(Value(1.0))


def test_every_op_has_a_docstring():
    for name in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sin", "cos", "softplus"):
        assert getattr(Value, name).__doc__, name
        assert engine.define.unary_ops()[name].__doc__, name
