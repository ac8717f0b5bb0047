"""How fast is gradwalk? The same workloads on gradwalk, micrograd, plain Python floats and PyTorch.

What a process has imported changes what is measured: micrograd's graphs are reference cycles,
so its garbage collector runs often, and each full pass walks every object in the process (torch
alone brings ~150,000 of them). So the script runs each set of peers in a child process of its
own, and every ratio in a table is against micrograd measured in that same process:

  clean   gradwalk, micrograd and the plain-float floor; neither numpy nor torch is imported.
          The headline table.
  numpy   gradwalk's replay path (record one sample's graph, replay the batch with numpy), the
          same training step node by node, and micrograd.
  torch   PyTorch driven op by op on 0-d tensors, PyTorch on the whole batch (float64, one
          thread), and micrograd.

Inside a process, each repetition runs every workload on every peer (in a rotating order)
before the next repetition starts, so a noisy neighbour on a shared machine slows all peers
alike. Tables show the median of the repetitions and the speed relative to micrograd (higher is
faster). A peer that is not installed is skipped: micrograd and torch come with the `bench`
extra (`pip install -e '.[bench]'`, or `make bench`), numpy with `fast`.

Workloads:
  A  chain: y = tanh(y * 1.0001 + 0.0001), N times, then backward. micrograd 0.1.0 has no tanh,
     so its chain uses relu (as cheap or cheaper). micrograd's recursive topological sort needs
     its recursion limit raised for long chains: this script raises it around micrograd's own
     runs only, and restores it after. gradwalk also runs N = 10^6 at the default limit.
  B  micrograd's demo training step: MLP 2-16-16-1 (relu) on 100 moons points, hinge loss + L2,
     forward, zero grads, backward, SGD. Every peer trains the same weights on the same points.
     gradwalk runs its default MLP (one fused `dot` node per neuron), the elementary graph
     (`fused=False`: the same `*` and `+` nodes micrograd builds), and the fused graph built
     from `engine.dot` without `nn` (what `nn`'s bookkeeping costs). "plain floats" is the same
     step written by hand on Python floats, with no graph: the floor for pure Python.
     In the numpy process: "fit step" is what `nn.fit` runs per step (nn's hinge_loss and
     l2_penalty), node by node and with `replay=True` (the model replayed from a tape, the loss
     on Values); "one array per node" replays without grouping a layer into a matrix product;
     "loss on the tape" records model and hinge loss per sample (the label an input), and the
     L2 penalty as a second tape, so that no Value is built per step at all.
  C  make 2 x 100,000 leaves, Python's sum() of their 100,000 products, then backward
     (gradwalk's `sum_values` too).
  D  memory: bytes per node of B's graph while it is alive (tracemalloc, after backward), and
     whether the graph is freed by reference counting alone when the loss goes away.

Timing covers building the graph, backward, and dropping it. A B step under 10 ms is timed as a
run of consecutive steps lasting about 20 ms, and reported per step. Before each timed run the script
calls gc.collect() (untimed), so no peer pays for another's garbage; micrograd's graphs are
reference cycles that only the collector frees, so that untimed collection favours micrograd.

Run:
    python demos/benchmark.py                  # full run, three processes (several minutes)
    python demos/benchmark.py --reps 3         # fewer repetitions
    python demos/benchmark.py --quick          # tiny sizes: a smoke test, numbers meaningless
    python demos/benchmark.py --profile        # where the default step's time goes
    python demos/benchmark.py --baseline DIR   # also B for the gradwalk in DIR (e.g. an export
                                               # of the last commit), in a process of its own;
                                               # give it more than once to compare several
    python demos/benchmark.py --in-process     # every peer in this one process
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
import weakref
from contextlib import contextmanager

import engine
from engine import Value, dot, sum_values, topological_order

SEED = 1337
LEARNING_RATE = 0.1
ALPHA = 1e-4  # L2 coefficient, as in micrograd's demo
SIZES = [2, 16, 16, 1]  # the MLP of micrograd's demo
SHORT_STEP = 0.01  # seconds: a B step shorter than this is timed over a run of steps

PROCESSES = {  # which peers each child process runs, and which workloads
    "clean": (["gradwalk", "micrograd", "floats"], "ABCD"),
    "numpy": (["replay", "micrograd"], "B"),
    "torch": (["torch", "micrograd"], "ABCD"),
    "baseline": (["gradwalk", "micrograd"], "B"),
}
PROCESS_TITLES = {
    "clean": "clean process (gradwalk, micrograd, plain floats; no numpy, no torch)",
    "numpy": "numpy imported (replay)",
    "torch": "torch imported",
    "baseline": "baseline gradwalk",
}


# -- peers ----------------------------------------------------------------------------------------
# Each peer builds the workloads from its own API. `chain(n)`, `sum_products(a, b)` and a training
# step each build a graph, run backward and drop the graph; the caller times them. `b_variants`
# lists (label, make) for workload B, where make() returns a step function on fresh weights.


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
            variants.append((f"{self.name} {suffix}".strip(), make))
        return variants

    def model_kinds(self):
        return [("", False)]


class Gradwalk(ScalarPeer):
    name = "gradwalk"
    activation = "tanh"

    def chain(self, n):
        x = Value(0.5)
        y = x
        for _ in range(n):
            y = (y * 1.0001 + 0.0001).tanh()
        y.backward()
        return x.grad

    def leaves(self, values):
        return [Value(v) for v in values]

    def sum_products(self, a, b):
        total = sum(ai * bi for ai, bi in zip(a, b))
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

    def chain(self, n):
        x = self.Value(0.5)
        y = x
        for _ in range(n):
            y = (y * 1.0001 + 0.0001).relu()
        # Its recursive topological sort goes one Python frame per node along the chain.
        with recursion_limit(3 * n + 1000):
            y.backward()
        return x.grad

    def leaves(self, values):
        return [self.Value(v) for v in values]

    def sum_products(self, a, b):
        total = sum(ai * bi for ai, bi in zip(a, b))
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

        return [("plain floats (no graph)", make)]


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

        return [("gradwalk fit step, node by node", fit_step(False)),
                ("gradwalk fit step, replay=True", fit_step(True)),
                ("gradwalk replay, one array per node", fit_step(True, grouped=False)),
                ("gradwalk replay, loss on the tape", lambda: self.taped_loss_step(gradwalk.model(weights, True), X, y))]

    def taped_loss_step(self, model, X, y):
        """The hinge loss of each sample recorded with the model (the label is an input), and
        the L2 penalty as a tape of its own: one step is two replays and an SGD update."""
        from nn import SGD, l2_penalty

        params = model.parameters()
        per_sample = engine.trace(lambda x0, x1, label: (1.0 + -label * model([x0, x1])).relu(), *X[0], y[0])
        penalty = engine.trace(lambda: l2_penalty(params, ALPHA))
        batch = self.np.column_stack([self.np.array(X, dtype=float), self.np.array(y, dtype=float)])
        upstream = self.np.full(len(X), 1.0 / len(X))  # d(mean)/d(each sample's loss)
        optimizer = SGD(params, lr=LEARNING_RATE)

        def step():
            losses = per_sample.replay(batch)
            reg = penalty.replay([[]])
            optimizer.zero_grad()
            losses.backward(upstream)
            reg.backward()
            optimizer.step()
            scores_right = (1.0 - losses.outputs) > 0  # y * score > 0 where the hinge is below 1
            return float(losses.outputs.mean() + reg.outputs[0]), float(scores_right.mean())

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

        return [("torch 0-d", op_by_op), ("torch batched (float64, 1 thread)", lambda: self.batched_step(weights, X, y))]

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


PEERS = {"gradwalk": Gradwalk, "micrograd": Micrograd, "floats": PlainFloats, "replay": GradwalkReplay,
         "torch": TorchScalars}


# -- workloads ------------------------------------------------------------------------------------


def moons(n):
    """n moons points and labels in {-1, +1}, the same for every peer."""
    from nn.data import make_moons

    X, y = make_moons(n_samples=n, noise=0.1, seed=SEED)
    return X, [2 * label - 1 for label in y]


def initial_weights(count=sum((nin + 1) * nout for nin, nout in zip(SIZES, SIZES[1:]))):
    rng = random.Random(SEED)
    return [rng.uniform(-1.0, 1.0) for _ in range(count)]


def training_step(peer, model, X, y):
    """One step of micrograd's demo: forward, hinge + L2 loss, zero grads, backward, SGD."""
    params = model.parameters()
    inputs = peer.wrap_inputs(X)
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum((p * p for p in params))
    total = data_loss + reg_loss
    accuracy = sum((yi > 0) == (peer.data(s) > 0) for yi, s in zip(y, scores)) / len(y)
    peer.zero_grad(params)
    peer.backward(total)
    peer.sgd(params, LEARNING_RATE)
    return peer.data(total), accuracy


