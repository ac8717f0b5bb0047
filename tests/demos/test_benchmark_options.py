"""demos/benchmark.py's reporting options at tiny sizes: node counts and the consecutive-steps ratio
in every B row, --json and --compare, --rounds, --cpu-time and --params-hex against a baseline
copy. No timing is asserted: timings belong to the benchmark itself."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "demos" / "benchmark.py"

pytestmark = pytest.mark.slow  # each run of the benchmark takes seconds, even at --quick sizes


def load():
    spec = importlib.util.spec_from_file_location("demo_benchmark_options", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_rows_give_node_counts_and_both_ratios_and_the_run_round_trips_through_json(tmp_path, capsys):
    out = tmp_path / "run.json"
    run = load().main(["--quick", "--workloads", "AB", "--peers", "gradwalk,micrograd", "--rounds", "2",
                       "--cpu-time", "--json", str(out)])
    clean = run["processes"]["clean"]
    assert clean["rounds"] == 2
    rows = {(r["workload"], r["peer"]): r for r in clean["rows"]}
    fused, elementary = rows[("B train step", "gradwalk fused MLP")], rows[("B train step", "gradwalk elementary")]
    # --quick trains on 8 points: the fused graph has far fewer nodes than the elementary one.
    assert 0 < fused["nodes"] < elementary["nodes"]
    assert rows[("A chain N=50", "gradwalk")]["nodes"] == 3 * 50 + 1  # *1.0001, +0.0001 and tanh per link, one leaf
    assert rows[("A chain N=1,000", "gradwalk")]["nodes"] == 3 * 1000 + 1
    for r in clean["rows"]:
        if r["workload"].startswith("B"):
            assert r["consecutive_s"] > 0
            assert "micrograd" in clean["missing"] or r["vs_micrograd_consecutive"] > 0
    assert json.loads(out.read_text())["processes"]["clean"]["rows"] == clean["rows"]
    printed = capsys.readouterr().out
    assert "| nodes |" in printed and "in a row" in printed

    load().main(["--compare", str(out), str(out)])
    table = capsys.readouterr().out
    assert "| clean | B train step | gradwalk fused MLP |" in table and "| 1.00 |" in table


def test_params_hex_says_whether_a_baseline_trains_bit_identically(tmp_path, capsys):
    for package in ("engine", "nn"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    found = load().main(["--params-hex", "2", "--baseline", str(tmp_path)])
    assert found["this checkout"] == found[str(tmp_path)]
    assert set(found["this checkout"]) == {"fused MLP", "elementary", "dot, no nn"}
    assert "fused MLP: 337 parameters after 2 steps bit-identical to" in capsys.readouterr().out


def test_compare_takes_at_most_two_files():
    with pytest.raises(SystemExit, match="one or two JSON files"):
        load().main(["--compare", "a.json", "b.json", "c.json"])
