"""Neuron, Layer and MLP: shapes, names, init, fused vs unfused, scopes and input errors."""

import math
import random
import statistics

import pytest
from hypothesis import given, settings, strategies as st

from engine import Value, name_scope, topological_order
from nn import MLP, Layer, Neuron


def test_parameter_counts():
    assert len(Neuron(3).parameters()) == 4
    assert len(Layer(3, 5).parameters()) == 20
    # 2*16+16 + 16*16+16 + 16*1+1
    assert len(MLP(2, [16, 16, 1], seed=0).parameters()) == 337


def test_parameter_names_and_order():
    model = MLP(2, [3, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert names[-4:] == ["layers.1.neurons.0.w.0", "layers.1.neurons.0.w.1", "layers.1.neurons.0.w.2",
                          "layers.1.neurons.0.b"]
    assert "layers.0.neurons.2.w.1" in names
    assert len(names) == len(set(names)) == 13
    params = model.parameters()
    assert all(p.param for p in params)
    assert [p.label for p in params[:3]] == ["L0.n0.w0", "L0.n0.w1", "L0.n0.b"]
    # parameters() is the same objects in the same order, every time
    assert [id(p) for p in params] == [id(p) for _, p in model.named_parameters()]


def test_standalone_names():
    assert [n for n, _ in Neuron(2).named_parameters()] == ["w.0", "w.1", "b"]
    assert [n for n, _ in Layer(1, 2).named_parameters()] == ["neurons.0.w.0", "neurons.0.b", "neurons.1.w.0",
                                                              "neurons.1.b"]


def test_shared_parameter_listed_once():
    n = Neuron(2, seed=0)
    layer = Layer(2, 1, seed=0)
    layer.neurons.append(n)
    layer.extra = n  # reachable twice
    names = [name for name, _ in layer.named_parameters()]
    assert names.count("neurons.1.b") == 1 and not any(name.startswith("extra") for name in names)


def test_same_seed_same_parameters_different_seed_differs():
    a = MLP(2, [4, 1], seed=7).state_dict()
    b = MLP(2, [4, 1], seed=7).state_dict()
    c = MLP(2, [4, 1], seed=8).state_dict()
    assert a == b
    assert a != c
    r1, r2 = random.Random(3), random.Random(3)
    assert Layer(2, 2, rng=r1).state_dict() == Layer(2, 2, rng=r2).state_dict()


def test_seed_and_rng_together_refused():
    with pytest.raises(ValueError, match="seed or rng"):
        Neuron(2, seed=1, rng=random.Random(1))
    with pytest.raises(TypeError, match="seed"):
        Neuron(2, seed="1")


def test_uniform_init_bounds():
    params = MLP(3, [20, 20], seed=0).parameters()
    assert all(-1.0 <= p.data <= 1.0 for p in params)
    assert any(p.data != 0.0 for p in params if p.label.endswith("b"))


def test_he_init_statistics_and_zero_bias():
    layer = Layer(50, 200, init="he", seed=1)
    weights = [p.data for p in layer.parameters() if not p.label.endswith("b")]
    assert all(p.data == 0.0 for p in layer.parameters() if p.label.endswith("b"))
    assert abs(statistics.fmean(weights)) < 0.02
    assert statistics.pstdev(weights) == pytest.approx(math.sqrt(2 / 50), rel=0.05)


@pytest.mark.parametrize("init", ["xavier", "glorot"])
def test_xavier_init_bounds(init):
    layer = Layer(10, 30, init=init, seed=2)
    bound = math.sqrt(6 / 40)
    weights = [p.data for p in layer.parameters() if not p.label.endswith("b")]
    assert all(-bound <= w <= bound for w in weights)
    assert max(abs(w) for w in weights) > 0.9 * bound  # actually uses the whole range
    assert all(p.data == 0.0 for p in layer.parameters() if p.label.endswith("b"))


def _set(neuron, weights, bias):
    for p, v in zip(neuron.w, weights):
        p.data = v
    neuron.b.data = bias


@pytest.mark.parametrize("activation, expected", [
    ("linear", -1.5), ("relu", 0.0), ("tanh", math.tanh(-1.5)), ("sigmoid", 1 / (1 + math.exp(1.5))),
])
def test_neuron_output(activation, expected):
    n = Neuron(2, activation, seed=0)
    _set(n, [2.0, -1.0], 0.5)
    out = n([1.0, 4.0])  # pre-activation 2*1 - 1*4 + 0.5 = -1.5
    assert isinstance(out, Value)
    assert out.data == pytest.approx(expected, rel=1e-12)


def test_layer_always_returns_list_and_mlp_unwraps():
    assert isinstance(Layer(2, 1, seed=0)([1.0, 2.0]), list)
    assert len(Layer(2, 3, seed=0)([1.0, 2.0])) == 3
    assert isinstance(MLP(2, [4, 1], seed=0)([1.0, 2.0]), Value)
    out = MLP(2, [4, 3], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3


def test_width_one_hidden_layers_work():
    model = MLP(2, [16, 1, 1], seed=0)  # micrograd's Layer unwraps here and the next layer breaks
    out = model([0.5, -0.5])
    assert isinstance(out, Value)
    out.backward()
    assert model.layers[-1].neurons[0].b.grad == 1.0  # linear output: d out / d b = 1


def test_inputs_may_be_values_and_receive_gradients():
    model = MLP(2, [4, 1], activation="tanh", seed=3)
    x = [Value(0.3, "x0"), Value(-0.7, "x1")]
    out = model(x)
    out.backward()
    assert x[0].grad != 0.0 and x[1].grad != 0.0


@pytest.mark.parametrize("make", [lambda: Neuron(3), lambda: Layer(3, 2), lambda: MLP(3, [2, 1])])
def test_wrong_input_length(make):
    with pytest.raises(ValueError, match="expects 3 inputs, got 2"):
        make()([1.0, 2.0])
    with pytest.raises(TypeError, match="list of 3 inputs"):
        make()(5.0)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        MLP(2, [3, 1], activation="gelu")
    with pytest.raises(ValueError, match="unknown output_activation"):
        MLP(2, [3, 1], output_activation="softmax")
    with pytest.raises(ValueError, match="unknown init"):
        Neuron(2, init="zeros")
    with pytest.raises(ValueError, match="nin"):
        Neuron(0)
    with pytest.raises(ValueError, match=r"nouts\[1\]"):
        MLP(2, [3, 0])
    with pytest.raises(ValueError, match="non-empty list"):
        MLP(2, [])
    with pytest.raises(TypeError, match="nin should be a whole number .*, not the bool True"):
        Layer(True, 2)


def _grads(model, x):
    model.zero_grad()
    out = model(x)
    (out if isinstance(out, Value) else out[0]).backward()
    return out.data, [p.grad for p in model.parameters()]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-3, 3, allow_nan=False), min_size=3, max_size=3), st.integers(0, 2**16),
       st.sampled_from(["relu", "tanh", "sigmoid"]))
