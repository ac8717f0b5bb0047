"""Exercises 1 and 2: local derivatives of ops, and the numerical gradient by central differences.

Exercise 1 is checked against finite differences of the op table's own forward functions;
exercise 2 against the engine's backprop (`gradients`) on random expressions from `engine.testing`.
"""

from __future__ import annotations

import math

from engine.core.graph import gradients
from engine.core.value import Value, registry
from engine.learn.verdict import WrongAnswer, call, close, needs, number, search, show

LOCAL_STUB = '''"""Exercise 1: local derivatives.

Each op knows only its own derivative: how its output changes with one input, the others held
still. Write each one as a function of plain floats (use the math module).

Check it with:  gradwalk learn check 1
"""

import math


def d_tanh(x):
    """d tanh(x) / dx"""
    raise NotImplementedError("exercise 1: write d_tanh")


def d_exp(x):
    """d exp(x) / dx"""
    raise NotImplementedError("exercise 1: write d_exp")


def d_log(x):
    """d log(x) / dx, for x > 0"""
    raise NotImplementedError("exercise 1: write d_log")


def d_pow_base(a, b):
    """d (a ** b) / da: the exponent b held still"""
    raise NotImplementedError("exercise 1: write d_pow_base")


def d_pow_exponent(a, b):
    """d (a ** b) / db: the base a (> 0) held still"""
    raise NotImplementedError("exercise 1: write d_pow_exponent")


def d_relu(x):
    """d relu(x) / dx, where relu(x) = max(x, 0) (never asked at x = 0)"""
    raise NotImplementedError("exercise 1: write d_relu")
'''

LOCAL_SOLUTION = '''"""Exercise 1: local derivatives (a reference solution)."""

import math


def d_tanh(x):
    return 1 - math.tanh(x) ** 2


def d_exp(x):
    return math.exp(x)


def d_log(x):
    return 1 / x


def d_pow_base(a, b):
    return b * a ** (b - 1)


def d_pow_exponent(a, b):
    return a ** b * math.log(a)


def d_relu(x):
    return 1.0 if x > 0 else 0.0
'''

# name -> (the op in the table, which operand varies, fixed points, the text of the variable)
_LOCAL = {
    "d_tanh": ("tanh", 0, [(0.5,), (-1.2,), (2.0,)], "d tanh/dx"),
    "d_exp": ("exp", 0, [(0.0,), (1.5,), (-2.0,)], "d exp/dx"),
    "d_log": ("log", 0, [(0.5,), (3.0,)], "d log/dx"),
    "d_pow_base": ("**", 0, [(2.0, 3.0), (1.5, 0.5), (3.0, -1.0)], "d (a**b)/da"),
    "d_pow_exponent": ("**", 1, [(2.0, 3.0), (1.5, 0.5), (3.0, -1.0)], "d (a**b)/db"),
    "d_relu": ("relu", 0, [(1.5,), (-0.7,)], "d relu/dx"),
}


def _finite_difference(op_name: str, args: tuple, k: int, h: float = 1e-6) -> float:
    forward = registry[op_name].forward
    up, down = list(args), list(args)
    up[k] += h
    down[k] -= h
    return (forward(*up) - forward(*down)) / (2 * h)


def _at(args: tuple) -> str:
    return "x = " + show(args[0]) if len(args) == 1 else f"a = {show(args[0])}, b = {show(args[1])}"


def _check_local(name: str, learner, args: tuple) -> None:
    op_name, k, _, text = _LOCAL[name]
    got = number(f"your {name}({', '.join(map(show, args))})", call(f"your {name}", learner, *args))
    want = _finite_difference(op_name, args, k)
    if not close(got, want, rel=1e-4, abs_=1e-5):
        formula = registry[op_name].formula
        tip = f"the op table writes the local derivatives of {op_name} as {formula} (out is the op's result)"
        raise WrongAnswer(f"your {text} at {_at(args)} is {show(got)}; finite differences give {show(want)}", tip)


