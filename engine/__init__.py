"""gradwalk's engine: scalar reverse-mode automatic differentiation you can step through.

    >>> from engine import Value
    >>> x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(6.8813735870195432, "b")
    >>> o = (x * w + b).tanh()
    >>> o.backward()
    >>> round(x.grad, 4), round(w.grad, 4)
    (-1.5, 1.0)
"""

from engine.value import Value, as_value, dot, sum_values
from engine.graph import (
    BackwardStep,
    EdgeStep,
    backward,
    backward_steps,
    is_grad_enabled,
    name_scope,
    no_grad,
    node_names,
    topological_order,
    zero_grad,
)
from engine.functional import cos, exp, log, relu, sigmoid, sin, softplus, sqrt, tanh
from engine.check import (
    GradcheckError, GradcheckRow, compare_gradients, gradcheck, gradcheck_table, grad, numerical_grad,
    numerical_grad_wrt, value_and_grad,
)

__all__ = [
    "Value", "as_value", "dot", "sum_values",
    "BackwardStep", "EdgeStep", "backward", "backward_steps", "is_grad_enabled", "name_scope",
    "no_grad", "node_names", "topological_order", "zero_grad",
    "cos", "exp", "log", "relu", "sigmoid", "sin", "softplus", "sqrt", "tanh",
    "GradcheckError", "GradcheckRow", "compare_gradients", "gradcheck", "gradcheck_table", "grad", "numerical_grad",
    "numerical_grad_wrt", "value_and_grad",
]
from engine.draw import GraphTooLargeError, GraphvizNotFoundError, draw, draw_dot, save_graph
from engine.player import animate_backward

__all__ += ["GraphTooLargeError", "GraphvizNotFoundError", "draw", "draw_dot", "save_graph", "animate_backward"]
