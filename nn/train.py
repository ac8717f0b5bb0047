"""Training: one step of gradient descent (`train_step`), and a loop over epochs (`fit`).

`train_step` is the loop body you will write in PyTorch, spelled out; `fit` repeats it over
shuffled batches and records a `History`. How outputs become classes (for the history's
accuracy) is `nn.prediction`'s rule.
"""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass, field

from engine import Value, no_grad
from nn import losses as _losses
from nn.losses import LOSSES, loss_targets, resolve_loss
from nn.module import real_number, resolve_rng, whole_number
from nn.optim import SGD, NonFiniteGradientError, Optimizer
from nn.prediction import class_labels, default_threshold, output_activation, predicted_class


live_views: dict = {}
"""Where `fit(live=True)` finds its view: nn.notebook puts its maker under "notebook" when it is
imported (as `import nn` does). It imports train_step from here, so this module cannot import it."""


class TrainingDivergedError(FloatingPointError):
    """The loss or a gradient became NaN or infinite; the message says at which epoch and step."""


@dataclass
class History:
    """What `fit` measured, one entry per epoch.

    `loss` is the mean training loss over the epoch's batches (including the L2 penalty) and
    `accuracy` the fraction of training samples classified correctly (by `nn.prediction`'s rule; for
    "mse", thresholded at the midpoint of the labels), both measured on each
    batch's forward pass, i.e. just *before* that batch's update (no extra forward pass is
    spent on measuring). `accuracy` is NaN when the targets are not class labels.
    `steps` counts optimizer steps over the whole run.
    """

    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    steps: int = 0

    @property
    def epochs(self) -> int:
        """How many epochs were recorded."""
        return len(self.loss)

    def _repr_html_(self) -> str:
        """In a notebook: the numbers and a small loss curve."""
        if not self.loss:
            return "<p>History: no epochs yet</p>"
        finite = [v for v in self.loss if math.isfinite(v)]
        top, n = max(finite, default=1.0) or 1.0, max(len(self.loss) - 1, 1)
        points = " ".join(f"{200 * i / n:.1f},{50 - 48 * v / top:.1f}" for i, v in enumerate(self.loss) if math.isfinite(v))
        last = self.accuracy[-1] if self.accuracy else float("nan")
        accuracy = "" if last != last else f", accuracy {last:.1%}"
        return (f"<div><b>History</b>: {self.epochs} epochs, {self.steps} steps, loss {self.loss[-1]:.4g}{accuracy}<br>"
                f'<svg width="200" height="52" viewBox="0 0 200 52"><polyline fill="none" stroke="#f76707" '
                f'stroke-width="1.5" points="{points}"/></svg></div>')


def train_step(model, X, y, loss, optimizer, *, tape=None) -> float:
    """One step of gradient descent on the batch `(X, y)`; returns the loss before the update.

    It is these five lines (the same in PyTorch), plus a check that the loss is finite:

        outputs = [model(x) for x in X]   # forward: build the graph
        total = loss(outputs, y)          # one Value: how wrong the outputs are
        optimizer.zero_grad()             # forget the previous step's gradients
        total.backward()                  # d total / d every parameter
        optimizer.step()                  # move each parameter against its gradient

    `loss` is a callable `(outputs, targets) -> Value` or a name from `LOSSES` (named binary
    losses accept 0/1 or -1/+1 labels, see `fit`). A NaN or infinite loss (or an overflow while
    computing it) raises `TrainingDivergedError`, and a NaN or infinite gradient
    `NonFiniteGradientError`, both before any parameter changes; so does the TypeError for a model
    that is not callable, an optimizer that is not an `Optimizer`, or a loss that returns no Value.

    `tape`: a `nn.replay.TapedModel` of `model` (what `fit(..., replay=True)` passes). The model's
    part of the step then runs for the whole batch at once, replayed with numpy, and the loss is
    built on one leaf per output; after `total.backward()`, `tape.backward()` carries the
    outputs' gradients on into the parameters.

        >>> from nn import MLP, SGD, make_moons
        >>> X, y = make_moons(8, seed=0)
        >>> model = MLP(2, [4, 1], seed=0)
        >>> optimizer = SGD(model.parameters(), lr=0.1)
        >>> first = train_step(model, X, y, "hinge", optimizer)
        >>> train_step(model, X, y, "hinge", optimizer) < first
        True
    """
    if not callable(model):
        raise TypeError(f"model should be a callable model such as MLP(...), not {_shown(model)}")
    _check_is_optimizer(optimizer)
    loss_fn, targets = resolve_loss(loss), loss_targets(loss, y)
    try:
        outputs = tape.forward(X) if tape is not None else [model(x) for x in X]
        total = loss_fn(outputs, targets)
    except ArithmeticError as exc:  # the engine refuses overflow and NaN results as they happen
        raise _diverged(f"the forward pass failed ({exc})", optimizer) from exc
    if not isinstance(total, Value):
        raise TypeError(f"the loss function returned {_shown(total)}; it should return one Value built from "
                        "the outputs (such as mse_loss(outputs, targets)), so backward() reaches the parameters")
    value = total.data
    if not math.isfinite(value):
        raise _diverged(f"loss is {value!r}", optimizer)
    optimizer.zero_grad()
    total.backward()
    if tape is not None:
        tape.backward()
    optimizer.step()
    return value


