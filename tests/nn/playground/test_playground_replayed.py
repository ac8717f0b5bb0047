"""The playground trains through a replayed tape when numpy is installed: the same steps as node
by node (to rounding), the weights shared with every view, the tape recorded again when what it
holds changes, and the node-by-node step without numpy or for "bce"."""

from __future__ import annotations

import copy

import pytest

pytest.importorskip("numpy")

from nn.playground import adapters, choices, replayed  # noqa: E402
from nn.playground.session import Session  # noqa: E402


def weights(model) -> list[float]:
    return [p.data for p in model.parameters()]


def node_twin(session):
    """A copy of the session's model and optimizer, to train node by node beside it."""
    twin = copy.deepcopy(session.model)
    return twin, choices.optimizer(session.config, twin.parameters())


def node_step(session, twin, optimizer):
    return adapters.train_step(twin, session.X, session._targets, session._loss_fn, optimizer, session.config["l2"])


@pytest.mark.parametrize("loss", ["hinge", "mse", "bce_with_logits"])
def test_steps_through_the_tape_are_the_node_by_node_steps(loss):
    session = Session()
    session.handle({"type": "config", "hidden": [6, 5], "activation": "relu", "loss": loss, "optimizer": "momentum",
                    "lr": 0.05, "batch_size": None, "l2": 0.001, "seed": 0})
    twin, optimizer = node_twin(session)
    for _ in range(5):
        assert session._step() == pytest.approx(node_step(session, twin, optimizer), rel=1e-12)
    assert session._replayed._taped is not None  # it went through the tape
    assert weights(session.model) == pytest.approx(weights(twin), rel=1e-10, abs=1e-13)


def test_an_edited_weight_and_a_new_point_are_in_the_next_step():
    session = Session()
    session._step()
    taped = session._replayed._taped
    session.handle({"type": "set_param", "name": "layers.0.neurons.0.b", "value": 0.75})
    twin, optimizer = node_twin(session)
    assert session._step() == pytest.approx(node_step(session, twin, optimizer), rel=1e-12)
    assert session._replayed._taped is taped  # the same tape: it reads the weights at every replay
    session.handle({"type": "add_point", "x": 0.1, "y": 0.2, "label": 1})
    twin, optimizer = node_twin(session)
    assert session._step() == pytest.approx(node_step(session, twin, optimizer), rel=1e-12)
    assert session._replayed._taped is not taped and len(session._replayed._taped.batch) == len(session.X)


def test_minibatches_go_through_the_tape_too():
    session = Session()
    session.handle(dict(session.config, type="config", batch_size=10))
    twin, optimizer = node_twin(session)
    batch = session._next_batch()
    loss = session._replayed.step(session, batch)
    expected = adapters.train_step(twin, [session.X[i] for i in batch], [session._targets[i] for i in batch],
                                   session._loss_fn, optimizer, session.config["l2"])
    assert loss == pytest.approx(expected, rel=1e-12)
    assert weights(session.model) == pytest.approx(weights(twin), rel=1e-10, abs=1e-13)


def test_without_numpy_and_for_bce_the_step_is_node_by_node(monkeypatch):
    session = Session()
    session.handle(dict(session.config, type="config", loss="bce"))
    before = weights(session.model)
    session._step()
    assert session._replayed._taped is None and weights(session.model) != before
    session.handle(dict(session.config, type="config", loss="hinge"))
    monkeypatch.setattr(replayed, "numpy", None)
    before = weights(session.model)
    session._step()
    assert session._replayed._taped is None and weights(session.model) != before


def test_feature_columns_go_through_the_tape_and_l1_takes_the_node_path():
    from nn.playground import features

    session = Session()
    session.handle(dict(session.config, type="config", features=["x0", "x1", "x0²", "sin x1"]))
    twin, optimizer = node_twin(session)
    X = [features.expand(session.config["features"], *point) for point in session.X]
    for _ in range(3):
        node = adapters.train_step(twin, X, session._targets, session._loss_fn, optimizer, session.config["l2"])
        assert session._step() == pytest.approx(node, rel=1e-12)
    assert session._replayed._taped is not None and session.model.nin == 4  # the tape holds the features
    assert weights(session.model) == pytest.approx(weights(twin), rel=1e-10, abs=1e-13)
    session.handle(dict(session.config, type="config", l1=0.01))
    session._step()
    assert session._replayed.step(session, list(range(len(session.X)))) is None  # L1 is not on the tape
