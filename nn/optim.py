"""Optimizers: turn each parameter's `grad` into an update of its `data`.

The update rules are PyTorch's (torch.optim.SGD, Adam and RMSprop with default options), written
out on plain floats. Updates assign `.data` directly, so they never build graph nodes.

Each `step()` first computes every new value, and only then writes any of them: a NaN or
infinite gradient raises `NonFiniteGradientError` with the parameters and the optimizer's own
state exactly as they were.

The learning rate is the attribute `lr`, which may be changed between steps, or a schedule: a
callable taking the number of steps taken so far (0 on the first step) and returning the rate,
e.g. `lr=lambda t: 1.0 - 0.9 * t / 100`. The other settings (`momentum`, `betas`, `eps`, ...) are
attributes too and may be changed as well: every `step()` checks them all again before it
changes anything.
"""

from __future__ import annotations

import math

from engine import Value
from nn.module import real_number


class NonFiniteGradientError(FloatingPointError):
    """A parameter's gradient is NaN or infinite, so no update was made."""


class Optimizer:
    """Shared bookkeeping: the parameter list, the learning rate or schedule, the step count.

    Subclasses implement `_updates(lr)`, returning the new data for every parameter and a
    function that commits their new internal state, and `_check_settings()`, which checks their
    settings (and stores them as floats); `step()` does the checking and writing.
    """

    def __init__(self, params, lr):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        unique, seen = [], set()
        for p in params:
            if not isinstance(p, Value):
                raise TypeError(f"{type(self).__name__} optimizes Values, got {type(p).__name__}")
            if id(p) not in seen:  # a parameter listed twice must still be updated once
                seen.add(id(p))
                unique.append(p)
        self.params = unique
        self.lr = lr
        self.steps = 0
        self.current_lr()  # refuse a bad rate now rather than at the first step

    def current_lr(self) -> float:
        """The learning rate the next `step()` will use (the schedule evaluated at `steps`)."""
        lr = self.lr(self.steps) if callable(self.lr) else self.lr
        rate = real_number(lr, f"learning rate (at step {self.steps})")
        if not math.isfinite(rate) or rate < 0:
            raise ValueError(f"learning rate must be a finite number >= 0, got {lr!r} at step {self.steps}")
        return rate

    def zero_grad(self) -> None:
        """Set every parameter's `grad` to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter once from its current `grad`."""
        lr = self.current_lr()
        self._check_settings()  # they may have been changed since the last step
        params = self.params
        for i, p in enumerate(params):
            g = p.grad
            if g - g != 0.0:  # true for NaN and +-inf only; cheaper than math.isfinite per item
                name = f" ({p.label!r})" if p.label else ""
                raise NonFiniteGradientError(
                    f"parameter {i}{name} has gradient {g!r}; no parameter was updated "
                    "(the loss probably overflowed: try a smaller learning rate)"
                )
        new_data, commit = self._updates(lr)
        for i, v in enumerate(new_data):
            if v - v != 0.0:
                raise NonFiniteGradientError(
                    f"the update would make parameter {i} {v!r}; no parameter was updated (try a smaller learning rate)"
                )
        commit()
        for p, v in zip(params, new_data):
            p.data = v
        self.steps += 1

    def _updates(self, lr: float):
        raise NotImplementedError

    def _check_settings(self) -> None:
        pass

    def _coefficient(self, x, what: str, upper=None) -> float:
        """x as a float in [0, upper) (or [0, inf) when upper is None), else an error naming it."""
        where = f"{type(self).__name__} {what}"
        value = real_number(x, where)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{where} must be a finite number >= 0, got {x!r}")
        if upper is not None and value >= upper:
            raise ValueError(f"{where} must be in [0, {upper:g}), got {x!r}")
        return value

    def _positive_eps(self) -> float:
        eps = self._coefficient(self.eps, "eps")
        if eps == 0.0:  # it is what keeps a zero gradient from dividing by zero
            raise ValueError(f"{type(self).__name__} eps must be > 0: it keeps a parameter with zero gradient "
                             "from dividing by zero")
        return eps


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum and weight decay.

    With g = grad + weight_decay * p:
        momentum = 0:  p <- p - lr * g
        momentum > 0:  b <- g on the first step, then b <- momentum * b + g;  p <- p - lr * b

    `momentum` must lie in [0, 1) (0.9 is usual): the buffer b is a running sum of past
    gradients, each weighted by momentum^age, so at 1 or above old gradients never fade.
    """

    def __init__(self, params, lr, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self._check_settings()
        self.buffers = None  # momentum buffers, created on the first step as PyTorch does

    def _check_settings(self) -> None:
        momentum = self._coefficient(self.momentum, "momentum")
        if momentum >= 1.0:
            # PyTorch accepts it, but the buffer then sums every past gradient undiminished (or
            # amplified), so the steps never shrink and training cannot settle.
            raise ValueError(f"SGD momentum must be in [0, 1), got {self.momentum!r}: from 1 up, old gradients "
                             "never fade and the steps keep growing (0.9 is usual)")
        self.momentum = momentum
        self.weight_decay = self._coefficient(self.weight_decay, "weight_decay")

    def _updates(self, lr):
        wd, mu = self.weight_decay, self.momentum
        grads = [p.grad + wd * p.data for p in self.params] if wd else [p.grad for p in self.params]
        if not mu:
            return [p.data - lr * g for p, g in zip(self.params, grads)], _nothing
        if self.buffers is None:
            buffers = grads
        else:
            buffers = [mu * b + g for b, g in zip(self.buffers, grads)]

        def commit():
            self.buffers = buffers

        return [p.data - lr * b for p, b in zip(self.params, buffers)], commit


class Adam(Optimizer):
    """Adam: steps scaled by running averages of the gradient and its square.

    With g = grad + weight_decay * p and t the 1-based step number:
        m <- b1 m + (1 - b1) g            v <- b2 v + (1 - b2) g^2
        m_hat = m / (1 - b1^t)            v_hat = v / (1 - b2^t)
        p <- p - lr * m_hat / (sqrt(v_hat) + eps)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay
        self._check_settings()
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def _check_settings(self) -> None:
        betas = self.betas
        if not isinstance(betas, (list, tuple)) or len(betas) != 2:
            raise ValueError(f"Adam betas should be a pair (beta1, beta2), got {betas!r:.60}")
        # beta = 1 would divide by 1 - beta**t = 0 in the bias correction
        self.betas = (self._coefficient(betas[0], "beta1", upper=1.0), self._coefficient(betas[1], "beta2", upper=1.0))
        self.eps = self._positive_eps()
        self.weight_decay = self._coefficient(self.weight_decay, "weight_decay")

    def _updates(self, lr):
        b1, b2 = self.betas
        eps, wd = self.eps, self.weight_decay
        t = self.steps + 1
        correction1 = 1.0 - b1**t
        correction2 = 1.0 - b2**t
        new_m, new_v, new_data = [], [], []
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad + wd * p.data if wd else p.grad
            m = b1 * m + (1.0 - b1) * g
            v = b2 * v + (1.0 - b2) * g * g
            new_m.append(m)
            new_v.append(v)
            new_data.append(p.data - lr * (m / correction1) / (math.sqrt(v / correction2) + eps))

        def commit():
            self.m, self.v = new_m, new_v

        return new_data, commit


class RMSprop(Optimizer):
    """RMSprop: steps divided by a running root-mean-square of the gradient.

    With g = grad + weight_decay * p:
        v <- alpha v + (1 - alpha) g^2
        p <- p - lr * g / (sqrt(v) + eps)
    """

    def __init__(self, params, lr=1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.alpha, self.eps, self.weight_decay = alpha, eps, weight_decay
        self._check_settings()
        self.v = [0.0] * len(self.params)

    def _check_settings(self) -> None:
        self.alpha = self._coefficient(self.alpha, "alpha", upper=1.0)
        self.eps = self._positive_eps()
        self.weight_decay = self._coefficient(self.weight_decay, "weight_decay")

    def _updates(self, lr):
        alpha, eps, wd = self.alpha, self.eps, self.weight_decay
        new_v, new_data = [], []
        for p, v in zip(self.params, self.v):
            g = p.grad + wd * p.data if wd else p.grad
            v = alpha * v + (1.0 - alpha) * g * g
            new_v.append(v)
            new_data.append(p.data - lr * g / (math.sqrt(v) + eps))

        def commit():
            self.v = new_v

        return new_data, commit


def _nothing() -> None:
    pass
