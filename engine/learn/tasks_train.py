"""Exercises 8 to 10: an SGD step and an Adam step, the delta rule for a layer, and training XOR
with the learner's own pieces.

The optimizers are checked against the update rules worked out in floats; the delta rule against
the engine's `gradients` of the same layer built from Values; XOR by what the trained model says.
"""

from __future__ import annotations

import math

from engine.core.graph import gradients
from engine.core.value import Value
from engine.learn.verdict import WrongAnswer, call, close, needs, number, search, show

OPTIM_STUB = '''"""Exercise 8: an SGD step and an Adam step.

sgd_step(params, lr): move every parameter against its gradient: p.data -= lr * p.grad.

Adam(params, lr, beta1, beta2, eps): step() keeps, per parameter, a running mean m of the gradient
and a running mean v of its square, corrects both for starting at 0, and steps by
    m = beta1 m + (1 - beta1) g          v = beta2 v + (1 - beta2) g**2
    m_hat = m / (1 - beta1**t)           v_hat = v / (1 - beta2**t)      (t = 1, 2, ... the step)
    p.data -= lr * m_hat / (sqrt(v_hat) + eps)

Check it with:  gradwalk learn check 8
"""

import math


def sgd_step(params, lr):
    raise NotImplementedError("exercise 8: write sgd_step")


class Adam:
    def __init__(self, params, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params = list(params)
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps

    def step(self):
        raise NotImplementedError("exercise 8: write Adam.step")
'''

OPTIM_SOLUTION = '''"""Exercise 8: an SGD step and an Adam step (a reference solution)."""

import math


def sgd_step(params, lr):
    for p in params:
        p.data -= lr * p.grad


class Adam:
    def __init__(self, params, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params = list(params)
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.t = 0

    def step(self):
        self.t += 1
        for k, p in enumerate(self.params):
            self.m[k] = self.beta1 * self.m[k] + (1 - self.beta1) * p.grad
            self.v[k] = self.beta2 * self.v[k] + (1 - self.beta2) * p.grad ** 2
            m_hat = self.m[k] / (1 - self.beta1 ** self.t)
            v_hat = self.v[k] / (1 - self.beta2 ** self.t)
            p.data -= self.lr * m_hat / (math.sqrt(v_hat) + self.eps)
'''

_START, _GRADS = [1.0, -0.5, 2.0], [[0.3, -1.2, 0.0], [0.1, 0.4, -2.0], [-0.5, 0.2, 1.0]]


def _adam(lr, correct_m: bool = True, correct_v: bool = True) -> list[list[float]]:
    """The parameters after each of Adam's steps on _GRADS, in floats."""
    data, m, v, after = list(_START), [0.0] * 3, [0.0] * 3, []
    for t, grads in enumerate(_GRADS, start=1):
        for k, g in enumerate(grads):
            m[k] = 0.9 * m[k] + 0.1 * g
            v[k] = 0.999 * v[k] + 0.001 * g * g
            m_hat = m[k] / (1 - 0.9 ** t) if correct_m else m[k]
            v_hat = v[k] / (1 - 0.999 ** t) if correct_v else v[k]
            data[k] -= lr * m_hat / (math.sqrt(v_hat) + 1e-8)
        after.append(list(data))
    return after


def check_optimizers(names: dict, thorough: bool) -> str:
    sgd, adam = needs(names, "sgd_step", "Adam")
    params = [Value(x) for x in _START]
    for p, g in zip(params, _GRADS[0]):
        p.grad = g
    call("your sgd_step", sgd, params, 0.1)
    for k, (p, x, g) in enumerate(zip(params, _START, _GRADS[0])):
        got, want = number("a parameter after your sgd_step", p), x - 0.1 * g
        if not close(got, want, rel=1e-9, abs_=1e-12):
            tip = "step against the gradient: subtract lr * grad" if close(got, x + 0.1 * g) else ""
            raise WrongAnswer(f"after your sgd_step with lr = 0.1, a parameter at {x} with grad {g} is {show(got)}; "
                              f"it should be {show(want)}", tip)
    params = [Value(x) for x in _START]
    optimizer = call("your Adam(params, lr=0.1)", adam, params, 0.1)
    for t, (grads, want) in enumerate(zip(_GRADS, _adam(0.1)), start=1):
        for p, g in zip(params, grads):
            p.grad = g
        call("your Adam's step()", optimizer.step)
        got = [number("a parameter after your Adam step", p) for p in params]
        for k in range(3):
            if not close(got[k], want[k], rel=1e-7, abs_=1e-9):
                uncorrected = [_adam(0.1, *flags)[t - 1][k] for flags in ((False, True), (True, False), (False, False))]
                tip = ("that is without the bias correction: divide m by 1 - beta1**t and v by 1 - beta2**t"
                       if any(close(got[k], u, rel=1e-7, abs_=1e-9) for u in uncorrected)
                       else "keep m, v and t from one step to the next, per parameter")
                raise WrongAnswer(f"after {t} Adam step(s) with lr = 0.1 from {_START} with grads {_GRADS[:t]}, "
                                  f"parameter {k} is {show(got[k])}; Adam's rule gives {show(want[k])}", tip)
    return "your SGD and Adam steps move each parameter exactly as the update rules say"


