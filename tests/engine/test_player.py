"""The animated backprop player: frame data, side effects, guards, and the page in real Chromium."""

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

needs_dot = pytest.mark.needs_dot  # skipped where Graphviz is missing: see tests/conftest.py
ROOT = Path(__file__).resolve().parents[2]


def neuron():
    x, w, b = Value(2.0, "x"), Value(-3.0, "w", param=True), Value(6.8813735870195432, "b", param=True)
    n = x * w + b
    n.label = "n"
    out = (n.tanh() * n + x).tanh()  # n and x are used twice: gradients accumulate
    out.label = "o"
    return out, x, w, b


def page_data(player: Player) -> dict:
    match = re.search(r'<script type="application/json" id="gw-data">(.*?)</script>', player.html, re.S)
    assert match, "frame data missing"
    return json.loads(match.group(1))


def frames_of(player: Player) -> list[dict]:
    return page_data(player)["frames"]


# -- what the page holds --------------------------------------------------------------------------


@needs_dot
def test_animating_changes_no_gradient(tmp_path):
    out, x, w, b = neuron()
    x.grad = 0.25  # whatever the graph held before, it holds after
    before = [n.grad for n in topological_order(out)]
    player = animate_backward(out, tmp_path / "p.html")
    assert [n.grad for n in topological_order(out)] == before
    assert player.path == tmp_path / "p.html"
    assert player.path.read_text(encoding="utf-8") == player.html


@needs_dot
def test_after_an_earlier_backward_the_frames_show_this_pass_only():
    # README's order: backward() first, then the player. The frames must show one pass's
    # gradients from pending/0, not the leaves' old values plus the new ones.
    ref, *_ = neuron()
    ref_frames = frames_of(animate_backward(ref))
    out, x, w, b = neuron()
    out.backward()
    once = [n.grad for n in topological_order(out)]
    frames = frames_of(animate_backward(out))
    assert set(frames[0]["state"]) == {"p"} and all(g == "grad ?" for g in frames[0]["grads"])
    assert [f["grads"] for f in frames] == [f["grads"] for f in ref_frames]
    assert [f["text"] for f in frames] == [f["text"] for f in ref_frames]
    assert [n.grad for n in topological_order(out)] == once  # still one pass, not two
    assert frames[-1]["grads"][0] == f"grad {x.grad:.4g}"


@needs_dot
def test_a_leaf_root():
    x = Value(3.0, "x")
    x.grad = 0.5
    frames = frames_of(animate_backward(x))
    assert len(frames) == 1 and "dx/dx = 1" in frames[0]["text"]
    assert x.grad == 0.5


@needs_dot
def test_frames_follow_backward_steps():
    out, x, w, b = neuron()
    player = animate_backward(out)
    data = page_data(player)
    frames = data["frames"]
    ref, *_ = neuron()
    steps = list(ref.backward_steps())
    assert len(frames) == len(steps) + 1 == player.frames
    assert len(data["nodes"]) == len(topological_order(out))
    # Frame 0: before backward, everything pending and nothing highlighted.
    assert frames[0]["current"] == -1
    assert set(frames[0]["state"]) == {"p"}
    assert all(g == "grad ?" for g in frames[0]["grads"])
    # Each later frame highlights the step's node and shows exactly the step's own text.
    order = topological_order(ref)
    for frame, step in zip(frames[1:], steps):
        k = order.index(step.node)
        assert frame["current"] == k
        assert frame["op"] == f"o{k}"
        assert frame["text"] == step_text(step) == str(step)
        assert frame["title"].startswith(f"The gradient at {step.node_name} ({step.node.op}) goes back")
        assert set(frame["edges"]) == {f"e{k}"} | {f"e{k}_{i}" for i in range(len(step.node.parents))}
    assert "done" in frames[-1]["title"]
    # Pending gradients only ever become known, never the other way round; the last frame is final.
    for before, after in zip(frames, frames[1:]):
        for s0, s1 in zip(before["state"], after["state"]):
            assert not (s0 != "p" and s1 == "p")
    assert set(frames[-1]["state"]) == {"d"}
    # n is used twice: after its first contribution it is accumulating, not final.
    n_k = next(k for k, node in enumerate(order) if node.label == "n")
    assert "a" in [f["state"][n_k] for f in frames]
    # Every edge/op/node id the frames refer to exists in the inline SVG.
    for frame in frames[1:]:
        for element_id in [frame["op"], f"v{frame['current']}", *frame["edges"]]:
            assert f'id="{element_id}"' in player.html


@needs_dot
def test_the_step_texts_follow_the_digits_option():
    out, *_ = neuron()
    frames = frames_of(animate_backward(out, digits=7))
    ref, *_ = neuron()
    steps = list(ref.backward_steps())
    assert [f["text"] for f in frames[1:]] == [step_text(s, 7) for s in steps] == [s.text(7) for s in steps]
    assert frames[1]["text"] != str(steps[0])  # 7 digits, not the REPL's 4


@needs_dot
def test_an_unlabelled_root_has_one_name_in_every_frame():
    x, y = Value(1.5, "x"), Value(-2.0, "y")
    out = (x * y).tanh()  # no label: its name is #k everywhere, as backward_steps prints it
    order = topological_order(out)
    name = node_names(order)[out]
    assert name == f"#{len(order) - 1}"
    frames = frames_of(animate_backward(out))
    assert f"d{name}/d{name} = 1" in frames[0]["text"]
    assert all(f"d{name}/d" in f["text"] for f in frames[1:])
    assert not any(re.search(r"\bdL/", f["text"] + f["title"]) for f in frames)


