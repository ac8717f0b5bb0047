"""The animated backprop player: frame data, side effects, guards, and a real headless browser."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from engine import GraphTooLargeError, Value, animate_backward, backward
from engine.draw import GraphvizNotFoundError
from engine.graph import topological_order

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")


def neuron():
    x, w, b = Value(2.0, "x"), Value(-3.0, "w", param=True), Value(6.8813735870195432, "b", param=True)
    n = x * w + b
    n.label = "n"
    out = (n.tanh() * n + x).tanh()  # n and x are used twice: gradients accumulate
    out.label = "o"
    return out, x, w, b


def frames_of(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="gw-data">(.*?)</script>', html, re.S)
    assert match, "frame data missing"
    return json.loads(match.group(1))


@needs_dot
def test_animating_changes_no_gradient(tmp_path):
    out, x, w, b = neuron()
    x.grad = 0.25  # whatever the graph held before, it holds after
    before = [n.grad for n in topological_order(out)]
    animate_backward(out, tmp_path / "p.html")
    assert [n.grad for n in topological_order(out)] == before


@needs_dot
def test_after_an_earlier_backward_the_frames_show_this_pass_only(tmp_path):
    # README's order: backward() first, then the player. The frames must show one pass's
    # gradients from pending/0, not the leaves' old values plus the new ones.
    ref, rx, rw, rb = neuron()
    ref_frames = frames_of(animate_backward(ref, tmp_path / "ref.html").read_text(encoding="utf-8"))["frames"]

    out, x, w, b = neuron()
    out.backward()
    once = [n.grad for n in topological_order(out)]
    frames = frames_of(animate_backward(out, tmp_path / "p.html").read_text(encoding="utf-8"))["frames"]
    assert set(frames[0]["state"]) == {"p"} and all(g == "grad ?" for g in frames[0]["grads"])
    assert [f["grads"] for f in frames] == [f["grads"] for f in ref_frames]
    assert [f["text"] for f in frames] == [f["text"] for f in ref_frames]
    assert [n.grad for n in topological_order(out)] == once  # still one pass, not two
    assert frames[-1]["grads"][0] == f"grad {x.grad:.4g}"


@needs_dot
def test_a_leaf_root(tmp_path):
    x = Value(3.0, "x")
    x.grad = 0.5
    frames = frames_of(animate_backward(x, tmp_path / "p.html").read_text(encoding="utf-8"))["frames"]
    assert len(frames) == 1 and "dx/dx = 1" in frames[0]["text"]
    assert x.grad == 0.5


@needs_dot
def test_frames_follow_backward_steps(tmp_path):
    out, x, w, b = neuron()
    html = animate_backward(out, tmp_path / "p.html").read_text(encoding="utf-8")
    data = frames_of(html)
    frames = data["frames"]
    ref, *_ = neuron()
    steps = list(ref.backward_steps())
    assert len(frames) == len(steps) + 1
    assert data["nodes"] == len(topological_order(out))
    # Frame 0: before backward, everything pending and nothing highlighted.
    assert frames[0]["current"] == -1
    assert set(frames[0]["state"]) == {"p"}
    assert all(g == "grad ?" for g in frames[0]["grads"])
    # Each later frame highlights the step's node and carries its chain-rule text.
    order = topological_order(ref)
    for frame, step in zip(frames[1:], steps):
        k = order.index(step.node)
        assert frame["current"] == k
        assert frame["op"] == f"o{k}"
        assert str(step) in frame["text"]
        assert f"Step {step.index} / {step.total}" in frame["text"]
        assert set(frame["edges"]) == {f"e{k}"} | {f"e{k}_{i}" for i in range(len(step.node.parents))}
    # Pending gradients only ever become known, never the other way round; the last frame is final.
    for before, after in zip(frames, frames[1:]):
        for s0, s1 in zip(before["state"], after["state"]):
            assert not (s0 != "p" and s1 == "p")
    assert set(frames[-1]["state"]) == {"d"}
    # n is used twice: after its first contribution it is accumulating, not final.
    n_k = next(k for k, node in enumerate(order) if node.label == "n")
    assert "a" in [f["state"][n_k] for f in frames]
    # Every edge/op/node id the frames refer to exists in the inline SVG.
    for frame in frames[1:]:
        for element_id in [frame["op"], f"v{frame['current']}", *frame["edges"]]:
            assert f'id="{element_id}"' in html


@needs_dot
def test_page_is_self_contained_and_deterministic(tmp_path):
    out, *_ = neuron()
    first = animate_backward(out, tmp_path / "a.html").read_bytes()
    out2, *_ = neuron()
    second = animate_backward(out2, tmp_path / "b.html").read_bytes()
    assert first == second
    html = first.decode("utf-8")
    assert "<script src" not in html and "<link" not in html and "@import" not in html
    # The only URLs are XML namespace names, which browsers never fetch.
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    for element_id in ["gw-counter", "gw-text", "gw-prev", "gw-next", "gw-play", "gw-graph"]:
        assert f'id="{element_id}"' in html


@needs_dot
def test_hostile_labels_cannot_break_out_of_the_page(tmp_path):
    x = Value(1.5, "</script><script>alert(1)</script>")
    y = Value(-2.0, "<!-- & ]]>")
    out = (x * y).tanh()
    out.label = "</pre>"
    html = animate_backward(out, tmp_path / "p.html").read_text(encoding="utf-8")
    assert "alert(1)</script>" not in html
    assert html.count("</script>") == 2  # the JSON block and the player script, nothing more
    data = frames_of(html)
    assert any("</script><script>alert(1)</script>" in f["text"] for f in data["frames"])


def test_size_guard_refuses_before_touching_gradients(tmp_path):
    x = Value(0.5, "x")
    out = x
    for _ in range(300):
        out = out * 1.001 + x
    with pytest.raises(GraphTooLargeError, match="max_cells"):
        animate_backward(out, tmp_path / "p.html")
    assert all(n.grad == 0.0 for n in topological_order(out))
    assert not (tmp_path / "p.html").exists()


def test_bad_options(tmp_path):
    out, *_ = neuron()
    with pytest.raises(TypeError, match="collapse"):
        animate_backward(out, tmp_path / "p.html", collapse="neuron")
    with pytest.raises(ValueError, match=".html"):
        animate_backward(out, tmp_path / "p.svg")
    assert out.grad == 0.0


def test_missing_graphviz_is_explained_before_backward(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot` anywhere
    out, *_ = neuron()
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        animate_backward(out, tmp_path / "p.html")
    assert out.grad == 0.0


# -- the real thing, in headless Chromium ---------------------------------------------------------


def find_chromium():
    for name in (os.environ.get("GRADWALK_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class DevTools:
    """A minimal Chrome DevTools Protocol client over `--remote-debugging-pipe` (fds 3 and 4):
    no websocket library and no chromedriver needed, and the events it sends are real, trusted
    input events."""

    def __init__(self, executable: str, profile: Path):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_fds():  # runs in the child: Chrome reads commands on fd 3, writes replies on fd 4
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.process = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                "--window-size=1100,700",
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=wire_fds,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events = []
        self.session = None

    def send(self, method: str, params=None, *, session=True, timeout=20.0):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_chrome], [], [], max(0.0, left))
            if not ready:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def open_page(self, url: str) -> None:
        targets = self.send("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        self.send("Page.enable")
        # A fixed viewport, whatever the window manager of a headless browser makes of --window-size.
        self.send("Emulation.setDeviceMetricsOverride", {"width": 1100, "height": 700, "deviceScaleFactor": 1, "mobile": False})
        self.send("Page.navigate", {"url": url})
        for _ in range(200):
            if self.js("document.readyState") == "complete" and self.js("!!document.getElementById('gw-counter')"):
                return
            time.sleep(0.05)
        raise TimeoutError(f"{url} did not load")

    def js(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def key(self, key: str, code: str, keycode: int, text: str | None = None) -> None:
        down = {"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": keycode}
        if text:
            down["text"] = text
        self.send("Input.dispatchKeyEvent", down)
        self.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": keycode})

    def click(self, element_id: str) -> None:
        x, y = self.js(
            f"(function(){{var r=document.getElementById({json.dumps(element_id)}).getBoundingClientRect();"
            f"return [r.left + r.width / 2, r.top + r.height / 2];}})()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def screenshot(self) -> bytes:
        return base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False, timeout=5)
        except Exception:  # already gone: the kill below is the fallback either way
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


def png_pixels(png: bytes):
    """(width, height, rows of RGB tuples) of an 8-bit RGB/RGBA PNG, decoded with zlib only."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        body = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), (depth, color)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):  # undo the PNG row filter
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[i : i + 3]) for i in range(0, stride, channels)])
        previous = line
    return width, height, rows


