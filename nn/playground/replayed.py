"""The playground's training steps through a replayed tape, when numpy is installed.

A tab's network, its loss and the L2 penalty are recorded once as a tape (`nn.replay.TapedLoss`),
and each step is one replay and one backward pass for the whole batch, with no Value built: some
fifty times the steps per second of the node-by-node step. The tape's parameters are the model's
own Values, and every replay reads their current `data`, so the backprop views (which build real
nodes for the sample they show), the map and the weight sliders always see the weights training
left. The tape is recorded again when the model, the optimizer, the points, the targets, the loss,
the L2 weight or the feature columns change.

Without numpy, for "bce" (whose clamp of each probability a tape cannot record) and with an L1
penalty, `step` returns None and the session takes the node-by-node step.
"""

from __future__ import annotations

from nn.playground import features
from nn.playground.adapters import DivergedError, _first_line
from nn.replay import TAPED_LOSSES, TapedLoss
from nn.train import replayed_step

try:
    import numpy
except ImportError:  # numpy is optional (the `playground` extra installs it)
    numpy = None


class ReplayedSteps:
    """One tab's tape, kept while what it recorded stays the same."""

    def __init__(self):
        self._recorded_for = None  # (model, optimizer, X, targets, loss, l2, points): what the tape holds
        self._taped = None

    def step(self, session, batch):
        """One optimizer step of `session` (a tab's `Session`) on its points at `batch` through
        the tape; returns the batch loss before the update, or None when this step can't be
        replayed. Raises DivergedError, with no parameter changed, as the node-by-node step does."""
        model, points, targets, optimizer = session.model, session.X, session._targets, session.optimizer
        loss, l2, l1, columns = (session.config[key] for key in ("loss", "l2", "l1", "features"))
        if numpy is None or loss not in TAPED_LOSSES or l1:  # an L1 penalty is not on the tape
            return None
        source = (model, optimizer, points, targets, loss, l2, len(points), tuple(columns))
        if self._recorded_for is None or any(a is not b and a != b for a, b in zip(source, self._recorded_for)):
            X = [features.expand(columns, *point) for point in points]  # what the network is fed
            try:
                self._taped = TapedLoss(model, loss, X, targets, 1, l2=l2, l2_params=optimizer.params)
            except ValueError:  # a model the loss can't take on a tape: the node path says why
                self._recorded_for = self._taped = None
                return None
            self._recorded_for = source
        rows = None if len(batch) == len(points) else numpy.asarray(batch)
        try:
            return replayed_step(self._taped, rows, optimizer)
        except FloatingPointError as error:  # nn's TrainingDivergedError and NonFiniteGradientError
            raise DivergedError(_first_line(error)) from None  # cut as the node path's messages are
