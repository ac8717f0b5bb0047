"""gradwalk's replay path (needs numpy) and PyTorch: the peers of the numpy and torch processes."""

from __future__ import annotations

from benchmarks.common import ALPHA, LEARNING_RATE, SIZES, training_step
from benchmarks.scalar_peers import Gradwalk


class GradwalkReplay:
    """gradwalk's trace-once-replay-batched path (needs numpy), next to the same step node by node."""

    name = "gradwalk"

    def __init__(self):
        import numpy

        from nn.replay import TapedModel

        self.np, self.TapedModel = numpy, TapedModel

    def b_variants(self, weights, X, y):
        gradwalk = Gradwalk()

        def fit_step(replay, grouped=True):
            def make():
                model = gradwalk.model(weights, True)
                taped = self.TapedModel(model, X[0], grouped=grouped) if replay else None
                return lambda: fit_like_step(model, taped, X, y)
            return make

        return [("gradwalk fit step, node by node", fit_step(False), None),
                ("gradwalk model replayed, loss on Values", fit_step(True), None),
                ("gradwalk replay, one array per node", fit_step(True, grouped=False), None),
                ("gradwalk replay, loss on the tape (fit's step)", lambda: self.taped_loss_step(gradwalk.model(weights, True), X, y),
                 None)]

    def taped_loss_step(self, model, X, y):
        """What `fit(..., replay=True)` runs per step for a named loss: the model, the mean hinge
        loss (the label an input) and the L2 penalty recorded as one tape (`nn.replay.TapedLoss`),
        so that a step is one replay, one backward pass and an SGD update, with no Value built."""
        from nn import SGD
        from nn.replay import TapedLoss

        params = model.parameters()
        taped = TapedLoss(model, "hinge", X, y, 1, l2=ALPHA, l2_params=params, classes=[int(t > 0) for t in y])
        optimizer = SGD(params, lr=LEARNING_RATE)

        def step():
            loss = taped.forward()
            optimizer.zero_grad()
            taped.backward()
            optimizer.step()
            return loss, taped.correct(0.0) / len(y)

        return step


def fit_like_step(model, taped, X, y):
    """What `nn.fit` runs per step: nn's hinge_loss (mean) + l2_penalty, zero grads, backward, SGD."""
    from nn import hinge_loss, l2_penalty

    params = model.parameters()
    outputs = taped.forward(X) if taped else [model(x) for x in X]
    total = hinge_loss(outputs, y) + l2_penalty(params, ALPHA)
    for p in params:
        p.grad = 0.0
    total.backward()
    if taped:
        taped.backward()
    for p in params:
        p.data -= LEARNING_RATE * p.grad
    return total.data, sum((yi > 0) == (o.data > 0) for yi, o in zip(y, outputs)) / len(y)


class TorchScalars:
    """PyTorch driven op by op on 0-d float64 tensors: the same scalar graph, autograd in C++."""

    name = "torch 0-d"
    activation = "tanh"

    def __init__(self):
        import torch

        self.torch = torch

    def scalar(self, v, grad=True):
        return self.torch.tensor(v, dtype=self.torch.float64, requires_grad=grad)

    def chain(self, n):
        x = self.scalar(0.5)
        y = x
        for _ in range(n):
            y = (y * 1.0001 + 0.0001).tanh()
        y.backward()
        return x.grad.item()

    def leaves(self, values):
        return [self.scalar(v) for v in values]

    def sum_products(self, a, b):
        total = sum(ai * bi for ai, bi in zip(a, b))
        total.backward()
        return total.item()

    def model(self, weights, fused):
        return TorchMLP(self, weights)

    def wrap_inputs(self, X):
        return [[self.scalar(x1), self.scalar(x2)] for x1, x2 in X]

    def backward(self, loss):
        loss.backward()

    def sgd(self, params, lr):
        with self.torch.no_grad():
            for p in params:
                p -= lr * p.grad

    def zero_grad(self, params):
        for p in params:
            p.grad = None

    def data(self, v):
        return v.item()

    def graph_nodes(self, root):
        return None  # autograd's nodes live in C++: not counted here

    def model_kinds(self):
        return [("", False)]

    def b_variants(self, weights, X, y):
        def op_by_op():
            model = self.model(weights, False)
            return lambda: training_step(self, model, X, y)

        return [("torch 0-d", op_by_op, None),
                ("torch batched (float64, 1 thread)", lambda: self.batched_step(weights, X, y), None)]

    def batched_step(self, weights, X, y):
        """B on whole-batch float64 tensors, on one thread: how a tensor library does it."""
        torch = self.torch
        torch.set_num_threads(1)  # this process only: the benchmark compares single-threaded work
        it = iter(weights)
        params = []
        for nin, nout in zip(SIZES, SIZES[1:]):
            rows, biases = [], []
            for _ in range(nout):
                rows.append([next(it) for _ in range(nin)])
                biases.append(next(it))
            params += [torch.tensor(rows, dtype=torch.float64, requires_grad=True),
                       torch.tensor(biases, dtype=torch.float64, requires_grad=True)]
        inputs = torch.tensor(X, dtype=torch.float64)
        labels = torch.tensor(y, dtype=torch.float64)

        def step():
            h = inputs
            for k in range(0, len(params), 2):
                h = h @ params[k].T + params[k + 1]
                if k + 2 < len(params):
                    h = h.relu()
            scores = h[:, 0]
            total = (1.0 + -labels * scores).relu().mean() + ALPHA * sum((p * p).sum() for p in params)
            for p in params:
                p.grad = None
            total.backward()
            with torch.no_grad():
                for p in params:
                    p -= LEARNING_RATE * p.grad
            return total.item(), ((labels > 0) == (scores > 0)).double().mean().item()

        step.params = params  # for comparing the trained parameters with gradwalk's (--sweep)
        return step


class TorchMLP:
    """micrograd's MLP over 0-d tensors: neuron = relu(sum(w_i * x_i, b)), last layer linear."""

    def __init__(self, peer, weights):
        it = iter(weights)
        self.layers = []
        for nin, nout in zip(SIZES, SIZES[1:]):
            self.layers.append([([peer.scalar(next(it)) for _ in range(nin)], peer.scalar(next(it))) for _ in range(nout)])

    def __call__(self, x):
        last = len(self.layers) - 1
        for k, layer in enumerate(self.layers):
            outs = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in layer]
            x = outs if k == last else [o.relu() for o in outs]
        return x[0]

    def parameters(self):
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]


