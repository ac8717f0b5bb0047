"""The ladder of exercises, and what a learner does with one: start it, check it, see progress.

Each exercise is a stub to fill in (written into the working folder by `start`), a reference
solution the stub never contains, and a checker built on gradwalk's oracles. Progress is kept in
`.gradwalk-learn.json` in the working folder: which exercises passed, and when.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine.learn import tasks_basic, tasks_graph, tasks_net, tasks_train
from engine.learn.verdict import Verdict, WrongAnswer, load_names, run_checker

PROGRESS_FILE = ".gradwalk-learn.json"


@dataclass(frozen=True)
class Exercise:
    number: int
    slug: str  # the learner's file is ex{number:02d}_{slug}.py
    title: str
    stub: str
    solution: str
    checker: Callable[[dict, bool], str]  # (the learner's names, thorough) -> summary, or WrongAnswer
    points: int = 10

    @property
    def filename(self) -> str:
        return f"ex{self.number:02d}_{self.slug}.py"


EXERCISES = tuple(Exercise(k, *row) for k, row in enumerate([
    ("local_derivatives", "local derivatives of tanh, exp, log, pow and relu",
     tasks_basic.LOCAL_STUB, tasks_basic.LOCAL_SOLUTION, tasks_basic.check_local_derivatives),
    ("central_differences", "the numerical gradient by central differences",
     tasks_basic.NUMERIC_STUB, tasks_basic.NUMERIC_SOLUTION, tasks_basic.check_central_differences),
    ("topological_order", "the topological order",
     tasks_graph.TOPO_STUB, tasks_graph.TOPO_SOLUTION, tasks_graph.check_topological_order),
    ("backward", "the backward walk (the chain rule)",
     tasks_graph.BACKWARD_STUB, tasks_graph.BACKWARD_SOLUTION, tasks_graph.check_backward),
    ("neuron", "a Neuron", tasks_net.NEURON_STUB, tasks_net.NEURON_SOLUTION, tasks_net.check_neuron),
    ("mlp", "an MLP forward pass", tasks_net.MLP_STUB, tasks_net.MLP_SOLUTION, tasks_net.check_mlp),
    ("losses", "the hinge and binary cross-entropy losses",
     tasks_net.LOSS_STUB, tasks_net.LOSS_SOLUTION, tasks_net.check_losses),
    ("optimizers", "an SGD step and an Adam step",
     tasks_train.OPTIM_STUB, tasks_train.OPTIM_SOLUTION, tasks_train.check_optimizers),
    ("delta_rule", "the delta rule for a layer",
     tasks_train.DELTA_STUB, tasks_train.DELTA_SOLUTION, tasks_train.check_delta_rule),
    ("xor", "training XOR with your own pieces",
     tasks_train.XOR_STUB, tasks_train.XOR_SOLUTION, tasks_train.check_xor),
], start=1))


def exercise(n) -> Exercise:
    """Exercise `n` (1 to 10), or a ValueError naming the numbers there are."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(EXERCISES):
        raise ValueError(f"there is no exercise {n!r}: the exercises are 1 to {len(EXERCISES)}")
    return EXERCISES[n - 1]


def start(n: int, folder=".") -> Path:
    """Write exercise n's stub into `folder`; refuses to overwrite a file that is there."""
    ex = exercise(n)
    path = Path(folder) / ex.filename
    if path.exists():
        raise FileExistsError(f"{path} exists already, so it was left as it is (delete it to start again)")
    path.write_text(ex.stub, encoding="utf-8")
    return path


def check(n: int, where=None, *, thorough: bool = True, record: bool = True) -> Verdict:
    """Check exercise n and return the verdict (print it to read it).

    `where` is the learner's code: None for exercise n's file in the working folder, a path, a
    module, or a dict of names (`globals()` in a notebook). `thorough` adds random graphs and
    inputs to the fixed cases. A pass is recorded in the progress file when `record` is true and
    the code came from a file.
    """
    ex = exercise(n)
    from_file = where is None or isinstance(where, (str, Path))
    try:
        names = _names(ex, where)
    except WrongAnswer as wrong:
        return Verdict(n, ex.title, False, wrong.message)
    verdict = run_checker(n, ex.title, ex.checker, names, thorough)
    if verdict.passed and record and from_file:
        folder = Path(where).parent if where is not None else Path(".")
        mark_passed(n, folder)
    return verdict


def _names(ex: Exercise, where) -> dict:
    if where is None:
        return load_names(Path(ex.filename))
    if isinstance(where, (str, Path)):
        return load_names(Path(where))
    if isinstance(where, dict):
        return where
    if hasattr(where, "__dict__"):
        return vars(where)
    raise TypeError(f"check takes a path, a module or a dict of names, not {type(where).__name__}")


# -- progress -------------------------------------------------------------------------------------


def progress(folder=".") -> dict:
    """{exercise number: when it first passed} from the progress file ({} when there is none)."""
    path = Path(folder) / PROGRESS_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {int(k): str(v) for k, v in data.get("passed", {}).items()}
    except (ValueError, AttributeError, TypeError):
        raise ValueError(f"{path} is not a gradwalk progress file; delete it to start the record again") from None


def mark_passed(n: int, folder=".") -> None:
    passed = progress(folder)
    passed.setdefault(n, time.strftime("%Y-%m-%d %H:%M"))
    data = {"passed": {str(k): v for k, v in sorted(passed.items())}}
    (Path(folder) / PROGRESS_FILE).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def listing(folder=".") -> str:
    """The ladder with the learner's progress, one line per exercise."""
    passed = progress(folder)
    lines = []
    for ex in EXERCISES:
        if ex.number in passed:
            state = f"passed {passed[ex.number]}"
        elif (Path(folder) / ex.filename).exists():
            state = f"started: {ex.filename}"
        else:
            state = "not started"
        lines.append(f"{ex.number:>2}. {ex.title:<50} {state}")
    lines.append(f"{len(passed)} of {len(EXERCISES)} passed. `gradwalk learn start N` writes a stub; "
                 "`gradwalk learn check N` grades it.")
    return "\n".join(lines)
