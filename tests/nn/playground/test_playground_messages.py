"""Bad messages and limits: every refusal is a clear error reply that names its request, and the
tab carries on. Hostile shapes too: a type that is a list or an object, fields nested hundreds
deep, huge numbers, and a batch of hostile values in every field of every message type."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from nn.playground import protocol  # noqa: E402
from nn.playground.session import Session  # noqa: E402
from playground_support import ask, config, error_for, receive  # noqa: E402


# -- bad messages and limits --------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object, not a list"),
    ('"play"', "must be a JSON object, not a string"),
    ("{}", "unknown message type"),
    ('{"type": "fly"}', "unknown message type \"fly\""),
    ('{"type": "play", "now": true}', "play: unknown field \"now\""),
    ('{"type": "dataset", "name": "moons"}', "dataset: missing field noise"),
    ('{"type": "dataset", "name": "mnist", "noise": 0, "points": 10, "seed": 0}', "name must be one of"),
    ('{"type": "dataset", "name": "moons", "noise": "0.1", "points": 10, "seed": 0}', "noise must be a number"),
    ('{"type": "dataset", "name": "moons", "noise": NaN, "points": 10, "seed": 0}', "NaN"),
    ('{"type": "dataset", "name": "moons", "noise": Infinity, "points": 10, "seed": 0}', "Infinity"),
    ('{"type": "dataset", "name": "moons", "noise": 1e400, "points": 10, "seed": 0}', "finite number"),
    ('{"type": "dataset", "name": "moons", "noise": 0.1, "points": 2001, "seed": 0}', "points must be from 4 to 2000"),
    ('{"type": "dataset", "name": "moons", "noise": 0.1, "points": 10.5, "seed": 0}', "points must be a whole number"),
    ('{"type": "dataset", "name": "moons", "noise": 0.1, "points": true, "seed": 0}', "points must be a whole number"),
    ('{"type": "add_point", "x": 0, "y": 0, "label": 2}', "label must be one of 0, 1"),
    ('{"type": "set_param", "name": "layers/0", "value": 1}', "name must be a parameter name"),
    ('{"type": "set_param", "name": "__class__", "value": 1}', "the network has no parameter '__class__'"),
    ('{"type": "sample", "index": 0, "x": [1]}', "x must be a list of the sample's 2 inputs"),
    ('{"type": "formula", "text": 5}', "text must be a string"),
    ('{"type": "formula", "text": "x", "values": {"__x": 1}}', "is not a variable name"),
    ('{"type": "formula", "text": "x", "values": {"x": 1e16}}', "must lie in"),
    ('{"type": "formula", "text": "x", "range": [3, 1]}', "low < high"),
    ('{"type": "neuron_map", "layer": -1, "neuron": 0}', "layer must be from 0 to 4"),
    ("[" * 5000 + "]" * 5000, "not valid JSON"),
    ('{"type": "formula", "text": "' + "x" * 20000 + '"}', "the limit is 16000"),
])
def test_bad_messages_get_an_error_and_the_server_carries_on(tab, text, expected):
    tab.send_text(text)
    error = receive(tab, "error")
    assert expected in error["message"]
    # The reply names the request it answers whenever the message had a known type, so the
    # page knows which of its requests was refused (issue 19: a refusal froze its controls).
    assert error["request"] == request_type(text)
    assert ask(tab, {"type": "step"}, "update")["steps"] >= 1  # still serving this tab


def request_type(text: str):
    if len(text) > protocol.MAX_MESSAGE_CHARS:  # refused unread (the page's inputs cannot get there)
        return None
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return None
    kind = message.get("type") if isinstance(message, dict) else None
    return kind if kind in protocol.MESSAGE_TYPES else None


def test_binary_frames_are_refused(tab):
    tab.send_bytes(b'{"type": "step"}')
    assert receive(tab, "error")["message"] == "messages must be JSON text, not binary data"
    assert ask(tab, {"type": "step"}, "update")["steps"] == 1


@pytest.mark.parametrize("changes, expected", [
    ({"hidden": [8] * 5}, "at most 4 layer widths"),
    ({"hidden": [33]}, "a hidden layer width must be from 1 to 32, got 33"),
    ({"hidden": [0]}, "from 1 to 32, got 0"),
    ({"hidden": "16,16"}, "hidden must be a list"),
    ({"lr": 0}, "lr must lie in (0, 10]"),
    ({"lr": 11}, "lr must lie in (0, 10]"),
    ({"batch_size": 0}, "batch_size must be from 1 to 2000"),
    ({"activation": "gelu"}, "activation must be one of"),
    ({"loss": "hinge; rm -rf /"}, "loss must be one of"),
])
def test_limits_on_the_network(tab, changes, expected):
    assert expected in error_for(tab, config(**changes))


def test_no_more_than_2000_points(tab):
    ask(tab, {"type": "dataset", "name": "moons", "noise": 0.1, "points": 2000, "seed": 0}, "state")
    message = ask(tab, {"type": "add_point", "x": 0.5, "y": 0.25, "label": 1}, "error")["message"]
    assert "already 2000 points, the limit" in message


def test_a_bug_in_a_handler_is_reported_and_the_server_keeps_serving(tab, monkeypatch):
    def broken(self, message):
        raise KeyError("boom")

    monkeypatch.setattr(Session, "_on_neuron_map", broken)
    message = ask(tab, {"type": "neuron_map", "layer": 0, "neuron": 0}, "error")
    assert "internal error while handling 'neuron_map'" in message["message"] and "boom" in message["message"]
    assert ask(tab, {"type": "step"}, "update")["steps"] == 1


def test_training_that_diverges_stops_with_a_message(tab):
    tab.send_text(config(lr=10, loss="mse", hidden=[8], activation="linear"))
    receive(tab, "state")
    tab.send_text('{"type": "play"}')
    error = receive(tab, "error", limit=100)
    assert error["request"] == "play" and "training stopped at step" in error["message"]
    assert "no parameter was updated" in error["message"] and len(error["message"]) < 400
    frame = ask(tab, {"type": "pause"}, "update")  # the server still answers; the tab is paused
    assert frame["playing"] is False and frame["steps"] == int(re.search(r"at step (\d+)", error["message"]).group(1)) - 1
    assert ask(tab, {"type": "reset"}, "state")["steps"] == 0


def test_protocol_lists_every_message_type_it_checks():
    assert set(protocol.MESSAGE_TYPES) == {
        "dataset", "add_point", "clear_points", "config", "play", "pause", "step", "reset", "set_param",
        "neuron_map", "neuron_maps", "sample", "formula", "save"}
    for kind in protocol.MESSAGE_TYPES:
        assert hasattr(Session, "_on_" + kind), kind


# -- hostile shapes -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["[]", "{}", "null", "5", "true", '[["play"]]', '{"play": 1}', '"' + "p" * 5000 + '"'])
def test_a_type_that_is_not_a_string_is_refused_and_the_tab_stays(tab, kind):
    error = ask(tab, json.loads('{"type": %s}' % kind) if len(kind) < 100 else {"type": "p" * 5000}, "error")
    assert error["message"].startswith("unknown message type ") and "the types are dataset" in error["message"]
    assert len(error["message"]) < 300 and error["request"] is None
    assert ask(tab, {"type": "step"}, "update")["steps"] == 1


def nested(depth: int, inner="1") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.mark.parametrize("depth", [960, 990, 2000, 7000])
@pytest.mark.parametrize("field, template", [
    ("name", '{"type": "dataset", "name": %s, "noise": 0.1, "points": 10, "seed": 0}'),
    ("hidden", '{"type": "config", "hidden": %s, "activation": "relu", "loss": "hinge", "optimizer": "sgd", '
               '"lr": 0.1, "batch_size": null, "l2": 0, "seed": 0}'),
    ("value of x", '{"type": "formula", "text": "x", "values": {"x": %s}}'),
    ("x", '{"type": "sample", "index": 0, "x": %s}'),
    ("name", '{"type": "save", "name": %s}'),
    ("type", '{"type": %s}'),
])
def test_a_field_nested_hundreds_deep_gets_a_clear_error(tab, depth, field, template):
    # Python's own recursion limit is about 1,000: the error text must not recurse that deep.
    text = template % nested(depth)
    message = error_for(tab, text)
    assert message == "the message is not valid JSON" or (field in message and "[[[[...]]]]" in message), message
    assert len(message) < 300
    assert ask(tab, {"type": "step"}, "update")["steps"] == 1


def test_a_deep_object_in_values_is_cut_short_in_the_error(tab):
    message = error_for(tab, '{"type": "formula", "text": "x", "values": {"x": %s1%s}}' % ('{"a": ' * 900, "}" * 900))
    assert message in ("the message is not valid JSON",
                       'formula: the value of x must be a number, got {"a": {"a": {"a": {...}}}}')


def test_a_huge_integer_is_refused_without_converting_it(tab):
    assert "not valid JSON" in error_for(tab, '{"type": "neuron_map", "layer": %s, "neuron": 0}' % ("9" * 5000))
    message = error_for(tab, '{"type": "neuron_map", "layer": %s, "neuron": 0}' % ("9" * 400))
    assert "layer must be from 0 to 4, got 99999999" in message and len(message) < 200


# Every field of every message type, each given each of these values (raw JSON text).
VALID = {
    "dataset": {"name": "moons", "noise": 0.1, "points": 20, "seed": 0, "test_ratio": 0.2},
    "add_point": {"x": 0.0, "y": 0.0, "label": 1},
    "config": {"hidden": [4], "activation": "relu", "loss": "hinge", "optimizer": "sgd", "lr": 0.1,
               "batch_size": None, "l2": 0.0, "l1": 0.0, "seed": 0},
    "set_param": {"name": "layers.0.neurons.0.b", "value": 0.5},
    "neuron_map": {"layer": 0, "neuron": 0},
    "sample": {"index": 0, "x": [0.1, 0.2], "expand": False},
    "formula": {"text": "x*y", "values": {"x": 1, "y": 2}, "plot": "x", "range": [-1, 1]},
    "save": {"name": "m"},
}
HOSTILE = ["[]", "{}", "null", "true", "false", '""', '"' + "a" * 5000 + '"', "-1", "0", "1e308", "-1e308",
           "1" + "0" * 30, "9007199254740993", "1e-320", '"NaN"', "NaN", "Infinity", "-Infinity",
           nested(900), '{"a": ' * 400 + "1" + "}" * 400, "[null, null]", '{"__proto__": 1}', '"\\u0000"',
           '"../../etc/passwd"', '"layers.0.neurons.0.__class__"', "[1e308, -1e308]", '["x", "y"]', "-0.0"]


@pytest.mark.slow  # about 900 messages, a few seconds
def test_hostile_values_in_every_field_never_break_the_tab(tab):
    sent = 0
    for kind, valid in VALID.items():
        for field in valid:
            for raw in HOSTILE:
                text = json.dumps(dict(valid, type=kind, **{field: "@RAW@"})).replace('"@RAW@"', raw)
                tab.send_text(text)
                probe = f"probe.{sent}"  # a parameter no network has: its refusal ends this message's replies
                tab.send_text(json.dumps({"type": "set_param", "name": probe, "value": 0}))
                sent += 1
                for _ in range(50):
                    reply = tab.receive_json()
                    if reply["type"] == "error" and f"'{probe}'" in reply["message"]:
                        break
                    if reply["type"] == "error":
                        assert "internal error" not in reply["message"], (text[:200], reply)
                        assert reply["request"] == kind and len(reply["message"]) < 400, (text[:200], reply)
                else:
                    raise AssertionError(f"no answer to the probe after {text[:200]}")
    print(f"\nhostile messages sent: {sent}")
    assert sent == sum(len(valid) for valid in VALID.values()) * len(HOSTILE)
