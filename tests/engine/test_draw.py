"""Graph drawings: content, styling, literal labels, determinism, size guards, grouping, saving."""

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

GOLDEN = Path(__file__).parent / "golden"
needs_dot = pytest.mark.needs_dot  # skipped where Graphviz is missing: see tests/conftest.py
SVG_NS = "{http://www.w3.org/2000/svg}"


def neuron():
    x, w, b = Value(2.0, "x"), Value(-3.0, "w", param=True), Value(6.8813735870195432, "b", param=True)
    out = (x * w + b).tanh()
    out.label = "o"
    return out


def svg_texts(svg: bytes) -> list[str]:
    """Every <text> of an SVG, entities decoded, non-breaking spaces as spaces."""
    root = ET.fromstring(svg)
    return [(t.text or "").replace("\xa0", " ") for t in root.iter(SVG_NS + "text")]


def svg_node_texts(svg: bytes, node_id: str) -> list[str]:
    root = ET.fromstring(svg)
    group = next(g for g in root.iter(SVG_NS + "g") if g.get("id") == node_id)
    return [(t.text or "").replace("\xa0", " ") for t in group.iter(SVG_NS + "text")]


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


# -- size guard, clusters, collapsing ------------------------------------------------------------------


def chain(n):
    x = Value(0.5, "x")
    out = x
    for _ in range(n - 1):
        out = out * 1.01
    return out


def test_max_nodes_guard_is_a_clear_value_error():
    out = chain(700)
    with pytest.raises(GraphTooLargeError) as info:
        draw_dot(out)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "700" in message and "max_nodes" in message and "smaller expression" in message
    assert draw_dot(out, max_nodes=700) is not None
    assert draw_dot(out, max_nodes=None) is not None
    with pytest.raises(GraphTooLargeError):
        draw_dot(chain(11), max_nodes=10)


def scoped_network():
    """Two 'layers' of 'neurons' built by hand with name_scope, like nn does; parameters are
    created outside any scope, as nn creates them."""
    xs = [Value(0.5, "x0"), Value(-1.0, "x1")]
    w = {(l, j, i): Value(0.1 * (l + j - i), f"w{i}", param=True) for l in range(2) for j in range(3) for i in range(3)}
    h = xs
    for l in range(2):
        with name_scope(f"layers.{l}"):
            nxt = []
            for j in range(3):
                with name_scope(f"neurons.{j}"):
                    s = sum((w[l, j, i] * v for i, v in enumerate(h)), Value(0.0))
                    nxt.append(s.tanh())
            h = nxt
    out = sum(h, Value(0.0))
    out.label = "L"
    return out


def test_cluster_by_scope_nests_neurons_in_layers():
    out = scoped_network()
    src = draw_dot(out, cluster="neuron").source
    assert src.count("subgraph cluster_") == 2 + 6
    # Nesting depth of each cluster label (the digraph is depth 1): layers at 2, their neurons at 3.
    depth, placed = 0, []
    for line in src.splitlines():
        label = re.search(r"label=<(layers[\w.]*)>", line)
        if label and "subgraph" not in line and "TABLE" not in line:
            placed.append((label.group(1), depth))
        depth += line.count("{") - line.count("}")
    assert placed == [
        ("layers.0", 2), ("layers.0.neurons.0", 3), ("layers.0.neurons.1", 3), ("layers.0.neurons.2", 3),
        ("layers.1", 2), ("layers.1.neurons.0", 3), ("layers.1.neurons.1", 3), ("layers.1.neurons.2", 3),
    ]
    src_layer = draw_dot(out, cluster="layer").source
    assert src_layer.count("subgraph cluster_") == 2
    assert draw_dot(out, cluster=1).source.count("subgraph cluster_") == 1  # all under "layers"


def test_collapse_one_box_per_neuron_or_layer():
    out = scoped_network()
    full = draw_dot(out).source
    by_neuron = draw_dot(out, collapse="neuron").source
    by_layer = draw_dot(out, collapse="layer").source
    boxes = lambda src: re.findall(r"^\s*(g\d+) \[", src, re.M)
    assert len(boxes(by_neuron)) == 6 and len(boxes(by_layer)) == 2
    assert "layers.1.neurons.2" in by_neuron and "neurons" not in by_layer
    # Parameters (no scope of their own) were folded into the neuron that uses them.
    assert "3 params" in by_neuron and not re.search(r">w\d<", by_neuron)
    assert len(re.findall(r"^\s*v\d+ \[", by_neuron, re.M)) < len(re.findall(r"^\s*v\d+ \[", full, re.M))
    # Each connection between boxes is drawn once.
    edges = re.findall(r"^\s*(g\d+) -> (g\d+)", by_neuron, re.M)
    assert len(edges) == len(set(edges)) == 9  # 3 x 3 between the layers
    assert "collapse" in str(pytest.raises(GraphTooLargeError, draw_dot, scoped_network(), max_nodes=5).value)


