"""Predict, then reveal: the backward quiz scores answers, explains misses and keeps the pass."""

from __future__ import annotations

import pytest

from engine import Quiz, Value
from stepper_cases import neuron


def test_three_steps_one_wrong():
    x, w, b, n, o = neuron()
    quiz = o.backward_steps(quiz=True)
    assert quiz.question.endswith("what is the local derivative ∂o/∂n?")
    assert quiz.answer("1 - o**2").right  # a formula in the graph's own names
    assert quiz.question.endswith("∂n/∂#2?") and quiz.answer(1).right and quiz.answer(1.0).right
    wrong = quiz.answer("x")  # ∂(x*w)/∂x is w, not x
    assert not wrong.right and wrong.expected == -3.0 and wrong.given == 2.0
    assert str(wrong).startswith("not quite: you said 2; ∂#2/∂x = w = -3, because it is how #2 = x*w changes with x")
    assert quiz.answer("x").right and quiz.done
    assert (quiz.score, quiz.asked) == (4, 5) and repr(quiz) == "<backward quiz: 4 of 5 right; finished>"
    assert (x.grad, w.grad) == pytest.approx((-1.5, 1.0))  # the pass was applied as it went


def test_asking_for_upstream_gradients():
    x, w, b, n, o = neuron()
    quiz = Quiz(o, ask="upstream")
    assert quiz.question.endswith("what is the upstream gradient do/do?") and quiz.answer(1).right
    miss = quiz.answer(1.0)
    assert not miss.right and miss.expected == pytest.approx(0.5) and "the sum of what the steps before added" in str(miss)
    assert quiz.answer("1 - o**2").right and quiz.done


def test_run_asks_at_the_keyboard_until_done():
    x, w, b, n, o = neuron()
    answers = iter(["0.5", "1", "1", "-3", "2"])
    shown = []
    assert Quiz(o).run(read=lambda prompt: next(answers), show=shown.append) == 5
    assert str(shown[-1]) == "done: 5 of 5 right"


def test_bad_answers_and_options_are_refused_clearly():
    x, w, b, n, o = neuron()
    quiz = Quiz(o)
    for answer, message in (("q + 1", "q is not a labelled node"), ("import os", "can't read the answer"),
                            (None, "a number or a formula")):
        with pytest.raises((ValueError, TypeError), match=message):
            quiz.answer(answer)
    assert quiz.asked == 0  # a refused answer is not scored
    with pytest.raises(ValueError, match="asks for 'local'"):
        Quiz(o, ask="global")
    with pytest.raises(ValueError, match="tolerance"):
        Quiz(o, tolerance=0)
    with pytest.raises(TypeError, match="options of a quiz"):
        o.backward_steps(ask="local")
    list(Quiz(o).steps)
    finished = Quiz(Value(1.0))
    with pytest.raises(ValueError, match="the quiz is over"):
        finished.answer(1)
