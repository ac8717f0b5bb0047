"""Training through a tape: record the model once, then run whole batches with numpy.

A model builds the same graph for every sample; only the numbers differ. `TapedModel` records
that graph once with `engine.trace` and runs each batch through the recording at once (one numpy
array per node, or per layer), which is what `fit(..., replay=True)` uses. One training step is
then the ordinary five lines, with the model's part done by the tape:

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
"""

from __future__ import annotations

from operator import attrgetter

from engine.trace.tape import require_numpy, trace
from engine.core.value import make_node
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
            self._run.backward(upstream)
        except FloatingPointError as exc:
            raise NonFiniteGradientError(f"{exc}; no parameter was updated") from None
        self._run = self._leaves = None  # one backward per forward, as with a graph of Values
