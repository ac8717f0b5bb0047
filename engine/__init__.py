"""gradwalk's engine: scalar reverse-mode automatic differentiation you can step through.

    >>> from engine import Value
    >>> x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(6.8813735870195432, "b")
    >>> o = (x * w + b).tanh()
    >>> o.backward()
    >>> round(x.grad, 4), round(w.grad, 4)
    (-1.5, 1.0)

The package is layered (docs/architecture.md draws it): `engine.core` is the autodiff itself;
`check`, `anomaly`, `testing`, `stepper`, `trace`, `draw` and `cli` are built on it. This module
only gathers their public names.
"""

from engine.core.modes import current_scope, enable_grad, is_grad_enabled, name_scope, no_grad
from engine.core.graph import backward, chain_rule, gradients, node_names, topological_order, zero_grad
from engine.core.value import Value, as_value
from engine.core.real import NaNError
from engine.core.value import Op, registry as _registry
from engine.define import define_op, forget_op
from engine.core.functional import cos, dot, exp, log, relu, sigmoid, sin, softplus, sqrt, sum_values, tanh
from engine.check import (
    GradcheckError, GradcheckReport, GradcheckRow, compare_gradients, gradcheck, gradcheck_table, numerical_grad,
    numerical_grad_wrt, gradgradcheck, local_derivative_errors,
)
from engine.transform import grad, value_and_grad
from engine.anomaly import AnomalyError, detect_anomaly
from engine.forward import count_ops, forward_sweep, jvp
from engine.stepper import BackwardStep, EdgeStep, StaleStepperError, Stepper, StepperError, backward_steps
from engine.trace import Replay, Tape, trace
from engine.cli.quiz import Quiz, Verdict
from engine import drawing as _drawing  # noqa: F401  (gives Value its draw(); pictures load on first use)

__all__ = [
    "Value", "as_value", "dot", "sum_values", "Op", "define_op", "forget_op", "NaNError",
    "current_scope", "enable_grad", "is_grad_enabled", "name_scope", "no_grad",
    "backward", "chain_rule", "gradients", "node_names", "topological_order", "zero_grad",
    "BackwardStep", "EdgeStep", "Stepper", "StepperError", "StaleStepperError", "backward_steps",
    "cos", "exp", "log", "relu", "sigmoid", "sin", "softplus", "sqrt", "tanh",
    "GradcheckError", "GradcheckReport", "GradcheckRow", "compare_gradients", "gradcheck", "gradcheck_table", "grad", "numerical_grad",
    "numerical_grad_wrt", "value_and_grad", "gradgradcheck", "local_derivative_errors",
    "AnomalyError", "detect_anomaly", "Quiz", "Verdict", "count_ops", "forward_sweep", "jvp",
    "Replay", "Tape", "trace",
    "DrawOptions", "GraphTooLargeError", "GraphvizNotFoundError", "Player", "animate_backward", "draw", "draw_dot",
    "save_graph", "StepperWidget",
]

# Pictures need graphviz, and the player its page templates: they load on first use (PEP 562).
_PICTURES = {name: "engine.drawing.build" for name in
             ("DrawOptions", "GraphTooLargeError", "GraphvizNotFoundError", "draw", "draw_dot", "save_graph")}
_PICTURES.update(Player="engine.drawing.player", animate_backward="engine.drawing.player",
                 StepperWidget="engine.notebook")  # the notebook widget needs the `notebook` extra


def __getattr__(name):
    """The pictures, loaded on first use; and `engine.<name>` for every op by name (`engine.abs`,
    or one you defined with `define_op`), looked up in the registry, never written here."""
    if name == "learn":  # the exercises (`gradwalk learn`), loaded on first use
        import importlib

        return importlib.import_module("engine.learn")
    if name in _PICTURES:
        import importlib

        value = globals()[name] = getattr(importlib.import_module(_PICTURES[name]), name)
        return value
    op = _registry.get(name)
    if op is not None and name.isidentifier():
        return op
    raise AttributeError(f"module 'engine' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_PICTURES) | {"learn"} | {name for name in _registry if name.isidentifier()})
