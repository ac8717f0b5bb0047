"""gradwalk, micrograd and plain Python floats: the peers of the clean process.

Each peer builds the workloads from its own API. `chain(n)`, `sum_products(a, b)` and a training
step each build a graph, run backward and drop the graph; the caller times them. `chain_root(n)`
and `sum_root(a, b)` build the same graphs without backward (for counting their nodes), and
`b_variants` lists (label, make) for workload B, where make() returns a step function on fresh
weights.
"""

from __future__ import annotations

from benchmarks.common import ALPHA, LEARNING_RATE, SIZES, loss_graph, recursion_limit, training_step
from engine import Value, dot, sum_values, topological_order


class ScalarPeer:
    """What gradwalk and micrograd share: Values with `.data` and `.grad`, updated in place."""

    def backward(self, loss):
        loss.backward()

    def sgd(self, params, lr):
        for p in params:
            p.data -= lr * p.grad

    def zero_grad(self, params):
        for p in params:
            p.grad = 0.0

    def data(self, v):
        return v.data

    def b_variants(self, weights, X, y):
        variants = []
        for suffix, kind in self.model_kinds():
            def make(kind=kind):
                model = self.model(weights, kind)
                return lambda: training_step(self, model, X, y)
            variants.append((f"{self.name} {suffix}".strip(), make, lambda kind=kind: self.b_nodes(weights, X, y, kind)))
        return variants

    def b_nodes(self, weights, X, y, kind):
        """How many nodes one B step's graph has (leaves included)."""
        total, _, _ = loss_graph(self, self.model(weights, kind), X, y)
        return len(self.graph_nodes(total))

    def model_kinds(self):
        return [("", False)]


class Gradwalk(ScalarPeer):
    name = "gradwalk"
    activation = "tanh"

    def chain_root(self, n):
        x = Value(0.5)
        y = x
        for _ in range(n):
            y = (y * 1.0001 + 0.0001).tanh()
        return x, y

    def chain(self, n):
        x, y = self.chain_root(n)
        y.backward()
        return x.grad

    def leaves(self, values):
        return [Value(v) for v in values]

    def sum_root(self, a, b):
        return sum(ai * bi for ai, bi in zip(a, b))

    def sum_products(self, a, b):
        total = self.sum_root(a, b)
        total.backward()
        return total.data

    def sum_values_products(self, a, b):
        total = sum_values(ai * bi for ai, bi in zip(a, b))
        total.backward()
        return total.data

    def model(self, weights, fused):
        if fused == "engine":
            return EngineMLP(weights)
        from nn import MLP

        model = MLP(2, SIZES[1:], activation="relu", output_activation="linear", fused=fused)
        for p, w in zip(model.parameters(), weights, strict=True):
            p.data = w
        return model

    wrap_inputs = staticmethod(lambda X: [[Value(x1), Value(x2)] for x1, x2 in X])

    def model_kinds(self):
        """gradwalk's default MLP, its elementary graph, and the same fused graph built from
        `engine.dot` directly."""
        return [("fused MLP", True), ("elementary", False), ("dot, no nn", "engine")]

    def graph_nodes(self, root):
        return topological_order(root)


class EngineMLP:
    """The default MLP's graph built straight from `engine.dot`, without `nn` (no name scopes,
    no input checks): shows what `nn`'s bookkeeping costs on top of the engine."""

    def __init__(self, weights):
        it = iter(weights)
        self.layers = [[([Value(next(it)) for _ in range(nin)], Value(next(it))) for _ in range(nout)]
                       for nin, nout in zip(SIZES, SIZES[1:])]

    def __call__(self, x):
        last = len(self.layers) - 1
        for k, layer in enumerate(self.layers):
            x = [dot(w, x, b) if k == last else dot(w, x, b).relu() for w, b in layer]
        return x[0]

    def parameters(self):
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]


