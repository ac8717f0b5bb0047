"""The `gradwalk` command: success paths, and every refusal as one line on stderr with exit 2."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import commands as cli
from engine.check import compare_gradients
from engine.cli import COMMANDS, main
from engine.cli.formula import MAX_CHARS, MAX_DEPTH, MAX_PARTS

needs_dot = pytest.mark.needs_dot  # skipped where Graphviz is missing: see tests/conftest.py
NEURON = ["tanh(x*w + b)", "x=2", "w=-3", "b=6.8813735870195432"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2, (argv, out, err)
    assert err.startswith("gradwalk: error: ") and err.count("\n") == 1, err  # exactly one line
    assert "Traceback" not in err
    return err


# -- success ----------------------------------------------------------------------------------------


@needs_dot
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".dot", b"digraph")])
def test_draw(capsys, tmp_path, suffix, magic):
    target = tmp_path / f"graph{suffix}"
    code, out, err = run(capsys, "draw", *NEURON, "-o", str(target))
    assert code == 0 and err == ""
    assert target.read_bytes().startswith(magic)
    assert "f = tanh(x*w + b) = 0.7071" in out
    assert "df/dx = -1.5" in out and "df/dw = 1" in out and "df/db = 0.5" in out
    assert f"wrote {target}" in out


@needs_dot
def test_draw_default_output_and_options(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "draw", "x*x + 1", "x=3", "--rankdir", "TB", "--color-by-grad", "--digits", "2")
    assert code == 0, err
    assert (tmp_path / "graph.svg").exists()
    assert "df/dx = 6" in out


def test_steps(capsys):
    code, out, err = run(capsys, "steps", *NEURON)
    assert code == 0 and err == ""
    assert "backward: 3 steps" in out
    assert "step 1 of 3: f = tanh(#4) = 0.7071" in out
    assert "  f -> #4:  local ∂f/∂#4 = 1 - tanh(#4)**2 = 0.5;  upstream df/df = 1;  adds 0.5 × 1 = 0.5;  #4.grad: 0 → 0.5" in out
    assert "  #2 -> x:  local ∂#2/∂x = w = -3;  upstream df/d#2 = 0.5;  adds -3 × 0.5 = -1.5;  x.grad: 0 → -1.5" in out
    assert out.rstrip().endswith("df/db = 0.5")


@needs_dot
def test_steps_html(capsys, tmp_path):
    page = tmp_path / "bp.html"
    code, out, err = run(capsys, "steps", *NEURON, "--html", str(page))
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Step 0 / 3" in html
    assert f"wrote {page}" in out


def test_check_pass_and_fail(capsys):
    code, out, err = run(capsys, "check", *NEURON)
    assert code == 0 and err == ""
    assert "gradcheck passed" in out and "analytic" in out and "numeric" in out
    assert out.count("\n  ") == 4  # header + x, w, b
    # relu has a kink at 0: backprop says 0, finite differences say 0.5.
    code, out, err = run(capsys, "check", "relu(x)", "x=0")
    assert code == 1
    assert "FAIL" in out


def test_steps_print_the_steps_own_text_at_the_chosen_digits(capsys):
    from engine import Value

    code, out, _ = run(capsys, "steps", "tanh(x*w)", "x=0.3", "w=-1.7", "--digits", "7")
    assert code == 0
    x, w = Value(0.3, "x"), Value(-1.7, "w")
    f = (x * w).tanh()
    f.label = "f"
    for step in f.backward_steps():
        assert step.text(7) in out and step.text(7) != str(step)


def test_output_label_never_clashes_with_a_variable(capsys):
    code, out, _ = run(capsys, "steps", "f*f", "f=3")
    assert code == 0
    assert "dout/df = 6" in out


def test_variables_become_labelled_leaves_used_once_each(capsys):
    code, out, _ = run(capsys, "steps", "x*x", "x=3")
    assert code == 0
    assert out.count("f -> x:") == 2  # both edges from the one leaf x: 3, then 3 + 3
    assert "df/dx = 6" in out


def test_help_exits_zero_and_lists_the_limits(capsys):
    assert main(["--help"]) == 0  # returned, not raised as SystemExit
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare words
    for command in COMMANDS:
        assert command.name in out and command.help in out
    assert f"at most {MAX_CHARS} (MAX_CHARS)" in out and f"at most {MAX_DEPTH} (MAX_DEPTH)" in out
    assert f"at most {MAX_PARTS} (MAX_PARTS)" in out and "MAX_EXPONENT" in out and "MAX_BRACKETS" in out
    assert main(["check", "--help"]) == 0
    assert "--eps" in capsys.readouterr().out


def test_a_flat_sum_of_many_terms_is_not_deep(capsys):
    # 100 terms parse as a chain of 99 binary +, but a reader sees one level, and so does the limit.
    code, out, err = run(capsys, "steps", "+".join(["x"] * 100), "x=1")
    assert code == 0, err
    assert "backward: 99 steps" in out and "df/dx = 100" in out
    code, out, err = run(capsys, "check", "*".join(["x"] * 60) + "/x", "x=1.01")
    assert code == 0, err


def test_check_tolerances(capsys, monkeypatch):
    # No two floats from different methods agree exactly: with no tolerance at all, check fails.
    code, out, _ = run(capsys, "check", "exp(x)", "x=1.5", "--atol", "0", "--rtol", "0")
    assert code == 1 and "FAIL" in out and "atol=0, rtol=0" in out
    code, out, _ = run(capsys, "check", "exp(x)", "x=1.5", "--atol", "0", "--rtol", "1e-6")
    assert code == 0 and "rtol=1e-06" in out
    # The step reaches the engine's gradcheck as given.
    seen = {}

    def spy(f, *inputs, **tolerances):
        seen.update(tolerances)
        return compare_gradients(f, *inputs, **tolerances)

    monkeypatch.setattr(cli, "compare_gradients", spy)
    assert run(capsys, "check", "sqrt(x)", "x=0.05", "--eps", "1e-4")[0] == 0
    assert seen == {"eps": 1e-4, "atol": 1e-5, "rtol": 1e-3}
    for bad in (["--eps", "0"], ["--eps", "2"], ["--eps", "nan"], ["--atol", "-1"], ["--rtol", "x"]):
        err = refused(capsys, "check", "x**3", "x=1", *bad)
        assert bad[0] in err, err


# -- refusals -------------------------------------------------------------------------------------

HOSTILE = [
    ("__import__('os').system('id')", "functions"),
    ("().__class__", "attribute"),
    ("x.__class__", "attribute"),
    ("[x for x in y]", "comprehension"),
    ("'a'", "strings"),
    ("lambda: 1", "lambda"),
    ("x[0]", "subscript"),
    ("open('/etc/passwd')", "unknown function"),
    ("exp(x=1)", "keyword"),
    ("exp(x, x)", "one argument"),
    ("exp(*x)", "one argument"),
    ("exp", "is a function"),
    ("x // 2", "//"),
    ("x @ x", "@"),
    ("~x", "~"),
    ("not x", "not"),
    ("x if x else x", "if/else"),
    ("x < 1", "comparison"),
    ("(x := 1)", "assignment"),
    ("f'{x}'", "strings"),
    ("True * x", "True"),
    ("None", "None"),
    ("1j * x", "1j"),
    ("x ** 1e6", "exponent"),
    ("1e999 * x", "too large"),
    ("x * 9**9**9", "exponent"),
    ("x ** 9 ** 9", "exponent"),
    ("x +", "syntax"),
    ("", "empty"),
    ("x\x00", "unprintable"),
    ("(" * 100 + "x" + ")" * 100, "brackets"),
    ("x*" + "-" * 100000 + "x", "characters long"),
    ("x*" + "-" * 900 + "x", "MAX_DEPTH = 100"),
    ("+".join(["x"] * 400), "MAX_PARTS = 500"),
    ("tanh(" * 30 + "-" * 80 + "x" + ")" * 30, "MAX_DEPTH"),  # calls and signs: 110 levels
    ("x" + "+x" * (MAX_CHARS // 2), "characters long"),
    ("_x", "unknown name"),
    ("1" * 400 + "*x", "too large"),  # an int too large for a float: no OverflowError
    ("x**" + "1" * 400, "too large"),
    ("(-8)**0.5*x", "not a real number"),  # Python's float ** would return a complex number
    ("0**-1*x", "divides by zero"),
    ("1e15**1000*x", "overflows"),
]


@pytest.mark.parametrize("formula, reason", HOSTILE, ids=[h[0][:30] or "empty" for h in HOSTILE])
def test_hostile_formulas_are_refused(capsys, formula, reason, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in ("draw", "steps", "check"):
        err = refused(capsys, command, formula, "x=1")
        assert reason in err, err
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize(
    "argv, reason",
    [
        (["x + y", "x=1"], "missing value for y"),
        (["x", "x=1", "x=2"], "given twice"),
        (["x", "x"], "NAME=NUMBER"),
        (["x", "=1"], "NAME=NUMBER"),
        (["x", "x="], "NAME=NUMBER"),
        (["x", "x=abc"], "not a number"),
        (["x", "x=nan"], "finite"),
        (["x", "x=inf"], "finite"),
        (["x", "x=1e300"], "finite"),
        (["x", "x=" + "9" * 100000], "too long"),
        (["x", "x=1", "y=2"], "does not use y"),
        (["x", "1x=2", "x=1"], "not a valid variable name"),
        (["exp(x)", "x=1", "exp=2"], "function name"),
        (["1 + 2"], "no variables"),
        (["x"] + [f"v{i}=1" for i in range(100)], "too many"),
        (["log(x)", "x=-1"], "log needs x > 0"),
        (["1/x", "x=0"], "division by zero"),
        (["sqrt(x)", "x=-4"], "sqrt"),
        (["exp(x)", "x=1000"], "overflows"),
        (["x**y", "x=-1", "y=2"], "x > 0"),
        (["-x", "x=1"], "(-x)"),
        (["x", "x=1", "--bogus"], "unrecognized"),
    ],
)
def test_bad_values_and_domain_errors(capsys, argv, reason):
    for command in ("draw", "steps", "check"):
        err = refused(capsys, command, *argv)
        assert reason in err, err


def test_argparse_errors_are_short_single_lines(capsys):
    err = refused(capsys, "draw", "-" * 100000 + "x", "x=1")
    assert len(err) < 400

def test_leading_space_or_parentheses_allow_a_negated_formula(capsys):
    assert run(capsys, "steps", " -x*2", "x=1")[0] == 0
    assert run(capsys, "steps", "(-x)*2", "x=1")[0] == 0


def test_bad_output_paths(capsys, tmp_path):
    refused(capsys, "draw", "x*2", "x=1", "-o", str(tmp_path / "missing-dir" / "g.svg"))
    refused(capsys, "draw", "x*2", "x=1", "-o", str(tmp_path / "g.jpg"))
    refused(capsys, "draw", "x*2", "x=1", "-o", str(tmp_path))  # a directory
    refused(capsys, "steps", "x*2", "x=1", "--html", str(tmp_path / "bp.txt"))
    refused(capsys, "steps", "x*2", "x=1", "--html", str(tmp_path / "no" / "bp.html"))
    assert "no command" not in refused(capsys, "draw")  # formula missing: argparse, still one line


def test_no_arguments_prints_one_usage_line(capsys):
    code, out, err = run(capsys)
    assert code == 2 and out == ""
    names = ",".join(command.name for command in COMMANDS)
    assert err.startswith(f"usage: gradwalk {{{names}}} ...") and err.count("\n") == 1, err
    assert names.startswith("draw,steps,check")
    assert "see `gradwalk --help`" in err


def test_check_explains_a_finite_difference_step_outside_the_domain(capsys):
    # f is defined at x=0, but x - h is not: the engine's "got x=-1e-06" alone is puzzling.
    err = refused(capsys, "check", "sqrt(x)", "x=0")
    assert "finite differences step outside the domain of f at x=0" in err
    assert "defined on both sides" in err
    # At the boundary itself the forward pass already fails, with the engine's own message.
    assert "log needs x > 0" in refused(capsys, "check", "log(x)", "x=0")


@pytest.mark.parametrize("command", ["draw", "steps", "check"])
def test_non_finite_values_and_gradients_are_refused_by_every_command(capsys, command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # inf - inf: the value itself is nan (check used to print a table of nans and exit 1).
    assert "- of (inf, inf) is NaN" in refused(capsys, command, "exp(x)*exp(x) - exp(x)*exp(x)", "x=700")
    assert list(tmp_path.iterdir()) == []  # refused before anything is written


def test_a_zero_slope_stops_an_overflowed_chain_instead_of_making_nan(capsys):
    # x**23 overflows to inf and tanh(inf) = 1 with slope 0: backward passes nothing on from a
    # zero upstream gradient, so df/dx is 0 (the true slope underflows to 0), not 0 * inf = nan.
    code, out, err = run(capsys, "steps", "tanh(" + "*".join(["x"] * 23) + ")", "x=1e15")
    assert code == 0 and "df/dx = 0" in out, err


def test_steps_of_a_bare_variable(capsys):
    code, out, err = run(capsys, "steps", "x", "x=1")
    assert code == 0 and err == ""
    assert out.splitlines() == ["f = x = 1", "backward: no steps, f is the variable x itself", "gradients:", "  df/dx = 1"]


def test_engine_errors_escaping_a_command_are_one_line(capsys, monkeypatch, tmp_path):
    draw_module = importlib.import_module("engine.drawing.build")
    monkeypatch.chdir(tmp_path)

    def broken_render(*args, **kwargs):
        raise OverflowError("(34, 'Numerical result out of range')\nsecond line")

    monkeypatch.setattr(draw_module, "save_graph", broken_render)
    assert "Numerical result out of range" in refused(capsys, "draw", "x*2", "x=1", "-o", "g.dot")

    def buggy_render(*args, **kwargs):
        raise TypeError("a bug in gradwalk")

    monkeypatch.setattr(draw_module, "save_graph", buggy_render)
    with pytest.raises(TypeError, match="a bug"):  # programming errors are not hidden
        main(["draw", "x*2", "x=1", "-o", "g.dot"])


def test_missing_graphviz_is_one_line_and_leaves_the_dot_file(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    err = refused(capsys, "draw", "x*2", "x=1", "-o", str(tmp_path / "g.svg"))
    assert "apt-get install graphviz" in err and "brew install graphviz" in err
    assert (tmp_path / "g.dot").exists()
    err = refused(capsys, "steps", "x*2", "x=1", "--html", str(tmp_path / "bp.html"))
    assert "apt-get install graphviz" in err


# -- the installed console script ---------------------------------------------------------------------


def test_console_script(tmp_path):
    script = Path(sys.executable).parent / "gradwalk"
    if not script.exists():
        script = shutil.which("gradwalk")
        if script is None:
            if os.environ.get("CI"):
                pytest.fail("the gradwalk console script is not installed (pip install -e .)")
            pytest.skip("the gradwalk console script is not installed (pip install -e .)")
    ok = subprocess.run([str(script), "steps", *NEURON], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "local ∂#2/∂x = w = -3" in ok.stdout
    bad = subprocess.run([str(script), "draw", "__import__('os').system('echo PWNED')"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "PWNED" not in bad.stdout + bad.stderr.replace("echo PWNED", "")
