"""XOR with the smallest network that can learn it: 2 inputs, 2 sigmoid hidden units, 1 output.

Reproduces the "Toy Python example" of article 002 ("Backpropagation", derivation and toy MLP):
a 2-2-1 sigmoid network trained with plain gradient descent (learning rate 1.0) for 1000
full-batch iterations on the four XOR points, with the cross-entropy cost, whose gradient at the
output pre-activation is simply (a - y). It prints the article's table: each input, the
network's output, and the output quantized at 0.5, which reproduces XOR.

XOR is not linearly separable, so the hidden layer has to discover an intermediate feature (for
example "x1 OR x2" and "x1 AND x2") before the output unit can combine them. Gradient descent
does not always find that: from some starting weights both hidden units learn the same feature,
or the network settles in a flat region where it answers 0.5 or 0.67, a local minimum.
SEED below is a starting point that converges; `--scan 20` trains from 20 seeds and shows
how many get stuck.

Run:
    python demos/xor.py                # writes out/xor/
    python demos/xor.py --scan 20      # how often does XOR training get stuck?
"""

from __future__ import annotations

import argparse
import os

from engine import no_grad
from nn import MLP, SGD, binary_cross_entropy

SEED = 0  # converges with the default 1000 iterations (see --scan for seeds that don't)
INPUTS = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
TARGETS = [0.0, 1.0, 1.0, 0.0]


def train(seed: int, iterations: int, lr: float = 1.0):
    """Train a fresh 2-2-1 sigmoid network on XOR; return it and its loss after every iteration."""
    model = MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", seed=seed)
    optimizer = SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(iterations):
        # Forward all four points, average their cross-entropy, backprop, step downhill.
        outputs = [model(x) for x in INPUTS]
        loss = binary_cross_entropy(outputs, TARGETS)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.data)
    return model, losses


def predict(model) -> list[float]:
    with no_grad():
        return [model(x).data for x in INPUTS]


def solved(outputs) -> bool:
    return [int(o > 0.5) for o in outputs] == [int(t) for t in TARGETS]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("out", "xor"), help="output folder")
    parser.add_argument("--steps", type=int, default=1000, help="gradient-descent iterations")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--scan", type=int, default=0, metavar="N", help="also train from seeds 0..N-1")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    say = (lambda *a, **k: None) if args.quiet else print
    os.makedirs(args.out, exist_ok=True)
    say(f"output folder: {args.out}")

    model, losses = train(args.seed, args.steps)
    outputs = predict(model)
    quantized = [int(o > 0.5) for o in outputs]
    say(f"2-2-1 sigmoid network, seed {args.seed}, {args.steps} iterations at lr 1.0: loss {losses[0]:.4f} -> {losses[-1]:.4f}\n")
    say("Input\tOutput\tQuantized")
    for x, o, q in zip(INPUTS, outputs, quantized):
        say(f"[{x[0]:g}, {x[1]:g}]\t{o:.4f}\t[{q}]")

    files = []
    from nn.plot import plot_history

    path = os.path.join(args.out, "loss.png")
    plot_history(losses, path)
    files.append(path)
    say(f"\nwrote {path}")

    stuck = []
    if args.scan:
        say(f"\ntraining from seeds 0..{args.scan - 1}:")
        for seed in range(args.scan):
            _, scan_losses = train(seed, args.steps)
            ok = solved(predict(_))
            if not ok:
                stuck.append(seed)
            say(f"  seed {seed:>2}: final loss {scan_losses[-1]:.4f}  {'solved' if ok else 'STUCK'}")
        say(f"{args.scan - len(stuck)} of {args.scan} seeds solve XOR; stuck: {stuck}")

    return {
        "out": args.out,
        "outputs": outputs,
        "quantized": quantized,
        "final_loss": losses[-1],
        "stuck_seeds": stuck,
        "files": files,
    }


if __name__ == "__main__":
    main()
