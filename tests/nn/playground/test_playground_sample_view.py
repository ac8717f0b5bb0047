"""The Backprop-one-sample view's graph: one name for each thing, the target as a leaf, the loss
bit for bit nn's own."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Value, topological_order
from nn import losses
from nn.playground.graphs import sample_loss
from nn.playground.session import Session

TARGETS = {"hinge": (-1, 1), "mse": (0, 1), "bce_with_logits": (0, 1), "bce": (0, 1)}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(TARGETS)), st.floats(-30, 30), st.booleans())
def test_sample_loss_is_nns_loss_bit_for_bit(name, score, positive):
    target = TARGETS[name][positive]

    ours_leaf, theirs_leaf = Value(score, "out"), Value(score, "out")
    output = (lambda leaf: leaf.sigmoid()) if name == "bce" else (lambda leaf: leaf)
    ours = sample_loss(name, output(ours_leaf), target)
    theirs = losses.resolve_loss(name)([output(theirs_leaf)], [target])
    ours.backward()
    theirs.backward()
    assert ours.data == theirs.data
    assert math.isclose(ours_leaf.grad, theirs_leaf.grad, rel_tol=1e-12, abs_tol=1e-300)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_the_target_is_a_leaf_named_y_and_no_op_hides_it(name):
    out = Value(0.25, "out")
    loss = sample_loss(name, out.sigmoid() if name == "bce" else out, TARGETS[name][1])
    order = topological_order(loss)
    assert loss.label == "loss"
    [y] = [v for v in order if v.label == "y"]
    assert y.data == 1.0 and any(y in v.parents for v in order)
    assert not any(v.op in ("-0", "-1", "+1") or (v.op == "1-" and v.parents == (out,)) for v in order)


def test_the_sample_graph_uses_the_projects_names():
    session = Session()
    reply = session.handle({"type": "sample", "index": 0, "x": None})[0]
    names = reply["names"]
    assert {"x0", "x1", "y", "loss", "L0.n0.w0", "L0.n15.b", "L2.n0.b"} <= set(names)
    assert "x2" not in names and not any(n.startswith("layers.") for n in names)
    assert names[reply["root"]] == "loss"
    # The steps speak of the same names.
    assert any("∂#" in s["text"] and "/∂x0" in s["text"] for s in reply["steps"])


def test_neuron_errors_name_the_neuron_as_drawn():
    session = Session()
    assert "no neuron L0.n20" in session.handle({"type": "neuron_map", "layer": 0, "neuron": 20})[0]["message"]
