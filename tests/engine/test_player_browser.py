"""The backprop player in headless Chromium: stepping, links, clicking, zooming, notebooks."""

from __future__ import annotations

import html as html_lib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest

from engine import GraphTooLargeError, GraphvizNotFoundError, Player, Value, animate_backward
from engine.core.graph import node_names, topological_order
from engine.drawing.player import step_text

from player_cases import ROOT, frames_of, needs_dot, neuron, page_data  # noqa: F401

# -- the real thing, in headless Chromium ---------------------------------------------------------


def screenshot_colours(png: bytes) -> tuple[int, int, int]:
    """(distinct colours, orange highlight pixels, pixels) of a screenshot."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=image.width * image.height)  # [(count, (r, g, b)), ...]
    orange = sum(count for count, (r, g, b) in colours if r > 220 and 70 < g < 150 and b < 60)
    return len(colours), orange, image.width * image.height


def counter(page) -> str:
    return page.inner_text("#gw-counter")


@needs_dot
def test_player_in_headless_chromium(tmp_path, page):
    out, *_ = neuron()
    player = animate_backward(out, tmp_path / "player.html", color_by_grad=True)
    total = player.frames - 1
    n = len(topological_order(out))
    page.goto(player.path.as_uri())
    highlighted = "Array.from(document.querySelectorAll('g.gw-current')).map(g => g.id)"
    current = "document.getElementById('gw-graph').getAttribute('data-current')"
    assert counter(page) == f"Step 0 / {total}"
    assert page.evaluate(highlighted) == []
    assert page.locator("text.gw-grad-p").count() == n

    seen = []
    for k in range(1, 4):  # real key presses
        page.keyboard.press("ArrowRight")
        assert counter(page) == f"Step {k} / {total}"
        assert page.evaluate(highlighted) == [page.evaluate(current)]
        seen.append(page.evaluate(current))
    assert seen[0] == f"v{n - 1}"  # backprop starts at the output
    assert len(set(seen)) == 3  # a different node each step
    page.click("#gw-next")  # a real mouse click
    assert counter(page) == f"Step 4 / {total}"
    page.keyboard.press("ArrowLeft")
    assert counter(page) == f"Step 3 / {total}"
    assert page.evaluate(current) == seen[2]
    assert page.locator("g.gw-edge-active").count() >= 2
    assert page.locator("g.gw-updated").count() >= 1  # the dashed "just updated" outline
    # The output's gradient is known from step 1 on; some inputs are still pending at step 3.
    assert page.text_content(f"#v{n - 1} text:last-of-type") == "grad 1"
    assert page.locator("text.gw-grad-p").count() > 0

    png = page.screenshot(path=str(tmp_path / "player.png"))
    colours, orange, pixels = screenshot_colours(png)
    assert pixels == 1200 * 800
    assert colours > 50, "screenshot looks blank"
    assert orange > 100, "the highlighted node/edges are not visible in the screenshot"

    page.keyboard.press("End")
    assert counter(page) == f"Step {total} / {total}"
    assert page.locator("text.gw-grad-p").count() == 0


@needs_dot
def test_step_links(tmp_path, page):
    out, *_ = neuron()
    player = animate_backward(out, tmp_path / "player.html")
    total = player.frames - 1
    page.goto(player.path.as_uri() + "#step=3")  # a link to one step opens it
    assert counter(page) == f"Step 3 / {total}"
    assert page.inner_text("#gw-text") == frames_of(player)[3]["text"]
    page.keyboard.press("ArrowRight")  # the address follows the steps
    assert page.url.endswith("#step=4")
    page.evaluate("location.hash = '#step=1'")  # and the steps follow the address
    page.wait_for_function("document.getElementById('gw-counter').textContent.startsWith('Step 1 ')")
    page.goto(player.path.as_uri() + f"#step={total + 50}")  # out of range: the last frame
    page.reload()
    assert counter(page) == f"Step {total} / {total}"


@needs_dot
def test_clicking_a_box_shows_what_it_is(tmp_path, page):
    x, w = Value(2.0, "x"), Value(-3.0, "w", param=True)
    p = x * w
    p.label = "p"
    out = p.tanh()
    out.label = "o"
    player = animate_backward(out, tmp_path / "player.html")
    page.goto(player.path.as_uri())
    page.click("#v2")  # p = x * w (order: x, w, p, o)
    panel = page.inner_text("#gw-node")
    assert "p (op *)" in panel and "p = x*w" in panel and "data\t-6" in panel
    assert "∂p/∂x = w = -3" in panel and "∂p/∂w = x = 2" in panel
    assert "grad ?" in panel and "pending at step 0" in panel
    assert page.get_attribute("#gw-graph", "data-selected") == "v2"
    page.keyboard.press("End")  # the panel follows the frame
    assert "pending" not in page.inner_text("#gw-node") and "final at step 2" in page.inner_text("#gw-node")
    page.click("#v0")  # a leaf
    panel = page.inner_text("#gw-node")
    assert "x (input)" in panel and "none: a leaf" in panel and "local" not in panel


def label_pixels(page) -> float:
    """The rendered height, in CSS pixels, of the first value box's name."""
    return page.evaluate("document.querySelector('#v0 text').getBoundingClientRect().height")


