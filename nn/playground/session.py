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

from nn.layers import MLP
from nn.playground import adapters, boundary, choices, features
from nn.playground.data import DEFAULT_DATASET, Data
from nn.playground.graphs import Sandbox, SampleView, settle_drawings
from nn.playground.layout import Layouts
from nn.playground.replayed import ReplayedSteps
from nn.playground.slices import advance
from nn.playground.launch import Start
from nn.playground.protocol import PlaygroundError, ProtocolError, error_message, limits
from nn.playground.training import Training
# micrograd's moons network; with momentum it is right on every point within about 100 steps.
DEFAULT_CONFIG = {"hidden": [16, 16], "activation": "relu", "loss": "hinge", "optimizer": "momentum", "lr": 0.1,
                  "batch_size": None, "l2": 1e-4, "l1": 0.0, "seed": 0, "features": features.PLAIN}



class Session(Training, Data):
    """Everything one tab has: see the module docstring. Its training (`training.Training`) and
    its data (`data.Data`) are written in modules of their own."""

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

