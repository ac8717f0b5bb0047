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
     In the numpy process: "fit step, node by node" is what `nn.fit` runs per step (nn's
     hinge_loss and l2_penalty); "model replayed, loss on Values" replays the model from a tape
     and builds the loss from Values on its outputs (what fit(replay=True) does for a loss it
     can't record); "one array per node" does that without grouping a layer into a matrix
     product; "loss on the tape" is fit(replay=True)'s step for a named loss: model, hinge loss
     (the label an input) and L2 penalty on one tape, so that no Value is built per step at all.
     `--sweep` times fit(replay=True) itself against PyTorch, batch size by batch size.
  C  make 2 x 100,000 leaves, Python's sum() of their 100,000 products, then backward
     (gradwalk's `sum_values` too).
  D  memory: bytes per node of B's graph while it is alive (tracemalloc, after backward), and
     whether the graph is freed by reference counting alone when the loss goes away.

Timing covers building the graph, backward, and dropping it. A B step under 10 ms is timed as a
run of consecutive steps lasting about 20 ms, and reported per step. Before each timed run the script
calls gc.collect() (untimed), so no peer pays for another's garbage; micrograd's graphs are
reference cycles that only the collector frees, so that untimed collection favours micrograd. This
is the conservative ratio ("vs micrograd"). Each B step is also timed over a run of consecutive
steps lasting about 0.2 s with no collection in between ("in a row"): what a training loop sees,
each peer paying for its own garbage. Every row gives its graph's node count (leaves included).

The script measures the checkout it lives in (its parent directory goes first on the path, ahead
of an installed gradwalk); `--baseline DIR` runs another checkout's gradwalk with this script's
workloads.

Run:
    python demos/benchmark.py                  # full run, three processes (several minutes)
    python demos/benchmark.py --reps 3         # fewer repetitions
    python demos/benchmark.py --quick          # tiny sizes: a smoke test, numbers meaningless
    python demos/benchmark.py --profile        # where the default step's time goes
    python demos/benchmark.py --baseline DIR   # also B for the gradwalk in DIR (e.g. an export
                                               # of the last commit), in a process of its own;
                                               # give it more than once to compare several
    python demos/benchmark.py --in-process     # every peer in this one process
    python demos/benchmark.py --cpu-time       # CPU time instead of the wall clock (busy machine)
    python demos/benchmark.py --sweep 1000,10000,100000,1000000  # replay vs PyTorch by batch size
    python demos/benchmark.py --rounds 3       # each process three times, taking turns with the
                                               # baselines; the median of the rounds is reported
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The gradwalk to measure: this checkout, unless the parent process names another (--baseline).
sys.path.insert(0, os.environ.get("GRADWALK_BENCH_ROOT") or os.path.dirname(HERE))
if HERE not in sys.path:  # the `benchmarks` package next to this script, also when loaded by path
    sys.path.insert(1, HERE)

from benchmarks.common import clock, sizes  # noqa: E402
from benchmarks.report import compare, merge_rounds, parameters_hex, render  # noqa: E402
from benchmarks.run import PEERS, profile_default_step, run_process  # noqa: E402

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


def child_command(args, kind):
    """The command line that runs this script as the child process `kind`."""
    command = [sys.executable, os.path.abspath(__file__), "--child", kind, "--reps", str(args.reps),
               "--chain", ",".join(map(str, args.chain)), "--big-chain", str(args.big_chain),
               "--samples", str(args.samples), "--terms", str(args.terms), "--peers", ",".join(args.peers),
               "--workloads", args.workloads]
    return command + (["--quick"] if args.quick else []) + (["--cpu-time"] if args.cpu_time else [])


# numpy's BLAS on one thread, as PyTorch is (--sweep compares them single-threaded).
ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def run_child(command, say, title, root=None, env=None) -> dict:
    """Run this script as a child process measuring the gradwalk in `root` (this checkout by
    default), passing its progress through; returns the JSON it prints."""
    env = dict(os.environ, **(env or {}), GRADWALK_BENCH_ROOT=os.path.abspath(root or os.path.dirname(HERE)))
    say(f"\n[{title}]", flush=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the process {title!r} failed:\n{done.stderr[-3000:]}")
    for line in done.stderr.splitlines():
        say("  " + line)
    return json.loads(done.stdout)


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions (median reported)")
    parser.add_argument("--chain", type=sizes, default=[500, 100_000], help="chain lengths for A, comma-separated")
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
    parser.add_argument("--rounds", type=int, default=1,
                        help="run each process this many times, taking turns; report the median round")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with the process's CPU time, not the wall clock (on a busy shared machine)")
    parser.add_argument("--json", metavar="OUT", help="write the run as JSON to OUT")
    parser.add_argument("--compare", metavar="JSON", nargs="+",
                        help="OLD.json [NEW.json]: two runs side by side (with one file, against a new run)")
    parser.add_argument("--params-hex", metavar="STEPS", type=int,
                        help="print each model kind's parameters after STEPS training steps, as hex")
    parser.add_argument("--sweep", metavar="SIZES", type=sizes,
                        help="fit(replay=True) and its tape step against PyTorch at these batch sizes, e.g. 100,1000")
    parser.add_argument("--child", choices=list(PROCESSES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.chain, args.big_chain, args.samples, args.terms = 1, [50, 300], 1000, 8, 300
    for name in args.peers:
        if name not in PEERS:
            raise SystemExit(f"unknown peer {name!r}; choose from {', '.join(PEERS)}")
    if args.compare and len(args.compare) > 2:
        raise SystemExit("--compare takes one or two JSON files")
    return args


def check_parameters(args, say) -> dict:
    """The parameters after `args.params_hex` steps here and in each baseline, each in a process
    of its own; says whether each baseline's are bit-identical to this checkout's."""
    command = [sys.executable, os.path.abspath(__file__), "--params-hex", str(args.params_hex), "--child", "baseline"]
    found = {"this checkout": run_child(command, say, "parameters: this checkout")}
    for directory in args.baseline:
        found[directory] = run_child(command, say, f"parameters: {directory}", root=directory)
    mine = found["this checkout"]
    for directory in args.baseline:
        for kind, params in mine.items():
            same = found[directory].get(kind) == params
            say(f"{kind or 'default'}: {len(params)} parameters after {args.params_hex} steps "
                f"{'bit-identical to' if same else 'DIFFER from'} {directory}")
    return found


def main(argv=None) -> dict:
    args = parse(argv)
    clock["now"] = time.process_time if args.cpu_time else time.perf_counter
    say = (lambda *a, **k: None) if args.quiet else print
    if args.params_hex is not None:
        if args.child:
            found = parameters_hex(args.params_hex)
            print(json.dumps(found))
            return found
        return check_parameters(args, say)
    if args.sweep:
        if not args.child:  # in a process of its own, where numpy's BLAS runs on one thread
            command = [sys.executable, os.path.abspath(__file__), "--child", "torch", "--reps", str(args.reps),
                       "--sweep", ",".join(map(str, args.sweep))] + (["--cpu-time"] if args.cpu_time else [])
            return run_child(command, say, "replay against PyTorch by batch size", env=ONE_THREAD)
        from benchmarks.sweep import sweep  # imports numpy and torch: only for this option

        result = sweep(args.sweep, args.reps, lambda *a, **k: print(*a, file=sys.stderr, **k))
        print(json.dumps(result))
        return result
    if args.child:  # a child process: results as JSON on stdout, progress on stderr
        peers, kinds = PROCESSES[args.child]
        kinds = "".join(k for k in kinds if k in args.workloads.upper())
        result = run_process(args, [p for p in peers if p in args.peers or p == "gradwalk"], kinds,
                             lambda *a, **k: print(*a, file=sys.stderr, **k))
        print(json.dumps(result))
        return result
    if args.compare and len(args.compare) == 2:
        old, new = (json.load(open(path)) for path in args.compare)
        say(compare(old, new, *args.compare))
        return new
    if args.profile:
        return profile_default_step(args, say)

    if args.in_process:
        results = {"in-process": run_process(args, args.peers, args.workloads.upper(), say)}
    else:
        plan = []  # (key, command, title, the checkout measured)
        for kind in ("clean", "numpy", "torch"):
            peers, kinds = PROCESSES[kind]
            if any(p in args.peers for p in peers if p != "micrograd") and set(kinds) & set(args.workloads.upper()):
                plan.append((kind, child_command(args, kind), PROCESS_TITLES[kind], None))
        for directory in args.baseline:
            plan.append((f"baseline: {directory}", child_command(args, "baseline"),
                         f"{PROCESS_TITLES['baseline']}: {directory}", directory))
        # With --rounds, the processes take turns (in alternating order), so that a noisy
        # neighbour on a shared machine weighs on this checkout and a baseline alike.
        rounds = {key: [] for key, *_ in plan}
        for r in range(args.rounds):
            for key, command, title, root in plan if r % 2 == 0 else plan[::-1]:
                rounds[key].append(run_child(command, say, title + (f" (round {r + 1})" if args.rounds > 1 else ""),
                                             root=root))
        results = {key: merge_rounds(found) for key, found in rounds.items()}
    say()
    for kind, result in results.items():
        title = PROCESS_TITLES.get(kind) or (f"gradwalk from {kind[len('baseline: '):]}" if kind.startswith("baseline")
                                             else "every peer in one process")
        say(f"### {title}\n")
        say(render(result["rows"], result["memory"], result["chain_scaling"], args.big_chain, max(args.chain)))
        say(f"\nfirst-step loss: {result['first_step_loss']}")
        say(f"gradwalk from {result['gradwalk_from']}; recursion limit after the run: "
            f"{result['recursion_limit_after']}; gc enabled: {result['gc_enabled']}\n")
    run = {"processes": results, "argv": sys.argv[1:] if argv is None else list(argv)}
    if args.json:
        with open(args.json, "w") as out:
            json.dump(run, out, indent=1)
    if args.compare:
        say(compare(json.load(open(args.compare[0])), run, args.compare[0], "this run"))
    return run


if __name__ == "__main__":
    main()