def loss_graph(peer, model, X, y):
    """B's graph without the update: (loss, the leaves that existed before it was built)."""
    params = model.parameters()
    inputs = peer.wrap_inputs(X)
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    total = sum(losses) * (1.0 / len(losses)) + ALPHA * sum((p * p for p in params))
    return total, params, inputs


@contextmanager
def recursion_limit(limit):
    """Raise the recursion limit for one block (micrograd's backward only); restore it after."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


@contextmanager
def collector_paused():
    """Pause the cyclic collector for one block, to see what reference counting alone frees."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def timed_steps(fn, count):
    """Seconds per call of `fn`, over `count` calls in a row."""
    return timed(lambda: [fn() for _ in range(count)]) / count


def timed(fn):
    gc.collect()  # untimed: start from a clean heap, whatever the previous run left behind
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def graph_memory(peer, weights, X, y, fused):
    """Bytes per node of B's graph (tracemalloc; None where the graph lives outside Python's
    allocator), and whether dropping the loss frees the graph with the collector paused."""
    model = peer.model(weights, fused)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        total, params, inputs = loss_graph(peer, model, X, y)
        peer.backward(total)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    nodes = peer.graph_nodes(total)
    bytes_per_node = created = None
    if nodes is not None:
        created = len(nodes) - len(params)  # the parameters existed before; the inputs are built here
        bytes_per_node = (after - before) / created
    del nodes
    with collector_paused():
        total, params, inputs = loss_graph(peer, model, X, y)
        probe = weakref.ref(total)  # the loss node itself: reachable only through `total`
        inner = weakref.ref(inputs[0][0]) if _weakrefable(inputs[0][0]) else None
        del total, params, inputs
        freed = probe() is None and (inner is None or inner() is None)
    gc.collect()
    return {"nodes": created, "bytes": None if bytes_per_node is None else after - before,
            "bytes_per_node": bytes_per_node, "freed_without_gc": freed}


