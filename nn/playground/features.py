"""Feature columns: what the network is fed, computed from a point's two coordinates x0, x1.

TF Playground's set: the coordinates, their squares, their product and their sines. The same
function works on numbers (training and the maps' rows) and on Values (a traced tape, and the
Backprop view, whose graph then shows each feature computed from x0 and x1).
"""

from __future__ import annotations

import math

FEATURES = ("x0", "x1", "x0²", "x1²", "x0·x1", "sin x0", "sin x1")
PLAIN = ["x0", "x1"]  # the default: the point itself


def expand(names, x0, x1, *, label: bool = False) -> list:
    """The features `names` of the point (x0, x1), in that order. With `label`, each computed
    Value is labelled with its feature's name (x0 and x1 pass through as they are)."""
    def sin(x):
        return math.sin(x) if isinstance(x, (int, float)) else x.sin()

    make = {"x0": lambda: x0, "x1": lambda: x1, "x0²": lambda: x0 * x0, "x1²": lambda: x1 * x1,
            "x0·x1": lambda: x0 * x1, "sin x0": lambda: sin(x0), "sin x1": lambda: sin(x1)}
    values = []
    for name in names:
        value = make[name]()
        if label and name not in ("x0", "x1"):
            value.label = name
        values.append(value)
    return values
