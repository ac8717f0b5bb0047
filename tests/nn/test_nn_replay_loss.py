"""fit(replay=True) with the loss on the tape: the parameters node-by-node training gives (and
PyTorch's), for every loss `nn.replay.TAPED_LOSSES` records."""

from __future__ import annotations

import pytest

import nn.replay
from engine import Value, trace
from nn import MLP, SGD, Adam, TrainingDivergedError, fit, make_moons
from nn.losses import loss_targets
from nn.replay import TAPED_LOSSES, TapedLoss

np = pytest.importorskip("numpy")

WIDTHS = {"cross_entropy": [8, 8, 2]}  # the other losses take one output


def trained(loss, replay, *, steps=100, n=40, l2=1e-4, batch_size=None, optimizer=SGD, lr=0.1, widths=None):
    X, y = make_moons(n, noise=0.1, seed=0)
    model = MLP(2, widths or WIDTHS.get(loss, [8, 8, 1]), seed=3)
    history = fit(model, X, y, loss=loss, l2=l2, optimizer=optimizer(model.parameters(), lr=lr), epochs=steps,
                  batch_size=batch_size, seed=1, progress=False, replay=replay)
    return model, history


def largest_difference(a, b):
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


@pytest.fixture
def no_model_only_tape(monkeypatch):
    """Make the model-only tape (the loss on Values) unusable, to show fit does not use it."""
    def refuse(*args, **kwargs):
        raise AssertionError("fit took the model-only tape")
    monkeypatch.setattr(nn.replay, "TapedModel", refuse)


@pytest.mark.parametrize("loss", TAPED_LOSSES)
def test_100_steps_give_the_node_by_node_parameters(loss, no_model_only_tape):
    node, node_history = trained(loss, replay=False)
    taped, taped_history = trained(loss, replay=True)
    params = [p.data for p in taped.parameters()]
    assert largest_difference([p.data for p in node.parameters()], params) < 1e-9
    assert largest_difference(node_history.loss, taped_history.loss) < 1e-9
    assert node_history.accuracy == taped_history.accuracy and taped_history.steps == 100
    assert params != [p.data for p in MLP(2, WIDTHS.get(loss, [8, 8, 1]), seed=3).parameters()]  # it trained


@pytest.mark.parametrize("loss", TAPED_LOSSES)
def test_minibatches_without_a_penalty_and_with_adam(loss, no_model_only_tape):
    options = dict(steps=3, batch_size=16, l2=0.0, optimizer=Adam, lr=0.01)
    node, node_history = trained(loss, replay=False, **options)
    taped, taped_history = trained(loss, replay=True, **options)
    assert largest_difference([p.data for p in node.parameters()], [p.data for p in taped.parameters()]) < 1e-12
    assert node_history.accuracy == taped_history.accuracy and taped_history.steps == 9


@pytest.mark.slow
@pytest.mark.parametrize("loss", TAPED_LOSSES)
def test_100_steps_give_pytorchs_parameters(loss):
    torch = pytest.importorskip("torch")
    from nn.torch_twin import from_torch, to_torch

    X, y = make_moons(40, noise=0.1, seed=0)
    start = MLP(2, WIDTHS.get(loss, [8, 8, 1]), seed=3)
    seq = to_torch(start)
    taped, _ = trained(loss, replay=True)
    inputs = torch.tensor(X, dtype=torch.float64)
    targets = torch.tensor(loss_targets(loss, y), dtype=torch.long if loss == "cross_entropy" else torch.float64)
    optimizer = torch.optim.SGD(seq.parameters(), lr=0.1)
    functional = torch.nn.functional
    for _ in range(100):
        out = seq(inputs)
        s = out[:, 0]
        total = {"hinge": lambda: (1.0 - targets * s).relu().mean(),
                 "mse": lambda: ((s - targets) ** 2).mean(),
                 "bce_with_logits": lambda: functional.binary_cross_entropy_with_logits(s, targets),
                 "cross_entropy": lambda: functional.cross_entropy(out, targets)}[loss]()
        total = total + 1e-4 * sum((p * p).sum() for p in seq.parameters())
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
    theirs = [p.data for p in from_torch(seq).parameters()]
    assert largest_difference([p.data for p in taped.parameters()], theirs) < 1e-9


