"""fit(..., live=True): the TrainView that follows fit's epochs, in a real notebook kernel, and
the clear refusals everywhere else."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

import nn
from nn import MLP, fit, make_moons
from nn.notebook import TrainView

ROOT = Path(__file__).resolve().parents[2]


def moons():
    X, y = make_moons(40, noise=0.1, seed=0)
    return MLP(2, [8, 1], seed=0), X, y


def test_outside_a_notebook_kernel_live_is_refused_before_training():
    pytest.importorskip("anywidget")
    model, X, y = moons()
    before = [p.data for p in model.parameters()]
    with pytest.raises(RuntimeError, match="not a notebook kernel; leave live off here"):
        fit(model, X, y, epochs=3, live=True)
    assert [p.data for p in model.parameters()] == before


def test_without_anywidget_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "anywidget", None)  # as if it were not installed
    model, X, y = moons()
    before = [p.data for p in model.parameters()]
    with pytest.raises(ImportError, match=r"pip install 'gradwalk\[notebook\]'"):
        fit(model, X, y, epochs=3, live=True)
    assert [p.data for p in model.parameters()] == before


def test_live_is_true_or_false():
    model, X, y = moons()
    with pytest.raises(TypeError, match="live should be True or False, not str 'yes'"):
        fit(model, X, y, epochs=3, live="yes")


def test_the_view_shows_the_epochs_it_is_given_and_how_fit_ended():
    pytest.importorskip("anywidget")
    model, X, y = moons()
    view = TrainView(model, X, y, max_steps=3, replay=False)
    view.unit, view.state = "epoch", "running"  # as fit(live=True) makes it
    widget = view.widget
    view.record(0.9, 0.5)
    view.record(0.7, 0.625)
    assert (view.steps, view.state) == (2, "running") and view.losses == [0.9, 0.7]
    view.close()  # fit raised before its last epoch
    assert widget.state == "failed" and widget.error == "fit stopped after 2 of 3 epochs"
    assert widget.unit == "epoch" and widget.steps == 2 and widget.accuracies == [0.5, 0.625]
    finished = TrainView(model, X, y, max_steps=1, replay=False)
    finished.unit, finished.state = "epoch", "running"
    finished.record(0.5, 1.0)
    finished.close()
    assert finished.state == "finished" and finished.error == "" and "finished, 1 of 1 epochs" in repr(finished)


@pytest.mark.slow
def test_in_a_notebook_kernel_fit_shows_the_view_live_and_trains_as_without(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("anywidget")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    cells = [
        "import nn\nX, y = nn.make_moons(100, noise=0.1, seed=0)\n"
        "views, make = [], nn.train.live_views['notebook']  # keep the view fit makes, to ask it afterwards\n"
        "nn.train.live_views['notebook'] = lambda *args: views.append(make(*args)) or views[-1]",
        "history = nn.fit(nn.MLP(2, [16, 16, 1], seed=0), X, y, epochs=60, live=True)",
        "print(views[0], views[0].frames)\nprint(history.loss == nn.fit(nn.MLP(2, [16, 16, 1], seed=0), X, y, epochs=60).loss)",
        "nn.fit(nn.MLP(3, [1], seed=0), [[0, 0, 0]], [1], live=True)",
    ]
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(book, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown, said, refused = (book.cells[k].outputs for k in (1, 2, 3))
    assert [out.output_type for out in shown] == ["display_data"]  # the view, shown before training
    assert "application/vnd.jupyter.widget-view+json" in shown[0].data
    text = "".join(out.text for out in said)
    assert text.startswith("<TrainView: finished, 60 of 60 epochs, loss") and text.endswith("True\n")
    frames = int(text.splitlines()[0].split()[-1])
    assert frames >= 2  # the page followed while fit ran, not only at the end
    # What the page was last sent, as the notebook stored it.
    states = book.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"].values()
    (page,) = [s["state"] for s in states if s["state"].get("unit") == "epoch"]
    assert (page["state"], page["steps"], page["max_steps"]) == ("finished", 60, 60) and len(page["losses"]) == 60
    assert refused[0].ename == "ValueError" and "fit(live=True) draws the training on the plane" in refused[0].evalue
    json.dumps(book)  # the notebook is whole
