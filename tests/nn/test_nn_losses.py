"""Losses: hand-computed values and gradients, finite differences, stability, bad inputs."""

import math

import pytest

from engine import Value, gradcheck
from nn import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    l2_penalty,
    mse_loss,
    softmax,
)


def _vals(*xs):
    return [Value(x) for x in xs]


def test_mse_value_and_grads():
    p = _vals(1.0, 2.0, -1.0)
    loss = mse_loss(p, [0.0, 2.5, 1.0])  # squares 1, 0.25, 4
    assert loss.data == pytest.approx(1.75)
    loss.backward()
    assert [v.grad for v in p] == pytest.approx([2 / 3, -1 / 3, -4 / 3])  # 2 (p - t) / n
    assert mse_loss(_vals(1.0, 2.0, -1.0), [0.0, 2.5, 1.0], reduction="sum").data == pytest.approx(5.25)


def test_mse_single_sample_convenience():
    assert mse_loss(Value(3.0), 1.0).data == 4.0
    assert mse_loss(3.0, 1).data == 4.0


def test_bce_values():
    assert binary_cross_entropy(_vals(0.9, 0.2), [1, 0]).data == pytest.approx(0.164252033486018)
    assert binary_cross_entropy(Value(0.6), 0.3).data == pytest.approx(0.7946511994417057)
    p = Value(0.8)
    binary_cross_entropy(p, 1.0).backward()
    assert p.grad == pytest.approx(-1 / 0.8)


def test_bce_clamps_instead_of_log_zero():
    for p, t in [(0.0, 1), (1.0, 0)]:
        v = Value(p)
        loss = binary_cross_entropy([v], [t])
        assert loss.data == pytest.approx(-math.log(1e-7))
        loss.backward()
        assert v.grad == 0.0  # a clamped prediction is constant
    assert binary_cross_entropy(Value(1.0), 1).data == pytest.approx(-math.log(1 - 1e-7))


@pytest.mark.parametrize("p", [3.0, -0.2, 1.0000001])
def test_bce_refuses_predictions_outside_unit_interval(p):
    # A clamped raw score passes no gradient: bce([3.0], [0]) used to be 16.1 with grad 0.
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*prediction 1 is .*binary_cross_entropy_with_logits"):
        binary_cross_entropy([Value(0.5), Value(p)], [1, 0])


def test_bce_with_logits_values_and_grad():
    z = _vals(0.0, 2.0)
    loss = binary_cross_entropy_with_logits(z, [1, 0], reduction="sum")
    assert loss.data == pytest.approx(math.log(2) + 2.1269280110429727)
    loss.backward()
    assert z[0].grad == pytest.approx(0.5 - 1)  # sigmoid(z) - t
    assert z[1].grad == pytest.approx(1 / (1 + math.exp(-2)))


def test_bce_with_logits_matches_bce_on_sigmoid():
    for z, t in [(-3.0, 0.0), (0.4, 1.0), (1.7, 0.25)]:
        a = binary_cross_entropy_with_logits(Value(z), t).data
        b = binary_cross_entropy(Value(z).sigmoid(), t).data
        assert a == pytest.approx(b, rel=1e-9)


def test_hinge_values_and_grads():
    s = _vals(2.0, 0.5, -0.3)
    loss = hinge_loss(s, [1, 1, -1])  # 0, 0.5, 0.7
    assert loss.data == pytest.approx(0.4)
    loss.backward()
    assert [v.grad for v in s] == pytest.approx([0.0, -1 / 3, 1 / 3])
    assert hinge_loss(Value(-2.0), -1.0).data == 0.0


def test_cross_entropy_values_and_grads():
    z = _vals(1.0, 2.0, 3.0)
    loss = cross_entropy([z], [2])
    assert loss.data == pytest.approx(0.4076059644443806)
    loss.backward()
    softmax = [0.09003057317038046, 0.24472847105479767, 0.6652409557748219]
    assert [v.grad for v in z] == pytest.approx([softmax[0], softmax[1], softmax[2] - 1])
    # a single sample without the outer list
    assert cross_entropy(_vals(1.0, 2.0, 3.0), 2).data == pytest.approx(0.4076059644443806)
    batch = cross_entropy([_vals(1.0, 2.0, 3.0), _vals(0.0, 0.0, 0.0)], [2, 1], reduction="sum")
    assert batch.data == pytest.approx(0.4076059644443806 + math.log(3))


def test_l2_penalty_value_and_grads():
    ps = _vals(1.0, -2.0, 3.0)
    pen = l2_penalty(ps, 0.1)
    assert pen.data == pytest.approx(1.4)
    pen.backward()
    assert [p.grad for p in ps] == pytest.approx([0.2, -0.4, 0.6])
    with pytest.raises(ValueError, match="alpha"):
        l2_penalty(ps, -1.0)


# -- finite differences ----------------------------------------------------------------------------

def test_gradcheck_mse():
    assert gradcheck(lambda a, b: mse_loss([a, b], [0.5, -1.0]), 1.3, 0.2)


def test_gradcheck_bce():
    assert gradcheck(lambda a, b: binary_cross_entropy([a, b], [1.0, 0.3]), 0.7, 0.4)


def test_gradcheck_bce_with_logits():
    assert gradcheck(lambda a, b: binary_cross_entropy_with_logits([a, b], [1.0, 0.0]), -1.2, 2.5)


def test_gradcheck_hinge():
    # away from the kink at margin 1
    assert gradcheck(lambda a, b, c: hinge_loss([a, b, c], [1, -1, 1], reduction="sum"), 0.3, -0.5, 1.5)


def test_gradcheck_cross_entropy():
    assert gradcheck(lambda a, b, c, d: cross_entropy([[a, b], [c, d]], [0, 1]), 0.5, -1.0, 2.0, 0.1)


