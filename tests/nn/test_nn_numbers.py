"""Numbers a learner brings: numpy's scalars work wherever nn takes a number (inputs, labels,
optimizer settings, sizes), with the same results as Python's; a bool is refused everywhere, in
the same words."""

import json
import re

import numpy as np
import pytest

from nn import (
    MLP,
    SGD,
    Adam,
    RMSprop,
    Standardizer,
    accuracy,
    cross_entropy,
    fit,
    hinge_loss,
    l2_penalty,
    make_moons,
    mse_loss,
    predict,
    train_step,
)
from engine import Value

X, Y = make_moons(16, noise=0.1, seed=0)
NUMPY_REALS = [np.float64, np.float32, np.float16, np.int64, np.int32, np.uint8]
BOOL_WORDS = "True and False are not numbers here (write 1 or 0)"
BOOL_PATTERN = re.escape(BOOL_WORDS)


def _params(model):
    return [p.data for p in model.parameters()]


@pytest.mark.parametrize("kind", NUMPY_REALS)
def test_inputs_of_every_numpy_kind_give_the_python_result(kind):
    model = MLP(2, [4, 1], seed=0)
    x = [kind(1), kind(2)]
    assert model(x).data == model([1.0, 2.0]).data
    assert model(np.array([1, 2], dtype=kind)).data == model([1.0, 2.0]).data
    assert all(type(v) is float for v in [model(x).data])


@pytest.mark.parametrize("loss", ["hinge", "bce_with_logits", "mse"])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32, np.float64])
def test_numpy_labels_train_exactly_as_python_ints(loss, dtype):
    expected = fit(MLP(2, [4, 1], seed=0), X, Y, loss=loss, epochs=3, progress=False)
    model = MLP(2, [4, 1], seed=0)
    history = fit(model, np.array(X), np.array(Y, dtype=dtype), loss=loss, epochs=3, progress=False)
    assert history.loss == expected.loss and history.accuracy == expected.accuracy
    assert all(type(p) is float for p in _params(model))


def test_numpy_minus_one_plus_one_labels_for_hinge():
    signs = np.array([1 if t else -1 for t in Y], dtype=np.int64)
    expected = fit(MLP(2, [4, 1], seed=0), X, Y, loss="hinge", epochs=3, progress=False)
    assert fit(MLP(2, [4, 1], seed=0), X, signs, loss="hinge", epochs=3, progress=False).loss == expected.loss


def test_numpy_class_indices_for_cross_entropy():
    y3 = [i % 3 for i in range(len(X))]
    expected = fit(MLP(2, [4, 3], seed=0), X, y3, loss="cross_entropy", epochs=2, progress=False)
    history = fit(MLP(2, [4, 3], seed=0), X, np.array(y3), loss="cross_entropy", epochs=2, progress=False)
    assert history.loss == expected.loss
    logits = [Value(0.1), Value(0.7), Value(-0.2)]
    assert cross_entropy([logits], [np.int64(1)]).data == cross_entropy([logits], [1]).data


def test_accuracy_and_predict_take_numpy_labels():
    model = MLP(2, [4, 1], seed=0)
    assert accuracy(model, np.array(X), np.array(Y)) == accuracy(model, X, Y)
    assert predict(model, np.array(X, dtype=np.float32)) == predict(model, X)


@pytest.mark.parametrize("bools", [[True, False], np.array([True, False])])
def test_bool_labels_are_refused_in_the_same_words(bools):
    for loss in ("hinge", "bce", "mse"):
        with pytest.raises(TypeError, match=rf"loss='{loss}': y\[0\] should be a real number .*{BOOL_PATTERN}"):
            fit(MLP(2, [2, 1], output_activation="sigmoid", seed=0), X[:2], list(bools), loss=loss, progress=False)


def test_hinge_loss_takes_numpy_labels_and_hints_only_what_fits():
    scores = [Value(0.3), Value(-0.4)]
    assert hinge_loss(scores, [np.int64(1), np.int64(-1)]).data == hinge_loss(scores, [1, -1]).data
    assert hinge_loss(scores, [np.float32(1), np.float64(-1)]).data == hinge_loss(scores, [1, -1]).data
    with pytest.raises(ValueError, match=r"got np.int64\(0\) \(for 0/1 labels use 2\*y - 1, or fit\(loss='hinge'\)"):
        hinge_loss(scores, [np.int64(0), np.int64(1)])
    with pytest.raises(ValueError, match=r"got 2 \(hinge separates two classes; for more, use cross_entropy") as two:
        hinge_loss(scores, [2, 1])
    with pytest.raises(ValueError) as half:
        hinge_loss(scores, [0.5, 1])
    assert "2*y - 1" not in str(two.value) and "2*y - 1" not in str(half.value)
    assert str(half.value) == "hinge_loss labels must be -1 or +1, got 0.5"
    with pytest.raises(TypeError, match=BOOL_PATTERN):
        hinge_loss(scores, [np.True_, np.False_])


