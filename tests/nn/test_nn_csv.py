"""nn.load_csv (a numeric CSV file into X, y) and nn.Standardizer (fit on train, apply to test)."""

import csv
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nn import Standardizer, load_csv


def write(tmp_path, text, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


# -- reading ---------------------------------------------------------------------------------------


def test_target_by_name_index_or_last_column(tmp_path):
    path = write(tmp_path, "height,weight,label\n1.5,60,0\n1.8,80.5,1\n")
    assert load_csv(path) == ([[1.5, 60.0], [1.8, 80.5]], [0, 1])  # default: the last column
    assert load_csv(path, target="label") == load_csv(path)
    assert load_csv(path, target=2) == load_csv(path)
    assert load_csv(path, target="height") == ([[60.0, 0.0], [80.5, 1.0]], [1.5, 1.8])
    assert load_csv(str(path), target=-3) == load_csv(path, target=0)
    X, y = load_csv(path)
    assert all(type(v) is float for row in X for v in row) and all(type(t) is int for t in y)


def test_header_is_detected_or_given(tmp_path):
    plain = write(tmp_path, "1,2,0\n3,4,1\n", "plain.csv")
    assert load_csv(plain) == ([[1.0, 2.0], [3.0, 4.0]], [0, 1])  # line 1 holds numbers: data
    assert load_csv(plain, header=True, target="2") == ([[3.0, 1.0]], [4])  # columns "1", "2", "0"
    named = write(tmp_path, "a,b,c\n1,2,0\n", "named.csv")
    with pytest.raises(ValueError, match=re.escape("line 1, column 1: 'a' is not a number")):
        load_csv(named, header=False)


def test_labels_are_ints_only_when_all_whole(tmp_path):
    assert load_csv(write(tmp_path, "x,y\n1,1.0\n2,-1\n3,2e0\n"))[1] == [1, -1, 2]
    y = load_csv(write(tmp_path, "x,y\n1,1\n2,0.5\n"))[1]
    assert y == [1.0, 0.5] and all(type(t) is float for t in y)


def test_blank_lines_bom_quotes_and_delimiters(tmp_path):
    text = '\ufeff"x1";"x2";"class"\n\n1,5;2;1\n   \n3;4;0\n'
    path = write(tmp_path, text.replace("1,5", "1.5"))
    assert load_csv(path, target="x1", delimiter=";") == ([[2.0, 1.0], [4.0, 0.0]], [1.5, 3])
    tabs = write(tmp_path, "a\tb\n 1 \t 2 \n", "tabs.tsv")
    assert load_csv(tabs, delimiter="\t") == ([[1.0]], [2])
    # Line numbers stay those of the file, blank lines included.
    bad = write(tmp_path, "a,b\n\n1,2\n\n3,x\n", "bad.csv")
    with pytest.raises(ValueError, match=re.escape("line 5, column 2 ('b'): 'x' is not a number")):
        load_csv(bad)


# Every error message load_csv gives, each naming the file and, where there is one, the line and column.
ERRORS = [
    ("non-numeric cell", "a,b,label\n1,2,0\n3,x,1\n", {},
     "{path}, line 3, column 2 ('b'): 'x' is not a number"),
    ("empty cell", "a,b,label\n1,,0\n", {},
     "{path}, line 2, column 2 ('b'): an empty cell is not a number"),
    ("short row", "a,b,label\n1,2,0\n3,4\n", {},
     "{path}, line 3, column 3 ('label'): the row ends after 2 cells, but line 1 has 3 columns"),
    ("long row", "a,b,label\n1,2,0\n3,4,1,9\n", {},
     "{path}, line 3, column 4: an extra cell '9' (4 cells, but line 1 has 3 columns)"),
    ("NaN", "a,b,label\n1,nan,0\n", {},
     "{path}, line 2, column 2 ('b'): 'nan' is a missing value (NaN); fill it in or drop the row first"),
    ("infinity", "a,b,label\n1,2,0\n1,-inf,0\n", {},
     "{path}, line 3, column 2 ('b'): '-inf' is infinite; only finite numbers can be used"),
    ("overflow", "1,1e999,0\n", {},
     "{path}, line 1, column 2: '1e999' is infinite; only finite numbers can be used"),
    ("empty file", "", {}, "{path}: empty file, no rows to read"),
    ("blank lines only", "\n \n\n", {}, "{path}: empty file, no rows to read"),
    ("header only", "a,b,label\n", {}, "{path}: only a header (line 1), no data rows"),
    ("one column", "label\n1\n", {},
     "{path}: line 1 has 1 column; need at least two, the features and the target"),
    ("misspelt target", "a,b,label\n1,2,0\n", {"target": "lable"},
     "{path}: no column named 'lable'; the header (line 1) has 'a', 'b', 'label'"),
    ("target index out of range", "a,b,label\n1,2,0\n", {"target": 3},
     "{path}: target index 3 is out of range: line 1 has 3 columns (indices 0..2, or -1 for the last)"),
    ("target name without header", "1,2,0\n", {"target": "label"},
     "{path}: target 'label' is a column name, but the file has no header (line 1 holds numbers, not names); "
     "pass target as an index, or header=True"),
    ("target name with header=False", "a,b\n", {"target": "b", "header": False},
     "{path}: target 'b' is a column name, but the file has no header (header=False was passed); "
     "pass target as an index"),
    ("ambiguous target name", "a,a,b\n1,2,3\n", {"target": "a"},
     "{path}: the header (line 1) names 2 columns 'a' (columns 1, 2); pass target as an index"),
    ("header that is half numbers", "a,2,label\n1,2,0\n", {},
     "{path}, line 1, column 1: 'a' is not a number (if line 1 is a header, pass header=True)"),
    ("quote left open", 'a,b\n1,"2\n', {},
     "{path}, line 2: not readable as CSV: unexpected end of data"),
    ("text after a closing quote", 'a,b\n1,"2"x\n', {},
     "{path}, line 2: not readable as CSV: ',' expected after '\"'"),
]


@pytest.mark.parametrize("text, options, message", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_messages_name_the_line_and_column(tmp_path, text, options, message):
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as caught:
        load_csv(path, **options)
    assert str(caught.value) == message.format(path=path)


def test_non_utf8_file(tmp_path):
    path = write(tmp_path, b"a,b\n1,\xff\n")
    with pytest.raises(ValueError, match=r"not UTF-8 text \(a byte 0xff .*save the file as UTF-8 CSV"):
        load_csv(path)


def test_bad_arguments(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n")
    with pytest.raises(TypeError, match="target should be a column name"):
        load_csv(path, target=1.0)
    with pytest.raises(TypeError, match="target should be a column name"):
        load_csv(path, target=True)
    with pytest.raises(ValueError, match="header should be 'auto', True or False, got 'yes'"):
        load_csv(path, header="yes")
    with pytest.raises(ValueError, match="delimiter should be a single character, got ', '"):
        load_csv(path, delimiter=", ")
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "missing.csv")


finite = st.floats(allow_nan=False, allow_infinity=False)


@given(st.integers(2, 5).flatmap(lambda width: st.tuples(
    st.lists(st.lists(finite, min_size=width, max_size=width), min_size=1, max_size=6),
    st.integers(-width, width - 1))))
def test_numbers_written_by_csv_read_back_exactly(tmp_path_factory, case):
    rows, target = case
    path = tmp_path_factory.mktemp("csv") / "numbers.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([[repr(v) for v in row] for row in rows])
    X, y = load_csv(path, target=target, header=False)
    column = target % len(rows[0])
    assert X == [row[:column] + row[column + 1:] for row in rows]
    assert y == [row[column] for row in rows]
    whole = all(row[column] == int(row[column]) for row in rows)
    assert all(type(t) is (int if whole else float) for t in y)


# -- Standardizer ----------------------------------------------------------------------------------


def test_standardizer_fits_on_train_and_applies_to_test():
    train = [[1.0, 5.0, 7.0], [3.0, 5.0, 8.0], [5.0, 5.0, 9.0]]
    scaler = Standardizer().fit(train)
    spread = math.sqrt(8 / 3)  # population std of 1, 3, 5
    assert scaler.mean == [3.0, 5.0, 8.0]
    assert scaler.scale == pytest.approx([spread, 1.0, math.sqrt(2 / 3)], rel=1e-15)
    assert scaler.scale[1] == 1.0  # a constant feature is shifted, never divided by zero
    out = scaler.transform(train)
    assert [row[0] for row in out] == pytest.approx([-2 / spread, 0.0, 2 / spread])
    assert [row[1] for row in out] == [0.0, 0.0, 0.0]
    # the test set is scaled with the training set's numbers, not its own
    assert scaler.transform([[7.0, 6.0, 8.0]]) == [[pytest.approx(4 / spread), 1.0, 0.0]]
    assert scaler.fit_transform(train) == out
    assert train == [[1.0, 5.0, 7.0], [3.0, 5.0, 8.0], [5.0, 5.0, 9.0]]  # input unchanged
    assert repr(scaler) == "Standardizer(3 features)" and repr(Standardizer()) == "Standardizer(not fitted)"


def test_standardizer_refuses_bad_input_and_keeps_its_state():
    scaler = Standardizer()
    with pytest.raises(RuntimeError, match=r"not fitted yet: call fit\(X_train\) first"):
        scaler.transform([[1.0]])
    scaler.fit([[0.0, 1.0], [2.0, 3.0]])
    fitted = (scaler.mean, scaler.scale)
    bad_fits = [
        ([], ValueError, "needs at least one sample, got none"),
        ([[1.0, 2.0], [3.0]], ValueError, r"X\[1\] has 1 features, but the first sample has 2"),
        ([[1.0, math.nan]], ValueError, r"X\[0\]\[1\] got NaN"),
        ([[1.0, math.inf]], ValueError, r"X\[0\]\[1\] is inf; need a finite number"),
        ([[1.0, True]], TypeError, r"X\[0\]\[1\] should be a real number .* not the bool True"),
        ([[1.0, "2"]], TypeError, r"X\[0\]\[1\] should be a real number .* not str '2'"),
        ([[]], ValueError, "the samples have no features"),
        (5, TypeError, "needs a list of samples"),
        ([[1.7e308], [-1.7e308], [-1.7e308]], ValueError, "feature 0 spans more than a float can hold"),
    ]
    for X, error, message in bad_fits:
        with pytest.raises(error, match=message):
            scaler.fit(X)
        assert (scaler.mean, scaler.scale) == fitted
    with pytest.raises(ValueError, match=r"X\[0\] has 3 features, but the fitted data has 2"):
        scaler.transform([[1.0, 2.0, 3.0]])
    tiny = Standardizer().fit([[0.0], [5e-324]])
    with pytest.raises(ValueError, match=r"X\[0\]\[0\] = 1e\+300 is too far from the training data"):
        tiny.transform([[1e300]])


@given(st.integers(1, 4).flatmap(lambda width: st.lists(
    st.lists(st.floats(-1e6, 1e6), min_size=width, max_size=width), min_size=1, max_size=8)))
def test_standardized_training_features_have_mean_0_and_spread_1(X):
    scaler = Standardizer().fit(X)
    Z = scaler.transform(X)
    for k, column in enumerate(zip(*Z)):
        assert all(math.isfinite(z) for z in column)
        # The mean itself is rounded to the nearest float: an error of about eps * |x|, which
        # standardising divides by the scale.
        rounding = 4 * 2.2e-16 * (max(abs(row[k]) for row in X) / scaler.scale[k] + 1)
        assert abs(math.fsum(column) / len(column)) <= rounding
        if len({row[k] for row in X}) == 1:
            assert set(column) == {0.0}
        else:
            assert math.sqrt(math.fsum(z * z for z in column) / len(column)) == pytest.approx(1.0, rel=1e-9)
