"""The live stepper widget's Python side: its traits follow the real stepper, both ways."""

from __future__ import annotations

import sys

import pytest

from engine import Value
from engine.core.graph import topological_order

pytest.importorskip("anywidget")
from engine.notebook import StepperWidget  # noqa: E402

needs_dot = pytest.mark.needs_dot


def expression():
    x, w = Value(2.0, "x"), Value(-3.0, "w", param=True)
    p = x * w
    p.label = "p"
    o = (p + x).tanh()
    o.label = "o"
    return o, x, w


@needs_dot
def test_before_any_step_everything_is_pending():
    o, x, w = expression()
    steps = o.backward_steps()
    widget = StepperWidget(steps)
    n = len(topological_order(o))
    assert (widget.position, widget.total) == (0, 3)
    assert widget.grads == ["grad ?"] * n and widget.states == "p" * n
    assert widget.current == -1 and widget.edges == [] and widget.error == ""
    assert widget.title == repr(steps)
    assert widget.svg.startswith("<svg") and all(f'id="v{k}"' in widget.svg for k in range(n))
    assert [node["name"] for node in widget.nodes] == ["x", "w", "p", "#3", "o"]


@needs_dot
def test_clicks_move_the_stepper_and_the_texts_are_the_steppers():
    o, x, w = expression()
    steps = o.backward_steps()
    widget = StepperWidget(steps)
    reference = list(expression()[0].backward_steps())
    for k in range(1, 4):  # a click on "step" arrives as this message from the page
        widget._handle_custom_msg({"move": "step"}, [])
        assert steps.position == widget.position == k
        assert widget.text == str(reference[k - 1])
        assert widget.title == repr(steps)
    assert widget.states == "ddddd" and steps.done
    assert widget.grads[0] == f"grad {x.grad:.4g}" and widget.grads[1] == f"grad {w.grad:.4g}"
    # x is used twice: after the first of its two contributions it is accumulating.
    widget._handle_custom_msg({"move": "go", "to": 2}, [])
    assert steps.position == 2 and widget.states[0] == "a" and widget.current == 3
    assert widget.edges == ["e3", "e3_0", "e3_1"] and widget.updated == [0, 2]
    widget._handle_custom_msg({"move": "reset"}, [])
    assert steps.position == 0 and x.grad == 0.0 and widget.states == "ppppp"


@needs_dot
def test_moving_the_stepper_in_python_moves_the_widget_on_refresh():
    o, *_ = expression()
    steps = o.backward_steps()
    widget = StepperWidget(steps)
    next(steps)
    next(steps)
    assert widget.position == 0  # a stepper tells nobody that it moved ...
    widget.refresh()  # ... so the widget looks (in IPython: after every cell)
    assert widget.position == 2 and widget.text == str(steps.table().rows[-1])
    steps.back()
    assert widget.refresh().position == 1


@needs_dot
def test_refused_moves_change_nothing_and_say_why():
    o, x, _ = expression()
    steps = o.backward_steps()
    widget = StepperWidget(steps)
    widget.back()
    assert "nothing to undo" in widget.error and widget.position == 0
    widget.go(3)
    widget.step()
    assert "backward is finished" in widget.error and widget.position == 3
    widget.step()
    x.grad = 5.0  # something else writes into the graph: the stepper is stale
    widget.back()
    assert "stale" in widget.error and steps.position == 3
    widget._handle_custom_msg({"move": "launch"}, [])  # unknown messages are ignored
    widget._handle_custom_msg("step", [])
    assert steps.position == 3
    with pytest.raises(ValueError, match="position must be an int from 0 to 3, got 4"):
        widget.go(4)
    with pytest.raises(TypeError, match="needs a Stepper"):
        StepperWidget(o)
    with pytest.raises(TypeError, match="unknown option 'collapse'"):
        StepperWidget(o.backward_steps(), collapse="neuron")


def test_without_anywidget_the_error_names_the_extra(monkeypatch):
    import engine.notebook

    monkeypatch.setitem(sys.modules, "anywidget", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install 'gradwalk\[notebook\]'"):
        engine.notebook.require_anywidget()
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        engine.notebook.Nothing  # noqa: B018