def test_gradcheck_l2():
    assert gradcheck(lambda a, b: l2_penalty([a, b], 0.01), 0.5, -3.0)


# -- stability at extreme logits ---------------------------------------------------------------------

@pytest.mark.parametrize("z", [1000.0, -1000.0])
@pytest.mark.parametrize("t", [0.0, 1.0])
def test_bce_with_logits_stable(z, t):
    v = Value(z)
    loss = binary_cross_entropy_with_logits(v, t)
    loss.backward()
    assert math.isfinite(loss.data) and math.isfinite(v.grad)
    wrong = (z > 0) != (t == 1.0)
    assert loss.data == pytest.approx(1000.0 if wrong else 0.0)
    assert v.grad == pytest.approx((1.0 if z > 0 else 0.0) - t)


def test_cross_entropy_stable():
    z = _vals(1000.0, -1000.0, 0.0)
    loss = cross_entropy([z], [1])
    loss.backward()
    assert loss.data == pytest.approx(2000.0)
    assert all(math.isfinite(v.grad) for v in z)
    assert [v.grad for v in z] == pytest.approx([1.0, -1.0, 0.0])
    right = _vals(-1000.0, 1000.0)
    assert cross_entropy([right], [1]).data == 0.0


# -- bad inputs --------------------------------------------------------------------------------------

def test_label_domains():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        binary_cross_entropy([Value(0.5)], [2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        binary_cross_entropy_with_logits([Value(0.5)], [-1])
    with pytest.raises(ValueError, match=r"-1 or \+1, got 0 \(for 0/1 labels use 2\*y - 1"):
        hinge_loss([Value(0.5)], [0])
    with pytest.raises(TypeError, match="hinge_loss label should be a real number .* not the bool True"):
        hinge_loss([Value(0.5)], [True])
    with pytest.raises(ValueError, match=r"classes 0..2 \(one per output\), got 3"):
        cross_entropy([_vals(1, 2, 3)], [3])
    with pytest.raises(ValueError, match=r"classes 0..1 \(one per output\), got -1"):
        cross_entropy([_vals(1, 2)], [-1])


@pytest.mark.parametrize("fn", [mse_loss, binary_cross_entropy, binary_cross_entropy_with_logits, hinge_loss,
                                cross_entropy])
def test_empty_and_mismatched_batches(fn):
    with pytest.raises(ValueError, match="empty batch"):
        fn([], [])
    with pytest.raises(ValueError, match="2 predictions but 1 targets"):
        fn([Value(0.5), Value(0.5)], [1])


def test_bad_reduction_and_target_types():
    with pytest.raises(ValueError, match="reduction"):
        mse_loss([Value(1.0)], [1.0], reduction="avg")
    with pytest.raises(TypeError, match=r"mse_loss target should be a real number \(int, float or a numpy scalar\), "
                                        "not str '1'"):
        mse_loss([Value(1.0)], ["1"])
    with pytest.raises(ValueError, match="mse_loss target got NaN"):
        mse_loss([Value(1.0)], [math.nan])
    with pytest.raises(ValueError, match="finite"):
        mse_loss([Value(1.0)], [math.inf])


# -- softmax ------------------------------------------------------------------------------------------

def test_softmax_worked_numbers_and_gradients():
    z = _vals(1.0, 2.0, 3.0)
    probs = softmax(z)
    assert [p.data for p in probs] == pytest.approx([0.09003057317038046, 0.24472847105479764,
                                                     0.6652409557748219], rel=1e-12)
    assert sum(p.data for p in probs) == pytest.approx(1.0, abs=1e-15)
    # d s_2 / d z_j = s_2 (delta_2j - s_j)
    probs[2].backward()
    s = [p.data for p in probs]
    assert [v.grad for v in z] == pytest.approx([-s[2] * s[0], -s[2] * s[1], s[2] * (1 - s[2])], rel=1e-12)


def test_softmax_is_what_cross_entropy_scores():
    z = [0.5, -1.0, 2.0]
    for c in range(3):
        assert -math.log(softmax(z)[c].data) == pytest.approx(cross_entropy(z, c).data, rel=1e-12)


def test_gradcheck_softmax():
    assert gradcheck(lambda a, b, c: softmax([a, b, c])[0] * 2.0 + softmax([a, b, c])[2], 0.3, -1.2, 0.8)


def test_softmax_stable_and_checked():
    probs = softmax([1000.0, -1000.0, 1000.0])
    assert [p.data for p in probs] == [0.5, 0.0, 0.5]
    assert softmax([Value(7.0)])[0].data == 1.0
    with pytest.raises(ValueError, match="non-empty list"):
        softmax([])
    with pytest.raises(ValueError, match="non-empty list"):
        softmax(Value(1.0))
    with pytest.raises(TypeError, match="softmax logit"):
        softmax([1.0, "a"])


def test_resolve_loss_names_functions_and_refusals():
    from nn.losses import LOSSES, resolve_loss

    assert [resolve_loss(name) for name in LOSSES] == [
        hinge_loss, mse_loss, binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy]

    def mine(outputs, targets):
        return mse_loss(outputs, targets)

    assert resolve_loss(mine) is mine
    with pytest.raises(ValueError, match="unknown loss 'nll'; choose one of hinge, mse, bce, bce_with_logits, "
                                         "cross_entropy or pass a function"):
        resolve_loss("nll")
    for not_a_loss in (None, 3, ["mse"]):
        with pytest.raises(TypeError, match=r"loss should be a name \(hinge, .*\) or a function .* not "
                                            + type(not_a_loss).__name__):
            resolve_loss(not_a_loss)
    with pytest.raises(ValueError) as info:
        resolve_loss("x" * 5_000_000)
    assert len(str(info.value)) < 300
