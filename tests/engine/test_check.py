"""gradcheck, numerical_grad, grad and value_and_grad."""

import math

import pytest

from engine import (
    GradcheckError, Value, compare_gradients, grad, gradcheck, gradcheck_table, numerical_grad, numerical_grad_wrt,
    value_and_grad,
)


def test_numerical_grad_matches_known_derivatives():
    slopes = numerical_grad(lambda x, y: x * y.sin(), 2.0, 0.5)
    assert slopes == pytest.approx([math.sin(0.5), 2.0 * math.cos(0.5)], rel=1e-8)


def test_numerical_grad_step_is_relative_to_large_inputs():
    # With an absolute step of 1e-6, x = 1e9 would be differenced below float resolution.
    (slope,) = numerical_grad(lambda x: x * x, 1e9)
    assert slope == pytest.approx(2e9, rel=1e-6)


def test_gradcheck_passes_a_correct_function():
    assert gradcheck(lambda a, b, c: (a * b + c).tanh() / (c * c + 1), 0.3, -1.1, 2.0) is True


class BrokenSquare:
    """A deliberately wrong op: forward x^2 with the slope of x^3."""

    def __call__(self, x, y):
        out = x * x
        data = x.data
        out.local_grad = lambda: (3.0 * data * data, 0.0)  # wrong on purpose
        return out + y


def test_gradcheck_reports_a_readable_table_marking_the_failing_row():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(BrokenSquare(), 2.0, 5.0)
    message = str(caught.value)
    lines = message.splitlines()
    assert lines[0] == "gradcheck failed for 1 of 2 inputs (atol=1e-05, rtol=0.001):"
    assert lines[1].split() == ["input", "value", "analytic", "numeric", "abs", "err", "rel", "err"]
    assert lines[2].split()[:4] == ["x0", "2", "12", "4"] and lines[2].endswith("<-- FAIL")
    assert lines[3].split()[0] == "x1" and "FAIL" not in lines[3]


def test_gradcheck_uses_input_labels_and_leaves_caller_values_alone():
    a = Value(1.5, "a")
    assert gradcheck(lambda v: v.exp(), a)
    assert a.grad == 0.0 and a.data == 1.5


def test_grad_and_value_and_grad_over_plain_floats():
    f = lambda x, y: x * x * y + y.exp()  # noqa: E731
    assert grad(f)(3.0, 0.0) == pytest.approx(0.0)
    assert grad(f, argnums=1)(3.0, 0.0) == pytest.approx(10.0)
    value, (gx, gy) = value_and_grad(f, argnums=(0, 1))(3.0, 1.0)
    assert value == pytest.approx(9.0 + math.e)
    assert (gx, gy) == pytest.approx((6.0, 9.0 + math.e))
    assert grad(f).__name__ == "grad(<lambda>)"


def test_grad_has_no_side_effects_on_values_the_function_closes_over():
    w = Value(2.0, "w")
    w.grad = 0.25  # the caller's own accumulated gradient
    hidden = w * 3  # an interior node the caller holds
    g = grad(lambda x: hidden * x)
    assert g(4.0) == 6.0
    assert g(4.0) == 6.0  # same answer twice: nothing accumulated between calls
    assert w.grad == 0.25 and hidden.grad == 0.0


def test_grad_of_a_constant_function_is_zero():
    assert grad(lambda x: 5.0)(1.0) == 0.0


def test_argnums_out_of_range():
    with pytest.raises(IndexError, match="argnums 2 is out of range for 2 arguments"):
        grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)


def test_inputs_must_be_numbers():
    with pytest.raises(TypeError, match="str"):
        gradcheck(lambda x: x, "1.0")


def test_numerical_grad_wrt_existing_values_restores_their_data():
    w, b = Value(0.5, "w"), Value(-2.0, "b")
    slopes = numerical_grad_wrt(lambda: (w * 3.0 + b).tanh(), [w, b])
    t = math.tanh(0.5 * 3.0 - 2.0)
    assert slopes == pytest.approx([3 * (1 - t * t), 1 - t * t], rel=1e-8)
    assert (w.data, b.data) == (0.5, -2.0)


def test_numerical_grad_wrt_restores_data_when_f_raises():
    x = Value(0.5)

    def f():
        if x.data != 0.5:
            raise RuntimeError("boom")
        return x

    with pytest.raises(RuntimeError):
        numerical_grad_wrt(f, [x])
    assert x.data == 0.5


@pytest.mark.parametrize("f,x", [(lambda v: v.log(), 1e-5), (lambda v: 1 / v, 1e-5), (lambda v: v.sqrt(), 1e-5),
                                 (lambda v: v**-1, 1e-15), (lambda v: v.log(), 1e-7)])
