"""nn.load_digits: scikit-learn's bundled 8x8 digits as plain lists, and the error without the extra."""

import sys

import pytest

from nn import load_digits

# The first scan in the data set, a zero, row by row as scikit-learn ships it (ink 0..16).
FIRST_ZERO = [
    [0, 0, 5, 13, 9, 1, 0, 0],
    [0, 0, 13, 15, 10, 15, 5, 0],
    [0, 3, 15, 2, 0, 11, 8, 0],
    [0, 4, 12, 0, 0, 8, 8, 0],
    [0, 5, 8, 0, 0, 9, 8, 0],
    [0, 4, 11, 0, 1, 12, 7, 0],
    [0, 2, 14, 5, 10, 12, 0, 0],
    [0, 0, 6, 13, 10, 0, 0, 0],
]


def test_shapes_labels_and_the_first_digit():
    pytest.importorskip("sklearn")
    X, y = load_digits(scale=False)
    assert len(X) == len(y) == 1797
    assert all(type(row) is list and len(row) == 64 and all(type(v) is float for v in row) for row in X)
    assert all(type(label) is int for label in y)
    assert [y.count(d) for d in range(10)] == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert y[:10] == list(range(10))
    assert [X[0][8 * r:8 * r + 8] for r in range(8)] == FIRST_ZERO
    assert {v for row in X for v in row} == {float(k) for k in range(17)}  # ink counts 0..16


def test_scaled_pixels_are_the_counts_divided_by_16():
    pytest.importorskip("sklearn")
    raw, y_raw = load_digits(scale=False)
    X, y = load_digits()
    assert y == y_raw
    assert X == [[v / 16 for v in row] for row in raw]
    assert min(min(row) for row in X) == 0.0 and max(max(row) for row in X) == 1.0


def test_scale_must_be_a_bool():
    with pytest.raises(TypeError, match="scale should be True or False, got 16"):
        load_digits(scale=16)


def test_without_scikit_learn_the_error_names_the_extra(monkeypatch):
    # A None entry in sys.modules makes `import sklearn...` raise ImportError, as if not installed.
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"needs scikit-learn.*pip install 'gradwalk\[data\]'"):
        load_digits()
