"""The playground as a learner's lab, in a real headless Chromium: one name for each thing, a
default sample that teaches, the collapsed sample graph, and the Train view's extra controls."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from playground_support import open_page

pytestmark = pytest.mark.slow  # a real browser: seconds per test

SHOTS = Path(os.environ.get("GRADWALK_SHOTS", "")) if os.environ.get("GRADWALK_SHOTS") else None


def keep(page, name: str) -> None:
    """Save a screenshot where GRADWALK_SHOTS points (for a person to look at), if it is set."""
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_network_diagram_and_editor_use_the_projects_names(browse, live_server):
    def scenario(page):
        open_page(page, live_server.url)
        inputs = page.evaluate("[...document.querySelectorAll('#network g.input text')].map(t => t.textContent)")
        edge = page.evaluate("document.querySelector('#network line.edge-hit title').textContent")
        neuron = page.evaluate("document.querySelectorAll('#network g.neuron title')[3].textContent")
        page.dispatch_event("#network line.edge-hit >> nth=1", "click")
        name, key = page.text_content("#weight-name"), page.get_attribute("#weight-name", "title")
        page.hover("#network g.neuron >> nth=3")
        page.wait_for_function("() => document.getElementById('boundary-caption').textContent.startsWith('L0.n3')")
        return inputs, edge, neuron, name, key

    inputs, edge, neuron, name, key = browse(scenario)
    assert inputs == ["x0", "x1"]
    assert edge == "L0.n0.w0: the weight from x0 into L0.n0"
    assert neuron.startswith("L0.n3:") and "L0.n3.b" in neuron
    assert name == "L0.n0.w1" and key == "state_dict() key: layers.0.neurons.0.w.1"
