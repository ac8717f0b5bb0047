"""The widgets in a real notebook server (JupyterLab) and a real kernel, in Chromium: three
clicks on the stepper's "step" move the drawing and the Python stepper alike; answers typed into
the quiz are scored in the kernel; a click on the training view's "play" trains in the
background while the page follows."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from engine import Quiz, Value, topological_order

ROOT = Path(__file__).resolve().parents[3]

CELLS = [
    'from engine import Value\nfrom engine.notebook import StepperWidget\n'
    'x, w, b = Value(2.0, "x"), Value(-3.0, "w", param=True), Value(6.8813735870195432, "b", param=True)\n'
    'n = x * w + b\nn.label = "n"\no = (n.tanh() * n + x).tanh()\no.label = "o"',
    "steps = o.backward_steps()\nStepperWidget(steps)",
    'print("position", steps.position, "of", steps.total)',
]

QUIZ = [CELLS[0], "quiz = o.backward_steps(quiz=True)\nStepperWidget(quiz)", 'print("score", quiz.score, "of", quiz.asked)']

TRAINING = [
    "import nn\nfrom nn.notebook import TrainView\nX, y = nn.make_moons(100, noise=0.1, seed=0)\n"
    "view = TrainView(nn.MLP(2, [16, 16, 1], seed=0), X, y, max_steps=100)\nview",
    "view.wait(timeout=120)\nprint(view, view.frames)",
]
FIT = ["import nn\nX, y = nn.make_moons(100, noise=0.1, seed=0)\n"
       "history = nn.fit(nn.MLP(2, [16, 16, 1], seed=0), X, y, epochs=100, live=True)\nprint(history.epochs, 'epochs')"]


def expression():
    x, w, b = Value(2.0, "x"), Value(-3.0, "w", param=True), Value(6.8813735870195432, "b", param=True)
    n = x * w + b
    n.label = "n"
    o = (n.tanh() * n + x).tanh()
    o.label = "o"
    return o


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on localhost serving tmp_path (with the tests' notebooks in it),
    its kernels importing this checkout; yields the URL of the notebooks' folder."""
    pytest.importorskip("jupyterlab")
    pytest.importorskip("anywidget")
    nbformat = pytest.importorskip("nbformat")
    for name, cells in (("stepper", CELLS), ("quiz", QUIZ), ("training", TRAINING), ("fit", FIT)):
        book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(book, tmp_path / f"{name}.ipynb")
    port, token = free_port(), "gradwalk-test"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[name] = str(tmp_path / ".jupyter" / name.lower())  # nothing read from or written to ~
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}", "--allow-root",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "server.log", "w"),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("JupyterLab did not start: " + (tmp_path / "server.log").read_text()[-2000:])
                time.sleep(0.3)
        yield lambda name: f"http://127.0.0.1:{port}/lab/tree/{name}.ipynb?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        keep = os.environ.get("GRADWALK_KEEP_SCREENSHOT")  # a folder to keep the screenshots in
        for shot in tmp_path.glob("*.png") if keep else ():
            shutil.copy(shot, Path(keep) / shot.name)


def open_and_run(page, url: str, cells: int) -> None:
    page.set_default_timeout(60_000)
    page.goto(url)
    page.locator(".jp-Notebook .jp-Cell").nth(cells - 1).wait_for()
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()  # the kernel is up
    for k in range(cells):
        run_cell(page, k)


def accept_dialogs(page) -> None:
    """Accept any modal dialog JupyterLab put up while the notebook opened (on a slow machine it
    may ask which kernel to start, though the notebook names one): it would take every click."""
    dialogs = page.locator(".jp-Dialog")
    for _ in range(3):
        if not dialogs.count():
            return
        print("JupyterLab's dialog:", dialogs.first.inner_text().replace("\n", " | "), file=sys.stderr)
        accept = dialogs.first.locator(".jp-Dialog-button.jp-mod-accept")
        if accept.count():
            accept.first.click()
        else:
            page.keyboard.press("Escape")
        page.wait_for_timeout(300)


