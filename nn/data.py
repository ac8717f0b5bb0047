"""Datasets as plain Python lists (no numpy needed): toy 2-D sets, handwritten digits, your CSV.

Each toy generator returns `(X, y)`: X a list of `[x1, x2]` floats, y a list of int class
labels (0/1, or 0..k-1 for the k-class ones), in shuffled order. `noise` is the standard
deviation of Gaussian noise added to each coordinate. The same `seed` (an int; or pass `rng=`, a
`random.Random`) gives the same data in any process; no seed means different data every call.

Real data: `load_digits()` (8x8 handwritten digits, from scikit-learn's bundled copy) and
`load_csv(path, target=...)` (a numeric CSV file of your own). `Standardizer` rescales
features to mean 0 and standard deviation 1, learning the scaling from the training set only.
"""

from __future__ import annotations

import csv
import math
import os

from nn.module import resolve_rng


def make_moons(n_samples: int = 100, noise: float = 0.1, seed=None, *, rng=None):
    """Two interleaving half circles: class 0 the upper moon, class 1 the lower one."""
    _check_samples(n_samples, 2)
    _check_noise(noise)
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
    _check_samples(n_samples, 2)
    _check_noise(noise)
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0.0 < factor < 1.0:
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
    _check_samples(n_samples, 4)
    _check_noise(noise)
    rng = resolve_rng(seed, rng)
    corners = ((-1.0, -1.0, 0), (-1.0, 1.0, 1), (1.0, -1.0, 1), (1.0, 1.0, 0))
    points = [corners[i % 4] for i in range(n_samples)]
    return _finish(points, noise, rng)


def make_blobs(n_samples: int = 100, noise: float = 0.5, seed=None, *, centers=2, rng=None):
    """Gaussian blobs, one class per center.

    `centers` is a number k of classes, whose centers sit evenly on a circle of radius 3, or a
    list of `[x1, x2]` centers. Samples are split between classes as evenly as possible.
    """
    if isinstance(centers, int) and not isinstance(centers, bool):
        if centers < 1:
            raise ValueError(f"centers must be at least 1, got {centers!r}")
        k = centers
        centers = [(3.0 * math.cos(2 * math.pi * j / k), 3.0 * math.sin(2 * math.pi * j / k)) for j in range(k)]
    else:
        centers = _check_centers(centers)
    _check_samples(n_samples, len(centers))
    _check_noise(noise)
    rng = resolve_rng(seed, rng)
    points = []
    for j, count in enumerate(_split(n_samples, len(centers))):
        cx, cy = centers[j]
        points.extend((cx, cy, j) for _ in range(count))
    return _finish(points, noise, rng)


def make_spiral(n_samples: int = 100, noise: float = 0.05, seed=None, *, classes: int = 2, turns: float = 1.0,
                rng=None):
    """Interleaved spiral arms, one class per arm, winding `turns` times from the center out."""
    if type(classes) is not int or classes < 2:
        raise ValueError(f"classes must be an int >= 2, got {classes!r}")
    if isinstance(turns, bool) or not isinstance(turns, (int, float)) or not 0.0 < turns <= 10.0:
        raise ValueError(f"turns must be in (0, 10], got {turns!r}")
    _check_samples(n_samples, classes)
    _check_noise(noise)
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
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction!r}")
    n = len(X)
    n_test = round(n * test_fraction)
    if n_test < 1 or n_test > n - 1:
        raise ValueError(f"cannot split {n} samples with test_fraction={test_fraction}: one part would be empty")
    order = list(range(n))
    resolve_rng(seed, rng).shuffle(order)
    test, train = order[:n_test], order[n_test:]
    return [X[i] for i in train], [X[i] for i in test], [y[i] for i in train], [y[i] for i in test]


# -- real data ------------------------------------------------------------------------------------


