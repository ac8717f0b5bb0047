"""Regression data sets (plane, Gaussian bumps), fitted with mse: no classes, no accuracy."""

from __future__ import annotations

import json

import pytest

from nn.playground import choices
from nn.playground.protocol import parse_message
from nn.playground.session import Session
from playground_support import config


def regression(name="plane", **fields):
    session = Session()
    reply = session.handle(parse_message(json.dumps(dict({"type": "dataset", "name": name, "noise": 0.0,
                                                          "points": 80, "seed": 2}, **fields))))[0]
    return session, reply


@pytest.mark.parametrize("name", ["plane", "gauss"])
def test_the_data_are_numbers_in_the_square_seeded(name):
    X, y = choices.generate({"name": name, "noise": 0.0, "points": 200, "seed": 5})
    assert len(X) == len(y) == 200 and all(-1.5 <= c <= 1.5 for p in X for c in p)
    assert all(-1.01 <= t <= 1.01 for t in y) and len({round(t, 6) for t in y}) > 150  # numbers, not classes
    assert choices.generate({"name": name, "noise": 0.0, "points": 200, "seed": 5}) == (X, y)
    noisy = choices.generate({"name": name, "noise": 0.4, "points": 200, "seed": 5})[1]
    assert noisy != y and max(abs(a - b) for a, b in zip(noisy, y)) < 0.6
    if name == "plane":
        assert all(t == pytest.approx((p[0] + p[1]) / 3) for p, t in zip(X, y))


def test_a_regression_trains_with_mse_and_has_no_accuracy():
    session, state = regression()
    assert state["regression"] is True and state["config"]["loss"] == "mse" and state["accuracy"] is None
    first = session.handle({"type": "step"})[0]
    for _ in range(40):
        last = session.handle({"type": "step"})[0]
    assert last["loss"] < first["loss"] / 2 and last["accuracy"] is None
    # The map shows the output's sign: where the plane is positive (top right) the map is too.
    shades = last["boundary"]["values"]
    assert shades[boundary_size(last) - 1] > 0 > shades[-boundary_size(last)]


def boundary_size(frame):
    return frame["boundary"]["size"]


def test_a_regression_refuses_a_classification_loss_and_class_points():
    session, _ = regression("gauss")
    refused = session.handle(parse_message(config(loss="hinge")))[0]
    assert refused["type"] == "error" and "fitted with mse" in refused["message"] and session.config["loss"] == "mse"
    xmin, xmax, ymin, ymax = session.bounds
    added = session.handle({"type": "add_point", "x": 0.0, "y": 0.0, "label": 1})[0]
    assert added["type"] == "error" and "regression" in added["message"] and len(session.X) == 80
    assert session.handle(parse_message(config(loss="mse")))[0]["type"] == "state"


def test_test_loss_of_a_regression_with_held_out_points():
    session, state = regression(test_ratio=0.3)
    reply = session.handle({"type": "step"})[0]
    assert state["test"] and reply["test_loss"] > 0 and reply["test_accuracy"] is None
    sample = session.handle({"type": "sample", "index": None, "x": None})[0]
    assert sample["label"] == session.y[sample["index"]] and sample["loss_name"] == "mse"
