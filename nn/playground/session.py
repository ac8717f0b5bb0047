"""One browser tab's state: its data, its network and optimizer, the sample it is stepping through
and its sandbox formula. Plain Python, no web framework: the server runs `Session.work` on
checked messages, a slice at a time, and sends back the replies it returns (`Session.handle`
does the same at once, for use without the server).

A session is only ever used by one thread at a time (the server runs all engine work on a single
worker thread, because `no_grad` and `name_scope` are process-wide switches).
"""

from __future__ import annotations

import copy
import inspect
import os
import random
import time

from nn.layers import MLP
from nn.playground import adapters, boundary, choices, features, metrics
from nn.playground.graphs import Sandbox, SampleView, settle_drawings
from nn.playground.layout import Layouts
from nn.playground.replayed import ReplayedSteps
from nn.playground.slices import advance
from nn.playground.launch import Start
from nn.playground.protocol import MAX_POINTS, PlaygroundError, ProtocolError, error_message, limits

DEFAULT_DATASET = {"name": "moons", "noise": 0.1, "points": 100, "seed": 1, "test_ratio": 0.0}
# micrograd's moons network; with momentum it is right on every point within about 100 steps.
DEFAULT_CONFIG = {"hidden": [16, 16], "activation": "relu", "loss": "hinge", "optimizer": "momentum", "lr": 0.1,
                  "batch_size": None, "l2": 1e-4, "l1": 0.0, "seed": 0, "features": features.PLAIN}

WHOLE_STEP_WORK = 60_000  # samples times parameters of a step done at once (2-16-16-1 on 100 points: 33,700)
CHUNK_WORK = 10_000  # ... and per chunk of a bigger step (about 10 ms of engine work)
STEP_SLICE = 0.03  # seconds a `step` request works before letting other work in

HISTORY_LIMIT = 2000  # points kept for the loss and accuracy curves; older ones are thinned out