def load_digits(*, scale: bool = True):
    """The 8x8 handwritten digits: 1,797 samples of 64 pixels with labels 0..9, as plain lists.

    Each sample is an 8x8 grey image read row by row (feature `8 * row + column`); a pixel
    counts the ink in a 4x4 block of the original 32x32 scan, from 0 (none) to 16 (full).
    `scale=True` (default) divides by 16 so that features lie in [0, 1], a range that suits a
    network's initial weights; `scale=False` keeps the counts 0..16 (as floats). y holds the
    digits as ints. Samples come in the data set's own order: use `train_test_split` to
    shuffle and split them.

    Needs scikit-learn, which ships this data set (nothing is downloaded):
    pip install 'gradwalk[data]'.
    """
    if not isinstance(scale, bool):
        raise TypeError(f"scale should be True or False, got {scale!r}")
    try:
        from sklearn.datasets import load_digits as sklearn_digits  # optional extra: gradwalk[data]
    except ImportError as exc:
        raise ImportError("nn.load_digits needs scikit-learn, which ships the digits: "
                          "pip install 'gradwalk[data]'") from exc
    digits = sklearn_digits()
    divisor = 16.0 if scale else 1.0
    X = [[float(v) / divisor for v in row] for row in digits.data.tolist()]
    y = [int(t) for t in digits.target.tolist()]
    return X, y


def load_csv(path, target=-1, *, header="auto", delimiter: str = ","):
    """Read a numeric CSV file into `(X, y)`: y is the `target` column, X the other columns.

    Args:
        path: the CSV file (UTF-8; a byte-order mark, as Excel writes, is ignored).
        target: the column to predict: a name from the header line, or an index counted
            from 0 as in Python (-1, the default, is the last column).
        header: "auto" (default) reads line 1 as column names when none of its cells is a
            number; True: line 1 is a header; False: every line is data.
        delimiter: the one character between cells, "," by default (";" and a tab are common).

    X is a list of rows of floats, in file order. y holds ints when every target is a whole
    number (class labels such as 0, 1, 2, or written 1.0), otherwise floats. Blank lines are
    skipped.

    A file that cannot be read this way raises ValueError naming the file, the line and the
    column (both counted from 1, as an editor shows them): a cell that is not a number, NaN or
    infinity, a row with more or fewer cells than the first, a target column that does not
    exist, an empty file, a header without data rows.
    """
    if header not in ("auto", True, False):
        raise ValueError(f"header should be 'auto', True or False, got {header!r}")
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        raise TypeError(f"target should be a column name (str) or index (int), got {target!r}")
    name = os.fspath(path)
    rows = _read_csv_rows(name, delimiter)
    if not rows:
        raise ValueError(f"{name}: empty file, no rows to read")
    first_line, first = rows[0]
    has_header = not any(_is_number(cell) for cell in first) if header == "auto" else header
    columns = [cell.strip() for cell in first] if has_header else None
    data = rows[1:] if has_header else rows
    width = len(first)
    if not data:
        raise ValueError(f"{name}: only a header (line {first_line}), no data rows")
    if width < 2:
        raise ValueError(f"{name}: line {first_line} has {width} column; need at least two, the features "
                         f"and the target")
    target_column = _target_index(target, columns, width, name, first_line, header)

    X, y = [], []
    for line, cells in data:
        if len(cells) != width:
            raise ValueError(_ragged_message(name, line, cells, columns, width, first_line))
        values = []
        for k, cell in enumerate(cells):
            where = f"{name}, line {line}, column {k + 1}" + (f" ({columns[k]!r})" if columns else "")
            hint = (f" (if line {first_line} is a header, pass header=True)"
                    if header == "auto" and line == first_line else "")
            values.append(_csv_number(cell, where, hint))
        y.append(values.pop(target_column))
        X.append(values)
    if all(v == int(v) for v in y):  # every value is finite here, so int() cannot fail
        y = [int(v) for v in y]
    return X, y


