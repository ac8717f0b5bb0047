"""The model file (nn.serialization): saving atomically and only to files, loading that refuses
bad files whole, and load_model."""

import json
import math
import os
import stat

import pytest

from engine import Value
import nn.layers
from nn import MLP, FILE_FORMAT, Layer, ModelFileError, Module, Neuron, load_model, parameter_count


@pytest.fixture
def model():
    return MLP(2, [3, 1], seed=0)


def _snapshot(m):
    return [(name, p.data) for name, p in m.named_parameters()]


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


@pytest.mark.parametrize("m", [Neuron(3, seed=0), Layer(2, 4, seed=0), MLP(3, [5, 2, 1], seed=0)])
def test_parameter_count_matches_built_model(m):
    assert parameter_count(m.architecture()) == len(m.parameters())


def test_load_model_checks_parameter_count_before_building(tmp_path, monkeypatch):
    def no_building(*args, **kwargs):
        raise AssertionError("load_model built a model from a file it should refuse")

    monkeypatch.setattr(nn.layers, "MLP", no_building)
    doc = _valid_document(MLP(2, [3, 1], seed=0))
    huge = _write(tmp_path, {**doc, "architecture": {**doc["architecture"], "nouts": [3000, 3000, 1]}}, "huge.json")
    with pytest.raises(ModelFileError, match="implies 9015001 parameters, more than load_model builds"):
        load_model(huge)
    wrong = _write(tmp_path, {**doc, "architecture": {**doc["architecture"], "nouts": [30, 30, 1]}}, "wrong.json")
    with pytest.raises(ModelFileError, match="implies 1051 parameters, but the file has 13"):
        load_model(wrong)


# -- what save refuses to write to -------------------------------------------------------------------

def test_save_refuses_a_directory_naming_the_path(tmp_path, model):
    with pytest.raises(ValueError, match=f"cannot save to {str(tmp_path)!r}: it is a directory") as info:
        model.save(tmp_path)
    assert ".tmp" not in str(info.value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("device", ["/dev/null", "/dev/full"])
def test_save_refuses_a_device_and_leaves_it_a_device(tmp_path, model, device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    with pytest.raises(ValueError, match=f"cannot save to '{device}': it exists and is not a regular file "
                                         r"\(a character device\)"):
        model.save(device)
    assert stat.S_ISCHR(os.stat(device).st_mode)
    assert not any(name.startswith(".") and name.endswith(".tmp") for name in os.listdir("/dev"))


def test_save_refuses_a_fifo(tmp_path, model):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"not a regular file \(a FIFO\)"):
        model.save(fifo)  # would block forever if it opened the FIFO for writing
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    link = tmp_path / "link-to-null"
    link.symlink_to("/dev/null")
    with pytest.raises(ValueError, match="character device"):
        model.save(link)


def test_save_into_a_missing_folder_names_the_folder(tmp_path, model):
    target = tmp_path / "no" / "such" / "m.json"
    with pytest.raises(FileNotFoundError, match=f"cannot save to {str(target)!r}: the folder .*such' does not exist"):
        model.save(target)


def test_save_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path, model):
    real = tmp_path / "models" / "real.json"
    real.parent.mkdir()
    MLP(2, [3, 1], seed=5).save(real)
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["parameters"] == model.state_dict()
    assert sorted(os.listdir(tmp_path)) == ["latest.json", "models"]
    assert os.listdir(real.parent) == ["real.json"]  # the temp file lived beside the target
    fresh = MLP(2, [3, 1], seed=9)
    fresh.load(link)
    assert fresh.state_dict() == model.state_dict()
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "models" / "new.json")
    model.save(dangling)  # like open(path, "w"): the file the link names is created
    assert dangling.is_symlink() and (tmp_path / "models" / "new.json").is_file()


def test_save_keeps_the_permissions_of_the_file_it_replaces(tmp_path, model):
    path = tmp_path / "m.json"
    model.save(path)
    os.chmod(path, 0o640)
    model.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
