"""Loss functions: how wrong a batch of predictions is, as one Value to call `backward()` on.

Every loss takes a batch, `(predictions, targets)`, two lists of equal length, and
`reduction="mean"` (average over samples) or `"sum"`. A single prediction with a single target
is accepted too, as a batch of one. Targets outside a loss's domain are refused with a
ValueError instead of silently producing a meaningless number.

The losses on logits (`binary_cross_entropy_with_logits`, `cross_entropy`) and `softmax` are
written so that no intermediate can overflow: they stay finite, with finite gradients, for
logits of +-1000.
"""

from __future__ import annotations

import math

from engine import Value, dot, sum_values
from nn.module import real_number, whole_number

REDUCTIONS = ("mean", "sum")

LOSSES = ("hinge", "mse", "bce", "bce_with_logits", "cross_entropy")
"""Loss names `resolve_loss` (and so `fit` and `train_step`) accept; a function works too."""


def mse_loss(predictions, targets, reduction: str = "mean") -> Value:
    """Mean squared error: the average (or sum) of `(prediction - target) ** 2`."""
    preds, targs = _batch(predictions, targets, "mse_loss")
    terms = []
    for p, t in zip(preds, targs):
        d = p - _number(t, "mse_loss target")
        terms.append(d * d)
    return _reduce(terms, reduction)


def binary_cross_entropy(probabilities, targets, reduction: str = "mean", eps: float = 1e-7) -> Value:
    """Binary cross-entropy of probabilities: `-(t log p + (1 - t) log(1 - p))` per sample.

    Predictions must be probabilities in [0, 1] (say, a sigmoid output); anything outside
    raises ValueError, as in PyTorch. For raw scores (a linear output) use
    `binary_cross_entropy_with_logits`, which needs no clamp. Clamping a raw score would be
    wrong, not just imprecise: a clamped prediction passes no gradient, so training would
    silently stop.

    A prediction inside [0, 1] is clamped into [eps, 1 - eps], so a confident wrong answer
    costs about -log(eps) instead of log(0) = infinity; a clamped prediction (exactly 0 or 1,
    or within eps of it) passes no gradient. Targets must lie in [0, 1].
    """
    preds, targs = _batch(probabilities, targets, "binary_cross_entropy")
    if not 0.0 < real_number(eps, "binary_cross_entropy eps") < 0.5:
        raise ValueError(f"binary_cross_entropy needs 0 < eps < 0.5, got {eps!r}")
    terms = []
    for i, (p, t) in enumerate(zip(preds, targs)):
        t = _unit_target(t, "binary_cross_entropy")
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(
                f"binary_cross_entropy takes probabilities in [0, 1], but prediction {i} is {p.data!r}; "
                f"for raw scores use binary_cross_entropy_with_logits (or give the model a sigmoid output)"
            )
        if p.data < eps:
            p = Value(eps)
        elif p.data > 1.0 - eps:
            p = Value(1.0 - eps)
        # A zero coefficient would only add an exact 0; skipping it keeps the graph smaller.
        if t == 1.0:
            terms.append(-p.log())
        elif t == 0.0:
            terms.append(-(1.0 - p).log())
        else:
            terms.append(-(p.log() * t + (1.0 - p).log() * (1.0 - t)))
    return _reduce(terms, reduction)


def binary_cross_entropy_with_logits(logits, targets, reduction: str = "mean") -> Value:
    """Binary cross-entropy of raw scores z: `softplus(z) - t z` per sample.

    This equals `-(t log sigmoid(z) + (1 - t) log(1 - sigmoid(z)))` but never forms the
    sigmoid, so it stays finite for any logit; its gradient is `sigmoid(z) - t`.
    Targets must lie in [0, 1].
    """
    preds, targs = _batch(logits, targets, "binary_cross_entropy_with_logits")
    terms = []
    for z, t in zip(preds, targs):
        t = _unit_target(t, "binary_cross_entropy_with_logits")
        terms.append(z.softplus() - z * t if t else z.softplus())
    return _reduce(terms, reduction)


