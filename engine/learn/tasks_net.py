"""Exercises 5 to 7: a Neuron, an MLP forward pass, and two losses, on plain engine Values.

The learner's classes are their own (no library network): the checkers set their weights through
`parameters()`, compare outputs with plain-float arithmetic, and compare gradients with the
engine's `gradients` against the derivative worked out by hand.
"""

from __future__ import annotations

import math

from engine.core.graph import gradients
from engine.core.value import Value
from engine.learn.verdict import WrongAnswer, call, close, needs, number, search, show, show_list

NEURON_STUB = '''"""Exercise 5: a Neuron.

A neuron of nin inputs holds nin weights w and a bias b, all Values, and computes
    out = tanh(w[0]*x[0] + ... + w[nin-1]*x[nin-1] + b)
parameters() lists the weights in order, then the bias.

Check it with:  gradwalk learn check 5
"""

import random

from engine import Value


class Neuron:
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)

    def __call__(self, x):
        """x: a list of nin numbers or Values. Returns a Value."""
        raise NotImplementedError("exercise 5: write Neuron.__call__")

    def parameters(self):
        return self.w + [self.b]
'''

NEURON_SOLUTION = '''"""Exercise 5: a Neuron (a reference solution)."""

import random

from engine import Value


class Neuron:
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)

    def __call__(self, x):
        total = self.b
        for wi, xi in zip(self.w, x):
            total = total + wi * xi
        return total.tanh()

    def parameters(self):
        return self.w + [self.b]
'''

MLP_STUB = '''"""Exercise 6: an MLP forward pass, built from your Neuron of exercise 5.

A Layer of nout neurons maps a list of nin inputs to a list of nout outputs. MLP(nin, nouts)
chains layers of sizes nouts: MLP(2, [4, 1]) is 2 inputs -> 4 neurons -> 1 neuron. Calling it
returns the last layer's outputs: one Value when that layer has one neuron, else a list.
parameters() lists them layer by layer, neuron by neuron (each neuron's weights, then its bias).

Check it with:  gradwalk learn check 6
"""

from ex05_neuron import Neuron


class Layer:
    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        raise NotImplementedError("exercise 6: write Layer.__call__")

    def parameters(self):
        raise NotImplementedError("exercise 6: write Layer.parameters")


class MLP:
    def __init__(self, nin, nouts):
        sizes = [nin] + list(nouts)
        self.layers = [Layer(sizes[k], sizes[k + 1]) for k in range(len(nouts))]

    def __call__(self, x):
        raise NotImplementedError("exercise 6: write MLP.__call__")

    def parameters(self):
        raise NotImplementedError("exercise 6: write MLP.parameters")
'''

MLP_SOLUTION = '''"""Exercise 6: an MLP forward pass (a reference solution)."""

from ex05_neuron import Neuron


class Layer:
    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        return [neuron(x) for neuron in self.neurons]

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP:
    def __init__(self, nin, nouts):
        sizes = [nin] + list(nouts)
        self.layers = [Layer(sizes[k], sizes[k + 1]) for k in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]
'''


def _weights(k: int) -> list[float]:
    """k fixed, varied weights in [-1, 1], the same every run."""
    return [round(math.sin(1.7 * i + 0.3), 3) for i in range(k)]


def _set(what: str, params, values) -> list:
    params = list(call(f"{what}.parameters()", params))
    if len(params) != len(values):
        raise WrongAnswer(f"{what}.parameters() lists {len(params)} parameters; it should list {len(values)}")
    for k, p in enumerate(params):
        if not isinstance(p, Value):
            raise WrongAnswer(f"{what}.parameters()[{k}] is {type(p).__name__}, not a Value")
        p.data, p.grad = values[k], 0.0
    return params


def _neuron_float(w, b, x) -> float:
    return math.tanh(sum(wi * xi for wi, xi in zip(w, x)) + b)


