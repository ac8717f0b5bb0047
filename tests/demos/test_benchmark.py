"""Smoke test of demos/benchmark.py at tiny sizes: it runs with whatever peers are installed and
without micrograd and torch, and leaves the interpreter as it found it. No timing is asserted:
timings belong to the benchmark itself."""

from __future__ import annotations

import gc
import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "demos" / "benchmark.py"

pytestmark = pytest.mark.slow  # each run of the benchmark takes seconds, even at --quick sizes


def load():
    spec = importlib.util.spec_from_file_location("demo_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def gradwalk_rows(result):
    return {(r["workload"].split()[0], r["peer"]) for r in result["rows"] if r["peer"].startswith("gradwalk")}


def test_quick_run_with_the_installed_peers_leaves_the_interpreter_alone():
    limit, gc_on = sys.getrecursionlimit(), gc.isenabled()
    result = load().main(["--quick", "--quiet"])
    assert sys.getrecursionlimit() == limit == result["recursion_limit_after"]
    assert gc.isenabled() == gc_on
    assert {("A", "gradwalk"), ("B", "gradwalk fused MLP"), ("B", "gradwalk elementary"),
            ("B", "gradwalk dot, no nn"), ("C", "gradwalk"), ("C", "gradwalk (sum_values)")} <= gradwalk_rows(result)
    assert all(r["median_s"] > 0 and r["runs"] == 1 for r in result["rows"])
    # Every peer trained the same network on the same points: the same first-step loss.
    losses = list(result["first_step_loss"].values())
    assert max(losses) - min(losses) < 1e-9
    # gradwalk's graphs are freed by reference counting alone, both kinds of MLP.
    for label in ("gradwalk fused MLP", "gradwalk elementary"):
        memory = result["memory"][label]
        assert memory["freed_without_gc"] and memory["nodes"] > 0 and memory["bytes_per_node"] > 0
    if "micrograd" not in result["missing"]:
        assert not result["memory"]["micrograd"]["freed_without_gc"]  # its closures make cycles
        assert any(r["vs_micrograd"] for r in result["rows"])


def test_quick_run_without_micrograd_and_torch(monkeypatch):
    for name in ("micrograd", "micrograd.engine", "micrograd.nn", "torch"):
        monkeypatch.setitem(sys.modules, name, None)  # `import name` now raises ImportError
    result = load().main(["--quick", "--quiet"])
    assert set(result["missing"]) == {"micrograd", "torch"}
    assert {r["peer"].split()[0] for r in result["rows"]} == {"gradwalk"}
    assert all(r["vs_micrograd"] is None for r in result["rows"])
    assert set(result["memory"]) == {"gradwalk fused MLP", "gradwalk elementary", "gradwalk dot, no nn"}


def test_unknown_peer_is_refused():
    with pytest.raises(SystemExit, match="unknown peer"):
        load().main(["--quick", "--quiet", "--peers", "gradwalk,jax"])
