"""Training through a tape: record the model once, then run whole batches with numpy.

A model builds the same graph for every sample; only the numbers differ. `TapedModel` records
that graph once with `engine.trace` and runs each batch through the recording at once (one numpy
array per node, or per layer), which is what `fit(..., replay=True)` uses with a loss it cannot
record ("bce", or a function). One training step is then the ordinary five lines, with the
model's part done by the tape:

    outputs = taped.forward(X)        # one leaf Value per output and sample, holding its value
    total = loss(outputs, y)          # the loss, built from Values as always
    optimizer.zero_grad()
    total.backward()                  # d total / d every output leaf (and the L2 penalty's params)
    taped.backward()                  # ... pushed through the tape into the parameters' grads
    optimizer.step()

The parameters are the tape's shared leaves: every replay reads their current `data`, and
`backward()` adds their gradients, summed over the batch, to their `grad`. Because the model is
recorded for one example, it must not take a different path for different inputs (see
`engine.trace`); the models in `nn` never do. Needs numpy (`pip install 'gradwalk[fast]'`).

`TapedLoss` goes further, for the named losses of `TAPED_LOSSES`: the model, each sample's loss
(its target one more input) and the L2 penalty on one tape, so that a step is one replay and one
backward pass, with no Value built; `fit(..., replay=True)` uses it for those losses.
"""

from __future__ import annotations

from operator import attrgetter

from engine import dot, sum_values
from engine.core.value import make_node
from engine.trace.checks import as_batch
from engine.trace.checks import require_numpy
from engine.trace.tape import trace
from nn.losses import l2_penalty, loss_targets
from nn.optim import NonFiniteGradientError

_grad = attrgetter("grad")


class TapedModel:
    """`model` recorded once as a tape (from the sample `example`), replayed for whole batches.

    `grouped=False` replays one array per node instead of a layer at a time (the plain form of
    replay; the same numbers up to rounding).

        >>> from nn import MLP
        >>> model = MLP(2, [4, 1], seed=0)
        >>> taped = TapedModel(model, [0.5, -1.0])
        >>> [round(o.data, 6) for o in taped.forward([[0.5, -1.0], [1.0, 2.0]])] == \\
        ...     [round(model([0.5, -1.0]).data, 6), round(model([1.0, 2.0]).data, 6)]
        True
    """

    def __init__(self, model, example, *, grouped: bool = True):
        require_numpy()  # refuse now, naming the extra to install, rather than at the first batch
        self.model = model
        self.tape = trace(lambda *xs: model(list(xs)), *example)
        self.grouped = grouped  # False: one array per node (see Tape.replay)
        self._run = None
        self._leaves = None

    def __repr__(self) -> str:
        return f"TapedModel({self.model!r}, {self.tape!r})"

    def forward(self, X) -> list:
        """The outputs for every sample of `X`: a leaf Value each (a list of them per sample when
        the model has several outputs), holding the replayed value. Build the loss from them."""
        run = self._run = self.tape.replay(X, grouped=self.grouped)
        if self.tape.single:
            leaves = [make_node(v, (), "", None) for v in run.outputs.tolist()]
            self._leaves = leaves
            return leaves
        rows = [[make_node(v, (), "", None) for v in row] for row in run.outputs.tolist()]
        self._leaves = [leaf for row in rows for leaf in row]
        return rows

    def backward(self) -> None:
        """Push the output leaves' `grad` (d loss / d output, set by the loss's `backward()`)
        back through the tape, adding d loss / d parameter to every parameter's `grad`.

        Raises NonFiniteGradientError, before any parameter changes, when a gradient is NaN or
        infinite (as the optimizer would for the same gradients on the node-by-node path).
        """
        if self._run is None:
            raise RuntimeError("TapedModel.backward() needs a forward() first")
        np = self._run._np
        upstream = np.fromiter(map(_grad, self._leaves), float, len(self._leaves))
        if not np.isfinite(upstream).all():
            i = int(np.argwhere(~np.isfinite(upstream))[0][0])
            raise NonFiniteGradientError(f"the loss's gradient for output {i} is {float(upstream[i])!r}; "
                                         "no parameter was updated (try a smaller learning rate)")
        if not self.tape.single:
            upstream = upstream.reshape(self._run.outputs.shape)
        try:
            self._run.backward(upstream, inputs=False)
        except FloatingPointError as exc:
            raise NonFiniteGradientError(f"{exc}; no parameter was updated") from None
        self._run = self._leaves = None  # one backward per forward, as with a graph of Values


# -- the loss on the tape too ------------------------------------------------------------------------

TAPED_LOSSES = ("hinge", "mse", "bce_with_logits", "cross_entropy")
"""The named losses `TapedLoss` records per sample ("bce" clamps each probability by its value,
a branch a tape cannot record, so it keeps its loss on Values)."""


def _hinge(scores, targets):
    return (1.0 - targets[0] * scores[0]).relu()  # the label (+-1) an input: y * s is +-s exactly


def _mse(scores, targets):
    d = scores[0] - targets[0]
    return d * d


def _bce_with_logits(scores, targets):
    z = scores[0]
    return z.softplus() - z * targets[0]


