"""The ops as plain functions, so formulas read like math: `tanh(x * w + b)`.

Each function is the op itself (see `engine.core.table`): on a Value it builds a graph node, on a
plain number it is ordinary math (`tanh(0.5)` is a float), so one function serves both.
`dot` and `sum_values` build one node for a whole weighted sum or sum.
"""

from __future__ import annotations

import operator

from engine.core import modes, table
from engine.core.real import as_float, refuse_nan
from engine.core.value import Value, make_node, slopes_closure as _closure

exp, log, sqrt, tanh, sigmoid, relu = table.exp, table.log, table.sqrt, table.tanh, table.sigmoid, table.relu
sin, cos, softplus = table.sin, table.cos, table.softplus
_data = operator.attrgetter("data")


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
    if type(weights) is not list and type(weights) is not tuple:
        weights = list(weights)
    if type(inputs) is not list and type(inputs) is not tuple:
        inputs = list(inputs)
    if len(weights) != len(inputs):
        raise ValueError(f"dot needs as many weights as inputs, got {len(weights)} and {len(inputs)}")
    # The node's parents tuple and its slopes tuple are built once each, with no list copies on the
    # way, and the weighted sum is taken from the slopes (x_i then w_i, each the other's slope):
    # most of a training step's nodes are dot nodes. The additions are table._dot's, in the same
    # order, so a dot node's value is bit-identical to `dot_op.forward` (tests/engine check it).
    n = len(weights)
    operands = (*weights, *inputs) if bias is None else (*weights, *inputs, bias)
    try:  # the usual case, all Values: no per-operand checks on the way
        if bias is None:
            slopes = (*map(_data, inputs), *map(_data, weights))
        else:
            slopes = (*map(_data, inputs), *map(_data, weights), 1.0)
        total = 0.0
        for i in range(n):
            total += slopes[n + i] * slopes[i]
        if bias is not None:
            total += bias.data
    except (AttributeError, TypeError):  # plain numbers among them (or something wrong)
        return table.dot_op.on_values([v if type(v) is Value else _leaf(v, "dot") for v in operands])
    if total != total:
        refuse_nan(table.dot_op, [v.data for v in operands])
    if not modes.recording:
        return make_node(total, (), "", None)
    return make_node(total, operands, table.dot_op, _closure(tuple, slopes))


def sum_values(values) -> Value:
    """One node for `v0 + v1 + ... + vn`: faster and a smaller drawing than a chain of `+` nodes.

    Plain numbers among the terms become constant leaves.
    """
    return table.sum_op.on_values([v if type(v) is Value else _leaf(v, "sum_values") for v in values])
