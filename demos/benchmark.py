"""How fast is gradwalk? The same scalar workloads on gradwalk, micrograd and PyTorch 0-d tensors.

Every peer runs in this one process, interleaved: each repetition runs every workload on every
peer (in a rotating order) before the next repetition starts, so a noisy neighbour on a shared
machine slows all peers alike. The table shows the median of the repetitions and each peer's
speed relative to micrograd (higher is faster). A peer that is not installed is skipped:
micrograd and torch come with the `bench` extra (`pip install -e '.[bench]'`, or `make bench`).

Workloads:
  A  chain: y = tanh(y * 1.0001 + 0.0001), N times, then backward. micrograd 0.1.0 has no tanh,
     so its chain uses relu (as cheap or cheaper). micrograd's recursive topological sort needs
     its recursion limit raised for long chains: this script raises it around micrograd's own
     runs only, and restores it after. gradwalk also runs N = 10^6 at the default limit.
  B  micrograd's demo training step: MLP 2-16-16-1 (relu) on 100 moons points, hinge loss + L2,
     forward, zero grads, backward, SGD. Every peer trains the same weights on the same points.
     gradwalk runs its default MLP (one fused `dot` node per neuron), the elementary graph
     (`fused=False`: the same `*` and `+` nodes micrograd builds), and the fused graph built
     from `engine.dot` without `nn` (what `nn`'s bookkeeping costs).
  C  make 2 x 100,000 leaves, Python's sum() of their 100,000 products, then backward
     (gradwalk's `sum_values` too).
  D  memory: bytes per node of B's graph while it is alive (tracemalloc, after backward), and
     whether the graph is freed by reference counting alone when the loss goes away.

Timing covers building the graph, backward, and dropping it. Before each timed run the script
calls gc.collect() (untimed), so no peer pays for another's garbage; micrograd's graphs are
reference cycles that only the collector frees, so that untimed collection favours micrograd.

Run:
    python demos/benchmark.py                 # full run (several minutes)
    python demos/benchmark.py --reps 3        # fewer repetitions
    python demos/benchmark.py --quick         # tiny sizes: a smoke test, numbers meaningless
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import sys
import time
import tracemalloc
import weakref
from contextlib import contextmanager

from engine import Value, dot, sum_values, topological_order

SEED = 1337
LEARNING_RATE = 0.1
ALPHA = 1e-4  # L2 coefficient, as in micrograd's demo


# -- peers ----------------------------------------------------------------------------------------
# Each peer builds the workloads from its own API. `chain(n)`, `sum_products(pairs)` and a training
# step each build a graph, run backward and drop the graph; the caller times them.


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

        model = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", fused=fused)
        for p, w in zip(model.parameters(), weights, strict=True):
            p.data = w
        return model

    wrap_inputs = staticmethod(lambda X: [[Value(x1), Value(x2)] for x1, x2 in X])


    def graph_nodes(self, root):
        return topological_order(root)


class EngineMLP:
    """The default MLP's graph built straight from `engine.dot`, without `nn` (no name scopes,
    no input checks): shows what `nn`'s bookkeeping costs on top of the engine."""

    def __init__(self, weights):
        it = iter(weights)
        sizes = [2, 16, 16, 1]
        self.layers = [[([Value(next(it)) for _ in range(nin)], Value(next(it))) for _ in range(nout)]
                       for nin, nout in zip(sizes, sizes[1:])]

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
        model = self.MLP(2, [16, 16, 1])
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


class TorchMLP:
    """micrograd's MLP over 0-d tensors: neuron = relu(sum(w_i * x_i, b)), last layer linear."""

    def __init__(self, peer, weights):
        it = iter(weights)
        self.layers = []
        sizes = [2, 16, 16, 1]
        for nin, nout in zip(sizes, sizes[1:]):
            self.layers.append([([peer.scalar(next(it)) for _ in range(nin)], peer.scalar(next(it))) for _ in range(nout)])

    def __call__(self, x):
        last = len(self.layers) - 1
        for k, layer in enumerate(self.layers):
            outs = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in layer]
            x = outs if k == last else [o.relu() for o in outs]
        return x[0]

    def parameters(self):
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]


