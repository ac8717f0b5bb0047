"""Toy datasets: shapes, labels, geometry, determinism and argument checks."""

import math
import random

import pytest

from nn import make_blobs, make_circles, make_moons, make_spiral, make_xor, train_test_split

GENERATORS = [make_moons, make_circles, make_xor, make_blobs, make_spiral]


@pytest.mark.parametrize("make", GENERATORS)
def test_shapes_types_and_determinism(make):
    X, y = make(37, noise=0.1, seed=4)
    assert len(X) == len(y) == 37
    assert all(isinstance(x, list) and len(x) == 2 and all(type(v) is float for v in x) for x in X)
    assert all(type(label) is int for label in y)
    assert sorted(set(y)) == [0, 1]
    assert make(37, noise=0.1, seed=4) == (X, y)
    assert make(37, noise=0.1, seed=5) != (X, y)
    assert make(37, noise=0.1, rng=random.Random(4)) == (X, y)


def test_moons_geometry_without_noise():
    X, y = make_moons(50, noise=0.0, seed=0)
    for (a, b), label in zip(X, y):
        if label == 0:
            assert math.hypot(a, b) == pytest.approx(1.0) and b >= -1e-12
        else:
            assert math.hypot(a - 1.0, b - 0.5) == pytest.approx(1.0) and b <= 0.5 + 1e-12
    assert y.count(0) == y.count(1) == 25


def test_moons_are_shuffled():
    _, y = make_moons(100, noise=0.1, seed=0)
    assert y != sorted(y)


def test_circles_radii():
    X, y = make_circles(40, noise=0.0, factor=0.3, seed=0)
    for (a, b), label in zip(X, y):
        assert math.hypot(a, b) == pytest.approx(1.0 if label == 0 else 0.3)


def test_xor_truth_table():
    X, y = make_xor(4, noise=0.0, seed=0)
    table = sorted((tuple(x), label) for x, label in zip(X, y))
    assert table == [((-1.0, -1.0), 0), ((-1.0, 1.0), 1), ((1.0, -1.0), 1), ((1.0, 1.0), 0)]


def test_blobs_and_spiral_many_classes():
    X, y = make_blobs(31, noise=0.0, centers=3, seed=0)
    assert sorted(set(y)) == [0, 1, 2] and [y.count(c) for c in range(3)] == [11, 10, 10]
    X, y = make_blobs(4, noise=0.0, centers=[[5, 5], [-5, 0]], seed=0)
    assert sorted(map(tuple, X)) == [(-5.0, 0.0), (-5.0, 0.0), (5.0, 5.0), (5.0, 5.0)]
    X, y = make_spiral(60, noise=0.0, classes=3, seed=0)
    assert sorted(set(y)) == [0, 1, 2]
    assert all(0.09 <= math.hypot(*x) <= 1.0 + 1e-12 for x in X)


@pytest.mark.parametrize("call, message", [
    (lambda: make_moons(1), "n_samples"),
    (lambda: make_moons(10, noise=-0.1), "noise"),
    (lambda: make_moons(10, noise=math.nan), "noise"),
    (lambda: make_circles(10, factor=1.5), "factor"),
    (lambda: make_xor(3), "n_samples"),
    (lambda: make_blobs(10, centers=0), "centers"),
    (lambda: make_blobs(10, centers=[[1, 2, 3]]), "centers"),
    (lambda: make_blobs(2, centers=3), "n_samples"),
    (lambda: make_spiral(10, classes=1), "classes"),
    (lambda: make_spiral(10, turns=0), "turns"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: make_moons(10.0), "n_samples should be a whole number"),
    (lambda: make_moons(True), "n_samples should be a whole number .* not the bool True"),
    (lambda: make_moons(10, noise="0.1"), "noise should be a real number"),
    (lambda: make_blobs(10, centers=True), "centers should be a whole number .* not the bool True"),
    (lambda: make_spiral(10, classes=2.0), "classes should be a whole number"),
    (lambda: make_circles(10, factor=None), "factor should be a real number"),
])
def test_arguments_of_the_wrong_type(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_train_test_split():
    X, y = make_moons(40, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.25, seed=1)
    assert len(X_test) == len(y_test) == 10 and len(X_train) == len(y_train) == 30
    pairs = sorted(zip(map(tuple, X_train + X_test), y_train + y_test))
    assert pairs == sorted(zip(map(tuple, X), y))  # a partition, labels kept with their points
    assert train_test_split(X, y, 0.25, seed=1) == (X_train, X_test, y_train, y_test)
    with pytest.raises(ValueError, match="test_fraction"):
        train_test_split(X, y, 1.0)
    with pytest.raises(ValueError, match="empty"):
        train_test_split(X[:2], y[:2], 0.1)
    with pytest.raises(ValueError, match="40 samples but y has 39"):
        train_test_split(X, y[:-1])