@pytest.mark.parametrize("kind", [np.float32, np.float64, np.int64])
def test_optimizer_settings_from_numpy_match_python_floats(kind):
    def run(make):
        model = MLP(2, [3, 1], seed=0)
        optimizer = make(model.parameters())
        for _ in range(3):
            train_step(model, X, Y, "hinge", optimizer)
        return _params(model)

    lr = kind(1) if kind is np.int64 else kind(0.05)
    assert run(lambda ps: SGD(ps, lr=lr, momentum=kind(0))) == run(lambda ps: SGD(ps, lr=float(lr)))
    assert all(type(v) is float for v in run(lambda ps: SGD(ps, lr=lr, momentum=kind(0))))
    if kind is not np.int64:
        b1, b2, eps = kind(0.9), kind(0.99), kind(1e-3)
        assert (run(lambda ps: Adam(ps, lr=lr, betas=(b1, b2), eps=eps)) ==
                run(lambda ps: Adam(ps, lr=float(lr), betas=(float(b1), float(b2)), eps=float(eps))))
        assert (run(lambda ps: RMSprop(ps, lr=lr, alpha=b2, eps=eps, weight_decay=kind(0.01))) ==
                run(lambda ps: RMSprop(ps, lr=float(lr), alpha=float(b2), eps=float(eps), weight_decay=float(kind(0.01)))))


def test_sizes_seeds_epochs_and_coefficients_from_numpy():
    model = MLP(np.int64(2), [np.int32(3), np.uint8(1)], seed=np.int64(0))
    assert model.architecture() == MLP(2, [3, 1], seed=0).architecture()
    assert _params(model) == _params(MLP(2, [3, 1], seed=0))
    json.dumps(model.architecture())  # plain ints: the model can be saved
    history = fit(model, X, Y, epochs=np.int64(2), batch_size=np.int64(4), l2=np.float32(0.01), progress=False)
    assert history.epochs == 2 and history.steps == 8
    assert make_moons(np.int64(10), noise=np.float32(0.1), seed=np.int64(1)) == make_moons(10, noise=float(np.float32(0.1)), seed=1)
    assert l2_penalty([Value(2.0)], np.float64(0.5)).data == 2.0
    assert mse_loss([Value(1.0)], [np.float32(0.5)]).data == 0.25
    scaler = Standardizer().fit(np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32))
    assert scaler.mean == [2.0, 4.0]


BOOL_CALLS = {
    "input": lambda b: MLP(2, [1], seed=0)([b, 1.0]),
    "label": lambda b: fit(MLP(2, [1], seed=0), X[:1], [b], progress=False),
    "lr": lambda b: SGD([Value(1.0)], lr=b),
    "momentum": lambda b: SGD([Value(1.0)], lr=0.1, momentum=b),
    "beta": lambda b: Adam([Value(1.0)], betas=(b, 0.9)),
    "eps": lambda b: RMSprop([Value(1.0)], eps=b),
    "l2": lambda b: fit(MLP(2, [1], seed=0), X[:1], [1], l2=b, progress=False),
    "epochs": lambda b: fit(MLP(2, [1], seed=0), X[:1], [1], epochs=b, progress=False),
    "width": lambda b: MLP(2, [b]),
    "n_samples": lambda b: make_moons(b),
    "noise": lambda b: make_moons(10, noise=b),
    "seed": lambda b: make_moons(10, seed=b),
    "target": lambda b: mse_loss([Value(1.0)], [b]),
    "l2_penalty alpha": lambda b: l2_penalty([Value(1.0)], b),
}


@pytest.mark.parametrize("where", BOOL_CALLS)
@pytest.mark.parametrize("flag", [True, False, np.True_, np.False_])
def test_a_bool_is_refused_everywhere_with_one_message(where, flag):
    with pytest.raises(TypeError) as info:
        BOOL_CALLS[where](flag)
    assert str(info.value).endswith(f"not the bool {flag!r}: {BOOL_WORDS}")


def test_load_state_dict_takes_numpy_numbers_and_refuses_bools():
    from nn import ModelFileError

    model = MLP(2, [3, 1], seed=0)
    state = {name: np.float32(0.5) for name in model.state_dict()}
    model.load_state_dict(state)
    assert set(model.state_dict().values()) == {0.5} and all(type(v) is float for v in model.state_dict().values())
    first = next(iter(state))
    for bad, message in ((np.True_, "should be a single number, got bool"), (np.float64("nan"), "is nan"),
                         (np.float32("inf"), "is inf")):
        with pytest.raises(ModelFileError, match=message):
            model.load_state_dict({**state, first: bad})
        assert set(model.state_dict().values()) == {0.5}
