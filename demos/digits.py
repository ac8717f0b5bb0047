"""Handwritten digits: a softmax MLP learns to read 8x8 scans, with every gradient from backprop.

1,797 handwritten digits (8x8 pixels, ink scaled to [0, 1]) from scikit-learn's bundled copy,
split 75/25 into a training and a test set with a fixed seed, each pixel then standardised with
the training set's mean and spread (`Standardizer`). An MLP 64-32-10 (one hidden layer
of 32 ReLU units, then 10 linear outputs: one score per digit) is trained with softmax
cross-entropy and Adam on shuffled minibatches of 32. After each epoch the demo prints how long
the epoch took, the mean training loss and the accuracy on the test set, digits the network
never trained on; at the end, the confusion matrix and a picture of the test digits it got
wrong. With the defaults it reaches about 97% test accuracy in 10 epochs.

Which path trains: gradwalk's ordinary path builds a fresh graph of Values for every sample and
walks it node by node (what the rest of gradwalk shows you). The replay path, `fit(...,
replay=True)`, records the model's graph once and replays it for whole batches with numpy; it is
used when numpy is installed (pip install 'gradwalk[fast]'), and gives the same numbers. The
demo says which path ran and how long an epoch took on each.

Writes into the output folder (default out/digits):
    misclassified.png  the test digits the network got wrong, each with its true and predicted digit

Run (needs scikit-learn and matplotlib: pip install 'gradwalk[data,demos]'):
    python demos/digits.py
    python demos/digits.py --epochs 2 --samples 600 --out /tmp/digits --quiet
"""

from __future__ import annotations

import argparse
import inspect
import os
import random
import time

from nn import MLP, Adam, Standardizer, accuracy, fit, load_digits, predict, predict_proba, train_test_split

SEED = 0  # seeds the split, the initial weights and the minibatch order
DIGITS = 10
SIDE = 8  # each sample is an 8x8 image, read row by row


# -- which training path ---------------------------------------------------------------------------
# The one place where the demo chooses how to train. The replay path is an option of `fit`: when
# `fit` accepts `replay=` and numpy is importable, it is used; otherwise every step runs node by
# node. Nothing else in the demo depends on the path.


def replay_available() -> bool:
    """True when `nn.fit` can replay a recorded step with numpy (the fast path), False otherwise."""
    if "replay" not in inspect.signature(fit).parameters:
        return False
    try:
        import numpy  # noqa: F401  (the replay path computes with numpy)
    except ImportError:
        return False
    return True


def train_one_epoch(model, optimizer, X, y, *, batch_size: int, rng: random.Random, replay: bool):
    """One pass over (X, y) in shuffled minibatches; returns fit's one-epoch History."""
    options = {"replay": True} if replay else {}
    return fit(model, X, y, loss="cross_entropy", optimizer=optimizer, epochs=1, batch_size=batch_size, rng=rng,
               progress=False, **options)


# -- training and evaluation -----------------------------------------------------------------------


def build_model(hidden: int, seed: int) -> MLP:
    # He initialisation suits ReLU; the output is linear: raw scores (logits), one per digit.
    return MLP(SIDE * SIDE, [hidden, DIGITS], activation="relu", output_activation="linear", init="he", seed=seed)


def confusion_matrix(true, predicted, classes: int = DIGITS) -> list[list[int]]:
    """counts[t][p]: how many samples of class t were predicted as p (the diagonal is correct)."""
    counts = [[0] * classes for _ in range(classes)]
    for t, p in zip(true, predicted):
        counts[t][p] += 1
    return counts


def format_confusion(counts) -> str:
    header = "true \\ predicted " + "".join(f"{p:>4}" for p in range(len(counts)))
    lines = [header]
    for t, row in enumerate(counts):
        lines.append(f"{t:>16} " + "".join(f"{c:>4}" for c in row))
    return "\n".join(lines)