def check_neuron(names: dict, thorough: bool) -> str:
    (neuron_class,) = needs(names, "Neuron")
    _check_neuron(neuron_class, [1.0, 2.0, -0.5])
    if thorough:
        from hypothesis import strategies as st

        inputs = st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4)
        search(inputs, lambda x: _check_neuron(neuron_class, x), examples=30)
    return "your Neuron computes tanh(w·x + b), and its gradients reach every weight and the bias"


def _check_neuron(neuron_class, x) -> None:
    n = len(x)
    neuron = call(f"your Neuron({n})", neuron_class, n)
    values = _weights(n + 1)
    params = _set("your neuron", neuron.parameters, values)
    w, b = values[:n], values[n]
    out = call(f"your neuron({x})", neuron, list(x))
    got = number(f"your neuron's output for x = {x}", out)
    want = _neuron_float(w, b, x)
    setting = f"for x = {show_list(x)} with w = {w}, b = {b}"
    if not close(got, want):
        linear = sum(wi * xi for wi, xi in zip(w, x)) + b
        tip = ("that is w·x + b itself: squash it with tanh" if close(got, linear) else
               "add the bias b, once" if close(got, _neuron_float(w, 0.0, x)) else "out = tanh(w·x + b)")
        raise WrongAnswer(f"your neuron gives {show(got)} {setting}; tanh(w·x + b) is {show(want)}", tip)
    if not isinstance(out, Value):
        raise WrongAnswer(f"your neuron returns a {type(out).__name__}, not a Value, so no gradient can reach its weights")
    slope = 1 - want * want
    for k, (g, p) in enumerate(zip(gradients(out, params), params)):
        expected = slope * (x[k] if k < n else 1.0)
        if not close(g, expected):
            name = f"w[{k}]" if k < n else "b"
            raise WrongAnswer(f"the gradient of your neuron's output with respect to {name} is {show(g)} {setting}; "
                              f"it should be {show(expected)}: build the output from the Values in parameters(), "
                              "never from their .data")


def check_mlp(names: dict, thorough: bool) -> str:
    (mlp_class,) = needs(names, "MLP")
    _check_mlp(mlp_class, 2, [3, 1], [0.5, -1.5])
    _check_mlp(mlp_class, 3, [4, 4, 2], [1.0, 0.2, -0.7])
    if thorough:
        from hypothesis import strategies as st

        shapes = st.tuples(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=1, max_size=3))
        cases = shapes.flatmap(lambda s: st.tuples(st.just(s), st.lists(st.floats(-2, 2), min_size=s[0], max_size=s[0])))
        search(cases, lambda c: _check_mlp(mlp_class, c[0][0], c[0][1], c[1]), examples=20)
    return "your MLP chains its layers and lists its parameters in order, on every shape tried"


def _check_mlp(mlp_class, nin: int, nouts: list, x: list) -> None:
    what = f"your MLP({nin}, {nouts})"
    model = call(what, mlp_class, nin, list(nouts))
    sizes = [nin] + list(nouts)
    count = sum((sizes[k] + 1) * sizes[k + 1] for k in range(len(nouts)))
    values = _weights(count)
    _set(what, model.parameters, values)
    out = call(f"{what}({x})", model, list(x))
    outs = out if isinstance(out, (list, tuple)) else [out]
    got = [number(f"{what}'s output", o) for o in outs]
    want, k = list(x), 0
    for nin_, nout in zip(sizes, sizes[1:]):
        layer = []
        for _ in range(nout):
            layer.append(_neuron_float(values[k:k + nin_], values[k + nin_], want))
            k += nin_ + 1
        want = layer
    if len(got) != len(want):
        raise WrongAnswer(f"{what} gives {len(got)} outputs for x = {x}; its last layer has {len(want)} neurons")
    if nouts[-1] == 1 and isinstance(out, (list, tuple)):
        raise WrongAnswer(f"{what} returns a list of one Value; with one output neuron return that Value itself")
    for j, (g, w) in enumerate(zip(got, want)):
        if not close(g, w):
            raise WrongAnswer(f"{what} gives output {j} = {show(g)} for x = {x} (weights set in parameters() order); "
                              f"the layers chained give {show(w)}",
                              "each layer's outputs are the next layer's inputs; list parameters layer by layer")


