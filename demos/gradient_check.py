"""Gradient checking: verify backprop against finite differences, one parameter group at a time.

Reproduces the "Gradient Checking" and "Practical Exercise" parts of article 003 ("What is
Backpropagation?"): 1000 points drawn from a 2-D standard normal, labelled 1 when x1 + x2 > 0,
a 2-4-1 network with sigmoid units and He initialisation (weights ~ N(0, 2 / fan_in), biases 0),
the binary cross-entropy loss, full-batch gradient descent with a loss plot, and then the check:
for every parameter p, the central difference (L(p + eps) - L(p - eps)) / (2 eps) is compared
with backprop's dL/dp, and each group (W1, b1, W2, b2) is scored with the relative difference

    ||numerical - backprop|| / (||numerical|| + ||backprop||)

which is scale-free: around 1e-9 means the gradients agree to the precision finite differences
can reach, while a real bug gives something near 1e-2 or worse. The demo ends by showing what a
classic bug looks like: backpropagating the summed loss while checking the mean (the forgotten
1/m of the article's formulas).

The article trains with learning rate 0.01 for 2000 iterations. gradwalk computes with Python
scalars, so 2000 passes over 1000 points take minutes; the default here is learning rate 1.0
for 200 iterations, which gets further in a tenth of the time. `--lr 0.01 --epochs 2000`
runs the article's schedule.

Writes into the output folder (default out/gradient_check):
    loss.png    loss and accuracy per iteration

Run:
    python demos/gradient_check.py
    python demos/gradient_check.py --epochs 20 --quiet
"""

from __future__ import annotations

import argparse
import math
import os
import random

from engine import numerical_grad_wrt
from nn import MLP, SGD, accuracy, binary_cross_entropy, fit, plot_history

DATA_SEED = 42  # the article's np.random.seed(42) (our generator differs, so the points do too)
MODEL_SEED = 0
EPS = 1e-5  # the finite-difference step (see the note in check_gradients)


def make_data(n: int, seed: int):
    """n points from a 2-D standard normal; class 1 on the side x1 + x2 > 0."""
    rng = random.Random(seed)
    X = [[rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)] for _ in range(n)]
    y = [int(x1 + x2 > 0) for x1, x2 in X]
    return X, y


def group_of(name: str) -> str:
    """`layers.0.neurons.3.w.1` -> `W1`, `layers.1.neurons.0.b` -> `b2`: the article's groups."""
    parts = name.split(".")
    layer = int(parts[1]) + 1
    return f"W{layer}" if parts[4] == "w" else f"b{layer}"


def relative_difference(a: list[float], b: list[float]) -> float:
    norm = lambda v: math.sqrt(sum(x * x for x in v))  # noqa: E731
    denominator = norm(a) + norm(b)
    return norm([x - y for x, y in zip(a, b)]) / denominator if denominator else 0.0


def check_gradients(model, X, y, eps: float = EPS, sum_bug: bool = False) -> dict:
    """Relative difference between finite differences and backprop, per parameter group.

    With sum_bug=True, backprop runs on the *summed* loss while finite differences measure the
    mean: the classic forgotten-1/m bug, to show what a failed check looks like.
    """

    def loss_value():
        return binary_cross_entropy([model(x) for x in X], y)

    # Backprop: one forward pass that records the graph, one backward pass.
    model.zero_grad()
    loss = binary_cross_entropy([model(x) for x in X], y, reduction="sum" if sum_bug else "mean")
    loss.backward()

    # Finite differences: two forward passes per parameter, nudging it down and up by eps. The
    # estimate has two errors pulling in opposite directions: truncation, ~eps^2 (the curvature
    # the central difference ignores), and rounding: L(p + eps) - L(p - eps) carries the float
    # rounding of a 1000-term sum, and dividing by 2 eps magnifies it as eps shrinks. The article
    # uses eps = 1e-7; on this data at initialisation that alone gives b1 a relative difference
    # of 3e-7, failing a correct backprop. eps = 1e-5 balances the two (about 1e-9 here);
    # `--eps-sweep` prints the whole trade-off.
    names, params = zip(*model.named_parameters())
    slopes = numerical_grad_wrt(loss_value, params, eps=eps)
    numerical, backprop = {}, {}
    for name, p, slope in zip(names, params, slopes):
        group = group_of(name)
        numerical.setdefault(group, []).append(slope)
        backprop.setdefault(group, []).append(p.grad)
    return {group: relative_difference(numerical[group], backprop[group]) for group in numerical}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("out", "gradient_check"), help="output folder")
    parser.add_argument("--epochs", type=int, default=200, help="full-batch gradient-descent iterations")
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate (the article uses 0.01)")
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--eps-sweep", action="store_true", help="also check at eps = 1e-3 ... 1e-8")
    parser.add_argument("--quiet", action="store_true", help="print nothing, no progress bar")
    args = parser.parse_args(argv)
    say = (lambda *a, **k: None) if args.quiet else print
    os.makedirs(args.out, exist_ok=True)
    say(f"output folder: {os.path.abspath(args.out)}")

    X, y = make_data(args.points, DATA_SEED)
    model = MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", init="he", seed=MODEL_SEED)
    say(f"{len(X)} points labelled by x1 + x2 > 0; 2-4-1 sigmoid network, He init, "
        f"{len(model.parameters())} parameters")

    # Check once before training too: a gradient check is meant to run before you trust training.
    before = check_gradients(model, X, y)

    history = fit(model, X, y, loss="bce", optimizer=SGD(model.parameters(), lr=args.lr), epochs=args.epochs,
                  progress=not args.quiet)
    step = max(1, args.epochs // 10)
    for i in range(0, args.epochs, step):
        say(f"Iteration {i}, Loss: {history.loss[i]:.6f}")
    final_accuracy = accuracy(model, X, y)
    say(f"after {args.epochs} iterations: loss {history.loss[-1]:.6f}, training accuracy {final_accuracy:.1%}")
    path = os.path.join(args.out, "loss.png")
    plot_history(history, path)
    say(f"wrote {path}")

    after = check_gradients(model, X, y)
    say(f"\ngradient check, eps = {EPS:g}: ||num - grad|| / (||num|| + ||grad||) per parameter group")
    say(f"{'group':<7}{'at init':>12}{'trained':>12}")
    for group in after:
        say(f"{group:<7}{before[group]:>12.2e}{after[group]:>12.2e}   {'ok' if after[group] < 1e-7 else 'FAILED'}")
    worst = max(max(before.values()), max(after.values()))
    say(f"largest: {worst:.2e} (< 1e-7: backprop is right)")

    sweep = {}
    if args.eps_sweep:
        say("\nthe step size matters (trained network): too big and truncation error shows, "
            "too small and rounding does")
        for eps in (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8):
            sweep[eps] = check_gradients(model, X, y, eps=eps)
            say(f"  eps {eps:.0e}: " + "   ".join(f"{g} {d:.1e}" for g, d in sweep[eps].items()))

    bug = check_gradients(model, X, y, sum_bug=True)
    say("\nand a buggy backward for contrast -- the summed loss instead of the mean (a forgotten 1/m):")
    say("  " + "   ".join(f"{g} {d:.3f}" for g, d in bug.items()) + "   FAILED, as it should")

    return {
        "out": args.out,
        "relative_difference": after,
        "relative_difference_at_init": before,
        "max_relative_difference": worst,
        "buggy_relative_difference": bug,
        "eps_sweep": sweep,
        "final_loss": history.loss[-1],
        "first_loss": history.loss[0],
        "accuracy": final_accuracy,
        "files": [path],
    }


if __name__ == "__main__":
    main()
