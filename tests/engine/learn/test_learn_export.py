"""The teachers' export: a student repository with stubs and public tests per task, GitHub
Classroom's autograding steps, a separate teacher folder, and no solution in the student's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.commands import COMMANDS, main
from engine.learn import EXERCISES
from engine.learn.command import LEARN
from engine.learn.export import export

ROOT = Path(__file__).resolve().parents[3]


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def solution_lines(ex) -> set[str]:
    """The lines of a reference solution that its stub does not have: what must never leak."""
    return {line.strip() for line in ex.solution.splitlines() if len(line.strip()) > 12 and line.strip() not in ex.stub}


def test_the_student_repository_has_stubs_public_tests_and_markers(tmp_path):
    student, teacher = export(tmp_path / "course", "github-classroom")
    assert teacher == tmp_path / "course-teacher"
    files = tree(student)
    assert files == sorted([".github/classroom/autograding.json", "README.md", "pytest.ini"]
                           + [ex.filename for ex in EXERCISES]
                           + [f"tests/test_task{ex.number:02d}.py" for ex in EXERCISES])
    for ex in EXERCISES:
        assert (student / ex.filename).read_text() == ex.stub
        assert f"@pytest.mark.task{ex.number}\n" in (student / f"tests/test_task{ex.number:02d}.py").read_text()
        assert f"    task{ex.number}: exercise {ex.number}, " in (student / "pytest.ini").read_text()
    assert tree(teacher) == sorted(["README.md", "pytest.ini"] + [f"solutions/{ex.filename}" for ex in EXERCISES]
                                   + [f"hidden_tests/test_task{ex.number:02d}_hidden.py" for ex in EXERCISES])


def test_no_solution_appears_anywhere_in_the_student_repository(tmp_path):
    student, teacher = export(tmp_path / "course", "github-classroom")
    text = "\n".join((student / name).read_text() for name in tree(student))
    for ex in EXERCISES:
        leaked = [line for line in solution_lines(ex) if line in text]
        assert leaked == [], f"exercise {ex.number}'s solution leaked: {leaked}"
        assert (teacher / "solutions" / ex.filename).read_text() == ex.solution  # and the scan can see one
        assert len(solution_lines(ex)) >= 2  # every solution has lines of its own for the scan to look for


def test_autograding_has_one_graded_step_per_task(tmp_path):
    student, _ = export(tmp_path / "course", "github-classroom")
    steps = json.loads((student / ".github/classroom/autograding.json").read_text())["tests"]
    assert [s["run"] for s in steps] == [f"pytest -m task{n}" for n in range(1, 11)]
    assert all(s["points"] == 10 and s["timeout"] > 0 for s in steps)
    assert not (export(tmp_path / "plain")[0] / ".github").exists()


@pytest.mark.parametrize("target, teacher, problem", [
    ("moodle", None, "export writes for pytest or github-classroom, not 'moodle'"),
    ("pytest", "course/secret", "must be outside the student folder"),
    ("pytest", "course", "must be outside the student folder"),
])
def test_export_refuses_a_bad_target_or_teacher_folder(tmp_path, target, teacher, problem):
    with pytest.raises(ValueError, match=problem):
        export(tmp_path / "course", target, teacher and tmp_path / teacher)
    assert not (tmp_path / "course").exists()


def test_export_never_writes_into_a_folder_with_files(tmp_path):
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="is not empty"):
        export(tmp_path / "course")
    assert tree(tmp_path / "course") == ["mine.txt"]


def test_the_command_exports_and_reports_errors_in_one_line(tmp_path, capsys):
    assert main(["learn", "export", str(tmp_path / "c"), "--for", "github-classroom"], COMMANDS + [LEARN]) == 0
    assert "wrote the teacher folder" in capsys.readouterr().out
    assert main(["learn", "export", str(tmp_path / "c")], COMMANDS + [LEARN]) == 2
    assert "is not empty" in capsys.readouterr().err


def pytest_in(folder: Path, *args, **env_vars) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **env_vars)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_public_tests_fail_on_the_stubs_and_pass_on_the_solutions(tmp_path):
    student, teacher = export(tmp_path / "course", "github-classroom")
    stubs = pytest_in(student)
    assert stubs.returncode == 1 and "10 failed" in stubs.stdout, stubs.stdout[-2000:]
    assert "is not written yet" in stubs.stdout
    one = pytest_in(student, "-m", "task4")
    assert "1 failed, 9 deselected" in one.stdout, one.stdout[-2000:]
    for ex in EXERCISES:
        shutil.copy(teacher / "solutions" / ex.filename, student / ex.filename)
    solved = pytest_in(student)
    assert solved.returncode == 0 and "10 passed" in solved.stdout, solved.stdout[-2000:]
    hidden = pytest_in(teacher, GRADWALK_STUDENT=str(student))
    assert hidden.returncode == 0 and "10 passed" in hidden.stdout, hidden.stdout[-2000:]