def plot_misclassified(X, true, predicted, confidence, path, *, limit: int = 40) -> int:
    """Draw up to `limit` misclassified digits into `path` (PNG), each titled with its true digit,
    the predicted one and the probability the network gave that (wrong) answer; returns how many
    were wrong. `confidence[i]` is that probability for sample i (None where it was right)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # optional extra: gradwalk[demos]
    from matplotlib.figure import Figure

    wrong = [i for i, (t, p) in enumerate(zip(true, predicted)) if t != p]
    shown = wrong[:limit]
    columns = 10
    rows = max(1, -(-len(shown) // columns))
    fig = Figure(figsize=(columns * 1.0, rows * 1.25 + 0.5))
    FigureCanvasAgg(fig)  # draw with the Agg canvas directly: no window, no pyplot state
    fig.suptitle(f"{len(wrong)} of {len(true)} test digits misclassified (true -> predicted, its probability)"
                 + (f", first {len(shown)} shown" if len(shown) < len(wrong) else ""))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, shown):
        image = [X[i][r * SIDE:(r + 1) * SIDE] for r in range(SIDE)]
        ax.imshow(image, cmap="gray_r", vmin=0.0, vmax=max(1.0, max(X[i])), interpolation="nearest")
        ax.set_title(f"{true[i]} -> {predicted[i]} ({confidence[i]:.0%})", fontsize=9, color="tab:red")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    return len(wrong)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("out", "digits"), help="output folder")
    parser.add_argument("--epochs", type=int, default=10, help="passes over the training set")
    parser.add_argument("--batch-size", type=int, default=32, help="samples per Adam step")
    parser.add_argument("--hidden", type=int, default=32, help="width of the hidden layer")
    parser.add_argument("--lr", type=float, default=0.01, help="Adam's learning rate")
    parser.add_argument("--samples", type=int, default=None,
                        help="use only the first N of the 1,797 digits (a quicker, weaker run)")
    parser.add_argument("--path", choices=("auto", "node", "replay"), default="auto",
                        help="training path: replay when available (auto), or force one")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    if args.samples is not None and args.samples < 20:
        parser.error(f"--samples must be at least 20, got {args.samples}")
    replay = {"auto": replay_available(), "node": False, "replay": True}[args.path]
    if replay and not replay_available():
        parser.error("the replay path is not available: it needs a gradwalk whose fit() has replay= and numpy")
    say = (lambda *a, **k: None) if args.quiet else print
    os.makedirs(args.out, exist_ok=True)
    say(f"output folder: {os.path.abspath(args.out)}")

    X, y = load_digits()  # pixels scaled to [0, 1]
    if args.samples is not None:
        X, y = X[:args.samples], y[:args.samples]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.25, seed=args.seed)
    # Pixels near the border are almost always blank; standardising gives every pixel the same
    # spread, so Adam's first steps move all weights alike. The scaling is learned from the
    # training digits only (a blank pixel keeps scale 1), then applied to both sets.
    scaler = Standardizer().fit(X_train)
    Z_train, Z_test = scaler.transform(X_train), scaler.transform(X_test)
    model = build_model(args.hidden, args.seed)
    optimizer = Adam(model.parameters(), lr=args.lr)
    shuffler = random.Random(args.seed)
    path_name = "replay (numpy)" if replay else "node by node"
    say(f"{model}: {len(model.parameters())} parameters; {len(X_train)} training and {len(X_test)} test digits")
    say(f"training path: {path_name}")

    epoch_seconds, losses, test_accuracies = [], [], []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        history = train_one_epoch(model, optimizer, Z_train, y_train, batch_size=args.batch_size, rng=shuffler,
                                  replay=replay)
        epoch_seconds.append(time.perf_counter() - start)
        losses.append(history.loss[-1])
        test_accuracies.append(accuracy(model, Z_test, y_test))
        say(f"epoch {epoch:>2}/{args.epochs}  {epoch_seconds[-1]:6.2f} s  loss {losses[-1]:.4f}  "
            f"train accuracy {history.accuracy[-1]:6.1%}  test accuracy {test_accuracies[-1]:6.1%}")

    mean_epoch = sum(epoch_seconds) / len(epoch_seconds)
    timings = {("replay" if replay else "node"): mean_epoch}
    if replay:
        # For comparison: one node-by-node epoch of a fresh copy of the same model.
        twin = build_model(args.hidden, args.seed)
        start = time.perf_counter()
        train_one_epoch(twin, Adam(twin.parameters(), lr=args.lr), Z_train, y_train, batch_size=args.batch_size,
                        rng=random.Random(args.seed), replay=False)
        timings["node"] = time.perf_counter() - start
    say(f"time per epoch: node by node {timings['node']:.2f} s; replay "
        + (f"{timings['replay']:.2f} s" if "replay" in timings else
           "not run (not available in this gradwalk: nn.fit has no replay option, or numpy is missing)"))

    predicted = predict(model, Z_test)
    counts = confusion_matrix(y_test, predicted)
    final_accuracy = test_accuracies[-1]
    say(f"final test accuracy: {final_accuracy:.1%} ({sum(counts[d][d] for d in range(DIGITS))} of {len(y_test)})")
    say("confusion matrix (rows: true digit, columns: predicted digit)")
    say(format_confusion(counts))

    files = []
    # How sure was the network of each wrong answer? The softmax of its 10 scores says.
    confidence = [None] * len(y_test)
    mistakes = [i for i, (t, p) in enumerate(zip(y_test, predicted)) if t != p]
    for i, probabilities in zip(mistakes, predict_proba(model, [Z_test[i] for i in mistakes])):
        confidence[i] = probabilities[predicted[i]]
    path = os.path.join(args.out, "misclassified.png")
    wrong = plot_misclassified(X_test, y_test, predicted, confidence, path)  # the scans, not standardised
    files.append(path)
    say(f"wrote {path}  ({wrong} misclassified test digits)")

    return {
        "out": args.out,
        "path": "replay" if replay else "node",
        "epochs": args.epochs,
        "epoch_seconds": epoch_seconds,
        "seconds_per_epoch": timings,
        "loss": losses,
        "test_accuracy": test_accuracies,
        "accuracy": final_accuracy,
        "confusion": counts,
        "misclassified": wrong,
        "n_train": len(X_train),
        "n_test": len(X_test),
        "n_params": len(model.parameters()),
        "files": files,
    }


if __name__ == "__main__":
    main()
