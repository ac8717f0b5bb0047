"""engine.trace: a function recorded once as a tape, replayed for a whole batch with numpy.

The replayed values and gradients must equal the node-by-node ones: for random expression graphs
(every built-in op, folded constants, shared subexpressions) and for MLPs, grouped (a layer's
nodes in one array, `dot` layers as matrix products) and one array per node."""

from __future__ import annotations

import math
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import Value, dot, no_grad, sum_values, trace
from engine.core import modes
from engine.core.value import registry
from engine.testing import expression_cases, op_names

np = pytest.importorskip("numpy")

RTOL = 1e-12


def close(a, b, scale=1.0) -> bool:
    """Equal to 1e-12 relative; `scale` (the size of the terms that were summed) bounds the
    absolute error where a sum cancels to nearly nothing."""
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=RTOL * scale)


def builtin_op_names() -> list[str]:
    """The generated op names (see engine.testing) whose op is one of engine.core.table' own: tests
    elsewhere define throwaway ops that have no array form."""
    names = []
    for name in op_names():
        if name in registry:
            op = registry[name]
        elif name.endswith("c") and name[:-1] in registry:
            op = registry[name[:-1]]
        else:
            op = registry[name[1:]]
        if getattr(op, "builtin", True):
            names.append(name)
    return names


def node_path(f, sample):
    """f at one sample, node by node: (output, [d output / d input])."""
    xs = [Value(x) for x in sample]
    out = f(*xs)
    out.backward()
    return out.data, [x.grad for x in xs]


def nearby_samples(expression, inputs, count=4):
    """`inputs` and a few points near it where the expression can be evaluated."""
    samples = [list(inputs)]
    for k in range(1, count):
        sample = [x + 0.01 * k * (-1) ** i for i, x in enumerate(inputs)]
        try:
            values = expression.node_values(sample)
        except (ArithmeticError, ValueError):
            continue
        if all(math.isfinite(v) and abs(v) < 1e4 for v in values):
            samples.append(sample)
    return samples


# -- recording ----------------------------------------------------------------------------------


def test_a_tape_lists_inputs_leaves_steps_and_outputs():
    w = Value(2.0, "w")
    tape = trace(lambda x, y: (x * w + y * 3.0).relu(), 1.0, -1.0)
    assert [x.data for x in tape.inputs] == [1.0, -1.0]
    assert tape.leaves == [w]
    assert [str(s.op) for s in tape.steps] == ["*", "*3", "+", "relu"]
    # Positions: inputs 0-1, the leaf 2, then the steps 3, 4, 5, 6.
    assert [s.parents for s in tape.steps] == [(0, 2), (1,), (3, 4), (5,)]
    assert tape.outputs == [6] and len(tape) == 7
    assert str(tape).splitlines() == ["inputs x0, x1", "leaves w", "t0 = x0*w", "t1 = x1*3", "t2 = t0 + t1",
                                      "t3 = relu(t2)", "output t3"]
    assert repr(tape) == "<Tape: 2 inputs, 1 shared leaves, 4 steps, 1 output>"
    assert tape.example_outputs[0].data == 0.0  # relu(2 - 3)


def test_example_inputs_may_be_values_and_outputs_a_list():
    tape = trace(lambda x: [x.exp(), x * x], Value(0.5))
    assert not tape.single and len(tape.outputs) == 2
    run = tape.replay([[0.0], [1.0]])
    assert run.outputs.shape == (2, 2)
    assert run.outputs.tolist() == [[1.0, 0.0], [math.e, 1.0]]


def test_branching_on_a_value_while_tracing_says_why_it_cannot_be_traced():
    def f(x):
        return x.relu() if x else -x

    with pytest.raises(TypeError, match="branched on a Value.*records one path"):
        trace(f, 1.0)
    assert modes.tracing is False  # restored after the error
    assert bool(Value(1.0)) is True  # outside a trace, a Value is truthy as before


def test_trace_refuses_what_it_cannot_record():
    with pytest.raises(TypeError, match="function of Values"):
        trace(3.0)
    with pytest.raises(TypeError, match="must return a Value"):
        trace(lambda x: 2.0, 1.0)
    with pytest.raises(TypeError, match="must return a Value"):
        trace(lambda x: [], 1.0)
    with pytest.raises(TypeError, match="trace's example input 0"):
        trace(lambda x: x, "one")
    with no_grad(), pytest.raises(RuntimeError, match="no_grad"):
        trace(lambda x: x * 2, 1.0)


def test_an_op_without_an_array_form_is_refused_when_traced():
    op = engine.Op("halve_without_arrays", lambda x: x / 2, 0.5)  # not registered: no global effect
    with pytest.raises(TypeError, match="halve_without_arrays.*no array_forward"):
        trace(lambda x: op(x), 1.0)


