"""One process's run: every workload on every peer, interleaved, and where the default step's
time goes (`--profile`)."""

from __future__ import annotations

import gc
import math
import os
import platform
import random
import statistics
import sys

import engine
from benchmarks.array_peers import GradwalkReplay, TorchScalars
from benchmarks.common import (CONSECUTIVE_RUN, SEED, SHORT_STEP, clock, collector_paused, duration, graph_memory,
                               initial_weights, loss_graph, moons, timed, timed_steps, training_step)
from benchmarks.scalar_peers import Gradwalk, Micrograd, PlainFloats
from engine import topological_order

PEERS = {"gradwalk": Gradwalk, "micrograd": Micrograd, "floats": PlainFloats, "replay": GradwalkReplay,
         "torch": TorchScalars}


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


def _chain_nodes(peer, n):
    if not hasattr(peer, "chain_root"):
        return None
    _, y = peer.chain_root(n)
    return len(peer.graph_nodes(y))


def workloads(peers, args, kinds, X, y, weights):
    """(workload, variant label, peer, function to time, node counter or None) for every run of
    one repetition."""
    jobs = []
    if "A" in kinds:
        for n in args.chain:
            for peer in peers:
                if hasattr(peer, "chain"):
                    label = peer.name + (f" ({peer.activation})" if peer.activation != "tanh" else "")
                    jobs.append((f"A chain N={n:,}", label, peer, lambda p=peer, n=n: p.chain(n),
                                 lambda p=peer, n=n: _chain_nodes(p, n)))
        g = next((p for p in peers if isinstance(p, Gradwalk)), None)
        if args.big_chain and g is not None:
            jobs.append((f"A chain N={args.big_chain:,}", "gradwalk", g, lambda: g.chain(args.big_chain),
                         lambda: _chain_nodes(g, args.big_chain)))
    if "B" in kinds:
        for peer in peers:
            for label, make, count in peer.b_variants(weights, X, y):
                jobs.append(("B train step", label, peer, make(), count))
    if "C" in kinds:
        rng = random.Random(SEED)
        raw = [rng.uniform(-1.0, 1.0) for _ in range(2 * args.terms)]
        a, b = raw[: args.terms], raw[args.terms:]
        # The leaves are made inside the timed run: kept alive between runs, 6 * 10^5 of them would
        # make the collector's full passes rarer for every other workload than in a real program.
        for peer in peers:
            if hasattr(peer, "sum_products"):
                count = None
                if hasattr(peer, "sum_root"):
                    count = lambda p=peer: len(p.graph_nodes(p.sum_root(p.leaves(a), p.leaves(b))))  # noqa: E731
                jobs.append((f"C sum of {args.terms:,} products", peer.name, peer,
                             lambda p=peer: p.sum_products(p.leaves(a), p.leaves(b)), count))
            if isinstance(peer, Gradwalk):
                jobs.append((f"C sum of {args.terms:,} products", "gradwalk (sum_values)", peer,
                             lambda p=peer: p.sum_values_products(p.leaves(a), p.leaves(b)),
                             lambda p=peer: len(topological_order(engine.sum_values(
                                 ai * bi for ai, bi in zip(p.leaves(a), p.leaves(b)))))))
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

    # A training step much shorter than a time slice is timed as a short run of consecutive steps
    # (the result is per step): timed alone, right after gc.collect() has walked the heap, a
    # sub-millisecond step measures cold caches more than itself. Every B step is also timed over
    # a longer run with no gc.collect() in between ("consecutive"): what a training loop sees.
    steps, runs = {}, {}
    for w, label, _, fn, _ in jobs:
        if w.startswith("B"):
            fn()  # untimed warm-up: first calls pay for imports, caches and a replay's plan
            once = timed(fn)
            steps[(w, label)] = 1 if once >= SHORT_STEP else math.ceil(2 * SHORT_STEP / max(once, 1e-6))
            runs[(w, label)] = max(3, math.ceil(CONSECUTIVE_RUN / max(once, 1e-6)))
    times = {(w, label): [] for w, label, *_ in jobs}
    consecutive = {key: [] for key in runs}
    for rep in range(args.reps):
        say(f"repetition {rep + 1}/{args.reps} ...", flush=True)
        # Rotate which peer goes first, so none always runs right after another's garbage.
        shift = rep % max(1, len(peers))
        order = peers[shift:] + peers[:shift]
        for workload in dict.fromkeys(w for w, *_ in jobs):
            for peer in order:
                for w, label, p, fn, _ in jobs:
                    if w == workload and p is peer:
                        count = steps.get((w, label), 1)
                        times[(w, label)].append(timed(fn) if count == 1 else timed_steps(fn, count))
                        if (w, label) in runs:
                            consecutive[(w, label)].append(timed_steps(fn, runs[(w, label)]))

    nodes = {(w, label): count() if count else None for w, label, _, _, count in jobs}
    checks = {}
    if "B" in kinds:
        for peer in peers:
            # Correctness, untimed: every peer computes the same first-step loss from the same weights.
            for label, make, _ in peer.b_variants(weights, X, y):
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
        def micrograd(table):
            return next((statistics.median(t) for (w, lab), t in table.items()
                         if w == workload and lab.startswith("micrograd") and t), None)

        median = statistics.median(ts)
        base = micrograd(times)
        row = {"workload": workload, "peer": label, "nodes": nodes[(workload, label)], "median_s": median,
               "runs": len(ts), "vs_micrograd": None if base is None else base / median}
        if consecutive.get((workload, label)):
            in_a_row, base = statistics.median(consecutive[(workload, label)]), micrograd(consecutive)
            row.update(consecutive_s=in_a_row, vs_micrograd_consecutive=None if base is None else base / in_a_row)
        rows.append(row)
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
    now = clock["now"]
    whole = []
    for _ in range(reps):
        whole.append(timed(lambda: training_step(peer, model, X, y)))
        gc.collect()
        with collector_paused():
            # The ordering alone, on a graph of its own: backward() below then orders a fresh graph
            # too, as it does in a real step (a second ordering of one graph runs faster).
            first, _, _ = loss_graph(peer, model, X, y)
            t0 = now()
            topological_order(first)  # what backward() computes first
            ordering = now() - t0
            del first
            t0 = now()
            total, _, _ = loss_graph(peer, model, X, y)
            t1 = now()
            total.backward()
            t3 = now()
            peer.zero_grad(params)
            peer.sgd(params, 0.0)  # the same work as SGD, leaving the weights as they are
            t4 = now()
            del total
            t5 = now()
        phases["forward"].append(t1 - t0)
        phases["ordering"].append(ordering)
        phases["backward walk"].append(max(0.0, (t3 - t1) - ordering))  # backward() = ordering + walk
        phases["update"].append(t4 - t3)
        phases["free"].append(t5 - t4)
    medians = {name: statistics.median(ts) for name, ts in phases.items()}
    step = statistics.median(whole)
    medians["garbage collection"] = max(0.0, step - sum(medians.values()))
    say(f"B's default step (gradwalk fused MLP, {args.samples} points), median of {reps}: {duration(step)}")
    for name, seconds in medians.items():
        say(f"  {name:<20} {duration(seconds):>10}  {seconds / step:6.1%}")
    return {"step_s": step, "phases_s": medians}
