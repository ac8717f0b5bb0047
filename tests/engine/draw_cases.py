"""Graphs the drawing tests share: the README's neuron, SVG text readers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine import Value


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


