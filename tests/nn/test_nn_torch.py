"""The PyTorch twin: to_torch / from_torch round trips, and both frameworks compute the same numbers.

These tests run when PyTorch is installed (pip install 'gradwalk[torch]') and skip otherwise,
except the one checking the error without it."""

import math
import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nn import MLP, Layer, Neuron, cross_entropy, from_torch, mse_loss, to_torch, torch_gradients


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def sequential(torch, *modules, seed=0):
    """A Sequential whose Linear weights come from a private generator (no global RNG involved)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in modules:
            for p in module.parameters():
                p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype))
    return torch.nn.Sequential(*modules)


def close(a, b, rel=1e-12):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-3)


# -- to_torch --------------------------------------------------------------------------------------


def test_to_torch_builds_linear_and_activation_layers_with_gradwalks_weights(torch):
    model = MLP(3, [4, 5, 2], activation="tanh", output_activation="sigmoid", seed=1)
    seq = to_torch(model)
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear", "Tanh", "Linear", "Sigmoid"]
    assert [(m.in_features, m.out_features) for m in seq if isinstance(m, torch.nn.Linear)] == [(3, 4), (4, 5), (5, 2)]
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    neuron = model.layers[1].neurons[3]
    assert seq[2].weight[3].tolist() == [w.data for w in neuron.w]
    assert seq[2].bias[3].item() == neuron.b.data
    linear_output = to_torch(MLP(2, [3, 1], seed=0))
    assert [type(m).__name__ for m in linear_output] == ["Linear", "ReLU", "Linear"]  # "linear" adds no module


def test_to_torch_takes_layers_and_neurons_and_a_dtype(torch):
    layer = Layer(3, 2, activation="sigmoid", seed=0)
    seq = to_torch(layer)
    assert [type(m).__name__ for m in seq] == ["Linear", "Sigmoid"]
    x = [0.5, -1.0, 2.0]
    assert seq(torch.tensor(x, dtype=torch.float64)).tolist() == pytest.approx([v.data for v in layer(x)], rel=1e-15)
    neuron = Neuron(2, activation="linear", seed=0)
    single = to_torch(neuron, dtype=torch.float32)
    assert len(single) == 1 and single[0].weight.dtype == torch.float32
    assert single[0].weight[0].tolist() == [float(torch.tensor(w.data, dtype=torch.float32)) for w in neuron.w]


def test_to_torch_makes_a_copy_and_leaves_the_global_generator_alone(torch):
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    state = torch.random.get_rng_state()
    seq = to_torch(model)
    assert torch.equal(torch.random.get_rng_state(), state)
    with torch.no_grad():
        seq[0].weight.add_(1.0)
    assert model.state_dict() == before


def test_to_torch_refuses_what_it_cannot_convert(torch):
    with pytest.raises(TypeError, match="to_torch converts an MLP, Layer or Neuron, not list"):
        to_torch([1, 2])
    with pytest.raises(TypeError, match="dtype should be a torch floating-point dtype"):
        to_torch(MLP(2, [1], seed=0), dtype=torch.int64)
    with pytest.raises(TypeError, match="dtype should be a torch floating-point dtype"):
        to_torch(MLP(2, [1], seed=0), dtype="float64")


def test_without_torch_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail, as if not installed
    with pytest.raises(ImportError, match=r"nn.to_torch needs PyTorch: pip install 'gradwalk\[torch\]'"):
        to_torch(MLP(2, [1], seed=0))
    with pytest.raises(ImportError, match=r"nn.from_torch needs PyTorch"):
        from_torch(object())


# -- round trips -----------------------------------------------------------------------------------


def test_round_trip_from_gradwalk_is_exact(torch):
    model = MLP(4, [6, 6, 3], activation="sigmoid", output_activation="tanh", init="xavier", seed=3)
    back = from_torch(to_torch(model))
    assert back.architecture() == model.architecture()
    assert back.state_dict() == model.state_dict()  # ==, not approx: every float survives


def test_round_trip_from_torch_is_exact(torch):
    seq = sequential(torch, torch.nn.Linear(5, 7, dtype=torch.float64), torch.nn.ReLU(),
                     torch.nn.Linear(7, 7, dtype=torch.float64), torch.nn.ReLU(), torch.nn.Linear(7, 2, dtype=torch.float64))
    model = from_torch(seq)
    assert model.architecture() == {"type": "MLP", "nin": 5, "nouts": [7, 7, 2], "activation": "relu",
                                    "output_activation": "linear"}
    again = to_torch(model)
    assert all(torch.equal(a, b) for a, b in zip(seq.parameters(), again.parameters()))
    # float32 weights become the float64 numbers they stand for, and go back unchanged
    seq32 = sequential(torch, torch.nn.Linear(3, 2), torch.nn.Tanh())
    again32 = to_torch(from_torch(seq32), dtype=torch.float32)
    assert all(torch.equal(a, b) for a, b in zip(seq32.parameters(), again32.parameters()))
    assert from_torch(seq32).output_activation == "tanh"


@given(nin=st.integers(1, 4), nouts=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       activation=st.sampled_from(["relu", "tanh", "sigmoid", "linear"]),
       output_activation=st.sampled_from(["relu", "tanh", "sigmoid", "linear"]), seed=st.integers(0, 1000))
def test_any_mlp_round_trips_exactly_and_computes_the_same(nin, nouts, activation, output_activation, seed):
    torch = pytest.importorskip("torch")
    model = MLP(nin, nouts, activation=activation, output_activation=output_activation, seed=seed)
    seq = to_torch(model)
    back = from_torch(seq)
    assert back.state_dict() == model.state_dict()
    if len(nouts) > 1:  # with a single layer there is no hidden activation to recover
        assert back.architecture() == model.architecture()
    x = [0.25 * (i + 1) * (-1) ** i for i in range(nin)]
    ours = model(x)
    ours = [v.data for v in ours] if isinstance(ours, list) else [ours.data]
    theirs = seq(torch.tensor(x, dtype=torch.float64)).tolist()
    assert all(close(a, b) for a, b in zip(ours, theirs)), (ours, theirs)


# -- the same loss and gradients -------------------------------------------------------------------


def test_cross_entropy_loss_and_gradients_agree(torch):
    model = MLP(4, [5, 3], activation="tanh", seed=2)
    seq = to_torch(model)
    X = [[0.5, -1.0, 2.0, 0.0], [1.5, 0.25, -0.5, 1.0], [-2.0, 1.0, 0.5, -0.75]]
    y = [2, 0, 1]
    loss = cross_entropy([model(x) for x in X], y)
    model.zero_grad()
    loss.backward()
    torch_loss = torch.nn.functional.cross_entropy(seq(torch.tensor(X, dtype=torch.float64)), torch.tensor(y))
    torch_loss.backward()
    assert close(loss.data, torch_loss.item())
    theirs = torch_gradients(seq)
    ours = dict((name, p.grad) for name, p in model.named_parameters())
    assert list(theirs) == list(ours)  # the same names, in the same order
    assert all(close(ours[n], theirs[n]) for n in ours), max(abs(ours[n] - theirs[n]) for n in ours)
    assert any(abs(g) > 1e-3 for g in ours.values())  # a real comparison, not of zeros


def test_mse_loss_and_gradients_agree_for_one_output(torch):
    model = MLP(2, [4, 1], activation="relu", seed=5)
    seq = to_torch(model)
    X, y = [[0.3, -0.7], [1.1, 0.4], [-0.2, 0.9], [0.8, 0.8]], [0.5, -1.0, 2.0, 0.0]
    loss = mse_loss([model(x) for x in X], y)
    model.zero_grad()
    loss.backward()
    out = seq(torch.tensor(X, dtype=torch.float64)).squeeze(1)  # torch keeps a (batch, 1) shape
    torch_loss = torch.nn.functional.mse_loss(out, torch.tensor(y, dtype=torch.float64))
    torch_loss.backward()
    assert close(loss.data, torch_loss.item())
    theirs = torch_gradients(seq)
    assert all(close(p.grad, theirs[name]) for name, p in model.named_parameters())


def test_torch_gradients_needs_a_backward_pass(torch):
    seq = to_torch(MLP(2, [2], seed=0))
    with pytest.raises(ValueError, match="Linear 0 has no gradient yet; run a backward pass first"):
        torch_gradients(seq)


# -- what from_torch refuses -----------------------------------------------------------------------


def refusals(torch):
    L = torch.nn.Linear
    return [
        ([L(2, 3), torch.nn.Dropout()], ValueError,
         re.escape("from_torch cannot represent layer 1 (Dropout(p=0.5, inplace=False)) of type Dropout; a gradwalk "
                   "MLP is made of Linear, ReLU, Tanh, Sigmoid")),
        ([L(2, 3), torch.nn.LeakyReLU()], ValueError, re.escape("cannot represent layer 1 (LeakyReLU(negative_slope")),
        ([L(2, 3), torch.nn.Sequential(L(3, 1))], ValueError, "cannot represent layer 1 .* of type Sequential"),
        ([L(2, 3, bias=False)], ValueError,
         r"layer 0 \(Linear\(in_features=2, out_features=3, bias=False\)\) has no bias; every gradwalk neuron has one"),
        ([torch.nn.ReLU(), L(2, 3)], ValueError, r"layer 0 \(ReLU\(\)\) comes before any Linear layer"),
        ([L(2, 3), torch.nn.ReLU(), torch.nn.Tanh()], ValueError, r"layer 2 \(Tanh\(\)\) follows another activation"),
        ([L(2, 3), torch.nn.ReLU(), L(3, 3), torch.nn.Tanh(), L(3, 1)], ValueError,
         r"one activation for all hidden layers, but this Sequential mixes them \(Linear 0: relu, Linear 1: tanh\)"),
        ([L(2, 3), L(4, 1)], ValueError, r"layer 1 .* takes 4 inputs, but the Linear before it has 3 outputs"),
        ([], ValueError, "the Sequential has no Linear layer"),
    ]


def test_from_torch_refuses_layers_it_cannot_represent_by_name(torch):
    for modules, error, message in refusals(torch):
        with pytest.raises(error, match=message):
            from_torch(torch.nn.Sequential(*modules))
    with pytest.raises(TypeError, match="from_torch reads a torch.nn.Sequential, not Linear"):
        from_torch(torch.nn.Linear(2, 3))
    seq = sequential(torch, torch.nn.Linear(2, 2))
    with torch.no_grad():
        seq[0].bias[1] = math.nan
    with pytest.raises(ValueError, match=r"Linear 0 has bias\[1\] = nan; only finite numbers can be copied"):
        from_torch(seq)
