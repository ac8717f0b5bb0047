"""A student repository for teachers: the stubs and public tests, and a separate teacher folder.

    gradwalk learn export course --for pytest            # course/ and course-teacher/
    gradwalk learn export course --for github-classroom  # ... plus the autograding steps

The student folder has each exercise's stub, one public test file per task with the pytest marker
`taskN` (`pytest -m task4` grades exercise 4 on its fixed cases), and a pytest.ini declaring the
markers. The teacher folder has the reference solutions and the hidden tests: the same checkers
on random graphs and inputs, run against a student's folder. No solution is written into the
student folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.learn.ladder import EXERCISES

TARGETS = ("pytest", "github-classroom")

_PUBLIC_TEST = '''"""Task {n}: {title}. Run it with: pytest -m task{n}"""

from pathlib import Path

import pytest

from engine.learn import check

HERE = Path(__file__).resolve().parents[1]


@pytest.mark.task{n}
def test_task{n}():
    verdict = check({n}, HERE / "{filename}", thorough=False, record=False)
    assert verdict.passed, str(verdict)
'''

_HIDDEN_TEST = '''"""Task {n} (hidden): {title}, on random graphs and inputs as well as the fixed cases.

Run against a student's folder: GRADWALK_STUDENT=path/to/student pytest -m task{n}
"""

import os
from pathlib import Path

import pytest

from engine.learn import check

STUDENT = Path(os.environ.get("GRADWALK_STUDENT", "."))


@pytest.mark.task{n}
def test_task{n}_hidden():
    verdict = check({n}, STUDENT / "{filename}", thorough=True, record=False)
    assert verdict.passed, str(verdict)
'''

_STUDENT_README = """# Backprop, written by you

Each file exN_*.py is an exercise: fill in the parts that raise NotImplementedError. Then

    pytest -m task{{N}}       # grades exercise N (pytest alone grades them all)

or, with gradwalk's own feedback (the wrong edge of your graph, drawn, with a hint):

    gradwalk learn check N

Exercises:
{listing}
"""

_TEACHER_README = """# Teacher folder (keep it out of the student repository)

solutions/     a reference solution per exercise
hidden_tests/  each task's checker on random graphs and inputs too, with the markers task1 ...

Grade a student's folder:  GRADWALK_STUDENT=path/to/student pytest hidden_tests -m task4
"""


def _pytest_ini() -> str:
    markers = "\n".join(f"    task{ex.number}: exercise {ex.number}, {ex.title}" for ex in EXERCISES)
    return f"[pytest]\ntestpaths = tests\naddopts = -q\nmarkers =\n{markers}\n"


def _autograding() -> str:
    tests = [{
        "name": f"Task {ex.number}: {ex.title}",
        "setup": "",
        "run": f"pytest -m task{ex.number}",
        "input": "",
        "output": "",
        "comparison": "included",
        "timeout": 5,
        "points": ex.points,
    } for ex in EXERCISES]
    return json.dumps({"tests": tests}, indent=2) + "\n"


def export(folder, target: str = "pytest", teacher=None) -> tuple[Path, Path]:
    """Write the student repository into `folder` and the teacher's files into `teacher`
    (default: `folder` with `-teacher` appended). Both must be new or empty; returns both paths."""
    if target not in TARGETS:
        raise ValueError(f"export writes for {' or '.join(TARGETS)}, not {target!r}")
    student = Path(folder)
    teacher = Path(teacher) if teacher is not None else student.with_name(student.name + "-teacher")
    if student.resolve() == teacher.resolve() or teacher.resolve().is_relative_to(student.resolve()):
        raise ValueError(f"the teacher folder {teacher} must be outside the student folder {student}")
    for path in (student, teacher):
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise FileExistsError(f"{path} exists and is not empty; export writes into a new or empty folder")
    listing = "\n".join(f"  {ex.number:>2}. {ex.filename:<28} {ex.title}" for ex in EXERCISES)
    files = {"README.md": _STUDENT_README.format(listing=listing), "pytest.ini": _pytest_ini()}
    secret = {"README.md": _TEACHER_README, "pytest.ini": _pytest_ini().replace("testpaths = tests", "testpaths = hidden_tests")}
    for ex in EXERCISES:
        fields = {"n": ex.number, "title": ex.title, "filename": ex.filename}
        files[ex.filename] = ex.stub
        files[f"tests/test_task{ex.number:02d}.py"] = _PUBLIC_TEST.format(**fields)
        secret[f"solutions/{ex.filename}"] = ex.solution
        secret[f"hidden_tests/test_task{ex.number:02d}_hidden.py"] = _HIDDEN_TEST.format(**fields)
    if target == "github-classroom":
        files[".github/classroom/autograding.json"] = _autograding()
    for root, contents in ((student, files), (teacher, secret)):
        for name, text in contents.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return student, teacher