DELTA_STUB = '''"""Exercise 9: the delta rule for a layer, by hand, in floats (no Values).

A sigmoid layer computes, for each of its neurons j,
    z[j] = sum_i W[j][i] * x[i] + b[j],      y[j] = sigmoid(z[j]) = 1 / (1 + exp(-z[j]))
Given dL_dy (dL/dy[j] for each j, from the layer above), return (dW, db, dx):
    delta[j] = dL/dz[j] = dL_dy[j] * y[j] * (1 - y[j])       (sigmoid' = y (1 - y))
    dW[j][i] = delta[j] * x[i],   db[j] = delta[j],   dx[i] = sum_j W[j][i] * delta[j]
W is a list of rows (one per neuron), b and x are lists of floats.

Check it with:  gradwalk learn check 9
"""

import math


def layer_backward(W, b, x, dL_dy):
    raise NotImplementedError("exercise 9: write layer_backward")
'''

DELTA_SOLUTION = '''"""Exercise 9: the delta rule for a layer (a reference solution)."""

import math


def layer_backward(W, b, x, dL_dy):
    y = [1 / (1 + math.exp(-(sum(w * xi for w, xi in zip(row, x)) + bj))) for row, bj in zip(W, b)]
    delta = [g * yj * (1 - yj) for g, yj in zip(dL_dy, y)]
    dW = [[d * xi for xi in x] for d in delta]
    dx = [sum(W[j][i] * delta[j] for j in range(len(W))) for i in range(len(x))]
    return dW, delta, dx
'''


def check_delta_rule(names: dict, thorough: bool) -> str:
    (learner,) = needs(names, "layer_backward")
    _check_delta(learner, [[0.5, -1.0, 0.25], [1.5, 0.3, -0.7]], [0.1, -0.2], [1.0, 2.0, -1.0], [0.7, -1.3])
    if thorough:
        from hypothesis import strategies as st

        w = st.floats(-2, 2)
        shapes = st.tuples(st.integers(1, 3), st.integers(1, 3))
        cases = shapes.flatmap(lambda s: st.tuples(
            st.lists(st.lists(w, min_size=s[1], max_size=s[1]), min_size=s[0], max_size=s[0]),
            st.lists(w, min_size=s[0], max_size=s[0]), st.lists(w, min_size=s[1], max_size=s[1]),
            st.lists(w, min_size=s[0], max_size=s[0])))
        search(cases, lambda c: _check_delta(learner, *c), examples=30)
    return "your delta rule gives the same dW, db and dx as backprop through the layer"


def _check_delta(learner, W, b, x, dL_dy) -> None:
    Wv = [[Value(w) for w in row] for row in W]
    bv, xv = [Value(v) for v in b], [Value(v) for v in x]
    ys = [(sum((w * xi for w, xi in zip(row, xv)), start=bj)).sigmoid() for row, bj in zip(Wv, bv)]
    loss = sum((g * y for g, y in zip(dL_dy, ys)), start=Value(0.0))
    flat = [w for row in Wv for w in row]
    truth = gradients(loss, flat + bv + xv)
    want_W = [truth[j * len(x):(j + 1) * len(x)] for j in range(len(W))]
    want_b, want_x = truth[len(flat):len(flat) + len(b)], truth[len(flat) + len(b):]
    result = call("your layer_backward", learner, [list(r) for r in W], list(b), list(x), list(dL_dy))
    try:
        dW, db, dx = result
    except (TypeError, ValueError):
        raise WrongAnswer(f"your layer_backward returned {type(result).__name__}; return the three lists (dW, db, dx)") from None
    setting = f"for W = {W}, b = {b}, x = {x}, dL/dy = {dL_dy}"
    sigmoid_slope = [y.data * (1 - y.data) for y in ys]
    for name, got, want in _entries(dW, db, dx, want_W, want_b, want_x):
        value = number(f"your {name}", got)
        if not close(value, want, rel=1e-6, abs_=1e-9):
            tip = ("delta[j] = dL_dy[j] * y[j] * (1 - y[j]): the sigmoid's slope is missing"
                   if any(close(value * s, want, rel=1e-6, abs_=1e-9) for s in sigmoid_slope) else
                   "dx[i] sums over the neurons j: W[j][i] * delta[j]" if name.startswith("dx") else
                   "delta[j] = dL_dy[j] * y[j] * (1 - y[j]), then dW[j][i] = delta[j] * x[i] and db[j] = delta[j]")
            raise WrongAnswer(f"your {name} is {show(value)} {setting}; backprop through the layer gives {show(want)}", tip)


