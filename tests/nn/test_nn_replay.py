"""nn.replay: training through a tape gives the parameters training node by node gives."""

from __future__ import annotations

import math
import sys

import pytest

from engine import sum_values
from nn import MLP, SGD, Adam, TrainingDivergedError, cross_entropy, fit, hinge_loss, l2_penalty, make_moons
from nn.optim import NonFiniteGradientError
from nn.replay import TapedModel

np = pytest.importorskip("numpy")


def train(model, X, y, loss, optimizer, steps, taped=None, l2=0.0):
    """`steps` full-batch steps: node by node, or through `taped` when given."""
    params = model.parameters()
    for _ in range(steps):
        outputs = taped.forward(X) if taped else [model(x) for x in X]
        total = loss(outputs, y)
        if l2:
            total = total + l2_penalty(params, l2)
        optimizer.zero_grad()
        total.backward()
        if taped:
            taped.backward()
        optimizer.step()
    return [p.data for p in params]


def max_relative_difference(a, b):
    return max(abs(x - y) / max(abs(x), abs(y), 1e-300) for x, y in zip(a, b))


def moons_run(steps, replay, grouped=True, n=100):
    X, y = make_moons(n, noise=0.1, seed=0)
    labels = [2 * t - 1 for t in y]
    model = MLP(2, [16, 16, 1], seed=3)
    taped = TapedModel(model, X[0], grouped=grouped) if replay else None
    return train(model, X, labels, hinge_loss, SGD(model.parameters(), lr=0.1), steps, taped, l2=1e-4)


def test_a_few_replayed_steps_give_the_node_by_node_parameters():
    node = moons_run(5, replay=False, n=40)
    assert max_relative_difference(node, moons_run(5, replay=True, n=40)) < 1e-12
    assert max_relative_difference(node, moons_run(5, replay=True, grouped=False, n=40)) < 1e-12


@pytest.mark.slow
def test_fit_with_replay_gives_the_node_by_node_parameters_after_100_steps():
    # MLP 2-16-16-1 on 100 moons points, hinge + L2, SGD: 100 full-batch steps each way.
    X, y = make_moons(100, noise=0.1, seed=0)
    results = []
    for replay in (False, True):
        model = MLP(2, [16, 16, 1], seed=3)
        history = fit(model, X, y, loss="hinge", l2=1e-4, optimizer=SGD(model.parameters(), lr=0.1), epochs=100,
                      progress=False, replay=replay)
        results.append(([p.data for p in model.parameters()], history))
    (node, node_history), (replayed, replay_history) = results
    assert max_relative_difference(node, replayed) < 1e-9
    assert max_relative_difference(node_history.loss, replay_history.loss) < 1e-9
    assert node_history.accuracy == replay_history.accuracy and replay_history.steps == 100


def test_fit_with_replay_trains_minibatches_with_any_loss_and_optimizer():
    X = [[0.2, -0.4, 1.0], [1.5, 0.3, -0.7], [-1.0, 0.8, 0.1], [0.0, -0.2, 0.4], [0.9, 0.9, -0.9]]
    y = [0, 2, 1, 2, 0]
    results = []
    for replay in (False, True):
        model = MLP(3, [6, 3], seed=7)
        history = fit(model, X, y, loss="cross_entropy", optimizer=Adam(model.parameters(), lr=0.05), epochs=4,
                      batch_size=2, seed=1, progress=False, replay=replay)
        results.append(([p.data for p in model.parameters()], history.loss, history.accuracy))
    assert max_relative_difference(results[0][0], results[1][0]) < 1e-12
    assert max_relative_difference(results[0][1], results[1][1]) < 1e-12 and results[0][2] == results[1][2]


def test_fit_with_replay_reports_divergence_like_the_node_path():
    X, y = make_moons(20, noise=0.1, seed=0)
    messages = []
    for replay in (False, True):
        model = MLP(2, [8, 1], seed=0)
        with pytest.raises(TrainingDivergedError) as caught:
            fit(model, X, y, loss="mse", optimizer=SGD(model.parameters(), lr=1e3), epochs=20, progress=False,
                replay=replay)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith("at epoch 5, step 1: loss is inf; no parameter was updated")


def test_fit_with_replay_without_numpy_names_the_extra_before_training(monkeypatch):
    model = MLP(2, [3, 1], seed=0)
    before = [p.data for p in model.parameters()]
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(ImportError, match=r"gradwalk\[fast\]"):
        fit(model, [[0.0, 1.0], [1.0, 0.0]], [0, 1], epochs=2, progress=False, replay=True)
    assert [p.data for p in model.parameters()] == before


def test_a_model_with_several_outputs_trains_through_the_tape_with_cross_entropy():
    X = [[0.2, -0.4, 1.0], [1.5, 0.3, -0.7], [-1.0, 0.8, 0.1], [0.0, -0.2, 0.4]]
    y = [0, 2, 1, 2]
    runs = []
    for replay in (False, True):
        model = MLP(3, [6, 3], seed=7)
        taped = TapedModel(model, X[0]) if replay else None
        runs.append(train(model, X, y, cross_entropy, Adam(model.parameters(), lr=0.05), 10, taped))
    assert max_relative_difference(*runs) < 1e-12
    taped = TapedModel(MLP(3, [6, 3], seed=7), X[0])
    rows = taped.forward(X)
    assert len(rows) == 4 and all(len(row) == 3 for row in rows)


def test_outputs_are_leaves_holding_the_replayed_values():
    model = MLP(2, [4, 1], seed=0)
    taped = TapedModel(model, [0.5, -1.0])
    outputs = taped.forward([[0.5, -1.0], [1.0, 2.0]])
    assert [o.parents for o in outputs] == [(), ()]
    assert [o.data for o in outputs] == pytest.approx([model([0.5, -1.0]).data, model([1.0, 2.0]).data], rel=1e-12)
    assert "Tape" in repr(taped)


def test_backward_needs_a_forward_and_runs_once_per_forward():
    taped = TapedModel(MLP(2, [3, 1], seed=0), [0.0, 0.0])
    with pytest.raises(RuntimeError, match="forward"):
        taped.backward()
    outputs = taped.forward([[1.0, 2.0]])
    sum_values(outputs).backward()
    taped.backward()
    with pytest.raises(RuntimeError, match="forward"):
        taped.backward()


def test_a_non_finite_loss_gradient_is_refused_before_any_parameter_changes():
    model = MLP(2, [3, 1], seed=0)
    taped = TapedModel(model, [0.0, 0.0])
    before = [p.grad for p in model.parameters()]
    outputs = taped.forward([[1.0, 2.0], [0.5, 0.5]])
    (outputs[1] * 1e308 * 1e308).backward()  # d/d output 1 = inf
    with pytest.raises(NonFiniteGradientError, match=r"output 1 is inf.*no parameter was updated"):
        taped.backward()
    assert [p.grad for p in model.parameters()] == before


def test_without_numpy_the_error_names_the_extra(monkeypatch):
    model = MLP(2, [3, 1], seed=0)
    taped = TapedModel(model, [0.0, 0.0])
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(ImportError, match=r"gradwalk\[fast\]"):
        TapedModel(model, [0.0, 0.0])  # before any training starts
    with pytest.raises(ImportError, match=r"gradwalk\[fast\]"):
        taped.forward([[1.0, 2.0]])
    assert math.isfinite(model([1.0, 2.0]).data)  # the model itself needs no numpy
