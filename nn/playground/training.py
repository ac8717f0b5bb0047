"""The training half of a playground `Session`: steps in slices, a batch at a time, and the frames
the page draws between them. A mixin, kept apart so that each file has one job; it uses the
session's data (`X`, `train`, `_targets`) and network (`model`, `optimizer`, `_loss_fn`)."""

from __future__ import annotations

import time

from nn.playground import adapters, boundary, choices, features, metrics
from nn.playground.protocol import PlaygroundError, error_message

WHOLE_STEP_WORK = 60_000  # samples times parameters of a step done at once (2-16-16-1 on 100 points: 33,700)
CHUNK_WORK = 10_000  # ... and per chunk of a bigger step (about 10 ms of engine work)
STEP_SLICE = 0.03  # seconds a `step` request works before letting other work in

HISTORY_LIMIT = 2000  # points kept for the loss and accuracy curves; older ones are thinned out


class Training:
    """Playing, stepping and reporting frames: part of `session.Session`."""

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
