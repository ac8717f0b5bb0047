"""The stepper widget as a quiz (predict, then reveal): the quiz scores, the widget shows it."""

from __future__ import annotations

import pytest

from engine import Quiz
from stepper_cases import neuron

pytest.importorskip("anywidget")
from engine.notebook import StepperWidget  # noqa: E402

pytestmark = pytest.mark.needs_dot


def answer(widget, text):
    """What the page sends when the learner types `text` and presses answer (or Enter)."""
    widget._handle_custom_msg({"move": "answer", "answer": text}, [])


def test_before_the_first_answer_the_widget_asks_the_quizs_question():
    *_, o = neuron()
    quiz = o.backward_steps(quiz=True)
    widget = StepperWidget(quiz)
    assert widget.quiz and widget.steps is quiz.steps
    assert widget.question == "step 1 of 3: o = tanh(n) = 0.7071\n  what is the local derivative ∂o/∂n?"
    assert (widget.score, widget.asked, widget.position, widget.verdict) == (0, 0, 0, "")
    assert widget.text.endswith("Answer the question to push it back one node.")
    assert not StepperWidget(o.backward_steps()).quiz  # a plain stepper is no quiz


def test_a_wrong_answer_then_right_ones_and_the_score():
    x, w, b, n, o = neuron()
    quiz = o.backward_steps(quiz=True)
    widget = StepperWidget(quiz)
    answer(widget, "0.3")  # do/dn is 1 - tanh(n)**2 = 1 - 0.7071**2 = 0.5
    assert not widget.verdict_right and widget.verdict == str(quiz.verdicts[-1])
    assert widget.verdict.startswith("not quite: you said 0.3; ∂o/∂n = 1 - tanh(n)**2 = 0.5, because it is how "
                                     "o = tanh(n) changes with n")
    assert (widget.score, widget.asked) == (0, 1)
    # The step is revealed either way: its text and grads are the stepper's.
    assert widget.position == 1 and widget.text == str(quiz.steps.table().rows[-1])
    assert widget.grads[-2] == "grad 0.5" and widget.question.endswith("∂n/∂#2?")
    answer(widget, "1")
    assert widget.verdict_right and widget.verdict == "right: ∂n/∂#2 = 1 (score 1 of 2)"
    assert widget.position == 1  # n has two inputs: the step is applied once both are answered
    answer(widget, "1")
    assert widget.position == 2 and widget.question.endswith("∂#2/∂x?")
    answer(widget, "x")  # ∂(x*w)/∂x is w = -3, not x = 2
    assert not widget.verdict_right and "you said 2; ∂#2/∂x = w = -3" in widget.verdict
    answer(widget, "x")
    assert widget.position == 3 and widget.states == "dddddd"
    assert widget.question == "done: 3 of 5 right"
    assert (widget.score, widget.asked) == (quiz.score, quiz.asked) == (3, 5)
    assert (x.grad, w.grad) == pytest.approx((-1.5, 1.0))  # the pass was applied as it went


def test_only_an_answer_moves_a_quiz_and_an_unreadable_one_is_not_scored():
    *_, o = neuron()
    widget = StepperWidget(Quiz(o, ask="upstream"))
    for move in ({"move": "step"}, {"move": "go", "to": 2}, {"move": "reset"}):
        widget._handle_custom_msg(move, [])
        assert widget.position == 0 and "answer the question" in widget.error
    answer(widget, "q + 1")
    assert "q is not a labelled node" in widget.error and widget.asked == 0
    widget._handle_custom_msg({"move": "answer", "answer": 1}, [])  # not text: ignored
    assert widget.asked == 0
    answer(widget, "1")  # do/do: the pass starts at the root
    assert widget.verdict_right and widget.error == "" and widget.position == 1
    answer(widget, "0.4")  # do/dn = 0.5
    assert "the sum of what the steps before added to n.grad" in widget.verdict
    answer(widget, "1 - o**2")  # do/d#2 = do/dn * 1
    assert widget.question == "done: 2 of 3 right"
    answer(widget, "1")
    assert "the quiz is over" in widget.error and widget.asked == 3
    with pytest.raises(TypeError, match="not a quiz"):
        StepperWidget(o.backward_steps()).answer(1)
    with pytest.raises(TypeError, match="or a quiz"):
        StepperWidget(o)
