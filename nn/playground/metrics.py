"""How the model does, point by point: each point's loss as a plain number, which points are held
out for testing, and the accuracy and loss a frame reports. Plain functions, used by `Session`
and by the Backprop view's choice of a sample."""

from __future__ import annotations

import math
import random

from nn.playground import boundary, choices

BCE_EPS = 1e-7  # nn.losses.binary_cross_entropy's default clamp


def decision(loss: str, regression: bool = False) -> tuple[float, float]:
    """The output value at the boundary, and how sharply the map shades away from it: raw
    scores (hinge, logits) are read at 0, outputs near the 0/1 labels (mse, a sigmoid) at 1/2.
    A regression's map shows the output itself, its sign as the colour."""
    if regression:
        return 0.0, 1.5
    if loss in ("mse", "bce"):
        return 0.5, 4.0
    return 0.0, 1.0


def point_losses(loss: str, scores, targets) -> list[float]:
    """Each point's loss (nn's formulas for one sample, in floats) from the model's outputs."""
    if loss == "hinge":
        return [max(0.0, 1.0 - t * s) for s, t in zip(scores, targets)]
    if loss == "mse":
        return [(s - t) ** 2 for s, t in zip(scores, targets)]
    if loss == "bce_with_logits":
        return [max(s, 0.0) + math.log1p(math.exp(-abs(s))) - t * s for s, t in zip(scores, targets)]
    clamped = [min(max(p, BCE_EPS), 1.0 - BCE_EPS) for p in scores]
    return [-math.log(p) if t else -math.log(1.0 - p) for p, t in zip(clamped, targets)]


def split(n: int, ratio: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, test): the indices of n points, each held out for testing with probability
    `ratio` (drawn from `seed` and the point's index, so adding a point moves no other). At
    least one point is kept for training."""
    test = [i for i in range(n) if random.Random(seed * 1_000_003 + i).random() < ratio]
    if n and len(test) == n:
        test = test[1:]
    held = set(test)
    return [i for i in range(n) if i not in held], test


def measure(session) -> tuple:
    """(training accuracy, test loss, test accuracy) of the session's model; None where there
    are no such points, or when the outputs overflow. The test loss has no weight penalty."""
    if not session.X:
        return None, None, None
    try:
        scores = boundary.scores(session.model, session.X)
    except (ValueError, ArithmeticError):  # outputs overflow: no class can be read off
        return None, None, None
    regression = session.dataset["name"] in choices.REGRESSION  # no classes: no accuracy
    threshold = decision(session.config["loss"])[0]
    right = [(s > threshold) == (t == 1) for s, t in zip(scores, session.y)]
    accuracy = None if regression else sum(right[i] for i in session.train) / len(session.train)
    if not session.test:
        return accuracy, None, None
    losses = point_losses(session.config["loss"], [scores[i] for i in session.test],
                          [session._targets[i] for i in session.test])
    test_accuracy = None if regression else sum(right[i] for i in session.test) / len(session.test)
    return accuracy, sum(losses) / len(losses), test_accuracy