def _weakrefable(obj):
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True


# -- one process's run ----------------------------------------------------------------------------


def available_peers(names):
    """The peers among `names` that can be imported, and {name: why not} for the rest."""
    peers, missing = [], {}
    for name in names:
        if name not in PEERS:
            raise SystemExit(f"unknown peer {name!r}; choose from {', '.join(PEERS)}")
        try:
            peers.append(PEERS[name]())
        except ImportError as exc:
            missing[name] = f"not installed ({exc.name or exc})"
    return peers, missing


def workloads(peers, args, kinds, X, y, weights):
    """(workload, variant label, peer, function to time) for every run of one repetition."""
    jobs = []
    if "A" in kinds:
        for n in args.chain:
            for peer in peers:
                if hasattr(peer, "chain"):
                    label = peer.name + (f" ({peer.activation})" if peer.activation != "tanh" else "")
                    jobs.append((f"A chain N={n:,}", label, peer, lambda p=peer, n=n: p.chain(n)))
        g = next((p for p in peers if isinstance(p, Gradwalk)), None)
        if args.big_chain and g is not None:
            jobs.append((f"A chain N={args.big_chain:,}", "gradwalk", g, lambda: g.chain(args.big_chain)))
    if "B" in kinds:
        for peer in peers:
            for label, make in peer.b_variants(weights, X, y):
                jobs.append(("B train step", label, peer, make()))
    if "C" in kinds:
        rng = random.Random(SEED)
        raw = [rng.uniform(-1.0, 1.0) for _ in range(2 * args.terms)]
        a, b = raw[: args.terms], raw[args.terms:]
        # The leaves are made inside the timed run: kept alive between runs, 6 * 10^5 of them would
        # make the collector's full passes rarer for every other workload than in a real program.
        for peer in peers:
            if hasattr(peer, "sum_products"):
                jobs.append((f"C sum of {args.terms:,} products", peer.name, peer,
                             lambda p=peer: p.sum_products(p.leaves(a), p.leaves(b))))
            if isinstance(peer, Gradwalk):
                jobs.append((f"C sum of {args.terms:,} products", "gradwalk (sum_values)", peer,
                             lambda p=peer: p.sum_values_products(p.leaves(a), p.leaves(b))))
    return jobs


