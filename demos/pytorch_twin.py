"""The PyTorch twin: one MLP, one training step in gradwalk and in PyTorch side by side, then PyTorch.

The digits MLP of demos/digits.py (64-32-10, ReLU, softmax cross-entropy, Adam) is built in
gradwalk and copied into PyTorch with `nn.to_torch` (float64, the same numbers). Both compute the
loss of the same minibatch and backpropagate it; the demo prints the two losses and a table of
the gradients side by side, with the largest relative difference. Both then take one Adam step,
and the updated weights are compared. PyTorch finishes the training (tensors do in milliseconds
what gradwalk's graph of scalars does in seconds), and `nn.from_torch` brings the trained
network back into gradwalk, where it scores the test set exactly as PyTorch did.

Run (needs scikit-learn and PyTorch: pip install 'gradwalk[data,torch]'):
    python demos/pytorch_twin.py
    python demos/pytorch_twin.py --epochs 3 --quiet
"""

from __future__ import annotations

import argparse
import time

from nn import (MLP, Adam, Standardizer, accuracy, cross_entropy, from_torch, load_digits, to_torch,
                torch_gradients, train_test_split)

SEED = 0


def relative_difference(a: float, b: float) -> float:
    """|a - b| relative to the larger magnitude; 0 when both are 0."""
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale else 0.0


