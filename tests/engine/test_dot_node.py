"""The `dot` node's fast path (engine.core.functional.dot) against the op's own definition: the same
value bit for bit, the same slopes, the same node as a chain of `*` and `+` would compute, and
the same refusals. Also the shape of a node's local-gradient closure: calling it gives back the
slopes tuple itself, every time."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import NaNError, Value, dot, no_grad
from engine.core.table import dot_op

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
rows = st.integers(min_value=0, max_value=40).flatmap(
    lambda n: st.tuples(st.lists(finite, min_size=n, max_size=n), st.lists(finite, min_size=n, max_size=n),
                        st.one_of(st.none(), finite)))


@given(rows)
def test_a_dot_node_equals_the_op_definition_bit_for_bit(row):
    ws, xs, b = row
    node = dot([Value(w) for w in ws], [Value(x) for x in xs], None if b is None else Value(b))
    operands = ws + xs + ([] if b is None else [b])
    assert node.data.hex() == dot_op.forward(operands).hex()
    assert node.local_grad() == tuple(dot_op.derivative(operands, node.data))
    assert type(node.local_grad()) is tuple and node.local_grad() is node.local_grad()
    assert len(node.parents) == len(operands) and node.op == "dot"


@given(rows)
def test_a_dot_node_equals_a_chain_of_products_and_sums(row):
    ws, xs, b = row
    chain = Value(0.0)
    for w, x in zip(ws, xs):
        chain = chain + Value(w) * Value(x)
    if b is not None:
        chain = chain + Value(b)
    assert dot([Value(w) for w in ws], [Value(x) for x in xs], None if b is None else Value(b)).data.hex() \
        == chain.data.hex()


def test_gradients_of_a_dot_node():
    w, x, b = [Value(2.0), Value(-3.0)], [Value(0.5), Value(4.0)], Value(1.0)
    out = dot(w, x, b)
    assert out.data == 2.0 * 0.5 + -3.0 * 4.0 + 1.0
    out.backward()
    assert [v.grad for v in (*w, *x, b)] == [0.5, 4.0, 2.0, -3.0, 1.0]


def test_numbers_tuples_and_generators_are_taken():
    x = Value(3.0)
    assert dot((2.0, 1), (x, 4.0), 0.5).data == 10.5
    assert dot((v for v in [Value(2.0)]), iter([x])).data == 6.0
    assert dot([], [], Value(1.5)).data == 1.5 and dot([], []).data == 0.0


def test_numpy_scalars_become_constant_leaves():
    np = pytest.importorskip("numpy")
    x = Value(3.0)
    out = dot([np.float64(2.0), np.int64(1)], [x, x])  # np.float64 has a .data attribute of its own
    assert out.data == 9.0 and all(isinstance(p, Value) for p in out.parents)


def test_bad_operands_are_refused_by_name():
    with pytest.raises(ValueError, match="as many weights as inputs, got 2 and 1"):
        dot([Value(1.0), Value(2.0)], [Value(1.0)])
    with pytest.raises(TypeError, match="dot takes a Value, int or float, not str"):
        dot([Value(1.0)], ["2"])
    with pytest.raises(TypeError, match="not bool"):
        dot([Value(1.0)], [Value(2.0)], True)


def test_a_nan_sum_is_refused_naming_dot():
    with pytest.raises(NaNError, match=r"^dot of \(inf, -inf, 1\.0, 1\.0\) is NaN"):
        dot([Value(math.inf), Value(-math.inf)], [Value(1.0), Value(1.0)])
    with pytest.raises(NaNError, match="dot of"):
        dot([Value(math.inf)], [Value(0.0)])


def test_no_grad_makes_a_leaf():
    with no_grad():
        out = dot([Value(2.0)], [Value(3.0)], Value(1.0))
    assert out.data == 7.0 and out.parents == () and out.local_grad is None


@pytest.mark.parametrize("make", [lambda x: x * x, lambda x: x * 3.0, lambda x: x.tanh(), lambda x: x.relu(),
                                  lambda x: (x + 1.0).relu(), lambda x: x.exp()])
def test_every_node_gets_its_slopes_back_from_its_closure(make):
    node = make(Value(0.5))
    slopes = node.local_grad()
    assert type(slopes) is tuple and len(slopes) == len(node.parents) and node.local_grad() is slopes