def run_process(args, peer_names, kinds, say) -> dict:
    """Every workload in `kinds` on the peers in `peer_names` that are installed, here."""
    peers, missing = available_peers(peer_names)
    X, y = moons(args.samples)
    weights = initial_weights()
    jobs = workloads(peers, args, kinds, X, y, weights)
    say(f"Python {platform.python_version()} on {platform.machine()}, gc enabled: {gc.isenabled()}, "
        f"recursion limit {sys.getrecursionlimit()}; {args.reps} interleaved repetitions")
    for name, why in missing.items():
        say(f"skipping {name}: {why}")

    # A training step much shorter than a time slice is timed as a run of consecutive steps (the
    # result is per step): timed alone, right after gc.collect() has walked the heap, a
    # sub-millisecond step measures cold caches more than itself.
    steps = {}
    for w, label, _, fn in jobs:
        if w.startswith("B"):
            fn()  # untimed warm-up: first calls pay for imports, caches and a replay's plan
            once = timed(fn)
            steps[(w, label)] = 1 if once >= SHORT_STEP else math.ceil(2 * SHORT_STEP / max(once, 1e-6))
    times = {(w, label): [] for w, label, _, _ in jobs}
    for rep in range(args.reps):
        say(f"repetition {rep + 1}/{args.reps} ...", flush=True)
        # Rotate which peer goes first, so none always runs right after another's garbage.
        shift = rep % max(1, len(peers))
        order = peers[shift:] + peers[:shift]
        for workload in dict.fromkeys(w for w, *_ in jobs):
            for peer in order:
                for w, label, p, fn in jobs:
                    if w == workload and p is peer:
                        count = steps.get((w, label), 1)
                        times[(w, label)].append(timed(fn) if count == 1 else timed_steps(fn, count))

    checks = {}
    if "B" in kinds:
        for peer in peers:
            # Correctness, untimed: every peer computes the same first-step loss from the same weights.
            for label, make in peer.b_variants(weights, X, y):
                loss, _ = make()()
                checks[label] = round(loss, 9)

    memory = {}
    if "D" in kinds:
        for peer in peers:
            if hasattr(peer, "graph_nodes"):
                for suffix, fused in peer.model_kinds():
                    memory[f"{peer.name} {suffix}".strip()] = graph_memory(peer, weights, X, y, fused)

    rows = []
    for (workload, label), ts in times.items():
        base = next((statistics.median(t) for (w, lab), t in times.items()
                     if w == workload and lab.startswith("micrograd")), None)
        median = statistics.median(ts)
        rows.append({"workload": workload, "peer": label, "median_s": median, "runs": len(ts),
                     "vs_micrograd": None if base is None else base / median})
    big = f"A chain N={args.big_chain:,}"
    big_row = next((r for r in rows if r["workload"] == big), None)
    ref_row = next((r for r in rows if r["workload"] == f"A chain N={max(args.chain):,}" and r["peer"] == "gradwalk"),
                   None)
    scaling = None
    if big_row and ref_row and args.big_chain > max(args.chain):
        scaling = big_row["median_s"] / ref_row["median_s"]
    return {"rows": rows, "memory": memory, "chain_scaling": scaling, "missing": missing, "first_step_loss": checks,
            "recursion_limit_after": sys.getrecursionlimit(), "gc_enabled": gc.isenabled(),
            "modules": sorted(m for m in ("numpy", "torch") if m in sys.modules),
            "gradwalk_from": os.path.dirname(os.path.dirname(os.path.abspath(engine.__file__)))}


