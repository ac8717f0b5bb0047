"""The model evaluated over a grid of the plane: the decision-boundary map and each neuron's map.

Every pixel is a forward pass, and the page wants a fresh map many times a second. With numpy,
the model is recorded once as a tape (`engine.trace`: every neuron's output, layer by layer) and
the whole grid is replayed through it at once; the tape reads the parameters' current values on
every replay, so it is recorded again only for a new model. Without numpy the grid goes through
the engine point by point under `no_grad`, coarser. `layer_outputs` is the one place that chooses.
"""

from __future__ import annotations

import math
import weakref

from engine import Value, no_grad, trace
from nn.playground import features

try:
    import numpy
except ImportError:  # numpy is optional (the `playground` extra installs it)
    numpy = None

GRID = 64 if numpy is not None else 24
"""Pixels per side of the boundary map."""

NEURON_GRID = 32 if numpy is not None else 16
"""Pixels per side of a single neuron's map (shown while hovering it)."""

THUMBNAIL_GRID = 16 if numpy is not None else 8
"""Pixels per side of each neuron's thumbnail (all of them at once, beside the network)."""

SHADES = 100
"""Maps are sent as ints in [-SHADES, SHADES]: the sign says which class, the size how sure."""


def grid_points(bounds, size: int):
    """size x size points covering bounds = (xmin, xmax, ymin, ymax), row by row from the top
    (largest y) down, each row from left to right: the order of an image's pixels. A numpy
    array of shape (size*size, 2) when numpy is installed, else a list of [x, y] lists."""
    xmin, xmax, ymin, ymax = bounds
    xs = [xmin + (xmax - xmin) * (i + 0.5) / size for i in range(size)]
    ys = [ymax - (ymax - ymin) * (j + 0.5) / size for j in range(size)]
    if numpy is not None:
        gx, gy = numpy.meshgrid(xs, ys)
        return numpy.column_stack([gx.ravel(), gy.ravel()])
    return [[x, y] for y in ys for x in xs]


def layer_outputs(model, points) -> list:
    """Every layer's outputs for every point: one entry per layer, each with one row per point
    of the layer's neuron outputs (numpy arrays when numpy is installed, else lists)."""
    if numpy is not None:
        return _layer_outputs_numpy(model, points)
    return _layer_outputs_engine(model, points)


_TAPES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # model -> its recorded tape
_FEATURES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # model -> the features it reads


def use_features(model, names) -> None:
    """From now on, `model` is fed the feature columns `names` of each point (see `features`)."""
    if _FEATURES.get(model, features.PLAIN) != list(names):
        _FEATURES[model] = list(names)
        _TAPES.pop(model, None)


def _inputs(model, x0, x1) -> list:
    return features.expand(_FEATURES.get(model, features.PLAIN), x0, x1)


def _layer_outputs_numpy(model, points) -> list:
    tape = _TAPES.get(model)
    if tape is None:
        tape = _TAPES[model] = trace(lambda x0, x1: _every_neuron(model, _inputs(model, x0, x1)), 0.0, 0.0)
    # grouped=False: one numpy array per node, elementwise. The grouped replay multiplies
    # matrices with a multithreaded BLAS whose threads keep spinning afterwards; on a 2-core
    # machine that halved the speed of the training steps running between two maps (measured:
    # 55 ms a step instead of 22, with a 10 ms map instead of 6).
    outputs = tape.replay(points, grouped=False).outputs  # one row per point, one column per neuron
    layers, start = [], 0
    for layer in model.layers:
        width = len(layer.neurons)
        layers.append(outputs[:, start:start + width])
        start += width
    return layers


def _every_neuron(model, x) -> list:
    """Every neuron's output, layer after layer: what the tape records."""
    outputs = []
    for layer in model.layers:
        x = layer(x)
        outputs.extend(x)
    return outputs


def _layer_outputs_engine(model, points) -> list:
    outputs = [[] for _ in model.layers]
    with no_grad():
        for point in points:
            a = [Value(c) for c in _inputs(model, *point)]
            for k, layer in enumerate(model.layers):
                a = layer(a)
                outputs[k].append([v.data for v in a])
    return outputs


def scores(model, points) -> list[float]:
    """The model's single output for each point."""
    if len(points) == 0:
        return []
    return [float(row[0]) for row in layer_outputs(model, points)[-1]]


def boundary_map(model, bounds, threshold: float, scale: float, size: int = GRID) -> list[int]:
    """The decision map: per pixel, tanh(scale * (output - threshold)) as an int shade.

    Positive shades are class 1, negative class 0; the boundary is where the shade changes sign.
    """
    out = layer_outputs(model, grid_points(bounds, size))[-1]
    if numpy is not None:
        return _shades(numpy.tanh(scale * (out[:, 0] - threshold)))
    return _shades([math.tanh(scale * (row[0] - threshold)) for row in out])


def neuron_map(model, layer: int, neuron: int, bounds, size: int = NEURON_GRID) -> list[int]:
    """One neuron's output over the plane, scaled so its largest magnitude is a full shade
    (sigmoid outputs are centred on 1/2 first, so its 0.5 is white)."""
    out = layer_outputs(model, grid_points(bounds, size))[layer]
    return _neuron_shades([float(row[neuron]) for row in out], model.layers[layer].activation)


def every_neuron_map(model, bounds, size: int = THUMBNAIL_GRID) -> list:
    """Every neuron's map (as `neuron_map` makes it), from one pass over the grid: one list per
    layer, one map per neuron."""
    outputs = layer_outputs(model, grid_points(bounds, size))
    return [[_neuron_shades([float(row[j]) for row in out], layer.activation) for j in range(len(layer.neurons))]
            for layer, out in zip(model.layers, outputs)]


def _neuron_shades(values, activation: str) -> list[int]:
    if activation == "sigmoid":
        values = [2.0 * v - 1.0 for v in values]
    largest = max((abs(v) for v in values), default=0.0)
    if largest == 0.0 or not math.isfinite(largest):
        return [0] * len(values)
    return _shades([v / largest for v in values])


def _shades(values) -> list[int]:
    """Values in [-1, 1] as ints in [-SHADES, SHADES]; NaN becomes 0 (no colour rather than a wrong one)."""
    if numpy is not None:
        v = numpy.nan_to_num(numpy.asarray(values, dtype=float), nan=0.0)
        return numpy.clip(numpy.rint(v * SHADES), -SHADES, SHADES).astype(int).tolist()
    return [0 if v != v else max(-SHADES, min(SHADES, round(v * SHADES))) for v in values]
