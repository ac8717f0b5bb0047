"""Who may talk to the playground: pages opened on this machine, from this server.

A request whose Host header is not 127.0.0.1, localhost or [::1] is refused (a foreign name
pointing at 127.0.0.1 is DNS rebinding), and so is a WebSocket whose Origin is not this server.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def host_problem(host) -> str | None:
    """Why a request with this Host header is refused, or None when it names this machine."""
    name = _host_name(host)
    if name is not None and name.lower() in LOCAL_HOSTS:
        return None
    return (f"refused: the Host header {_quoted(host)} is not 127.0.0.1, localhost or [::1]; the playground "
            f"only answers pages opened on this machine (a foreign name here suggests DNS rebinding)")


def origin_problem(origin, host) -> str | None:
    """Why a WebSocket from this Origin is refused, or None when it is this server's own page.

    A missing Origin is allowed: browsers always send one, so a request without it comes from a
    program on this machine, which could run anything anyway.
    """
    if origin is None:
        return None
    try:
        parts = urlsplit(origin) if origin != "null" else None
        hostname = parts.hostname if parts is not None else None
    except ValueError:  # not a URL at all, such as "http://[::1" (an unclosed bracket)
        parts = None
    same = (parts is not None and parts.scheme == "http" and hostname in LOCAL_HOSTS
            and _port_of(parts.netloc) == _port_of(host or ""))
    if same:
        return None
    return (f"refused: a WebSocket from Origin {_quoted(origin)}; only the playground's own page "
            f"(http://127.0.0.1 on this port) may connect")


def _host_name(host) -> str | None:
    if not host:
        return None
    if host.startswith("["):  # [::1]:8000
        return host[1:host.index("]")] if "]" in host else None
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _port_of(netloc: str):
    tail = netloc.rsplit("]", 1)[-1]
    return tail.rsplit(":", 1)[1] if ":" in tail else "80"


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
