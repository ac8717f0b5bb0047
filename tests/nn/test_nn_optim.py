"""Optimizers: three hand-computed steps each, schedules, and refusal of non-finite gradients."""

import math

import pytest

from engine import Value
from nn import SGD, Adam, MLP, NonFiniteGradientError, RMSprop

GRADS = [0.5, -1.0, 2.0]  # the gradient fed to the optimizer at steps 1, 2, 3


def _run(make, grads=GRADS, start=1.0):
    """Positions of one parameter after each step, feeding it the given gradients."""
    p = Value(start, param=True)
    opt = make([p])
    out = []
    for g in grads:
        opt.zero_grad()
        assert p.grad == 0.0
        p.grad = g
        opt.step()
        out.append(p.data)
    return out


def test_sgd_plain():
    # p <- p - 0.1 g: 1 - 0.05, + 0.1, - 0.2
    assert _run(lambda ps: SGD(ps, lr=0.1)) == pytest.approx([0.95, 1.05, 0.85], abs=1e-15)


def test_sgd_momentum():
    # buffers: 0.5; 0.9*0.5 - 1 = -0.55; 0.9*-0.55 + 2 = 1.505
    assert _run(lambda ps: SGD(ps, lr=0.1, momentum=0.9)) == pytest.approx([0.95, 1.005, 0.8545], abs=1e-15)


def test_sgd_weight_decay():
    # g + 0.1 p: 0.6 -> 0.94; -1 + 0.094 -> 1.0306; 2 + 0.10306 -> 0.820294
    assert _run(lambda ps: SGD(ps, lr=0.1, weight_decay=0.1)) == pytest.approx([0.94, 1.0306, 0.820294], abs=1e-15)


def test_adam():
    # step 1: m_hat = g and v_hat = g^2, so the first move is lr * sign(g) (up to eps)
    # step 2: m = -0.055, v = 0.00124975; m_hat = -0.055/0.19, v_hat = 0.00124975/0.001999
    got = _run(lambda ps: Adam(ps, lr=0.1))
    assert got == pytest.approx([0.900000002, 0.9366103542405653, 0.8946447927181044], abs=1e-12)


def test_adam_weight_decay():
    got = _run(lambda ps: Adam(ps, lr=0.1, weight_decay=0.1))
    assert got == pytest.approx([0.9000000016666666, 0.9252635194456063, 0.8776172608049326], abs=1e-12)


def test_rmsprop():
    # v: 0.0025, 0.012475, 0.05235025; p -= 0.01 g / (sqrt(v) + eps)
    got = _run(lambda ps: RMSprop(ps))
    assert got == pytest.approx([0.90000002, 0.9895323081911337, 0.9021204008561932], abs=1e-12)


def test_defaults_match_pytorch():
    p = [Value(0.0, param=True)]
    adam, rms = Adam(p), RMSprop(p)
    assert (adam.lr, adam.betas, adam.eps, adam.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 0.0)
    assert (rms.lr, rms.alpha, rms.eps) == (1e-2, 0.99, 1e-8)


def test_lr_attribute_change_and_schedule():
    assert _run(lambda ps: SGD(ps, lr=lambda t: [0.1, 0.2, 0.0][t])) == pytest.approx([0.95, 1.15, 1.15])
    p = Value(1.0, param=True)
    opt = SGD([p], lr=0.1)
    p.grad = 1.0
    opt.step()
    opt.lr = 0.5
    opt.step()
    assert p.data == pytest.approx(1.0 - 0.1 - 0.5)
    assert opt.steps == 2


def test_bad_learning_rates():
    p = [Value(1.0, param=True)]
    with pytest.raises(ValueError, match="learning rate"):
        SGD(p, lr=-0.1)
    opt = SGD(p, lr=lambda t: 0.1 if t == 0 else math.nan)
    p[0].grad = 1.0
    opt.step()
    with pytest.raises(ValueError, match="at step 1"):
        opt.step()
    assert p[0].data == pytest.approx(0.9)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.1),
                                  lambda ps: RMSprop(ps)])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_gradient_leaves_everything_untouched(make, bad):
    ps = [Value(1.0, "a", param=True), Value(2.0, "b", param=True)]
    opt = make(ps)
    for p in ps:
        p.grad = 0.3
    opt.step()
    before = [p.data for p in ps]
    state_before = repr({k: v for k, v in vars(opt).items() if k != "params"})
    ps[0].grad, ps[1].grad = 0.1, bad
    with pytest.raises(NonFiniteGradientError, match="parameter 1 \\('b'\\)"):
        opt.step()
    assert [p.data for p in ps] == before
    assert repr({k: v for k, v in vars(opt).items() if k != "params"}) == state_before
    # and it recovers once the gradient is finite again
    ps[1].grad = 0.1
    opt.step()
    assert ps[0].data != before[0]


def test_step_builds_no_graph_nodes():
    model = MLP(2, [3, 1], seed=0)
    out = model([1.0, -1.0])
    out.backward()
    params = model.parameters()
    opt = Adam(params, lr=0.01)
    opt.step()
    assert all(p.parents == () and p.op == "" and p.param for p in params)
    assert model.parameters() == params  # the same objects, updated in place


def test_bad_construction():
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="Values"):
        SGD([1.0], lr=0.1)
    with pytest.raises(ValueError, match="beta2"):
        Adam([Value(1.0)], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="momentum"):
        SGD([Value(1.0)], lr=0.1, momentum=-0.5)


def test_duplicate_parameter_updated_once():
    p = Value(1.0, param=True)
    opt = SGD([p, p], lr=0.1)
    p.grad = 1.0
    opt.step()
    assert p.data == pytest.approx(0.9)


@pytest.mark.parametrize("make", [lambda ps: Adam(ps, eps=0.0), lambda ps: RMSprop(ps, eps=0)])
def test_zero_eps_is_refused(make):
    with pytest.raises(ValueError, match="eps must be > 0"):
        make([Value(1.0)])


@pytest.mark.parametrize("momentum", [1.0, 1.5, 100])
def test_momentum_must_be_below_one(momentum):
    with pytest.raises(ValueError, match=rf"momentum must be in \[0, 1\), got {momentum!r}"):
        SGD([Value(1.0)], lr=0.1, momentum=momentum)
    assert SGD([Value(1.0)], lr=0.1, momentum=0.99).momentum == 0.99
