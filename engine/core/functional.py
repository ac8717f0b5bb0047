"""The ops as plain functions, so formulas read like math: `tanh(x * w + b)`.

Each function is the op itself (see `engine.core.table`): on a Value it builds a graph node, on a
plain number it is ordinary math (`tanh(0.5)` is a float), so one function serves both.
`dot` and `sum_values` build one node for a whole weighted sum or sum.
"""

from __future__ import annotations

from engine.core import table
from engine.core.value import Value, as_float

exp, log, sqrt, tanh, sigmoid, relu = table.exp, table.log, table.sqrt, table.tanh, table.sigmoid, table.relu
sin, cos, softplus = table.sin, table.cos, table.softplus


def _leaf(x, where: str) -> Value:
    if isinstance(x, Value):
        return x
    number = as_float(x, where)
    return Value(number, f"{number:g}")


def dot(weights, inputs, bias=None) -> Value:
    """One node for `w0*x0 + w1*x1 + ... + bias`: a neuron's pre-activation in a single step.

    `weights` and `inputs` have equal length; each entry is a Value or a plain number (a number
    becomes a constant leaf, so the drawing shows it). Parents are w0 ... w(n-1), x0 ... x(n-1)
    and the bias; the local derivative of w_i is x_i and of x_i is w_i.

        >>> from engine import Value
        >>> w, x = Value(2.0), Value(3.0)
        >>> y = dot([w, -1.0], [x, 4.0], bias=0.5)
        >>> y.data
        2.5
    """
    weights = list(weights)
    inputs = list(inputs)
    if len(weights) != len(inputs):
        raise ValueError(f"dot needs as many weights as inputs, got {len(weights)} and {len(inputs)}")
    operands = weights + inputs
    if bias is not None:
        operands.append(bias)
    try:  # the usual case, all Values: no per-operand checks on the way
        return table.dot_op.on_values(operands, [v.data for v in operands])
    except (AttributeError, TypeError):  # plain numbers among them (or something wrong)
        operands = [v if type(v) is Value else _leaf(v, "dot") for v in operands]
    return table.dot_op.on_values(operands)


def sum_values(values) -> Value:
    """One node for `v0 + v1 + ... + vn`: faster and a smaller drawing than a chain of `+` nodes.

    Plain numbers among the terms become constant leaves.
    """
    return table.sum_op.on_values([v if type(v) is Value else _leaf(v, "sum_values") for v in values])
