"""No NaN gradient is ever written (inf - inf where infinite slopes meet), and a graph pickles."""

from __future__ import annotations

import copy
import pickle

import pytest

from engine import Value, gradients, topological_order


def cancelling_sqrt():
    x = Value(0.0, "x")
    return x, x.sqrt() - 2 * x.sqrt()  # d/dx = inf - 2 inf at 0: no number


def test_backward_refuses_a_nan_gradient_before_writing_anything():
    x, y = cancelling_sqrt()
    with pytest.raises(FloatingPointError, match=r"gradient of x NaN: .* \(inf - inf\), so no gradient was written"):
        y.backward()
    assert [n.grad for n in topological_order(y)] == [0.0] * len(topological_order(y))
    with pytest.raises(FloatingPointError, match="gradients\\(\\) of the root made the gradient of x NaN"):
        gradients(y, [x])


def test_the_stepper_refuses_the_step_that_would_make_it():
    x, y = cancelling_sqrt()
    steps = y.backward_steps()
    with pytest.raises(FloatingPointError, match=r"step 4 of .* made the gradient of x NaN"):
        steps.run()
    assert x.grad == float("-inf") and steps.position == 3  # the last good step stands; nothing half-applied


def test_a_graph_survives_pickle_and_copy_with_its_gradients():
    a = Value(2.0, "a", param=True)
    out = (a * a + 1).tanh()
    out.label = "out"
    for clone in (pickle.loads(pickle.dumps(out)), copy.deepcopy(out)):
        clone.backward()
        (a2,) = [n for n in topological_order(clone) if n.label == "a"]
        assert a2 is not a and a2.param and clone.op == "tanh"
        assert a2.grad == pytest.approx(2 * 2.0 * (1 - clone.data ** 2))
