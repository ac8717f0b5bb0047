"""The playground stays live under the heaviest requests within its limits: while one tab sends
the slowest formulas (or trains the largest network on 2,000 points), a second tab's slider keeps
getting answers in well under 200 ms. The server runs as its own process, as it does for a
learner, so the clients' work does not share its interpreter."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("starlette")
websockets = pytest.importorskip("websockets")

from nn.playground import adapters  # noqa: E402

pytestmark = pytest.mark.slow  # 30 s of load, twice

ROOT = Path(__file__).resolve().parents[3]
BOUND = 0.2  # seconds: the bound for a slider's answer while another tab sends formulas
# While another tab trains the largest network, the indivisible pieces are bigger: a frame's
# accuracy over 2,000 points, or its map, each ~0.1 s (more on a loaded machine), once a step.
TRAINING_BOUND, TRAINING_P95 = 0.75, 0.25


def longest(make_term) -> str:
    """The longest sum of make_term(i) the formula parser accepts (its limits on characters and parts)."""
    text = make_term(0)
    for i in itertools.count(1):
        longer = f"{text}+{make_term(i)}"
        try:
            adapters.parse_formula(longer)
        except adapters.FormulaError:
            return text
        text = longer


SLOWEST = [longest(lambda i: f"{i + 1}*x"), longest(lambda i: "x"), longest(lambda i: f"tanh(x*{i})"),
           "*".join(["x"] * 250), "+".join(["x"] * 90), longest(lambda i: f"exp(x/{i + 1})*y")]


@contextmanager
def server_process():
    process = subprocess.Popen([sys.executable, "-m", "nn.playground", "--no-browser"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        port = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert port, f"no URL in {line!r}: {process.stderr.read() if process.poll() is not None else ''}"
        yield int(port.group(1))
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError("the server did not stop within 15 s of Ctrl-C") from None


async def connect(port: int):
    for _ in range(100):
        try:
            ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", origin=f"http://127.0.0.1:{port}", max_size=None)
            break
        except OSError:
            await asyncio.sleep(0.1)
    assert json.loads(await ws.recv())["type"] == "state"
    return ws


async def reply_to(ws, kinds: tuple) -> dict:
    while True:
        message = json.loads(await ws.recv())
        if message["type"] in kinds:
            return message


async def slider(ws, stop: asyncio.Event) -> list[float]:
    """A second tab dragging a sandbox slider: the next value goes once the last was answered."""
    message = {"type": "formula", "text": "tanh(x*w + b)", "values": {"x": 0.0, "w": -3, "b": 6.88}, "range": [-4, 4]}
    await ws.send(json.dumps(message))
    await reply_to(ws, ("formula",))  # its first drawing: laid out once, not part of the drag
    latencies = []
    for k in itertools.count():
        if stop.is_set():
            return latencies
        message["values"]["x"] = round(-2 + (k % 400) / 100, 2)
        sent = time.perf_counter()
        await ws.send(json.dumps(message))
        reply = await reply_to(ws, ("formula", "error"))
        latencies.append(time.perf_counter() - sent)
        assert reply["type"] == "formula" and reply["svg"] is None, reply
        await asyncio.sleep(0.02)  # a drag's pace: 50 values a second at most


def summary(latencies) -> str:
    ms = sorted(1000 * t for t in latencies)
    return (f"{len(ms)} answers, median {statistics.median(ms):.1f} ms, 95th percentile {ms[int(0.95 * len(ms))]:.1f} ms, "
            f"max {ms[-1]:.1f} ms")


def run(coroutine):
    with ThreadPoolExecutor(max_workers=1) as clients:
        return clients.submit(asyncio.run, coroutine).result(timeout=600)


def test_a_slider_stays_live_while_another_tab_sends_the_slowest_formulas_for_30_s():
    async def scenario(port):
        hostile, other = await connect(port), await connect(port)
        stop = asyncio.Event()
        drag = asyncio.create_task(slider(other, stop))
        sent = laid_out_too_long = 0
        started = time.monotonic()
        for k in itertools.count():
            if time.monotonic() - started > 30:
                break
            text = SLOWEST[(k // 6) % len(SLOWEST)]  # a new shape (a layout), then five new values for it
            await hostile.send(json.dumps({"type": "formula", "text": text, "values": {"x": 0.1 + k % 7 / 10, "y": 0.5}}))
            sent += 1
            reply = await reply_to(hostile, ("formula", "error"))
            laid_out_too_long += "too large to lay out" in reply.get("drawing_problem", "")
        stop.set()
        latencies = await drag
        await hostile.close()
        await other.close()
        return sent, laid_out_too_long, latencies

    with server_process() as port:
        sent, too_long, latencies = run(scenario(port))
    print(f"\nslowest formulas: {sent} sent, {too_long} layouts cut off; the other tab's slider: {summary(latencies)}")
    assert sent >= 10 and too_long >= 1 and len(latencies) >= 100
    assert max(latencies) < BOUND, summary(latencies)


def test_a_slider_stays_live_while_another_tab_trains_the_largest_network_on_2000_points():
    async def scenario(port):
        trainer, other = await connect(port), await connect(port)
        await trainer.send(json.dumps({"type": "dataset", "name": "spiral", "noise": 0.1, "points": 2000, "seed": 0}))
        await reply_to(trainer, ("state",))
        await trainer.send(json.dumps({"type": "config", "hidden": [32, 32, 32, 32], "activation": "tanh",
                                       "loss": "hinge", "optimizer": "adam", "lr": 0.01, "batch_size": None,
                                       "l2": 0.0, "seed": 0}))
        await reply_to(trainer, ("state",))
        await trainer.send('{"type": "play"}')
        stop = asyncio.Event()
        drag = asyncio.create_task(slider(other, stop))
        frames = []
        started = time.monotonic()
        while time.monotonic() - started < 30:  # a step takes 5 to 15 s here, shared with the slider
            try:
                frames.append(json.loads(await asyncio.wait_for(trainer.recv(), timeout=1.0)))
            except asyncio.TimeoutError:
                pass
        paused = time.perf_counter()
        await trainer.send('{"type": "pause"}')
        while (frame := json.loads(await trainer.recv()))["playing"]:
            pass
        pause_took = time.perf_counter() - paused
        stop.set()
        latencies = await drag
        await trainer.close()
        await other.close()
        return frames, pause_took, latencies

    with server_process() as port:
        frames, pause_took, latencies = run(scenario(port))
    steps = max((f["steps"] for f in frames if f["type"] == "update"), default=0)
    print(f"\nlargest network, 2,000 points: {steps} steps in 30 s, pause answered in {1000 * pause_took:.0f} ms; "
          f"the other tab's slider: {summary(latencies)}")
    assert steps >= 1 and all(f["type"] == "update" for f in frames)
    assert pause_took < 1.0
    assert max(latencies) < TRAINING_BOUND, summary(latencies)
    assert sorted(latencies)[int(0.95 * len(latencies))] < TRAINING_P95, summary(latencies)


def test_ctrl_c_does_not_wait_for_a_layout():
    async def start_a_slow_layout(port):
        ws = await connect(port)
        await ws.send(json.dumps({"type": "formula", "text": "+".join(["x"] * 90), "values": {"x": 1}}))
        await asyncio.sleep(0.8)  # the engine's part is done; `dot` is at work (for up to 5 s)
        return ws

    process = subprocess.Popen([sys.executable, "-m", "nn.playground", "--no-browser"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r":(\d+)/", process.stdout.readline()).group(1))
        dots_before = dot_processes()
        run(start_a_slow_layout(port))  # the socket closes as its event loop ends; the layout goes on
        assert dot_processes() - dots_before, "no dot was running"
        stopping = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(20)
        took = time.monotonic() - stopping
    finally:
        process.kill()
    print(f"\nCtrl-C during a layout: the server stopped in {took:.2f} s")
    assert took < 4.5 and not (dot_processes() - dots_before)


def dot_processes() -> set:
    """Process ids of the `dot` programs running now (Linux)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "dot":
                found.add(entry.name)
        except OSError:
            pass
    return found
