"""The unary ops as plain functions, so formulas read like math: `tanh(x * w + b)`.

Each accepts a Value or a plain number (a number becomes a constant leaf) and returns a Value.
"""

from __future__ import annotations

from engine.value import Value, as_value


def exp(x) -> Value:
    return as_value(x).exp()


def log(x) -> Value:
    return as_value(x).log()


def sqrt(x) -> Value:
    return as_value(x).sqrt()


def tanh(x) -> Value:
    return as_value(x).tanh()


def sigmoid(x) -> Value:
    return as_value(x).sigmoid()


def relu(x) -> Value:
    return as_value(x).relu()


def abs(x) -> Value:  # noqa: A001  (shadows the builtin on purpose, inside this module only)
    return as_value(x).abs()


def sin(x) -> Value:
    return as_value(x).sin()


def cos(x) -> Value:
    return as_value(x).cos()


def softplus(x) -> Value:
    return as_value(x).softplus()


UNARY = {f.__name__: f for f in (exp, log, sqrt, tanh, sigmoid, relu, abs, sin, cos, softplus)}
"""Name -> function for every unary op (the CLI's parser and the test strategies use this)."""
