"""One backward pass, one chain-rule step at a time.

Reproduces article 004 ("Working of Backpropagation in Neural Networks"): its 2-3-1 network with
sigmoid hidden and output units, all biases kept at 0 "for simplification", and binary
cross-entropy loss J. In the article's notation

    h1_j = sum_i θ1_ji x_i      a1_j = sigmoid(h1_j)      (hidden layer, j = 1..3)
    h2   = sum_j θ2_j a1_j      Y    = sigmoid(h2)         (output)
    J    = -( y* log Y + (1 - y*) log(1 - Y) )             (y* is the true label)

The article walks the gradients "in reverse topological order (output to input)": first dJ/dY,
then dY/dh2, then dh2/dθ2_j and dh2/da1_j, then da1_j/dh1_j and finally dh1_j/dθ1_ji. This demo
prints every one of those steps as the engine performs them, checks the result against the
closed-form answer, and writes an HTML page that animates the same pass on the graph.

The article gives no numbers, so the input, label and weights below are ours; they are pinned
(the smoke test checks the printed values).

Run:
    python demos/step_through.py              # writes out/step_through/
"""

from __future__ import annotations

import argparse
import os

from engine import GraphvizNotFoundError, Value, animate_backward, dot, save_graph

# Pinned example: one data sample and the network's weights (biases are 0, i.e. left out).
X = (0.6, -0.4)  # the two input features x1, x2
LABEL = 1.0  # y*: this sample belongs to class 1
THETA1 = (  # θ1_ji: weight from input x_i to hidden unit j
    (0.3, -0.2),
    (0.5, 0.4),
    (-0.6, 0.1),
)
THETA2 = (0.7, -0.5, 0.2)  # θ2_j: weight from hidden unit j to the output


def build_graph():
    """The forward pass, with every node named after the article's symbols."""
    x = [Value(v, f"x{i + 1}") for i, v in enumerate(X)]
    theta1 = [[Value(w, f"θ1_{j + 1}{i + 1}", param=True) for i, w in enumerate(row)] for j, row in enumerate(THETA1)]
    theta2 = [Value(w, f"θ2_{j + 1}", param=True) for j, w in enumerate(THETA2)]

    a1 = []
    for j, row in enumerate(theta1):
        h1 = dot(row, x)  # h1_j = θ1_j1 x1 + θ1_j2 x2   (no bias)
        h1.label = f"h1_{j + 1}"
        a = h1.sigmoid()
        a.label = f"a1_{j + 1}"
        a1.append(a)
    h2 = dot(theta2, a1)
    h2.label = "h2"
    Y = h2.sigmoid()
    Y.label = "Y"

    # Binary cross-entropy, spelled out node by node so each piece shows up in the walk:
    # J = -S with S = A + B, A = y* log Y and B = (1 - y*) log(1 - Y).
    log_y = Y.log()
    log_y.label = "logY"
    one_minus_y = 1 - Y
    one_minus_y.label = "(1-Y)"
    log_1my = one_minus_y.log()
    log_1my.label = "log(1-Y)"
    A = LABEL * log_y
    A.label = "A"
    B = (1 - LABEL) * log_1my  # with y* = 1 this term is multiplied by 0: its branch gets no gradient
    B.label = "B"
    total = A + B
    total.label = "S"
    J = -total
    J.label = "J"
    return J, {"x": x, "theta1": theta1, "theta2": theta2, "a1": a1, "Y": Y}


def closed_form(Y: float, a1: list[float]) -> dict:
    """The article's end result, with dJ/dh2 simplified to (Y - y*) (article 002 derives this):
    dJ/dθ2_j = (Y - y*) a1_j,   dJ/dθ1_ji = (Y - y*) θ2_j a1_j (1 - a1_j) x_i."""
    delta = Y - LABEL
    grads = {f"θ2_{j + 1}": delta * a1[j] for j in range(3)}
    for j in range(3):
        for i in range(2):
            grads[f"θ1_{j + 1}{i + 1}"] = delta * THETA2[j] * a1[j] * (1 - a1[j]) * X[i]
    return grads


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("out", "step_through"), help="output folder")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    say = (lambda *a, **k: None) if args.quiet else print
    os.makedirs(args.out, exist_ok=True)
    say(f"output folder: {os.path.abspath(args.out)}\n")

    J, parts = build_graph()
    Y = parts["Y"]
    say("forward pass (topological order):")
    say(f"  x = {X}, y* = {LABEL:g}")
    for j, a in enumerate(parts["a1"]):
        h = a.parents[0]
        say(f"  h1_{j + 1} = {h.data:+.4f}   a1_{j + 1} = sigmoid(h1_{j + 1}) = {a.data:.4f}")
    say(f"  h2 = {Y.parents[0].data:+.4f}   Y = sigmoid(h2) = {Y.data:.4f}")
    say("  J = -S,  S = A + B,  A = y* log Y,  B = (1 - y*) log(1 - Y)")
    say(f"  J = {J.data:.4f}\n")

    say("backward pass, one node at a time (reverse topological order):")
    steps = []
    for step in J.backward_steps():
        steps.append(step)
        name = step.node_name
        say(f"[{step.index:>2}/{step.total}] at {name} ({step.node.op}), dJ/d{name} = {step.upstream:.4g}")
        for line in str(step).splitlines():
            say("    " + line)

    params = [w for row in parts["theta1"] for w in row] + parts["theta2"]
    grads = {w.label: w.grad for w in params}
    expected = closed_form(Y.data, [a.data for a in parts["a1"]])
    max_diff = max(abs(grads[k] - expected[k]) for k in grads)
    say(f"\n{'weight':<8}{'backprop':>12}{'closed form':>14}")
    for name in expected:
        say(f"{name:<8}{grads[name]:>12.6f}{expected[name]:>14.6f}")
    say(f"largest difference: {max_diff:.1e}")
    say("(closed form: dJ/dθ2_j = (Y - y*) a1_j and dJ/dθ1_ji = (Y - y*) θ2_j a1_j (1 - a1_j) x_i)\n")

    files = []
    try:  # the pictures need Graphviz's `dot`; the printout above does not
        svg = os.path.join(args.out, "network_graph.svg")
        save_graph(J, svg)
        files.append(svg)
        say(f"wrote {svg}  (the graph after backward, every gradient filled in)")
        html = os.path.join(args.out, "backward.html")
        animate_backward(J, html)
        files.append(html)
        say(f"wrote {html}  (open it in a browser to replay the same {len(steps)} steps on the graph)")
    except GraphvizNotFoundError as error:
        say(f"skipped the graph pictures: {error}")

    return {
        "out": args.out,
        "J": J.data,
        "Y": Y.data,
        "grads": grads,
        "closed_form": expected,
        "max_diff": max_diff,
        "steps": len(steps),
        "step_lines": [str(s) for s in steps],
        "files": files,
    }


if __name__ == "__main__":
    main()
