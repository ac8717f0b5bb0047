"""The backward stepper: its texts, and its moves (next, peek, back, reset, run)."""

import decimal
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import Value, topological_order
from engine.stepper import StaleStepperError, Stepper, StepperError
from engine.testing import expression_cases


from stepper_cases import bits, grads, neuron  # noqa: F401

# -- the texts ---------------------------------------------------------------------------------------


def test_the_readme_neuron_step_by_step():
    x, w, b, n, o = neuron()
    steps = Stepper(o)
    assert repr(steps) == "<backward stepper for o: 0 of 3 steps done; next: step 1, o = tanh(n)>"
    assert str(next(steps)).splitlines() == [
        "step 1 of 3: o = tanh(n) = 0.7071",
        "  o -> n:  local ∂o/∂n = 1 - tanh(n)**2 = 0.5;  upstream do/do = 1;  adds 0.5 × 1 = 0.5;  n.grad: 0 → 0.5",
    ]
    assert str(next(steps)).splitlines() == [
        "step 2 of 3: n = #2 + b = 0.8814",
        "  n -> #2:  local ∂n/∂#2 = 1;  upstream do/dn = 0.5;  adds 1 × 0.5 = 0.5;  #2.grad: 0 → 0.5",
        "  n -> b:   local ∂n/∂b = 1;  upstream do/dn = 0.5;  adds 1 × 0.5 = 0.5;  b.grad: 0 → 0.5",
    ]
    assert repr(steps) == "<backward stepper for o: 2 of 3 steps done; next: step 3, #2 = x*w>"
    last = next(steps)
    assert repr(last) == str(last)  # the REPL echo and print() show the same text, header included
    assert str(last).splitlines() == [
        "step 3 of 3: #2 = x*w = -6",
        "  #2 -> x:  local ∂#2/∂x = w = -3;  upstream do/d#2 = 0.5;  adds -3 × 0.5 = -1.5;  x.grad: 0 → -1.5",
        "  #2 -> w:  local ∂#2/∂w = x = 2;  upstream do/d#2 = 0.5;  adds 2 × 0.5 = 1;  w.grad: 0 → 1",
    ]
    assert steps.done and repr(steps) == "<backward stepper for o: finished, all 3 steps done>"
    assert (x.grad, w.grad) == pytest.approx((-1.5, 1.0))


def test_a_repeated_operand_shows_each_edge_and_the_running_total_apart():
    # Before: `#1 -> x:  df/dx += 3 (d#1/dx) * 1 (df/d#1) = 4`, where 3 x 1 is not 4.
    x = Value(3.0, "x")
    f = x * x + x
    f.label = "f"
    text = "\n".join(str(step) for step in Stepper(f))
    assert text.splitlines()[-2:] == [
        "  #1 -> x:  local ∂#1/∂x = x = 3;  upstream df/d#1 = 1;  adds 3 × 1 = 3;  x.grad: 1 → 4",
        "  #1 -> x:  local ∂#1/∂x = x = 3;  upstream df/d#1 = 1;  adds 3 × 1 = 3;  x.grad: 4 → 7",
    ]
    assert x.grad == 7.0


def test_names_with_operators_are_parenthesised():
    y = Value(0.25, "Y")
    inner = (1 - y).log()
    inner.label = "log(1-Y)"
    loss = inner * 2
    loss.label = "my loss"
    text = str(next(Stepper(loss)))
    assert text.startswith("step 1 of 3: (my loss) = (log(1-Y))*2 = ")
    assert "local ∂(my loss)/∂(log(1-Y)) = 2;" in text and "upstream d(my loss)/d(my loss) = 1;" in text
    assert "(log(1-Y)).grad: 0 → 2" in text