@needs_dot
def test_node_details_in_the_page_data():
    # The definition and the local derivatives' formulas are the ones the step texts print.
    x, w = Value(2.0, "x"), Value(-3.0, "w", param=True)
    out = x * w
    out.label = "p"
    nodes = page_data(animate_backward(out))["nodes"]
    assert nodes[-1] == {
        "name": "p", "operand": "p", "kind": "output", "op": "*", "formula": "x*w", "data": "-6", "scope": "",
        "locals": [["x", "w", "-3"], ["w", "x", "2"]],
    }
    assert nodes[1]["kind"] == "param" and nodes[1]["locals"] == [] and nodes[1]["formula"] == ""
    y = Value(1.0, "a+b")  # a label with an operator in it is parenthesised as an operand
    odd = (y * x).tanh()
    nodes = page_data(animate_backward(odd))["nodes"]
    assert nodes[2]["formula"] == "(a+b)*x" and nodes[2]["locals"][0] == ["(a+b)", "x", "2"]
    assert nodes[3]["formula"] == "tanh(#2)" and nodes[3]["locals"][0][1] == "1 - tanh(#2)**2"


@needs_dot
def test_page_is_self_contained_and_deterministic():
    out, *_ = neuron()
    first = animate_backward(out).html
    out2, *_ = neuron()
    assert first == animate_backward(out2).html
    assert "<script src" not in first and "<link" not in first and "@import" not in first
    # The only URLs are XML namespace names, which browsers never fetch.
    urls = set(re.findall(r"https?://[^\s\"'<>]+", first))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    for element_id in ["gw-counter", "gw-text", "gw-prev", "gw-next", "gw-play", "gw-graph", "gw-node", "gw-fit"]:
        assert f'id="{element_id}"' in first
    assert "{{" not in first  # every template slot was filled


@needs_dot
def test_hostile_labels_cannot_break_out_of_the_page():
    x = Value(1.5, "</script><script>alert(1)</script>")
    y = Value(-2.0, "<!-- & ]]> {{DATA}}")
    out = (x * y).tanh()
    out.label = "</pre> {{SCRIPT}}"
    html = animate_backward(out).html
    assert "alert(1)</script>" not in html
    assert html.count("</script>") == 2  # the JSON block and the player script, nothing more
    assert html.count("use strict") == 1  # a label naming a template slot is not filled in
    data = json.loads(re.search(r'id="gw-data">(.*?)</script>', html, re.S).group(1))
    assert any("</script><script>alert(1)</script>" in f["text"] for f in data["frames"])


def test_size_guard_refuses_before_touching_gradients(tmp_path):
    x = Value(0.5, "x")
    out = x
    for _ in range(300):
        out = out * 1.001 + x
    with pytest.raises(GraphTooLargeError, match="max_cells"):
        animate_backward(out, tmp_path / "p.html")
    assert all(n.grad == 0.0 for n in topological_order(out))
    assert not (tmp_path / "p.html").exists()


def test_bad_arguments(tmp_path):
    out, *_ = neuron()
    with pytest.raises(TypeError, match="unknown option 'collapse'"):
        animate_backward(out, tmp_path / "p.html", collapse="neuron")
    with pytest.raises(ValueError, match=".html"):
        animate_backward(out, tmp_path / "p.svg")
    with pytest.raises(ValueError, match="interval_ms"):
        animate_backward(out, interval_ms=10)
    with pytest.raises(TypeError, match="needs a Value as its root, got int 3"):
        animate_backward(3)
    assert out.grad == 0.0


def test_missing_graphviz_is_explained_before_backward(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot` anywhere
    out, *_ = neuron()
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        animate_backward(out, tmp_path / "p.html")
    assert out.grad == 0.0


@needs_dot
def test_a_player_shows_inline_in_a_notebook(tmp_path):
    out, *_ = neuron()
    player = animate_backward(out)
    assert player.path is None and f"{player.frames} frames" in repr(player)
    frame = player._repr_html_()
    assert frame.startswith("<iframe") and 'sandbox="allow-scripts"' in frame
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame).group(1)
    assert html_lib.unescape(srcdoc) == player.html
    assert player.save(tmp_path / "again.html").read_text(encoding="utf-8") == player.html
    assert "again.html" in repr(player)


def test_the_templates_are_package_data():
    templates = resources.files("engine.drawing").joinpath("templates")
    for name in ("player.html", "player.css", "player.js"):
        text = templates.joinpath(name).read_text(encoding="utf-8")
        assert "</script" not in text.lower() or name == "player.html"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    table = r"\[tool\.setuptools\.package-data\](?:\s*#[^\n]*)*\s*\"engine\.drawing\"\s*=\s*\[(.*?)\]"
    declared = re.search(table, pyproject, re.S)
    assert declared, "pyproject.toml must declare engine's templates as package data"
    for suffix in ("html", "css", "js"):
        assert f'"templates/*.{suffix}"' in declared.group(1)


@pytest.mark.slow
def test_a_built_wheel_carries_the_templates(tmp_path):
    # What a non-editable `pip install gradwalk` gets: a wheel built from a copy of this checkout
    # (building writes build/ and *.egg-info next to the sources, so not in the checkout itself).
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("engine", "nn"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("gradwalk-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("player.html", "player.css", "player.js"):
        assert f"engine/drawing/templates/{name}" in names


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