def hinge_loss(scores, labels, reduction: str = "mean") -> Value:
    """Max-margin (hinge) loss: `relu(1 - y * s)` per sample, labels y in {-1, +1}.

    Zero once a sample is on the right side with margin 1; scores are raw (linear output).
    """
    preds, targs = _batch(scores, labels, "hinge_loss")
    terms = []
    for s, y in zip(preds, targs):
        label = real_number(y, "hinge_loss label")
        if label == 1.0:
            terms.append((1.0 - s).relu())
        elif label == -1.0:
            terms.append((s + 1.0).relu())
        else:
            raise ValueError(f"hinge_loss labels must be -1 or +1, got {y!r}{_hinge_hint(label)}")
    return _reduce(terms, reduction)


def cross_entropy(logits, targets, reduction: str = "mean") -> Value:
    """Softmax cross-entropy: `log(sum_j exp(z_j)) - z_c` per sample, c its class index.

    `logits` is a list with one list of K scores per sample (or one such list for a single
    sample with an int target). The log-sum-exp is shifted by the largest logit, so no
    exponent is ever positive and nothing overflows.
    """
    if logits and not isinstance(logits[0], (list, tuple)) and not isinstance(targets, (list, tuple)):
        logits, targets = [logits], [targets]  # a single sample
    rows, classes = _pairs(logits, targets, "cross_entropy")
    terms = []
    for row, c in zip(rows, classes):
        if not isinstance(row, (list, tuple)) or not row:
            raise ValueError(f"cross_entropy needs a non-empty list of logits per sample, got {row!r:.60}")
        row = [_as_value(z, "cross_entropy logit") for z in row]
        c = _class_index(c, len(row), "cross_entropy class index")
        m = max(z.data for z in row)
        # The shift m is a constant: the log-sum-exp's gradient (the softmax) does not depend on it.
        lse = sum_values([(z - m).exp() for z in row]).log() + m
        terms.append(lse - row[c])
    return _reduce(terms, reduction)


def softmax(logits) -> list[Value]:
    """The probabilities K scores (logits) stand for: `exp(z_i) / sum_j exp(z_j)`, as Values.

    Each output is a node that gradients flow through. The scores are shifted by their largest
    value first (which leaves the result unchanged), so no exponent is ever positive and logits
    of +-1000 give finite probabilities. `cross_entropy` is `-log` of the true class's entry.

        >>> [round(p.data, 4) for p in softmax([1.0, 2.0, 3.0])]
        [0.09, 0.2447, 0.6652]
    """
    if not isinstance(logits, (list, tuple)) or not logits:
        raise ValueError(f"softmax needs a non-empty list of logits, got {logits!r:.60}")
    row = [_as_value(z, "softmax logit") for z in logits]
    m = max(z.data for z in row)
    exps = [(z - m).exp() for z in row]
    total = sum_values(exps)
    return [e / total for e in exps]


def l2_penalty(params, alpha: float) -> Value:
    """`alpha * sum(p * p)`: the L2 (weight decay) penalty, added to a loss to keep weights small.

    The sum of squares is a single fused `dot(params, params)` node rather than one `*` node per
    parameter, which keeps every training step's graph small.
    """
    weight = real_number(alpha, "l2_penalty alpha")
    if not math.isfinite(weight) or weight < 0:
        raise ValueError(f"l2_penalty needs a finite alpha >= 0, got {alpha!r}")
    params = list(params)
    for p in params:
        if not isinstance(p, Value):
            raise TypeError(f"l2_penalty takes Values, not {type(p).__name__}")
    return dot(params, params) * weight


def resolve_loss(loss):
    """The loss function `loss` names (one of `LOSSES`), or `loss` itself when it is a function
    `(outputs, targets) -> Value`.

        >>> resolve_loss("mse") is mse_loss
        True
    """
    if isinstance(loss, str):
        functions = {"hinge": hinge_loss, "mse": mse_loss, "bce": binary_cross_entropy,
                     "bce_with_logits": binary_cross_entropy_with_logits, "cross_entropy": cross_entropy}
        if loss not in functions:
            raise ValueError(f"unknown loss {loss!r:.60}; choose one of {', '.join(LOSSES)} or pass a function "
                             "(outputs, targets) -> Value")
        return functions[loss]
    if callable(loss):
        return loss
    raise TypeError(f"loss should be a name ({', '.join(LOSSES)}) or a function (outputs, targets) -> Value, "
                    f"not {type(loss).__name__} {loss!r:.60}")