def fit(model, X, y, *, loss="hinge", optimizer: Optimizer | None = None, epochs: int = 100, batch_size=None,
        l2: float = 0.0, progress=None, seed=None, rng=None, replay: bool = False, live: bool = False) -> History:
    """Train `model` on `(X, y)` with `train_step`, batch after batch, and return the per-epoch `History`.

    Args:
        model: a callable `Module` (e.g. `MLP`).
        X, y: samples (lists of inputs) and their labels/targets.
        loss: a name from `LOSSES` or a callable `(outputs, targets) -> Value`. The named binary
            losses accept 0/1 or -1/+1 labels and convert them to their own convention
            ("hinge" wants -1/+1, "bce*" want 0/1); "mse" uses targets as given. "bce" needs
            probabilities, so it refuses a model whose output activation is not "sigmoid".
        optimizer: an `Optimizer` over the model's parameters (it must hold at least one of
            them); default `SGD(lr=0.1)`.
        epochs: passes over the data.
        batch_size: samples per step; None (default) means the full batch, one step per epoch.
            Smaller batches are reshuffled every epoch with `seed` / `rng`.
        l2: weight of the L2 penalty `l2 * sum(p * p)` added to the loss (0 disables it).
        progress: None shows a tqdm bar only when stderr is a terminal, True always (when
            tqdm is installed), False never. The bar shows loss and accuracy.
        replay: record the model once and run every batch through the recording with numpy
            (`nn.replay`): the same training up to rounding, many times faster. With a named loss
            other than "bce", the loss and the L2 penalty are recorded too, so a step builds no
            Value at all. Needs numpy (`pip install 'gradwalk[fast]'`), and a model that takes the
            same path for every input.
        live: in a notebook, show the training as it runs in a `TrainView` (the decision
            boundary, the loss and accuracy curves, the weights), updated after every epoch.
            Needs 2-D points with class labels and the `notebook` extra; outside a notebook
            kernel it raises RuntimeError (see nn.notebook).

    Every argument, sample and label is checked before the first step (numbers may be numpy's;
    bools are refused), so a mistake raises TypeError or ValueError naming it, with the model
    untouched. Raises TrainingDivergedError when the loss or a gradient stops being finite, naming
    the epoch and step; the parameters then hold the last finite values.
    """
    if not callable(model) or not callable(getattr(model, "parameters", None)):
        raise TypeError(f"fit trains a model with parameters (an nn Module such as MLP(...)), not {_shown(model)}")
    X, y = list(X), list(y)
    if not X:
        raise ValueError("fit needs at least one sample, got an empty dataset")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    epochs = whole_number(epochs, "epochs", minimum=1)
    n = len(X)
    batch_size = n if batch_size is None else whole_number(batch_size, "batch_size (None or an int)", minimum=1)
    loss_fn = resolve_loss(loss)
    if isinstance(loss, str) and loss == "bce":
        _check_probability_output(model)
    params = model.parameters()
    if optimizer is None:
        optimizer = SGD(params, lr=0.1)
    else:
        _check_optimizer(optimizer, model, params)
    l2 = real_number(l2, "l2")
    if l2:
        _losses.l2_penalty([], l2)  # validates l2 before any training happens
    # Everything is checked before the first step, so a bad sample never leaves a half-trained model.
    _check_samples(model, X)
    classes = _output_count(model, X[0]) if isinstance(loss, str) and loss == "cross_entropy" else None
    targets = loss_targets(loss, y, classes)
    shuffler = resolve_rng(seed, rng)
    positives = _accuracy_classes(targets if isinstance(loss, str) else y)  # None: y are not class labels
    threshold = default_threshold(model)
    if isinstance(loss, str) and loss == "mse" and positives is not None:
        threshold = _label_midpoint(y)

    tape = taped_loss = None
    if replay:
        from nn.replay import TAPED_LOSSES, TapedLoss, TapedModel

        on_tape = isinstance(loss, str) and loss in TAPED_LOSSES
        if on_tape and _output_shape(model, X[0]) == classes:  # outputs the loss takes: it goes on the tape too
            taped_loss = TapedLoss(model, loss, X, targets, classes or 1, l2=l2, l2_params=params, classes=positives)
        else:
            tape = TapedModel(model, X[0])
    batch_outputs = []

    def batch_loss(outputs, batch_targets):
        # train_step's loss: the chosen loss plus the L2 penalty. It keeps the outputs, so the
        # history's accuracy costs no second forward pass.
        batch_outputs.append(outputs)
        total = loss_fn(outputs, batch_targets)
        return total + _losses.l2_penalty(params, l2) if l2 else total

    if not isinstance(live, bool):
        raise TypeError(f"live should be True or False, not {_shown(live)}")
    view = live_views["notebook"](model, X, y, epochs, threshold) if live else None  # shown before step 1
    history = History()
    order = list(range(n))
    bar = _progress_bar(progress, epochs)
    try:
        for epoch in range(1, epochs + 1):
            if batch_size < n:
                shuffler.shuffle(order)
            loss_sum = 0.0
            correct = 0
            for step, start in enumerate(range(0, n, batch_size), start=1):
                batch = order[start:start + batch_size]
                batch_outputs.clear()
                try:
                    if taped_loss is not None:
                        value = replayed_step(taped_loss, None if batch_size >= n else batch, optimizer)
                    else:
                        value = train_step(model, [X[i] for i in batch], [targets[i] for i in batch], batch_loss,
                                           optimizer, tape=tape)
                except (TrainingDivergedError, NonFiniteGradientError) as exc:
                    raise TrainingDivergedError(f"at epoch {epoch}, step {step}: {exc}") from None
                history.steps += 1
                loss_sum += value * len(batch)
                if taped_loss is not None and positives is not None:
                    correct += taped_loss.correct(threshold)
                elif positives is not None:
                    (outputs,) = batch_outputs
                    correct += sum(predicted_class(o, threshold) == positives[i] for o, i in zip(outputs, batch))
            history.loss.append(loss_sum / n)
            history.accuracy.append(correct / n if positives is not None else math.nan)
            if bar is not None:
                bar.set_postfix(loss=f"{history.loss[-1]:.4f}", accuracy=f"{history.accuracy[-1]:.1%}", refresh=False)
                bar.update(1)
            if view is not None:
                view.record(history.loss[-1], history.accuracy[-1])
    finally:
        if bar is not None:
            bar.close()
        if view is not None:
            view.close()
    return history


