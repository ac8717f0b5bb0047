"""Walking the graph: topological order, backward semantics, step-through, no_grad, scopes."""

import subprocess
import sys

import pytest

from engine import (
    Value, backward_steps, is_grad_enabled, name_scope, no_grad, topological_order, zero_grad,
)


def small_graph():
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(1.0, "b")
    n = x * w + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return x, w, b, n, o


def test_topological_order_puts_parents_first_and_root_last():
    x, w, b, n, o = small_graph()
    order = topological_order(o)
    assert order[-1] is o
    position = {id(node): k for k, node in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]
    assert [node.label for node in order] == ["x", "w", "", "b", "n", "o"]


def test_topological_order_lists_a_shared_node_once():
    a = Value(1.0)
    b = a * a
    c = b + b
    assert len(topological_order(c)) == 3


def test_topological_order_is_identical_across_processes():
    code = (
        "from engine import Value, topological_order\n"
        "x, y = Value(1.0, 'x'), Value(2.0, 'y')\n"
        "z = (x * y + x).tanh() * (y - x).exp() + x\n"
        "print([(n.op, n.label, n.data) for n in topological_order(z)])\n"
    )
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(runs) == 1


def test_backward_accumulates_into_leaves_and_resets_interior_nodes():
    x, w, b, n, o = small_graph()
    o.backward()
    first = {"x": x.grad, "w": w.grad, "b": b.grad, "n": n.grad, "o": o.grad}
    o.backward()
    assert x.grad == 2 * first["x"] and w.grad == 2 * first["w"] and b.grad == 2 * first["b"]
    assert n.grad == first["n"] and o.grad == 1.0


def test_backward_on_a_leaf_accumulates_one():
    x = Value(3.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_zero_grad_clears_every_node():
    x, w, b, n, o = small_graph()
    o.backward()
    o.zero_grad()
    assert all(node.grad == 0.0 for node in topological_order(o))
    zero_grad(o)  # the function form too


@pytest.mark.slow
def test_ten_to_the_sixth_deep_chain_at_default_recursion_limit():
    assert sys.getrecursionlimit() <= 1000 * 10  # nothing raised it
    x = Value(0.5)
    y = x
    for _ in range(10**6):
        y = (y * 1.0001 + 0.0001).tanh()
    y.backward()
    assert 0.0 < x.grad < 1.0
    assert len(topological_order(y)) == 3 * 10**6 + 1
    del y  # freeing a million-deep chain must not overflow the C stack either


def test_backward_steps_prints_chain_rule_lines():
    x, w, b, n, o = small_graph()
    steps = list(o.backward_steps())
    assert [s.node_name for s in steps] == ["o", "n", "#2"]
    assert steps[0].index == 1 and steps[0].total == 3
    first = str(steps[0]).splitlines()
    assert first[0] == "step 1 of 3: o = tanh(n) = -0.9999"
    assert first[1].startswith("  o -> n:  local ∂o/∂n = 1 - tanh(n)**2 = 0.0001816;  upstream do/do = 1;")
    last = str(steps[-1]).splitlines()
    assert last[1] == (f"  #2 -> x:  local ∂#2/∂x = w = -3;  upstream do/d#2 = {n.grad:.4g};  "
                       f"adds -3 × {n.grad:.4g} ≈ {x.grad:.4g};  x.grad: 0 → {x.grad:.4g}")


def test_backward_steps_records_every_edge_exactly():
    x, w, b, n, o = small_graph()
    for step in o.backward_steps():
        for edge in step.edges:
            assert edge.contribution == edge.local_grad * step.upstream
            assert edge.grad_after == edge.grad_before + edge.contribution
            assert edge.parent.grad == edge.grad_after or step.node.parents.count(edge.parent) > 1


def test_exhausting_backward_steps_equals_backward():
    def build():
        a, c = Value(0.3, "a"), Value(-1.2, "c")
        h = (a * c).sigmoid()
        return [a, c], (h * h + a / (c * c + 1)).softplus()

    leaves1, out1 = build()
    out1.backward()
    leaves2, out2 = build()
    for _ in out2.backward_steps():
        pass
    assert [leaf.grad for leaf in leaves1] == [leaf.grad for leaf in leaves2]
    assert [n.grad for n in topological_order(out1)] == [n.grad for n in topological_order(out2)]


def test_stopping_backward_steps_halfway_leaves_processed_nodes_final():
    x, w, b, n, o = small_graph()
    steps = backward_steps(o)
    next(steps)
    assert o.grad == 1.0 and n.grad == pytest.approx(1 - o.data**2)
    assert x.grad == 0.0 and w.grad == 0.0  # not reached yet
    x2, w2, b2, n2, o2 = small_graph()
    o2.backward()
    assert n.grad == n2.grad


def test_no_grad_records_nothing_and_restores_the_mode():
    x = Value(2.0)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        with no_grad():
            y = (x * x).tanh()
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert y.parents == () and y.local_grad is None and y.op == ""
    assert y.data == pytest.approx(0.9993292997390670)


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ValueError):
        with no_grad():
            Value(-1.0).log()
    assert is_grad_enabled()


def test_detach_makes_a_leaf():
    x = Value(2.0, "x")
    y = (x * 3).detach()
    assert y.parents == () and y.data == 6.0
    (y * x).backward()
    assert x.grad == 6.0 and y.grad == 2.0


def test_name_scope_stamps_nested_scopes():
    x = Value(1.0)
    with name_scope("layers"):
        with name_scope("0"):
            inner = x * 2
        outer = inner + 1
    after = outer * 3
    assert inner.scope == "layers.0" and outer.scope == "layers" and after.scope is None
    with pytest.raises(ValueError):
        with name_scope(""):
            pass


def test_a_step_echoed_in_a_repl_shows_its_chain_rule_lines():
    x, w, b, n, o = small_graph()
    first = next(o.backward_steps())
    assert repr(first) == str(first)  # the REPL echo and print() show the same step, header included
    assert repr(first).startswith("step 1 of 3: o = tanh(n)")