def test_the_tape_draws_its_example_graph():
    pytest.importorskip("graphviz")
    tape = trace(lambda x: (x * 2.0).tanh(), 0.5)
    source = tape.draw().source
    assert "tanh" in source and "*2" in source


# -- replaying equals node by node ----------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(expression_cases(ops=builtin_op_names()), st.booleans())
def test_replayed_values_and_gradients_equal_node_by_node_ones(case, grouped):
    f = case.expression
    samples = nearby_samples(f, case.inputs)
    tape = trace(f, *case.inputs)
    run = tape.replay(samples, grouped=grouped)
    grads = run.backward()
    scale = max([1.0] + [abs(v) for s in samples for v in f.node_values(s)])
    for i, sample in enumerate(samples):
        out, expected = node_path(f, sample)
        assert close(run.outputs[i], out, scale), (i, run.outputs[i], out)
        for got, want in zip(grads[i], expected):
            assert close(got, want, scale * scale), (i, got, want)
        assert run.node_value(tape.outputs[0])[i] == run.outputs[i]
        assert [run.node_value(k)[i] for k in range(len(tape.inputs))] == sample


def _mlp_gradients_by_nodes(model, X):
    for p in model.parameters():
        p.grad = 0.0
    outputs = []
    for x in X:
        out = model(x)
        (out if isinstance(out, Value) else sum_values(out)).backward()
        outputs.append(out.data if isinstance(out, Value) else [o.data for o in out])
    return outputs, [p.grad for p in model.parameters()]


@pytest.mark.parametrize("activation, fused, grouped", [
    ("relu", True, True), ("relu", True, False), ("tanh", True, True), ("sigmoid", False, True),
    ("relu", False, False),
])
def test_mlp_replay_gives_the_node_by_node_outputs_and_parameter_gradients(activation, fused, grouped):
    from nn import MLP, make_moons

    model = MLP(2, [8, 8, 1], activation=activation, fused=fused, seed=4)
    X, _ = make_moons(30, noise=0.1, seed=2)
    outputs, expected = _mlp_gradients_by_nodes(model, X)
    tape = trace(lambda *xs: model(list(xs)), *X[0])
    for p in model.parameters():
        p.grad = 0.0
    run = tape.replay(X, grouped=grouped)
    run.backward()
    scale = max(abs(g) for g in expected)
    assert all(close(a, b) for a, b in zip(run.outputs, outputs))
    assert all(close(p.grad, g, scale) for p, g in zip(model.parameters(), expected))


def test_a_model_with_several_outputs_replays_them_as_columns():
    from nn import MLP

    model = MLP(3, [5, 4], seed=1)
    X = [[0.1, -0.2, 0.3], [1.0, 0.5, -1.5]]
    outputs, expected = _mlp_gradients_by_nodes(model, X)
    tape = trace(lambda *xs: model(list(xs)), *X[0])
    for p in model.parameters():
        p.grad = 0.0
    run = tape.replay(X)
    run.backward()  # the gradient of the sum of all outputs, as sum_values above
    assert run.outputs.shape == (2, 4)
    assert all(close(a, b) for row, want in zip(run.outputs.tolist(), outputs) for a, b in zip(row, want))
    assert all(close(p.grad, g, 10.0) for p, g in zip(model.parameters(), expected))


def test_grouping_puts_a_layer_into_one_matrix_product():
    from nn import MLP

    model = MLP(2, [16, 16, 1], seed=0)
    tape = trace(lambda *xs: model(list(xs)), 0.3, -0.2)
    tape.replay([[0.3, -0.2]])
    kinds = [(type(g).__name__, len(g.members)) for g in tape._plans[True].groups]
    assert kinds == [("_MatmulGroup", 16), ("_ElementwiseGroup", 16), ("_MatmulGroup", 16),
                     ("_ElementwiseGroup", 16), ("_MatmulGroup", 1)]


def test_shared_leaves_are_read_at_each_replay_and_accumulate_their_gradient():
    w = Value(2.0, "w")
    tape = trace(lambda x: x * w, 1.0)
    assert tape.replay([[1.0], [3.0]]).outputs.tolist() == [2.0, 6.0]
    w.data = -1.0  # an optimizer step, say
    run = tape.replay([[1.0], [3.0]])
    assert run.outputs.tolist() == [-1.0, -3.0]
    w.grad = 0.5
    input_grads = run.backward(upstream=[1.0, 2.0])
    assert w.grad == 0.5 + 1.0 * 1.0 + 2.0 * 3.0  # summed over the batch, added to what was there
    assert input_grads.tolist() == [[-1.0], [-2.0]]


