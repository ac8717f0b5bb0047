"""Three ways to get a gradient: by hand, by finite differences, and by backpropagation.

Reproduces article 000 ("An introduction to backpropagation"), sections "Analytical
differentiation", "Numerical differentiation" and "Backpropagation", on its single-unit network

    x --(w1, b1)--> h --(w2, b2)--> y,    h = sigmoid(w1 x + b1),  y = sigmoid(w2 h + b2),
    loss L = (y - t)^2                     (squared error against the target t)

For each of the four parameters it prints the gradient found by the three methods, how far they
agree, and what each method cost. Then it races finite differences, forward mode and reverse
mode (backprop) to the full gradient of an MLP's loss with 337 parameters, and once more on a
function of one input and 337 outputs, where forward mode wins.

Run:
    python demos/gradient_methods.py                # writes out/gradient_methods/
    python demos/gradient_methods.py --quiet --points 4
"""

from __future__ import annotations

import argparse
import math
import os
import random
import time

from engine import GraphvizNotFoundError, Value, gradients, numerical_grad, save_graph, topological_order
from engine.forward import count_ops, forward_sweep, graph_of
from nn import MLP, mse_loss

# The article gives no numbers for this network, so these are ours, pinned for reproducibility.
X_IN = 1.5  # the input x
TARGET = 0.2  # the target t
PARAMS = {"w1": 0.8, "b1": -0.3, "w2": -1.2, "b2": 0.4}


def sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# -- method 1: analytical differentiation ------------------------------------------------------------
# Chain rule by hand. With z1 = w1 x + b1 and z2 = w2 h + b2, and sigmoid'(z) = s(z)(1 - s(z)):
#     dL/dy = 2 (y - t)          dy/dz2 = y (1 - y)        dz2/dw2 = h, dz2/db2 = 1, dz2/dh = w2
#     dh/dz1 = h (1 - h)         dz1/dw1 = x, dz1/db1 = 1
# Each formula below is written out on its own, the way you'd derive it on paper. Note how the
# factor 2 (y - t) y (1 - y) turns up in all four: backprop's whole trick is to compute it once.
FORMULAS = {
    "w1": "2(y - t) * y(1 - y) * w2 * h(1 - h) * x",
    "b1": "2(y - t) * y(1 - y) * w2 * h(1 - h)",
    "w2": "2(y - t) * y(1 - y) * h",
    "b2": "2(y - t) * y(1 - y)",
}


def analytical_gradients(x: float, t: float, w1: float, b1: float, w2: float, b2: float) -> dict:
    h = sig(w1 * x + b1)
    y = sig(w2 * h + b2)
    return {
        "w1": 2 * (y - t) * y * (1 - y) * w2 * h * (1 - h) * x,
        "b1": 2 * (y - t) * y * (1 - y) * w2 * h * (1 - h),
        "w2": 2 * (y - t) * y * (1 - y) * h,
        "b2": 2 * (y - t) * y * (1 - y),
    }


# -- the forward pass, written once with Values --------------------------------------------------------


def single_unit_loss(w1, b1, w2, b2, x=X_IN, t=TARGET):
    """The network's loss as a graph of Values (the same code serves methods 2 and 3).

    Each node gets the article's name, so printouts and the graph picture read like the math."""
    wx = w1 * x
    z1 = wx + b1
    h = z1.sigmoid()
    wh = w2 * h
    z2 = wh + b2
    y = z2.sigmoid()
    err = y - t
    loss = err**2
    for node, name in ((wx, "w1*x"), (z1, "z1"), (h, "h"), (wh, "w2*h"), (z2, "z2"), (y, "y"), (err, "y-t"),
                       (loss, "L")):
        node.label = name
    return loss


