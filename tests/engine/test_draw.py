"""Graph drawings: what they contain, styling, literal labels, determinism."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest

from engine import GraphTooLargeError, GraphvizNotFoundError, Value, draw, draw_dot, name_scope, save_graph, tanh
from engine import topological_order
from engine.drawing.build import INLINE_MAX_BOXES, DrawOptions, inline_options, mimebundle, render

from draw_cases import GOLDEN, SVG_NS, needs_dot, neuron, svg_node_texts, svg_texts  # noqa: F401

# -- what a drawing contains ------------------------------------------------------------------------


def test_one_box_per_value_one_ellipse_per_op_and_edges_through_the_op():
    out = neuron()
    src = draw_dot(out).source
    # x, w, x*w, b, x*w+b, o: six values; three ops.
    assert sorted(re.findall(r"^\s*(v\d+) \[", src, re.M)) == [f"v{k}" for k in range(6)]
    assert sorted(re.findall(r"^\s*(o\d+) \[", src, re.M)) == ["o2", "o4", "o5"]
    edges = re.findall(r"^\s*(\w+) -> (\w+)", src, re.M)
    assert ("v0", "o2") in edges and ("v1", "o2") in edges and ("o2", "v2") in edges
    assert ("v4", "o5") in edges and ("o5", "v5") in edges
    assert "id(" not in src and not re.search(r"\b\d{9,}\b", src)  # no memory addresses anywhere


def test_a_plus_a_keeps_both_edges_and_folded_constants_show_in_the_op():
    a = Value(3.0, "a")
    out = (a + a) * 3 + 0.5
    src = draw_dot(out).source
    assert len(re.findall(r"^\s*v0 -> o1", src, re.M)) == 2
    assert "label=<*3>" in src and "label=<+0.5>" in src
    b = Value(2.0, "b")
    src = draw_dot(1 - b**2).source
    assert "label=<**2>" in src and "label=<1->" in src


@needs_dot
def test_names_match_the_step_printouts():
    out = neuron()
    names = {s.node_name for s in out.backward_steps()} | {e.parent_name for s in out.backward_steps() for e in s.edges}
    texts = svg_texts(render(draw_dot(out)))
    for name in names:
        assert name in texts  # same `#k` / label names as backward_steps()


@needs_dot
def test_grads_pending_before_backward_numbers_after():
    out = neuron()
    before = render(draw_dot(out))
    assert svg_node_texts(before, "v0")[-1] == "grad ?"
    assert svg_node_texts(before, "v5")[-1] == "grad ?"
    out.backward()
    after = render(draw_dot(out))
    assert svg_node_texts(after, "v0")[-1] == "grad -1.5"  # x.grad
    assert svg_node_texts(after, "v5")[-1] == "grad 1"
    assert "data 2" in svg_node_texts(after, "v0")
    # Forcing: show_grad=True prints 0s before backward, False drops the row.
    fresh = neuron()
    assert svg_node_texts(render(draw_dot(fresh, show_grad=True)), "v0")[-1] == "grad 0"
    assert not any(t.startswith("grad") for t in svg_texts(render(draw_dot(fresh, show_grad=False))))


def test_digits():
    out = neuron()
    out.backward()
    assert "data 6.8814" in draw_dot(out, digits=5).source
    assert "data 6.88<" in draw_dot(out, digits=3).source
    with pytest.raises(ValueError, match="digits"):
        draw_dot(out, digits=0)


def test_kinds_are_styled_distinctly():
    c = tanh(Value(2.0))  # a constant leaf (no label) under tanh
    x = Value(1.0, "x")
    w = Value(0.5, "w", param=True)
    out = c * x * w
    src = draw_dot(out).source
    fills = dict(re.findall(r'^\s*(v\d+) \[label=<<TABLE[^>]*?BGCOLOR="(#\w+)"', src, re.M))
    kinds = dict(re.findall(r'^\s*(v\d+) \[label=<<TABLE.*?COLOR="#495057">(\w+)</FONT>', src, re.M))
    assert kinds == {"v0": "const", "v2": "input", "v4": "param", "v5": "output"}
    assert len({fills["v0"], fills["v2"], fills["v4"], fills["v5"], fills["v1"]}) == 5
    assert 'STYLE="dashed"' in re.search(r"^\s*v0 \[.*$", src, re.M).group(0)
    assert 'BORDER="2"' in re.search(r"^\s*v5 \[.*$", src, re.M).group(0)


def test_color_by_grad_sign_and_magnitude():
    x, y = Value(1.0, "x"), Value(1.0, "y")
    out = x * 3 - y * 0.1
    out.backward()  # dout/dx = 3, dout/dy = -0.1
    src = draw_dot(out, color_by_grad=True).source

    def grad_fill(node_id):
        line = re.search(rf"^\s*{node_id} \[.*$", src, re.M).group(0)
        return re.findall(r'<TD BGCOLOR="#(\w\w)(\w\w)(\w\w)">grad', line)[0]

    xr, xg, xb = (int(c, 16) for c in grad_fill("v0"))
    yr, yg, yb = (int(c, 16) for c in grad_fill("v2"))
    assert xb > xr  # positive: blue
    assert yr > yb  # negative: red
    assert (255 - xr) > (255 - yb)  # |3| is tinted more strongly than |-0.1|
    assert "BGCOLOR=\"#ffffff\">grad" not in draw_dot(neuron(), color_by_grad=True).source.replace("grad ?", "")


def test_rankdir():
    assert "rankdir=TB" in draw_dot(neuron(), rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(neuron(), rankdir="sideways")


# -- labels render literally ------------------------------------------------------------------------

LITERAL_LABELS = [
    "<lambda>",
    "a|b",
    "{x}",
    'say "hi"',
    "it's",
    "A & B",
    "&amp;",
    "back\\slash",
    "\\N \\l \\G",
    "tab\there",
    "ünïcødé ∂L/∂w 🙂",
    "<b>not bold</b>",
    "]]> <!-- -->",
    "  two  spaces",
]


@needs_dot
@pytest.mark.parametrize("label", LITERAL_LABELS)
def test_labels_render_literally(label):
    x = Value(1.0, label)
    out = x * 2
    out.label = label + "!"
    dot = draw_dot(out)
    svg = render(dot)  # dot parses the source (it would fail loudly otherwise) and lays it out
    texts = svg_texts(svg)
    expected = label.replace("\t", "    ")
    assert expected in texts
    assert expected + "!" in texts
    # The DOT source itself round-trips through dot's parser unchanged in meaning.
    canon = subprocess.run(["dot", "-Tcanon"], input=dot.source.encode(), capture_output=True, check=True)
    assert canon.returncode == 0


@needs_dot
def test_multiline_and_control_character_labels():
    x = Value(1.0, "first\nsecond\r\nthird")
    y = Value(2.0, "bell\x07")
    texts = svg_texts(render(draw_dot(x * y)))
    assert ["first", "second", "third"] == [t for t in texts if t in ("first", "second", "third")]
    assert "bell\\x07" in texts  # XML cannot carry \x07: it is shown escaped


@needs_dot
def test_op_text_and_scopes_are_escaped_too():
    with name_scope("<scope & 'co'>"):
        x = Value(1.0, "x")
        out = x * 2
    texts = svg_texts(render(draw_dot(out, cluster=1)))
    assert "<scope & 'co'>" in texts


# -- determinism ----------------------------------------------------------------------------------

_PROGRAM = """
import hashlib, sys
from engine import Value, draw_dot, name_scope
from engine.drawing.build import render
with name_scope("layers.0"):
    with name_scope("neurons.1"):
        x, w = Value(2.0, "x"), Value(-3.0, "w", param=True)
        h = (x * w + 1).tanh()
    with name_scope("neurons.0"):
        g = (h * h + x).relu()
out = (g + h * 2).log()
out.backward()
dot = draw_dot(out, color_by_grad=True, cluster="neuron")
sys.stdout.write(dot.source)
sys.stdout.write(hashlib.sha256(render(dot)).hexdigest())
"""


@needs_dot
def test_byte_identical_across_processes():
    outputs = []
    for seed in ("1", "2", "random"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        run = subprocess.run([sys.executable, "-c", _PROGRAM], capture_output=True, env=env, check=True)
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert b"cluster_" in outputs[0]


def test_golden_dot_source():
    out = neuron()
    out.backward()
    source = draw_dot(out, color_by_grad=True).source
    golden = GOLDEN / "neuron.dot"
    if os.environ.get("GRADWALK_UPDATE_GOLDEN"):
        golden.write_text(source, encoding="utf-8")
    assert source == golden.read_text(encoding="utf-8"), "drawing changed; GRADWALK_UPDATE_GOLDEN=1 rewrites the golden file"
