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


def ask_sample(session, **fields):
    return session.handle(dict({"type": "sample", "index": 0, "x": None}, **fields))[0]


def test_a_big_network_is_collapsed_until_expanded_and_its_boxes_are_named():
    session = Session()
    collapsed = ask_sample(session, index=5)
    assert collapsed["grouping"] == "collapse" and collapsed["expand"] is False
    groups = collapsed["groups"]
    names = collapsed["names"]
    # Every value of a neuron is drawn in that neuron's box, named as the box says.
    assert groups[names.index("L0.n3.w1")] == "L0.n3" and groups[names.index("L2.n0.b")] == "L2.n0"
    assert groups[names.index("x0")] is None and groups[collapsed["root"]] is None
    assert all(f">{g}<" in collapsed["svg"] for g in set(groups) - {None})
    expanded = ask_sample(session, index=5, expand=True)
    assert expanded["grouping"] == "cluster" and expanded["svg"] is not None and set(expanded["groups"]) == {None}
    assert len(expanded["svg"]) > 3 * len(collapsed["svg"])
    assert expanded["steps"] == collapsed["steps"] and expanded["data"] == collapsed["data"]
    # Back to collapsed: a drawing again (the page's drawing is the expanded one).
    assert ask_sample(session, index=5)["svg"] is not None
    moved = ask_sample(session, index=5, x=[0.1, 0.2])
    assert moved["svg"] is None and "groups" not in moved  # same shape: the page keeps its drawing


def test_the_default_sample_is_the_one_with_the_largest_loss():
    session = Session()
    for _ in range(60):
        session.handle({"type": "step"})
    from nn.playground.graphs import sample_losses
    losses = sample_losses(session)
    assert sum(value == 0.0 for value in losses) > len(losses) / 2  # hinge: most points teach nothing
    chosen = ask_sample(session, index=None)
    assert chosen["index"] == max(range(len(losses)), key=losses.__getitem__)
    assert chosen["why_zero"] is None and float(chosen["data"][chosen["root"]].split()[1]) > 0
    # sample_losses agrees with the graph the page steps through.
    for index in (chosen["index"], losses.index(0.0)):
        reply = ask_sample(session, index=index)
        assert float(reply["data"][reply["root"]].split()[1]) == pytest.approx(losses[index], rel=1e-3, abs=1e-12)


def test_a_zero_loss_says_why():
    session = Session()
    for _ in range(60):
        session.handle({"type": "step"})
    from nn.playground.graphs import sample_losses
    losses = sample_losses(session)
    reply = ask_sample(session, index=losses.index(0.0))
    teaching = sum(value > 0 for value in losses)
    assert reply["why_zero"].startswith("Its hinge loss is 0: y·out = ")
    assert "≥ 1" in reply["why_zero"] and f"{teaching} of the {len(losses)} points have a loss above 0" in reply["why_zero"]
    session.handle({"type": "config", "hidden": [4], "activation": "relu", "loss": "mse", "optimizer": "sgd",
                    "lr": 0.1, "batch_size": None, "l2": 0.0, "seed": 0})
    assert ask_sample(session, index=0)["why_zero"] is None  # an mse loss is not 0 here


@pytest.mark.parametrize("message, problem", [
    ({"type": "sample", "index": None, "x": [0.0, 0.0]}, "x moves a chosen point, so it needs an index"),
    ({"type": "sample", "index": 0, "expand": "yes"}, "expand must be true or false"),
    ({"type": "sample"}, "missing field index"),
])
def test_sample_messages_are_checked(message, problem):
    import json

    from nn.playground.protocol import ProtocolError, parse_message

    with pytest.raises(ProtocolError, match=problem):
        parse_message(json.dumps(message))
    assert parse_message('{"type": "sample", "index": null}') == {"type": "sample", "index": None, "x": None,
                                                                    "expand": False}


def test_no_points_no_default_sample():
    session = Session()
    session.handle({"type": "clear_points"})
    assert "there are no points" in session.handle({"type": "sample", "index": None, "x": None})[0]["message"]


def test_when_every_loss_is_0_the_view_says_the_model_fits_them_all():
    session = Session()
    from nn.playground.graphs import sample_losses
    for _ in range(3000):  # through the tape: a few seconds
        session.handle({"type": "step"})
        if not any(sample_losses(session)):
            break
    else:
        pytest.fail("3,000 steps left a point inside the margin: the tab's default model should fit them all")
    reply = ask_sample(session, index=0)
    assert f"None of the {len(session.X)} points has a loss above 0" in reply["why_zero"]
    assert "have a loss above 0" not in reply["why_zero"]