def run_cell(page, index: int) -> None:
    """Run cell `index` with Shift+Enter, again if the kernel was not listening yet (its prompt
    still reads [ ]: a while later: a notebook just opened may report idle before it connects)."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    prompt = cell.locator(".jp-InputPrompt")
    for _ in range(10):
        accept_dialogs(page)
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if prompt.inner_text().strip() not in ("[ ]:", ""):
                return
            page.wait_for_timeout(100)
    pytest.fail(f"cell {index} never ran: " + prompt.inner_text())


@pytest.mark.slow
@pytest.mark.needs_dot
def test_three_clicks_on_step_in_jupyterlab(jupyterlab, page, tmp_path):
    open_and_run(page, jupyterlab("stepper"), len(CELLS))
    widget = page.locator(".gw-stepper")
    widget.wait_for()
    counter = widget.locator(".gw-counter")
    reference = expression().backward_steps()
    total = reference.total
    assert counter.inner_text() == f"Step 0 / {total}"
    for k in range(1, 4):  # real mouse clicks on the widget's "step" button
        widget.locator("button[data-move=step]").click()
        page.wait_for_function(f"document.querySelector('.gw-stepper .gw-counter').textContent === 'Step {k} / {total}'")
        step = next(reference)
    # The drawing: the third step's own text, its node highlighted, the output's grad in its box.
    assert widget.locator(".gw-text").inner_text() == str(step)
    assert widget.locator("g.gw-current").count() == 1
    assert widget.locator("text.gw-grad-p").count() > 0  # the inputs are still pending
    # Every grad text sits inside its own box (centred in its cell), not off to one side.
    for k in range(len(topological_order(expression()))):
        box, text = widget.locator(f'[id="v{k}"]'), widget.locator(f'[id="v{k}"] text').last
        b, t = box.bounding_box(), text.bounding_box()
        assert b["x"] <= t["x"] and t["x"] + t["width"] <= b["x"] + b["width"], f"grad text of v{k} outside its box"
    assert "3 of " in widget.locator(".gw-echo").inner_text()
    # The Python stepper moved too: ask the kernel.
    run_cell(page, len(CELLS) - 1)
    output = page.locator(".jp-Notebook .jp-Cell").nth(len(CELLS) - 1).locator(".jp-OutputArea-output")
    page.wait_for_function(
        "document.querySelectorAll('.jp-Notebook .jp-Cell')[%d].innerText.includes('position 3 of %d')"
        % (len(CELLS) - 1, total))
    assert f"position 3 of {total}" in output.inner_text()
    widget.screenshot(path=str(tmp_path / "stepper_widget.png"))


@pytest.mark.slow
@pytest.mark.needs_dot
def test_a_quiz_answered_wrong_then_right_in_jupyterlab(jupyterlab, page, tmp_path):
    open_and_run(page, jupyterlab("quiz"), len(QUIZ))
    widget = page.locator(".gw-stepper")
    widget.wait_for()
    reference = Quiz(expression())
    assert widget.locator(".gw-question").inner_text() == reference.question
    assert widget.locator("button[data-move=step]").is_hidden()  # in a quiz only an answer moves on
    box = widget.locator(".gw-answer")
    for typed, right in (("o**2", False), ("1", True)):  # do/d(...) is 1 - o**2; then d(u + x)/du is 1
        box.click()
        box.press_sequentially(typed)  # real key presses: the notebook's own shortcuts must not take them
        box.press("Enter")
        verdict = reference.answer(typed)
        assert verdict.right is right
        page.wait_for_function("document.querySelector('.gw-stepper .gw-score').textContent === 'score %d of %d'"
                               % (reference.score, reference.asked))
        assert widget.locator(".gw-verdict").inner_text() == str(verdict)
    assert widget.locator(".gw-question").inner_text() == reference.question
    assert widget.locator(".gw-counter").inner_text() == f"Step 1 / {reference.steps.total}"
    assert widget.locator(".gw-verdict.gw-right").count() == 1
    widget.screenshot(path=str(tmp_path / "quiz_widget.png"))
    run_cell(page, len(QUIZ) - 1)  # the score is the kernel's
    page.wait_for_function(
        "document.querySelectorAll('.jp-Notebook .jp-Cell')[%d].innerText.includes('score 1 of 2')" % (len(QUIZ) - 1))


@pytest.mark.slow
def test_training_live_in_jupyterlab(jupyterlab, page, tmp_path):
    open_and_run(page, jupyterlab("training"), 1)
    view = page.locator(".gw-train")
    view.wait_for()
    assert "paused, step 0 / 100" in view.locator(".gw-status").inner_text()
    view.locator("button[data-a=play]").click()  # trains in the kernel's background thread ...
    page.wait_for_function("document.querySelector('.gw-train .gw-status').textContent.includes('step 100 / 100')")
    assert "finished" in view.locator(".gw-status").inner_text()
    run_cell(page, 1)  # ... and the kernel was free to run this cell meanwhile
    page.wait_for_function("document.querySelectorAll('.jp-Notebook .jp-Cell')[1].innerText.includes('finished')")
    assert "finished, 100 of 100 steps" in page.locator(".jp-Notebook .jp-Cell").nth(1).inner_text()
    view.screenshot(path=str(tmp_path / "train_view.png"))


@pytest.mark.slow
def test_fit_live_in_jupyterlab(jupyterlab, page, tmp_path):
    open_and_run(page, jupyterlab("fit"), 1)
    view = page.locator(".gw-train")
    view.wait_for()
    page.wait_for_function("document.querySelector('.gw-train .gw-status').textContent === 'finished, epoch 100 / 100'")
    assert view.locator("button").first.is_hidden()  # fit has the cell: nothing to press
    page.wait_for_function("document.querySelector('.jp-Notebook .jp-Cell').innerText.includes('100 epochs')")
    view.screenshot(path=str(tmp_path / "fit_live.png"))
