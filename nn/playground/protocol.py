"""What the page may say to the server, checked before anything acts on it.

Every message is one JSON object with a `type`. `parse_message` turns the raw text into a clean
dict whose every field has been checked (type, range, size) or raises `ProtocolError`, whose
message the page shows. Unknown types and unknown fields are refused, not ignored, so a typo
in the page is found at once.

Message types, with their fields:

    dataset      name (moons|circles|xor|spiral|blobs, plane|gauss to fit with mse, yours), noise,
                 points, seed, and optionally
                 test_ratio (the share of points held out for testing, default 0)
    add_point    x, y, label (0|1)
    clear_points
    config       hidden (list of widths), activation, loss, optimizer, lr, batch_size, l2,
                 l1 (optional, default 0), seed, features (optional: the feature columns, default
                 ["x0", "x1"]; see `features.FEATURES`)
    play | pause | step | reset
    set_param    name (a parameter name such as "layers.0.neurons.3.w.1"), value
    neuron_map   layer, neuron
    neuron_maps  (every neuron's thumbnail at once)
    sample       index (null: the server picks a point whose loss is not 0), and optionally
                 x (the sample's two inputs, moved by the page) and expand (draw every value)
    formula      text, values ({name: number}), plot (a variable name or null), range ([lo, hi])
    save         name (letters, digits, - and _: saved as NAME.json in the launch's save folder)
"""

from __future__ import annotations

import json
import math
import re

from nn.playground.adapters import MAX_FORMULA_CHARS, MAX_MAGNITUDE, MAX_VARIABLES
from nn.playground.features import FEATURES, PLAIN as PLAIN_FEATURES

MAX_MESSAGE_CHARS = 16_000  # the largest real message is a formula of MAX_FORMULA_CHARS
MAX_POINTS = 2000
MAX_HIDDEN_LAYERS = 4
MAX_WIDTH = 32
MAX_LR = 10.0
MAX_NOISE = 2.0
MAX_SEED = 2**31 - 1
MAX_COORDINATE = 1e6  # a point or sample input
MAX_PARAM = 1e6  # a weight typed into the page
MAX_TEST_RATIO = 0.9  # the share of points held out for testing

DATASETS = ("moons", "circles", "xor", "spiral", "blobs", "plane", "gauss", "yours")  # yours: the X, y given at launch
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
LOSSES = ("hinge", "bce_with_logits", "mse", "bce")
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")

_SAVE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
_VARIABLE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")
_PARAM_NAME = re.compile(r"[a-z0-9_.]{1,80}\Z")


class ProtocolError(ValueError):
    """A message the server refuses; the text says what was wrong and is shown in the page.
    `request` is the refused message's type when it had a known one (the page then knows which
    of its requests was answered, and puts that control back to the server's value)."""

    def __init__(self, text: str, request: str | None = None):
        super().__init__(text)
        self.request = request


class PlaygroundError(ValueError):
    """A request that cannot be done as asked; the message is shown in the page."""


def error_message(text: str, request: str | None = None) -> dict:
    """The message that shows an error in the page."""
    return {"type": "error", "message": text, "request": request}


def limits() -> dict:
    """The limits, as the page shows them next to its inputs."""
    return {"points": MAX_POINTS, "hidden_layers": MAX_HIDDEN_LAYERS, "width": MAX_WIDTH, "lr": MAX_LR,
            "noise": MAX_NOISE, "formula_chars": MAX_FORMULA_CHARS, "variables": MAX_VARIABLES}


def parse_message(text) -> dict:
    """The checked message in `text` (a JSON object), or ProtocolError saying what is wrong."""
    if not isinstance(text, str):
        raise ProtocolError("messages must be JSON text")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ProtocolError(f"the message is {len(text)} characters long; the limit is {MAX_MESSAGE_CHARS}")
    try:
        message = json.loads(text, parse_constant=_NonNumber)
    except (ValueError, RecursionError):
        raise ProtocolError("the message is not valid JSON") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"a message must be a JSON object, not {_json_kind(message)}")
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in _CHECKS:  # a list or an object cannot even be looked up
        raise ProtocolError(f"unknown message type {_short(kind)}; the types are {', '.join(_CHECKS)}")
    fields, check = _CHECKS[kind]
    unknown = [key for key in message if key != "type" and key not in fields]
    if unknown:
        raise ProtocolError(f"{kind}: unknown field {_short(unknown[0])}", kind)
    try:
        clean = check(message) if check else {}
    except ProtocolError as error:
        raise ProtocolError(str(error), kind) from None
    clean["type"] = kind
    return clean


# -- one check per message type -----------------------------------------------------------------
# Each takes the raw message (a dict with a known type and no unknown fields) and returns the
# clean fields.


