"""Replay against PyTorch as the batch grows (`--sweep`): B's step (MLP 2-16-16-1, hinge + L2,
SGD) on N moons points, gradwalk with the loss on the tape against PyTorch's batched float64 step
on one thread, in one process (torch imported), interleaved. Also the peak memory per sample of a
replay step, and how far gradwalk's parameters are from PyTorch's after 100 steps at batch 100."""

from __future__ import annotations

import statistics
import tracemalloc

from benchmarks.array_peers import GradwalkReplay, TorchScalars
from benchmarks.common import duration, initial_weights, moons, timed
from benchmarks.scalar_peers import Gradwalk


def _steps(n, weights):
    X, y = moons(n)
    tape_model = Gradwalk().model(weights, True)
    return (GradwalkReplay().taped_loss_step(tape_model, X, y), tape_model,
            TorchScalars().batched_step(weights, X, y))


def parameter_gap(steps=100, n=100) -> float:
    """The largest |gradwalk - torch| over the parameters after `steps` steps at batch `n`."""
    tape_step, model, torch_step = _steps(n, initial_weights())
    for _ in range(steps):
        tape_step()
        torch_step()
    theirs = []
    for W, b in zip(torch_step.params[::2], torch_step.params[1::2]):
        for row, bias in zip(W.tolist(), b.tolist()):
            theirs += [*row, bias]  # a neuron's weights, then its bias: nn's parameter order
    return max(abs(p.data - t) for p, t in zip(model.parameters(), theirs, strict=True))


def sweep(sizes, reps, say) -> dict:
    rows = []
    for n in sizes:
        tape_step, _, torch_step = _steps(n, initial_weights())
        tape_step(), torch_step()  # warm-up: the replay's plan, torch's allocator
        times = {"tape": [], "torch": []}
        for _ in range(reps):
            times["tape"].append(timed(tape_step))
            times["torch"].append(timed(torch_step))
        tracemalloc.start()  # numpy reports its arrays to tracemalloc; torch's tensors it does not
        try:
            tape_step()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        tape, torch = statistics.median(times["tape"]), statistics.median(times["torch"])
        rows.append({"batch": n, "tape_s": tape, "torch_s": torch, "bytes_per_sample": peak / n})
        say(f"batch {n:,}: tape {duration(tape)}, torch {duration(torch)}", flush=True)
    gap = parameter_gap()
    lines = ["| batch | gradwalk, loss on the tape | torch batched (float64, 1 thread) | tape / torch "
             "| replay peak memory per sample |", "| ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['batch']:,} | {duration(r['tape_s'])} | {duration(r['torch_s'])} "
                     f"| {r['tape_s'] / r['torch_s']:.2f} | {r['bytes_per_sample'] / 1000:.2f} KB |")
    lines.append(f"\nlargest parameter difference from PyTorch after 100 steps at batch 100: {gap:.2e}")
    say("\n".join(lines))
    return {"sweep": rows, "parameter_gap_100_steps": gap}
