"""fit / predict / accuracy: learning XOR and moons, reproducibility across processes, errors."""

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import is_grad_enabled
from nn import (
    MLP,
    SGD,
    Adam,
    History,
    Layer,
    Module,
    Neuron,
    TrainingDivergedError,
    accuracy,
    fit,
    hinge_loss,
    l2_penalty,
    make_blobs,
    make_moons,
    make_xor,
    predict,
    predict_proba,
    train_step,
)

ROOT = Path(__file__).resolve().parents[2]


def _first_perfect_epoch(history):
    return next((i + 1 for i, a in enumerate(history.accuracy) if a == 1.0), None)


def test_xor_truth_table_learned():
    X, y = make_xor(4, noise=0.0, seed=0)
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    history = fit(model, X, y, loss="hinge", optimizer=SGD(model.parameters(), lr=0.1), epochs=100,
                  progress=False)
    assert accuracy(model, X, y) == 1.0
    assert _first_perfect_epoch(history) is not None and _first_perfect_epoch(history) <= 100
    assert history.loss[-1] < history.loss[0]


def test_noisy_xor_with_logits_and_adam():
    X, y = make_xor(60, noise=0.2, seed=0)
    model = MLP(2, [8, 1], activation="tanh", seed=0)
    fit(model, X, y, loss="bce_with_logits", optimizer=Adam(model.parameters(), lr=0.05), epochs=40,
        progress=False)
    assert accuracy(model, X, y) == 1.0


@pytest.fixture(scope="module")
def moons_run():
    # The reference benchmark, trained once for every test that needs it: MLP(2, [16, 16, 1]),
    # hinge + 1e-4 L2, 100 SGD steps, lr 1.0 -> 0.1.
    X, y = make_moons(100, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=lambda t: 1.0 - 0.9 * t / 100)
    start = time.perf_counter()
    history = fit(model, X, y, loss="hinge", optimizer=optimizer, epochs=100, l2=1e-4, progress=False)
    return model, X, y, history, time.perf_counter() - start


@pytest.mark.slow
def test_moons_reach_full_accuracy(moons_run):
    model, X, y, history, seconds = moons_run
    assert history.steps == 100 and history.epochs == 100
    assert _first_perfect_epoch(history) is not None
    assert accuracy(model, X, y) == 1.0
    assert history.loss[-1] < 0.1 * history.loss[0]
    print(f"\nmoons: first 100% at step {_first_perfect_epoch(history)}, final loss {history.loss[-1]:.6f}, "
          f"{seconds:.2f} s")


@pytest.mark.slow
def test_trained_moons_probabilities_agree_with_predictions(moons_run):
    model, X, y, *_ = moons_run
    rows = predict_proba(model, X)
    assert all(len(row) == 2 and abs(sum(row) - 1.0) < 1e-12 for row in rows)
    assert [row.index(max(row)) for row in rows] == predict(model, X) == y


# -- train_step: the loop body -------------------------------------------------------------------------

def _by_hand(model, X, y, loss, optimizer):
    outputs = [model(x) for x in X]
    total = loss(outputs, y)
    optimizer.zero_grad()
    total.backward()
    optimizer.step()
    return total.data


def test_train_step_is_the_five_lines_of_the_pytorch_loop():
    X, y = make_moons(12, noise=0.1, seed=4)
    signed = [2 * t - 1 for t in y]
    a, b = MLP(2, [5, 1], seed=3), MLP(2, [5, 1], seed=3)
    opt_a, opt_b = SGD(a.parameters(), lr=0.3, momentum=0.5), SGD(b.parameters(), lr=0.3, momentum=0.5)
    for _ in range(3):
        got = train_step(a, X, y, "hinge", opt_a)  # the name converts 0/1 labels to -1/+1
        want = _by_hand(b, X, signed, hinge_loss, opt_b)
        assert got == want
        assert a.state_dict() == b.state_dict()


