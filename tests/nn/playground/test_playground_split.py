"""Train/test split: which points are held out, what the network trains on, and the test figures."""

from __future__ import annotations

import copy
import json

import pytest

from nn import losses
from nn.playground import adapters, choices, metrics
from nn.playground.protocol import ProtocolError, parse_message
from nn.playground.session import Session


def test_split_is_seeded_stable_and_keeps_a_training_point():
    train, test = metrics.split(200, 0.5, seed=3)
    assert sorted(train + test) == list(range(200)) and 70 < len(test) < 130
    assert metrics.split(200, 0.5, seed=3) == (train, test) and metrics.split(200, 0.5, seed=4) != (train, test)
    more_train, more_test = metrics.split(201, 0.5, seed=3)  # one point more moves no other
    assert set(test) <= set(more_test) and set(train) <= set(more_train)
    assert metrics.split(50, 0.0, seed=1) == (list(range(50)), [])
    assert metrics.split(3, 0.9999, seed=1)[0] != [] and metrics.split(0, 0.5, seed=1) == ([], [])


def held_out_session(ratio=0.5):
    session = Session()
    session.handle(parse_message(json.dumps({"type": "dataset", "name": "moons", "noise": 0.1, "points": 100,
                                             "seed": 1, "test_ratio": ratio})))
    return session


def test_the_network_trains_on_the_training_points_only():
    session = held_out_session()
    assert session.test and len(session.train) + len(session.test) == 100
    twin = copy.deepcopy(session.model)
    optimizer = choices.optimizer(session.config, twin.parameters())
    reply = session.handle({"type": "step"})[0]
    X = [session.X[i] for i in session.train]
    targets = [session._targets[i] for i in session.train]
    expected = adapters.train_step(twin, X, targets, session._loss_fn, optimizer, session.config["l2"])
    assert reply["loss"] == pytest.approx(expected, rel=1e-12)
    assert [p.data for p in session.model.parameters()] == pytest.approx([p.data for p in twin.parameters()])


def test_test_loss_and_accuracy_are_the_held_out_points():
    session = held_out_session()
    for _ in range(5):
        reply = session.handle({"type": "step"})[0]
    model, test = session.model, session.test
    outputs = [model(session.X[i]) for i in test]
    expected = losses.resolve_loss("hinge")(outputs, [session._targets[i] for i in test]).data
    assert reply["test_loss"] == pytest.approx(expected, rel=1e-12)
    right = lambda ids: sum((model(session.X[i]).data > 0) == (session.y[i] == 1) for i in ids) / len(ids)
    assert reply["test_accuracy"] == pytest.approx(right(test)) and reply["accuracy"] == pytest.approx(right(session.train))
    assert session.history[-1][3:] == [reply["test_loss"], reply["test_accuracy"]]
    assert session.state()["test"] == test


def test_no_test_data_no_test_figures():
    session = Session()
    reply = session.handle({"type": "step"})[0]
    assert reply["test_loss"] is None and reply["test_accuracy"] is None and session.state()["test"] == []


@pytest.mark.parametrize("ratio, words", [(0.95, r"test_ratio must lie in \[0, 0.9\], got 0.95"),
                                          ("half", "test_ratio must be a number")])
def test_the_ratio_is_checked(ratio, words):
    with pytest.raises(ProtocolError, match=words):
        parse_message(json.dumps({"type": "dataset", "name": "moons", "noise": 0.1, "points": 100, "seed": 1,
                                  "test_ratio": ratio}))


def test_every_neuron_map_is_each_neuron_map_at_once():
    from nn.playground import boundary

    session = Session()
    session.handle({"type": "step"})
    reply = session.handle({"type": "neuron_maps"})[0]
    assert reply["type"] == "neuron_maps" and reply["version"] == session.version
    assert [len(layer) for layer in reply["maps"]] == [16, 16, 1]
    for l, layer in enumerate(reply["maps"]):
        for j, values in enumerate(layer):
            assert values == boundary.neuron_map(session.model, l, j, session.bounds, reply["size"])
    assert any(max(map(abs, values)) == boundary.SHADES for values in reply["maps"][0])