def loss_targets(loss, y, classes: int | None = None) -> list:
    """`y` checked whole for the loss `loss` names, and converted to that loss's convention.

    "hinge" takes two classes labelled 0/1 or -1/+1 and gives -1/+1; "bce" and "bce_with_logits"
    take 0/1 or -1/+1 labels (giving 0/1) or targets in [0, 1]; "mse" takes any finite numbers;
    "cross_entropy" takes class indices 0..classes-1 (`classes`: the model's number of outputs,
    when known). Numbers may be numpy's. A loss function gets `y` as it is. Errors name the
    first bad sample, `y[i]`, so a training loop can check every label before its first step.

        >>> loss_targets("hinge", [0, 1, 1])
        [-1.0, 1.0, 1.0]
    """
    resolve_loss(loss)  # an unknown name or type is refused here too
    if not isinstance(loss, str):
        return y
    y = list(y)
    if loss == "cross_entropy":
        return [_class_index(t, classes, f"loss='cross_entropy': y[{i}]") if classes else
                whole_number(t, f"loss='cross_entropy': y[{i}]", minimum=0) for i, t in enumerate(y)]
    values = [_number(t, f"loss={loss!r}: y[{i}]") for i, t in enumerate(y)]
    if loss == "mse":
        return values
    if -1.0 in values and 0.0 in values:
        raise ValueError(f"loss={loss!r}: labels mix 0 (y[{values.index(0.0)}]) and -1 (y[{values.index(-1.0)}]); "
                         "use either 0/1 or -1/+1")
    if loss == "hinge":
        for i, v in enumerate(values):
            if v not in (-1.0, 0.0, 1.0):
                hint = _hinge_hint(v) if v != 0.0 else ""
                raise ValueError(f"loss='hinge' takes two classes labelled 0/1 or -1/+1, but y[{i}] is {y[i]!r}{hint}")
        return [1.0 if v == 1.0 else -1.0 for v in values]
    for i, v in enumerate(values):
        if v != -1.0 and not 0.0 <= v <= 1.0:
            raise ValueError(f"loss={loss!r} takes 0/1 or -1/+1 labels or targets in [0, 1], but y[{i}] is {y[i]!r}")
    return [0.0 if v == -1.0 else v for v in values]


# -- helpers --------------------------------------------------------------------------------------


def _batch(predictions, targets, name: str) -> tuple[list[Value], list]:
    """Predictions as Values and targets as a list, both checked non-empty and equally long."""
    if not isinstance(predictions, (list, tuple)):
        if isinstance(targets, (list, tuple)):
            raise ValueError(f"{name}: one prediction but {len(targets)} targets")
        predictions, targets = [predictions], [targets]  # a single sample
    preds, targs = _pairs(predictions, targets, name)
    return [_as_value(p, f"{name} prediction") for p in preds], targs


def _pairs(predictions, targets, name: str) -> tuple[list, list]:
    if not isinstance(targets, (list, tuple)):
        raise ValueError(f"{name}: {len(predictions)} predictions but a single target {targets!r}")
    if len(predictions) != len(targets):
        raise ValueError(f"{name}: {len(predictions)} predictions but {len(targets)} targets")
    if not predictions:
        raise ValueError(f"{name}: empty batch (no predictions)")
    return list(predictions), list(targets)


def _as_value(p, what: str) -> Value:
    if isinstance(p, Value):
        return p
    return Value(_number(p, what))


def _number(t, what: str) -> float:
    t = real_number(t, what)
    if not math.isfinite(t):
        raise ValueError(f"{what} should be finite, got {t!r}")
    return t


def _unit_target(t, name: str) -> float:
    t = _number(t, f"{name} target")
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"{name} targets must lie in [0, 1], got {t!r}")
    return t


def _class_index(c, classes: int, where: str) -> int:
    c = whole_number(c, where)
    if not 0 <= c < classes:
        raise ValueError(f"{where} must be one of the classes 0..{classes - 1} (one per output), got {c!r}")
    return c


def _hinge_hint(label: float) -> str:
    """What to do about a label hinge cannot take: 2*y - 1 turns 0/1 labels into -1/+1, and only those."""
    if label == 0.0:
        return " (for 0/1 labels use 2*y - 1, or fit(loss='hinge'), which converts them)"
    if label.is_integer() and label > 1:
        return " (hinge separates two classes; for more, use cross_entropy with one output per class)"
    return ""


def _reduce(terms: list[Value], reduction: str) -> Value:
    if reduction == "mean":
        return sum_values(terms) / len(terms)
    if reduction == "sum":
        return sum_values(terms)
    raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
