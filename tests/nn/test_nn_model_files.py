"""Hostile model files: special files refused without blocking, a size cap, short messages, and
random corruption of a real file that never gives anything but a ModelFileError."""

import json
import os
import threading

import pytest
from hypothesis import given, settings, strategies as st

import nn.serialization
from nn import MAX_FILE_BYTES, MLP, ModelFileError, load_model, read_model_file

LOADERS = {
    "read_model_file": read_model_file,
    "load_model": load_model,
    "Module.load": lambda path: MLP(2, [3, 1], seed=1).load(path),
}


def _refusal(load, path, timeout=5.0):
    """The ModelFileError `load(path)` raises, failing the test if it takes over `timeout` seconds."""
    outcome = []

    def run():
        try:
            load(path)
            outcome.append(None)
        except Exception as exc:  # noqa: BLE001 - the test inspects whatever it is
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        if os.path.exists(path) and not os.path.isfile(path):
            with open(path, "w"):  # a writer releases a reader blocked on a FIFO
                pass
        pytest.fail(f"loading {path} blocked for over {timeout} s")
    (error,) = outcome
    assert isinstance(error, ModelFileError), error
    return str(error)


@pytest.mark.parametrize("loader", LOADERS)
def test_a_fifo_is_refused_at_once(tmp_path, loader):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    message = _refusal(LOADERS[loader], fifo)
    assert "not a regular file (a FIFO)" in message


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
@pytest.mark.parametrize("loader", LOADERS)
def test_a_device_is_refused_unread(device, loader):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    assert "not a regular file (a character device)" in _refusal(LOADERS[loader], device)


@pytest.mark.parametrize("loader", LOADERS)
def test_a_directory_is_refused(tmp_path, loader):
    assert "cannot load a directory" in _refusal(LOADERS[loader], tmp_path)


def test_a_symlink_to_a_device_is_refused(tmp_path):
    link = tmp_path / "model.json"
    link.symlink_to("/dev/zero")
    assert "character device" in _refusal(load_model, link)


def test_a_file_just_over_the_cap_is_refused_unread(tmp_path):
    assert MAX_FILE_BYTES == 128 * 2**20
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written, and nothing may be read
    for load in LOADERS.values():
        message = _refusal(load, huge)
        assert f"too large for a model file ({MAX_FILE_BYTES + 1} bytes)" in message
        assert f"MAX_FILE_BYTES = {MAX_FILE_BYTES} bytes (128 MiB)" in message


def test_the_cap_is_inclusive(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    MLP(2, [3, 1], seed=0).save(path)
    size = path.stat().st_size
    monkeypatch.setattr(nn.serialization, "MAX_FILE_BYTES", size)
    assert load_model(path).state_dict() == MLP(2, [3, 1], seed=0).state_dict()
    monkeypatch.setattr(nn.serialization, "MAX_FILE_BYTES", size - 1)
    assert f"({size} bytes)" in _refusal(load_model, path)


def test_a_file_reporting_no_size_is_still_capped(monkeypatch):
    # Files in /proc are regular, report size 0 and have content: only the read's own limit holds.
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc here")
    monkeypatch.setattr(nn.serialization, "MAX_FILE_BYTES", 10)
    assert "too large for a model file (over 10 bytes)" in _refusal(read_model_file, "/proc/self/status")


# -- messages quote excerpts, never a whole field ----------------------------------------------------

BIG = "x" * 5_000_000


def _document(**changes):
    model = MLP(2, [3, 1], seed=0)
    doc = {"format": "gradwalk-model", "version": 1, "architecture": model.architecture(),
           "parameters": model.state_dict()}
    doc.update(changes)
    return doc


def _architecture(**changes):
    return {**MLP(2, [3, 1], seed=0).architecture(), **changes}


HOSTILE_DOCUMENTS = {
    "5 MB activation": _document(architecture=_architecture(activation=BIG)),
    "5 MB output activation": _document(architecture=_architecture(output_activation=BIG)),
    "5 MB type": _document(architecture=_architecture(type=BIG)),
    "5 MB key in the architecture": _document(architecture={**_architecture(), BIG: 1}),
    "5 MB nouts list": _document(architecture=_architecture(nouts=[1] * 2_500_000)),
    "5 MB nin": _document(architecture=_architecture(nin=BIG)),
    "seed in the architecture": _document(architecture=_architecture(seed=BIG)),
    "5 MB version": _document(version=BIG),
    "5 MB format": _document(format=BIG),
    "5 MB parameter name": _document(parameters={**MLP(2, [3, 1], seed=0).state_dict(), BIG: 1.0}),
    "5 MB parameter value": _document(parameters={**MLP(2, [3, 1], seed=0).state_dict(), "layers.0.neurons.0.b": BIG}),
    "5 MB parameters field": _document(parameters=BIG),
    "5 MB architecture field": _document(architecture=BIG),
}


@pytest.mark.parametrize("case", HOSTILE_DOCUMENTS)
@pytest.mark.parametrize("loader", ["load_model", "Module.load"])
def test_messages_quote_bounded_excerpts(tmp_path, case, loader):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(HOSTILE_DOCUMENTS[case]))
    model = MLP(2, [3, 1], seed=1)
    before = model.state_dict()
    with pytest.raises(ModelFileError) as info:
        model.load(path) if loader == "Module.load" else load_model(path)
    assert len(str(info.value)) < 1000, str(info.value)[:2000]
    assert model.state_dict() == before


# -- random corruption of a real file ---------------------------------------------------------------

_GOOD = json.dumps(_document(), indent=2).encode()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_GOOD) - 1), st.binary(min_size=0, max_size=8)), min_size=1, max_size=4),
       st.booleans())
def test_a_corrupted_file_loads_or_gives_a_short_model_file_error(tmp_path_factory, edits, truncate):
    data = bytearray(_GOOD)
    for at, replacement in edits:
        data[at:at + len(replacement) or at + 1] = replacement
    if truncate:
        data = data[: len(data) // 2]
    path = tmp_path_factory.mktemp("corrupt") / "m.json"
    path.write_bytes(bytes(data))
    model = MLP(2, [3, 1], seed=1)
    before = model.state_dict()
    try:
        model.load(path)
    except ModelFileError as exc:
        assert len(str(exc)) < 1000
        assert model.state_dict() == before
    try:
        load_model(path)
    except ModelFileError as exc:
        assert len(str(exc)) < 1000
