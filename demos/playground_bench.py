"""How fast is the playground? Its three speed targets, measured on a real server over WebSockets.

  1. Training steps per second with live frames: moons, MLP 2-16-16-1, 100 points (full batch,
     and batches of 10). A playing tab trains for a slice of time, then sends a frame (loss,
     accuracy, weights, and a fresh decision-boundary map), and so on.
  2. Decision-boundary frames per second: every frame in 1 carries a new 64 x 64 map; also the
     map alone, computed in this process.
  3. The expression sandbox: a 30-node formula edited, answered and (with --browser) drawn in the
     page. Two kinds of edit: a slider moved (same graph, new numbers) and a new formula text
     (Graphviz lays the graph out anew).

Run (needs the `playground` extra; --browser and --screenshot need Playwright and Chromium):
    python demos/playground_bench.py                    # 1, 2, 3 over the socket (about 40 s)
    python demos/playground_bench.py --seconds 5        # shorter training runs
    python demos/playground_bench.py --browser          # 3 also measured in a headless Chromium
    python demos/playground_bench.py --screenshot FILE  # the README's screenshot of the Train view
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from engine import topological_order  # noqa: E402
from nn.playground import adapters, boundary  # noqa: E402
from nn.playground.session import Session  # noqa: E402

FORMULA = "tanh(x*w1 + b1)*v1 + tanh(x*w2 + b2)*v2 + tanh(x*w3 + b3)*v3 + sigmoid(x*w4 + b4)*v4"
CONFIG = {"type": "config", "hidden": [16, 16], "activation": "relu", "loss": "hinge", "optimizer": "momentum",
          "lr": 0.1, "batch_size": None, "l2": 1e-4, "seed": 0}
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


async def training_run(url: str, origin: str, batch_size, seconds: float) -> dict:
    """Play one tab for `seconds`; steps and frames per second, from the frames the page gets."""
    import websockets

    async with websockets.connect(url, origin=origin, max_size=None) as ws:
        json.loads(await ws.recv())
        await ws.send(json.dumps(dict(CONFIG, batch_size=batch_size)))
        while json.loads(await ws.recv())["type"] != "state":
            pass
        await ws.send('{"type": "play"}')
        frames = []
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            message = json.loads(await ws.recv())
            if message["type"] == "update":
                frames.append((time.perf_counter(), message["steps"], len(message["boundary"]["values"])))
        await ws.send('{"type": "pause"}')
    (t0, s0, _), (t1, s1, _) = frames[0], frames[-1]
    return {"steps_per_s": (s1 - s0) / (t1 - t0), "frames_per_s": (len(frames) - 1) / (t1 - t0),
            "map_pixels": frames[-1][2], "steps": s1}


async def sandbox_round_trips(url: str, origin: str, repeats: int = 20) -> dict:
    """Median ms from sending a formula edit to having the answer: same graph, and a new one."""
    import websockets

    names = ["x", "w1", "b1", "v1", "w2", "b2", "v2", "w3", "b3", "v3", "w4", "b4", "v4"]
    values = {name: 0.5 for name in names}
    async with websockets.connect(url, origin=origin, max_size=None) as ws:
        json.loads(await ws.recv())

        async def edit(text, x):
            sent = time.perf_counter()
            await ws.send(json.dumps({"type": "formula", "text": text, "values": dict(values, x=x),
                                      "plot": "x", "range": [-4, 4]}))
            while True:
                reply = json.loads(await ws.recv())
                if reply["type"] in ("formula", "error"):
                    assert reply["type"] == "formula", reply
                    return (time.perf_counter() - sent) * 1000, reply

        await edit(FORMULA, 0.0)
        slider = [(await edit(FORMULA, 0.1 * i))[0] for i in range(repeats)]
        fresh = []
        other = FORMULA.replace("sigmoid", "tanh")  # same size, another graph
        for i in range(repeats):  # alternating two formulas: each edit lays the drawing out again
            ms, reply = await edit(other if i % 2 == 0 else FORMULA, 0.3)
            assert reply["svg"], "expected a new drawing"
            fresh.append(ms)
    return {"slider_ms": statistics.median(slider), "new_formula_ms": statistics.median(fresh)}


def browser_sandbox(url: str, repeats: int = 20) -> dict:
    """In a headless Chromium: ms from a slider's input event to the page showing the new grads."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.click("#tab-sandbox")
        page.fill("#formula", FORMULA)
        page.press("#formula", "Enter")
        page.wait_for_function("() => document.querySelectorAll('#sandbox-vars label').length === 13")
        page.wait_for_timeout(500)
        times = []
        for i in range(repeats):
            times.append(page.evaluate("""(value) => new Promise((resolve) => {
                const grads = document.getElementById('sandbox-grads');
                const slider = document.querySelector('label[data-var=x] input[type=range]');
                const before = grads.textContent;
                const start = performance.now();
                const observer = new MutationObserver(() => {
                    if (grads.textContent !== before) {
                        observer.disconnect();
                        requestAnimationFrame(() => resolve(performance.now() - start));  // painted
                    }
                });
                observer.observe(grads, { childList: true, characterData: true, subtree: true });
                slider.value = value;
                slider.dispatchEvent(new Event('input'));
            })""", -2 + 0.2 * i))
        browser.close()
    return {"browser_slider_ms": statistics.median(times)}


