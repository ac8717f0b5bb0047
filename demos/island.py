"""An island of class 1 in a sea of class 0, learned by a 2-3-1 sigmoid network.

Reproduces the "toy problem" of article 000 ("An introduction to backpropagation"): a binary
classification task that no straight line can solve, a network with 2 inputs, one hidden layer
of 3 sigmoid units and 1 sigmoid output, the cross-entropy loss, and plain gradient descent with
learning rate 1 for 2000 full-batch epochs. The article's pictures colour the plane by the
network's probability of class 1: before training it is a meaningless gradient; after training
an island of class 1 sits in the middle of the map, right where the class-1 training points
are. With three hidden units -- three straight-line boundaries, softened by the sigmoids -- the
island comes out as a rounded triangle. The article's bonus, an XOR-like distribution, is
learned by the very same network.

Initialisation follows the article: weights drawn from a normal distribution (nn's "he" init:
standard deviation sqrt(2 / fan_in), i.e. exactly 1 for the first layer), biases 0.

Writes into the output folder (default out/island):
    island_before.png   probability of class 1 before training
    island_after.png    ... after training, with the training points on top
    island_loss.png     loss and accuracy per epoch
    xor_after.png       the XOR-like data set after training, points on top
    xor_loss.png        its loss and accuracy per epoch

Run:
    python demos/island.py                 # 2 x 2000 epochs on 100 points: about 30 s
    python demos/island.py --epochs 300    # quicker, rougher
"""

from __future__ import annotations

import argparse
import os

from nn import MLP, SGD, accuracy, fit, make_circles, make_xor, plot_decision_boundary, plot_history

SEED = 0


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("out", "island"), help="output folder")
    parser.add_argument("--epochs", type=int, default=2000, help="full-batch gradient-descent epochs")
    parser.add_argument("--points", type=int, default=100, help="points per data set")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--quiet", action="store_true", help="print nothing, no progress bar")
    args = parser.parse_args(argv)
    say = (lambda *a, **k: None) if args.quiet else print
    os.makedirs(args.out, exist_ok=True)
    say(f"output folder: {os.path.abspath(args.out)}")
    files = []

    def wrote(path):
        files.append(path)
        say(f"wrote {path}")

    results = {}
    datasets = {
        # class 1: a small ring around the origin (the island); class 0: a wide ring around it
        "island": make_circles(args.points, noise=0.1, factor=0.3, seed=args.seed),
        # class 1 around (-1, 1) and (1, -1), class 0 around (-1, -1) and (1, 1)
        "xor": make_xor(args.points, noise=0.4, seed=args.seed),
    }
    for name, (X, y) in datasets.items():
        model = MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", init="he", seed=args.seed)
        if name == "island":
            path = os.path.join(args.out, "island_before.png")
            plot_decision_boundary(model, X, y, path, shade="output", show_data=False, title="before training")
            wrote(path)
            before = accuracy(model, X, y)
        say(f"\n{name}: {len(X)} points, 2-3-1 sigmoid network, {args.epochs} epochs at lr 1")
        history = fit(model, X, y, loss="bce", optimizer=SGD(model.parameters(), lr=1.0), epochs=args.epochs,
                      progress=not args.quiet)
        acc = accuracy(model, X, y)
        say(f"{name}: loss {history.loss[0]:.4f} -> {history.loss[-1]:.4f}, training accuracy {acc:.1%}")
        path = os.path.join(args.out, f"{name}_after.png")
        plot_decision_boundary(model, X, y, path, shade="output", title=f"{name}: after {args.epochs} epochs")
        wrote(path)
        path = os.path.join(args.out, f"{name}_loss.png")
        plot_history(history, path)
        wrote(path)
        results[name] = {"accuracy": acc, "first_loss": history.loss[0], "final_loss": history.loss[-1]}
    results["island"]["accuracy_before"] = before
    return {"out": args.out, **results, "files": files}


if __name__ == "__main__":
    main()