def test_a_weight_used_twice_in_one_layer_gets_both_gradients():
    shared, other = Value(0.5, "shared"), Value(-1.0, "other")
    f = lambda x, y: dot([shared, shared], [x, y]) * dot([other, shared], [x, y])  # noqa: E731
    samples = [[1.0, 2.0], [-0.5, 0.25]]
    tape = trace(f, *samples[0])
    for grouped in (True, False):
        shared.grad = other.grad = 0.0
        tape.replay(samples, grouped=grouped).backward()
        replayed = (shared.grad, other.grad)
        shared.grad = other.grad = 0.0
        for s in samples:
            node_path(f, s)
        assert close(replayed[0], shared.grad) and close(replayed[1], other.grad)


def test_a_constant_part_of_the_graph_is_computed_once_and_gets_the_batch_sum():
    a = Value(3.0, "a")
    tape = trace(lambda x: x + (a * a).exp() * 0.0 + a * a, 1.0)  # a*a is the same for every sample
    a.grad = 0.0
    run = tape.replay([[1.0], [2.0], [5.0]])
    assert run.outputs.tolist() == [10.0, 11.0, 14.0]
    run.backward()
    assert a.grad == 3 * 2 * 3.0


# -- errors -------------------------------------------------------------------------------------


def test_a_domain_error_in_one_sample_is_the_node_by_node_error_naming_the_sample():
    tape = trace(lambda x: (x * 2.0).log(), 1.0)
    with pytest.raises(ValueError, match=r"sample 2 of the batch, node t1: log needs x > 0, got x=-2.0"):
        tape.replay([[1.0], [2.0], [-1.0]])
    tape = trace(lambda x: 1.0 / x, 1.0)
    with pytest.raises(ZeroDivisionError, match="sample 1 of the batch"):
        tape.replay([[1.0], [0.0]])
    tape = trace(lambda x: x.exp(), 1.0)
    with pytest.raises(OverflowError, match="sample 0 of the batch.*exp overflows"):
        tape.replay([[1000.0]])


def test_an_overflow_floats_allow_replays_as_infinity_too():
    tape = trace(lambda x: x * 1e300, 1.0)
    assert (Value(1e10) * 1e300).data == math.inf  # node by node: inf, no error
    assert tape.replay([[1e10]]).outputs.tolist() == [math.inf]


def test_an_infinite_slope_behind_a_zero_gradient_gives_zero_not_nan():
    # sqrt's slope at 0 is infinite, and the relu it is multiplied by passes it a gradient of 0:
    # node by node, a node whose upstream gradient is 0 passes nothing on.
    f = lambda x: x.relu().sqrt() * (-1.0 - x).relu() + x  # noqa: E731
    tape = trace(f, 1.0)
    grads = tape.replay([[0.0], [4.0]]).backward()
    assert grads.tolist() == [[node_path(f, [0.0])[1][0]], [node_path(f, [4.0])[1][0]]] == [[1.0], [1.0]]


def test_a_nan_gradient_raises_naming_the_op():
    f = lambda x: (x - 1.0).relu().sqrt() * 2.0  # noqa: E731  slope of sqrt at 0 is inf; relu's slope 0
    tape = trace(f, 5.0)
    with pytest.raises(FloatingPointError, match="backward through 'relu' gave a NaN gradient for sample 0"):
        tape.replay([[1.0]]).backward()


def test_bad_batches_are_refused_with_the_problem_named():
    tape = trace(lambda x, y: x * y, 1.0, 2.0)
    with pytest.raises(ValueError, match=r"each 2 numbers; got an array of shape \(2, 3\)"):
        tape.replay([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="sample 1 of the batch has a non-finite input"):
        tape.replay([[1.0, 2.0], [math.nan, 2.0]])
    run = tape.replay([[1.0, 2.0]])
    with pytest.raises(ValueError, match="outputs' shape"):
        run.backward(upstream=[1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        run.backward(upstream=[math.inf])


def test_without_numpy_replay_names_the_extra_to_install(monkeypatch):
    tape = trace(lambda x: x * 2.0, 1.0)  # recording needs no numpy
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(ImportError, match=r"gradwalk\[fast\]"):
        tape.replay([[1.0]])


def test_a_layer_on_shared_inputs_with_a_bias_per_sample():
    # The matrix product's inputs are the same for every sample (one column), its bias is not.
    w, c = [Value(0.5), Value(-1.0)], Value(2.0)
    tape = trace(lambda x: dot(w, [c * 1.0, c + 1.0], x), 1.0)
    run = tape.replay([[1.0], [2.0], [3.0]], grouped=True)
    assert run.outputs.tolist() == [-1.0, 0.0, 1.0]
    assert run.backward().tolist() == [[1.0], [1.0], [1.0]]
    assert [v.grad for v in w] == [6.0, 9.0] and c.grad == 3 * (0.5 - 1.0)