LOSS_STUB = '''"""Exercise 7: two losses, built from Values so that gradients flow through them.

hinge_loss(scores, labels): labels are +1 or -1; the mean over the points of max(0, 1 - y*s)
    (relu(x) is x.relu()).
bce_loss(probs, labels): probs are Values in (0, 1), labels 0 or 1; the mean of
    -(y log p + (1 - y) log(1 - p))      (log(p) is p.log()).

Check it with:  gradwalk learn check 7
"""


def hinge_loss(scores, labels):
    raise NotImplementedError("exercise 7: write hinge_loss")


def bce_loss(probs, labels):
    raise NotImplementedError("exercise 7: write bce_loss")
'''

LOSS_SOLUTION = '''"""Exercise 7: two losses (a reference solution)."""


def hinge_loss(scores, labels):
    total = 0
    for s, y in zip(scores, labels):
        total = total + (1 - y * s).relu()
    return total / len(scores)


def bce_loss(probs, labels):
    total = 0
    for p, y in zip(probs, labels):
        total = total - (y * p.log() + (1 - y) * (1 - p).log())
    return total / len(probs)
'''


def _hinge(s, y):
    n = len(s)
    return (sum(max(0.0, 1 - yi * si) for si, yi in zip(s, y)) / n,
            [(-yi / n if 1 - yi * si > 0 else 0.0) for si, yi in zip(s, y)], "the mean of max(0, 1 - y*s)")


def _bce(p, y):
    n = len(p)
    return (-sum(yi * math.log(pi) + (1 - yi) * math.log(1 - pi) for pi, yi in zip(p, y)) / n,
            [-(yi / pi - (1 - yi) / (1 - pi)) / n for pi, yi in zip(p, y)], "the mean of -(y log p + (1-y) log(1-p))")


def check_losses(names: dict, thorough: bool) -> str:
    hinge, bce = needs(names, "hinge_loss", "bce_loss")
    _check_loss("hinge_loss", hinge, _hinge, [0.5, -2.0, 1.5], [1, -1, -1])
    _check_loss("bce_loss", bce, _bce, [0.9, 0.2, 0.6], [1, 0, 0])
    if thorough:
        from hypothesis import strategies as st

        def points(values, labels):
            return st.integers(1, 5).flatmap(lambda n: st.tuples(st.lists(values, min_size=n, max_size=n),
                                                                 st.lists(labels, min_size=n, max_size=n)))

        margin = st.floats(-3, 3).filter(lambda s: abs(abs(s) - 1) > 1e-3)
        search(points(margin, st.sampled_from([1, -1])), lambda c: _check_loss("hinge_loss", hinge, _hinge, *c), 30)
        search(points(st.floats(0.02, 0.98), st.sampled_from([0, 1])), lambda c: _check_loss("bce_loss", bce, _bce, *c), 30)
    return "your hinge and cross-entropy losses give the right values and the right gradients"


def _check_loss(name: str, learner, reference, xs, labels) -> None:
    leaves = [Value(x) for x in xs]
    setting = f"for {'scores' if name == 'hinge_loss' else 'probs'} {show_list(xs)} and labels {list(labels)}"
    out = call(f"your {name}", learner, leaves, list(labels))
    got = number(f"your {name}", out)
    want, slopes, text = reference(xs, labels)
    if not close(got, want):
        tip = ("that is the sum: take the mean" if close(got, want * len(xs)) else
               "mind the sign: a loss is small when the prediction is right" if close(got, -want) else "")
        raise WrongAnswer(f"your {name} is {show(got)} {setting}; {text} is {show(want)}", tip)
    if not isinstance(out, Value):
        raise WrongAnswer(f"your {name} returns a {type(out).__name__}, not a Value, so nothing can backprop through it")
    for k, (g, w) in enumerate(zip(gradients(out, leaves), slopes)):
        if not close(g, w):
            raise WrongAnswer(f"the gradient of your {name} with respect to input {k} is {show(g)} {setting}; "
                              f"it should be {show(w)}: compute with the Values, not their .data")
