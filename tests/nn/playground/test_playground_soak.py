"""Soak: ten tabs train at once for a minute. The server's memory stays flat, and when the tabs
close every one of them stops training and is freed."""

from __future__ import annotations

import asyncio
import gc
import json
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("starlette")
websockets = pytest.importorskip("websockets")

from nn.playground.server import PlaygroundServer, create_app  # noqa: E402

TABS = 10
SECONDS = 60
WARM_UP = 15  # seconds before the first memory sample: every tab has built its network by then


def rss_mb() -> float:
    """This process's resident memory in MB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    pytest.skip("no /proc/self/status: the soak test measures memory on Linux")


async def one_tab(url: str, origin: str, stop: asyncio.Event, seen: dict, index: int):
    async with websockets.connect(url, origin=origin, max_size=None) as ws:
        state = json.loads(await ws.recv())
        assert state["type"] == "state"
        await ws.send(json.dumps({"type": "play"}))
        while not stop.is_set():
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=1.0))
            except asyncio.TimeoutError:
                continue
            assert message["type"] == "update", message
            seen[index] = message["steps"]


@pytest.mark.slow
def test_ten_tabs_train_for_a_minute_with_flat_memory_and_stop_when_closed():
    app = create_app()
    playground = app.state.playground
    server = PlaygroundServer(app).start()
    url, origin = f"ws://127.0.0.1:{server.port}/ws", f"http://127.0.0.1:{server.port}"
    seen: dict[int, int] = {}
    samples: list[tuple[float, float]] = []
    sessions = []
    trainers = []

    async def soak():
        stop = asyncio.Event()
        tabs = [asyncio.create_task(one_tab(url, origin, stop, seen, i)) for i in range(TABS)]
        start = time.monotonic()
        while time.monotonic() - start < SECONDS:
            await asyncio.sleep(1.0)
            if len(seen) == TABS and not sessions:
                tabs_now = list(playground.tabs)
                sessions.extend(weakref.ref(tab.session) for tab in tabs_now)
                trainers.extend(tab.trainer for tab in tabs_now)
                del tabs_now
            elapsed = time.monotonic() - start
            if elapsed >= WARM_UP and (not samples or elapsed - samples[-1][0] >= 5):
                gc.collect()
                samples.append((elapsed, rss_mb()))
        stop.set()
        await asyncio.gather(*tabs)  # each tab closes its socket

    try:
        # The clients' event loop runs in a thread of its own: the main thread may already run one
        # (Playwright's sync API keeps one there while another test module's browser is open).
        with ThreadPoolExecutor(max_workers=1) as clients:
            clients.submit(asyncio.run, soak()).result()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (playground.tabs or any(s() is not None for s in sessions)
                                                or not all(t.done() for t in trainers)):
            time.sleep(0.1)
            gc.collect()
    finally:
        server.stop()

    print("\nsoak: RSS MB over time:", ", ".join(f"{t:.0f}s {m:.1f}" for t, m in samples))
    print("soak: steps per tab:", [seen[i] for i in sorted(seen)])
    assert len(seen) == TABS and all(steps > 0 for steps in seen.values()), seen
    assert len(sessions) == TABS and len(trainers) == TABS
    assert playground.tabs == set(), "a closed tab is still registered"
    assert all(trainer.done() for trainer in trainers), "a closed tab's training is still running"
    assert all(session() is None for session in sessions), "a closed tab's network and data are still in memory"
    first, last = samples[0][1], samples[-1][1]
    assert last - first < 25, f"memory grew from {first:.1f} MB to {last:.1f} MB while training"
