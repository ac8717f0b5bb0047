"""Toy 2-D datasets as plain Python lists (no numpy needed); real data is in `nn.datasets.real`.

Each toy generator returns `(X, y)`: X a list of `[x1, x2]` floats, y a list of int class
labels (0/1, or 0..k-1 for the k-class ones), in shuffled order. `noise` is the standard
deviation of Gaussian noise added to each coordinate. The same `seed` (an int; or pass `rng=`, a
`random.Random`) gives the same data in any process; no seed means different data every call.
"""

from __future__ import annotations

import math
import numbers

from nn.module import real_number, resolve_rng, whole_number


def make_moons(n_samples: int = 100, noise: float = 0.1, seed=None, *, rng=None):
    """Two interleaving half circles: class 0 the upper moon, class 1 the lower one."""
    n_samples, noise = _check_samples(n_samples, 2), _check_noise(noise)
    rng = resolve_rng(seed, rng)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    points = []
    for i in range(n_upper):
        t = math.pi * _fraction(i, n_upper)
        points.append((math.cos(t), math.sin(t), 0))
    for i in range(n_lower):
        t = math.pi * _fraction(i, n_lower)
        points.append((1.0 - math.cos(t), 0.5 - math.sin(t), 1))
    return _finish(points, noise, rng)


def make_circles(n_samples: int = 100, noise: float = 0.05, seed=None, *, factor: float = 0.5, rng=None):
    """A circle of radius 1 (class 0) around a circle of radius `factor` (class 1)."""
    n_samples, noise = _check_samples(n_samples, 2), _check_noise(noise)
    if not 0.0 < real_number(factor, "factor") < 1.0:
        raise ValueError(f"factor (inner radius / outer radius) must be in (0, 1), got {factor!r}")
    rng = resolve_rng(seed, rng)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    points = []
    for count, radius, label in ((n_outer, 1.0, 0), (n_inner, float(factor), 1)):
        for i in range(count):
            t = 2.0 * math.pi * i / count  # evenly around, the end point not repeated
            points.append((radius * math.cos(t), radius * math.sin(t), label))
    return _finish(points, noise, rng)


def make_xor(n_samples: int = 100, noise: float = 0.1, seed=None, *, rng=None):
    """Points around the corners (+-1, +-1); label 1 where the two signs differ (XOR).

    Sample i belongs to corner i % 4, so `make_xor(4, noise=0.0)` is the four-row XOR truth
    table. Labels come from the corner a point was drawn around, even if noise moves it.
    """
    n_samples, noise = _check_samples(n_samples, 4), _check_noise(noise)
    rng = resolve_rng(seed, rng)
    corners = ((-1.0, -1.0, 0), (-1.0, 1.0, 1), (1.0, -1.0, 1), (1.0, 1.0, 0))
    points = [corners[i % 4] for i in range(n_samples)]
    return _finish(points, noise, rng)


def make_blobs(n_samples: int = 100, noise: float = 0.5, seed=None, *, centers=2, rng=None):
    """Gaussian blobs, one class per center.

    `centers` is a number k of classes, whose centers sit evenly on a circle of radius 3, or a
    list of `[x1, x2]` centers. Samples are split between classes as evenly as possible.
    """
    if isinstance(centers, numbers.Integral):
        k = whole_number(centers, "centers", minimum=1)
        centers = [(3.0 * math.cos(2 * math.pi * j / k), 3.0 * math.sin(2 * math.pi * j / k)) for j in range(k)]
    else:
        centers = _check_centers(centers)
    n_samples, noise = _check_samples(n_samples, len(centers)), _check_noise(noise)
    rng = resolve_rng(seed, rng)
    points = []
    for j, count in enumerate(_split(n_samples, len(centers))):
        cx, cy = centers[j]
        points.extend((cx, cy, j) for _ in range(count))
    return _finish(points, noise, rng)


def make_spiral(n_samples: int = 100, noise: float = 0.05, seed=None, *, classes: int = 2, turns: float = 1.0,
                rng=None):
    """Interleaved spiral arms, one class per arm, winding `turns` times from the center out."""
    classes = whole_number(classes, "classes", minimum=2)
    turns = real_number(turns, "turns")
    if not 0.0 < turns <= 10.0:
        raise ValueError(f"turns must be in (0, 10], got {turns!r}")
    n_samples, noise = _check_samples(n_samples, classes), _check_noise(noise)
    rng = resolve_rng(seed, rng)
    points = []
    for j, count in enumerate(_split(n_samples, classes)):
        offset = 2.0 * math.pi * j / classes
        for i in range(count):
            r = 0.1 + 0.9 * _fraction(i, count)  # start a little off the center, where arms meet
            t = offset + 2.0 * math.pi * turns * r
            points.append((r * math.cos(t), r * math.sin(t), j))
    return _finish(points, noise, rng)


def train_test_split(X, y, test_fraction: float = 0.25, seed=None, *, rng=None):
    """Shuffle and split into `(X_train, X_test, y_train, y_test)`.

    The test part has round(n * test_fraction) samples; both parts must end up non-empty.
    """
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    if not 0 < real_number(test_fraction, "test_fraction") < 1:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction!r}")
    n = len(X)
    n_test = round(n * test_fraction)
    if n_test < 1 or n_test > n - 1:
        raise ValueError(f"cannot split {n} samples with test_fraction={test_fraction}: one part would be empty")
    order = list(range(n))
    resolve_rng(seed, rng).shuffle(order)
    test, train = order[:n_test], order[n_test:]
    return [X[i] for i in train], [X[i] for i in test], [y[i] for i in train], [y[i] for i in test]


# -- helpers --------------------------------------------------------------------------------------


def _fraction(i: int, count: int) -> float:
    """i / (count - 1): evenly spaced in [0, 1], ends included; 0 when there is one point."""
    return i / (count - 1) if count > 1 else 0.0


def _split(n: int, k: int) -> list[int]:
    return [n // k + (1 if j < n % k else 0) for j in range(k)]


def _finish(points, noise: float, rng):
    """Shuffle, add noise, and split into (X, y). Shuffling first fixes the order of draws."""
    points = list(points)
    rng.shuffle(points)
    X, y = [], []
    for x1, x2, label in points:
        if noise:
            x1 += rng.gauss(0.0, noise)
            x2 += rng.gauss(0.0, noise)
        X.append([x1, x2])
        y.append(label)
    return X, y


def _check_samples(n, minimum: int) -> int:
    return whole_number(n, "n_samples", minimum)


def _check_noise(noise) -> float:
    value = real_number(noise, "noise")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return value


def _check_centers(centers) -> list[tuple[float, float]]:
    try:
        out = [(float(c[0]), float(c[1])) for c in centers if len(c) == 2]
        ok = len(out) == len(centers) and len(out) >= 1
    except (TypeError, ValueError, IndexError):
        ok = False
    if not ok or not all(math.isfinite(v) for c in out for v in c):
        raise ValueError(f"centers must be an int or a non-empty list of finite [x1, x2] points, got {centers!r:.80}")
    return out