def test_fit_is_train_step_over_batches():
    X, y = make_moons(20, noise=0.1, seed=2)
    a, b = MLP(2, [4, 1], seed=1), MLP(2, [4, 1], seed=1)
    history = fit(a, X, y, loss="hinge", optimizer=SGD(a.parameters(), lr=0.2), epochs=2, l2=1e-3, progress=False)
    params = b.parameters()
    opt = SGD(params, lr=0.2)
    signed = [2 * t - 1 for t in y]
    losses = [train_step(b, X, signed, lambda o, t: hinge_loss(o, t) + l2_penalty(params, 1e-3), opt)
              for _ in range(2)]
    assert history.loss == losses
    assert a.state_dict() == b.state_dict()


def test_train_step_refuses_a_non_finite_loss_before_any_update():
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(TrainingDivergedError, match="loss is inf; no parameter was updated"):
        train_step(model, [[1.0, 2.0]], [0.0], lambda o, t: o[0] * 0 + math.inf, SGD(model.parameters(), lr=0.1))
    assert model.state_dict() == before


def test_train_step_reports_an_overflow_in_the_forward_pass_as_divergence():
    model = Neuron(1, "linear", seed=0)
    model.w[0].data, model.b.data = 1000.0, 0.0
    with pytest.raises(TrainingDivergedError, match=r"forward pass failed \(exp overflows .*no parameter was updated"):
        train_step(model, [[1.0]], [0.0], lambda o, t: o[0].exp(), SGD(model.parameters(), lr=0.1))
    assert (model.w[0].data, model.b.data) == (1000.0, 0.0)


def test_fit_refuses_an_optimizer_of_another_model():
    X, y = make_moons(10, seed=0)
    model, other = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"holds none of the parameters of MLP\(2, \[3, 1\].*SGD\(model.parameters\(\)"):
        fit(model, X, y, optimizer=SGD(other.parameters(), lr=0.1), epochs=1, progress=False)
    assert model.state_dict() == before and other.state_dict() == MLP(2, [3, 1], seed=1).state_dict()
    # training only some parameters (here the output layer) is fine
    head = model.layers[-1].parameters()
    fit(model, X, y, optimizer=SGD(head, lr=0.1), epochs=1, progress=False)
    after = model.state_dict()
    assert all(after[k] == v for k, v in before.items() if k.startswith("layers.0"))
    assert any(after[k] != v for k, v in before.items() if k.startswith("layers.1"))


def test_minibatches_and_history():
    X, y = make_moons(30, noise=0.1, seed=1)
    model = MLP(2, [6, 1], seed=1)
    history = fit(model, X, y, loss="hinge", optimizer=SGD(model.parameters(), lr=0.05), epochs=3,
                  batch_size=8, seed=0, progress=False)
    assert isinstance(history, History)
    assert history.steps == 3 * 4  # batches of 8, 8, 8, 6
    assert len(history.loss) == len(history.accuracy) == 3
    assert all(0.0 <= a <= 1.0 for a in history.accuracy)


def test_multiclass_cross_entropy():
    X, y = make_blobs(45, noise=0.3, centers=3, seed=0)
    model = MLP(2, [8, 3], seed=0)
    history = fit(model, X, y, loss="cross_entropy", optimizer=Adam(model.parameters(), lr=0.05), epochs=30,
                  progress=False)
    assert accuracy(model, X, y) == 1.0
    assert history.loss[-1] < history.loss[0]


def test_custom_loss_callable_and_regression_accuracy_is_nan():
    X = [[x / 10] for x in range(-5, 6)]
    y = [2.0 * x[0] + 0.5 for x in X]
    model = Neuron(1, "linear", seed=0)

    def loss(outputs, targets):
        return sum((o - t) * (o - t) for o, t in zip(outputs, targets)) / len(outputs)

    history = fit(model, X, y, loss=loss, optimizer=SGD(model.parameters(), lr=0.5), epochs=200, progress=False)
    assert model.w[0].data == pytest.approx(2.0, abs=1e-6)
    assert model.b.data == pytest.approx(0.5, abs=1e-6)
    assert all(math.isnan(a) for a in history.accuracy)