# -- workloads ------------------------------------------------------------------------------------


def moons(n):
    """n moons points and labels in {-1, +1}, the same for every peer."""
    from nn.data import make_moons

    X, y = make_moons(n_samples=n, noise=0.1, seed=SEED)
    return X, [2 * label - 1 for label in y]


def initial_weights(count=2 * 16 + 16 + 16 * 16 + 16 + 16 + 1):
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


# -- the run --------------------------------------------------------------------------------------


def available_peers(names):
    """The peers among `names` that can be imported, and {name: why not} for the rest."""
    makers = {"gradwalk": Gradwalk, "micrograd": Micrograd, "torch": TorchScalars}
    peers, missing = [], {}
    for name in names:
        if name not in makers:
            raise SystemExit(f"unknown peer {name!r}; choose from {', '.join(makers)}")
        try:
            peers.append(makers[name]())
        except ImportError as exc:
            missing[name] = f"not installed ({exc.name or exc})"
    return peers, missing


def workloads(peers, args, X, y, weights):
    """(workload, variant label, peer, function to time) for every run of one repetition."""
    jobs = []
    for n in args.chain:
        for peer in peers:
            label = peer.name + (f" ({peer.activation})" if peer.activation != "tanh" else "")
            jobs.append((f"A chain N={n:,}", label, peer, lambda p=peer, n=n: p.chain(n)))
    if args.big_chain:
        g = next(p for p in peers if p.name == "gradwalk")
        jobs.append((f"A chain N={args.big_chain:,}", "gradwalk", g, lambda: g.chain(args.big_chain)))
    for peer in peers:
        for suffix, fused in _variants(peer):
            model = peer.model(weights, fused)
            label = f"{peer.name} {suffix}".strip()
            jobs.append(("B train step", label, peer, lambda p=peer, m=model: training_step(p, m, X, y)))
    rng = random.Random(SEED)
    raw = [rng.uniform(-1.0, 1.0) for _ in range(2 * args.terms)]
    a, b = raw[: args.terms], raw[args.terms:]
    # The leaves are made inside the timed run: kept alive between runs, 6 * 10^5 of them would
    # make the collector's full passes rarer for every other workload than in a real program.
    for peer in peers:
        jobs.append((f"C sum of {args.terms:,} products", peer.name, peer,
                     lambda p=peer: p.sum_products(p.leaves(a), p.leaves(b))))
        if peer.name == "gradwalk":
            jobs.append((f"C sum of {args.terms:,} products", "gradwalk (sum_values)", peer,
                         lambda p=peer: p.sum_values_products(p.leaves(a), p.leaves(b))))
    return jobs


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions (median reported)")
    parser.add_argument("--chain", type=_sizes, default=[500, 100_000], help="chain lengths for A, comma-separated")
    parser.add_argument("--big-chain", type=int, default=1_000_000, help="extra gradwalk-only chain length (0: skip)")
    parser.add_argument("--samples", type=int, default=100, help="moons points in B")
    parser.add_argument("--terms", type=int, default=100_000, help="products summed in C")
    parser.add_argument("--peers", type=lambda s: s.split(","), default=["gradwalk", "micrograd", "torch"])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repetition (a smoke test)")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.chain, args.big_chain, args.samples, args.terms = 1, [50, 300], 1000, 8, 300
    if "gradwalk" not in args.peers:
        args.peers.insert(0, "gradwalk")
    say = (lambda *a, **k: None) if args.quiet else print

    peers, missing = available_peers(args.peers)
    X, y = moons(args.samples)
    weights = initial_weights()
    jobs = workloads(peers, args, X, y, weights)
    say(f"Python {platform.python_version()} on {platform.machine()}, gc enabled: {gc.isenabled()}, "
        f"recursion limit {sys.getrecursionlimit()}; {args.reps} interleaved repetitions")
    for name, why in missing.items():
        say(f"skipping {name}: {why}")

    times = {(w, label): [] for w, label, _, _ in jobs}
    for rep in range(args.reps):
        say(f"repetition {rep + 1}/{args.reps} ...", flush=True)
        # Rotate which peer goes first, so none always runs right after another's garbage.
        shift = rep % len(peers)
        order = peers[shift:] + peers[:shift]
        for workload in dict.fromkeys(w for w, *_ in jobs):
            for peer in order:
                for w, label, p, fn in jobs:
                    if w == workload and p is peer:
                        times[(w, label)].append(timed(fn))

    checks = {}
    for peer in peers:
        # Correctness, untimed: every peer computes the same first-step loss from the same weights.
        for suffix, fused in _variants(peer):
            loss, _ = training_step(peer, peer.model(weights, fused), X, y)
            checks[f"{peer.name} {suffix}".strip()] = round(loss, 9)

    memory = {}
    for peer in peers:
        for suffix, fused in _variants(peer):
            memory[f"{peer.name} {suffix}".strip()] = graph_memory(peer, weights, X, y, fused)

    rows = []
    for (workload, label), ts in times.items():
        base = next((statistics.median(t) for (w, lab), t in times.items() if w == workload and lab.startswith("micrograd")),
                    None)
        median = statistics.median(ts)
        rows.append({"workload": workload, "peer": label, "median_s": median, "runs": len(ts),
                     "vs_micrograd": None if base is None else base / median})
    big = f"A chain N={args.big_chain:,}"
    big_row = next((r for r in rows if r["workload"] == big), None)
    ref_row = next((r for r in rows if r["workload"] == f"A chain N={max(args.chain):,}" and r["peer"] == "gradwalk"), None)
    scaling = None
    if big_row and ref_row and args.big_chain > max(args.chain):
        scaling = big_row["median_s"] / ref_row["median_s"]

    limit_after = sys.getrecursionlimit()
    say()
    say(render(rows, memory, scaling, args.big_chain, max(args.chain)))
    say(f"\nfirst-step loss on every peer (the same weights and points): {checks}")
    say(f"recursion limit after the run: {limit_after}; gc enabled: {gc.isenabled()}")
    return {"rows": rows, "recursion_limit_after": limit_after, "memory": memory, "chain_scaling": scaling, "missing": missing, "first_step_loss": checks}