class Standardizer:
    """Rescale every feature to mean 0 and standard deviation 1, learning how from training data.

    Call `fit` on the training set only, then `transform` the training and the test set with
    the same numbers: statistics taken from the test set would leak it into training, and the
    test score would flatter the model.

        >>> scaler = Standardizer().fit([[1.0, 10.0], [3.0, 10.0]])
        >>> scaler.mean, scaler.scale
        ([2.0, 10.0], [1.0, 1.0])
        >>> scaler.transform([[5.0, 12.0]])
        [[3.0, 2.0]]

    `mean` and `scale` hold one number per feature once fitted (None before). `scale` is the
    standard deviation dividing by n (as scikit-learn's StandardScaler does). A feature with
    the same value in every training sample has nothing to scale: it keeps scale 1, so it is
    shifted to 0 and never divided by zero.
    """

    def __init__(self):
        self.mean = None
        self.scale = None

    def fit(self, X) -> "Standardizer":
        """Learn each feature's mean and standard deviation from the samples X; returns self."""
        rows = _numeric_rows(X, None, "Standardizer.fit")
        mean, scale = [], []
        for k, column in enumerate(zip(*rows)):
            try:
                # A constant feature's mean is its value, exactly (fsum / n could round it).
                m = column[0] if min(column) == max(column) else math.fsum(column) / len(column)
                s = _spread(column, m)
            except OverflowError:
                m = s = math.inf
            if not (math.isfinite(m) and math.isfinite(s)):
                raise ValueError(f"Standardizer.fit: feature {k} spans more than a float can hold "
                                 f"(from {min(column)!r} to {max(column)!r}); rescale it first")
            mean.append(m)
            scale.append(s)
        self.mean, self.scale = mean, scale  # assigned together, after every check passed
        return self

    def transform(self, X) -> list[list[float]]:
        """The samples X with each feature shifted by its mean and divided by its scale (new lists)."""
        if self.mean is None:
            raise RuntimeError("this Standardizer is not fitted yet: call fit(X_train) first")
        rows = _numeric_rows(X, len(self.mean), "Standardizer.transform")
        out = [[(v - m) / s for v, m, s in zip(row, self.mean, self.scale)] for row in rows]
        for i, row in enumerate(out):
            for k, z in enumerate(row):
                if not math.isfinite(z):  # a value astronomically far from the training data
                    raise ValueError(f"Standardizer.transform: X[{i}][{k}] = {rows[i][k]!r} is too far from the "
                                     f"training data to standardise (mean {self.mean[k]!r}, scale {self.scale[k]!r})")
        return out

    def fit_transform(self, X) -> list[list[float]]:
        """`fit(X)`, then `transform(X)`: for the training set."""
        return self.fit(X).transform(X)

    def __repr__(self) -> str:
        if self.mean is None:
            return "Standardizer(not fitted)"
        return f"Standardizer({len(self.mean)} features)"


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


def _check_samples(n, minimum: int) -> None:
    if type(n) is not int or n < minimum:
        raise ValueError(f"n_samples must be an int >= {minimum}, got {n!r}")


def _check_noise(noise) -> None:
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")


def _check_centers(centers) -> list[tuple[float, float]]:
    try:
        out = [(float(c[0]), float(c[1])) for c in centers if len(c) == 2]
        ok = len(out) == len(centers) and len(out) >= 1
    except (TypeError, ValueError, IndexError):
        ok = False
    if not ok or not all(math.isfinite(v) for c in out for v in c):
        raise ValueError(f"centers must be an int or a non-empty list of finite [x1, x2] points, got {centers!r:.80}")
    return out