def _cross_entropy(scores, one_hot):
    # The node path shifts the log-sum-exp by the largest logit, read off its data; a tape has to
    # compute the shift, here as a running maximum m + relu(z - m). Through it flows
    # 1 - sum(softmax) = 0 up to rounding, so the gradients are those of a constant shift.
    shift = scores[0]
    for z in scores[1:]:
        shift = shift + (z - shift).relu()
    log_sum_exp = sum_values([(z - shift).exp() for z in scores]).log() + shift
    return log_sum_exp - dot(one_hot, scores)


_PER_SAMPLE = {"hinge": _hinge, "mse": _mse, "bce_with_logits": _bce_with_logits, "cross_entropy": _cross_entropy}


class TapedLoss:
    """`model` and the mean of a named loss (plus `l2 * sum(p * p)`) recorded as one tape, with
    each sample's targets among its inputs: a training step is one replay and one backward pass,
    with no Value built and no Python loop over the samples. What `fit(..., replay=True)` runs
    for the losses in `TAPED_LOSSES`.

    `X` are the samples and `targets` their targets in the loss's own convention (`nn.losses.
    loss_targets`); `outputs` is how many outputs the model has. `l2_params` are the parameters
    the penalty sums over. `classes`, each sample's class (None: the targets are not class
    labels), is what `correct()` counts against.

        >>> from nn import MLP, mse_loss
        >>> model = MLP(2, [4, 1], seed=0)
        >>> X, y = [[0.5, -1.0], [1.0, 2.0]], [1.0, 0.0]
        >>> taped = TapedLoss(model, "mse", X, y, 1)
        >>> mean = taped.forward()        # the mean loss over the samples, replayed
        >>> abs(mean - mse_loss([model(x) for x in X], y).data) < 1e-12
        True
        >>> taped.backward()              # d mean / d every parameter, added to its grad
    """

    def __init__(self, model, loss: str, X, targets, outputs: int, *, l2: float = 0.0, l2_params=(), classes=None):
        np = require_numpy()
        if not isinstance(loss, str) or loss not in _PER_SAMPLE:
            raise ValueError(f"TapedLoss records one of the losses {', '.join(TAPED_LOSSES)}, not {loss!r:.60}")
        per_sample = _PER_SAMPLE[loss]
        width = outputs if loss == "cross_entropy" else 1
        targets = loss_targets(loss, targets, width if loss == "cross_entropy" else None)  # checked, converted
        self.model, self.loss = model, loss
        self.nin, self.outputs = len(X[0]), outputs
        scores = []

        def sample_loss(*xs):
            out = model(list(xs[:self.nin]))
            scores[:] = out if isinstance(out, (list, tuple)) else [out]
            if len(scores) != width or (width == 1 and loss != "cross_entropy" and out is not scores[0]):
                raise ValueError(f"loss={loss!r} takes {'one Value' if width == 1 else f'{width} outputs'} per sample "
                                 f"from the model, which gives {out!r:.80}")
            term = per_sample(scores, xs[self.nin:])
            return term + l2_penalty(l2_params, l2) if l2 else term  # the mean of loss + penalty

        self.tape = trace(sample_loss, *X[0], *([0.0] * width))
        self.score_positions = [self.tape.position(s) for s in scores]
        columns = np.asarray(targets, dtype=float).reshape(len(X), -1)
        if loss == "cross_entropy":
            columns = np.eye(outputs)[columns[:, 0].astype(int)]  # each class index as a one-hot row
        self.batch = np.column_stack([as_batch(np, X, self.nin), columns])
        self.classes = None if classes is None else np.asarray(classes)
        self._rows = self._run = self._last = None

    def __repr__(self) -> str:
        return f"TapedLoss({self.model!r}, {self.loss!r}, {self.tape!r})"

    def forward(self, rows=None) -> float:
        """Replay the samples at `rows` (an index array; None: all of them); returns the mean loss."""
        self._rows, self._run = rows, None
        self._last = None  # the last replay's arrays go before the next one's are made
        self._run = self._last = self.tape.replay(self.batch if rows is None else self.batch[rows])
        return float(self._run.outputs.mean())

    def correct(self, threshold: float) -> int:
        """How many samples of the last forward the model put in their class, by `nn.prediction`'s
        rule: a single score above `threshold` is class 1; of several, the first largest wins."""
        if self._last is None or self.classes is None:
            raise RuntimeError("TapedLoss.correct() needs class labels and a forward() first")
        np = self._last._np
        scores = [self._last.node_value(p) for p in self.score_positions]
        predicted = scores[0] > threshold if len(scores) == 1 else np.argmax(np.stack(scores), axis=0)
        classes = self.classes if self._rows is None else self.classes[self._rows]
        return int(np.count_nonzero(predicted == classes))

    def backward(self) -> None:
        """d mean loss / d every parameter, added to its `grad`; NonFiniteGradientError (with no
        `grad` changed) for a NaN or infinite gradient."""
        if self._run is None:
            raise RuntimeError("TapedLoss.backward() needs a forward() first")
        run, self._run = self._run, None
        try:
            run.backward(run._np.full(run.size, 1.0 / run.size), inputs=False)
        except FloatingPointError as exc:
            raise NonFiniteGradientError(f"{exc}; no parameter was updated") from None