def compare_single_unit(say) -> dict:
    p = PARAMS
    say("== The single-unit network x -> h -> y ==")
    say(f"x = {X_IN}, t = {TARGET}, " + ", ".join(f"{k} = {v}" for k, v in p.items()))

    # Method 1: the hand-derived formulas (one evaluation of four separate expressions).
    analytic = analytical_gradients(X_IN, TARGET, **p)

    # Method 2: central finite differences, dL/dp ~ (L(p + eps) - L(p - eps)) / (2 eps).
    # We wrap the loss to count how many forward passes the estimate needs.
    forward_passes = 0

    def counted_loss(*args):
        nonlocal forward_passes
        forward_passes += 1
        return single_unit_loss(*args)

    numeric = dict(zip(p, numerical_grad(counted_loss, *p.values(), eps=1e-6)))

    # Method 3: backpropagation. One forward pass builds the graph, one backward pass walks it
    # from L back to the leaves, filling in every gradient at once.
    leaves = {name: Value(v, name, param=True) for name, v in p.items()}
    loss = single_unit_loss(**leaves)
    loss.backward()
    backprop = {name: leaf.grad for name, leaf in leaves.items()}
    nodes = len(topological_order(loss))

    say(f"forward pass: L = {loss.data:.6f}\n")
    say(f"{'param':<6}{'analytical':>14}{'numerical':>14}{'backprop':>14}   hand-derived formula")
    for name in p:
        say(f"{name:<6}{analytic[name]:>14.9f}{numeric[name]:>14.9f}{backprop[name]:>14.9f}   {FORMULAS[name]}")
    max_diff = max(
        max(abs(analytic[n] - backprop[n]), abs(numeric[n] - backprop[n]), abs(analytic[n] - numeric[n])) for n in p
    )
    say(f"\nlargest disagreement between any two methods: {max_diff:.2e}")
    say("cost:")
    say(f"  analytical : {len(FORMULAS)} formulas derived by hand, each evaluated separately")
    say(f"  numerical  : {forward_passes} forward passes (2 per parameter x {len(p)} parameters)")
    say(f"  backprop   : 1 forward + 1 backward pass over the {nodes}-node graph\n")
    return {
        "loss": loss.data,
        "analytical": analytic,
        "numerical": numeric,
        "backprop": backprop,
        "max_diff": max_diff,
        "numerical_forward_passes": forward_passes,
        "graph": loss,
    }


# -- scaling up: three ways to the full gradient, and when forward mode wins -----------------------
# Finite differences need two forward passes per parameter. Forward mode (engine.forward) needs one
# pass per parameter too, each carrying a tangent d(node)/d(that parameter) along with the values.
# Reverse mode needs one forward and one backward pass for all of them. With n inputs and m outputs
# the full Jacobian costs forward mode n passes and reverse mode m: a loss (m = 1) is reverse
# mode's case, a function of one input with many outputs is forward mode's.


def _edges(outputs) -> int:
    """The chain-rule steps (multiply-adds) of one sweep over the graph of `outputs`."""
    return sum(len(node.parents) for node in graph_of(outputs))


def _run(method, build, leaves, outputs_of):
    """Time one method and count its op evaluations; returns a row and its Jacobian."""
    start = time.perf_counter()
    with count_ops() as ops:
        jacobian, passes, sweeps = method(build, leaves, outputs_of)
    seconds = time.perf_counter() - start
    steps = sum(_edges(outputs) for outputs in sweeps)  # counted after the clock stopped
    return {"passes": passes, "ops": ops.ops, "steps": steps, "seconds": seconds}, jacobian


def by_finite_differences(build, leaves, outputs_of):
    """Nudge each input down and up: two passes per input, no chain rule at all."""
    columns = []
    for leaf in leaves:
        x = leaf.data
        leaf.data = x + 1e-6
        up = [o.data for o in outputs_of(build())]
        leaf.data = x - 1e-6
        down = [o.data for o in outputs_of(build())]
        leaf.data = x
        columns.append([(u - d) / 2e-6 for u, d in zip(up, down)])
    return _transpose(columns), 2 * len(leaves), []


def by_forward_mode(build, leaves, outputs_of):
    """One pass per input, a tangent of 1 on that input: a column of the Jacobian per pass."""
    columns, sweeps = [], []
    for leaf in leaves:
        outputs = outputs_of(build())
        columns.append(forward_sweep(outputs, {leaf: 1.0}))
        sweeps.append(outputs)
    return _transpose(columns), len(leaves), sweeps


def by_reverse_mode(build, leaves, outputs_of):
    """One forward pass, then one backward sweep per output: a row of the Jacobian per sweep."""
    outputs = outputs_of(build())
    rows = [gradients(out, leaves) for out in outputs]
    return rows, 1 + len(outputs), [[out] for out in outputs]


