"""Grouped drawings of a network: a layer's neurons drawn top to bottom in numeric order, and
frames and collapsed boxes named the way nn labels parameters (L1.n3)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from engine.drawing.build import draw_dot, render
from engine.drawing.groups import natural_order, short_name

from draw_cases import SVG_NS, needs_dot


@pytest.mark.parametrize("key, short", [
    ("layers.1.neurons.3", "L1.n3"), ("layers.12", "L12"), ("encoder.layers.0.neurons.10", "encoder.L0.n10"),
    ("layers", "layers"), ("layers.x", "layers.x"), ("neurons.2.layers", "n2.layers"), ("", ""),
])
def test_short_name(key, short):
    assert short_name(key) == short


def test_natural_order_counts_numbers_as_numbers():
    keys = [f"layers.0.neurons.{j}" for j in (10, 2, 0, 15, 1)]
    assert sorted(keys, key=natural_order) == [f"layers.0.neurons.{j}" for j in (0, 1, 2, 10, 15)]


def network_loss(hidden, activation="relu"):
    nn_layers = pytest.importorskip("nn.layers")
    nn_losses = pytest.importorskip("nn.losses")
    model = nn_layers.MLP(2, hidden + [1], activation=activation, seed=0)
    loss = nn_losses.mse_loss([model([0.3, -0.2])], [1.0])
    loss.backward()
    return loss


def top_to_bottom(svg: bytes, pattern: str) -> dict:
    """Per layer, its neurons' numbers from the top of the picture down, read off the boxes whose
    bold name matches `pattern` (groups: layer, neuron)."""
    found = []
    for g in ET.fromstring(svg).iter(SVG_NS + "g"):
        if g.get("class") != "node":
            continue
        texts = [t for t in g.iter(SVG_NS + "text") if t.text and re.fullmatch(pattern, t.text)]
        if texts:
            layer, neuron = re.fullmatch(pattern, texts[0].text).groups()
            found.append((float(texts[0].get("y")), int(layer), int(neuron)))
    layers: dict = {}
    for _, layer, neuron in sorted(found):
        layers.setdefault(layer, []).append(neuron)
    return layers


# Shapes whose layers Graphviz used to shuffle (measured before the fix: [3, 5, 2] drew 2, 3, 4,
# 0, 1; [12] drew 4-11 above 0-3; [16, 16] drew 8-15 above 0-7).
SHAPES = [[3, 5, 2], [12], [16, 16], [2, 7, 3]]


@needs_dot
@pytest.mark.parametrize("hidden", SHAPES)
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_collapsed_neurons_are_drawn_in_numeric_order(hidden, activation):
    loss = network_loss(hidden, activation)
    for options in ({"collapse": "neuron", "cluster": "layer"}, {"collapse": "neuron"}):
        layers = top_to_bottom(render(draw_dot(loss, **options)), r"L(\d+)\.n(\d+)")
        assert layers == {k: list(range(width)) for k, width in enumerate(hidden + [1])}, options


@needs_dot
@pytest.mark.parametrize("hidden", SHAPES)
def test_layer_clusters_keep_numeric_order(hidden):
    loss = network_loss(hidden)
    layers = top_to_bottom(render(draw_dot(loss, cluster="layer", max_nodes=None)), r"L(\d+)\.n(\d+)\.b")
    assert layers == {k: list(range(width)) for k, width in enumerate(hidden + [1])}


def test_only_grouped_drawings_get_the_order_keeping_attribute():
    loss = network_loss([3])
    assert "mclimit" not in draw_dot(loss).source
    assert "mclimit" in draw_dot(loss, cluster="layer").source
    assert "mclimit" in draw_dot(loss, collapse="neuron").source
