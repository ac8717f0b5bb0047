"""Numbers a learner brings (numpy's, Fraction, bool), Python's protocols on a Value, and messages
that point at the right thing (issue 18, sections 5 and 6)."""

from __future__ import annotations

import fractions
import subprocess
import sys

import numpy as np
import pytest

from engine import Value, detect_anomaly, dot, sum_values, tanh
from engine.cli import main as gradwalk

REAL = [2, 2.0, np.int64(2), np.int32(2), np.float32(2.0), np.float64(2.0), fractions.Fraction(2)]
NOT_REAL = [True, np.bool_(True), "2", None, 2j, [2.0], np.array([2.0, 3.0]), Value]


@pytest.mark.parametrize("n", REAL, ids=[type(n).__name__ for n in REAL])
def test_every_real_number_is_taken_the_same_way(n):
    x = Value(3.0)
    results = [Value(n).data, (x * n).data, (n * x).data, (x + n).data, (n - x).data, (x / n).data, (n / x).data,
               (x ** n).data, (n ** x).data, dot([x], [n]).data, sum_values([x, n]).data, tanh(n)]
    assert results == [2.0, 6.0, 6.0, 5.0, -1.0, 1.5, 2.0 / 3.0, 9.0, 8.0, 6.0, 5.0, np.tanh(2.0)]
    assert all(type(r) is float for r in results[:-1])


@pytest.mark.parametrize("n", NOT_REAL, ids=[type(n).__name__ for n in NOT_REAL])
def test_anything_else_is_refused_with_one_message(n):
    x = Value(3.0)
    for attempt in (lambda: Value(n), lambda: x * n, lambda: x + n, lambda: x ** n, lambda: dot([x], [n])):
        with pytest.raises(TypeError, match=r"takes a Value, int or float, not "):
            attempt()


def test_value_protocols_say_what_to_write():
    o = Value(0.7, "o")
    with pytest.raises(TypeError, match=r"compare its data \(v.data == 0.7\)"):
        o == 0.7  # noqa: B015
    for compare in (lambda: o > 0, lambda: o < 1, lambda: o >= 0, lambda: 0 < o):
        with pytest.raises(TypeError, match=r"has no order: compare data"):
            compare()
    assert float(o) == 0.7 and f"{o:.3f}" == "0.700" and f"{o}" == repr(o)
    other = Value(0.7)
    assert o == o and o != other and len({o, other, o}) == 2 and {o: 1}[o] == 1
    assert (o == "text") is False


def test_cli_messages_point_at_the_right_thing(capsys):
    assert gradwalk(["steps", "y", "y=1", "-o", "z.svg"]) == 2
    message = capsys.readouterr().err
    assert "no option -o" in message and "starting with '-'" not in message
    assert gradwalk(["steps", "-x*2", "x=1"]) == 2
    assert "starting with '-'" in capsys.readouterr().err
    assert gradwalk(["check", "a**b", "a=-2", "b=0.5"]) == 2
    message = capsys.readouterr().err
    assert "in a**b: a negative base (-2.0) to a fractional power (0.5)" in message and "x=" not in message


def test_detect_anomaly_in_a_repl_names_the_line_without_a_dangling_colon():
    program = "from engine import Value, detect_anomaly\nwith detect_anomaly():\n    y = Value(1000.0).exp()\n"
    run = subprocess.run([sys.executable], input=program, capture_output=True, text=True)
    last = run.stderr.strip().splitlines()[-1]
    assert last.endswith("at line 3 of your input"), last


def test_detect_anomaly_in_a_file_quotes_the_line(tmp_path):
    with pytest.raises(Exception, match=r"test_numbers_and_messages.py:\d+ in test_detect_anomaly_in_a_file.*: y = "):
        with detect_anomaly():
            y = Value(1000.0).exp()  # noqa: F841
