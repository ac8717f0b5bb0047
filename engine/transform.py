"""Gradients as functions, as in JAX: `grad(f)` is the function that returns f's gradient, and it
nests, so `grad(grad(f))` is f''.
"""

from __future__ import annotations

from engine.core.graph import gradients
from engine.core.real import as_float as _as_float
from engine.core.value import Value


def _scalar(out) -> float:
    return out.data if isinstance(out, Value) else _as_float(out, "f's result")


def value_and_grad(f, argnums=0):
    """Turn scalar `f` (Values in, Value out) into a function that returns `(f(*args), gradient)`.

    The gradient is a float for an int `argnums`, a tuple for a tuple. Called with plain numbers
    it returns plain numbers. Called with Values -- as an outer `grad` does -- it returns Values
    that remember how they were computed, so `grad` nests: `grad(grad(f))` is f''.

        >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
        (12.0, (4.0, 3.0))
    """
    single = isinstance(argnums, int)
    wanted = (argnums,) if single else tuple(argnums)
    name = getattr(f, "__name__", "f")

    def wrapped(*args):
        for i in wanted:
            if not isinstance(i, int) or not -len(args) <= i < len(args):
                raise IndexError(f"argnums {i!r} is out of range for {len(args)} arguments")
        nested = any(isinstance(args[i], Value) for i in wanted)
        leaves = [a if isinstance(a, Value) else Value(_as_float(a, f"{name}'s argument {k}"), f"x{k}")
                  for k, a in enumerate(args)]
        out = f(*leaves)
        targets = [leaves[i] for i in wanted]
        if not isinstance(out, Value):
            value, grads = _scalar(out), [Value(0.0) if nested else 0.0 for _ in targets]
        elif nested:
            value, grads = out, gradients(out, targets, create_graph=True)
        else:
            value, grads = out.data, gradients(out, targets)
        return value, grads[0] if single else tuple(grads)

    wrapped.__name__ = f"value_and_grad({name})"
    wrapped.__doc__ = f"Value and gradient of {name} (argnums={argnums})."
    return wrapped


def grad(f, argnums=0):
    """Like `value_and_grad`, but the new function returns the gradient only. It nests:

        >>> grad(lambda x: x ** 3)(2.0)
        12.0
        >>> grad(grad(lambda x: x ** 3))(2.0)
        12.0
        >>> grad(grad(grad(lambda x: x ** 3)))(2.0)
        6.0
    """
    both = value_and_grad(f, argnums)
    name = getattr(f, "__name__", "f")

    def wrapped(*args):
        return both(*args)[1]

    wrapped.__name__ = f"grad({name})"
    wrapped.__doc__ = f"Gradient of {name} (argnums={argnums})."
    return wrapped