def test_divergence_names_epoch_and_step():
    X, y = make_moons(20, noise=0.1, seed=0)
    model = MLP(2, [4, 1], activation="linear", seed=0)
    with pytest.raises(TrainingDivergedError, match=r"epoch 2, step 1"):
        fit(model, X, y, loss="mse", optimizer=SGD(model.parameters(), lr=1e200), epochs=5, progress=False)
    assert all(math.isfinite(p.data) for p in model.parameters())


def test_fit_errors():
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="empty dataset"):
        fit(model, [], [], progress=False)
    with pytest.raises(ValueError, match="2 samples but y has 1"):
        fit(model, [[0, 0], [1, 1]], [0], progress=False)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, [[0, 0]], [0], epochs=0, progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        fit(model, [[0, 0]], [0], batch_size=0, progress=False)
    with pytest.raises(ValueError, match="unknown loss"):
        fit(model, [[0, 0]], [0], loss="hinge2", progress=False)
    with pytest.raises(ValueError, match=r"loss='hinge' takes two classes labelled 0/1 or -1/\+1, but y\[0\] is 2 "
                                         r"\(.*use cross_entropy"):
        fit(model, [[0, 0]], [2], loss="hinge", progress=False)
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        fit(model, [[0, 0, 0]], [1], progress=False)
    with pytest.raises(ValueError, match="alpha"):
        fit(model, [[0, 0]], [1], l2=-1.0, progress=False)
    with pytest.raises(TypeError, match="Optimizer"):
        fit(model, [[0, 0]], [1], optimizer="sgd", progress=False)


def test_hinge_accepts_01_and_signed_labels_identically():
    X, y = make_moons(20, noise=0.1, seed=0)
    runs = []
    for labels in (y, [2 * t - 1 for t in y]):
        model = MLP(2, [4, 1], seed=0)
        h = fit(model, X, labels, loss="hinge", optimizer=SGD(model.parameters(), lr=0.1), epochs=3, progress=False)
        runs.append((h.loss, h.accuracy, model.state_dict()))
    assert runs[0] == runs[1]


def test_bce_refuses_a_model_without_sigmoid_output():
    # A linear output would be clamped into [eps, 1 - eps] and train silently to chance.
    X, y = make_moons(20, noise=0.1, seed=0)
    for model in (MLP(2, [4, 1], seed=0), Neuron(2, "tanh", seed=0)):
        before = model.state_dict()
        with pytest.raises(ValueError, match="output activation is .*bce_with_logits.*output_activation='sigmoid'"):
            fit(model, X, y, loss="bce", epochs=1, progress=False)
        assert model.state_dict() == before
    sigmoid = MLP(2, [4, 1], output_activation="sigmoid", seed=0)
    assert fit(sigmoid, X, y, loss="bce", epochs=1, progress=False).epochs == 1


@pytest.mark.parametrize("signed", [False, True])
def test_mse_history_accuracy_thresholds_at_label_midpoint(signed):
    # An MSE model outputs values near its labels: its boundary is their midpoint, not 0.
    X, y = make_moons(100, noise=0.1, seed=0)
    labels = [2 * t - 1 for t in y] if signed else y
    model = MLP(2, [16, 16, 1], seed=0)
    h = fit(model, X, labels, loss="mse", optimizer=Adam(model.parameters(), lr=0.01), epochs=1, progress=False)
    midpoint = 0.0 if signed else 0.5
    # The history measures the batch before its update, i.e. the model as it was built.
    fresh = MLP(2, [16, 16, 1], seed=0)
    assert h.accuracy[0] == accuracy(fresh, X, labels, threshold=midpoint)
    if not signed:
        assert h.accuracy[0] != accuracy(fresh, X, labels)  # the 0.0 threshold disagrees here


# -- predictions and accuracy ------------------------------------------------------------------------

def _identity(activation):
    n = Neuron(1, activation, seed=0)
    n.w[0].data, n.b.data = 1.0, 0.0
    return n


X1 = [[-2.0], [-0.5], [0.3], [2.0]]


