"""engine.notation: the one way an op and its local derivatives are written."""

import math

import pytest
from hypothesis import given, settings

import engine
from engine import Value, dot
from engine.notation import local_formulas, parenthesised, written
from engine.core.value import registry
from engine.testing import Expression, Step, expression_cases


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


def test_numbers_are_written_as_they_print_and_only_negative_ones_get_parentheses():
    x = Value(0.5)
    assert written((x * 1e20).op, ["x"]) == "x*1e+20" and written((1e20 / x).op, ["x"]) == "1e+20/x"
    assert local_formulas((1e20 / x).op, ["x"], "o") == ["-1e+20/x**2"]
    assert written((x * 2.5e-7).op, ["x"]) == "x*2.5e-07" and written((x + float("inf")).op, ["x"]) == "x + inf"
    assert written((x * -1e20).op, ["x"]) == "x*(-1e+20)" and written((x * -0.0).op, ["x"]) == "x*(-0)"
    o = Value(0.5, "x") * 1e20
    o.label = "o"
    assert "local ∂o/∂x = 1e+20;" in str(next(o.backward_steps()))  # the number once, not `(1e+20) = 1e+20`


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


@settings(max_examples=300, deadline=None)
@given(expression_cases())
def test_a_strategy_expression_reads_as_python_that_computes_its_value(case):
    namespace = {name: op for name, op in registry.items() if name.isidentifier()}
    namespace.update(inf=math.inf, **{f"x{k}": x for k, x in enumerate(case.inputs)})
    text, _, shared = str(case.expression).partition("  where ")
    for definition in shared.split("; ") if shared else []:
        name, _, formula = definition.partition(" = ")
        namespace[name] = eval(formula, namespace)  # noqa: S307 (our own formula text)
    assert float(eval(text, namespace)) == pytest.approx(case.expression(*case.inputs).data, rel=1e-9, abs=1e-9)


def test_the_stepper_and_the_strategies_write_an_expression_the_same_way():
    expression = Expression(2, (Step("*", (0, 1)), Step("tanh", (2,)), Step("-c", (3,), 0.5)))
    x0, x1 = Value(0.3, "x0"), Value(0.7, "x1")
    out = expression(x0, x1)
    out.label = "o"
    steps = out.backward_steps()
    first = next(steps)
    assert first.definition == "#3 - 0.5"  # #0 is o itself: node_names numbers in order
    assert str(expression) == "tanh(x0*x1) - 0.5"


def test_the_tape_writes_each_step_as_the_stepper_does():
    def f(x, y):
        return -(x * 1e20) + dot([x, y], [y, x], 1.0) + (2 / y).tanh()

    tape = engine.trace(f, 0.5, 2.0)
    steps = [line.split(" = ", 1)[1] for line in str(tape).splitlines() if line.startswith("t")]
    assert steps == ["x0*1e+20", "-t0", "x0*x1 + x1*x0 + 1", "t1 + t2", "2/x1", "tanh(t4)", "t3 + t5"]
