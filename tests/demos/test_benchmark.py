"""Smoke test of demos/benchmark.py at tiny sizes: it runs its peers in child processes (the clean
one imports neither numpy nor torch), with whatever peers are installed and without micrograd and
torch, profiles the default step, measures a baseline gradwalk from another directory, and leaves
the interpreter as it found it. No timing is asserted: timings belong to the benchmark itself."""

from __future__ import annotations

import gc
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "demos" / "benchmark.py"

pytestmark = pytest.mark.slow  # each run of the benchmark takes seconds, even at --quick sizes


def load():
    spec = importlib.util.spec_from_file_location("demo_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def peers_of(result, workload):
    return {r["peer"] for r in result["rows"] if r["workload"].split()[0] == workload}


def test_quick_run_measures_each_set_of_peers_in_its_own_process():
    limit, gc_on = sys.getrecursionlimit(), gc.isenabled()
    processes = load().main(["--quick", "--quiet"])["processes"]
    assert sys.getrecursionlimit() == limit and gc.isenabled() == gc_on
    clean = processes["clean"]
    assert clean["modules"] == []  # the headline table: neither numpy nor torch imported
    assert {"gradwalk fused MLP", "gradwalk elementary", "gradwalk dot, no nn", "plain floats (no graph)"} <= \
        peers_of(clean, "B")
    assert {"gradwalk", "gradwalk (sum_values)"} <= peers_of(clean, "C") and "gradwalk" in peers_of(clean, "A")
    for result in processes.values():
        assert result["recursion_limit_after"] == limit and result["gc_enabled"]
        assert all(r["median_s"] > 0 and r["runs"] == 1 for r in result["rows"])
    # Every peer in every process trained the same network on the same points: one first-step loss.
    losses = [loss for result in processes.values() for loss in result["first_step_loss"].values()]
    assert len(losses) >= 5 and max(losses) - min(losses) < 1e-9
    # gradwalk's graphs are freed by reference counting alone, both kinds of MLP.
    for label in ("gradwalk fused MLP", "gradwalk elementary"):
        memory = clean["memory"][label]
        assert memory["freed_without_gc"] and memory["nodes"] > 0 and memory["bytes_per_node"] > 0
    if "micrograd" not in clean["missing"]:
        assert not clean["memory"]["micrograd"]["freed_without_gc"]  # its closures make cycles
        assert all(r["vs_micrograd"] for r in clean["rows"] if r["workload"].startswith("B"))
    if "numpy" in processes:
        assert processes["numpy"]["modules"] == ["numpy"]
        assert {"gradwalk fit step, node by node", "gradwalk model replayed, loss on Values",
                "gradwalk replay, loss on the tape (fit's step)"} <= peers_of(processes["numpy"], "B")
    if "torch" in processes and "torch" not in processes["torch"]["missing"]:
        assert "torch" in processes["torch"]["modules"]
        assert {"torch 0-d", "torch batched (float64, 1 thread)"} <= peers_of(processes["torch"], "B")


def test_quick_run_in_process_without_micrograd_and_torch(monkeypatch):
    for name in ("micrograd", "micrograd.engine", "micrograd.nn", "torch"):
        monkeypatch.setitem(sys.modules, name, None)  # `import name` now raises ImportError
    result = load().main(["--quick", "--quiet", "--in-process"])["processes"]["in-process"]
    assert set(result["missing"]) == {"micrograd", "torch"}
    assert {r["peer"].split()[0] for r in result["rows"]} == {"gradwalk", "plain"}
    assert all(r["vs_micrograd"] is None for r in result["rows"])
    assert set(result["memory"]) == {"gradwalk fused MLP", "gradwalk elementary", "gradwalk dot, no nn"}


def test_profile_splits_the_default_step_into_phases(capsys):
    result = load().main(["--quick", "--profile"])
    phases = result["phases_s"]
    assert list(phases) == ["forward", "ordering", "backward walk", "update", "free", "garbage collection"]
    assert phases["forward"] > 0 and phases["ordering"] > 0 and all(t >= 0 for t in phases.values())
    printed = capsys.readouterr().out
    assert "forward" in printed and "garbage collection" in printed


def test_a_baseline_gradwalk_runs_from_its_own_directory(tmp_path):
    for package in ("engine", "nn"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    processes = load().main(["--quick", "--quiet", "--peers", "gradwalk", "--baseline", str(tmp_path)])["processes"]
    baseline = f"baseline: {tmp_path}"
    assert set(processes) == {"clean", baseline}
    assert processes[baseline]["gradwalk_from"] == str(tmp_path)
    assert processes["clean"]["gradwalk_from"] == str(ROOT)
    assert "gradwalk fused MLP" in peers_of(processes[baseline], "B")


def test_unknown_peer_is_refused():
    with pytest.raises(SystemExit, match="unknown peer"):
        load().main(["--quick", "--quiet", "--peers", "gradwalk,jax"])


def test_the_sweep_times_fit_the_tape_and_torch_and_compares_their_parameters():
    pytest.importorskip("torch")
    pytest.importorskip("numpy")
    load()  # puts demos/ on the path, for the benchmarks package
    from benchmarks.sweep import sweep

    said = []
    result = sweep([30], 1, lambda *a, **k: said.append(" ".join(map(str, a))))
    (row,) = result["sweep"]
    assert row["batch"] == 30 and row["fit_s"] > 0 and row["tape_s"] > 0 and row["torch_s"] > 0
    assert 0 < row["bytes_per_sample"] < 1e5
    gaps = result["parameter_gaps_100_steps"]
    assert gaps["vs_torch"] < 1e-9 and gaps["vs_nodes"] < 1e-9
    assert "fit / torch" in said[-1] and "against fit node by node" in said[-1]
