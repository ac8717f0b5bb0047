"""The backprop player: the page it writes, its frames and its guards."""

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
    frames = frames_of(player)
    assert data["boxes"] == [f"v{k}" for k in range(len(topological_order(out)))]  # small: nothing collapsed
    assert all("grads" not in f and "changed" in f for f in data["frames"][1:])  # stored as differences
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
    with pytest.raises(ValueError, match="collapse"):
        animate_backward(out, tmp_path / "p.html", collapse="neurons!")
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
    srcdoc = re.search(r"srcdoc='([^']*)'", frame).group(1)
    assert html_lib.unescape(srcdoc) == player.html
    assert player.save(tmp_path / "again.html").read_text(encoding="utf-8") == player.html
    assert "again.html" in repr(player)


@needs_dot
def test_an_mlp_loss_is_collapsed_by_neuron_and_small():
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [16, 16, 1], seed=0)
    loss = nn.mse_loss([model([0.5, -1.0])], [1.0])
    player = animate_backward(loss)
    assert len(player._repr_html_().encode()) <= 300_000  # 1.95 MB before collapsing and differences
    data, frames = page_data(player), frames_of(player)
    groups = [box for box in data["boxes"] if box.startswith("g")]
    assert len(groups) == 16 + 16 + 1 and all(f'id="{box}"' in player.html for box in data["boxes"])
    steps = list(loss.backward_steps())  # the texts still list every edge of every step
    assert [f["text"] for f in frames[1:]] == [str(step) for step in steps]
    neuron_box = data["boxes"].index(groups[0])
    assert data["nodes"][neuron_box]["kind"] == "group" and "params" in data["nodes"][neuron_box]["data"]
    assert frames[0]["grads"][neuron_box] == "grad ?" and frames[-1]["state"][neuron_box] == "d"
    assert frames[-1]["grads"][neuron_box].startswith("|grad params| ")
    assert set(frames[-1]["state"]) == {"d"}
    everything = animate_backward(loss, collapse=None)  # every value, as before
    assert len(page_data(everything)["boxes"]) == len(topological_order(loss))


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
