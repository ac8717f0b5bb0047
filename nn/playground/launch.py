"""What every tab starts from: a model and data given from Python (checked against the page's
limits), or the page's own defaults, and the folder "save model" may write into."""

from __future__ import annotations

import math
from pathlib import Path

from nn.layers import MLP
from nn.playground.protocol import MAX_HIDDEN_LAYERS, MAX_POINTS, MAX_WIDTH, PlaygroundError


class Start:
    """What every new tab starts from: a model and data given from Python, or the defaults.

    Each tab gets its own copy, so tabs never train each other's network.
    """

    def __init__(self, model=None, X=None, y=None, save_dir=None):
        self.model = check_model(model) if model is not None else None
        if (X is None) != (y is None):
            raise ValueError("give both X and y, or neither")
        self.data = check_data(X, y) if X is not None else None
        self.save_dir = Path(save_dir).resolve() if save_dir is not None else None
        if self.save_dir is not None and not self.save_dir.is_dir():
            raise ValueError(f"save_dir {str(save_dir)!r} is not an existing folder")

    def save(self, model, name: str) -> Path:
        """Save `model` as NAME.json in the save folder (with the model's atomic `save`); returns
        the path. `name` is the protocol's checked name. Raises PlaygroundError saying why not."""
        folder = self.save_dir
        if folder is None:
            raise PlaygroundError("saving is off: start the playground with --save-dir FOLDER "
                                  "(or save_dir= in Python) to choose where models go")
        path = folder / f"{name}.json"
        if path.parent != folder:  # cannot happen with the checked name; never write elsewhere
            raise PlaygroundError("the model can only be saved inside the save folder")
        try:
            model.save(path)
        except (OSError, ValueError) as error:
            raise PlaygroundError(f"could not save {path.name}: {getattr(error, 'strerror', None) or error}") from None
        return path


def check_model(model) -> MLP:
    """`model` if the playground can show and train it: an MLP with 2 inputs and 1 output, within
    the page's limits; otherwise a ValueError saying what does not fit."""
    if not isinstance(model, MLP):
        raise ValueError(f"the playground trains an nn.MLP, not {type(model).__name__}")
    if model.nin != 2 or model.nouts[-1] != 1:
        raise ValueError(f"the playground shows 2-D points and one output: it needs MLP(2, [..., 1]), got {model!r}")
    hidden = model.nouts[:-1]
    if len(hidden) > MAX_HIDDEN_LAYERS or any(w > MAX_WIDTH for w in hidden):
        raise ValueError(f"the playground shows at most {MAX_HIDDEN_LAYERS} hidden layers of width "
                         f"{MAX_WIDTH} or less, got {model!r}")
    return model


def check_data(X, y) -> tuple[list, list]:
    """(X, y) as lists of [x0, x1] floats and 0/1 labels (-1 counts as 0), or a ValueError."""
    X, y = list(X), list(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    if not 1 <= len(X) <= MAX_POINTS:
        raise ValueError(f"the playground shows 1 to {MAX_POINTS} points, got {len(X)}")
    points = []
    for i, x in enumerate(X):
        try:
            point = [float(x[0]), float(x[1])]
            ok = len(x) == 2 and all(math.isfinite(c) for c in point)
        except (TypeError, ValueError, IndexError):
            ok = False
        if not ok:
            raise ValueError(f"X[{i}] should be two finite numbers, got {x!r:.60}")
        points.append(point)
    labels = []
    for i, t in enumerate(y):
        if isinstance(t, bool) or t not in (-1, 0, 1):
            raise ValueError(f"y[{i}] should be a class label 0 or 1 (or -1 for 0), got {t!r:.60}")
        labels.append(1 if t == 1 else 0)
    return points, labels
