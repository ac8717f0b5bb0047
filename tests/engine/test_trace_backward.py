"""A replay's backward pass works in place: relu's mask multiplies the upstream array itself, each
group's gradients are used up by it, and `inputs=False` skips the inputs' gradients. None of that
may change a number, touch the caller's arrays, or spoil a second backward of the same replay."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Value, dot, trace

np = pytest.importorskip("numpy")

BATCH = [[1.5, -2.0], [-0.5, 0.25], [0.0, 3.0], [2.0, 2.0]]


def layer_tape():
    """Two relu'd `dot` nodes sharing their inputs (one matrix product), and a linear output node
    (an outer product on the way back), whose relus see inputs of both signs and exactly 0."""
    w = [[Value(1.0, "a"), Value(-1.0, "b")], [Value(0.5, "c"), Value(2.0, "d")]]
    v = [Value(1.5, "v0"), Value(-3.0, "v1")]

    def f(x0, x1):
        hidden = [dot(row, [x0, x1]).relu() for row in w]
        return dot(v, hidden)

    return trace(f, 1.0, 1.0), [p for row in w for p in row] + v


def node_gradients(params, batch):
    """d(sum of f over the batch)/d params, node by node, one sample at a time."""
    totals = [0.0] * len(params)
    for sample in batch:
        for p in params:
            p.grad = 0.0
        out = dot(params[4:], [dot(params[0:2], sample).relu(), dot(params[2:4], sample).relu()])
        out.backward()
        totals = [t + p.grad for t, p in zip(totals, params)]
    return totals


def test_relus_mask_in_place_gives_the_node_by_node_gradients():
    tape, params = layer_tape()
    expected = node_gradients(params, BATCH)
    for p in params:
        p.grad = 0.0
    tape.replay(BATCH).backward()
    assert [p.grad for p in params] == pytest.approx(expected, rel=1e-15, abs=0.0)
    assert params[0].grad == expected[0]  # the first weight: sums of exact products, in the same order


def test_a_second_backward_of_the_same_replay_adds_the_same_gradients_again():
    tape, params = layer_tape()
    run = tape.replay(BATCH)
    upstream = np.array([1.0, -2.0, 0.5, 3.0])
    kept = upstream.copy()
    first = run.backward(upstream)
    once = [p.grad for p in params]
    second = run.backward(upstream)
    assert (upstream == kept).all()  # the caller's array is never written into
    assert (first == second).all()
    assert [p.grad for p in params] == [2 * g for g in once]


def test_backward_without_the_inputs_gradients_gives_the_same_leaf_gradients():
    tape, params = layer_tape()
    with_inputs = tape.replay(BATCH).backward()
    grads = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    assert tape.replay(BATCH).backward(inputs=False) is None
    assert [p.grad for p in params] == grads
    assert with_inputs.shape == (4, 2)


def test_an_input_used_directly_by_a_relu_and_unwanted_gets_nothing():
    w = Value(2.0, "w")
    tape = trace(lambda x: x.relu() * w, 1.0)
    run = tape.replay([[1.0], [-1.0], [3.0]])
    assert run.backward(inputs=False) is None and w.grad == 4.0
    assert run.backward().tolist() == [[2.0], [0.0], [2.0]] and w.grad == 8.0


def test_a_nan_from_a_dead_relu_is_still_refused_by_name():
    # relu(x) * huge overflows to inf upstream of a dead relu on the way back: 0 * inf is NaN on
    # nodes too, and the careful pass (not the in-place one) must name it.
    w = Value(1e308, "w")
    tape = trace(lambda x: (x.relu() * w) * 10.0, 1.0)
    run = tape.replay([[-1.0]])
    with pytest.raises(FloatingPointError, match="NaN"):
        run.backward(np.array([1e308]))
    assert w.grad == 0.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=1, max_size=6))
def test_in_place_and_ungrouped_replays_agree(batch):
    tape, params = layer_tape()
    grads = []
    for grouped in (True, False):
        for p in params:
            p.grad = 0.0
        inputs = tape.replay(batch, grouped=grouped).backward()
        grads.append(([p.grad for p in params], inputs))
    (a, ia), (b, ib) = grads
    assert a == pytest.approx(b, rel=1e-12, abs=1e-12) and np.allclose(ia, ib, rtol=1e-12, atol=1e-12)
