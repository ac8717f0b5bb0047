"""The data half of a playground `Session`: the points, which of them are held out for testing, and
what changes when they change. A mixin, kept apart so that each file has one job."""

from __future__ import annotations

from nn.playground import choices, metrics
from nn.playground.protocol import MAX_POINTS, PlaygroundError

DEFAULT_DATASET = {"name": "moons", "noise": 0.1, "points": 100, "seed": 1, "test_ratio": 0.0}


class Data:
    """Choosing, generating and editing the points: part of `session.Session`."""

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
