"""A replay speaks like the node path: a hostile batch is refused naming the sample, the input and
the problem, and a backward pass never returns NaN (it raises, naming the op, the node and the
sample)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from engine import Value, sqrt, trace

np = pytest.importorskip("numpy")


@pytest.fixture
def tape():
    return trace(lambda x, y: (x * y + 1.0).tanh(), 0.5, -1.0)


@pytest.mark.parametrize("batch, error, message", [
    ([[1.0, 2.0], [None, 1.0]], TypeError, r"^sample 1 of the batch, input x0, is None: a missing value\?"),
    ([[1.0, 2.0], [1.0]], ValueError, r"^the batch is ragged: sample 0 has 2 inputs, sample 1 has 1 \(\[1\.0\]\)"),
    ([[1.0, 2.0], (3.0, 4.0, 5.0)], ValueError, r"ragged: sample 0 has 2 inputs, sample 1 has 3"),
    ([[1.0, "2"]], TypeError, r"^sample 0 of the batch, input x1, is the string \('2'\): give the number itself"),
    ([[1.0, 2.0], [Value(1.0), 2.0]], TypeError, r"^sample 1 of the batch, input x0, is a Value .*give its \.data"),
    ([[1.0, 2.0], [1j, 2.0]], TypeError, r"^sample 1 of the batch, input x0, is the complex number \(1j\)"),
    ([[1.0, 2.0], [3.0, True]], TypeError, r"^sample 1 of the batch, input x1, is the bool \(True\)"),
    ([[1.0, 2.0], [math.nan, 1.0]], ValueError, r"^sample 1 of the batch has a non-finite input: x0 = nan"),
    ([[1.0, -math.inf]], ValueError, r"^sample 0 of the batch has a non-finite input: x1 = -inf"),
    ([[1.0, [2.0]]], TypeError, r"^sample 0 of the batch, input x1, is list \(\[2\.0\]\), not a real number"),
    ([[1.0, 2.0], 3.0], TypeError, r"^sample 1 of the batch is float \(3\.0\); a sample is a list of 2 numbers"),
    ([[1.0, 2.0], None], TypeError, r"^sample 1 of the batch is NoneType"),
    ("12", TypeError, r"^a batch is a list of samples, each a list of 2 numbers; got str"),
    (None, TypeError, r"^a batch is a list of samples.*got NoneType"),
    ([], ValueError, r"non-empty list of samples, each 2 numbers"),
    ([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], ValueError, r"each 2 numbers; got an array of shape \(2, 3\)"),
])
def test_a_hostile_batch_is_refused_naming_the_sample_and_the_input(tape, batch, error, message):
    with pytest.raises(error, match=message):
        tape.replay(batch)


@pytest.mark.parametrize("array, message", [
    (np.array([[True, False]]), r"sample 0 of the batch, input x0, is the bool \(True\)"),
    (np.array([[1.0, 2.0], [3.0, 1 + 2j]]), r"sample 0 of the batch, input x0, is the complex number \(\(1\+0j\)\)"),
    (np.array([["1", "2"]]), r"sample 0 of the batch, input x0, is the string \('1'\)"),
    (np.array([[1.0, None]], dtype=object), r"sample 0 of the batch, input x1, is None"),
])
def test_a_numpy_batch_of_the_wrong_kind_is_refused_the_same_way(tape, array, message):
    with pytest.raises(TypeError, match=message):
        tape.replay(array)


def test_numbers_of_every_real_kind_are_taken(tape):
    expected = tape.replay([[0.5, 2.0], [1.0, -3.0]]).outputs.tolist()
    for batch in ([[0.5, 2], (1, -3.0)], np.array([[0.5, 2.0], [1.0, -3.0]], dtype=np.float32),
                  [[np.float32(0.5), np.int64(2)], [np.float64(1.0), Fraction(-3)]], np.array([[1, 2], [1, -3]])):
        outputs = tape.replay(batch).outputs.tolist()
        assert len(outputs) == 2 and (outputs == expected or batch[0][0] == 1)
    one_input = trace(lambda x: x * 2.0, 1.0)
    assert one_input.replay([1.0, 2, np.float32(3.0)]).outputs.tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(TypeError, match=r"sample 1 of the batch, input x0, is the string"):
        one_input.replay([1.0, "2"])


def test_a_nan_gradient_from_two_infinite_paths_raises_naming_op_node_and_sample():
    # sqrt's slope at 0 is +inf: through `sqrt(x)` x gets +inf, through `-2 * sqrt(x)` -inf.
    f = lambda x: sqrt(x) - 2.0 * sqrt(x)  # noqa: E731
    tape = trace(f, 1.0)
    run = tape.replay([[1.0], [4.0], [0.0]])
    assert run.outputs.tolist() == [-1.0, -2.0, 0.0]
    with pytest.raises(FloatingPointError,
                       match=r"^backward through 'sqrt' made the gradient of x0 NaN for sample 2: .*inf - inf"):
        run.backward()
    # Away from 0 the same tape gives the node path's gradients.
    grads = tape.replay([[1.0], [4.0]]).backward()
    assert grads.tolist() == [[-0.5], [-0.25]]


def test_a_nan_gradient_summed_into_a_shared_leaf_raises_naming_the_leaf():
    w = Value(0.0, "w")
    tape = trace(lambda x, y: sqrt(w + x) * y, 1.0, 1.0)  # at w + x = 0, d/dw = y * inf
    # Each sample's own gradient is infinite, as on the node path; summed over the batch, +inf and
    # -inf make NaN.
    assert tape.replay([[0.0, 1.0]]).backward().tolist() == [[math.inf, 0.0]]
    w.grad = 0.0
    with pytest.raises(FloatingPointError, match=r"^backward through '\+' made the gradient of w NaN for the batch's sum"):
        tape.replay([[0.0, 1.0], [0.0, -1.0]]).backward()
    assert w.grad == 0.0  # nothing was added to the leaf


def test_an_infinite_gradient_that_is_not_nan_is_returned_as_the_node_path_gives_it():
    x = Value(0.0)
    sqrt(x).backward()
    tape = trace(lambda x: sqrt(x), 1.0)
    assert tape.replay([[0.0]]).backward().tolist() == [[x.grad]] == [[math.inf]]
