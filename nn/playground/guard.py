"""Who may talk to the playground: pages opened on this machine, from this server.

A request whose Host header is not 127.0.0.1, localhost or [::1] is refused (a foreign name
pointing at 127.0.0.1 is DNS rebinding), and so is a WebSocket whose Origin is not this server.
"""

from __future__ import annotations

import re
import sys

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse

# A Host header naming this machine, and nothing else: a name, then at most a port.
_LOCAL_HOST = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\])(?::(\d{1,5}))?\Z", re.IGNORECASE)
# The Origin of a page served from this machine: http, a local name and at most a port.
_LOCAL_ORIGIN = re.compile(r"http://(?:127\.0\.0\.1|localhost|\[::1\])(?::(\d{1,5}))?\Z", re.IGNORECASE)


def host_problem(host) -> str | None:
    """Why a request with this Host header is refused, or None when it names this machine."""
    if host and _LOCAL_HOST.match(host):
        return None
    return (f"refused: the Host header {_quoted(host)} is not 127.0.0.1, localhost or [::1]; the playground "
            f"only answers pages opened on this machine (a foreign name here suggests DNS rebinding)")


def origin_problem(origin, host) -> str | None:
    """Why a WebSocket from this Origin is refused, or None when it is this server's own page:
    http on 127.0.0.1, localhost or [::1], on the port the Host header names. The Origin is
    matched as a whole, never taken apart by a URL parser (which raises on "http://[::1" and
    reads "http://[::1]]:8765" as local).

    A missing Origin is allowed: browsers always send one, so a request without it comes from a
    program on this machine, which could run anything anyway.
    """
    if origin is None:
        return None
    page = _LOCAL_ORIGIN.match(origin)
    server = _LOCAL_HOST.match(host or "")
    if page and server and (page.group(1) or "80") == (server.group(1) or "80"):
        return None
    return (f"refused: a WebSocket from Origin {_quoted(origin)}; only the playground's own page "
            f"(http://127.0.0.1 on this port) may connect")


def _quoted(text) -> str:
    text = str(text)
    return repr(text if len(text) <= 80 else text[:77] + "...")


class LocalOnly:
    """ASGI middleware: refuse foreign Host headers, and WebSockets from a foreign Origin."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        problem = host_problem(headers.get("host"))
        if problem is None and scope["type"] == "websocket":
            problem = origin_problem(headers.get("origin"), headers.get("host"))
        if problem is None:
            return await self.app(scope, receive, send)
        print(f"gradwalk playground: {problem}", file=sys.stderr)
        if scope["type"] == "http" or "websocket.http.response" in scope.get("extensions", {}):
            await PlainTextResponse(problem, status_code=403)(scope, receive, send)
        else:  # a server without the denial-response extension: close before accepting
            await receive()
            await send({"type": "websocket.close", "code": 1008, "reason": problem[:120]})
