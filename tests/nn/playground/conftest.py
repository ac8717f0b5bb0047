"""Fixtures for the playground's tests: a TestClient app, a live server, and a real browser.

The browser is Playwright driving the system's Chromium, from a thread of its own: Playwright's
sync API refuses to start while another sync session (the engine's browser tests keep one for
the whole run) is open in the same thread. Scenarios run in that thread with `browse(scenario)`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("starlette", reason="the playground needs the playground extra")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

from starlette.testclient import TestClient  # noqa: E402

from browser_support import LAUNCH_ARGS, chromium_or_skip  # noqa: E402
from nn.playground.server import PlaygroundServer, create_app  # noqa: E402
from playground_support import BASE, ORIGIN, WS  # noqa: E402

VIEWPORT = {"width": 1400, "height": 900}


@pytest.fixture
def client():
    """A TestClient on a fresh app, as seen from the playground's own page on 127.0.0.1:8765."""
    app = create_app()
    with TestClient(app, base_url=BASE) as test_client:
        yield test_client


@pytest.fixture
def tab(client):
    """One tab's WebSocket, its first state already received."""
    with client.websocket_connect(WS, headers=ORIGIN) as ws:
        state = ws.receive_json()
        assert state["type"] == "state"
        yield ws


@pytest.fixture(scope="module")
def live_server():
    """The playground served by uvicorn on a free port, for the browser."""
    server = PlaygroundServer(create_app()).start()
    yield server
    server.stop()


class BrowserThread:
    """A headless Chromium owned by one thread; `run(scenario)` calls `scenario(page)` there on a
    fresh page and returns its result (or raises what it raised). JavaScript errors fail it."""

    def __init__(self, executable: str):
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")
        self._thread.submit(self._start, executable).result(timeout=60)

    def _start(self, executable):
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS, headless=True)

    def run(self, scenario):
        return self._thread.submit(self._run, scenario).result(timeout=300)

    def _run(self, scenario):
        context = self._browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            result = scenario(page)
        finally:
            context.close()
        assert not errors, f"JavaScript errors on the page: {errors}"
        return result

    def close(self):
        def stop():
            self._browser.close()
            self._playwright.stop()

        self._thread.submit(stop).result(timeout=60)
        self._thread.shutdown()


@pytest.fixture(scope="module")
def browse():
    browser = BrowserThread(chromium_or_skip())
    yield browser.run
    browser.close()