class Session:
    """Everything one tab has: see the module docstring."""

    def __init__(self, start: Start | None = None, *, rng_seed: int = 0):
        self.start = start or Start()
        self.playing = False
        self._frame_seconds = 0.0  # what the last frame cost to make
        self._unreported, self._training_seconds, self._frame_due = [], 0.0, False  # training since the last frame
        self._due_accuracy = None  # metrics.measure's figures, once a costly frame's first slice measured them
        self.version = 0  # bumped whenever the model is replaced: the page ignores older updates
        self.config = dict(DEFAULT_CONFIG)
        self.dataset = dict(DEFAULT_DATASET)
        if self.start.data is not None:
            self.X = [list(p) for p in self.start.data[0]]
            self.y = list(self.start.data[1])
            self.dataset = {"name": "yours", "noise": 0.0, "points": len(self.X), "seed": 0, "test_ratio": 0.0}
        else:
            self.X, self.y = choices.generate(self.dataset)
        self.bounds = choices.bounds(self.X)
        if self.start.model is not None:
            model = self.start.model
            self.config.update(hidden=list(model.nouts[:-1]), activation=model.activation,
                               loss="bce" if model.output_activation == "sigmoid" else "hinge")
        self._shuffler = random.Random(rng_seed)
        self._partial = None  # the step in progress: [its batch, its generator or None]
        self.sample = SampleView()
        self._replayed = ReplayedSteps()  # training steps through a tape, with numpy
        self._data_changed()
        self._new_model()
        self.sandbox = Sandbox()

    # -- dispatch -----------------------------------------------------------------------------------

    def work(self, message: dict):
        """Act on one checked message: a generator that yields between pieces of long work and
        returns the messages to send back. The server runs it a slice at a time (`advance`), so
        other tabs are answered in between. A request that cannot be done becomes an `error`
        message (with the request's type), never an exception. Drawings in the replies are
        `graphs.PendingDrawing`s, for the caller to lay out."""
        kind = message["type"]
        try:
            result = getattr(self, "_on_" + kind)(message)
            if inspect.isgenerator(result):
                result = yield from result
            return result
        except (PlaygroundError, ProtocolError, adapters.FormulaError) as error:
            return [error_message(str(error), kind)]

    def handle(self, message: dict, layout=None) -> list[dict]:
        """`work(message)` done at once, its drawings laid out here with `layout(source) -> svg`
        (default: a `layout.Layouts()`); for use without the server."""
        replies = advance(self.work(message), float("inf"))[1]
        return settle_drawings(replies, layout or Layouts().svg)

    def state(self) -> dict:
        """Everything the page shows, for a new tab or after a change of data or network."""
        return {
            "type": "state",
            "version": self.version,
            "playing": self.playing,
            "limits": limits(),
            "dataset": self.dataset,
            "config": self.config,
            "X": self.X,
            "y": self.y,
            "test": self.test,
            "regression": self._regression(),
            "bounds": self.bounds,
            "can_save": self.start.save_dir is not None,
            "numpy": boundary.numpy is not None,
            "history": self.history,
            **self._snapshot(),
        }

    # -- training -----------------------------------------------------------------------------------

    def train_for(self, seconds: float) -> list[dict]:
        """Train for about `seconds` (at least one step, or one chunk of a step done in chunks),
        then report: the page's next frame, or nothing yet (see below). Nothing happens once
        paused (a slice asked for just before the pause)."""
        if not self.playing:
            return []
        if self._frame_due:  # a costly frame gets slices of its own: the accuracy, then the rest
            if self._due_accuracy is None:
                self._due_accuracy = self._accuracy()
                return []
            return self._report()
        started = time.perf_counter()
        try:
            while True:
                loss = self._advance_step(started + seconds)
                if loss is not None:
                    self._unreported.append(loss)
                if time.perf_counter() >= started + seconds:
                    break
        except PlaygroundError as error:
            self.playing = False
            return (self._report() if self._unreported else []) + [error_message(str(error), "play")]
        self._training_seconds += time.perf_counter() - started
        # Frames may cost more than the training between them (a big network's map, any map
        # without numpy): then a frame waits until twice its cost went to training, and is made
        # in the next slice, so that no slice holds the engine's thread for both.
        if not self._unreported or self._training_seconds < 2 * self._frame_seconds:
            return []
        if self._frame_seconds > seconds:
            self._frame_due = True
            return []
        return self._report()

    def _report(self) -> list[dict]:
        losses, self._unreported = self._unreported, []
        frame = self._update(losses)
        self._frame_due, self._due_accuracy, self._training_seconds = False, None, 0.0
        return [frame]

    def _on_play(self, message):
        if not self.X:
            raise PlaygroundError("there are no points to train on: pick a dataset or click the map to add points")
        self.playing = True
        return []

    def _on_pause(self, message):
        self.playing = False
        return self._report()

    def _on_step(self, message):
        self.playing = False
        while (loss := self._advance_step(time.perf_counter() + STEP_SLICE)) is None:
            yield
        self._unreported.append(loss)
        return self._report()

    def _on_reset(self, message):
        self.playing = False
        self._new_model()
        return [self.state()]

    def _advance_step(self, deadline: float):
        """Work on the current step until it is done (returns its loss) or `deadline` passes
        (returns None; the next call goes on where this one stopped)."""
        if not self.X:
            raise PlaygroundError("there are no points to train on: pick a dataset or click the map to add points")
        if self._partial is None:
            self._partial = [self._next_batch(), None]
        if self._partial[1] is None:  # a new step, or one restarted because the weights changed
            self._partial[1] = self._step_chunks(self._partial[0])
        try:
            while True:
                next(self._partial[1])
                if time.perf_counter() >= deadline:
                    return None
        except StopIteration as done:
            self._partial = None
            self.steps += 1
            return done.value
        except PlaygroundError:
            self._partial = None
            raise

    def _step(self) -> float:
        """One whole step, at once (what demos/playground_bench.py times)."""
        return self._advance_step(float("inf"))

    def _step_chunks(self, batch):
        """One optimizer step on `batch`, as a generator yielding between chunks of the batch: the
        largest network on 2,000 points takes seconds a step, and other tabs must not wait."""
        X = [features.expand(self.config["features"], *self.X[i]) for i in batch]
        targets = [self._targets[i] for i in batch]
        params = len(self.optimizer.params)
        try:
            if len(batch) * params <= WHOLE_STEP_WORK:
                if (loss := self._replayed.step(self, batch)) is not None:  # None: no numpy, "bce" or L1
                    return loss
                return adapters.train_step(self.model, X, targets, self._loss_fn, self.optimizer, self.config["l2"],
                                           self.config["l1"])
            return (yield from adapters.train_step_in_chunks(self.model, X, targets, self._loss_fn, self.optimizer,
                                                              self.config["l2"], max(1, CHUNK_WORK // params),
                                                              self.config["l1"]))
        except adapters.DivergedError as error:
            raise PlaygroundError(f"training stopped at step {self.steps + 1}: {error}") from None

    def _restart_step(self):
        """The weights or the settings changed under a step in progress: do its batch again."""
        if self._partial is not None:
            self._partial[1] = None

    def _next_batch(self) -> list[int]:  # from the training points: the test points are held out
        n = len(self.train)
        size = min(self.config["batch_size"] or n, n)
        if size == n:
            self.epoch += 1
            return list(self.train)
        if self._position + size > len(self._order):
            self._order = list(self.train)
            self._shuffler.shuffle(self._order)
            self._position = 0
            self.epoch += 1
        batch = self._order[self._position:self._position + size]
        self._position += size
        return batch

    def _update(self, losses) -> dict:
        started = time.perf_counter()
        frame = self._frame(losses)
        self._frame_seconds = time.perf_counter() - started
        return frame

    def _frame(self, losses) -> dict:
        if losses:
            measured = self._due_accuracy or self._accuracy()  # accuracy, test loss, test accuracy
            self.history.append([self.steps, sum(losses) / len(losses), *measured])
            if len(self.history) > HISTORY_LIMIT:
                self.history = self.history[::2]
        return {"type": "update", "version": self.version, "playing": self.playing,
                "new_history": self.history[-1:] if losses else [], **self._snapshot()}

    def _snapshot(self) -> dict:
        return {
            "steps": self.steps,
            "epoch": self.epoch,
            **dict(zip(("loss", "accuracy", "test_loss", "test_accuracy"),
                       self.history[-1][1:] if self.history else (None, *self._accuracy()))),
            "network": choices.network_picture(self.model),
            "boundary": {"size": boundary.GRID, "values": self._boundary()},
        }

    def _boundary(self) -> list[int]:
        try:
            return boundary.boundary_map(self.model, self.bounds, *metrics.decision(self.config["loss"], self._regression()))
        except (ValueError, ArithmeticError):  # weights so large that outputs overflow: no map to show
            return [0] * boundary.GRID ** 2

    def _accuracy(self) -> tuple:
        return metrics.measure(self)

    def _regression(self) -> bool:
        return self.dataset["name"] in choices.REGRESSION

    # -- data ---------------------------------------------------------------------------------------

    def _on_dataset(self, message):
        dataset = {k: message.get(k, DEFAULT_DATASET[k]) for k in DEFAULT_DATASET}  # test_ratio is optional
        if dataset["name"] == "yours":
            if self.start.data is None:
                raise PlaygroundError("there is no data of yours: pass X and y to nn.open_playground")
            self.X, self.y = [list(p) for p in self.start.data[0]], list(self.start.data[1])
        else:
            self.X, self.y = choices.generate(dataset)
        self.dataset = dataset
        if self._regression():
            self.config["loss"] = "mse"  # numbers to fit, not classes
        self.bounds = choices.bounds(self.X)
        self._data_changed()
        self._new_model()  # other data is another experiment: a fresh network, step counter and curves
        return [self.state()]

    def _on_add_point(self, message):
        if self._regression():
            raise PlaygroundError("a click adds a point of class 0 or 1; the points of a regression data set carry numbers")
        if len(self.X) >= MAX_POINTS:
            raise PlaygroundError(f"there are already {MAX_POINTS} points, the limit")
        xmin, xmax, ymin, ymax = self.bounds
        if not (xmin <= message["x"] <= xmax and ymin <= message["y"] <= ymax):
            raise PlaygroundError(f"the point ({message['x']:.3g}, {message['y']:.3g}) lies outside the map")
        self.X.append([message["x"], message["y"]])
        self.y.append(message["label"])
        self._data_changed()
        return [self.state()]

    def _on_clear_points(self, message):
        self.X, self.y = [], []
        self.playing = False
        self._data_changed()
        return [self.state()]

    def _data_changed(self):
        self._targets = choices.targets(self.config["loss"], self.y)
        self._order, self._position = [], 0
        self._partial = None
        self.sample.forget()
        self.dataset["points"] = len(self.X)
        self.train, self.test = metrics.split(len(self.X), self.dataset["test_ratio"], self.dataset["seed"])

    # -- the network --------------------------------------------------------------------------------

    def _on_config(self, message):
        new = {k: message.get(k, DEFAULT_CONFIG[k]) for k in DEFAULT_CONFIG}  # l1 is optional
        if self._regression() and new["loss"] != "mse":
            raise PlaygroundError(f"the {self.dataset['name']} data set is fitted with mse (mean squared error), not {new['loss']}")
        old = self.config
        self.config = new
        if choices.architecture(new) != choices.architecture(old) or new["seed"] != old["seed"]:
            self._new_model()
            return [self.state()]
        if new["optimizer"] != old["optimizer"]:
            self.optimizer = choices.optimizer(new, self.model.parameters())
        self.optimizer.lr = new["lr"]
        self._targets = choices.targets(new["loss"], self.y)
        self._loss_fn = choices.loss_function(new["loss"])
        self._restart_step()
        return [self.state()]

    def _new_model(self):
        """A fresh network for the current config (the launch model's weights, when it fits)."""
        start = self.start.model
        if start is not None and choices.architecture(self.config) == choices.architecture_of(start):
            self.model = copy.deepcopy(start)
        else:
            hidden, act = self.config["hidden"], self.config["activation"]
            out = "sigmoid" if self.config["loss"] == "bce" else "linear"
            self.model = MLP(len(self.config["features"]), hidden + [1], activation=act, output_activation=out,
                             init="he" if act == "relu" else "xavier", seed=self.config["seed"])
        boundary.use_features(self.model, self.config["features"])
        self.optimizer = choices.optimizer(self.config, self.model.parameters())
        self._loss_fn = choices.loss_function(self.config["loss"])
        self._targets = choices.targets(self.config["loss"], self.y)
        self._order, self._position = [], 0
        self._partial = None
        self.steps = self.epoch = 0
        self.history, self._unreported, self._frame_due, self._due_accuracy = [], [], False, None
        self.version += 1
        self.sample.forget()

    def _on_set_param(self, message):
        named = dict(self.model.named_parameters())
        if message["name"] not in named:
            raise PlaygroundError(f"the network has no parameter {message['name']!r}")
        named[message["name"]].data = message["value"]
        self._restart_step()
        return [self._update([])]

    def _on_neuron_map(self, message):
        layer, neuron = message["layer"], message["neuron"]
        if layer >= len(self.model.layers) or neuron >= len(self.model.layers[layer].neurons):
            raise PlaygroundError(f"the network has no neuron L{layer}.n{neuron}")
        try:
            values = boundary.neuron_map(self.model, layer, neuron, self.bounds)
        except (ValueError, ArithmeticError):
            raise PlaygroundError(f"neuron L{layer}.n{neuron}'s output overflows: reset the network") from None
        return [{"type": "neuron_map", "layer": layer, "neuron": neuron, "size": boundary.NEURON_GRID,
                 "values": values}]

    def _on_neuron_maps(self, message):
        try:
            maps = boundary.every_neuron_map(self.model, self.bounds)
        except (ValueError, ArithmeticError):
            raise PlaygroundError("the neurons' outputs overflow: reset the network") from None
        return [{"type": "neuron_maps", "version": self.version, "size": boundary.THUMBNAIL_GRID, "maps": maps}]

    def _on_save(self, message):
        return [{"type": "saved", "path": os.fspath(self.start.save(self.model, message["name"]))}]

    # -- backprop of one sample ---------------------------------------------------------------------

    def _on_sample(self, message):
        return self.sample.answer(message, self)

    # -- the expression sandbox ---------------------------------------------------------------------

    def _on_formula(self, message):
        return self.sandbox.answer(message)