def test_gradcheck_near_a_singularity_at_small_inputs(f, x):
    # A fixed step of 1e-6 would straddle most of the curve (or leave log's domain) here.
    assert gradcheck(f, x)


def test_compare_gradients_rows_and_the_passing_table():
    rows = compare_gradients(lambda x, y: x.log() * y, 2.0, 3.0)
    assert [(r.label, r.value, r.ok) for r in rows] == [("x0", 2.0, True), ("x1", 3.0, True)]
    assert rows[0].analytic == pytest.approx(1.5) and rows[0].numeric == pytest.approx(1.5, rel=1e-8)
    table = gradcheck_table(rows).splitlines()
    assert table[0].startswith("gradcheck passed: backprop agrees with finite differences for all 2 inputs")
    assert table[2].split()[:2] == ["x0", "2"] and "FAIL" not in "\n".join(table)


def test_smaller_steps_never_rescue_a_wrong_derivative_near_zero():
    with pytest.raises(GradcheckError):
        gradcheck(BrokenSquare(), 1e-3, 5.0)  # slope 3x^2 = 3e-6 claimed, true 2x = 2e-3


# -- kinks and large inputs ---------------------------------------------------------------------------


def test_a_failure_at_a_kink_says_so():
    (row,) = compare_gradients(lambda x: x.relu(), 0.0)
    assert not row.ok and (row.analytic, row.numeric) == (0.0, pytest.approx(0.5))
    assert row.hint.startswith("x0 sits on a kink of relu: at x0 = 0 the input of relu is exactly at its kink (0)")
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: x.relu(), 0.0)
    assert "    hint: x0 sits on a kink of relu" in str(caught.value)


def test_a_kink_within_every_step_is_named_too():
    # relu's input is -1e-13: even the smallest step tried (1e-10) straddles the kink.
    (row,) = compare_gradients(lambda x: (x - 1e-13).relu(), 0.0)
    assert not row.ok
    assert "the input of relu is -1e-13, and x0 +- 1e-10 moves it across its kink (0)" in row.hint


def test_a_kink_hint_names_every_kinked_op_involved():
    (row,) = compare_gradients(lambda x: x.abs() + x.relu(), 0.0)
    assert not row.ok and row.hint.startswith("x0 sits on a kink of abs and relu:")


def test_no_kink_hint_for_a_wrong_derivative_away_from_kinks():
    rows = compare_gradients(lambda x, y: BrokenSquare()(x, y).relu(), 2.0, 5.0)
    assert not rows[0].ok and rows[0].hint == ""  # relu's input is 9: far from its kink
    assert rows[1].ok and rows[1].hint == ""


def test_a_large_input_gets_a_step_its_function_can_follow():
    # sin at 1e10: a step relative to x (1e4) spans ~1600 periods; the old check failed here.
    assert gradcheck(lambda x: x.sin(), 1e10)
    assert gradcheck(lambda x: x.cos() * x, 1e10)
    from engine.check import _trial_steps

    steps = _trial_steps(1e10, 1e-6)
    assert steps[0] == 1e4 and any(1e-3 <= h <= 1e-1 for h in steps)
    assert min(steps) >= 1e3 * math.ulp(1e10)  # never differenced at the float spacing of x
    assert _trial_steps(0.5, 1e-6) == [1e-6, 1e-8, 1e-10]  # small inputs: as before


def test_a_large_input_still_catches_a_wrong_derivative():
    def sloppy_sin(x):
        out = x.sin()
        slope = math.cos(x.data) * 1.01  # 1% off
        out.local_grad = lambda: (slope,)
        return out

    with pytest.raises(GradcheckError):
        gradcheck(sloppy_sin, 1e10)


def test_an_input_too_large_to_resolve_fails_rather_than_passing_on_noise():
    # Floats near 1e15 are 0.125 apart; sin swings too fast for any step finite differences can take.
    (row,) = compare_gradients(lambda x: x.sin(), 1e15)
    assert not row.ok and row.hint == ""


@pytest.mark.parametrize("bad", [{"eps": 0.0}, {"eps": -1e-6}, {"eps": math.nan}, {"atol": -1.0}, {"rtol": math.inf},
                                 {"eps": True}])
def test_steps_and_tolerances_must_make_sense(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=f"gradcheck's {name} must be a finite number"):
        gradcheck(lambda x: x * x, 1.0, **bad)


def test_a_kink_is_found_inside_no_grad_too():
    from engine import no_grad

    with no_grad():
        (row,) = compare_gradients(lambda x: x.relu(), 0.0)
    assert "sits on a kink of relu" in row.hint
