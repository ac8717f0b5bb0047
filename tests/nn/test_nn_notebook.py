"""TrainView: training in a background thread, driven like the page drives it."""

from __future__ import annotations

import sys
import threading

import pytest

from nn import MLP, SGD, make_moons, train_step
from nn.notebook import TrainView


def view(**options):
    X, y = make_moons(40, noise=0.1, seed=0)
    return TrainView(MLP(2, [8, 1], seed=0), X, y, **options), X, y


def test_steps_by_hand_train_exactly_like_train_step():
    live, X, y = view(max_steps=50)
    live.step(3)
    twin = MLP(2, [8, 1], seed=0)
    optimizer = SGD(twin.parameters(), lr=0.1)
    losses = [train_step(twin, X, y, "hinge", optimizer) for _ in range(3)]
    assert live.steps == 3 and live.state == "paused"
    assert live.losses == pytest.approx(losses, rel=1e-9)
    assert [p.data for p in live.model.parameters()] == pytest.approx([p.data for p in twin.parameters()], rel=1e-9)
    assert len(live.accuracies) == 3 and all(0.0 <= a <= 1.0 for a in live.accuracies)
    assert "paused, 3 of 50 steps" in repr(live)


def test_play_runs_in_the_background_until_max_steps():
    live, *_ = view(max_steps=40)
    live.play()
    assert live.wait(timeout=60)
    assert live.state == "finished" and live.steps == 40 and len(live.losses) == 40
    assert live.losses[-1] < live.losses[0]
    live.play()  # finished: playing again does nothing
    assert live.steps == 40
    live.stop()
    assert live._thread is None


def test_pause_holds_training_and_play_goes_on():
    live, *_ = view(max_steps=100_000)
    live.play()
    while live.steps < 5:
        threading.Event().wait(0.005)
    live.pause()
    held = live.steps
    threading.Event().wait(0.1)
    assert live.steps == held and live.state == "paused"  # the cell that paused it got control back
    live.play()
    while live.steps < held + 5:
        threading.Event().wait(0.005)
    live.stop()
    assert live.state == "paused" and live.steps >= held + 5


def test_the_widget_shows_the_training_and_its_buttons_drive_it():
    pytest.importorskip("anywidget")
    live, X, y = view(max_steps=20)
    widget = live.widget
    assert widget.steps == 0 and widget.state == "paused" and len(widget.points) == len(X)
    assert len(widget.map) == widget.map_size ** 2 and set(widget.map) - set(range(-100, 101)) == set()
    assert [len(layer) for layer in widget.weights] == [8, 1] and len(widget.weights[0][0]) == 2
    widget._handle_custom_msg({"action": "step"}, [])  # a click on "step"
    assert live.steps == widget.steps == 1 and widget.losses == live.losses
    widget._handle_custom_msg({"action": "play"}, [])
    assert live.wait(timeout=60)
    assert widget.state == "finished" and widget.steps == 20 and widget.accuracies == live.accuracies
    assert live.frames >= 3
    data, _metadata = live._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == widget.model_id


def test_a_diverging_run_fails_and_says_why():
    live, *_ = view(max_steps=50, optimizer=None)
    live.optimizer = SGD(live.model.parameters(), lr=1e308)
    live.step(5)
    assert live.state == "failed" and live.error and live.steps < 5
    live.play()
    assert live.state == "failed"


def test_without_anywidget_it_trains_and_shows_as_text(monkeypatch):
    monkeypatch.setitem(sys.modules, "anywidget", None)
    import nn.notebook

    nn.notebook._widget_class.cache_clear()
    try:
        live, *_ = view(max_steps=5)
        bundle = live.step(2)._repr_mimebundle_()
        assert set(bundle) == {"text/plain"} and "gradwalk[notebook]" in bundle["text/plain"]
    finally:
        nn.notebook._widget_class.cache_clear()


def test_bad_input():
    X, y = make_moons(10, seed=0)
    model = MLP(2, [4, 1], seed=0)
    with pytest.raises(ValueError, match="10 points and 9 labels"):
        TrainView(model, X, y[:-1])
    with pytest.raises(ValueError, match="2 coordinates, got 3"):
        TrainView(MLP(3, [1], seed=0), [[0.0, 1.0, 2.0]], [1])
    with pytest.raises(ValueError, match="class labels"):
        TrainView(model, X, [0.5] * 10)
    with pytest.raises(ValueError, match="max_steps must be an int >= 1, got 0"):
        TrainView(model, X, y, max_steps=0)
    with pytest.raises(ValueError, match="step takes an int n >= 1, got 0"):
        TrainView(model, X, y).step(0)