def test_fused_and_unfused_agree_exactly(x, seed, activation):
    fused = MLP(3, [5, 4, 1], activation=activation, seed=seed)
    chain = MLP(3, [5, 4, 1], activation=activation, fused=False, seed=seed)
    assert fused.state_dict() == chain.state_dict()
    assert _grads(fused, x) == _grads(chain, x)


def test_unfused_builds_elementary_nodes():
    n_fused = Neuron(3, "linear", seed=0)
    n_chain = Neuron(3, "linear", fused=False, seed=0)
    x = [1.0, 2.0, 3.0]
    ops_fused = [v.op for v in topological_order(n_fused(x)) if v.op]
    ops_chain = [v.op for v in topological_order(n_chain(x)) if v.op]
    assert ops_fused == ["dot"]
    # the plain-number inputs are leaves x0, x1, x2 (not folded in as constants): each term is w * x
    assert sorted(ops_chain) == ["*", "*", "*", "+", "+", "+"]


@pytest.mark.parametrize("fused", [True, False])
def test_nodes_carry_scope_matching_parameter_names(fused):
    model = MLP(2, [3, 2, 1], fused=fused, seed=0)
    out = model([0.1, 0.2])
    scopes = {v.scope for v in topological_order(out) if v.op}
    assert scopes == {f"layers.{i}.neurons.{j}" for i, w in enumerate([3, 2, 1]) for j in range(w)}
    prefixes = {name.rsplit(".", 2)[0] if ".w." in name else name.rsplit(".", 1)[0]
                for name, _ in model.named_parameters()}
    assert scopes == prefixes


def test_standalone_neuron_opens_no_scope():
    out = Neuron(2, seed=0)([1.0, 1.0])
    assert out.scope is None


def test_repr_and_architecture():
    model = MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    assert "MLP(2, [4, 1]" in repr(model)
    assert model.architecture() == {"type": "MLP", "nin": 2, "nouts": [4, 1], "activation": "tanh",
                                    "output_activation": "sigmoid"}


