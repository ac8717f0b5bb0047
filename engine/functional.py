"""The unary ops as plain functions, so formulas read like math: `tanh(x * w + b)`.

Each accepts a Value or a plain number (a number becomes a constant leaf) and returns a Value.
"""

from __future__ import annotations

from engine.value import Value, as_value


def exp(x) -> Value:
    """e^x as a Value (see `Value.exp`)."""
    return as_value(x).exp()


def log(x) -> Value:
    """The natural log of x > 0 as a Value (see `Value.log`)."""
    return as_value(x).log()


def sqrt(x) -> Value:
    """The square root of x >= 0 as a Value (see `Value.sqrt`)."""
    return as_value(x).sqrt()


def tanh(x) -> Value:
    """tanh(x) as a Value (see `Value.tanh`)."""
    return as_value(x).tanh()


def sigmoid(x) -> Value:
    """The logistic sigmoid of x as a Value (see `Value.sigmoid`)."""
    return as_value(x).sigmoid()


def relu(x) -> Value:
    """max(x, 0) as a Value (see `Value.relu`)."""
    return as_value(x).relu()


def abs(x) -> Value:  # noqa: A001  (shadows the builtin on purpose, inside this module only)
    """|x| as a Value (see `Value.abs`)."""
    return as_value(x).abs()


def sin(x) -> Value:
    """sin(x) as a Value (see `Value.sin`)."""
    return as_value(x).sin()


def cos(x) -> Value:
    """cos(x) as a Value (see `Value.cos`)."""
    return as_value(x).cos()


def softplus(x) -> Value:
    """log(1 + e^x) as a Value (see `Value.softplus`)."""
    return as_value(x).softplus()


UNARY = {f.__name__: f for f in (exp, log, sqrt, tanh, sigmoid, relu, abs, sin, cos, softplus)}
"""Name -> function for every unary op (the CLI's parser and the test strategies use this)."""
