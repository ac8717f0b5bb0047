"""XOR with the smallest network that can learn it: 2 inputs, 2 sigmoid hidden units, 1 output.

Reproduces the "Toy Python example" of article 002 ("Backpropagation", derivation and toy MLP):
a 2-2-1 sigmoid network trained with plain gradient descent (learning rate 1.0) for 1000
full-batch iterations on the four XOR points, with the cross-entropy cost, whose gradient at the
output pre-activation is simply (a - y). It prints the article's table: each input, the
network's output, and the output quantized at 0.5, which reproduces XOR.

XOR is not linearly separable, so the hidden layer has to discover intermediate features (for
example "x1 OR x2" and "x1 AND x2") before the output unit can combine them. Gradient descent
does not always find them. SEED = 9 converges (outputs 0.0133 / 0.9878 / 0.9824 / 0.0112, close
to the article's 0.0143 / 0.9888 / 0.9892 / 0.0124). But of the seeds 0..19, five (2, 5, 7, 17
and 19) get stuck in a local minimum: two of the four points sit at output 0.5 and the loss
stalls near ln(2)/2 = 0.347, still there after 10,000 iterations. `--scan 20` reproduces that
census.

Run:
    python demos/xor.py                # writes out/xor/
    python demos/xor.py --scan 20      # how often does XOR training get stuck?
"""

from __future__ import annotations

import argparse
import os

from engine import no_grad
from nn import MLP, SGD, fit, plot_history

SEED = 9  # converges with the default 1000 iterations (see --scan for seeds that don't)
INPUTS = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
TARGETS = [0, 1, 1, 0]


def train(seed: int, iterations: int, lr: float = 1.0):
    """Train a fresh 2-2-1 sigmoid network on XOR; return it and its training History."""
    # Weights and biases start uniform in [-1, 1] (nn's default init).
    model = MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", seed=seed)
    # Full batch (all four points every step): forward, mean cross-entropy, backward, update.
    history = fit(model, INPUTS, TARGETS, loss="bce", optimizer=SGD(model.parameters(), lr=lr),
                  epochs=iterations, progress=False)
    return model, history


def predict(model) -> list[float]:
    with no_grad():
        return [model(x).data for x in INPUTS]


def solved(outputs) -> bool:
    return [int(o > 0.5) for o in outputs] == TARGETS


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
    say(f"output folder: {os.path.abspath(args.out)}")

    model, history = train(args.seed, args.steps)
    losses = history.loss
    outputs = predict(model)
    quantized = [int(o > 0.5) for o in outputs]
    say(f"2-2-1 sigmoid network, seed {args.seed}, {args.steps} iterations at lr 1.0: "
        f"loss {losses[0]:.4f} -> {losses[-1]:.4f}\n")
    say("Input\tOutput\tQuantized")
    for x, o, q in zip(INPUTS, outputs, quantized):
        say(f"[{x[0]:g}, {x[1]:g}]\t{o:.4f}\t[{q}]")

    files = []
    path = os.path.join(args.out, "loss.png")
    plot_history(history, path)
    files.append(path)
    say(f"\nwrote {path}")

    stuck = []
    if args.scan:
        say(f"\ntraining from seeds 0..{args.scan - 1}:")
        for seed in range(args.scan):
            scan_model, scan_history = train(seed, args.steps)
            outs = predict(scan_model)
            ok = solved(outs)
            if not ok:
                stuck.append(seed)
            shown = "  ".join(f"{o:.2f}" for o in outs)
            say(f"  seed {seed:>2}: loss {scan_history.loss[-1]:.4f}  outputs {shown}  {'solved' if ok else 'STUCK'}")
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
