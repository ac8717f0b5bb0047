"""demos/newton.py: Newton's method with grad(grad(f)) beats gradient descent."""

import importlib.util
from pathlib import Path

import pytest


def load_demo():
    path = Path(__file__).resolve().parents[2] / "demos" / "newton.py"
    spec = importlib.util.spec_from_file_location("newton_demo", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_newton_converges_where_gradient_descent_is_still_walking(capsys):
    result = load_demo().main([])
    assert abs(result["newton_slope"]) < 1e-12
    assert abs(result["gd_slope"]) > 1e-3
    assert result["newton"] == pytest.approx(1.049234250692739, abs=1e-12)
    assert "Newton" in capsys.readouterr().out
