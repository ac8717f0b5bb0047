"""Smoke tests for the demos: each one runs (reduced where it trains for long) and its headline
result holds. The demos are scripts, not a package, so each is imported from its file path."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from demo_loader import DEMOS, load

# Demos that draw graphs need Graphviz's `dot` (tests/conftest.py makes it mandatory under CI).
needs_dot = pytest.mark.needs_dot


def assert_files(result, tmp_path, names):
    """Every promised file was written into the --out folder and is non-empty."""
    for name in names:
        path = tmp_path / name
        assert path.is_file(), f"{name} was not written"
        assert path.stat().st_size > 0, f"{name} is empty"
        assert str(path) in [str(Path(p)) for p in result["files"]]


# -- gradient_methods (article 000) ----------------------------------------------------------------


@needs_dot
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


@needs_dot
def test_step_through_prints_every_chain_rule_step(tmp_path, capsys):
    demo = load("step_through")
    result = demo.main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    # pinned forward values for the pinned weights
    assert result["Y"] == pytest.approx(0.551822, abs=1e-6)
    assert result["J"] == pytest.approx(-math.log(result["Y"]), rel=1e-12)
    # one step per interior node: 3 x (dot, sigmoid) + dot, sigmoid + 7 loss nodes
    assert result["steps"] == 15
    assert "[ 1/15] at J (neg)" in out
    assert ("h2 -> θ2_1:  local ∂h2/∂θ2_1 = a1_1 = 0.5646;  upstream dJ/dh2 = -0.4482;  "
            "adds 0.5646 × -0.4482 ≈ -0.2531;  θ2_1.grad: 0 → -0.2531") in out
    # backprop agrees with the closed form dJ/dθ2_j = (Y - y*) a1_j, ...
    assert result["max_diff"] < 1e-12
    assert result["grads"]["θ2_1"] == pytest.approx(-0.253057, abs=1e-6)
    assert result["grads"]["θ1_11"] == pytest.approx(-0.046272, abs=1e-6)
    assert_files(result, tmp_path, ["network_graph.svg", "backward.html"])


# -- xor (article 002) -----------------------------------------------------------------------------


def test_xor_reproduces_the_articles_table(tmp_path, capsys):
    demo = load("xor")
    result = demo.main(["--out", str(tmp_path)])  # the article's full 1000 iterations: ~0.2 s
    out = capsys.readouterr().out
    assert result["quantized"] == [0, 1, 1, 0]
    low, high = [result["outputs"][i] for i in (0, 3)], [result["outputs"][i] for i in (1, 2)]
    assert all(o < 0.03 for o in low) and all(o > 0.97 for o in high)
    assert "Input\tOutput\tQuantized" in out
    assert "[1, 0]\t0.98" in out and "[1]" in out
    assert_files(result, tmp_path, ["loss.png"])


def test_xor_some_seeds_get_stuck(tmp_path):
    # the docstring's claim: seed 2 lands in the local minimum with two outputs at 0.5
    demo = load("xor")
    model, history = demo.train(2, 1000)
    outputs = demo.predict(model)
    assert not demo.solved(outputs)
    assert sum(abs(o - 0.5) < 0.05 for o in outputs) == 2
    assert history.loss[-1] == pytest.approx(math.log(2) / 2, abs=0.02)


# -- island (article 000) --------------------------------------------------------------------------


@pytest.mark.slow
def test_island_learns_the_island_and_the_xor_like_data(tmp_path):
    demo = load("island")
    # reduced: 60 points per data set, 1000 of the article's 2000 epochs (~10 s)
    result = demo.main(["--out", str(tmp_path), "--quiet", "--epochs", "1000", "--points", "60"])
    assert result["island"]["accuracy"] >= 0.95
    assert result["island"]["accuracy_before"] <= 0.6  # untrained, it is no better than guessing
    assert result["island"]["final_loss"] < result["island"]["first_loss"] / 3
    assert result["xor"]["accuracy"] >= 0.9
    assert_files(result, tmp_path, ["island_before.png", "island_after.png", "island_loss.png",
                                    "xor_after.png", "xor_loss.png"])


# -- gradient_check (article 003) ------------------------------------------------------------------


@pytest.mark.slow
def test_gradient_check_passes_and_catches_the_sum_bug(tmp_path):
    demo = load("gradient_check")
    result = demo.main(["--out", str(tmp_path), "--quiet", "--epochs", "10", "--points", "300"])
    assert set(result["relative_difference"]) == {"W1", "b1", "W2", "b2"}
    assert all(d < 1e-7 for d in result["relative_difference"].values())
    assert all(d < 1e-7 for d in result["relative_difference_at_init"].values())
    assert result["max_relative_difference"] < 1e-7
    # backprop of the summed loss is off by the factor m: (m - 1) / (m + 1) = 299 / 301
    for d in result["buggy_relative_difference"].values():
        assert d == pytest.approx(299 / 301, rel=1e-6)
    assert result["final_loss"] < result["first_loss"]
    assert_files(result, tmp_path, ["loss.png"])


# -- moons (the main demo) -------------------------------------------------------------------------


@pytest.mark.slow
@needs_dot
def test_moons_reaches_full_accuracy(tmp_path):
    demo = load("moons")
    result = demo.main(["--out", str(tmp_path), "--quiet"])  # the full 100 steps: a few seconds
    assert result["accuracy"] == 1.0
    assert result["n_params"] == 337
    assert result["history"].epochs == 100
    assert result["final_loss"] < 0.05
    assert_files(result, tmp_path, ["loss.png", "decision_boundary.png", "neuron.svg", "backprop.html"])
    html = (tmp_path / "backprop.html").read_text(encoding="utf-8")
    assert "<svg" in html and "tanh" in html


@needs_dot
def test_demos_print_their_output_folder(tmp_path, capsys):
    demo = load("step_through")
    demo.main(["--out", str(tmp_path / "st")])
    assert capsys.readouterr().out.startswith(f"output folder: {tmp_path / 'st'}")


# -- the README gallery ----------------------------------------------------------------------------


def test_gallery_images_are_committed_and_small():
    gallery = load("make_gallery")
    images = DEMOS / "images"
    expected = {target for _, pictures in gallery.GALLERY.values() for _, target in pictures}
    assert expected <= {p.name for p in images.iterdir()}
    for name in expected:
        path = images / name
        assert 0 < path.stat().st_size <= gallery.MAX_BYTES[path.suffix], name