def test_formulas_of_folded_constants_and_n_ary_ops():
    from engine import dot, sum_values

    x, w0, x0, w1, x1, b = (Value(v, name) for v, name in
                            [(2.0, "x"), (0.5, "w0"), (4.0, "x0"), (-1.0, "w1"), (3.0, "x1"), (0.25, "b")])
    assert "local ∂#1/∂x = -2/x**2 = -0.5;" in str(next(Stepper(2 / x)))
    assert "local ∂#1/∂x = 3;" in str(next(Stepper(x * 3)))  # the formula is the number itself
    assert "local ∂#1/∂x = 1/4 = 0.25;" in str(next(Stepper(x / 4)))
    neuron_in = dot([w0, w1], [x0, x1], b)
    neuron_in.label = "z"
    lines = str(next(Stepper(neuron_in))).splitlines()
    assert lines[0] == "step 1 of 1: z = w0*x0 + w1*x1 + b = -0.75"
    assert "local ∂z/∂w0 = x0 = 4;" in lines[1] and "local ∂z/∂x1 = w1 = -1;" in lines[4]
    assert "local ∂z/∂b = 1;" in lines[5]
    total = sum_values([x, w0, x0, w1, x1, b])
    assert str(next(Stepper(total))).splitlines()[0] == "step 1 of 1: #6 = x + w0 + ... + b (6 terms) = 8.75"


def test_a_zero_upstream_passes_nothing_on_as_backward_does():
    x = Value(0.0, "x")
    dead = (x.sqrt() * 0.0).relu()  # sqrt's slope at 0 is inf; 0 upstream must not make it NaN
    reference_x = Value(0.0)
    (reference_x.sqrt() * 0.0).relu().backward()
    texts = [str(step) for step in Stepper(dead)]
    assert "adds nothing (upstream is 0)" in texts[-1]
    assert x.grad == reference_x.grad == 0.0


def printed_products(text):
    return re.findall(r"adds (\S+) × (\S+) ([=≈]) (\S+);", text)


@given(expression_cases(), st.integers(2, 6))
def test_every_printed_product_is_exact_where_it_says_equals(case, digits):
    leaves = [Value(v) for v in case.inputs]
    out = case.expression(*leaves)
    exact = decimal.Context(prec=80)
    for step in Stepper(out):
        text = step.text(digits)
        products = printed_products(text)
        assert len(products) == sum(1 for _ in step.edges) or step.upstream == 0.0
        for (a, b, sign, c), edge in zip(products, step.edges):
            assert a == f"{edge.local_grad:.{digits}g}" and b == f"{step.upstream:.{digits}g}"
            assert c == f"{edge.contribution:.{digits}g}"  # the number really added, rounded
            if all(math.isfinite(float(t)) for t in (a, b, c)):
                is_exact = exact.multiply(decimal.Decimal(a), decimal.Decimal(b)) == decimal.Decimal(c)
                assert (sign == "=") == is_exact, text
        for edge in step.edges:  # a formula that is just a name is that node's value
            names = {e.parent_name: e.parent for e in step.edges}
            if edge.formula in names:
                assert edge.local_grad == names[edge.formula].data


def test_rounding_turns_the_equals_sign_into_approximately():
    x = Value(2.0, "x")
    f = (x / 3) * 0.5
    f.label = "f"
    lines = "\n".join(str(step) for step in Stepper(f))
    assert "adds 0.5 × 1 = 0.5;" in lines  # exact: printed with =
    assert "adds 0.3333 × 0.5 ≈ 0.1667;" in lines  # 0.3333 × 0.5 is 0.16665, not 0.1667
    assert "x.grad: 0 → 0.1667" in lines


# -- moving: next, peek, back, reset, table ---------------------------------------------------------------


def test_peek_shows_the_next_step_without_applying_it():
    x, w, b, n, o = neuron()
    steps = Stepper(o)
    before = grads(o)
    first = steps.peek()
    assert grads(o) == before and steps.position == 0
    applied = next(steps)
    assert str(first) == str(applied)
    peeked = steps.peek()
    assert str(peeked) == str(next(steps))
    next(steps)
    assert steps.peek() is None and steps.done


