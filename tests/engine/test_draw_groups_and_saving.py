"""Graph drawings: size guards, clusters and collapsing, saving, options, lazy loading, Jupyter."""

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
        label = re.search(r"label=<(L\d[\w.]*)>", line)
        if label and "subgraph" not in line and "TABLE" not in line:
            placed.append((label.group(1), depth))
        depth += line.count("{") - line.count("}")
    assert placed == [
        ("L0", 2), ("L0.n0", 3), ("L0.n1", 3), ("L0.n2", 3),
        ("L1", 2), ("L1.n0", 3), ("L1.n1", 3), ("L1.n2", 3),
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
    assert ">L1.n2<" in by_neuron and ">L1<" in by_layer and ".n" not in by_layer
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
        assert f"L0.n{j}" in texts and f"L1.n{j}" in texts
    assert "L2.n0" in texts
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
    assert "L0.n15" in texts and "L2.n0" in texts
    assert any("one box per neuron" in t for t in texts)  # the picture says what it shows
    width, height = (float(v) for v in re.search(r'viewBox="0\.00 0\.00 ([\d.]+) ([\d.]+)"', svg).groups())
    assert width < 2000 and height < 2000 and len(svg) < 200_000  # in full: 1805 x 20438 pt, 688 KB
    with pytest.raises(GraphTooLargeError):  # draw_dot keeps its own, larger limit
        draw_dot(loss, max_nodes=INLINE_MAX_BOXES)
    assert box_count(render(draw_dot(loss)).decode()) == len(topological_order(loss))
