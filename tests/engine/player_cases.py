"""What the player tests share: a neuron with reused nodes, and readers of a page's frame data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine import Player, Value

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
    """Every frame whole, as the page's script rebuilds them: frame 0 is stored whole, each
    later frame as the boxes it changes."""
    frames = page_data(player)["frames"]
    whole = [frames[0]]
    for frame in frames[1:]:
        before = whole[-1]
        grads, state = list(before["grads"]), list(before["state"])
        fills = list(before["fills"]) if before["fills"] else None
        for box, grad, box_state, fill in frame["changed"]:
            grads[box], state[box] = grad, box_state
            if fills:
                fills[box] = fill
        whole.append({**frame, "grads": grads, "state": "".join(state), "fills": fills})
    return whole
