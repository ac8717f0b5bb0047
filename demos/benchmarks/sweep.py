"""Replay against PyTorch as the batch grows (`--sweep`): B's step (MLP 2-16-16-1, hinge + L2,
SGD) on N moons points, in one process (torch imported), interleaved:

* "fit(replay=True)": what `nn.fit` spends per full-batch step, the difference between fitting
  1 + E epochs and 1 epoch, divided by E (so fit's checks and the recording are left out);
  measured up to `FIT_UP_TO` samples, where fit's per-sample checks before training still take
  less than a second;
* "tape step": the step fit runs, the model and the loss on one tape (`nn.replay.TapedLoss`);
* "torch": PyTorch's batched float64 step on one thread.

Also the peak memory per sample of a tape step (tracemalloc), and how far the parameters are
after 100 steps at batch 100: fit(replay=True) against PyTorch, and against fit node by node."""

from __future__ import annotations

import math
import statistics
import tracemalloc

from benchmarks.array_peers import GradwalkReplay, TorchScalars
from benchmarks.common import ALPHA, LEARNING_RATE, duration, initial_weights, moons, timed, timed_steps
from benchmarks.scalar_peers import Gradwalk

FIT_UP_TO = 10_000
RUN = 0.1  # seconds: a step shorter than this is timed over a run of steps


def _fit(weights, X, y, epochs, replay=True):
    from nn import SGD, fit

    model = Gradwalk().model(weights, True)
    fit(model, X, y, loss="hinge", l2=ALPHA, optimizer=SGD(model.parameters(), lr=LEARNING_RATE), epochs=epochs,
        progress=False, replay=replay)
    return model


def _torch_parameters(torch_step) -> list[float]:
    theirs = []
    for W, b in zip(torch_step.params[::2], torch_step.params[1::2]):
        for row, bias in zip(W.tolist(), b.tolist()):
            theirs += [*row, bias]  # a neuron's weights, then its bias: nn's parameter order
    return theirs


def parameter_gaps(steps=100, n=100) -> dict:
    """The largest |difference| over the parameters after `steps` full-batch steps at batch `n`:
    fit(replay=True) against PyTorch, and against fit node by node."""
    weights = initial_weights()
    X, y = moons(n)
    replayed = [p.data for p in _fit(weights, X, y, steps).parameters()]
    nodes = [p.data for p in _fit(weights, X, y, steps, replay=False).parameters()]
    torch_step = TorchScalars().batched_step(weights, X, y)
    for _ in range(steps):
        torch_step()
    theirs = _torch_parameters(torch_step)
    return {"vs_torch": max(abs(a - b) for a, b in zip(replayed, theirs, strict=True)),
            "vs_nodes": max(abs(a - b) for a, b in zip(replayed, nodes, strict=True))}


def _per_step(fn, once):
    count = max(1, math.ceil(RUN / max(once, 1e-6)))
    return timed(fn) if count == 1 else timed_steps(fn, count)


def _fit_per_step(weights, X, y, epochs):
    return (timed(lambda: _fit(weights, X, y, 1 + epochs)) - timed(lambda: _fit(weights, X, y, 1))) / epochs


def sweep(sizes, reps, say) -> dict:
    rows = []
    for n in sizes:
        weights = initial_weights()
        X, y = moons(n)
        tape_step = GradwalkReplay().taped_loss_step(Gradwalk().model(weights, True), X, y)
        torch_step = TorchScalars().batched_step(weights, X, y)
        tape_once, torch_once = timed(tape_step), timed(torch_step)  # warm-up: the plan, torch's allocator
        epochs = max(2, math.ceil(2 * RUN / tape_once))
        times = {"fit": [], "tape": [], "torch": []}
        for _ in range(reps):
            if n <= FIT_UP_TO:
                times["fit"].append(_fit_per_step(weights, X, y, epochs))
            times["tape"].append(_per_step(tape_step, tape_once))
            times["torch"].append(_per_step(torch_step, torch_once))
        tracemalloc.start()  # numpy reports its arrays to tracemalloc; torch's tensors it does not
        try:
            tape_step()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        row = {"batch": n, **{f"{k}_s": statistics.median(v) if v else None for k, v in times.items()},
               "bytes_per_sample": peak / n}
        rows.append(row)
        fit_shown = "" if row["fit_s"] is None else f"fit(replay=True) {duration(row['fit_s'])}, "
        say(f"batch {n:,}: {fit_shown}tape step {duration(row['tape_s'])}, torch {duration(row['torch_s'])}",
            flush=True)
    gaps = parameter_gaps()
    say(render(rows, gaps))
    return {"sweep": rows, "parameter_gap_100_steps": gaps["vs_torch"], "parameter_gaps_100_steps": gaps}


def render(rows, gaps) -> str:
    lines = ["| batch | fit(replay=True) step | tape step | torch batched (float64, 1 thread) | fit / torch "
             "| tape / torch | tape step's peak memory per sample |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        fit_time, fit_ratio = ("-", "-") if r["fit_s"] is None else (duration(r["fit_s"]), f"{r['fit_s'] / r['torch_s']:.2f}")
        lines.append(f"| {r['batch']:,} | {fit_time} | {duration(r['tape_s'])} | {duration(r['torch_s'])} | {fit_ratio} "
                     f"| {r['tape_s'] / r['torch_s']:.2f} | {r['bytes_per_sample'] / 1000:.2f} KB |")
    lines.append(f"\nlargest parameter difference after 100 steps at batch 100, fit(replay=True) against PyTorch: "
                 f"{gaps['vs_torch']:.2e}; against fit node by node: {gaps['vs_nodes']:.2e}")
    return "\n".join(lines)