# -- labels, input leaves, and the layer's one-loop forward ------------------------------------------

def test_parameter_labels_are_unique_and_match_the_names():
    model = MLP(2, [16, 16, 1], seed=0)
    labels = [p.label for p in model.parameters()]
    assert len(labels) == len(set(labels)) == 337
    named = dict(model.named_parameters())
    assert named["layers.1.neurons.3.w.2"].label == "L1.n3.w2"
    assert named["layers.2.neurons.0.b"].label == "L2.n0.b"
    assert [p.label for p in Layer(2, 2, seed=0).parameters()] == ["n0.w0", "n0.w1", "n0.b", "n1.w0", "n1.w1", "n1.b"]
    assert [p.label for p in Neuron(2, seed=0).parameters()] == ["w0", "w1", "b"]


@pytest.mark.parametrize("make", [lambda: Neuron(2, "tanh", seed=1), lambda: Layer(2, 3, "tanh", seed=1),
                                  lambda: MLP(2, [3, 1], activation="tanh", seed=1),
                                  lambda: MLP(2, [3, 1], activation="tanh", fused=False, seed=1)])
def test_plain_number_inputs_become_labelled_leaves(make):
    model = make()
    out = model([0.5, -1.0])
    root = out if isinstance(out, Value) else out[0]
    leaves = [v for v in topological_order(root) if not v.parents and not v.param]
    assert sorted(v.label for v in leaves) == ["x0", "x1"]
    assert sorted(v.data for v in leaves) == [-1.0, 0.5]
    root.backward()
    # the same gradients as inputs given as Values by the caller
    x = [Value(0.5), Value(-1.0)]
    again = model(x)
    (again if isinstance(again, Value) else again[0]).backward()
    assert sorted(v.grad for v in leaves) == sorted(v.grad for v in x)
    assert all(v.grad != 0.0 for v in x)


def test_value_inputs_pass_through_unchanged():
    x = [Value(0.3, "mine"), 2.0]
    out = Neuron(2, "linear", seed=0)(x)
    parents = out.parents
    assert x[0] in parents and x[0].label == "mine"
    assert [p.label for p in parents if not p.param] == ["mine", "x1"]


def _nodes(root):
    return [(v.op, v.data, v.scope, v.label) for v in topological_order(root)]


@pytest.mark.parametrize("activation", ["relu", "tanh", "linear"])
def test_layer_builds_what_calling_each_neuron_builds(activation):
    # A fused Layer makes its neurons' nodes in one loop; they must be the nodes (values, ops,
    # scopes) that calling each neuron as a module makes.
    layer = Layer(3, 4, activation, seed=2)
    x = [Value(0.2, "x0"), Value(-0.4, "x1"), Value(0.9, "x2")]
    with name_scope("net"):
        fast = layer(x)
        with name_scope("again"):
            slow = [neuron(x) for neuron in layer.neurons]
    assert len(fast) == 4
    for j, (a, b) in enumerate(zip(fast, slow)):
        assert a.scope == f"net.neurons.{j}" and b.scope == f"net.again.neurons.{j}"
        assert [(op, d, lab) for op, d, _, lab in _nodes(a)] == [(op, d, lab) for op, d, _, lab in _nodes(b)]
        assert {s for op, _, s, _ in _nodes(a) if op} == {f"net.neurons.{j}"}
    standalone = Layer(2, 2, seed=0)([1.0, 2.0])
    assert [o.scope for o in standalone] == ["neurons.0", "neurons.1"]


def test_bad_inputs_name_the_model_and_what_it_expects():
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(TypeError, match=r"MLP\(2, \[3, 1\].* takes a list of 2 inputs \(numbers or Values\), not str 'ab'"):
        model("ab")
    with pytest.raises(TypeError, match=r"MLP\(2, \[3, 1\].*: input 1 should be a real number \(int, float or a "
                                        r"numpy scalar\), not str 'a'"):
        model([1.0, "a"])
    with pytest.raises(TypeError, match=r"input 0 should be a real number .*, not the bool True"):
        model([True, 1.0])
    with pytest.raises(TypeError, match=r"not NoneType None"):
        model(None)
    with pytest.raises(ValueError, match=r"MLP\(2, \[3, 1\].*: input 0 got NaN"):
        model([math.nan, 1.0])
    with pytest.raises(ValueError, match=r"Layer\(2, 3.* expects 2 inputs, got 1"):
        model.layers[0]([1.0])
