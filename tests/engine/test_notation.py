"""engine.notation: the one way an op and its local derivatives are written."""

import pytest

import engine
from engine import Value, dot
from engine.notation import local_formulas, parenthesised, written
from engine.testing import Expression, Step


@pytest.mark.parametrize(("make", "text"), [
    (lambda x, y: x * y, "x*y"),
    (lambda x, y: x - y, "x - y"),
    (lambda x, y: x * -2, "x*(-2)"),
    (lambda x, y: 2 - x, "2 - x"),
    (lambda x, y: 1 / x, "1/x"),
    (lambda x, y: -x, "-x"),
    (lambda x, y: x.tanh(), "tanh(x)"),
    (lambda x, y: x ** 3, "x**3"),
])
def test_each_kind_of_op_is_written_in_its_operands_names(make, text):
    node = make(Value(0.5), Value(2.0))
    assert written(node.op, ["x", "y"][:len(node.parents)]) == text


def test_dot_is_written_as_its_sum_of_products():
    w, x = Value(0.5), Value(2.0)
    assert written(dot([w, w], [x, x], 1.0).op, ["w0", "w1", "x0", "x1", "b"]) == "w0*x0 + w1*x1 + b"
    assert written(dot([w], [x]).op, ["w", "a + b"]) == "w*(a + b)"


def test_an_operand_that_is_not_a_plain_name_is_parenthesised_where_it_is_an_infix_operand():
    mul = (Value(1.0) * Value(2.0)).op
    assert written(mul, ["a + b", "#3"]) == "(a + b)*#3"
    assert written(Value(1.0).tanh().op, ["a + b"]) == "tanh(a + b)"  # a call needs no second pair
    assert written(mul, ["tanh(a)", "(a + b)"]) == "tanh(a)*(a + b)"  # nor do a call or a parenthesis
    assert written(mul, ["f(a) + g(b)", "(a) + (b)"]) == "(f(a) + g(b))*((a) + (b))"
    assert parenthesised("L1.n3.w2") == "L1.n3.w2" and parenthesised("-1") == "(-1)"


def test_long_sums_are_shortened_only_when_asked():
    xs = [Value(float(k)) for k in range(6)]
    node = engine.sum_values(xs)
    names = [f"x{k}" for k in range(6)]
    assert written(node.op, names) == "x0 + x1 + x2 + x3 + x4 + x5"
    assert written(node.op, names, max_terms=4) == "x0 + x1 + ... + x5 (6 terms)"
    assert written(node.op, []) == "0"


def test_local_formulas_put_the_names_into_the_ops_own_formula():
    x = Value(0.5)
    assert local_formulas((x / Value(2.0)).op, ["a", "b"], "q") == ["1/b", "-a/b**2"]
    assert local_formulas(x.tanh().op, ["n"], "o") == ["1 - tanh(n)**2"]
    assert local_formulas(x.relu().op, ["n"], "o") == ["(1 if n > 0 else 0)"]
    assert local_formulas((x * 3).op, ["a + b"], "o") == ["3"]
    assert local_formulas((3 / x).op, ["a + b"], "o") == ["-3/(a + b)**2"]
    assert local_formulas(dot([x], [x]).op, ["w", "x"], "o") == ["x", "w"]


def test_an_op_without_a_formula_gets_empty_formulas_not_an_error():
    op = engine.define_op("plain_cube", lambda x: x ** 3, lambda x, out: 3 * x * x)
    try:
        assert written(op, ["x"]) == "plain_cube(x)"
        assert local_formulas(op, ["x"], "y") == [""]
    finally:
        engine.forget_op("plain_cube")


def test_the_stepper_and_the_strategies_write_an_expression_the_same_way():
    expression = Expression(2, (Step("*", (0, 1)), Step("tanh", (2,)), Step("-c", (3,), 0.5)))
    x0, x1 = Value(0.3, "x0"), Value(0.7, "x1")
    out = expression(x0, x1)
    out.label = "o"
    steps = out.backward_steps()
    first = next(steps)
    assert first.definition == "#3 - 0.5"  # #0 is o itself: node_names numbers in order
    assert str(expression) == "tanh(x0*x1) - 0.5"