@pytest.mark.slow
@needs_dot
def test_a_big_graph_starts_readable_and_zooms(tmp_path, page):
    x = Value(0.5, "x")
    out = x
    for k in range(25):  # 51 boxes in a long row: far wider than the window
        out = (out * 1.1 + x).tanh() if k % 2 else out * 0.9 + x
    player = animate_backward(out, tmp_path / "player.html")
    page.goto(player.path.as_uri())
    assert page.evaluate("getComputedStyle(document.getElementById('gw-svg')).maxWidth") == "none"
    assert label_pixels(page) >= 11  # readable, not squeezed to the window's width
    page.click("#gw-fit")
    view_width = page.evaluate("document.getElementById('gw-graph').clientWidth")
    assert page.evaluate("document.getElementById('gw-svg').getBoundingClientRect().width") <= view_width
    page.click("#gw-natural")
    assert page.inner_text("#gw-zoom-level") == "100%"
    assert label_pixels(page) >= 14  # 12 pt text at natural size
    page.click("#gw-zoom-in")
    assert page.inner_text("#gw-zoom-level") == "125%"
    # Stepping keeps the current node in view, wherever the graph is scrolled.
    page.keyboard.press("End")
    view = page.locator("#gw-graph").bounding_box()
    node = page.locator("g.gw-current").bounding_box()
    assert view["x"] <= node["x"] and node["x"] + node["width"] <= view["x"] + view["width"]
    # Dragging pans the graph.
    before = page.evaluate("document.getElementById('gw-graph').scrollLeft")
    page.mouse.move(view["x"] + 900, view["y"] + 100)
    page.mouse.down()
    page.mouse.move(view["x"] + 600, view["y"] + 100, steps=5)
    page.mouse.up()
    assert page.evaluate("document.getElementById('gw-graph').scrollLeft") == before + 300


@needs_dot
def test_the_player_works_inline_in_a_notebook_cell(page):
    out, *_ = neuron()
    player = animate_backward(out)
    page.set_content("<h2>a notebook cell</h2>" + player._repr_html_())
    frame = page.frame_locator("iframe")
    frame.locator("#gw-counter").wait_for()
    assert frame.locator("#gw-counter").inner_text() == f"Step 0 / {player.frames - 1}"
    frame.locator("#gw-next").click()  # in a sandbox the address cannot change: stepping still works
    assert frame.locator("#gw-counter").inner_text() == f"Step 1 / {player.frames - 1}"


@pytest.mark.slow
@needs_dot
def test_an_mlp_loss_in_the_middle_of_backprop_at_1200_px(tmp_path, page):
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [4, 1], seed=0)
    loss = nn.mse_loss([model([0.5, -1.0])], [1.0])
    player = animate_backward(loss, tmp_path / "mlp.html")
    middle = (player.frames - 1) // 2
    page.goto(player.path.as_uri() + f"#step={middle}")
    assert counter(page) == f"Step {middle} / {player.frames - 1}"
    assert label_pixels(page) >= 11
    # The step being shown is on screen, highlighted.
    current = page.locator("g.gw-current")
    assert current.count() == 1
    box, view = current.bounding_box(), page.locator("#gw-graph").bounding_box()
    assert view["x"] <= box["x"] and box["x"] + box["width"] <= view["x"] + view["width"]
    assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"]
    png = page.screenshot(path=str(tmp_path / "player_mid.png"))
    colours, orange, _ = screenshot_colours(png)
    assert colours > 50 and orange > 100
    if os.environ.get("GRADWALK_KEEP_SCREENSHOT"):
        shutil.copy(tmp_path / "player_mid.png", os.environ["GRADWALK_KEEP_SCREENSHOT"])


@pytest.mark.slow
@needs_dot
def test_a_collapsed_mlp_player_steps_inline(page):
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [16, 16, 1], seed=0)
    loss = nn.mse_loss([model([0.5, -1.0])], [1.0])
    player = animate_backward(loss)  # collapsed by neuron: one box per neuron
    data = page_data(player)
    page.set_content(player._repr_html_())  # the notebook's inline form: a sandboxed srcdoc frame
    frame = page.frame_locator("iframe")
    frame.locator("#gw-counter").wait_for()
    total = player.frames - 1
    frame.locator("#gw-last").click()
    assert frame.locator("#gw-counter").inner_text() == f"Step {total} / {total}"
    assert frame.locator("text.gw-grad-p").count() == 0  # every box final at the end
    group = next(box for box in data["boxes"] if box.startswith("g"))
    assert frame.locator(f"#{group} text").last.text_content() == frames_of(player)[-1]["grads"][data["boxes"].index(group)]
    frame.locator(f"#{group}").click(position={"x": 8, "y": 8})  # a corner: edges cross the middle
    panel = frame.locator("#gw-node").inner_text()
    assert "(group)" in panel and "one box for" in panel and "params" in panel