def test_accuracy_scores_and_label_conventions():
    model = _identity("linear")
    assert predict(model, X1) == [0, 0, 1, 1]
    assert accuracy(model, X1, [0, 0, 1, 1]) == 1.0
    assert accuracy(model, X1, [-1, -1, 1, 1]) == 1.0
    assert accuracy(model, X1, [1, 0, 1, 1]) == 0.75
    with pytest.raises(ValueError, match="mix 0 and -1"):
        accuracy(model, X1, [0, -1, 1, 1])
    with pytest.raises(ValueError, match="class labels"):
        accuracy(model, X1, [0.5, 0, 1, 1])
    with pytest.raises(ValueError, match="empty"):
        accuracy(model, [], [])


def test_accuracy_probabilities_use_threshold_half():
    model = _identity("sigmoid")  # outputs sigmoid(x), always > 0
    assert accuracy(model, X1, [0, 0, 1, 1]) == 1.0
    assert accuracy(model, X1, [0, 0, 1, 1], threshold=0.0) == 0.5
    mlp = MLP(1, [2, 1], output_activation="sigmoid", seed=0)
    assert all(p in (0, 1) for p in predict(mlp, X1))


def test_multiclass_argmax_first_on_ties():
    layer = Layer(1, 3, "linear", seed=0)
    for neuron, w in zip(layer.neurons, [1.0, -1.0, 0.0]):
        neuron.w[0].data, neuron.b.data = w, 0.0
    assert predict(layer, [[2.0], [-2.0], [0.0]]) == [0, 1, 0]
    assert accuracy(layer, [[2.0], [-2.0], [0.0]], [0, 1, 2]) == pytest.approx(2 / 3)


def test_evaluation_runs_without_grad():
    class Probe(Module):
        def __init__(self):
            self.inner = _identity("linear")
            self.modes = []

        def __call__(self, x):
            self.modes.append(is_grad_enabled())
            return self.inner(x)

    probe = Probe()
    out = probe([1.0])
    accuracy(probe, X1, [0, 0, 1, 1])
    predict(probe, X1)
    assert probe.modes == [True] + [False] * 8
    assert is_grad_enabled()
    assert out.parents  # the call outside evaluation did record a graph


# -- progress bar ------------------------------------------------------------------------------------

def test_progress_false_and_auto_are_quiet_off_a_terminal(capsys):
    X, y = make_moons(10, seed=0)
    fit(MLP(2, [3, 1], seed=0), X, y, epochs=2, progress=False)
    fit(MLP(2, [3, 1], seed=0), X, y, epochs=2)  # stderr is captured, not a TTY
    assert capsys.readouterr().err == ""


def test_progress_true_shows_loss_and_accuracy(capsys):
    pytest.importorskip("tqdm")
    X, y = make_moons(10, seed=0)
    fit(MLP(2, [3, 1], seed=0), X, y, epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "loss=" in err and "accuracy=" in err and "2/2" in err


def test_progress_true_without_tqdm_warns_and_trains(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` fail
    X, y = make_moons(10, seed=0)
    with pytest.warns(UserWarning, match="tqdm"):
        history = fit(MLP(2, [3, 1], seed=0), X, y, epochs=2, progress=True)
    assert history.epochs == 2


# -- reproducibility ---------------------------------------------------------------------------------

RUN = """
import json
from nn import MLP, Adam, fit, make_moons
X, y = make_moons(40, noise=0.2, seed=11)
model = MLP(2, [8, 8, 1], seed=5)
history = fit(model, X, y, loss="hinge", optimizer=Adam(model.parameters(), lr=0.02), epochs=4,
              batch_size=10, l2=1e-3, seed=3, progress=False)
print(json.dumps({"X": [[v.hex() for v in x] for x in X], "loss": [v.hex() for v in history.loss],
                  "accuracy": history.accuracy,
                  "params": {k: v.hex() for k, v in model.state_dict().items()}}))
"""


def test_same_seed_same_run_in_fresh_processes():
    outputs = []
    for hash_seed in ("0", "12345"):  # different str hashing must not matter
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-c", RUN], capture_output=True, text=True, env=env, cwd=ROOT,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(json.loads(done.stdout))
    here = {}
    exec(RUN.replace("print(", "here['out'] = ("), {"here": here})
    in_process = json.loads(here["out"])
    assert outputs[0] == outputs[1] == in_process
    assert len(in_process["params"]) == 8 * 3 + 8 * 9 + 9