def test_grouping_option_validation():
    with pytest.raises(ValueError, match="cluster"):
        draw_dot(neuron(), cluster="neurons")
    with pytest.raises(ValueError, match="collapse"):
        draw_dot(neuron(), collapse=0)


@needs_dot
def test_real_mlp_loss_renders_collapsed():
    nn_layers = pytest.importorskip("nn.layers")
    nn_losses = pytest.importorskip("nn.losses")
    model = nn_layers.MLP(2, [16, 16, 1], seed=0)
    xs = [[0.1 * i - 0.5, 0.3 - 0.05 * i] for i in range(8)]
    loss = nn_losses.mse_loss([model(x) for x in xs], [1.0 if i % 2 else -1.0 for i in range(8)])
    loss.backward()
    with pytest.raises(GraphTooLargeError, match="collapse='neuron'"):
        draw_dot(loss)
    dot = draw_dot(loss, collapse="neuron", cluster="layer")
    texts = svg_texts(render(dot))
    for j in range(16):
        assert f"layers.0.neurons.{j}" in texts and f"layers.1.neurons.{j}" in texts
    assert "layers.2.neurons.0" in texts
    assert any(t.startswith("|grad params|") for t in texts)
    assert dot.source.count("subgraph cluster_") == 3


# -- saving -------------------------------------------------------------------------------------


@needs_dot
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".dot", b"digraph"), (".gv", b"digraph")])
def test_save_graph_formats(tmp_path, suffix, magic):
    out = neuron()
    path = save_graph(out, tmp_path / f"g{suffix}")
    assert path.read_bytes().startswith(magic)
    # A ready Digraph works too, and draw() saves when given a path.
    assert save_graph(draw_dot(out), tmp_path / f"h{suffix}").read_bytes() == path.read_bytes()
    assert isinstance(draw(out, tmp_path / f"i{suffix}"), graphviz.Digraph)
    assert (tmp_path / f"i{suffix}").read_bytes() == path.read_bytes()


def test_save_graph_refuses_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match=".svg, .png or .dot"):
        save_graph(neuron(), tmp_path / "g.jpg")
    with pytest.raises(TypeError):
        save_graph(draw_dot(neuron()), tmp_path / "g.svg", rankdir="TB")


