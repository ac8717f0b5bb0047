"""Live training in a notebook cell: `TrainView(model, X, y)`.

    >>> from nn import MLP, make_moons
    >>> X, y = make_moons(40, seed=0)
    >>> view = TrainView(MLP(2, [8, 1], seed=0), X, y, max_steps=5)
    >>> view.step(5).steps
    5

Training runs in a background thread, so the cell stays responsive: `play()` starts it,
`pause()` holds it, `step(n)` takes n steps by hand and `stop()` ends the thread. Displayed in a
notebook (the last line of a cell), the view is a widget (the optional `notebook` extra,
anywidget) that shows the decision boundary, the loss and accuracy curves and the network's
weights, and updates while training runs, with play / pause / step buttons. Without anywidget,
the view still trains, and shows as text.

The model is shared with the training thread: pause (or stop) before using it in another cell.

`fit(..., live=True)` shows this view while fit trains (fed by fit after every epoch, no buttons:
the cell is fit's until it returns). It needs the extra and a notebook kernel (Jupyter, VS Code,
Colab); anywhere else it raises RuntimeError before training, rather than draw nothing.
"""

from __future__ import annotations

import functools
import math
import threading
import time

from nn.optim import SGD
from nn.prediction import class_labels, default_threshold, predicted_class
from nn.train import live_views, train_step

__all__ = ["TrainView"]

FRAME_SECONDS = 1 / 30
"""Least time between two pictures sent to the page while training runs (at most 30 a second)."""