# -- helpers --------------------------------------------------------------------------------------


def _check_samples(model, X) -> None:
    """Refuse a sample a built-in model could not take (the wrong length, not numbers, NaN)."""
    nin = getattr(model, "nin", None)
    if type(nin) is not int:
        return  # a model of the user's own: its own forward says what it takes
    for i, x in enumerate(X):
        if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
            raise TypeError(f"X[{i}] should be a list of {nin} inputs, not {_shown(x)}")
        if len(x) != nin:
            raise ValueError(f"{model!r} expects {nin} inputs, got {len(x)} in X[{i}]")
        for j, xj in enumerate(x):
            if not isinstance(xj, Value):
                real_number(xj, f"X[{i}][{j}]")


def replayed_step(taped, rows, optimizer) -> float:
    """`train_step` with the model and the loss on one tape (`taped`, a `nn.replay.TapedLoss`),
    with the same checks and errors: the samples at `rows` (None: all of them) replayed at once.
    Returns the loss before the update."""
    try:
        value = taped.forward(rows)
    except (ArithmeticError, ValueError) as exc:  # as the engine refuses overflow and NaN on nodes
        raise _diverged(f"the forward pass failed ({exc})", optimizer) from exc
    if not math.isfinite(value):
        raise _diverged(f"loss is {value!r}", optimizer)
    optimizer.zero_grad()
    taped.backward()
    optimizer.step()
    return value


