"""demos/newton.py: Newton's method with grad(grad(f)) beats gradient descent."""

import pytest
from demo_loader import load


def test_newton_converges_where_gradient_descent_is_still_walking(capsys):
    result = load("newton").main([])
    assert abs(result["newton_slope"]) < 1e-12
    assert abs(result["gd_slope"]) > 1e-3
    assert result["newton"] == pytest.approx(1.049234250692739, abs=1e-12)
    assert "Newton" in capsys.readouterr().out
