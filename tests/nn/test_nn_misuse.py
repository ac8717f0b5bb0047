"""Misusing fit, train_step and the optimizers: every mistake is a clear error naming the argument,
raised before any parameter changes."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from engine import Value
from nn import MLP, SGD, Adam, RMSprop, fit, make_blobs, make_moons, mse_loss, train_step

X, Y = make_moons(12, noise=0.1, seed=0)


def _model(outputs=1):
    return MLP(2, [4, outputs], seed=0)


def _snapshot(model):
    return [p.data for p in model.parameters()]


# -- train_step --------------------------------------------------------------------------------------

@pytest.mark.parametrize("returned", [0.5, None, [0.5], "loss"])
def test_a_loss_function_must_return_a_value(returned):
    model = _model()
    optimizer = SGD(model.parameters(), lr=0.1)
    before = _snapshot(model)
    with pytest.raises(TypeError, match=rf"the loss function returned {type(returned).__name__} .*; it should "
                                        r"return one Value built from the outputs"):
        train_step(model, X, Y, lambda outputs, targets: returned, optimizer)
    assert _snapshot(model) == before


@pytest.mark.parametrize("optimizer", [None, "sgd", "SGD", 0.1, [1.0]])
def test_train_step_needs_an_optimizer(optimizer):
    model = _model()
    before = _snapshot(model)
    with pytest.raises(TypeError, match=r"optimizer should be an nn.optim Optimizer such as "
                                        rf"SGD\(model.parameters\(\), lr=0.1\), not {type(optimizer).__name__}"):
        train_step(model, X, Y, "hinge", optimizer)
    assert _snapshot(model) == before


@pytest.mark.parametrize("model", [None, 3, "MLP"])
def test_train_step_needs_a_callable_model(model):
    optimizer = SGD(_model().parameters(), lr=0.1)
    with pytest.raises(TypeError, match=rf"model should be a callable model such as MLP\(...\), "
                                        rf"not {type(model).__name__}"):
        train_step(model, X, Y, "hinge", optimizer)


@pytest.mark.parametrize("loss", [None, 3, ["hinge"]])
def test_a_loss_that_is_neither_a_name_nor_a_function(loss):
    model = _model()
    with pytest.raises(TypeError, match=r"loss should be a name \(hinge, mse, bce, bce_with_logits, cross_entropy\) "
                                        rf"or a function .*not {type(loss).__name__}"):
        train_step(model, X, Y, loss, SGD(model.parameters(), lr=0.1))
    with pytest.raises(TypeError, match="loss should be a name"):
        fit(model, X, Y, loss=loss, progress=False)


# -- fit ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", [lambda x: x[0], print, None, 3])
def test_fit_needs_a_model_with_parameters(model):
    with pytest.raises(TypeError, match=r"fit trains a model with parameters \(an nn Module such as MLP\(...\)\), "
                                        rf"not {type(model).__name__}"):
        fit(model, X, Y, progress=False)


@pytest.mark.parametrize("loss, bad, message", [
    ("hinge", 2, r"loss='hinge' takes two classes labelled 0/1 or -1/\+1, but y\[11\] is 2"),
    ("hinge", 0.5, r"y\[11\] is 0.5"),
    ("hinge", -1, r"loss='hinge': labels mix 0 \(y\[\d+\]\) and -1 \(y\[11\]\)"),
    ("hinge", "1", r"loss='hinge': y\[11\] should be a real number"),
    ("hinge", True, r"y\[11\] should be a real number .*not the bool True"),
    ("hinge", np.True_, r"y\[11\] should be a real number .*not the bool np.True_"),
    ("bce_with_logits", 2, r"loss='bce_with_logits' takes 0/1 or -1/\+1 labels or targets in \[0, 1\], but y\[11\] is 2"),
    ("mse", math.nan, r"loss='mse': y\[11\] got NaN"),
    ("mse", math.inf, r"loss='mse': y\[11\] should be finite, got inf"),
    ("mse", None, r"loss='mse': y\[11\] should be a real number .*not NoneType None"),
])
def test_fit_checks_every_label_before_the_first_step(loss, bad, message):
    model = _model()
    before = _snapshot(model)
    y = Y[:-1] + [bad]
    with pytest.raises((TypeError, ValueError), match=message):
        fit(model, X, y, loss=loss, batch_size=1, epochs=2, progress=False)  # y[11] would be the 12th step
    assert _snapshot(model) == before


@pytest.mark.parametrize("bad, error, message", [
    (-1, ValueError, r"loss='cross_entropy': y\[11\] must be one of the classes 0..2 \(one per output\), got -1"),
    (3, ValueError, r"y\[11\] must be one of the classes 0..2"),
    (1.0, TypeError, r"y\[11\] should be a whole number \(int or a numpy integer\), not float 1.0"),
    (False, TypeError, r"y\[11\] should be a whole number .*not the bool False"),
])
def test_cross_entropy_labels_are_classes_of_the_model(bad, error, message):
    X3, y3 = make_blobs(12, centers=3, seed=0)
    model = _model(outputs=3)
    before = _snapshot(model)
    with pytest.raises(error, match=message) as info:
        fit(model, X3, y3[:-1] + [bad], loss="cross_entropy", batch_size=1, progress=False)
    assert "binary" not in str(info.value)
    assert _snapshot(model) == before


@pytest.mark.parametrize("bad, error, message", [
    ([0.5, "a"], TypeError, r"X\[11\]\[1\] should be a real number .*not str 'a'"),
    ([0.5, math.nan], ValueError, r"X\[11\]\[1\] got NaN"),
    ([0.5, True], TypeError, r"X\[11\]\[1\] should be a real number .*not the bool True"),
    ([0.5], ValueError, r"MLP\(2, \[4, 1\].* expects 2 inputs, got 1 in X\[11\]"),
    (0.5, TypeError, r"X\[11\] should be a list of 2 inputs, not float 0.5"),
])
def test_fit_checks_every_sample_before_the_first_step(bad, error, message):
    model = _model()
    before = _snapshot(model)
    with pytest.raises(error, match=message):
        fit(model, X[:-1] + [bad], Y, batch_size=1, progress=False)
    assert _snapshot(model) == before


def test_regression_targets_that_look_like_mixed_labels_train_with_mse():
    # -1, 0 and 2 are numbers to fit, not inconsistent class labels: no error, accuracy NaN
    history = fit(_model(), X[:3], [-1.0, 0.0, 2.0], loss="mse", epochs=2, progress=False)
    assert history.epochs == 2 and all(math.isnan(a) for a in history.accuracy)


def test_fit_refuses_epochs_and_batch_sizes_of_the_wrong_type():
    for argument in ({"epochs": 2.0}, {"epochs": True}, {"batch_size": 1.5}, {"batch_size": np.False_}):
        with pytest.raises(TypeError, match=rf"{next(iter(argument))}.* should be a whole number"):
            fit(_model(), X, Y, progress=False, **argument)


# -- optimizer settings changed after construction ----------------------------------------------------

def _optimizer_after_one_step(make):
    model = _model()
    optimizer = make(model.parameters())
    train_step(model, X, Y, "hinge", optimizer)
    return model, optimizer


@pytest.mark.parametrize("make, setting, value, error, message", [
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9), "momentum", 1.5, ValueError, r"SGD momentum must be in \[0, 1\), got 1.5"),
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9), "momentum", -0.1, ValueError, "SGD momentum must be a finite number >= 0"),
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9), "momentum", True, TypeError, "SGD momentum should be a real number"),
    (lambda ps: SGD(ps, lr=0.1), "weight_decay", math.inf, ValueError, "SGD weight_decay must be a finite number"),
    (lambda ps: SGD(ps, lr=0.1), "lr", "0.1", TypeError, r"learning rate \(at step 1\) should be a real number"),
    (lambda ps: SGD(ps, lr=0.1), "lr", -1.0, ValueError, "learning rate must be a finite number >= 0, got -1.0 at step 1"),
    (lambda ps: Adam(ps, lr=0.01), "betas", (1.0, 0.999), ValueError, r"Adam beta1 must be in \[0, 1\), got 1.0"),
    (lambda ps: Adam(ps, lr=0.01), "betas", (0.9, 1.0), ValueError, r"Adam beta2 must be in \[0, 1\), got 1.0"),
    (lambda ps: Adam(ps, lr=0.01), "betas", 0.9, ValueError, r"Adam betas should be a pair \(beta1, beta2\), got 0.9"),
    (lambda ps: Adam(ps, lr=0.01), "eps", 0, ValueError, "Adam eps must be > 0"),
    (lambda ps: Adam(ps, lr=0.01), "eps", None, TypeError, "Adam eps should be a real number"),
    (lambda ps: RMSprop(ps), "eps", 0.0, ValueError, "RMSprop eps must be > 0"),
    (lambda ps: RMSprop(ps), "alpha", 1.0, ValueError, r"RMSprop alpha must be in \[0, 1\), got 1.0"),
])
def test_settings_changed_after_construction_are_checked_at_step(make, setting, value, error, message):
    model, optimizer = _optimizer_after_one_step(make)
    before = _snapshot(model)
    state = repr({k: v for k, v in vars(optimizer).items() if k not in ("params", setting)})
    good = getattr(optimizer, setting)
    setattr(optimizer, setting, value)
    for p in model.parameters():
        p.grad = 0.5
    with pytest.raises(error, match=message):
        optimizer.step()
    assert _snapshot(model) == before
    assert repr({k: v for k, v in vars(optimizer).items() if k not in ("params", setting)}) == state
    with pytest.raises(error, match=message):  # and through train_step, before anything changes
        train_step(model, X, Y, "hinge", optimizer)
    assert _snapshot(model) == before
    setattr(optimizer, setting, good)
    optimizer.step()
    assert _snapshot(model) != before


def test_a_loss_function_of_ones_own_still_trains():
    model = _model()
    optimizer = SGD(model.parameters(), lr=0.1)
    first = train_step(model, X, [float(t) for t in Y], mse_loss, optimizer)
    assert train_step(model, X, [float(t) for t in Y], mse_loss, optimizer) < first


# -- any hostile argument: a clear TypeError or ValueError, and the model untouched ------------------

HOSTILE = [None, True, np.True_, "1", "", b"x", [], {}, (), -1, 0, 2, 1.5, -0.5, math.nan, math.inf, 10**400,
           np.float32(math.nan), np.int64(-3), object(), Value(1.0), lambda *a: 0.5, "x" * 100_000, [[0.5]], [None]]
ARGUMENTS = ["X", "y", "loss", "optimizer", "epochs", "batch_size", "l2", "seed"]


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(ARGUMENTS), st.sampled_from(range(len(HOSTILE))), min_size=1, max_size=3))
def test_hostile_arguments_to_fit_raise_clearly_and_change_nothing(overrides):
    model = MLP(2, [3, 1], seed=0)
    arguments = {"X": X[:6], "y": Y[:6], "loss": "hinge", "optimizer": SGD(model.parameters(), lr=0.1),
                 "epochs": 2, "batch_size": 2, "l2": 0.0, "seed": 0}
    for name, index in overrides.items():
        arguments[name] = HOSTILE[index]
    assume(arguments["epochs"] is not HOSTILE[16])  # 10**400 epochs: valid, and endless
    before = _snapshot(model)
    try:
        fit(model, arguments.pop("X"), arguments.pop("y"), progress=False, **arguments)
    except (TypeError, ValueError, OverflowError) as exc:
        assert _snapshot(model) == before, exc
        assert 0 < len(str(exc)) < 400, str(exc)[:500]
        assert "object has no attribute" not in str(exc) and "not subscriptable" not in str(exc), exc
