"""What every workload and peer shares: the data, the weights, the training step, the timers."""

from __future__ import annotations

import gc
import random
import sys
import time
import tracemalloc
import weakref
from contextlib import contextmanager

SEED = 1337
LEARNING_RATE = 0.1
ALPHA = 1e-4  # L2 coefficient, as in micrograd's demo
SIZES = [2, 16, 16, 1]  # the MLP of micrograd's demo
SHORT_STEP = 0.01  # seconds: a B step shorter than this is timed over a run of steps
CONSECUTIVE_RUN = 0.2  # seconds: how long a run of consecutive B steps lasts (no gc.collect between)


def moons(n):
    """n moons points and labels in {-1, +1}, the same for every peer."""
    try:
        from nn.datasets import make_moons
    except ImportError:  # a --baseline checkout from before nn.datasets
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
    """Seconds per call of `fn`, over `count` calls in a row (one gc.collect() before the run)."""
    return timed(lambda: [fn() for _ in range(count)]) / count


clock = {"now": time.perf_counter}  # --cpu-time switches it to the process's CPU time


def timed(fn):
    gc.collect()  # untimed: start from a clean heap, whatever the previous run left behind
    now = clock["now"]
    start = now()
    fn()
    return now() - start


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


def duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part]
