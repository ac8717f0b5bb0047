"""Helpers for the playground's WebSocket tests: the test page's address, and receiving the
message of one type among those a playing tab streams."""

from __future__ import annotations

import json

BASE = "http://127.0.0.1:8765"
WS = "ws://127.0.0.1:8765/ws"
ORIGIN = {"origin": "http://127.0.0.1:8765"}


def receive(ws, kind: str, limit: int = 500) -> dict:
    """The next message of type `kind`, skipping others (a playing tab streams updates)."""
    for _ in range(limit):
        message = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind!r} message among {limit}")


def ask(ws, message: dict, kind: str) -> dict:
    ws.send_text(json.dumps(message))
    return receive(ws, kind)


def error_for(ws, text: str) -> str:
    """Send raw text; the server must answer with an error (and stay up)."""
    ws.send_text(text)
    return receive(ws, "error")["message"]


def config(**changes) -> str:
    """A config message (the page's defaults, except for `changes`) as JSON text."""
    base = {"type": "config", "hidden": [16, 16], "activation": "relu", "loss": "hinge", "optimizer": "sgd",
            "lr": 0.1, "batch_size": None, "l2": 0.0, "seed": 0}
    return json.dumps(dict(base, **changes))


def open_page(page, url):
    """Open the playground in a Playwright page and wait until its first state has arrived."""
    page.goto(url)
    page.wait_for_function("() => document.getElementById('connection').textContent === 'connected'")
    page.wait_for_function("() => window.gradwalk.views.train.state !== null")


def pick_first_point(page):
    """Click the first data point on the Backprop view's small map and wait for its graph."""
    x, y = page.evaluate("""() => {
        const s = window.gradwalk.views.backprop.state, [xmin, xmax, ymin, ymax] = s.bounds;
        const c = document.getElementById('bp-map').getBoundingClientRect();
        return [c.left + (s.X[0][0] - xmin) / (xmax - xmin) * c.width, c.top + (ymax - s.X[0][1]) / (ymax - ymin) * c.height];
    }""")
    page.mouse.click(x, y)
    page.wait_for_selector("#bp-graph svg", timeout=60_000)
