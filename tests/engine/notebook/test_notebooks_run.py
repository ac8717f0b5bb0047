"""Every notebook in docs/notebooks runs top to bottom in a real kernel (nbclient), and is kept
without stored outputs, so what readers see is what the code does today."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks_and_none_stores_outputs():
    assert {p.name for p in NOTEBOOKS} >= {"widgets_tour.ipynb", "backprop_by_hand.ipynb"}
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name} stores outputs"


@pytest.mark.slow
@pytest.mark.needs_dot
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_notebook_runs(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("anywidget")
    # The kernel imports this checkout's engine and nn, whatever is installed.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(notebook, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    shown = json.dumps(outputs)
    if path.name == "widgets_tour.ipynb":
        assert "application/vnd.jupyter.widget-view+json" in shown  # the live widgets
        assert "image/svg+xml" in shown  # the Value's picture
        assert "finished, 100 of 100 steps" in shown  # the training ran in the background
        assert "<backward quiz: 0 of 0 right; step 1 of 3: o = tanh(n) = 0.7071>" in shown  # the quiz, unanswered
        assert "<b>History</b>: 50 epochs, 50 steps" in shown  # fit(live=True) returned its history
    else:
        assert "step 1 of 3: o = tanh(n) = 0.7071" in shown and "(all 3 steps done)" in shown
        assert "(-1.5, 1.0, 0.5)" in shown