def check_local_derivatives(names: dict, thorough: bool) -> str:
    learners = dict(zip(_LOCAL, needs(names, *_LOCAL)))
    for name, (_, _, points, _) in _LOCAL.items():
        for args in points:
            _check_local(name, learners[name], args)
    if thorough:
        from hypothesis import strategies as st

        x = st.floats(-3.0, 3.0)
        positive = st.floats(0.2, 4.0)
        cases = {"d_tanh": st.tuples(x), "d_exp": st.tuples(x), "d_log": st.tuples(positive),
                 "d_pow_base": st.tuples(positive, st.floats(-2.0, 3.0)),
                 "d_pow_exponent": st.tuples(positive, st.floats(-2.0, 3.0)),
                 "d_relu": st.tuples(x.filter(lambda v: abs(v) > 1e-3))}
        for name, strategy in cases.items():
            search(strategy, lambda args, name=name: _check_local(name, learners[name], args), examples=40)
    return "every local derivative agrees with finite differences of the op, at every point tried"


NUMERIC_STUB = '''"""Exercise 2: the numerical gradient by central differences.

The slope of f at x, estimated from two nearby values:

    df/dx ~ (f(x + h) - f(x - h)) / (2 h)

Write central_difference(f, x, h) for f a function of one float, then numerical_gradient(f, xs, h)
for f a function of a list of floats: the list of df/dxs[i], one per input. Leave xs unchanged.

Check it with:  gradwalk learn check 2
"""


def central_difference(f, x, h=1e-6):
    raise NotImplementedError("exercise 2: write central_difference")


def numerical_gradient(f, xs, h=1e-6):
    raise NotImplementedError("exercise 2: write numerical_gradient")
'''

NUMERIC_SOLUTION = '''"""Exercise 2: the numerical gradient (a reference solution)."""


def central_difference(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f, xs, h=1e-6):
    grads = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        grads.append((f(up) - f(down)) / (2 * h))
    return grads
'''


def _cube(x: float) -> float:
    return x ** 3


def check_central_differences(names: dict, thorough: bool) -> str:
    central, gradient = needs(names, "central_difference", "numerical_gradient")
    for x, h in ((2.0, 0.1), (-1.0, 0.5), (0.5, 1e-3)):
        got = number("your central_difference", call("your central_difference", central, _cube, x, h))
        want = (_cube(x + h) - _cube(x - h)) / (2 * h)
        if not close(got, want, rel=1e-9, abs_=1e-9):
            forward = (_cube(x + h) - _cube(x)) / h
            tip = ("that is the one-sided difference (f(x+h) - f(x)) / h; step both ways" if close(got, forward)
                   else "divide by the distance between the two points, 2h")
            raise WrongAnswer(f"your central_difference(f, {show(x)}, h={h:g}) for f(x) = x**3 is {show(got)}; "
                              f"(f(x+h) - f(x-h)) / 2h is {show(want)}", tip)
    _check_gradient(gradient, _fixed_expression(), (0.5, -1.5))
    if thorough:
        from engine.testing import expression_cases

        search(expression_cases(), lambda case: _check_gradient(gradient, case.expression, case.inputs), examples=40)
    return "your central differences agree with backprop on every function tried"


def _fixed_expression():
    def f(x0, x1):
        return (x0 * x1).tanh() + x0 ** 2

    f.text = "tanh(x0*x1) + x0**2"
    return f


def _check_gradient(gradient, expression, inputs) -> None:
    leaves = [Value(x) for x in inputs]
    want = gradients(expression(*leaves), leaves)
    xs = list(inputs)
    got = call("your numerical_gradient", gradient, lambda values: expression(*map(Value, values)).data, xs, 1e-6)
    text = getattr(expression, "text", None) or str(expression)
    at = ", ".join(f"x{k} = {show(x)}" for k, x in enumerate(inputs))
    if xs != list(inputs):
        raise WrongAnswer(f"your numerical_gradient changed its xs from [{at}] to {xs}: nudge a copy, or put each "
                          "value back")
    try:
        got = [number("your numerical_gradient's entries", g) for g in got]
    except TypeError:
        raise WrongAnswer(f"your numerical_gradient returned {type(got).__name__}, not a list of numbers") from None
    if len(got) != len(want):
        raise WrongAnswer(f"your numerical_gradient gives {len(got)} numbers for f({text}) of {len(want)} inputs")
    for k, (g, w) in enumerate(zip(got, want)):
        if not (math.isfinite(g) and close(g, w, rel=1e-3, abs_=1e-4)):
            raise WrongAnswer(f"your numerical_gradient gives df/dx{k} = {show(g)} for f = {text} at {at}; "
                              f"backprop gives {show(w)}", "nudge one input at a time, the others held still")
