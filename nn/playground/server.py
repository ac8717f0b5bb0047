"""The playground's web server: Starlette for the page and one WebSocket per browser tab, uvicorn
to serve it on 127.0.0.1.

Each tab's socket gets its own `Session` (data, network, optimizer). All engine work -- training,
building drawings, the sandbox -- runs on one worker thread: the engine's `no_grad` and
`name_scope` are process-wide switches, so two threads must never build graphs at once. No
request holds that thread for long: a request's work runs a slice at a time (`Session.work`,
`slices.advance`), a playing tab's training loop asks for a slice of training at a time and sends
a frame after each, and other tabs' requests queue in between. Graphviz lays drawings out in
processes of its own with a time limit (`layout`), waited for on threads of their own.

Safety: only local pages may talk to it (`guard`). A request whose Host header is not 127.0.0.1,
localhost or [::1] is refused (a foreign name pointing at 127.0.0.1 is DNS rebinding), and so is
a WebSocket whose Origin is not this server. Every message is checked by `protocol.parse_message`
before anything acts on it; nothing from the page reaches eval, a shell or the filesystem, except the
explicit "save model", which writes NAME.json with `model.save` inside the folder chosen at launch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
import traceback
import webbrowser
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

try:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import FileResponse
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket, WebSocketDisconnect
except ImportError as error:  # pragma: no cover - depends on what is installed
    raise ImportError(
        f"the playground needs Starlette and uvicorn ({error}); install them with: pip install 'gradwalk[playground]'"
    ) from None

from nn.playground.graphs import PendingDrawing
from nn.playground.guard import LocalOnly
from nn.playground.launch import Start
from nn.playground.layout import LAYOUT_SECONDS, LayoutError, Layouts
from nn.playground.protocol import ProtocolError, error_message, parse_message
from nn.playground.session import Session
from nn.playground.slices import advance

STATIC = Path(__file__).parent / "static"
MAX_TABS = 16
"""Tabs (WebSockets) served at once; one more is told to close another tab."""

TRAIN_SLICE = 0.04  # seconds of training between two frames of a playing tab
WORK_SLICE = 0.03  # seconds of one request's engine work before other tabs' requests get a turn


class Playground:
    """What all tabs share: the launch model and data, the engine's worker thread, the open tabs."""

    def __init__(self, start: Start, max_tabs: int = MAX_TABS, layout_seconds: float = LAYOUT_SECONDS):
        self.start = start
        self.max_tabs = max_tabs
        self.tabs: set[Tab] = set()
        self.seats = 0  # tabs admitted, counted before their session exists (see _tab_socket)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gradwalk-engine")
        # Graphviz runs as processes of its own; a tab asks for one layout at a time.
        self.layouts = Layouts(layout_seconds)
        self.layout_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gradwalk-layout")

    async def run(self, function, *args):
        """`function(*args)` on the engine's worker thread."""
        return await self.submit(function, *args)

    def submit(self, function, *args) -> asyncio.Future:
        """Queue `function(*args)` for the engine's worker thread; await the future for its result."""
        return asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def finish(self, work):
        """Run the generator `work` (see `Session.work`) on the engine's thread, a slice at a time,
        so that other tabs' requests run between its slices; returns what it returned."""
        while True:
            done, result = await self.run(advance, work, WORK_SLICE, self._start_layout)
            if done:
                return result

    def _start_layout(self, handed) -> None:
        if isinstance(handed, PendingDrawing):
            handed.start(self.layout_threads, self.layouts.svg)

    async def draw(self, replies: list) -> list:
        """Lay out the pending drawings in `replies` on the layout threads, within the time limit."""
        for reply in replies:
            pending = reply.get("svg")
            if isinstance(pending, PendingDrawing):
                pending.start(self.layout_threads, self.layouts.svg)  # if the work did not start it
                try:
                    svg = await asyncio.wrap_future(pending.layout)
                    reply.update(pending.settle(svg))
                except LayoutError as error:
                    reply.update(pending.settle(None, str(error)))
        return replies

    def close(self) -> None:
        self.layouts.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.layout_threads.shutdown(wait=False, cancel_futures=True)


