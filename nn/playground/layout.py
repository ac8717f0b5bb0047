"""Graphviz's layout of a drawing, with a time limit.

`dot`'s layout time has no bound of its own: a formula within every limit (`x+x+...+x`, 90
terms) kept it busy for over a minute. So `dot` runs as a process of its own that is killed
after `LAYOUT_SECONDS`, and the server runs it on threads of its own (`Layouts`), never on the
engine's thread: a slow layout delays only the tab that asked for it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading

LAYOUT_SECONDS = 5.0
"""How long `dot` may take to lay out one drawing."""


class LayoutError(RuntimeError):
    """The drawing could not be laid out; the message is one line for the page."""


class Layouts:
    """The `dot` processes running now, so that shutting down can kill them at once."""

    def __init__(self, seconds: float = LAYOUT_SECONDS):
        self.seconds = seconds
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._closed = False

    def svg(self, source: str) -> str:
        """The SVG for the DOT text `source`, or LayoutError saying why there is none."""
        dot = shutil.which("dot")
        if dot is None:
            raise LayoutError("Graphviz's `dot` program is not installed, so graphs cannot be drawn "
                              "(apt-get install graphviz)")
        try:
            process = subprocess.Popen([dot, "-Tsvg"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE)
        except OSError as error:
            raise LayoutError(f"Graphviz's `dot` could not be started: {error.strerror or error}") from None
        with self._lock:
            if self._closed:
                process.kill()
            self._running.add(process)
        try:
            out, err = process.communicate(source.encode("utf-8"), timeout=self.seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise LayoutError(f"the graph is too large to lay out in {self.seconds:g} s") from None
        finally:
            with self._lock:
                self._running.discard(process)
        if process.returncode != 0:
            raise LayoutError(f"Graphviz's `dot` failed ({_exit_text(process.returncode)}): {_first_line(err)}")
        return slim(out.decode("utf-8"))

    def close(self) -> None:
        """Kill every `dot` still running, and any started from now on."""
        with self._lock:
            self._closed = True
            for process in self._running:
                process.kill()


_COMMENT_OR_TITLE = re.compile(r"<!--.*?-->\n?|<title>[^<]*</title>\n?", re.S)
_GEOMETRY = re.compile(r' (d|points|x|y|width|height|viewBox|transform)="([^"]*)"')
_DECIMAL = re.compile(r"-?\d+\.\d+")


def slim(svg: str) -> str:
    """Graphviz's SVG without what the page never reads: comments, each box's and edge's
    <title> (its DOT id, shown as a tooltip) and the decimals of every coordinate (the page
    shows a big drawing at 60%, where a point is less than a pixel). A network's drawing is
    mostly edges, and this makes it about a third smaller; ids, classes and texts stay."""
    svg = _COMMENT_OR_TITLE.sub("", svg)

    def whole(number):
        return str(round(float(number.group(0))))

    return _GEOMETRY.sub(lambda m: " " + m.group(1) + '="' + _DECIMAL.sub(whole, m.group(2)) + '"', svg)


def _exit_text(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


def _first_line(err: bytes) -> str:
    lines = err.decode("utf-8", "replace").strip().splitlines()
    text = lines[0] if lines else "no message"
    return text if len(text) <= 160 else text[:157] + "..."
