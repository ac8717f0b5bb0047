"""Module: calling runs forward in the module's scope; parameter bookkeeping and state dicts.
(The model file, save and load, is tested in test_nn_serialization.py.)"""

import math

import pytest

from engine import Value, is_grad_enabled, name_scope
from nn import MLP, Layer, ModelFileError, Module, Neuron


@pytest.fixture
def model():
    return MLP(2, [3, 1], seed=0)


def _snapshot(m):
    return [(name, p.data) for name, p in m.named_parameters()]


def test_zero_grad(model):
    model([1.0, 2.0]).backward()
    assert any(p.grad for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_state_dict_round_trip(model):
    state = model.state_dict()
    assert list(state) == [name for name, _ in model.named_parameters()]
    other = MLP(2, [3, 1], seed=1)
    assert other.state_dict() != state
    other.load_state_dict(state)
    assert other.state_dict() == state
    assert other([0.3, -0.2]).data == model([0.3, -0.2]).data


def test_load_state_dict_refusals_leave_model_unchanged(model):
    before = _snapshot(model)
    good = model.state_dict()
    cases = {
        "missing 1 parameter": {k: v for k, v in list(good.items())[:-1]},
        "unexpected 1 parameter": {**good, "layers.9.neurons.0.b": 0.0},
        "should be a single number": {**{k: 0.0 for k in good}, "layers.1.neurons.0.b": [1.0]},
        "only finite": {**{k: 0.0 for k in good}, "layers.1.neurons.0.b": math.inf},
    }
    for message, state in cases.items():
        with pytest.raises(ModelFileError, match=message):
            model.load_state_dict(state)
        assert _snapshot(model) == before
    with pytest.raises(ValueError):  # ModelFileError is a ValueError
        model.load_state_dict([1.0, 2.0])


def test_custom_module_walk_order():
    class Net(Module):
        def __init__(self):
            self.encoder = Layer(2, 2, seed=0)
            self.scale = Value(1.0, "scale", param=True)
            self.heads = [Neuron(2, seed=1), Neuron(2, seed=2)]
            self.not_a_param = Value(3.0)
            self._hidden = Value(4.0, param=True)

    names = [n for n, _ in Net().named_parameters()]
    assert names == ["encoder.neurons.0.w.0", "encoder.neurons.0.w.1", "encoder.neurons.0.b",
                     "encoder.neurons.1.w.0", "encoder.neurons.1.w.1", "encoder.neurons.1.b", "scale",
                     "heads.0.w.0", "heads.0.w.1", "heads.0.b", "heads.1.w.0", "heads.1.w.1", "heads.1.b"]


def test_load_state_dict_refuses_int_too_large_for_float(model):
    state = model.state_dict()
    first = next(iter(state))
    before = _snapshot(model)
    with pytest.raises(ModelFileError, match=f"{first!r} is an integer too large for a float"):
        model.load_state_dict({**state, first: 10 ** 400})
    assert _snapshot(model) == before




class Scale(Module):
    """A custom module written the PyTorch way: parameters in __init__, the computation in forward."""

    def __init__(self):
        self.k = Value(3.0, "k", param=True)

    def forward(self, x, shift=0.0):
        return self.k * x + shift


def test_calling_a_module_runs_forward_inside_its_scope():
    m = Scale()
    out = m(Value(2.0), shift=1.0)
    assert out.data == 7.0 and out.scope is None  # a root module opens no scope
    m.scope_name = "scale"
    with name_scope("net"):
        out = m(Value(2.0))
    assert out.scope == "net.scale" and out.parents[0].scope == "net.scale"
    assert m.forward(Value(1.0)).data == 3.0


def test_a_module_without_forward_says_so():
    class Empty(Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty must define forward"):
        Empty()([1.0])


def test_scope_is_closed_after_an_error():
    m = Layer(2, 2, seed=0)
    m.scope_name = "layer"
    with pytest.raises(ValueError, match="expects 2 inputs"):
        m([1.0])
    assert (Value(1.0) * 2).scope is None
    assert is_grad_enabled()


def test_no_public_name_hides_a_submodule():
    # `import nn.prediction; nn.prediction.predict_proba` must work: no function may take a
    # submodule's name in the package (as `nn.predict`, the function, would have).
    import importlib
    import pkgutil

    import nn

    names = [info.name for info in pkgutil.iter_modules(nn.__path__)]
    assert {"module", "serialization", "layers", "prediction", "train"} <= set(names)
    for name in names:
        try:
            module = importlib.import_module(f"nn.{name}")
        except ImportError:  # a submodule needing an optional extra that is not installed
            continue
        assert getattr(nn, name) is module, name
