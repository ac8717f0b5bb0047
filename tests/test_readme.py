"""The README's examples run and print what the README says they print."""

import doctest
import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_repl_session_prints_what_the_readme_shows():
    (session,) = re.findall(r"```pycon\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    test = doctest.DocTestParser().get_doctest(session, {}, "README REPL session", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False) == doctest.TestResults(failed=0, attempted=9)


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def _marks(code: str) -> list:
    # A block that trains (calls fit) takes seconds; one that renders a graph needs Graphviz.
    marks = [pytest.mark.slow] if "fit(" in code else []
    if "save_graph" in code or "animate_backward" in code:
        marks.append(pytest.mark.needs_dot)
    return marks


@pytest.mark.parametrize("index", [pytest.param(i, marks=_marks(code)) for i, code in enumerate(python_blocks())])
def test_python_examples_run(index, tmp_path, monkeypatch):
    code = python_blocks()[index]
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "readme_example"}
    exec(compile(code, f"README.md python block {index}", "exec"), namespace)
    for test in [v for k, v in namespace.items() if k.startswith("test_") and callable(v)]:
        test()  # the property-testing block defines Hypothesis tests: run them too
    for name in ("neuron.svg", "backprop.html"):
        if name in code:
            assert os.path.getsize(tmp_path / name) > 0
