"""What a checker says, and the tools checkers share: loading the learner's code, calling it,
comparing numbers, and searching random cases for a wrong answer.

A checker reads the learner's names (a module's or a notebook's globals), tries them on fixed
cases and then on random ones, and raises `WrongAnswer` with a sentence in the learner's terms at
the first one that is wrong. `run_checker` turns that into a `Verdict`.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from engine.learn.graph_feedback import draw_marked, drawing_path, stepper_hint


class WrongAnswer(AssertionError):
    """The learner's answer is wrong: `message` says how, `hint` what to look at, and `drawing`
    is the path of a picture of the failing graph with the wrong edge marked (or None).

    `edge` = (exercise number, root, child, operand index) blames one edge of a graph; its drawing
    and the stepper's hint are made once, for the case the search ends on (`run_checker`)."""

    def __init__(self, message: str, hint: str = "", drawing: str | None = None, edge: tuple | None = None):
        super().__init__(message)
        self.message, self.hint, self.drawing, self.edge = message, hint, drawing, edge


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one exercise."""

    number: int
    title: str
    passed: bool
    message: str
    hint: str = ""
    drawing: str | None = None

    def __str__(self) -> str:
        head = f"exercise {self.number} ({self.title}): " + ("PASSED" if self.passed else "NOT YET")
        lines = [head, "  " + self.message]
        if self.hint:
            lines.append("  hint: " + self.hint)
        if self.drawing:
            lines.append(f"  drawing of the failing graph, wrong edge in red: {self.drawing}")
        return "\n".join(lines)

    __repr__ = __str__


def load_names(path: Path) -> dict:
    """The globals of the learner's file, run as a fresh module. Its folder is on sys.path while it
    runs, so a later exercise can import the learner's earlier files; those are imported afresh."""
    path = Path(path)
    if not path.is_file():
        raise WrongAnswer(f"there is no file {path}: `gradwalk learn start N` writes the stub to fill in")
    folder = str(path.parent.resolve())
    for name, module in list(sys.modules.items()):  # earlier exercises edited since: import again
        if (getattr(module, "__file__", None) or "").startswith(folder + "/") and name.startswith("ex"):
            del sys.modules[name]
    spec = importlib.util.spec_from_file_location(f"_gradwalk_learner_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except NotImplementedError as error:
        raise WrongAnswer(f"{path.name} stops while loading: {error}") from None
    except Exception as error:  # the learner's file, not gradwalk: report it in one line
        raise WrongAnswer(f"{path.name} does not run: {type(error).__name__}: {error}") from None
    finally:
        sys.path.remove(folder)
    return vars(module)


def needs(names: dict, *wanted: str) -> list:
    """The learner's functions or classes called `wanted`, or a WrongAnswer naming the missing one."""
    found = []
    for name in wanted:
        thing = names.get(name)
        if not callable(thing):
            raise WrongAnswer(f"your code defines no {name}: the stub defines it, so keep its name")
        found.append(thing)
    return found


def call(what: str, function, *args):
    """`function(*args)`, with a learner's exception turned into a WrongAnswer that names `what`."""
    try:
        return function(*args)
    except NotImplementedError:
        raise WrongAnswer(f"{what} is not written yet: it still raises NotImplementedError") from None
    except WrongAnswer:
        raise
    except Exception as error:
        raise WrongAnswer(f"{what} raised {type(error).__name__}: {error}") from None


def number(what: str, x) -> float:
    """`x` as a float, or a WrongAnswer saying what came back instead."""
    data = getattr(x, "data", x)
    if isinstance(data, bool) or not isinstance(data, (int, float)):
        raise WrongAnswer(f"{what} should be a number, but it is {type(x).__name__} {x!r:.60}")
    return float(data)


def close(a: float, b: float, rel: float = 1e-4, abs_: float = 1e-6) -> bool:
    if math.isnan(a) or math.isnan(b):
        return False
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def show(x: float) -> str:
    """A number as a learner reads it: 4 significant digits, more only if they differ."""
    return f"{x:.6g}" if abs(x) < 1e-3 and x != 0 else f"{x:.4g}"


def show_list(xs) -> str:
    return "[" + ", ".join(show(x) for x in xs) + "]"


def search(strategy, check_one, examples: int) -> None:
    """Run `check_one` on `examples` random cases drawn from `strategy`; a WrongAnswer escapes with
    the simplest failing case Hypothesis can shrink to. Seeded, so a verdict is the same each run."""
    from hypothesis import HealthCheck, Verbosity, given, settings

    @settings(max_examples=examples, database=None, derandomize=True, deadline=None, print_blob=False,
              verbosity=Verbosity.quiet, report_multiple_bugs=False, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(case):
        check_one(case)

    run()


def run_checker(number_: int, title: str, checker, names: dict, thorough: bool) -> Verdict:
    """The checker's verdict on `names`: passed with a one-line summary, or the WrongAnswer's."""
    try:
        summary = checker(names, thorough)
    except WrongAnswer as wrong:
        hint, drawing = wrong.hint, wrong.drawing
        if wrong.edge is not None:
            number, root, child, index = wrong.edge
            drawing = draw_marked(root, child, index, drawing_path(number))  # before the stepper zeroes grads
            hint = hint + "\n  " + stepper_hint(root, child, index)
        return Verdict(number_, title, False, wrong.message, hint, drawing)
    return Verdict(number_, title, True, summary)