def _read_csv_rows(name: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """`(line number, cells)` for every non-blank row of the CSV file `name`."""
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter should be a single character, got {delimiter!r}")
    rows = []
    # newline="" lets the csv module see line ends itself (quoted cells may span lines);
    # "utf-8-sig" drops the byte-order mark spreadsheet programs put at the start.
    with open(name, newline="", encoding="utf-8-sig") as f:
        # strict: a stray quote or a quoted cell left open is an error, not a silently odd cell.
        reader = csv.reader(f, delimiter=delimiter, strict=True)
        try:
            for cells in reader:
                if len(cells) > 1 or (cells and cells[0].strip()):
                    rows.append((reader.line_num, cells))
        except UnicodeDecodeError as exc:
            # Decoding runs ahead of the reader in blocks, so no line number can be trusted here.
            raise ValueError(f"{name}: not UTF-8 text (a byte {exc.object[exc.start]:#04x} that UTF-8 does not "
                             f"allow there); save the file as UTF-8 CSV") from None
        except csv.Error as exc:
            raise ValueError(f"{name}, line {reader.line_num}: not readable as CSV: {exc}") from None
    return rows


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _csv_number(cell: str, where: str, hint: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        what = "an empty cell" if not cell.strip() else f"{cell.strip()!r:.40}"
        raise ValueError(f"{where}: {what} is not a number{hint}") from None
    if math.isnan(value):
        raise ValueError(f"{where}: {cell.strip()!r} is a missing value (NaN); fill it in or drop the row first")
    if math.isinf(value):
        raise ValueError(f"{where}: {cell.strip()!r} is infinite; only finite numbers can be used")
    return value


def _target_index(target, columns, width: int, name: str, first_line: int, header) -> int:
    """The target's column index in 0..width-1, from a header name or a (possibly negative) index."""
    if isinstance(target, str):
        if columns is None:
            why = "header=False was passed" if header is False else f"line {first_line} holds numbers, not names"
            raise ValueError(f"{name}: target {target!r} is a column name, but the file has no header ({why}); "
                             f"pass target as an index" + ("" if header is False else ", or header=True"))
        found = [k for k, column in enumerate(columns) if column == target]
        if not found:
            shown = ", ".join(repr(c) for c in columns[:12]) + (", ..." if len(columns) > 12 else "")
            raise ValueError(f"{name}: no column named {target!r}; the header (line {first_line}) has {shown}")
        if len(found) > 1:
            raise ValueError(f"{name}: the header (line {first_line}) names {len(found)} columns {target!r} "
                             f"(columns {', '.join(str(k + 1) for k in found)}); pass target as an index")
        return found[0]
    if not -width <= target < width:
        raise ValueError(f"{name}: target index {target} is out of range: line {first_line} has {width} columns "
                         f"(indices 0..{width - 1}, or -1 for the last)")
    return target % width


def _ragged_message(name: str, line: int, cells: list, columns, width: int, first_line: int) -> str:
    if len(cells) < width:
        missing = len(cells)
        label = f" ({columns[missing]!r})" if columns else ""
        return (f"{name}, line {line}, column {missing + 1}{label}: the row ends after {missing} cells, "
                f"but line {first_line} has {width} columns")
    return (f"{name}, line {line}, column {width + 1}: an extra cell {cells[width].strip()!r:.40} "
            f"({len(cells)} cells, but line {first_line} has {width} columns)")


def _spread(column, m: float) -> float:
    """The standard deviation (dividing by n) of `column` around its mean `m`; 1.0 when constant."""
    if min(column) == max(column):
        return 1.0  # a constant feature: dividing by its zero spread would give NaN
    deviations = [v - m for v in column]
    # Dividing by the largest deviation first keeps every square in [0, 1]: no overflow for
    # huge values, and no spread rounded to 0 for tiny (subnormal) ones.
    largest = max(abs(d) for d in deviations)
    return largest * math.sqrt(math.fsum((d / largest) ** 2 for d in deviations) / len(deviations))


def _numeric_rows(X, width, what: str) -> list[list[float]]:
    """X as a non-empty list of equally long rows of finite floats, or a ValueError naming the cell."""
    try:
        rows = [list(row) for row in X]
    except TypeError:
        raise TypeError(f"{what} needs a list of samples, each a list of numbers") from None
    if not rows:
        raise ValueError(f"{what} needs at least one sample, got none")
    expected = len(rows[0]) if width is None else width
    if expected == 0:
        raise ValueError(f"{what}: the samples have no features")
    for i, row in enumerate(rows):
        if len(row) != expected:
            source = "the first sample" if width is None else "the fitted data"
            raise ValueError(f"{what}: X[{i}] has {len(row)} features, but {source} has {expected}")
        for k, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"{what}: X[{i}][{k}] is {v!r:.40}; need a finite number")
        rows[i] = [float(v) for v in row]
    return rows