# -- the run: one child process per set of peers ----------------------------------------------------


def child_command(args, kind):
    """The command line that runs this script as the child process `kind`."""
    command = [sys.executable, os.path.abspath(__file__), "--child", kind, "--reps", str(args.reps),
               "--chain", ",".join(map(str, args.chain)), "--big-chain", str(args.big_chain),
               "--samples", str(args.samples), "--terms", str(args.terms), "--peers", ",".join(args.peers),
               "--workloads", args.workloads]
    return command + (["--quick"] if args.quick else [])


def run_child(args, kind, say, baseline=None) -> dict:
    """Run the child process `kind`, passing its progress through; returns its results."""
    env = dict(os.environ)
    if baseline:  # the gradwalk to measure comes first on the path
        env["PYTHONPATH"] = os.pathsep.join([os.path.abspath(baseline)] + env.get("PYTHONPATH", "").split(os.pathsep))
    say(f"\n[{PROCESS_TITLES[kind]}{': ' + baseline if baseline else ''}]", flush=True)
    done = subprocess.run(child_command(args, kind), env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the {kind} process failed:\n{done.stderr[-3000:]}")
    for line in done.stderr.splitlines():
        say("  " + line)
    return json.loads(done.stdout)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions (median reported)")
    parser.add_argument("--chain", type=_sizes, default=[500, 100_000], help="chain lengths for A, comma-separated")
    parser.add_argument("--big-chain", type=int, default=1_000_000, help="extra gradwalk-only chain length (0: skip)")
    parser.add_argument("--samples", type=int, default=100, help="moons points in B")
    parser.add_argument("--terms", type=int, default=100_000, help="products summed in C")
    parser.add_argument("--peers", type=lambda s: s.split(","), default=list(PEERS),
                        help=f"peers to run, comma-separated (from {', '.join(PEERS)})")
    parser.add_argument("--workloads", default="ABCD", help="which workloads to run, e.g. B (default ABCD)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repetition (a smoke test)")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    parser.add_argument("--profile", action="store_true", help="where the default step's time goes (this process)")
    parser.add_argument("--baseline", metavar="DIR", action="append", default=[],
                        help="also run B for the gradwalk found in DIR (repeatable)")
    parser.add_argument("--in-process", action="store_true", help="run every peer in this process")
    parser.add_argument("--child", choices=list(PROCESSES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.chain, args.big_chain, args.samples, args.terms = 1, [50, 300], 1000, 8, 300
    for name in args.peers:
        if name not in PEERS:
            raise SystemExit(f"unknown peer {name!r}; choose from {', '.join(PEERS)}")
    if args.child:  # a child process: results as JSON on stdout, progress on stderr
        peers, kinds = PROCESSES[args.child]
        if args.child == "baseline":
            peers = ["gradwalk", "micrograd"]
        kinds = "".join(k for k in kinds if k in args.workloads.upper())
        result = run_process(args, [p for p in peers if p in args.peers or p == "gradwalk"], kinds,
                             lambda *a, **k: print(*a, file=sys.stderr, **k))
        print(json.dumps(result))
        return result
    say = (lambda *a, **k: None) if args.quiet else print
    if args.profile:
        return profile_default_step(args, say)

    if args.in_process:
        results = {"in-process": run_process(args, args.peers, args.workloads.upper(), say)}
    else:
        results = {}
        for kind in ("clean", "numpy", "torch"):
            peers, kinds = PROCESSES[kind]
            if any(p in args.peers for p in peers if p != "micrograd") and set(kinds) & set(args.workloads.upper()):
                results[kind] = run_child(args, kind, say)
        for directory in args.baseline:
            results[f"baseline: {directory}"] = run_child(args, "baseline", say, baseline=directory)
    say()
    for kind, result in results.items():
        title = PROCESS_TITLES.get(kind) or (f"gradwalk from {kind[len('baseline: '):]}" if kind.startswith("baseline")
                                             else "every peer in one process")
        say(f"### {title}\n")
        say(render(result["rows"], result["memory"], result["chain_scaling"], args.big_chain, max(args.chain)))
        say(f"\nfirst-step loss: {result['first_step_loss']}")
        say(f"recursion limit after the run: {result['recursion_limit_after']}; gc enabled: {result['gc_enabled']}\n")
    return {"processes": results}


def render(rows, memory, scaling, big, ref) -> str:
    lines = ["| workload | peer | median | vs micrograd |", "| --- | --- | ---: | ---: |"]
    last = None
    for r in rows:
        ratio = "" if r["vs_micrograd"] is None else f"{r['vs_micrograd']:,.1f}x"
        shown = r["workload"] if r["workload"] != last else ""
        last = r["workload"]
        lines.append(f"| {shown} | {r['peer']} | {_duration(r['median_s'])} | {ratio} |")
    if scaling is not None:
        lines.append(f"\ngradwalk chain t(N={big:,}) / t(N={ref:,}) = {scaling:.1f}  (linear would be {big / ref:.0f})")
    if memory:
        lines.append("\n| D: B's graph in memory | nodes | bytes per node | freed without gc.collect() |")
        lines.append("| --- | ---: | ---: | --- |")
        for label, m in memory.items():
            per = "n/a (C++ heap)" if m["bytes_per_node"] is None else f"{m['bytes_per_node']:.0f}"
            nodes = "n/a" if m["nodes"] is None else f"{m['nodes']:,}"
            lines.append(f"| {label} | {nodes} | {per} | {'yes' if m['freed_without_gc'] else 'no'} |")
    return "\n".join(lines)


# -- where the default step's time goes ---------------------------------------------------------


def profile_default_step(args, say) -> dict:
    """Time the phases of B's default step (gradwalk's fused MLP) in this process.

    forward: inputs, model and loss (the graph is built); ordering: the topological order the
    backward pass computes first; backward walk: the rest of `backward()`; update: zero grads
    and SGD; free: dropping the graph. These run with the collector paused; "garbage collection"
    is what a whole step costs more with it running.
    """
    peer = Gradwalk()
    X, y = moons(args.samples)
    model = peer.model(initial_weights(), True)
    params = model.parameters()
    reps = max(3, 10 * args.reps)
    phases = {name: [] for name in ("forward", "ordering", "backward walk", "update", "free")}
    whole = []
    for _ in range(reps):
        whole.append(timed(lambda: training_step(peer, model, X, y)))
        gc.collect()
        with collector_paused():
            # The ordering alone, on a graph of its own: backward() below then orders a fresh graph
            # too, as it does in a real step (a second ordering of one graph runs faster).
            first, _, _ = loss_graph(peer, model, X, y)
            t0 = time.perf_counter()
            topological_order(first)  # what backward() computes first
            ordering = time.perf_counter() - t0
            del first
            t0 = time.perf_counter()
            total, _, _ = loss_graph(peer, model, X, y)
            t1 = time.perf_counter()
            total.backward()
            t3 = time.perf_counter()
            peer.zero_grad(params)
            peer.sgd(params, 0.0)  # the same work as SGD, leaving the weights as they are
            t4 = time.perf_counter()
            del total
            t5 = time.perf_counter()
        phases["forward"].append(t1 - t0)
        phases["ordering"].append(ordering)
        phases["backward walk"].append(max(0.0, (t3 - t1) - ordering))  # backward() = ordering + walk
        phases["update"].append(t4 - t3)
        phases["free"].append(t5 - t4)
    medians = {name: statistics.median(ts) for name, ts in phases.items()}
    step = statistics.median(whole)
    medians["garbage collection"] = max(0.0, step - sum(medians.values()))
    say(f"B's default step (gradwalk fused MLP, {args.samples} points), median of {reps}: {_duration(step)}")
    for name, seconds in medians.items():
        say(f"  {name:<20} {_duration(seconds):>10}  {seconds / step:6.1%}")
    return {"step_s": step, "phases_s": medians}


def _duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part]


if __name__ == "__main__":
    main()
