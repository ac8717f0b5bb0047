"""From a model's outputs to classes: `predicted_class`, `predict`, `predict_proba`, `accuracy`.

The one rule, used by all of them, by `fit`'s accuracy and by `nn.plot`:

* a model with one output gives a score s per sample, and predicts class 1 when
  s > threshold, else class 0. The threshold is 0.5 when the model's output activation is
  "sigmoid" (its output is a probability) and 0.0 otherwise (a raw score or logit), unless
  you pass `threshold=` yourself. A model trained with "mse" on class labels learns to output
  the labels themselves, so its boundary is their midpoint: `fit` uses 0.5 (0/1 labels) or 0.0
  (-1/+1 labels) for its history; pass the same `threshold=` to `predict` and `accuracy`;
* a model with K > 1 outputs predicts the index of its largest output (the first one on ties),
  as PyTorch's `argmax` does: class indices 0..K-1.

Binary labels may be written 0/1 or -1/+1: for the comparison, -1 counts as class 0.
"""

from __future__ import annotations


from engine import Value, as_value, no_grad
from nn.losses import softmax
from nn.module import real_number


def predicted_class(output, threshold: float = 0.0) -> int:
    """The class a model's output stands for: a single score above `threshold` is class 1 (else 0);
    a list of K > 1 scores is the index of the largest (the first on ties).

        >>> predicted_class(Value(0.3)), predicted_class(-0.3), predicted_class([0.1, 2.0, -1.0])
        (1, 0, 1)
    """
    if isinstance(output, (list, tuple)):
        if len(output) != 1:
            scores = [_data(o) for o in output]
            return scores.index(max(scores))  # index() returns the first of equal maxima
        output = output[0]
    return 1 if _data(output) > threshold else 0


def default_threshold(model) -> float:
    """The threshold for a one-output `model`: 0.5 for a sigmoid output (a probability), else 0.0."""
    return 0.5 if output_activation(model) == "sigmoid" else 0.0


def output_activation(model) -> str | None:
    """The activation of a built-in model's output ("sigmoid" means it outputs probabilities);
    None for a model that does not say."""
    return getattr(model, "output_activation", None) or getattr(model, "activation", None)


def predict(model, X, *, threshold=None) -> list[int]:
    """Class predictions for the samples X (see the module docstring for the rule), under `no_grad`."""
    if threshold is None:
        threshold = default_threshold(model)
    with no_grad():
        return [predicted_class(model(x), threshold) for x in X]


def predict_proba(model, X) -> list[list[float]]:
    """For each sample of X, the probability of each class, as a list of floats summing to 1.

    A model with K > 1 outputs reads them as logits: the probabilities are their softmax (what
    `cross_entropy` trains). A one-output model gives `[1 - p, p]` with p = P(class 1): its
    output itself when its output activation is "sigmoid", else sigmoid(output), the
    probability a logit stands for (what `bce_with_logits` trains). The most probable class is
    always the one `predict` returns with its default threshold.

        >>> from nn import Neuron
        >>> n = Neuron(1, "linear", seed=0)
        >>> n.w[0].data, n.b.data = 1.0, 0.0
        >>> [[round(p, 4) for p in row] for row in predict_proba(n, [[0.0], [2.0]])]
        [[0.5, 0.5], [0.1192, 0.8808]]
    """
    is_probability = output_activation(model) == "sigmoid"
    rows = []
    with no_grad():
        for x in X:
            out = model(x)
            if isinstance(out, (list, tuple)):
                if len(out) != 1:
                    rows.append([p.data for p in softmax(out)])
                    continue
                out = out[0]
            out = as_value(out)
            p = (out if is_probability else out.sigmoid()).data
            rows.append([1.0 - p, p])
    return rows


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
    classes = class_labels(y)
    if classes is None:
        raise ValueError("accuracy needs class labels (0/1, -1/+1 or class indices 0..K-1)")
    predicted = predict(model, X, threshold=threshold)
    return sum(p == c for p, c in zip(predicted, classes)) / len(X)


def class_labels(y):
    """Labels as class indices (-1 becomes 0), or None when y are not all class labels.

    Mixing 0 and -1 in one label list is refused: it means the data is labelled inconsistently.
    """
    classes = []
    for t in y:
        try:
            t = real_number(t, "label")
        except (TypeError, ValueError):
            return None
        if not t.is_integer() or t < -1:  # is_integer is False for infinities too
            return None
        classes.append(int(t))
    if -1 in classes:
        if 0 in classes:
            raise ValueError("labels mix 0 and -1; use either 0/1 or -1/+1 for a binary task")
        if any(c > 1 for c in classes):
            raise ValueError("label -1 only makes sense for a binary task with -1/+1 labels")
        classes = [0 if c == -1 else c for c in classes]
    return classes


def _data(v) -> float:
    return v.data if isinstance(v, Value) else float(v)
