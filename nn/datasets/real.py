"""Real data as plain Python lists: handwritten digits and your own CSV file.

`load_digits()` reads the 8x8 handwritten digits from scikit-learn's bundled copy (the `data`
extra; nothing is downloaded), `load_csv(path, target=...)` reads a numeric CSV file of your own
with the standard library, and `Standardizer` rescales features to mean 0 and standard
deviation 1, learning the scaling from the training set only.
"""

from __future__ import annotations

import csv
import math
import numbers
import os

from nn.module import real_number


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
    if isinstance(target, bool) or not isinstance(target, (numbers.Integral, str)):
        raise TypeError(f"target should be a column name (str) or index (int), got {target!r:.60}")
    target = target if isinstance(target, str) else int(target)
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
        values = [real_number(v, f"{what}: X[{i}][{k}]") for k, v in enumerate(row)]
        for k, v in enumerate(values):
            if not math.isfinite(v):
                raise ValueError(f"{what}: X[{i}][{k}] is {v!r}; need a finite number")
        rows[i] = values
    return rows