def gradient_table(model, ours: dict, theirs: dict, *, top: int = 2) -> tuple[list[str], float, str]:
    """Text rows comparing gradients per weight matrix and bias vector; the largest relative
    difference, and the name of the parameter where it occurs."""
    groups: dict[str, list[str]] = {}
    for name, _ in model.named_parameters():
        layer = name.split(".neurons.")[0]
        groups.setdefault(f"{layer} {'bias' if name.endswith('.b') else 'weight'}", []).append(name)
    rows = [f"{'tensor':<16}{'entries':>8}{'max |grad|':>14}{'max abs diff':>14}{'max rel diff':>14}"]
    examples = [f"{'parameter':<26}{'gradwalk':>24}{'pytorch':>24}{'rel diff':>11}"]
    worst, worst_name = 0.0, None
    for group, names in groups.items():
        diffs = [abs(ours[n] - theirs[n]) for n in names]
        rels = [relative_difference(ours[n], theirs[n]) for n in names]
        for n, r in zip(names, rels):
            if worst_name is None or r > worst:
                worst, worst_name = r, n
        rows.append(f"{group:<16}{len(names):>8}{max(abs(ours[n]) for n in names):>14.6g}"
                    f"{max(diffs):>14.3g}{max(rels):>14.3g}")
        # The largest gradients of each tensor, number by number (many pixel weights have 0).
        for n in sorted(names, key=lambda n: -abs(ours[n]))[:top]:
            examples.append(f"{n:<26}{ours[n]:>24.17g}{theirs[n]:>24.17g}{relative_difference(ours[n], theirs[n]):>11.2g}")
    return rows + [""] + examples, worst, worst_name


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs PyTorch trains after the shared step")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.01, help="Adam's learning rate, in both")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    if args.epochs < 0:
        parser.error(f"--epochs must be at least 0, got {args.epochs}")
    say = (lambda *a, **k: None) if args.quiet else print
    try:
        import torch  # optional extra: gradwalk[torch]
    except ImportError:
        parser.error("this demo needs PyTorch: pip install 'gradwalk[torch]'")

    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.25, seed=args.seed)
    scaler = Standardizer().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    model = MLP(64, [args.hidden, 10], activation="relu", output_activation="linear", init="he", seed=args.seed)
    seq = to_torch(model)  # float64: the same numbers gradwalk computes with
    say(f"gradwalk: {model}")
    say(f"PyTorch:  {seq}")

    # -- one step in both ------------------------------------------------------------------------
    Xb, yb = X_train[:args.batch_size], y_train[:args.batch_size]
    loss = cross_entropy([model(x) for x in Xb], yb)
    model.zero_grad()
    loss.backward()
    torch_loss = torch.nn.functional.cross_entropy(seq(torch.tensor(Xb, dtype=torch.float64)), torch.tensor(yb))
    seq.zero_grad()
    torch_loss.backward()
    say(f"\nloss on a batch of {len(Xb)}: gradwalk {loss.data:.17g}, PyTorch {torch_loss.item():.17g}, "
        f"difference {abs(loss.data - torch_loss.item()):.3g}")

    ours = {name: p.grad for name, p in model.named_parameters()}
    theirs = torch_gradients(seq)
    rows, worst, worst_name = gradient_table(model, ours, theirs)
    say(f"\ngradients of all {len(ours)} parameters, side by side:")
    for row in rows:
        say(("  " + row) if row else "")
    # The two frameworks add the same terms in different orders. Where the terms nearly cancel,
    # the gradient is tiny and that rounding is large relative to it: the worst case is such one.
    say(f"largest relative difference over all gradients: {worst:.3g}, at {worst_name} "
        f"(gradwalk {ours[worst_name]:.3g}, PyTorch {theirs[worst_name]:.3g})")

    Adam(model.parameters(), lr=args.lr).step()
    torch_optimizer = torch.optim.Adam(seq.parameters(), lr=args.lr)
    torch_optimizer.step()
    after = from_torch(seq).state_dict()
    step_difference = max(abs(v - after[name]) for name, v in model.state_dict().items())
    say(f"after one Adam step (lr={args.lr:g}): largest difference between the two sets of weights "
        f"{step_difference:.3g}")

    # -- PyTorch finishes the training ------------------------------------------------------------
    inputs = torch.tensor(X_train, dtype=torch.float64)
    targets = torch.tensor(y_train)
    test_inputs = torch.tensor(X_test, dtype=torch.float64)
    test_targets = torch.tensor(y_test)
    generator = torch.Generator().manual_seed(args.seed)  # a private generator: the global one is untouched

    def torch_accuracy() -> float:
        with torch.no_grad():
            return (seq(test_inputs).argmax(dim=1) == test_targets).double().mean().item()

    if args.epochs:
        say(f"\nPyTorch trains on: {len(X_train)} digits, minibatches of {args.batch_size}")
    test_accuracies, start = [], time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        began = time.perf_counter()
        order = torch.randperm(len(X_train), generator=generator)
        total = 0.0
        for i in range(0, len(X_train), args.batch_size):
            batch = order[i:i + args.batch_size]
            batch_loss = torch.nn.functional.cross_entropy(seq(inputs[batch]), targets[batch])
            torch_optimizer.zero_grad()
            batch_loss.backward()
            torch_optimizer.step()
            total += batch_loss.item() * len(batch)
        test_accuracies.append(torch_accuracy())
        say(f"epoch {epoch:>2}/{args.epochs}  {time.perf_counter() - began:6.3f} s  loss {total / len(X_train):.4f}  "
            f"test accuracy {test_accuracies[-1]:6.1%}")
    torch_seconds = time.perf_counter() - start

    trained = from_torch(seq)  # back into gradwalk, weights exact
    final_torch = torch_accuracy()
    final_gradwalk = accuracy(trained, X_test, y_test)
    say(f"\nback in gradwalk (nn.from_torch): {trained}")
    say(f"test accuracy: PyTorch {final_torch:.1%}, gradwalk {final_gradwalk:.1%} (same weights, same answers)")

    return {
        "loss": loss.data,
        "torch_loss": torch_loss.item(),
        "gradients": ours,
        "torch_gradients": theirs,
        "max_relative_difference": worst,
        "max_relative_difference_at": worst_name,
        "step_difference": step_difference,
        "test_accuracy": test_accuracies,
        "torch_accuracy": final_torch,
        "gradwalk_accuracy": final_gradwalk,
        "torch_seconds": torch_seconds,
        "table": rows,
    }


if __name__ == "__main__":
    main()
