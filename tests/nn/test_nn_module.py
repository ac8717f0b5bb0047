"""Module bookkeeping: state dicts, saving atomically, and loading that refuses bad files whole."""

import json
import math
import os

import pytest

from engine import Value
import nn
from nn import MLP, FILE_FORMAT, Layer, ModelFileError, Module, Neuron, load_model, parameter_count


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


def test_save_load_round_trip_exact(tmp_path, model):
    path = tmp_path / "model.json"
    model.save(path)
    document = json.loads(path.read_text())
    assert document["format"] == FILE_FORMAT and document["version"] == 1
    assert document["architecture"] == model.architecture()
    assert list(document["parameters"]) == list(model.state_dict())
    fresh = MLP(2, [3, 1], seed=99)
    fresh.load(path)
    assert fresh.state_dict() == model.state_dict()  # bit for bit: JSON floats round-trip
    rebuilt = load_model(str(path))
    assert isinstance(rebuilt, MLP) and rebuilt.state_dict() == model.state_dict()


def test_save_is_deterministic(tmp_path, model):
    model.save(tmp_path / "a.json")
    model.save(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_save_overwrites_and_leaves_no_temp_files(tmp_path, model):
    path = tmp_path / "m.json"
    MLP(2, [3, 1], seed=5).save(path)
    model.save(path)
    assert os.listdir(tmp_path) == ["m.json"]
    assert json.loads(path.read_text())["parameters"] == model.state_dict()


@pytest.mark.parametrize("crash_in", ["os.replace", "os.fsync"])
def test_crash_during_save_keeps_old_file(tmp_path, model, monkeypatch, crash_in):
    path = tmp_path / "m.json"
    old = MLP(2, [3, 1], seed=5)
    old.save(path)
    old_bytes = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("simulated crash")

    monkeypatch.setattr(os, crash_in.split(".")[1], crash)
    for p in model.parameters():
        p.data += 1.0  # the new content really differs
    with pytest.raises(OSError, match="simulated crash"):
        model.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["m.json"]


def test_crash_during_first_save_leaves_nothing(tmp_path, model, monkeypatch):
    monkeypatch.setattr(json, "dumps", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        model.save(tmp_path / "m.json")
    assert os.listdir(tmp_path) == []


def test_save_refuses_non_finite(tmp_path, model):
    path = tmp_path / "m.json"
    model.save(path)
    old_bytes = path.read_bytes()
    model.parameters()[0].data = math.nan
    with pytest.raises(ValueError, match="layers.0.neurons.0.w.0"):
        model.save(path)
    assert path.read_bytes() == old_bytes


def _write(tmp_path, content, name="bad.json"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_text(json.dumps(content))
    return path


def _valid_document(model):
    return {"format": FILE_FORMAT, "version": 1, "architecture": model.architecture(),
            "parameters": model.state_dict()}


def _refusals(model):
    good = _valid_document(model)
    params = good["parameters"]
    first = next(iter(params))
    return [
        ("not valid JSON", "{ this is not json"),
        ("not UTF-8", b"\xff\xfe\x00garbage"),
        ("not a gradwalk model file", [1, 2, 3]),
        ("not a gradwalk model file", {"parameters": params}),
        ("not a gradwalk model file", {**good, "format": "something-else"}),
        ("newer gradwalk", {**good, "version": 2}),
        ("version should be", {**good, "version": "1"}),
        ("architecture", {**good, "architecture": None}),
        ("different architecture", {**good, "architecture": MLP(2, [4, 1]).architecture()}),
        ("\"parameters\" should be", {**good, "parameters": list(params.values())}),
        ("missing 1 parameter", {**good, "parameters": {k: v for k, v in params.items() if k != first}}),
        ("unexpected 1 parameter", {**good, "parameters": {**params, "extra": 1.0}}),
        ("should be a single number", {**good, "parameters": {**params, first: [0.1, 0.2]}}),
        ("should be a single number", {**good, "parameters": {**params, first: "0.5"}}),
        ("should be a single number", {**good, "parameters": {**params, first: True}}),
        ("only finite", json.dumps({**good, "parameters": {**params, first: math.nan}})),
        ("only finite", json.dumps({**good, "parameters": {**params, first: 1e400}}).replace("Infinity", "1e400")),
        ("too large for a float", json.dumps({**good, "parameters": {**params, first: 0}}).replace(
            f'"{first}": 0', f'"{first}": {"9" * 400}')),
        ("corrupt model file.*digits",
         json.dumps({**good, "version": 0}).replace('"version": 0', '"version": ' + "9" * 5000)),
        ("nested too deeply", "[" * 100000),
        ("appears twice", json.dumps(good)[:-2] + f', "{first}": 1.0}}}}'),
    ]


def test_every_refusal_leaves_model_unchanged(tmp_path, model):
    cases = _refusals(MLP(2, [3, 1], seed=3))
    before = _snapshot(model)
    for i, (message, content) in enumerate(cases):
        path = _write(tmp_path, content, f"bad{i}.json")
        with pytest.raises(ModelFileError, match=message) as info:
            model.load(path)
        assert str(path) in str(info.value)
        assert _snapshot(model) == before, message


def test_duplicate_key_case_is_really_a_duplicate(tmp_path):
    # guards the test above: the text it builds must be a valid JSON document with a repeated key
    m = MLP(2, [3, 1], seed=3)
    message, text = _refusals(m)[-1]
    pairs = json.loads(text, object_pairs_hook=lambda p: p)
    names = [k for k, _ in pairs[-1][1]]
    assert len(names) != len(set(names))


def test_missing_file(tmp_path, model):
    with pytest.raises(FileNotFoundError):
        model.load(tmp_path / "nope.json")


def test_load_model_kinds(tmp_path):
    for m in (Neuron(3, "tanh", seed=0), Layer(2, 4, "sigmoid", seed=0), MLP(3, [2, 2], seed=0)):
        path = tmp_path / f"{type(m).__name__}.json"
        m.save(path)
        loaded = load_model(path)
        assert type(loaded) is type(m)
        assert loaded.architecture() == m.architecture()
        assert loaded.state_dict() == m.state_dict()


def test_load_model_refuses_unknown_type(tmp_path):
    class Custom(Module):
        def __init__(self):
            self.a = Value(1.0, param=True)

    path = tmp_path / "c.json"
    Custom().save(path)
    with pytest.raises(ModelFileError, match="'Custom'"):
        load_model(path)
    fresh = Custom()
    fresh.a.data = 5.0
    fresh.load(path)  # a custom module can still load its own file
    assert fresh.a.data == 1.0


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


@pytest.mark.parametrize("m", [Neuron(3, seed=0), Layer(2, 4, seed=0), MLP(3, [5, 2, 1], seed=0)])
def test_parameter_count_matches_built_model(m):
    assert parameter_count(m.architecture()) == len(m.parameters())


def test_load_model_checks_parameter_count_before_building(tmp_path, monkeypatch):
    def no_building(*args, **kwargs):
        raise AssertionError("load_model built a model from a file it should refuse")

    monkeypatch.setattr(nn, "MLP", no_building)
    doc = _valid_document(MLP(2, [3, 1], seed=0))
    huge = _write(tmp_path, {**doc, "architecture": {**doc["architecture"], "nouts": [3000, 3000, 1]}}, "huge.json")
    with pytest.raises(ModelFileError, match="implies 9015001 parameters, more than load_model builds"):
        load_model(huge)
    wrong = _write(tmp_path, {**doc, "architecture": {**doc["architecture"], "nouts": [30, 30, 1]}}, "wrong.json")
    with pytest.raises(ModelFileError, match="implies 1051 parameters, but the file has 13"):
        load_model(wrong)