def _dataset(m):
    return {
        "name": _choice(m, "name", DATASETS),
        "noise": _number(m, "noise", 0.0, MAX_NOISE),
        "points": _int(m, "points", 4, MAX_POINTS),
        "seed": _int(m, "seed", 0, MAX_SEED),
        "test_ratio": _number(m, "test_ratio", 0.0, MAX_TEST_RATIO) if "test_ratio" in m else 0.0,
    }


def _add_point(m):
    return {"x": _number(m, "x", -MAX_COORDINATE, MAX_COORDINATE),
            "y": _number(m, "y", -MAX_COORDINATE, MAX_COORDINATE),
            "label": int(_choice(m, "label", (0, 1)))}


def _config(m):
    hidden = _get(m, "hidden")
    if not isinstance(hidden, list) or len(hidden) > MAX_HIDDEN_LAYERS:
        raise ProtocolError(f"config: hidden must be a list of at most {MAX_HIDDEN_LAYERS} layer widths, "
                            f"got {_short(hidden)}")
    batch = _get(m, "batch_size")
    return {
        "hidden": [_check_int(w, "config: a hidden layer width", 1, MAX_WIDTH) for w in hidden],
        "activation": _choice(m, "activation", ACTIVATIONS),
        "loss": _choice(m, "loss", LOSSES),
        "optimizer": _choice(m, "optimizer", OPTIMIZERS),
        "lr": _number(m, "lr", 0.0, MAX_LR, open_low=True),
        "batch_size": None if batch is None else _int(m, "batch_size", 1, MAX_POINTS),
        "l2": _number(m, "l2", 0.0, 1.0),
        "l1": _number(m, "l1", 0.0, 1.0) if "l1" in m else 0.0,
        "seed": _int(m, "seed", 0, MAX_SEED),
        "features": _features(m["features"]) if "features" in m else list(PLAIN_FEATURES),
    }


def _features(names) -> list:
    if not isinstance(names, list) or not names or any(not isinstance(n, str) or n not in FEATURES for n in names):
        raise ProtocolError(f"config: features must be a non-empty list of {', '.join(FEATURES)}, got {_short(names)}")
    return [name for name in FEATURES if name in names]  # each once, in the page's order


def _set_param(m):
    name = _get(m, "name")
    if not isinstance(name, str) or not _PARAM_NAME.match(name):
        raise ProtocolError(f"set_param: name must be a parameter name such as layers.0.neurons.0.w.1, "
                            f"got {_short(name)}")
    return {"name": name, "value": _number(m, "value", -MAX_PARAM, MAX_PARAM)}


def _neuron_map(m):
    return {"layer": _int(m, "layer", 0, MAX_HIDDEN_LAYERS), "neuron": _int(m, "neuron", 0, MAX_WIDTH - 1)}


def _sample(m):
    index = _get(m, "index")
    expand = m.get("expand", False)
    if not isinstance(expand, bool):
        raise ProtocolError(f"sample: expand must be true or false, got {_short(expand)}")
    clean = {"index": None if index is None else _int(m, "index", 0, MAX_POINTS - 1), "x": None, "expand": expand}
    x = m.get("x")
    if x is not None:
        if not isinstance(x, list) or len(x) != 2:
            raise ProtocolError(f"sample: x must be a list of the sample's 2 inputs, got {_short(x)}")
        if index is None:
            raise ProtocolError("sample: x moves a chosen point, so it needs an index")
        clean["x"] = [_check_number(v, "sample: an input", -MAX_COORDINATE, MAX_COORDINATE) for v in x]
    return clean


def _formula(m):
    text = _get(m, "text")
    if not isinstance(text, str):
        raise ProtocolError(f"formula: text must be a string, got {_json_kind(text)}")
    if len(text) > MAX_FORMULA_CHARS:
        raise ProtocolError(f"formula: the formula is {len(text)} characters long; the limit is {MAX_FORMULA_CHARS}")
    values = m.get("values", {})
    if not isinstance(values, dict) or len(values) > MAX_VARIABLES:
        raise ProtocolError(f"formula: values must be an object of at most {MAX_VARIABLES} name: number pairs")
    clean_values = {}
    for name, value in values.items():
        if not _VARIABLE.match(name):
            raise ProtocolError(f"formula: {_short(name)} is not a variable name")
        clean_values[name] = _check_number(value, f"formula: the value of {name}", -MAX_MAGNITUDE, MAX_MAGNITUDE)
    plot = m.get("plot")
    if plot is not None and (not isinstance(plot, str) or not _VARIABLE.match(plot)):
        raise ProtocolError(f"formula: plot must be a variable name or null, got {_short(plot)}")
    span = m.get("range", [-4.0, 4.0])
    if not isinstance(span, list) or len(span) != 2:
        raise ProtocolError(f"formula: range must be [low, high], got {_short(span)}")
    low, high = (_check_number(v, "formula: range", -MAX_COORDINATE, MAX_COORDINATE) for v in span)
    if not low < high:
        raise ProtocolError(f"formula: range must have low < high, got [{low:g}, {high:g}]")
    return {"text": text, "values": clean_values, "plot": plot, "range": [low, high]}