def _output_shape(model, x):
    """How many outputs `model` gives for x as a list, or None for a single Value (building no graph)."""
    with no_grad():
        out = model(x)
    return len(out) if isinstance(out, (list, tuple)) else None


def _output_count(model, x) -> int:
    """How many outputs `model` gives for the sample x (one forward pass, building no graph)."""
    with no_grad():
        out = model(x)
    return len(out) if isinstance(out, (list, tuple)) else 1


def _accuracy_classes(y):
    """The class of every sample, for the history's accuracy; None when y are not class labels."""
    try:
        return class_labels(y)
    except ValueError:  # e.g. regression targets such as -1, 0, 2, which are not labels at all
        return None


def _shown(x) -> str:
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _diverged(what: str, optimizer) -> TrainingDivergedError:
    return TrainingDivergedError(
        f"{what}; no parameter was updated (lr={optimizer.current_lr():g}: try a smaller learning rate)"
    )


def _check_optimizer(optimizer, model, params) -> None:
    """Refuse an optimizer that cannot train `model`: it would step, and nothing would change."""
    _check_is_optimizer(optimizer)
    mine = {id(p) for p in params}
    if not any(id(p) in mine for p in optimizer.params):
        raise ValueError(
            f"the optimizer holds none of the parameters of {model!r}, so training would change nothing; "
            f"build it from this model: {type(optimizer).__name__}(model.parameters(), ...)"
        )


def _check_is_optimizer(optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer should be an nn.optim Optimizer such as SGD(model.parameters(), lr=0.1), "
                        f"not {_shown(optimizer)}")


def _check_probability_output(model) -> None:
    # Refuse before training: the loss itself only objects once an output leaves [0, 1], which
    # a linear output may not do for a while. A model that does not say is left to that check.
    act = output_activation(model)
    if act is not None and act != "sigmoid":
        raise ValueError(
            f"loss='bce' needs probabilities, but the model's output activation is {act!r}; "
            f"use loss='bce_with_logits' for raw scores, or build the model with output_activation='sigmoid'"
        )


def _label_midpoint(y) -> float:
    """The boundary of an MSE model trained on binary labels: 0.5 for 0/1, 0.0 for -1/+1."""
    low = -1.0 if any(t == -1 for t in y) else 0.0
    return (low + 1.0) / 2


def _progress_bar(progress, epochs: int):
    """A tqdm bar, or None when progress is off, not wanted, or tqdm is not installed."""
    if progress is False:
        return None
    if progress is None:
        stream = sys.stderr
        if stream is None or not getattr(stream, "isatty", lambda: False)():
            return None
    try:
        from tqdm import tqdm  # optional extra: gradwalk[demos]
    except ImportError:
        if progress is True:
            warnings.warn("progress=True needs tqdm (pip install 'gradwalk[demos]'); training without a bar",
                          stacklevel=3)
        return None
    return tqdm(total=epochs, desc="fit", unit="epoch", file=sys.stderr)
