"""The backward stepper's record of its pass: staleness, putting back a part-way pass, determinism."""

import decimal
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import Value, topological_order
from engine.stepper import StaleStepperError, Stepper, StepperError
from engine.testing import expression_cases


from stepper_cases import bits, grads, neuron  # noqa: F401

# -- staleness ------------------------------------------------------------------------------------------


def test_backward_in_the_middle_makes_the_stepper_stale_instead_of_wrong():
    # Before: next(steps); o.backward(); list(steps) left x.grad = -4.5 (true: -1.5 or -3).
    x, w, b, n, o = neuron()
    steps = Stepper(o)
    next(steps)
    o.backward()  # puts back the stepper's partial pass first: the graph holds exactly one pass
    assert x.grad == pytest.approx(-1.5)
    after_backward = bits(grads(o))
    with pytest.raises(StaleStepperError, match=r"after its step 1 of 3, o\.backward\(\) started a new pass") as caught:
        next(steps)
    assert "reset()" in str(caught.value)
    with pytest.raises(StaleStepperError):
        list(steps)
    for move in (steps.peek, steps.back):
        with pytest.raises(StaleStepperError):
            move()
    assert bits(grads(o)) == after_backward  # nothing was changed by the refused moves
    assert repr(steps).startswith("<stale backward stepper for o: ")
    steps.reset()  # stale: it writes nothing (the grads are backward's now) and starts again from them
    assert bits(grads(o)) == after_backward
    assert len(list(steps)) == 3 and x.grad == pytest.approx(-3.0)  # a second pass: leaves accumulate


def test_restarting_part_way_gives_one_pass_not_one_and_a_half():
    # Before: stopping after two steps and starting again left b.grad = 1 (true: 0.5).
    x, w, b, n, o = neuron()
    first = Stepper(o)
    next(first)
    next(first)
    second = Stepper(o)
    assert b.grad == 0.0  # the new stepper put back what the first one had added
    list(second)
    assert (x.grad, w.grad, b.grad) == pytest.approx((-1.5, 1.0, 0.5))
    replaced = r"stale: after its step 2 of 3, a new stepper o\.backward_steps\(\) started a new pass"
    with pytest.raises(StaleStepperError, match=replaced):
        next(first)
    third = Stepper(o)  # after a finished pass, a new one is a second pass: leaves accumulate
    list(third)
    assert (x.grad, w.grad, b.grad) == pytest.approx((-3.0, 2.0, 1.0))


def test_a_stepper_that_has_not_started_owns_nothing_and_starts_from_the_graph_as_it_is():
    x, w, b, n, o = neuron()
    first = Stepper(o)
    second = Stepper(o)  # made before the first moved: nothing to put back
    next(second)
    next(first)  # starting a pass puts back the second's part-way one: one pass, not one and a half
    with pytest.raises(StaleStepperError, match=r"after its step 1 of 3, another stepper \(o\.backward_steps\(\)\) started"):
        next(second)
    first.run()
    assert (x.grad, w.grad, b.grad) == pytest.approx((-1.5, 1.0, 0.5))


def test_a_value_changed_before_the_first_step_is_noticed():
    x, w, b, n, o = neuron()
    steps = Stepper(o)
    w.data = 1.0
    with pytest.raises(StaleStepperError, match=r"before its first step, a value in its graph changed \(w\.data is 1"):
        next(steps)


def test_an_unrelated_graph_does_not_disturb_the_stepper():
    x, w, b, n, o = neuron()
    other = Value(1.0, "p") * 2
    other.label = "q"
    steps = Stepper(o)
    next(steps)
    other.backward()
    list(Stepper(other * 3))
    assert len(list(steps)) == 2 and x.grad == pytest.approx(-1.5)


def test_zero_grad_and_plain_assignments_are_noticed():
    x, w, b, n, o = neuron()
    steps = Stepper(o)
    next(steps)
    o.zero_grad()
    with pytest.raises(StaleStepperError, match=r"zero_grad\(\)"):
        next(steps)

    x, w, b, n, o = neuron()
    steps = Stepper(o)
    next(steps)
    n.grad = 5.0  # by hand: no gradient writer was told
    with pytest.raises(StaleStepperError, match=r"something other than this stepper .*n\.grad is 5; this stepper left it at 0\.5"):
        next(steps)