def screenshot(url: str, path: Path) -> None:
    """The Train view after 150 steps, for the README (a small palette PNG)."""
    from PIL import Image
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(url)
        page.wait_for_function("() => document.getElementById('connection').textContent === 'connected'")
        page.click("#play")
        page.wait_for_function("() => Number(document.getElementById('stat-step').textContent) >= 150", timeout=120_000)
        page.click("#play")
        page.wait_for_timeout(300)
        png = page.screenshot()
        browser.close()
    import io

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    image.save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def in_process() -> dict:
    """The pieces without the server: one training step, one 64 x 64 map, one frame."""
    session = Session()
    session.handle(dict(CONFIG))
    for _ in range(3):
        session._step()
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < 3.0:
        session._step()
        n += 1
    step_ms = (time.perf_counter() - start) / n * 1000
    boundary.boundary_map(session.model, session.bounds, 0.0, 1.0)
    start = time.perf_counter()
    for _ in range(30):
        boundary.boundary_map(session.model, session.bounds, 0.0, 1.0)
    map_ms = (time.perf_counter() - start) / 30 * 1000
    start = time.perf_counter()
    for _ in range(30):
        session._snapshot()
    frame_ms = (time.perf_counter() - start) / 30 * 1000
    return {"step_ms": step_ms, "map_ms": map_ms, "frame_ms": frame_ms}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each training run (default 10)")
    parser.add_argument("--browser", action="store_true", help="also time the sandbox in a headless Chromium")
    parser.add_argument("--screenshot", type=Path, metavar="FILE.png", help="write the README's screenshot and stop")
    args = parser.parse_args(argv)

    # The server runs in a process of its own, as it does for a learner (the browser is another).
    server = subprocess.Popen([sys.executable, "-m", "nn.playground", "--no-browser"], stdout=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parent.parent)
    page_url = re.search(r"http://127\.0\.0\.1:\d+/", server.stdout.readline()).group(0)
    port = int(page_url.rstrip("/").rsplit(":", 1)[1])
    url, origin = f"ws://127.0.0.1:{port}/ws", f"http://127.0.0.1:{port}"
    try:
        if args.screenshot:
            screenshot(page_url, args.screenshot)
            return 0
        formula = adapters.parse_formula(FORMULA)
        out, _ = adapters.evaluate_formula(formula, {name: 0.5 for name in formula.variables})
        nodes = len(topological_order(out))
        print(f"numpy {'yes: the map is replayed from a tape' if boundary.numpy else 'no: the map goes through the engine'}")
        pieces = in_process()
        print(f"in this process: training step {pieces['step_ms']:.1f} ms, "
              f"{boundary.GRID}x{boundary.GRID} map {pieces['map_ms']:.1f} ms, whole frame {pieces['frame_ms']:.1f} ms")
        print()
        print("| target | measured | goal |")
        print("| --- | ---: | ---: |")
        for batch in (None, 10):
            run = asyncio.run(training_run(url, origin, batch, args.seconds))
            label = "full batch (100)" if batch is None else f"batches of {batch}"
            print(f"| training steps/s with frames, moons 2-16-16-1, {label} | {run['steps_per_s']:.1f} | >= 20 |")
            print(f"| boundary frames/s ({boundary.GRID}x{boundary.GRID} map each), {label} | {run['frames_per_s']:.1f} | >= 5 |")
        print(f"| boundary map alone, frames/s | {1000 / pieces['map_ms']:.0f} | >= 5 |")
        sandbox = asyncio.run(sandbox_round_trips(url, origin))
        print(f"| sandbox, {nodes}-node formula: slider moved, answer (ms) | {sandbox['slider_ms']:.0f} | < 200 |")
        print(f"| sandbox, {nodes}-node formula: new text, laid out and answered (ms) | {sandbox['new_formula_ms']:.0f} | < 200 |")
        if args.browser:
            page = browser_sandbox(page_url)
            print(f"| sandbox in Chromium: slider input to new grads painted (ms) | {page['browser_slider_ms']:.0f} | < 200 |")
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