def test_back_undoes_each_step_bit_for_bit_and_the_first_undoes_the_start():
    x, w, b, n, o = neuron()
    x.grad, w.grad = 0.1, -0.0  # earlier passes left something; -0.0 must come back as -0.0
    states = [bits(grads(o))]
    steps = Stepper(o)
    with pytest.raises(StepperError, match="nothing to undo"):
        steps.back()
    for _ in steps:
        states.append(bits(grads(o)))
    assert len(states) == 4
    for expected, index in zip(reversed(states[:-1]), [3, 2, 1]):
        assert steps.back() is steps and bits(grads(o)) == expected
        assert steps.peek().index == index  # the undone step is the next one again
    assert steps.position == 0 and not steps.done
    assert [step.index for step in steps] == [1, 2, 3]  # and it can go forward again
    assert bits(grads(o)) == states[-1]


def test_reset_puts_back_the_grads_from_before_the_stepper():
    x, w, b, n, o = neuron()
    x.grad = 0.25
    before = bits(grads(o))
    steps = Stepper(o)
    next(steps)
    next(steps)
    assert steps.reset() is steps
    assert bits(grads(o)) == before and steps.position == 0
    assert len(list(steps)) == 3 and x.grad == pytest.approx(0.25 - 1.5)


def test_past_the_end_it_says_backward_is_finished():
    x, w, b, n, o = neuron()
    steps = Stepper(o)
    list(steps)
    with pytest.raises(StopIteration, match="backward is finished: all 3 steps of o.backward_steps"):
        next(steps)


def test_table_has_a_row_per_step_and_a_line_per_edge():
    x, w, b, n, o = neuron()
    steps = Stepper(o)
    assert str(steps.table()) == "no steps done yet (of 3) in o's backward pass"
    list(steps)
    table = steps.table()
    assert [row.node_name for row in table.rows] == ["o", "n", "#2"]
    lines = str(table).splitlines()
    assert lines[0].split()[:5] == ["step", "node", "op", "data", "upstream"]
    assert lines[1].split() == ["1", "o", "tanh", "0.7071", "1", "n", "0.5", "0.5", "0.5"]
    assert lines[3].split() == ["b", "1", "0.5", "0.5"]  # n's second edge: the step's columns left blank
    assert lines[4].split() == ["3", "#2", "*", "-6", "0.5", "x", "-3", "-1.5", "-1.5"]
    assert lines[-1] == "(all 3 steps done)"


def test_a_leaf_root_has_no_steps_but_exhausting_still_seeds_it():
    x = Value(2.0, "x")
    steps = Stepper(x)
    assert list(steps) == [] and x.grad == 1.0 and steps.done
    assert steps.back() is steps and x.grad == 0.0


# -- exhausting it is backward() -----------------------------------------------------------------------


@given(expression_cases(), st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_exhausting_the_stepper_leaves_exactly_what_backward_leaves(case, earlier):
    def build():
        leaves = [Value(v) for v in case.inputs]
        for leaf, g in zip(leaves, earlier):
            leaf.grad = g  # leaves accumulate across passes, stepped or not
        return leaves, case.expression(*leaves)

    _, out = build()
    out.backward()
    _, stepped = build()
    list(Stepper(stepped))
    assert bits(grads(stepped)) == bits(grads(out))


@given(expression_cases(), st.lists(st.booleans(), max_size=30))
def test_any_walk_of_next_and_back_matches_the_plain_pass(case, moves):
    leaves = [Value(v) for v in case.inputs]
    out = case.expression(*leaves)
    steps = Stepper(out)
    reference = []  # the grads after k steps, from a second stepper on a twin graph
    twin = case.expression(*[Value(v) for v in case.inputs])
    reference.append(bits(grads(twin)))
    for _ in Stepper(twin):
        reference.append(bits(grads(twin)))
    for forward in moves:
        if forward and not steps.done:
            next(steps)
        elif not forward and steps.position > 0:
            steps.back()
        assert bits(grads(out)) == reference[steps.position]