class Tab:
    """One browser tab's WebSocket: receives messages, runs them, and trains while playing."""

    def __init__(self, playground: Playground, websocket: WebSocket, session: Session):
        self.playground = playground
        self.websocket = websocket
        self.session = session
        self.trainer: asyncio.Task | None = None
        self._send_lock = asyncio.Lock()

    async def serve(self) -> None:
        await self.send(await self.playground.run(self.session.state))
        while True:
            received = await self.websocket.receive()
            if received["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(received.get("code", 1000))
            text = received.get("text")
            if text is None:
                await self.send(error_message("messages must be JSON text, not binary data"))
                continue
            try:
                message = parse_message(text)
            except ProtocolError as error:
                await self.send(error_message(str(error), error.request))
                continue
            except Exception as error:  # a bug in the checks: say so, keep the tab
                traceback.print_exc()
                await self.send(error_message(f"internal error while reading a message: {error!r} (a bug in gradwalk)"))
                continue
            await self.answer(message)

    async def answer(self, message: dict) -> None:
        if message["type"] == "pause":
            self.session.playing = False  # at once: no slice of training may start after a pause
        try:
            replies = await self.playground.draw(await self.playground.finish(self.session.work(message)))
        except Exception as error:  # a bug in gradwalk: report it, keep the server and the tab alive
            traceback.print_exc()
            replies = [error_message(f"internal error while handling {message['type']!r}: {error!r} "
                                     f"(a bug in gradwalk; the server keeps running)", message["type"])]
        for reply in replies:
            await self.send(reply)
        if self.session.playing and (self.trainer is None or self.trainer.done()):
            self.trainer = asyncio.create_task(self.train())

    async def train(self) -> None:
        """Slices of training, each followed by a frame, until paused (or the tab goes away).
        The next slice is queued before this one's frame is sent, so the engine never waits
        for the network."""
        next_slice = self.playground.submit(self.session.train_for, TRAIN_SLICE)
        while next_slice is not None:
            try:
                replies = await next_slice
            except Exception as error:
                traceback.print_exc()
                self.session.playing = False
                replies = [error_message(f"internal error while training: {error!r} (a bug in gradwalk)", "play")]
            next_slice = self.playground.submit(self.session.train_for, TRAIN_SLICE) if self.session.playing else None
            try:
                for reply in replies:
                    await self.send(reply)
            except BaseException:
                if next_slice is not None:
                    next_slice.cancel()  # not started yet: dropped; started: it finishes, unseen
                raise

    async def send(self, message: dict) -> None:
        # ensure_ascii=False: a step's text is full of ∂ and →, 3 bytes each in UTF-8, 6 escaped.
        text = json.dumps(message, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
        async with self._send_lock:
            await self.websocket.send_text(text)

    async def stop(self) -> None:
        """The tab went away: stop its training now and let its session be freed."""
        self.session.playing = False
        if self.trainer is not None:
            self.trainer.cancel()
            try:
                await self.trainer
            except (asyncio.CancelledError, Exception):
                pass
            self.trainer = None


async def _tab_socket(websocket: WebSocket) -> None:
    playground: Playground = websocket.app.state.playground
    await websocket.accept()
    # The check and the count are one step, with no await between them: tabs connecting at once
    # are admitted one by one, though their sessions are built later.
    if playground.seats >= playground.max_tabs:
        await websocket.send_text(json.dumps(error_message(
            f"the playground already serves {playground.max_tabs} tabs, its limit: close one and reload this page")))
        await websocket.close(code=1013)
        return
    playground.seats += 1
    tab = None
    try:
        # Even building a tab's first network is engine work: it belongs on the worker thread.
        tab = Tab(playground, websocket, await playground.run(Session, playground.start))
        playground.tabs.add(tab)
        await tab.serve()
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the tab closed (RuntimeError/OSError: it closed while we were sending)
    finally:
        playground.seats -= 1
        if tab is not None:
            playground.tabs.discard(tab)
            await tab.stop()


async def _index(request):
    return FileResponse(STATIC / "index.html", headers=_SECURITY_HEADERS)


_SECURITY_HEADERS = {
    # Everything the page needs comes from this server; nothing may frame it.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(model=None, X=None, y=None, *, save_dir=None, max_tabs: int = MAX_TABS,
               layout_seconds: float = LAYOUT_SECONDS) -> Starlette:
    """The playground as an ASGI app (serve it with uvicorn, or test it with Starlette's TestClient).

    `model` (an `nn.MLP` with 2 inputs and 1 output) and `X`, `y` (2-D points and 0/1 labels) are
    what every new tab starts from; `save_dir` is the folder "save model" writes into (None: saving
    is off); `layout_seconds` bounds Graphviz's time per drawing. Raises ValueError when the
    model or data do not fit the playground's limits.
    """
    playground = Playground(Start(model, X, y, save_dir), max_tabs, layout_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        playground.close()

    app = Starlette(
        routes=[
            Route("/", _index),
            WebSocketRoute("/ws", _tab_socket),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(LocalOnly)],
        lifespan=lifespan,
    )
    app.state.playground = playground
    return app


# -- running it -------------------------------------------------------------------------------------


class PlaygroundServer:
    """A running playground: its `url`; `stop()` shuts it down, `wait()` until it stops."""

    def __init__(self, app, port: int = 0):
        self.socket = _bind_local(port)
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        # No per-message compression: on the loopback it only costs time, on every frame.
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3, ws_max_size=1 << 16,
                                ws_per_message_deflate=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = None

    @property
    def started(self) -> bool:
        """True once the server accepts connections."""
        return self._server.started

    def run(self) -> None:
        """Serve in this thread until stopped (Ctrl-C when this is the main thread)."""
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self.socket.close()

    def start(self) -> "PlaygroundServer":
        """Serve on a background thread; returns once the server answers."""
        self._thread = threading.Thread(target=self.run, name="gradwalk-playground", daemon=True)
        self._thread.start()
        while not self.started:
            if not self._thread.is_alive():
                raise RuntimeError("the playground server failed to start (see the messages above)")
            self._thread.join(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()


def _bind_local(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:port (port 0: a free one), or a one-line OSError."""
    if type(port) is not int or not 0 <= port <= 65535:
        raise ValueError(f"port must be an int from 0 to 65535, got {port!r}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as error:
        sock.close()
        raise OSError(f"cannot listen on 127.0.0.1:{port}: {error.strerror or error}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def open_playground(model=None, X=None, y=None, *, port: int = 0, open_browser: bool = True, save_dir=None,
                    block: bool = True):
    """See `nn.playground.open_playground`."""
    server = PlaygroundServer(create_app(model, X, y, save_dir=save_dir), port)
    print(f"gradwalk playground: {server.url}" + ("  (Ctrl-C stops it)" if block else ""), flush=True)
    if not block:
        server.start()
        if open_browser:
            webbrowser.open(server.url)
        return server
    if open_browser:
        threading.Thread(target=_open_when_ready, args=(server,), daemon=True).start()
    server.run()
    return None


def _open_when_ready(server: PlaygroundServer) -> None:
    for _ in range(500):  # up to 10 s
        if server.started:
            webbrowser.open(server.url)
            return
        time.sleep(0.02)
