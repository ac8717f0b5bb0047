"""gradwalk's engine: scalar reverse-mode automatic differentiation you can step through.

    >>> from engine import Value
    >>> x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(6.8813735870195432, "b")
    >>> o = (x * w + b).tanh()
    >>> o.backward()
    >>> round(x.grad, 4), round(w.grad, 4)
    (-1.5, 1.0)
"""

from engine.value import Value, as_value
from engine.modes import current_scope, enable_grad, is_grad_enabled, name_scope, no_grad, note_grad_write
from engine.op import NaNError, Op
from engine.registry import define_op, forget_op
from engine import ops as _ops  # fills the op registry and gives Value its operators and methods
from engine.functional import cos, dot, exp, log, relu, sigmoid, sin, softplus, sqrt, sum_values, tanh
from engine.stepper import BackwardStep, EdgeStep, StaleStepperError, Stepper
from engine.graph import (
    backward,
    backward_steps,
    gradients,
    node_names,
    topological_order,
    zero_grad,
)
from engine.anomaly import AnomalyError, detect_anomaly
from engine.replay import Replay
from engine.tape import Tape, trace
from engine.check import (
    GradcheckError, GradcheckRow, compare_gradients, gradcheck, gradcheck_table, grad, numerical_grad,
    numerical_grad_wrt, value_and_grad, gradgradcheck, local_derivative_errors,
)

__all__ = [
    "Value", "as_value", "dot", "sum_values", "Op", "define_op", "forget_op", "NaNError",
    "current_scope", "note_grad_write",
    "BackwardStep", "EdgeStep", "Stepper", "StaleStepperError", "backward", "backward_steps", "gradients", "enable_grad", "is_grad_enabled",
    "name_scope", "no_grad", "node_names", "topological_order", "zero_grad",
    "cos", "exp", "log", "relu", "sigmoid", "sin", "softplus", "sqrt", "tanh",
    "GradcheckError", "GradcheckRow", "compare_gradients", "gradcheck", "gradcheck_table", "grad", "numerical_grad",
    "numerical_grad_wrt", "value_and_grad", "gradgradcheck", "local_derivative_errors",
    "AnomalyError", "detect_anomaly",
    "Replay", "Tape", "trace",
]

# Pictures need graphviz, and the player its page templates: both load on first use (PEP 562),
# so `import engine` stays light. The names live in engine.drawing and engine.player.
_LAZY = {
    "DrawOptions": "engine.drawing",
    "GraphTooLargeError": "engine.drawing",
    "GraphvizNotFoundError": "engine.drawing",
    "draw": "engine.drawing",
    "draw_dot": "engine.drawing",
    "save_graph": "engine.drawing",
    "Player": "engine.player",
    "animate_backward": "engine.player",
}
__all__ += list(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
