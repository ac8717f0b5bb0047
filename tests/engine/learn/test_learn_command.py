"""`gradwalk learn`: the listing, start, check (exit 1 while wrong) and its one-line errors."""

from __future__ import annotations

import pytest

import engine  # noqa: F401  (the learner's files import the facade)
from engine.cli.commands import COMMANDS, main
from engine.learn import exercise
from engine.learn.command import LEARN


def gradwalk(*argv) -> int:
    return main(list(argv), COMMANDS + [LEARN])


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_start_then_check_wrong_then_right(folder, capsys):
    assert gradwalk("learn", "start", "3") == 0
    assert "wrote ex03_topological_order.py" in capsys.readouterr().out
    assert gradwalk("learn", "check", "3", "--quick") == 1
    assert "NOT YET" in capsys.readouterr().out
    (folder / "ex03_topological_order.py").write_text(exercise(3).solution)
    assert gradwalk("learn", "check", "3") == 0
    assert "PASSED" in capsys.readouterr().out
    assert gradwalk("learn") == 0
    listing = capsys.readouterr().out
    assert " 3. the topological order" in listing and "1 of 10 passed" in listing


def test_check_takes_another_file(folder, capsys):
    (folder / "mine.py").write_text(exercise(2).solution)
    assert gradwalk("learn", "check", "2", "--file", "mine.py") == 0
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize("argv, says", [
    (["learn", "start", "12"], "there is no exercise 12: the exercises are 1 to 10"),
    (["learn", "check", "two"], "an exercise is a number from 1 to 10, not 'two'"),
    (["learn", "check"], "the following arguments are required: N"),
    (["learn", "export", "x", "--for", "moodle"], "invalid choice: 'moodle'"),
])
def test_bad_arguments_are_one_line_and_exit_2(folder, capsys, argv, says):
    assert gradwalk(*argv) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_start_never_overwrites(folder, capsys):
    (folder / "ex01_local_derivatives.py").write_text("mine")
    assert gradwalk("learn", "start", "1") == 2
    assert "exists already" in capsys.readouterr().err
    assert (folder / "ex01_local_derivatives.py").read_text() == "mine"