def render(rows, memory, scaling, big, ref) -> str:
    lines = [f"| workload | peer | median | vs micrograd |", "| --- | --- | ---: | ---: |"]
    last = None
    for r in rows:
        ratio = "" if r["vs_micrograd"] is None else f"{r['vs_micrograd']:.1f}x"
        shown = r["workload"] if r["workload"] != last else ""
        last = r["workload"]
        lines.append(f"| {shown} | {r['peer']} | {_duration(r['median_s'])} | {ratio} |")
    if scaling is not None:
        lines.append(f"\ngradwalk chain t(N={big:,}) / t(N={ref:,}) = {scaling:.1f}  (linear would be {big / ref:.0f})")
    lines.append("\n| D: B's graph in memory | nodes | bytes per node | freed without gc.collect() |")
    lines.append("| --- | ---: | ---: | --- |")
    for label, m in memory.items():
        per = "n/a (C++ heap)" if m["bytes_per_node"] is None else f"{m['bytes_per_node']:.0f}"
        nodes = "n/a" if m["nodes"] is None else f"{m['nodes']:,}"
        lines.append(f"| {label} | {nodes} | {per} | {'yes' if m['freed_without_gc'] else 'no'} |")
    return "\n".join(lines)


def _variants(peer):
    """(label, model kind) for B: gradwalk's default MLP, its elementary graph, and the same fused
    graph built from `engine.dot` directly; one model for the other peers."""
    if peer.name == "gradwalk":
        return [("fused MLP", True), ("elementary", False), ("dot, no nn", "engine")]
    return [("", False)]


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part]


if __name__ == "__main__":
    main()
