"""The formula language: what it computes, where its limits lie, and that they are named."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import Value, topological_order
from engine.cli import formula as formula_module
from engine.cli.formula import (
    LIMITS, MAX_BRACKETS, MAX_CHARS, MAX_CONSTANT, MAX_DEPTH, MAX_EXPONENT, MAX_PARTS, FormulaError,
    check_variable_name, describe_limits, parse_formula,
)


def value_of(text: str, **values) -> float:
    out = parse_formula(text).evaluate({name: Value(x, name) for name, x in values.items()})
    return out.data if isinstance(out, Value) else out


def test_a_formula_builds_the_graph_python_code_would():
    f = parse_formula("tanh(x*w + b) * 3 - x**2")
    assert f.variables == ["x", "w", "b"]
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(6.8813735870195432, "b")
    out = f.evaluate({"x": x, "w": w, "b": b})
    reference = (x * w + b).tanh() * 3 - x**2
    assert out.data == reference.data
    assert [n.op for n in topological_order(out)] == [n.op for n in topological_order(reference)]


def test_chains_fold_left_to_right_and_powers_right_to_left():
    assert value_of("x - 1 - 2", x=10.0) == 7.0  # (10 - 1) - 2, not 10 - (1 - 2)
    assert value_of("x / 2 / 5", x=10.0) == 1.0
    assert value_of("x * 2 / 4 * 3", x=2.0) == 3.0
    assert value_of("x ** 3 ** 2", x=2.0) == 2.0**9  # 2 ** (3 ** 2)
    assert value_of("x + 2 * 3 - 4 / 2", x=1.0) == 5.0


@given(
    st.floats(-100, 100, allow_nan=False),
    st.lists(st.tuples(st.sampled_from("+-*/"), st.floats(0.5, 4.0)), min_size=1, max_size=60),
)
def test_a_chain_of_any_length_equals_the_left_fold(x, links):
    text = "x" + "".join(f" {op} {c!r}" for op, c in links)
    # Build the expected value the way precedence groups it: terms separated by + and -.
    terms, ops = [[x, []]], []
    for op, c in links:
        if op in "+-":
            ops.append(op)
            terms.append([c, []])
        else:
            terms[-1][1].append((op, c))
    values = []
    for first, factors in terms:
        v = first
        for op, c in factors:
            v = v * c if op == "*" else v / c
        values.append(v)
    expected = values[0]
    for op, v in zip(ops, values[1:]):
        expected = expected + v if op == "+" else expected - v
    assert value_of(text, x=x) == expected


def test_a_flat_sum_is_one_level_deep_however_long():
    terms = MAX_PARTS // 2  # n names and n - 1 operators
    assert value_of("+".join(["x"] * terms), x=1.0) == terms
    with pytest.raises(FormulaError, match=f"MAX_PARTS = {MAX_PARTS}"):
        parse_formula("+".join(["x"] * (terms + 1)))


def test_nesting_is_counted_per_level_and_the_limit_is_exact():
    assert value_of("-" * (MAX_DEPTH - 1) + "x", x=1.0) == (-1.0) ** (MAX_DEPTH - 1)
    with pytest.raises(FormulaError, match=f"more than {MAX_DEPTH} levels deep.*MAX_DEPTH = {MAX_DEPTH}"):
        parse_formula("-" * MAX_DEPTH + "x")
    # A right operand opens a level: x - (x - (x - ...)) is deep, x - x - x - ... is not.
    parse_formula("x" + " - (x" * 30 + ")" * 30)


@pytest.mark.parametrize(
    "text, limit",
    [
        ("x+" * (MAX_CHARS // 2) + "x", f"MAX_CHARS = {MAX_CHARS}"),
        ("(" * (MAX_BRACKETS + 1) + "x" + ")" * (MAX_BRACKETS + 1), f"MAX_BRACKETS = {MAX_BRACKETS}"),
        ("x * 1e16", f"MAX_CONSTANT = {MAX_CONSTANT:g}"),
        ("x ** 1001", f"MAX_EXPONENT = {MAX_EXPONENT:g}"),
    ],
)
def test_every_size_refusal_names_its_limit(text, limit):
    with pytest.raises(FormulaError, match=re.escape(limit)):
        parse_formula(text)


def test_an_exponent_is_bounded_once_it_is_known():
    with pytest.raises(FormulaError, match="exponent evaluates to 1000.5; the limit is MAX_EXPONENT = 1000"):
        parse_formula("x ** y").evaluate({"x": Value(2.0), "y": Value(1000.5)})


def test_the_limits_are_listed_in_one_place():
    text = describe_limits()
    assert len(text.splitlines()) == len(LIMITS)
    for name, limit, _ in LIMITS:
        assert getattr(formula_module, name) == limit
        assert f"at most {limit:g} ({name})" in text


def test_known_functions_come_from_one_lookup(monkeypatch):
    monkeypatch.setattr(formula_module, "known_functions", lambda: {"double": lambda v: v * 2})
    assert value_of("double(x) + 1", x=3.0) == 7.0
    with pytest.raises(FormulaError, match="the functions are double"):
        parse_formula("tanh(x)")


def test_variable_names():
    check_variable_name("x_1")
    for bad, reason in [("1x", "not a valid variable name"), ("tanh", "function name"), ("x" * 40, "not a valid")]:
        with pytest.raises(FormulaError, match=reason):
            check_variable_name(bad)


def test_refusals_are_value_errors_with_one_line():
    with pytest.raises(ValueError) as info:
        parse_formula("__import__('os')")
    assert "\n" not in str(info.value)
    assert math.isclose(value_of("sqrt(x) * 2", x=4.0), 4.0)
