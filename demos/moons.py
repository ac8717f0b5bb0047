"""Two moons: a small MLP learns a curved decision boundary, with every gradient from backprop.

The classic micrograd demo, rebuilt on gradwalk: 100 points in two interleaving half-moons
(noise 0.1), an MLP with two hidden layers of 16 ReLU units and one linear output score, trained
with the max-margin (hinge) loss plus a small L2 penalty, by 100 steps of full-batch gradient
descent whose learning rate decays linearly from 1.0 to 0.1. It reaches 100% training accuracy.

Every step is the whole of deep learning in miniature:
    forward (scores) -> loss -> zero the old gradients -> backward -> step downhill

Writes into the output folder (default out/moons):
    loss.png               the loss and accuracy curves
    decision_boundary.png  the plane coloured by the predicted class, with the data on top
    neuron.svg             one trained neuron's computation graph after backward
    backprop.html          an animated backward pass through a single tanh neuron; open it in a
                           browser and step through the chain rule node by node

Run:
    python demos/moons.py
    python demos/moons.py --steps 20 --out /tmp/moons --quiet
"""

from __future__ import annotations

import argparse
import os

from tqdm import tqdm

from engine import GraphvizNotFoundError, Value, animate_backward, save_graph
from nn import MLP, SGD, History, accuracy, hinge_loss, l2_penalty, make_moons, plot_decision_boundary, plot_history

SEED = 1  # seeds the data and the initial weights; this one reaches 100% in 100 steps
ALPHA = 1e-4  # strength of the L2 penalty


def train(model, X, labels, steps: int, quiet: bool) -> History:
    """Full-batch gradient descent on the hinge loss; returns the per-step loss and accuracy."""
    params = model.parameters()
    # lr = 1.0 - 0.9 k / steps at step k: big steps first, then smaller ones to settle.
    optimizer = SGD(params, lr=lambda k: 1.0 - 0.9 * k / steps)
    history = History()
    bar = tqdm(range(steps), desc="training", unit="step", disable=quiet)
    for _ in bar:
        # forward: one score per point; a positive score means class +1
        scores = [model(x) for x in X]
        # hinge loss: mean of relu(1 - y * score), zero once a point is on its side by a margin of 1
        data_loss = hinge_loss(scores, labels)
        loss = data_loss + l2_penalty(params, ALPHA)
        # backward: fill in d(loss)/d(p) for every parameter p, then step against it
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        acc = sum((s.data > 0) == (t > 0) for s, t in zip(scores, labels)) / len(labels)
        history.loss.append(loss.data)
        history.accuracy.append(acc)
        history.steps += 1
        bar.set_postfix(loss=f"{loss.data:.4f}", accuracy=f"{acc:.0%}")
    return history


def neuron_graph(model, X):
    """One trained hidden neuron applied to one data point, backpropagated to its parameters.

    Picks the first point that switches the first hidden neuron on (a ReLU that outputs 0 passes
    no gradient back, and the picture would only show zeros)."""
    neuron = model.layers[0].neurons[0]
    x = next((x for x in X if neuron(x).data > 0), X[0])
    inputs = [Value(x[0], "x0"), Value(x[1], "x1")]  # named like the neuron's weights w0, w1
    out = neuron(inputs)
    out.parents[0].label = "w.x+b"  # the pre-activation, one fused dot node
    out.label = "out"
    model.zero_grad()
    out.backward()  # each grad: how much the neuron's output moves per unit change of that value
    return out


def tanh_neuron():
    """The small expression the backprop player animates: o = tanh(x1 w1 + x2 w2 + b)."""
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1", param=True), Value(1.0, "w2", param=True)
    b = Value(6.8813735870195432, "b", param=True)  # chosen so that the output is a round 0.7071
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    s = x1w1 + x2w2
    s.label = "x1w1+x2w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("out", "moons"), help="output folder")
    parser.add_argument("--steps", type=int, default=100, help="gradient-descent steps")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--quiet", action="store_true", help="print nothing, no progress bar")
    args = parser.parse_args(argv)
    say = (lambda *a, **k: None) if args.quiet else print
    os.makedirs(args.out, exist_ok=True)
    say(f"output folder: {os.path.abspath(args.out)}")

    X, y = make_moons(100, noise=0.1, seed=args.seed)  # y in {0, 1}
    labels = [2 * t - 1 for t in y]  # the hinge loss wants -1 / +1
    # ReLU hidden layers, a linear output (a raw score), weights and biases uniform in [-1, 1].
    model = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=args.seed)
    say(f"{model}: {len(model.parameters())} parameters, {len(X)} points")

    history = train(model, X, labels, args.steps, args.quiet)
    final_accuracy = accuracy(model, X, y)  # after the last update
    say(f"after {args.steps} steps: loss {history.loss[-1]:.4f}, training accuracy {final_accuracy:.0%}")

    files = []

    def wrote(path, what):
        files.append(path)
        say(f"wrote {path}  ({what})")

    path = os.path.join(args.out, "loss.png")
    plot_history(history, path)
    wrote(path, "loss and accuracy per step")
    path = os.path.join(args.out, "decision_boundary.png")
    plot_decision_boundary(model, X, y, path)
    wrote(path, "the learned decision boundary")
    try:  # the graph pictures need Graphviz's `dot`; the rest of the demo does not
        path = os.path.join(args.out, "neuron.svg")
        save_graph(neuron_graph(model, X), path)
        wrote(path, "one trained neuron's graph after backward")
        path = os.path.join(args.out, "backprop.html")
        animate_backward(tanh_neuron(), path)
        wrote(path, "open in a browser: backward through o = tanh(x1 w1 + x2 w2 + b), step by step")
    except GraphvizNotFoundError as error:
        say(f"skipped the graph pictures: {error}")

    return {
        "out": args.out,
        "accuracy": final_accuracy,
        "final_loss": history.loss[-1],
        "history": history,
        "n_params": len(model.parameters()),
        "files": files,
    }


if __name__ == "__main__":
    main()