def _save(m):
    name = _get(m, "name")
    if not isinstance(name, str) or not _SAVE_NAME.match(name):
        raise ProtocolError(f"save: the name must be 1 to 64 letters, digits, - or _ (starting with a letter "
                            f"or digit), got {_short(name)}")
    return {"name": name}


# type -> (allowed fields, check); a check of None means the type has no fields.
_CHECKS = {
    "dataset": (("name", "noise", "points", "seed", "test_ratio"), _dataset),
    "add_point": (("x", "y", "label"), _add_point),
    "clear_points": ((), None),
    "config": (("hidden", "activation", "loss", "optimizer", "lr", "batch_size", "l2", "l1", "seed", "features"),
               _config),
    "play": ((), None),
    "pause": ((), None),
    "step": ((), None),
    "reset": ((), None),
    "set_param": (("name", "value"), _set_param),
    "neuron_map": (("layer", "neuron"), _neuron_map),
    "neuron_maps": ((), None),
    "sample": (("index", "x", "expand"), _sample),
    "formula": (("text", "values", "plot", "range"), _formula),
    "save": (("name",), _save),
}

MESSAGE_TYPES = tuple(_CHECKS)


# -- field checks -------------------------------------------------------------------------------


def _get(m, key):
    if key not in m:
        raise ProtocolError(f"{m['type']}: missing field {key}")
    return m[key]


def _number(m, key, low, high, *, open_low=False) -> float:
    return _check_number(_get(m, key), f"{m['type']}: {key}", low, high, open_low=open_low)


def _int(m, key, low, high) -> int:
    return _check_int(_get(m, key), f"{m['type']}: {key}", low, high)


def _choice(m, key, choices):
    value = _get(m, key)
    if isinstance(value, bool) or value not in choices:
        raise ProtocolError(f"{m['type']}: {key} must be one of {', '.join(map(str, choices))}, got {_short(value)}")
    return value


def _check_number(value, what: str, low, high, *, open_low=False) -> float:
    if isinstance(value, _NonNumber):
        raise ProtocolError(f"{what} must be a finite number, got {value.name}, which JSON does not allow")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError(f"{what} must be a number, got {_short(value)}")
    if abs(value) > 1e300 or not math.isfinite(value):  # also keeps float() from overflowing on huge ints
        raise ProtocolError(f"{what} must be a finite number of reasonable size, got {_short(value)}")
    value = float(value)
    if value < low or value > high or (open_low and value == low):
        bracket = "(" if open_low else "["
        raise ProtocolError(f"{what} must lie in {bracket}{low:g}, {high:g}], got {value:g}")
    return value


def _check_int(value, what: str, low, high) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JavaScript has one kind of number: 3.0 is 3
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{what} must be a whole number, got {_short(value)}")
    if not low <= value <= high:
        raise ProtocolError(f"{what} must be from {low} to {high}, got {_short(value)}")
    return value


class _NonNumber:
    """NaN, Infinity or -Infinity in a message (Python's json reads them, JSON has no such
    numbers): kept as this marker, so the field's check refuses it, naming the request."""

    def __init__(self, name: str):
        self.name = name


def _json_kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def _short(value, limit: int = 40) -> str:
    """`value` as short JSON-like text for an error message, whatever its size or depth: only
    the first few levels of lists and objects are spelled out, so a value nested a thousand deep
    costs no more (and never recurses deeper) than a flat one."""
    text = _outline(value, depth=3)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _outline(value, depth: int) -> str:
    if isinstance(value, list):
        if depth == 0:
            return "[...]"
        inner = ", ".join(_outline(v, depth - 1) for v in value[:4])
        return f"[{inner}{', ...' if len(value) > 4 else ''}]"
    if isinstance(value, dict):
        if depth == 0:
            return "{...}"
        items = list(value.items())
        inner = ", ".join(f"{json.dumps(str(k))[:30]}: {_outline(v, depth - 1)}" for k, v in items[:4])
        return "{" + inner + (", ..." if len(items) > 4 else "") + "}"
    if isinstance(value, str):
        return json.dumps(value[:60])
    if isinstance(value, _NonNumber):
        return value.name
    try:
        return json.dumps(value)
    except (TypeError, ValueError):  # a huge int has no float form; anything else, by its type
        return type(value).__name__