def test_missing_graphviz_names_the_install_and_still_writes_dot(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GraphvizNotFoundError) as info:
        save_graph(neuron(), tmp_path / "g.svg")
    message = str(info.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert "g.dot" in message
    assert (tmp_path / "g.dot").read_text(encoding="utf-8").startswith("digraph")
    assert not (tmp_path / "g.svg").exists()
    save_graph(neuron(), tmp_path / "only.dot")  # .dot needs no Graphviz
    # Jupyter's repr must not raise: it falls back to text.
    assert set(mimebundle(neuron())) == {"text/plain"}


@needs_dot
def test_mimebundle_for_jupyter():
    bundle = mimebundle(neuron())
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    assert bundle["text/plain"].startswith("Value(")
    too_large = mimebundle(chain(1000))  # no scopes to collapse by: text, quickly
    assert set(too_large) == {"text/plain", "text/html"}
    assert f"more than {INLINE_MAX_BOXES} boxes" in too_large["text/html"] and "draw_dot" in too_large["text/html"]
    assert set(mimebundle(neuron(), include={"text/plain"})) == {"text/plain"}
    assert "image/svg+xml" in draw_dot(neuron())._repr_mimebundle_()


def test_negative_zero_is_shown_as_zero():
    x = Value(0.0, "x")
    out = x * -1.0  # data is -0.0
    out.backward()
    source = draw_dot(out).source
    assert "data 0<" in source and "data -0" not in source


def test_value_draw_and_jupyter_display(tmp_path):
    out = neuron()
    out.backward()
    digraph = out.draw()
    assert digraph.source == draw_dot(out).source
    bundle = out._repr_mimebundle_()
    assert "text/plain" in bundle or "image/svg+xml" in bundle
    if shutil.which("dot"):
        assert "<svg" in bundle["image/svg+xml"]
        path = tmp_path / "n.svg"
        out.draw(path)
        assert path.read_text().lstrip().startswith("<?xml") or "<svg" in path.read_text()


# -- options, held once ---------------------------------------------------------------------------


def test_bad_input_gets_a_clear_error():
    with pytest.raises(TypeError, match="needs a Value as its root, got int 3"):
        draw_dot(3)
    with pytest.raises(TypeError, match="got list"):
        save_graph([Value(1.0)], "g.dot")
    with pytest.raises(TypeError, match="draw_dot got an unknown option 'colour_by_grad'; its options are rankdir"):
        draw_dot(neuron(), colour_by_grad=True)
    for option, bad in [("show_grad", 1), ("color_by_grad", "yes"), ("max_nodes", 0), ("max_nodes", True), ("digits", 2.5)]:
        with pytest.raises(ValueError, match=f"{option} must be .*got {bad!r}"):
            draw_dot(neuron(), **{option: bad})


def test_options_are_one_frozen_dataclass():
    options = DrawOptions(rankdir="TB", collapse="layer")
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.rankdir = "LR"
    defaults = {f.name: f.default for f in dataclasses.fields(DrawOptions)}
    assert defaults == {"rankdir": "LR", "digits": 4, "show_grad": None, "color_by_grad": False,
                        "max_nodes": 600, "cluster": None, "collapse": None}
    with pytest.raises(ValueError, match="collapse"):
        DrawOptions(collapse="neurons")


# -- modules: nothing shadowed, pictures loaded on first use ---------------------------------------


def test_no_public_name_hides_a_module():
    import engine
    import engine.drawing.build

    assert callable(engine.draw) and engine.drawing.build.save_graph is engine.save_graph
    modules = {path.stem for path in Path(engine.__file__).parent.glob("*.py")}
    assert not modules & set(engine.__all__), "a public name of engine is also a module's name"
    assert {"draw", "draw_dot", "save_graph", "animate_backward", "Player"} <= set(dir(engine))
    with pytest.raises(AttributeError, match="no attribute 'drawx'"):
        engine.drawx


def test_import_engine_does_not_load_graphviz_or_the_player():
    program = (
        "import sys, engine\n"
        "print(sorted(m for m in ('graphviz', 'engine.drawing.build', 'engine.drawing.player') if m in sys.modules))\n"
        "engine.draw_dot\n"
        "print('graphviz' in sys.modules, 'engine.drawing.player' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == ["[]", "True False"]


# -- Jupyter: large graphs collapse on their own ---------------------------------------------------


def box_count(svg: str) -> int:
    return len(re.findall(r'<g id="[vg]\d+" class="node"', svg))


def test_inline_display_draws_small_graphs_in_full():
    out = scoped_network()
    options = inline_options(out)
    assert options == DrawOptions(max_nodes=INLINE_MAX_BOXES)  # 37 boxes: every one drawn
    assert inline_options(chain(INLINE_MAX_BOXES + 1)) is None  # no scopes: nothing to collapse by


@needs_dot
def test_inline_display_collapses_a_network_loss():
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [16, 16, 1], seed=0)
    loss = nn.mse_loss([model([0.5, -1.0])], [1.0])
    loss.backward()
    assert len(topological_order(loss)) > 400
    options = inline_options(loss)
    assert options.collapse == "neuron" and options.cluster == "layer"
    svg = mimebundle(loss)["image/svg+xml"]
    assert box_count(svg) <= INLINE_MAX_BOXES
    texts = svg_texts(svg.encode("utf-8"))
    assert "layers.0.neurons.15" in texts and "layers.2.neurons.0" in texts
    assert any("one box per neuron" in t for t in texts)  # the picture says what it shows
    width, height = (float(v) for v in re.search(r'viewBox="0\.00 0\.00 ([\d.]+) ([\d.]+)"', svg).groups())
    assert width < 2000 and height < 2000 and len(svg) < 200_000  # in full: 1805 x 20438 pt, 688 KB
    with pytest.raises(GraphTooLargeError):  # draw_dot keeps its own, larger limit
        draw_dot(loss, max_nodes=INLINE_MAX_BOXES)
    assert box_count(render(draw_dot(loss)).decode()) == len(topological_order(loss))