class Micrograd(ScalarPeer):
    name = "micrograd"
    activation = "relu"  # micrograd 0.1.0 has no tanh

    def __init__(self):
        from micrograd.engine import Value as MValue
        from micrograd.nn import MLP as MMLP

        self.Value, self.MLP = MValue, MMLP

    def chain_root(self, n):
        x = self.Value(0.5)
        y = x
        for _ in range(n):
            y = (y * 1.0001 + 0.0001).relu()
        return x, y

    def chain(self, n):
        x, y = self.chain_root(n)
        # Its recursive topological sort goes one Python frame per node along the chain.
        with recursion_limit(3 * n + 1000):
            y.backward()
        return x.grad

    def leaves(self, values):
        return [self.Value(v) for v in values]

    def sum_root(self, a, b):
        return sum(ai * bi for ai, bi in zip(a, b))

    def sum_products(self, a, b):
        total = self.sum_root(a, b)
        with recursion_limit(3 * len(a) + 1000):
            total.backward()
        return total.data

    def model(self, weights, fused):
        model = self.MLP(SIZES[0], SIZES[1:])
        for p, w in zip(model.parameters(), weights, strict=True):
            p.data = w
        return model

    def wrap_inputs(self, X):
        return [list(map(self.Value, row)) for row in X]

    def graph_nodes(self, root):
        seen, stack = {id(root): root}, [root]
        while stack:
            for child in stack.pop()._prev:
                if id(child) not in seen:
                    seen[id(child)] = child
                    stack.append(child)
        return list(seen.values())


class PlainFloats:
    """Workload B written by hand on Python floats for this one network: forward, hinge + L2,
    backward and SGD, with no graph and no autodiff. The floor for a pure-Python scalar step."""

    name = "plain floats"

    def b_variants(self, weights, X, y):
        def make():
            it = iter(weights)
            # Per layer: W (a list of rows, one per neuron) and b, in micrograd's parameter order.
            layers = []
            for nin, nout in zip(SIZES, SIZES[1:]):
                rows, biases = [], []
                for _ in range(nout):
                    rows.append([next(it) for _ in range(nin)])
                    biases.append(next(it))
                layers.append((rows, biases))
            return lambda: plain_float_step(layers, X, y)

        return [("plain floats (no graph)", make, None)]


def plain_float_step(layers, X, y):
    """One step of B on floats; updates `layers` in place, returns (loss, accuracy)."""
    n, last = len(X), len(layers) - 1
    grads = [([[0.0] * len(row) for row in W], [0.0] * len(b)) for W, b in layers]
    data_loss, correct = 0.0, 0
    for x, yi in zip(X, y):
        activations, pre = [list(x)], []
        for k, (W, b) in enumerate(layers):
            a = activations[-1]
            z = [sum(w * ai for w, ai in zip(row, a)) + bj for row, bj in zip(W, b)]
            pre.append(z)
            activations.append(z if k == last else [v if v > 0.0 else 0.0 for v in z])
        score = activations[-1][0]
        correct += (yi > 0) == (score > 0)
        margin = 1.0 + -yi * score
        if margin <= 0.0:  # relu(margin) is 0 here: no loss, no gradient
            continue
        data_loss += margin
        upstream = [-yi / n]  # d(mean hinge)/d(score)
        for k in range(last, -1, -1):
            W, _ = layers[k]
            gW, gb = grads[k]
            if k != last:  # back through the relu
                upstream = [g if z > 0.0 else 0.0 for g, z in zip(upstream, pre[k])]
            a = activations[k]
            below = [0.0] * len(a)
            for j, g in enumerate(upstream):
                if g == 0.0:
                    continue
                row, grow = W[j], gW[j]
                for i, ai in enumerate(a):
                    grow[i] += g * ai
                    below[i] += g * row[i]
                gb[j] += g
            upstream = below
    reg = 0.0
    for (W, b), (gW, gb) in zip(layers, grads):
        for row, grow in zip(W, gW):
            for i, w in enumerate(row):
                reg += w * w
                row[i] = w - LEARNING_RATE * (grow[i] + 2.0 * ALPHA * w)
        for j, bj in enumerate(b):
            reg += bj * bj
            b[j] = bj - LEARNING_RATE * (gb[j] + 2.0 * ALPHA * bj)
    return data_loss / n + ALPHA * reg, correct / n


