"""A training loop (`fit`), and `predict` / `accuracy` for classifiers.

How outputs become class predictions (used by `predict`, `accuracy` and `fit`'s accuracy):

* a model with one output gives a score s per sample, and predicts class 1 when
  s > threshold, else class 0. The threshold is 0.5 when the model's output activation is
  "sigmoid" (its output is a probability) and 0.0 otherwise (a raw score or logit), unless
  you pass `threshold=` yourself. A model trained with "mse" on class labels learns to output
  the labels themselves, so its boundary is their midpoint: `fit` uses 0.5 (0/1 labels) or 0.0
  (-1/+1 labels) for its history; pass the same `threshold=` to `predict` and `accuracy`;
* a model with K > 1 outputs predicts the index of its largest output (the first one on ties).

Binary labels may be written 0/1 or -1/+1: for the comparison, -1 counts as class 0.
"""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass, field

from engine import Value, no_grad
from nn import losses as _losses
from nn.layers import output_activation
from nn.module import resolve_rng
from nn.optim import SGD, NonFiniteGradientError, Optimizer


class TrainingDivergedError(FloatingPointError):
    """The loss or a gradient became NaN or infinite; the message says at which epoch and step."""


@dataclass
class History:
    """What `fit` measured, one entry per epoch.

    `loss` is the mean training loss over the epoch's batches (including the L2 penalty) and
    `accuracy` the fraction of training samples classified correctly (for "mse", thresholded at
    the midpoint of the labels, see the module docstring), both measured on each
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


LOSSES = ("hinge", "mse", "bce", "bce_with_logits", "cross_entropy")
"""Loss names `fit` accepts (a callable `loss(outputs, targets) -> Value` works too)."""


def fit(model, X, y, *, loss="hinge", optimizer: Optimizer | None = None, epochs: int = 100, batch_size=None,
        l2: float = 0.0, progress=None, seed=None, rng=None) -> History:
    """Train `model` on `(X, y)` and return the per-epoch `History`.

    Args:
        model: a callable `Module` (e.g. `MLP`).
        X, y: samples (lists of inputs) and their labels/targets.
        loss: a name from `LOSSES` or a callable `(outputs, targets) -> Value`. The named binary
            losses accept 0/1 or -1/+1 labels and convert them to their own convention
            ("hinge" wants -1/+1, "bce*" want 0/1); "mse" uses targets as given. "bce" needs
            probabilities, so it refuses a model whose output activation is not "sigmoid".
        optimizer: an `Optimizer` over the model's parameters; default `SGD(lr=0.1)`.
        epochs: passes over the data.
        batch_size: samples per step; None (default) means the full batch, one step per epoch.
            Smaller batches are reshuffled every epoch with `seed` / `rng`.
        l2: weight of the L2 penalty `l2 * sum(p * p)` added to the loss (0 disables it).
        progress: None shows a tqdm bar only when stderr is a terminal, True always (when
            tqdm is installed), False never. The bar shows loss and accuracy.

    Raises TrainingDivergedError when the loss or a gradient stops being finite, naming the
    epoch and step; the parameters then hold the last finite values.
    """
    X, y = list(X), list(y)
    if not X:
        raise ValueError("fit needs at least one sample, got an empty dataset")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    if type(epochs) is not int or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    n = len(X)
    if batch_size is None:
        batch_size = n
    elif type(batch_size) is not int or batch_size < 1:
        raise ValueError(f"batch_size must be None or an int >= 1, got {batch_size!r}")
    loss_fn, targets = _resolve_loss(loss, y)
    if isinstance(loss, str) and loss == "bce":
        _check_probability_output(model)
    params = model.parameters()
    if optimizer is None:
        optimizer = SGD(params, lr=0.1)
    elif not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer should be an nn.optim Optimizer, not {type(optimizer).__name__}")
    if l2:
        _losses.l2_penalty([], l2)  # validates l2 before any training happens
    shuffler = resolve_rng(seed, rng)
    positives = _class_labels(y)  # None when y are not class labels
    threshold = _default_threshold(model)
    if isinstance(loss, str) and loss == "mse" and positives is not None:
        threshold = _label_midpoint(y)

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
                outputs = [model(X[i]) for i in batch]
                total = loss_fn(outputs, [targets[i] for i in batch])
                if l2:
                    total = total + _losses.l2_penalty(params, l2)
                value = total.data
                if not math.isfinite(value):
                    raise TrainingDivergedError(
                        f"loss is {value!r} at epoch {epoch}, step {step}; training stopped "
                        f"(lr={optimizer.current_lr():g}: try a smaller learning rate)"
                    )
                optimizer.zero_grad()
                total.backward()
                try:
                    optimizer.step()
                except NonFiniteGradientError as exc:
                    raise TrainingDivergedError(f"at epoch {epoch}, step {step}: {exc}") from None
                history.steps += 1
                loss_sum += value * len(batch)
                if positives is not None:
                    correct += _count_correct(outputs, [positives[i] for i in batch], threshold)
            history.loss.append(loss_sum / n)
            history.accuracy.append(correct / n if positives is not None else math.nan)
            if bar is not None:
                bar.set_postfix(loss=f"{history.loss[-1]:.4f}", accuracy=f"{history.accuracy[-1]:.1%}", refresh=False)
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return history


def predict(model, X, *, threshold=None) -> list[int]:
    """Class predictions for the samples X (see the module docstring for the rule)."""
    if threshold is None:
        threshold = _default_threshold(model)
    with no_grad():
        return [_predicted_class(model(x), threshold) for x in X]


def accuracy(model, X, y, *, threshold=None) -> float:
    """Fraction of samples whose predicted class equals the label (0/1, -1/+1 or 0..K-1).

    The default `threshold` suits a model trained with hinge or cross-entropy (0.5 for a
    sigmoid output, else 0.0). A model trained with MSE on class labels outputs values near
    the labels, so its boundary is the midpoint of the two label values: pass `threshold=0.5`
    for 0/1 labels (`threshold=0.0` for -1/+1), as `fit` does for its history.
    """
    X, y = list(X), list(y)
    if not X:
        raise ValueError("accuracy needs at least one sample, got an empty dataset")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    classes = _class_labels(y)
    if classes is None:
        raise ValueError("accuracy needs class labels (0/1, -1/+1 or class indices 0..K-1)")
    predicted = predict(model, X, threshold=threshold)
    return sum(p == c for p, c in zip(predicted, classes)) / len(X)


# -- helpers --------------------------------------------------------------------------------------


def _resolve_loss(loss, y):
    """The loss function and the targets converted to its label convention."""
    if callable(loss):
        return loss, y
    if loss == "hinge":
        return _losses.hinge_loss, [(-1 if t == 0 else t) if _is_label(t) else t for t in y]
    if loss in ("bce", "bce_with_logits"):
        fn = _losses.binary_cross_entropy if loss == "bce" else _losses.binary_cross_entropy_with_logits
        return fn, [(0 if t == -1 else t) if _is_label(t) else t for t in y]
    if loss == "mse":
        return _losses.mse_loss, y
    if loss == "cross_entropy":
        return _losses.cross_entropy, y
    raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)} or pass a function")


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


def _is_label(t) -> bool:
    return not isinstance(t, bool) and isinstance(t, (int, float)) and t in (-1, 0, 1)


def _class_labels(y):
    """Labels as class indices (-1 becomes 0), or None when y are not all class labels.

    Mixing 0 and -1 in one label list is refused: it means the data is labelled inconsistently.
    """
    classes = []
    for t in y:
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t != int(t) or t < -1:
            return None
        classes.append(int(t))
    if -1 in classes:
        if 0 in classes:
            raise ValueError("labels mix 0 and -1; use either 0/1 or -1/+1 for a binary task")
        if any(c > 1 for c in classes):
            raise ValueError("label -1 only makes sense for a binary task with -1/+1 labels")
        classes = [0 if c == -1 else c for c in classes]
    return classes


def _default_threshold(model) -> float:
    return 0.5 if output_activation(model) == "sigmoid" else 0.0


def _predicted_class(out, threshold: float) -> int:
    if isinstance(out, Value):
        return 1 if out.data > threshold else 0
    if isinstance(out, (list, tuple)):
        if len(out) == 1:
            return 1 if _data(out[0]) > threshold else 0
        scores = [_data(o) for o in out]
        return scores.index(max(scores))  # index() returns the first of equal maxima
    return 1 if _data(out) > threshold else 0


def _data(v) -> float:
    return v.data if isinstance(v, Value) else float(v)


def _count_correct(outputs, classes, threshold: float) -> int:
    return sum(_predicted_class(o, threshold) == c for o, c in zip(outputs, classes))


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