def _transpose(columns):
    return [list(row) for row in zip(*columns)]


def race(build, leaves, outputs_of) -> dict:
    """All three methods on one function: their costs, and how far their Jacobians disagree."""
    rows, jacobians = {}, {}
    for name, method in (("finite differences", by_finite_differences), ("forward mode", by_forward_mode),
                         ("reverse mode", by_reverse_mode)):
        rows[name], jacobians[name] = _run(method, build, leaves, outputs_of)
    exact = jacobians["reverse mode"]
    for name, jacobian in jacobians.items():
        rows[name]["max_diff"] = max(abs(a - b) for ra, rb in zip(jacobian, exact) for a, b in zip(ra, rb))
    return rows


def one_input_many_outputs(n_outputs: int, depth: int = 40):
    """t -> [tanh(a_k h + b_k) for k], with h a shared chain of `depth` ops on t: the outputs share
    their graph, so one forward pass serves them all, and each backward sweep walks it again."""
    t = Value(0.3, "t")
    a = [0.5 + 0.01 * k for k in range(n_outputs)]

    def build():
        h = t
        for k in range(depth):
            h = (h * 0.9 + 0.1).tanh()
        return [(h * ak + 0.1).tanh() for ak in a]

    return build, [t]


def print_table(say, title: str, rows: dict) -> None:
    say(title)
    say(f"  {'method':<20}{'passes':>8}{'op evaluations':>16}{'chain-rule steps':>18}{'time ms':>10}{'max |diff|':>12}")
    for name, r in rows.items():
        say(f"  {name:<20}{r['passes']:>8}{r['ops']:>16,}{r['steps']:>18,}{r['seconds'] * 1000:>10.1f}{r['max_diff']:>12.1e}")


def compare_methods(say, points: int, hidden: int, seed: int) -> dict:
    rng = random.Random(seed)
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(points)]
    T = [rng.uniform(0, 1) for _ in range(points)]
    model = MLP(2, [hidden, hidden, 1], activation="sigmoid", output_activation="sigmoid", seed=seed)
    params = model.parameters()
    say(f"== The full gradient three ways: MLP(2, [{hidden}, {hidden}, 1]), {len(params)} parameters, "
        f"{points} points ==")
    loss = race(lambda: mse_loss([model(x) for x in X], T), params, lambda out: [out])
    print_table(say, f"row 1: the loss, {len(params)} inputs -> 1 output (reverse mode's case)", loss)
    build, leaves = one_input_many_outputs(len(params))
    wide = race(build, leaves, lambda outs: outs)
    print_table(say, f"row 2: t -> {len(params)} outputs, 1 input -> many (forward mode's case)", wide)
    say("Finite differences pay two passes per input and forward mode one; reverse mode pays one sweep per")
    say("output. A loss has one output and many inputs, which is why training uses backprop.\n")
    return {
        "n_params": len(params),
        "max_diff": max(r["max_diff"] for r in loss.values()),
        "numerical_forward_passes": loss["finite differences"]["passes"],
        "loss": loss,
        "one_input": wide,
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("out", "gradient_methods"), help="output folder")
    parser.add_argument("--points", type=int, default=16, help="data points in the MLP comparison")
    parser.add_argument("--hidden", type=int, default=16, help="width of the MLP's two hidden layers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    say = (lambda *a, **k: None) if args.quiet else print

    os.makedirs(args.out, exist_ok=True)
    say(f"output folder: {os.path.abspath(args.out)}\n")
    single = compare_single_unit(say)
    path = os.path.join(args.out, "single_unit_graph.svg")
    files = []
    try:  # the picture needs Graphviz's `dot`; the comparison does not
        save_graph(single["graph"], path)
        files.append(path)
        say(f"wrote {path}  (the computational graph after backward, gradients on every node)\n")
    except GraphvizNotFoundError as error:
        say(f"skipped the graph picture: {error}\n")
    mlp = compare_methods(say, args.points, args.hidden, args.seed)
    single.pop("graph")
    return {"out": args.out, "single": single, "mlp": mlp, "files": files}


if __name__ == "__main__":
    main()
