"""Graphviz's layout cannot stall anything: `dot` runs as a process with a time limit, off the
engine's thread; a layout that takes too long, or a `dot` that dies, is one line in the reply,
the steps and numbers still come, and other tabs are answered meanwhile."""

from __future__ import annotations

import json
import os
import stat
import threading
import time

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from nn.playground.layout import LayoutError, Layouts  # noqa: E402
from nn.playground.server import create_app  # noqa: E402
from playground_support import BASE, ORIGIN, WS, ask, receive  # noqa: E402

SLOWEST = "+".join(["x"] * 90)  # within every limit; `dot` needed over a minute for it


def fake_dot(tmp_path, monkeypatch, script: str):
    """Put a `dot` that runs `script` (sh) first on PATH; each run appends a line to `runs`."""
    folder = tmp_path / "bin"
    folder.mkdir()
    dot = folder / "dot"
    dot.write_text(f"#!/bin/sh\necho run >> {tmp_path / 'runs'}\n{script}\n")
    dot.chmod(dot.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return tmp_path / "runs"


def runs(path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_a_layout_that_takes_too_long_is_killed(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, f"echo $$ > {tmp_path / 'pid'}\nexec sleep 30")
    started = time.monotonic()
    with pytest.raises(LayoutError) as error:
        Layouts(0.5).svg("digraph { a -> b }")
    assert str(error.value) == "the graph is too large to lay out in 0.5 s"
    assert time.monotonic() - started < 5
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left running
        os.kill(pid, 0)


@pytest.mark.parametrize("script, expected", [
    ("echo 'Error: <stdin>: syntax error in line 1' >&2; exit 3",
     "Graphviz's `dot` failed (exit status 3): Error: <stdin>: syntax error in line 1"),
    ("kill -9 $$", "Graphviz's `dot` failed (killed by signal 9): no message"),
    ("exit 1", "Graphviz's `dot` failed (exit status 1): no message"),
])
def test_a_dot_that_dies_is_one_line(tmp_path, monkeypatch, script, expected):
    fake_dot(tmp_path, monkeypatch, script)
    with pytest.raises(LayoutError) as error:
        Layouts().svg("digraph { a -> b }")
    assert str(error.value) == expected


def test_without_dot_the_message_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LayoutError, match=r"`dot` program is not installed.*apt-get install graphviz"):
        Layouts().svg("digraph { a -> b }")


def test_closing_kills_a_running_layout(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, "exec sleep 30")
    layouts = Layouts(60)
    failure = []
    worker = threading.Thread(target=lambda: failure.append(pytest.raises(LayoutError, layouts.svg, "digraph {}")))
    started = time.monotonic()
    worker.start()
    time.sleep(0.3)
    layouts.close()  # what the server's shutdown (Ctrl-C) does
    worker.join(10)
    assert not worker.is_alive() and time.monotonic() - started < 5
    assert "failed (killed by signal 9)" in str(failure[0].value)


def test_real_dot_on_the_slowest_formula_is_cut_off_and_the_tab_carries_on():
    app = create_app(layout_seconds=1.0)
    with TestClient(app, base_url=BASE) as client, client.websocket_connect(WS, headers=ORIGIN) as ws:
        ws.receive_json()
        started = time.monotonic()
        reply = ask(ws, {"type": "formula", "text": SLOWEST, "values": {"x": 0.5}}, "formula")
        took = time.monotonic() - started
        assert reply["svg"] is None and reply["grouping"] is None
        assert reply["drawing_problem"] == ("the graph is too large to lay out in 1 s; showing the steps and the "
                                            "numbers without the drawing")
        assert reply["gradients"] == {"x": 90.0} and len(reply["steps"]) == 89 and reply["output"] == 45.0
        assert took < 6, f"the reply took {took:.1f} s"
        # The same shape again (a slider drag): no second layout, an answer at once.
        started = time.monotonic()
        again = ask(ws, {"type": "formula", "text": SLOWEST, "values": {"x": 1.5}}, "formula")
        assert again["svg"] is None and "drawing_problem" not in again and again["output"] == 135.0
        assert time.monotonic() - started < 0.9
        assert ask(ws, {"type": "formula", "text": "x*x", "values": {"x": 3}}, "formula")["svg"].lstrip().startswith("<?xml")


def test_a_dot_that_dies_in_the_server_is_a_one_line_note(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, "kill -9 $$")
    with TestClient(create_app(), base_url=BASE) as client, client.websocket_connect(WS, headers=ORIGIN) as ws:
        ws.receive_json()
        reply = ask(ws, {"type": "sample", "index": 3}, "sample")
        assert reply["drawing_problem"].startswith("Graphviz's `dot` failed (killed by signal 9): no message; showing")
        assert "\n" not in reply["drawing_problem"] and "Traceback" not in reply["drawing_problem"]
        assert reply["steps"] and reply["names"][reply["root"]] == "loss"
        assert ask(ws, {"type": "step"}, "update")["steps"] == 1


def test_while_one_tab_waits_for_a_layout_other_tabs_are_answered(tmp_path, monkeypatch):
    dot_runs = fake_dot(tmp_path, monkeypatch, "exec sleep 30")
    with TestClient(create_app(layout_seconds=1.5), base_url=BASE) as client:
        with client.websocket_connect(WS, headers=ORIGIN) as slow, client.websocket_connect(WS, headers=ORIGIN) as other:
            slow.receive_json()
            other.receive_json()
            slow.send_text(json.dumps({"type": "formula", "text": "x*y", "values": {"x": 1, "y": 2}}))
            deadline = time.monotonic() + 2
            while runs(dot_runs) == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert runs(dot_runs) == 1  # the slow tab's layout has started
            started = time.monotonic()
            assert ask(other, {"type": "neuron_map", "layer": 0, "neuron": 1}, "neuron_map")["neuron"] == 1
            assert ask(other, {"type": "step"}, "update")["steps"] == 1
            with client.websocket_connect(WS, headers=ORIGIN) as new_tab:  # a new tab gets its first message
                assert new_tab.receive_json()["type"] == "state"
            answered = time.monotonic() - started
            assert answered < 1.0, f"the other tabs waited {answered:.1f} s for the slow tab's layout"
            late = receive(slow, "formula")
            assert late["drawing_problem"].startswith("the graph is too large to lay out in 1.5 s")