@needs_dot
def test_player_in_headless_chromium(tmp_path):
    executable = find_chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but Chromium is not installed: the browser test must run in CI (apt-get install chromium)")
        pytest.skip("Chromium is not installed; the browser test runs in CI")
    out, *_ = neuron()
    page = animate_backward(out, tmp_path / "player.html", color_by_grad=True)
    total = len(frames_of(page.read_text(encoding="utf-8"))["frames"]) - 1

    browser = DevTools(executable, tmp_path / "profile")
    try:
        browser.open_page(page.resolve().as_uri())
        counter = "document.getElementById('gw-counter').textContent"
        current = "document.getElementById('gw-graph').getAttribute('data-current')"
        highlighted = "Array.from(document.querySelectorAll('g.gw-current')).map(function(g){return g.id})"
        assert browser.js(counter) == f"Step 0 / {total}"
        assert browser.js(highlighted) == []
        assert browser.js("document.querySelectorAll('text.gw-grad-p').length") == len(topological_order(out))

        seen = []
        for k in range(1, 4):  # real key presses
            browser.key("ArrowRight", "ArrowRight", 39)
            assert browser.js(counter) == f"Step {k} / {total}"
            assert browser.js(highlighted) == [browser.js(current)]
            seen.append(browser.js(current))
        assert seen[0] == f"v{len(topological_order(out)) - 1}"  # backprop starts at the output
        assert len(set(seen)) == 3  # a different node each step
        browser.click("gw-next")  # a real mouse click
        assert browser.js(counter) == f"Step 4 / {total}"
        browser.key("ArrowLeft", "ArrowLeft", 37)
        assert browser.js(counter) == f"Step 3 / {total}"
        assert browser.js(current) == seen[2]
        assert browser.js("document.querySelectorAll('g.gw-edge-active').length") >= 2
        assert "d" in browser.js("document.getElementById('gw-text').textContent")
        # The output's gradient is known from step 1 on; some inputs are still pending at step 3.
        assert browser.js("document.querySelector('#v%d text:last-of-type').textContent" % (len(topological_order(out)) - 1)) == "grad 1"
        assert browser.js("document.querySelectorAll('text.gw-grad-p').length") > 0

        png = browser.screenshot()
        (tmp_path / "player.png").write_bytes(png)
        width, height, rows = png_pixels(png)
        assert (width, height) == (1100, 700)
        colours = {px for row in rows[::4] for px in row[::4]}
        assert len(colours) > 50, "screenshot looks blank"
        orange = sum(1 for row in rows for (r, g, b) in row if r > 220 and 70 < g < 150 and b < 60)
        assert orange > 100, "the highlighted node/edges are not visible in the screenshot"

        browser.key("End", "End", 35)
        assert browser.js(counter) == f"Step {total} / {total}"
        assert browser.js("document.querySelectorAll('text.gw-grad-p').length") == 0
    finally:
        browser.close()
    if os.environ.get("GRADWALK_KEEP_SCREENSHOT"):
        shutil.copy(tmp_path / "player.png", os.environ["GRADWALK_KEEP_SCREENSHOT"])