def test_bce_and_a_loss_function_keep_the_loss_on_values(monkeypatch):
    built = []

    class Recording(TapedLoss):
        def __init__(self, *args, **kwargs):
            built.append(args[1])
            super().__init__(*args, **kwargs)

    X, y = make_moons(10, noise=0.1, seed=0)
    monkeypatch.setattr(nn.replay, "TapedLoss", Recording)
    fit(MLP(2, [4, 1], output_activation="sigmoid", seed=0), X, y, loss="bce", epochs=2, progress=False, replay=True)
    fit(MLP(2, [4, 1], seed=0), X, y, loss=lambda o, t: o[0] * 1.0, epochs=2, progress=False, replay=True)
    fit(MLP(2, [4, 1], seed=0), X, y, loss="hinge", epochs=2, progress=False, replay=True)
    assert built == ["hinge"]


def test_cross_entropy_on_the_tape_stays_finite_for_huge_logits():
    model = MLP(1, [3], activation="linear", seed=0)
    for neuron, scale in zip(model.layers[0].neurons, (1000.0, -1000.0, 999.0)):
        neuron.w[0].data, neuron.b.data = scale, 0.0
    taped = TapedLoss(model, "cross_entropy", [[1.0], [-1.0]], [0, 2], 3)
    mean = taped.forward()
    # sample 0: logits (1000, -1000, 999), class 0; sample 1: (-1000, 1000, -999), class 2
    assert mean == pytest.approx((np.log1p(np.exp(-1.0)) + (1999.0 + np.log1p(np.exp(-1999.0)))) / 2, rel=1e-12)
    taped.backward()
    assert all(np.isfinite(p.grad) for p in model.parameters())


def test_a_taped_loss_counts_the_classes_it_gets_right():
    model = MLP(1, [1], activation="linear", seed=0)
    model.layers[0].neurons[0].w[0].data, model.layers[0].neurons[0].b.data = 1.0, 0.0
    taped = TapedLoss(model, "hinge", [[2.0], [-1.0], [3.0]], [1.0, 1.0, -1.0], 1, classes=[1, 1, 0])
    with pytest.raises(RuntimeError, match="forward"):
        taped.correct(0.0)
    with pytest.raises(RuntimeError, match="forward"):
        taped.backward()
    assert taped.forward() == pytest.approx((0.0 + 2.0 + 4.0) / 3)  # relu(1 - y s) for s = x
    assert taped.correct(0.0) == 1  # scores 2, -1, 3: only the first sample is on its side
    assert taped.forward(np.array([0, 2])) == pytest.approx(2.0)
    assert taped.correct(0.0) == 1
    taped.backward()
    with pytest.raises(RuntimeError, match="forward"):
        taped.backward()  # one backward per forward


def test_divergence_on_the_tape_is_reported_as_on_nodes():
    messages = []
    for replay in (False, True):
        with pytest.raises(TrainingDivergedError) as caught:
            trained("mse", replay, steps=20, n=20, l2=0.0, lr=1e3, widths=[8, 1])
        messages.append(str(caught.value))
    assert messages[0] == messages[1] and "no parameter was updated" in messages[0]


def test_the_tape_names_where_a_node_of_its_graph_is():
    w = Value(2.0, "w")
    inner = []
    tape = trace(lambda x: inner.append(x * w) or inner[0].relu(), 1.0)
    assert tape.position(inner[0]) == 2  # x0, then the leaf w, then the first step
    assert tape.position(tape.inputs[0]) == 0
    with pytest.raises(ValueError, match="not a node of this tape"):
        tape.position(Value(1.0))
    with pytest.raises(ValueError, match="not a node of this tape"):
        tape.position("w")


def test_a_taped_loss_refuses_what_it_cannot_record_or_check():
    X = [[0.5, -1.0], [1.0, 2.0]]
    with pytest.raises(ValueError, match="records one of the losses"):
        TapedLoss(MLP(2, [3, 1], seed=0), "bce", X, [0, 1], 1)
    with pytest.raises(ValueError, match="takes one Value per sample"):
        TapedLoss(MLP(2, [3, 2], seed=0), "hinge", X, [0, 1], 1)
    with pytest.raises(ValueError, match="takes 3 outputs per sample"):
        TapedLoss(MLP(2, [3, 2], seed=0), "cross_entropy", X, [0, 1], 3)
    with pytest.raises(ValueError, match=r"y\[1\]"):
        TapedLoss(MLP(2, [3, 2], seed=0), "cross_entropy", X, [0, 2], 2)  # class 2 of 0..1
    with pytest.raises(ValueError, match=r"y\[0\]"):
        TapedLoss(MLP(2, [3, 1], seed=0), "hinge", X, [0.5, 1], 1)
    taped = TapedLoss(MLP(2, [3, 1], seed=0), "hinge", X, [0, 1], 1)  # 0/1 labels become -1/+1
    assert taped.batch[:, 2].tolist() == [-1.0, 1.0]
