"""Second derivatives put to work: Newton's method against gradient descent on a 1-D function.

Gradient descent steps against the slope: x <- x - lr * f'(x). Newton's method also reads the
curvature, f''(x), and jumps to where a parabola with that slope and curvature bottoms out:
x <- x - f'(x) / f''(x). Both derivatives come from backprop: `grad(f)` and `grad(grad(f))`.

    python demos/newton.py [--start 2.5] [--lr 0.1] [--steps 8]
"""

from __future__ import annotations

import argparse

from engine import grad


def f(x):
    """x**4/4 + exp(x/2) - 2x: a smooth bowl whose curvature changes, so a fixed step fits it badly."""
    return x ** 4 / 4 + (0.5 * x).exp() - 2 * x


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=float, default=2.5, help="where both methods start")
    parser.add_argument("--lr", type=float, default=0.1, help="gradient descent's learning rate")
    parser.add_argument("--steps", type=int, default=8, help="how many steps each takes")
    args = parser.parse_args(argv)
    slope, curvature = grad(f), grad(grad(f))

    print("f(x) = x**4/4 + exp(x/2) - 2x;  f'(x) and f''(x) by backprop (grad and grad(grad))")
    print(f"{'step':>4}  {'gradient descent x':>20} {'f(x)':>12}   {'Newton x':>20} {'f(x)':>12} {'f″(x)':>10}")
    gd = newton = args.start
    for k in range(args.steps + 1):
        print(f"{k:>4}  {gd:>20.15f} {f_value(gd):>12.8f}   {newton:>20.15f} {f_value(newton):>12.8f} "
              f"{curvature(newton):>10.5f}")
        gd -= args.lr * slope(gd)
        newton -= slope(newton) / curvature(newton)
    print(f"after {args.steps} steps: |f'| is {abs(slope(gd)):.2e} for gradient descent, "
          f"{abs(slope(newton)):.2e} for Newton")
    return {"gradient_descent": gd, "newton": newton, "newton_slope": slope(newton), "gd_slope": slope(gd)}


def f_value(x: float) -> float:
    from engine import Value

    return f(Value(x)).data


if __name__ == "__main__":
    main()
