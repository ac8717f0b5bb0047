"""Feature columns: the network fed x0², x1², x0·x1, sin x0, sin x1 as well as (or instead of) x0, x1."""

from __future__ import annotations

import json
import math

import pytest

from engine import Value
from nn.playground import boundary
from nn.playground.features import FEATURES, expand
from nn.playground.protocol import ProtocolError, parse_message
from nn.playground.session import Session
from playground_support import config


def test_expand_on_numbers_and_on_values():
    assert expand(FEATURES, 0.5, -2.0) == [0.5, -2.0, 0.25, 4.0, -1.0, math.sin(0.5), math.sin(-2.0)]
    x0, x1 = Value(0.5, "x0"), Value(-2.0, "x1")
    values = expand(["x1", "x0·x1", "sin x0"], x0, x1, label=True)
    assert values[0] is x1 and [v.label for v in values] == ["x1", "x0·x1", "sin x0"]
    assert [v.data for v in values] == [-2.0, -1.0, math.sin(0.5)]
    values[1].backward()
    assert (x0.grad, x1.grad) == (-2.0, 0.5)


def featured(names, dataset="circles"):
    session = Session()
    session.handle(parse_message(json.dumps({"type": "dataset", "name": dataset, "noise": 0.05, "points": 100,
                                             "seed": 1})))
    reply = session.handle(parse_message(config(hidden=[], features=names, loss="bce_with_logits", lr=0.5)))[0]
    return session, reply


def test_squares_let_a_network_without_hidden_layers_learn_circles():
    plain, _ = featured(["x0", "x1"])
    squares, state = featured(["x0²", "x1²"])
    assert state["config"]["features"] == ["x0²", "x1²"] and state["network"]["sizes"] == [2, 1]
    for _ in range(150):
        plain_frame = plain.handle({"type": "step"})[0]
        squares_frame = squares.handle({"type": "step"})[0]
    assert squares_frame["accuracy"] > 0.95 and plain_frame["accuracy"] < 0.8


def test_the_map_the_maps_and_the_scores_read_the_features():
    session, _ = featured(["x0", "x0²", "sin x1"])
    session.handle({"type": "step"})
    model = session.model
    points = [[0.3, -0.7], [1.1, 0.2]]
    expected = [model(expand(["x0", "x0²", "sin x1"], *p)).data for p in points]
    assert boundary.scores(model, points) == pytest.approx(expected, rel=1e-12)
    maps = session.handle({"type": "neuron_maps"})[0]["maps"]
    assert [len(layer) for layer in maps] == [1]


def test_the_sample_graph_computes_each_feature_from_x0_and_x1():
    session, _ = featured(["x0", "x1²", "x0·x1"])
    reply = session.handle({"type": "sample", "index": 4, "x": None})[0]
    assert {"x0", "x1", "x1²", "x0·x1", "y", "loss"} <= set(reply["names"])
    grads = {}
    for step in reply["steps"]:
        for parent, text in step["edges"]:
            grads[parent] = text
    assert grads[reply["names"].index("x1")].startswith("grad ")  # backprop reaches the point through x1²


@pytest.mark.parametrize("features, words", [([], "non-empty list"), (["x2"], "non-empty list"), ("x0", "non-empty list"),
                                             ([1], "non-empty list")])
def test_features_are_checked(features, words):
    with pytest.raises(ProtocolError, match=words):
        parse_message(config(features=features))
    assert parse_message(config(features=["sin x1", "x0", "x0"]))["features"] == ["x0", "sin x1"]
    assert parse_message(config())["features"] == ["x0", "x1"]