def test_an_optimizer_step_changes_values_and_is_noticed():
    from nn.optim import SGD

    x, w, b, n, o = neuron()
    optimizer = SGD([w, b], lr=0.1)
    steps = Stepper(o)
    next(steps)
    w.grad = 1.0  # pretend an earlier pass left a gradient, so the update moves w
    optimizer.step()
    with pytest.raises(StaleStepperError, match=r"w\.grad is 1; this stepper left it at 0") as caught:
        next(steps)
    assert "reset()" in str(caught.value)


def test_put_back_unfinished_lets_a_backward_pass_start_clean():
    # What backward() can call first, so that a part-way stepper's additions are not counted twice.
    from engine.stepper import put_back_unfinished

    x, w, b, n, o = neuron()
    steps = Stepper(o)
    next(steps)
    next(steps)
    unrelated = Value(1.0) * 2
    put_back_unfinished(topological_order(unrelated), "#1.backward()")  # shares no node: no effect
    assert b.grad == pytest.approx(0.5)
    put_back_unfinished(topological_order(o), "o.backward()")
    assert b.grad == 0.0
    o.backward()
    assert (x.grad, w.grad, b.grad) == pytest.approx((-1.5, 1.0, 0.5))
    with pytest.raises(StaleStepperError, match=r"o\.backward\(\) started a new pass on its graph"):
        next(steps)


def test_a_tool_that_restores_grads_can_step_without_disturbing_the_learner():
    x, w, b, n, o = neuron()
    mine = Stepper(o)
    next(mine)
    saved = [node.grad for node in topological_order(o)]
    list(Stepper(o, put_back=False))  # e.g. the player: it walks a pass, then puts every grad back
    for node, g in zip(topological_order(o), saved):
        node.grad = g
    assert len(list(mine)) == 2 and x.grad == pytest.approx(-1.5)


def test_the_root_must_be_a_value():
    with pytest.raises(TypeError, match="needs a Value root, got float"):
        Stepper(1.0)


# -- issue 18's reproducers: one rule, the same numbers in every run --------------------------------

_TWO_STEPPERS = """
import sys
junk = [object() for _ in range(int(sys.argv[1]))]  # a different allocation pattern per run
from engine import Value
from engine.stepper import Stepper
x, w = Value(2.0, "x"), Value(-3.0, "w")
t = x * w
t.label = "t"
o = (t * 1.5).tanh()
o.label = "o"
first, second = Stepper(o, put_back=False), Stepper(t * 2, put_back=False)
next(first), next(first), next(second)
t.grad = 123.0  # an outside write to an interior grad both steppers use
t.backward()
print((t.grad, o.grad, x.grad, w.grad))
"""


def test_two_part_way_steppers_give_the_same_gradients_in_every_process():
    import subprocess
    import sys

    results = {subprocess.run([sys.executable, "-c", _TWO_STEPPERS, str(n)], capture_output=True, text=True,
                              env={"PYTHONHASHSEED": str(n)}, check=True).stdout for n in (0, 1, 7, 5000)}
    assert len(results) == 1, results


def test_an_outside_write_to_a_finished_node_is_noticed():
    x, w, b, n, o = neuron()
    steps = Stepper(o)
    next(steps)
    o.grad = 5.0  # o's step is done: the stepper never reads it again, and must notice anyway
    with pytest.raises(StaleStepperError, match=r"o\.grad is 5; this stepper left it at 1"):
        steps.run()
    assert o.grad == 5.0


def test_reset_of_a_finished_stepper_leaves_a_later_pass_alone():
    x, w, b, n, o = neuron()
    Stepper(o).run()
    finished = Stepper(o)
    finished.run()
    o.backward()  # a third pass: the finished stepper's grads are no longer its own
    after = bits(grads(o))
    finished.reset()
    assert bits(grads(o)) == after


def test_a_stepper_not_yet_started_writes_nothing_on_reset():
    x, w, b, n, o = neuron()
    steps = Stepper(o)
    o.backward()
    steps.reset()
    assert x.grad == pytest.approx(-1.5)


def test_an_overflowing_product_prints_approximately_not_equals():
    a = Value(1.0, "a")
    out = (a * 1e200) * 1e200  # the second step multiplies a local 1e200 by an upstream 1e200
    steps = Stepper(out)
    next(steps)
    text = str(next(steps))
    assert "adds 1e+200 × 1e+200 ≈ inf" in text
