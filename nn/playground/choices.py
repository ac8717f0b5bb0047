"""The choices a tab's settings stand for: datasets, optimizers, losses and their targets, the
view around the points. Plain functions of the settings, used by `Session`."""

from __future__ import annotations

import math
import random

from nn import losses as _losses
from nn.datasets import make_blobs, make_circles, make_moons, make_spiral, make_xor
from nn.optim import SGD, Adam, RMSprop
from nn.playground import features
from nn.playground.protocol import LOSSES

GENERATORS = {"moons": make_moons, "circles": make_circles, "xor": make_xor, "spiral": make_spiral,
              "blobs": make_blobs}

REGRESSION = ("plane", "gauss")
"""Data sets whose labels are numbers to fit (with mse), not classes."""


def generate(dataset) -> tuple[list, list]:
    if dataset["name"] in REGRESSION:
        return _regression(dataset)
    X, y = GENERATORS[dataset["name"]](dataset["points"], noise=dataset["noise"], seed=dataset["seed"])
    return [list(p) for p in X], [int(t) for t in y]


def _regression(dataset) -> tuple[list, list]:
    """Points spread evenly at random over [-1.5, 1.5]², each labelled with a number in about
    [-1, 1] plus Gaussian noise of sd noise/4: `plane` is (x0 + x1)/3, `gauss` a bump of +1 at
    (0.6, 0.6) and one of -1 at (-0.6, -0.6)."""
    rng = random.Random(dataset["seed"])
    X = [[rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5)] for _ in range(dataset["points"])]
    if dataset["name"] == "plane":
        value = lambda x0, x1: (x0 + x1) / 3
    else:
        value = lambda x0, x1: (math.exp(-((x0 - 0.6) ** 2 + (x1 - 0.6) ** 2) / 0.5)
                                - math.exp(-((x0 + 0.6) ** 2 + (x1 + 0.6) ** 2) / 0.5))
    return X, [value(*p) + rng.gauss(0.0, dataset["noise"] / 4) for p in X]


def bounds(X) -> list[float]:
    """A square view around the points with a margin (the unit square around 0 when empty)."""
    if not X:
        return [-1.5, 1.5, -1.5, 1.5]
    xs, ys = [p[0] for p in X], [p[1] for p in X]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    half = max(max(xs) - min(xs), max(ys) - min(ys), 0.5) / 2 * 1.15 + 0.25
    return [cx - half, cx + half, cy - half, cy + half]


def architecture(config) -> tuple:
    return (tuple(config["hidden"]), config["activation"], config["loss"] == "bce", tuple(config["features"]))


def architecture_of(model) -> tuple:
    """A launch model reads the point itself: it has 2 inputs."""
    return (tuple(model.nouts[:-1]), model.activation, model.output_activation == "sigmoid", tuple(features.PLAIN))


def optimizer(config, params):
    name, lr = config["optimizer"], config["lr"]
    if name == "sgd":
        return SGD(params, lr=lr)
    if name == "momentum":
        return SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return Adam(params, lr=lr)
    return RMSprop(params, lr=lr)


def loss_function(name):
    """The loss a page's choice names (the protocol has checked it is one of its LOSSES)."""
    assert name in LOSSES
    return _losses.resolve_loss(name)


def targets(loss: str, y) -> list:
    """Labels in the loss's own convention: hinge wants -1/+1, the others 0/1."""
    return [(1 if t == 1 else -1) for t in y] if loss == "hinge" else list(y)


def network_picture(model) -> dict:
    """The network as the page draws it: its sizes, activations, and every weight and bias."""
    return {"sizes": [model.nin] + list(model.nouts),
            "activation": model.activation,
            "output_activation": model.output_activation,
            "layers": [{"w": [[round(w.data, 6) for w in n.w] for n in layer.neurons],
                        "b": [round(n.b.data, 6) for n in layer.neurons]} for layer in model.layers]}