def _entries(dW, db, dx, want_W, want_b, want_x):
    def rows(name, got, want):
        got = list(got)
        if len(got) != len(want):
            raise WrongAnswer(f"your {name} has {len(got)} entries; it should have {len(want)}")
        return got

    for j, (row, want_row) in enumerate(zip(rows("dW", dW, want_W), want_W)):
        for i, (g, w) in enumerate(zip(rows(f"dW[{j}]", row, want_row), want_row)):
            yield f"dW[{j}][{i}]", g, w
    for name, got, want in (("db", db, want_b), ("dx", dx, want_x)):
        for k, (g, w) in enumerate(zip(rows(name, got, want), want)):
            yield f"{name}[{k}]", g, w


XOR_STUB = '''"""Exercise 10: train XOR with your own pieces: your MLP (exercise 6), your cross-entropy
loss (exercise 7) and your optimizer (exercise 8). engine's Value.backward() does the backward pass.

train_xor() returns a trained model whose output is above 0 for label 1 and below 0 for label 0,
on all four points. The model's tanh output o is in (-1, 1), so read it as the probability
p = (o + 1) / 2. Each step: zero every parameter's grad (leaves accumulate), compute the loss
over the four points, backward, optimizer step.

Check it with:  gradwalk learn check 10
"""

import random

from ex06_mlp import MLP
from ex07_losses import bce_loss
from ex08_optimizers import Adam

XOR = [([0.0, 0.0], 0), ([0.0, 1.0], 1), ([1.0, 0.0], 1), ([1.0, 1.0], 0)]


def train_xor(steps=300, seed=0):
    random.seed(seed)
    model = MLP(2, [4, 1])
    raise NotImplementedError("exercise 10: write the training loop")
'''

XOR_SOLUTION = '''"""Exercise 10: training XOR (a reference solution)."""

import random

from ex06_mlp import MLP
from ex07_losses import bce_loss
from ex08_optimizers import Adam

XOR = [([0.0, 0.0], 0), ([0.0, 1.0], 1), ([1.0, 0.0], 1), ([1.0, 1.0], 0)]


def train_xor(steps=300, seed=0):
    random.seed(seed)
    model = MLP(2, [4, 1])
    optimizer = Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        for p in model.parameters():
            p.grad = 0.0
        loss = bce_loss([(model(x) + 1) / 2 for x, _ in XOR], [y for _, y in XOR])
        loss.backward()
        optimizer.step()
    return model
'''

XOR_POINTS = [([0.0, 0.0], 0), ([0.0, 1.0], 1), ([1.0, 0.0], 1), ([1.0, 1.0], 0)]


def check_xor(names: dict, thorough: bool) -> str:
    (train,) = needs(names, "train_xor")
    model = call("your train_xor()", train)
    outputs = [number(f"your model's output for {x}", call(f"your model({x})", model, list(x))) for x, _ in XOR_POINTS]
    wrong = [(x, y, o) for (x, y), o in zip(XOR_POINTS, outputs) if (o > 0) != (y == 1)]
    if wrong:
        shown = "; ".join(f"{x} gives {show(o)} for label {y}" for x, y, o in wrong)
        raise WrongAnswer(f"your trained model gets {4 - len(wrong)} of the 4 XOR points right: {shown}",
                          "zero the grads before every backward, step against the gradient, and train long enough")
    return "your own MLP, loss and optimizer learned XOR: " + ", ".join(
        f"{x} -> {show(o)}" for (x, _), o in zip(XOR_POINTS, outputs))