class TrainView:
    """Train `model` on 2-D points `(X, y)` with `nn.train_step` (full batch), live in a cell.

    Attributes: `steps` taken, `losses` and `accuracies` (one per step, measured before that
    step's update), `state` ("paused", "running", "finished" after `max_steps`, or "failed" with
    the reason in `error`), and `frames`: how many pictures the page was sent.
    """

    def __init__(self, model, X, y, *, loss="hinge", optimizer=None, max_steps: int = 500, replay=None):
        X, y = [list(x) for x in X], list(y)
        if not X or len(X) != len(y):
            raise ValueError(f"TrainView needs as many labels as points, got {len(X)} points and {len(y)} labels")
        if any(len(x) != 2 for x in X):
            raise ValueError("TrainView draws the plane: every point needs 2 coordinates, "
                             f"got {next(len(x) for x in X if len(x) != 2)}")
        self.classes = class_labels(y)
        if self.classes is None:
            raise ValueError("TrainView needs class labels (0/1 or -1/+1), to draw who is on which side")
        if type(max_steps) is not int or max_steps < 1:
            raise ValueError(f"max_steps must be an int >= 1, got {max_steps!r}")
        self.model, self.X, self.y, self.loss, self.max_steps = model, X, y, loss, max_steps
        self.optimizer = optimizer if optimizer is not None else SGD(model.parameters(), lr=0.1)
        self.tape = _tape(model, X[0]) if replay is not False else None
        if replay and self.tape is None:
            raise ImportError("replay=True needs numpy: pip install 'gradwalk[fast]'")
        self.threshold = default_threshold(model)
        self.steps, self.losses, self.accuracies, self.frames = 0, [], [], 0
        self.state, self.error, self.unit = "paused", "", "step"  # unit: what the page counts
        self._lock = threading.Lock()  # held while the model changes
        self._running = threading.Event()
        self._quit = threading.Event()
        self._thread = None
        self._widget = None
        self._last_frame = 0.0
        self._shown = None  # (steps, state) of the last picture sent

    def __repr__(self) -> str:
        last = f", loss {self.losses[-1]:.4g}, accuracy {self.accuracies[-1]:.0%}" if self.losses else ""
        return f"<TrainView: {self.state}, {self.steps} of {self.max_steps} {self.unit}s{last}>"

    # -- controls -------------------------------------------------------------------------------

    def play(self) -> "TrainView":
        """Train in the background until `max_steps`, `pause()` or `stop()`."""
        if self.state in ("finished", "failed"):
            return self
        if self._thread is None or not self._thread.is_alive():
            self._quit.clear()
            self._thread = threading.Thread(target=self._train, name="gradwalk TrainView", daemon=True)
            self._thread.start()
        self.state = "running"
        self._running.set()
        self._publish(force=True)
        return self

    def pause(self) -> "TrainView":
        """Hold training after the step it is taking (returns once that step is done)."""
        self._running.clear()
        with self._lock:
            if self.state == "running":
                self.state = "paused"
        self._publish(force=True)
        return self

    def step(self, n: int = 1) -> "TrainView":
        """Pause, then take `n` steps here (n >= 1), and show them."""
        if type(n) is not int or n < 1:
            raise ValueError(f"step takes an int n >= 1, got {n!r}")
        self.pause()
        for _ in range(n):
            if not self._one_step():
                break
        self._publish(force=True)
        return self

    def stop(self) -> "TrainView":
        """Pause and end the background thread (`play()` starts a new one)."""
        self._quit.set()
        self.pause()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until training is no longer running (True) or `timeout` seconds pass (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        # ... and until the page was sent the last picture, so the widget agrees with the view.
        while self.state == "running" or (self._widget is not None and self._shown != (self.steps, self.state)):
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def record(self, loss: float, accuracy: float) -> None:
        """For fit(live=True), which trains by itself: show its latest epoch (the last one always)."""
        with self._lock:
            self.losses.append(loss)
            self.accuracies.append(accuracy)
            self.steps += 1
            self.state = "finished" if self.steps >= self.max_steps else self.state
        self._publish(force=self.state == "finished")

    def close(self) -> None:
        """For fit(live=True): fit is over; short of its last epoch, it failed (the cell says why)."""
        if self.state == "running":
            self.state, self.error = "failed", f"fit stopped after {self.steps} of {self.max_steps} {self.unit}s"
        self._publish(force=True)

    # -- training -------------------------------------------------------------------------------

    def _train(self) -> None:
        while not self._quit.is_set():
            if not self._running.wait(0.05):
                continue
            if self._one_step():
                self._publish(force=self.state != "running")
            else:
                self._running.clear()
                self._publish(force=True)

    def _one_step(self) -> bool:
        """One step of training; False (and nothing changed) once finished or failed."""
        with self._lock:
            if self.steps >= self.max_steps or self.state == "failed":
                if self.state != "failed":
                    self.state = "finished"
                return False
            try:
                self.accuracies.append(self._accuracy())
                self.losses.append(train_step(self.model, self.X, self.y, self.loss, self.optimizer, tape=self.tape))
            except (ArithmeticError, ValueError) as exc:  # diverged: the parameters keep their last values
                del self.accuracies[len(self.losses):]
                self.state, self.error = "failed", str(exc)
                return False
            self.steps += 1
            if self.steps >= self.max_steps:
                self.state = "finished"
            return True

    def _accuracy(self) -> float:
        outputs = self.tape.forward(self.X) if self.tape is not None else [self.model(x) for x in self.X]
        right = sum(predicted_class(o, self.threshold) == c for o, c in zip(outputs, self.classes))
        return right / len(self.X)

    # -- the page -------------------------------------------------------------------------------

    @property
    def widget(self):
        """The anywidget view of this training (made on first use; needs the `notebook` extra)."""
        if self._widget is None:
            self._widget = _widget_class()(view=self)
            self._publish(force=True)
        return self._widget

    def _repr_mimebundle_(self, include=None, exclude=None):
        try:
            widget = self.widget
        except ImportError as exc:
            return {"text/plain": f"{self!r}\n({exc})"}
        return widget._repr_mimebundle_(include=include, exclude=exclude)

    def _publish(self, force: bool = False) -> None:
        """Send the page what changed, at most every FRAME_SECONDS unless `force`."""
        widget = self._widget
        now = time.monotonic()
        if widget is None or (not force and now - self._last_frame < FRAME_SECONDS):
            return
        self._last_frame = now
        with self._lock:
            picture = _picture(self)
            shown = (self.steps, self.state)
        with widget.hold_sync():
            for name, value in picture.items():
                setattr(widget, name, value)
        self.frames += 1
        self._shown = shown


def _fit_view(model, X, y, epochs: int, threshold: float) -> TrainView:
    """fit(live=True)'s view, shown in the cell: a TrainView that fit feeds, epoch by epoch."""
    from engine.notebook import require_anywidget

    require_anywidget()
    from IPython import display, get_ipython  # anywidget brings IPython

    if getattr(get_ipython(), "kernel", None) is None:
        raise RuntimeError("fit(live=True) draws in a notebook cell, but this is not a notebook kernel; "
                           "leave live off here (progress=True shows a text bar, nn.plot_history a picture)")
    try:
        view = TrainView(model, X, y, max_steps=epochs, replay=False)
    except ValueError as exc:
        raise ValueError(f"fit(live=True) draws the training on the plane: {exc}") from None
    view.unit, view.state, view.threshold = "epoch", "running", threshold  # fit trains: no buttons
    display.display(view)
    return view


live_views["notebook"] = _fit_view


def _tape(model, example):
    try:
        from nn.replay import TapedModel

        return TapedModel(model, example)
    except ImportError:  # numpy is optional: train through the engine, slower
        return None


def _bounds(X) -> list:
    xs, ys = [p[0] for p in X], [p[1] for p in X]
    pad_x, pad_y = 0.1 * (max(xs) - min(xs) or 1.0), 0.1 * (max(ys) - min(ys) or 1.0)
    return [min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y]


def _picture(view: TrainView) -> dict:
    """Everything the page draws, from the model as it is now."""
    from nn.playground.boundary import GRID, boundary_map

    bounds = _bounds(view.X)
    finite = all(math.isfinite(p.data) for p in view.model.parameters())
    return {
        "state": view.state, "error": view.error, "steps": view.steps, "max_steps": view.max_steps, "unit": view.unit,
        "losses": list(view.losses), "accuracies": list(view.accuracies),
        "bounds": bounds, "map_size": GRID,
        "map": boundary_map(view.model, bounds, view.threshold, 2.0) if finite else [],
        "points": [[x[0], x[1], c] for x, c in zip(view.X, view.classes)],
        "weights": [[[w.data for w in neuron.w] for neuron in layer.neurons] for layer in view.model.layers]
        if hasattr(view.model, "layers") else [],
    }


@functools.cache
def _widget_class():
    """The widget class, made once anywidget is known to be there."""
    from engine.notebook import require_anywidget

    anywidget = require_anywidget()
    import traitlets

    class TrainWidget(anywidget.AnyWidget):
        _esm = _JS
        state = traitlets.Unicode("paused").tag(sync=True)
        error = traitlets.Unicode("").tag(sync=True)
        steps = traitlets.Int(0).tag(sync=True)
        max_steps = traitlets.Int(0).tag(sync=True)
        unit = traitlets.Unicode("step").tag(sync=True)
        losses = traitlets.List().tag(sync=True)
        accuracies = traitlets.List().tag(sync=True)
        bounds = traitlets.List().tag(sync=True)
        map_size = traitlets.Int(0).tag(sync=True)
        map = traitlets.List().tag(sync=True)
        points = traitlets.List().tag(sync=True)
        weights = traitlets.List().tag(sync=True)

        def __init__(self, view):
            super().__init__()
            self.view = view
            self.on_msg(self._on_message)

        def __repr__(self) -> str:
            return repr(self.view)

        def _on_message(self, _widget, content, _buffers):
            action = {"play": self.view.play, "pause": self.view.pause, "step": self.view.step}
            if isinstance(content, dict) and content.get("action") in action:
                action[content["action"]]()

    return TrainWidget


_JS = r"""
// TrainView's page: the decision map with the points, the loss and accuracy curves, and the
// network (edge colour: sign of the weight, width: its size). Buttons send actions to Python.
function render({ model, el }) {
  el.innerHTML = '<div class="gw-train" style="font-family: Helvetica, Arial, sans-serif">' +
    '<div><button data-a="play">play</button> <button data-a="pause">pause</button> ' +
    '<button data-a="step">step</button> <b class="gw-status"></b> <span class="gw-error" style="color:#c92a2a"></span></div>' +
    '<canvas class="gw-map" width="260" height="260"></canvas> <canvas class="gw-curves" width="300" height="260"></canvas> ' +
    '<canvas class="gw-net" width="300" height="260"></canvas></div>';
  el.querySelectorAll("button").forEach((b) => b.addEventListener("click", () => model.send({ action: b.dataset.a })));
  const BLUE = [28, 126, 214], RED = [240, 62, 62];
  function drawMap() {
    const c = el.querySelector(".gw-map"), g = c.getContext("2d"), n = model.get("map_size"), map = model.get("map");
    const [x0, x1, y0, y1] = model.get("bounds");
    g.clearRect(0, 0, c.width, c.height);
    if (map.length === n * n) {
      const image = g.createImageData(n, n);
      map.forEach((s, i) => {
        const rgb = s > 0 ? BLUE : RED, t = Math.abs(s) / 100 * 0.5;
        for (let k = 0; k < 3; k++) image.data[4 * i + k] = 255 - (255 - rgb[k]) * t;
        image.data[4 * i + 3] = 255;
      });
      const tmp = document.createElement("canvas");
      tmp.width = tmp.height = n;
      tmp.getContext("2d").putImageData(image, 0, 0);
      g.imageSmoothingEnabled = true;
      g.drawImage(tmp, 0, 0, c.width, c.height);
    }
    model.get("points").forEach(([x, y, k]) => {
      g.beginPath();
      g.arc((x - x0) / (x1 - x0) * c.width, (y1 - y) / (y1 - y0) * c.height, 3.5, 0, 2 * Math.PI);
      g.fillStyle = k ? "rgb(28,126,214)" : "rgb(240,62,62)";
      g.fill();
      g.strokeStyle = "white";
      g.stroke();
    });
  }
  function drawCurves() {
    const c = el.querySelector(".gw-curves"), g = c.getContext("2d");
    const losses = model.get("losses"), acc = model.get("accuracies"), n = Math.max(losses.length, 2);
    g.clearRect(0, 0, c.width, c.height);
    g.font = "12px sans-serif";
    g.fillStyle = "#495057";
    g.fillText("loss " + (losses.length ? losses[losses.length - 1].toPrecision(4) : "-") + "   accuracy " +
      (acc.length ? Math.round(100 * acc[acc.length - 1]) + "%" : "-"), 8, 14);
    const top = Math.max(...losses.filter(Number.isFinite), 1e-9);
    [[losses.map((v) => v / top), "#f76707"], [acc, "#2b8a3e"]].forEach(([ys, colour]) => {
      g.beginPath();
      ys.forEach((v, i) => {
        const x = 8 + i / (n - 1) * (c.width - 16), y = c.height - 8 - v * (c.height - 32);
        i ? g.lineTo(x, y) : g.moveTo(x, y);
      });
      g.strokeStyle = colour;
      g.lineWidth = 1.5;
      g.stroke();
    });
  }
  function drawNet() {
    const c = el.querySelector(".gw-net"), g = c.getContext("2d"), layers = model.get("weights");
    g.clearRect(0, 0, c.width, c.height);
    if (!layers.length) return;
    const sizes = [layers[0][0].length].concat(layers.map((l) => l.length));
    const at = (i, j) => [12 + i / (sizes.length - 1) * (c.width - 24), 12 + (j + 0.5) / sizes[i] * (c.height - 24)];
    const big = Math.max(1e-9, ...layers.flat(2).map(Math.abs));
    layers.forEach((layer, i) => layer.forEach((weights, j) => weights.forEach((w, k) => {
      const [xa, ya] = at(i, k), [xb, yb] = at(i + 1, j);
      g.beginPath();
      g.moveTo(xa, ya);
      g.lineTo(xb, yb);
      g.strokeStyle = w > 0 ? "rgba(28,126,214,0.6)" : "rgba(240,62,62,0.6)";
      g.lineWidth = 0.3 + 2.5 * Math.abs(w) / big;
      g.stroke();
    })));
    sizes.forEach((size, i) => { for (let j = 0; j < size; j++) {
      const [x, y] = at(i, j);
      g.beginPath(); g.arc(x, y, 4, 0, 2 * Math.PI); g.fillStyle = "#343a40"; g.fill();
    } });
  }
  function status() {
    el.querySelectorAll("button").forEach((b) => { b.hidden = model.get("unit") !== "step"; });  // fit's view: no buttons
    el.querySelector(".gw-status").textContent = model.get("state") + ", " + model.get("unit") + " " + model.get("steps") + " / " + model.get("max_steps");
    el.querySelector(".gw-error").textContent = model.get("error");
  }
  function all() { status(); drawMap(); drawCurves(); drawNet(); }
  all();
  model.on("change", all);
}
export default { render };
"""
