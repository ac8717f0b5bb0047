"""Smoke tests for the demos: each one runs (reduced where it trains for long) and its headline
result holds. The demos are scripts, not a package, so each is imported from its file path."""

from __future__ import annotations

import importlib.util
import math
import os
import sys
from pathlib import Path

import pytest

DEMOS = Path(__file__).resolve().parents[2] / "demos"


def load(name: str):
    """Import demos/<name>.py as a module (fresh each time)."""
    spec = importlib.util.spec_from_file_location(f"demo_{name}", DEMOS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def assert_files(result, tmp_path, names):
    """Every promised file was written into the --out folder and is non-empty."""
    for name in names:
        path = tmp_path / name
        assert path.is_file(), f"{name} was not written"
        assert path.stat().st_size > 0, f"{name} is empty"
        assert str(path) in [str(Path(p)) for p in result["files"]]


# -- gradient_methods (article 000) ----------------------------------------------------------------


def test_gradient_methods_three_ways_agree(tmp_path):
    demo = load("gradient_methods")
    result = demo.main(["--out", str(tmp_path), "--quiet", "--points", "4", "--hidden", "8"])
    single = result["single"]
    for name in ("w1", "b1", "w2", "b2"):
        a, n, b = single["analytical"][name], single["numerical"][name], single["backprop"][name]
        assert abs(a - b) < 1e-6 and abs(n - b) < 1e-6 and abs(a - n) < 1e-6
        assert a != 0.0
    assert single["max_diff"] < 1e-6
    # finite differences need two forward passes per parameter
    assert single["numerical_forward_passes"] == 8
    mlp = result["mlp"]
    assert mlp["n_params"] == 2 * 8 + 8 + 8 * 8 + 8 + 8 + 1
    assert mlp["numerical_forward_passes"] == 2 * mlp["n_params"]
    assert mlp["max_diff"] < 1e-6
    assert_files(result, tmp_path, ["single_unit_graph.svg"])


# -- step_through (article 004) --------------------------------------------------------------------


def test_step_through_prints_every_chain_rule_step(tmp_path, capsys):
    demo = load("step_through")
    result = demo.main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    # pinned forward values for the pinned weights
    assert result["Y"] == pytest.approx(0.551815, abs=1e-6)
    assert result["J"] == pytest.approx(-math.log(result["Y"]), rel=1e-12)
    # one step per interior node: 3 x (dot, sigmoid) + dot, sigmoid + 7 loss nodes
    assert result["steps"] == 15
    assert "[ 1/15] at J (neg)" in out
    assert "h2 -> θ2_1:  dJ/dθ2_1 += 0.5646 (dh2/dθ2_1) * -0.4482 (dJ/dh2) = -0.2531" in out
    # backprop agrees with the closed form dJ/dθ2_j = (Y - y*) a1_j, ...
    assert result["max_diff"] < 1e-12
    assert result["grads"]["θ2_1"] == pytest.approx(-0.253057, abs=1e-6)
    assert result["grads"]["θ1_11"] == pytest.approx(-0.046272, abs=1e-6)
    assert_files(result, tmp_path, ["network_graph.svg", "backward.html"])
