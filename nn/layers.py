"""Neurons, layers and multi-layer perceptrons made of engine `Value`s.

A neuron computes `activation(w . x + b)`. By default `w . x + b` is a single fused
`engine.dot` node (fast, and a compact drawing); `fused=False` builds the same number from
elementary `*` and `+` nodes, so a drawing shows every multiply-add. Both give bit-identical
outputs and gradients: the chain adds the terms in the same order `dot` does.

Every node records which neuron and layer made it in its `scope` (`layers.1.neurons.3`),
matching the parameter names of `named_parameters()`; parameter labels say the same briefly
(`L1.n3.w0`), so a drawing of a whole network never shows two boxes with the same name.
A network's plain-number inputs become leaf Values labelled `x0`, `x1`, ... (see `as_inputs`).

`load_model` lives here, beside the classes it rebuilds: the file format (`nn.serialization`)
knows nothing of the layers.
"""

from __future__ import annotations

import math

from engine import Value, current_scope, dot
from nn.module import Module, real_number, resolve_rng, whole_number
from nn.serialization import ModelFileError, excerpt, load_document, read_model_file

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
"""Names accepted for `activation` / `output_activation`."""

INITS = ("uniform", "he", "xavier", "glorot")
"""Names accepted for `init`:

* `uniform`: every weight and bias from U(-1, 1), as in micrograd.
* `he`: weights from N(0, 2/nin) (suits relu); biases 0.
* `xavier` / `glorot` (the same thing): weights from U(-a, a), a = sqrt(6/(nin+nout)) (suits
  tanh and sigmoid); biases 0.
"""

MAX_LOAD_PARAMETERS = 1_000_000
"""The largest model `load_model` builds: every parameter is a Python object, so a million
already takes seconds and hundreds of MB (build a bigger one yourself and call its `load`)."""

# Unbound Value methods: calling one costs a single call, no lambda or lookup by name.
_ACTIVATION_FN = {"relu": Value.relu, "tanh": Value.tanh, "sigmoid": Value.sigmoid, "linear": None}


class Neuron(Module):
    """One neuron: `activation(w0*x0 + ... + w(n-1)*x(n-1) + b)`.

    Args:
        nin: number of inputs.
        activation: "relu" (default), "tanh", "sigmoid" or "linear".
        init: how to draw the initial parameters, see `nn.layers.INITS`.
        fused: True (default) for one `dot` node per pre-activation; False for a chain of
            elementary `*` and `+` nodes (same numbers, a more detailed graph for teaching).
        fan_out: the fan-out used by xavier init (a Layer passes its width; default 1).
        seed / rng: an int seed or a `random.Random` to draw from (reproducible runs).

    Calling it with `nin` inputs (numbers or Values) returns one Value. Its parameters are
    labelled `w0`, `w1`, ..., `b`; inside a Layer or MLP the labels grow a prefix naming the
    neuron (`n3.w0`, `L1.n3.w0`), so every label in a model is different.
    """

    def __init__(self, nin: int, activation: str = "relu", *, init: str = "uniform", fused: bool = True,
                 fan_out: int = 1, seed=None, rng=None):
        nin, fan_out = _check_width(nin, "nin"), _check_width(fan_out, "fan_out")
        _check_choice(activation, ACTIVATIONS, "activation")
        _check_choice(init, INITS, "init")
        rng = resolve_rng(seed, rng)
        self.nin = nin
        self.activation = activation
        self.init = init
        self.fused = bool(fused)
        draw_w, draw_b = _initializer(init, nin, fan_out, rng)
        self.w = [Value(draw_w(), f"w{i}", param=True) for i in range(nin)]
        self.b = Value(draw_b(), "b", param=True)
        self._act = _ACTIVATION_FN[activation]

    def forward(self, x) -> Value:
        """The neuron's output for inputs `x` (a list of `nin` numbers or Values)."""
        x = as_inputs(x, self.nin, self)
        if self.fused:
            out = dot(self.w, x, self.b)
        else:
            out = None
            for wi, xi in zip(self.w, x):
                term = wi * xi
                out = term if out is None else out + term
            out = out + self.b
        act = self._act
        return out if act is None else act(out)

    def architecture(self) -> dict:
        """`{"type": "Neuron", "nin": ..., "activation": ...}`."""
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation}

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(Module):
    """`nout` neurons that all see the same `nin` inputs.

    Takes the same keyword arguments as `Neuron`. Calling it returns a list of `nout` Values,
    always a list, even when nout is 1. Neuron j runs in the name scope `neurons.j` and its
    parameters are labelled `nj.w0`, ..., `nj.b`.
    """

    def __init__(self, nin: int, nout: int, activation: str = "relu", *, init: str = "uniform", fused: bool = True,
                 seed=None, rng=None):
        nin, nout = _check_width(nin, "nin"), _check_width(nout, "nout")
        rng = resolve_rng(seed, rng)
        self.nin = nin
        self.nout = nout
        self.activation = activation
        self.fused = bool(fused)
        self.neurons = [Neuron(nin, activation, init=init, fused=fused, fan_out=nout, rng=rng) for _ in range(nout)]
        for j, neuron in enumerate(self.neurons):
            neuron.scope_name = f"neurons.{j}"
            _prefix_labels(neuron, f"n{j}.")
        self._scopes = (None, [])  # (the scope open at the last call, each neuron's scope path under it)

    def forward(self, x) -> list[Value]:
        """The list of the neurons' outputs for inputs `x` (a list of `nin` numbers or Values)."""
        x = as_inputs(x, self.nin, self)
        if not self.fused:
            return [neuron(x) for neuron in self.neurons]
        # The same nodes `[neuron(x) for neuron in self.neurons]` builds -- each neuron's dot
        # node and activation node, stamped with the neuron's scope -- made in one loop, without
        # entering a name scope and checking the inputs once per neuron. (Measured on
        # MLP(2, [16, 16, 1]): the forward pass 1.15-1.2x faster, a training step 1.07-1.1x.)
        pre = [dot(neuron.w, x, neuron.b) for neuron in self.neurons]
        scopes = self._neuron_scopes(current_scope())
        outputs = []
        for neuron, z, scope in zip(self.neurons, pre, scopes):
            z.scope = scope
            act = neuron._act
            if act is not None:
                z = act(z)
                z.scope = scope
            outputs.append(z)
        return outputs

    def _neuron_scopes(self, outer) -> list[str]:
        """Each neuron's scope path when the scope `outer` is open, as `name_scope` would make it."""
        # Made once and kept for the next call, which nearly always runs under the same scope.
        last, scopes = self._scopes
        if outer != last or len(scopes) != len(self.neurons):
            prefix = "" if outer is None else outer + "."
            scopes = [prefix + neuron.scope_name for neuron in self.neurons]
            self._scopes = (outer, scopes)
        return scopes

    def architecture(self) -> dict:
        """`{"type": "Layer", "nin": ..., "nout": ..., "activation": ...}`."""
        return {"type": "Layer", "nin": self.nin, "nout": self.nout, "activation": self.activation}

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: layers of widths `nouts`, each feeding the next.

    Hidden layers use `activation`; the last layer uses `output_activation` ("linear" by
    default: raw scores, as hinge and the *_with_logits losses expect). Calling it returns a
    single Value when the last width is 1, else a list of Values. Layer i runs in the name
    scope `layers.i`, and its parameters are labelled `Li.nj.w0`, ..., `Li.nj.b` (neuron j).

        >>> model = MLP(2, [16, 16, 1], seed=0)
        >>> len(model.parameters())
        337
        >>> [p.label for p in model.parameters()[:3]]
        ['L0.n0.w0', 'L0.n0.w1', 'L0.n0.b']
    """

    def __init__(self, nin: int, nouts, activation: str = "relu", output_activation: str = "linear", *,
                 init: str = "uniform", fused: bool = True, seed=None, rng=None):
        nin = _check_width(nin, "nin")
        nouts = list(nouts) if isinstance(nouts, (list, tuple)) else nouts
        if not isinstance(nouts, list) or not nouts:
            raise ValueError(f"nouts should be a non-empty list of layer widths, got {nouts!r:.60}")
        nouts = [_check_width(width, f"nouts[{k}]") for k, width in enumerate(nouts)]
        _check_choice(activation, ACTIVATIONS, "activation")
        _check_choice(output_activation, ACTIVATIONS, "output_activation")
        rng = resolve_rng(seed, rng)
        self.nin = nin
        self.nouts = nouts
        self.activation = activation
        self.output_activation = output_activation
        sizes = [nin] + nouts
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation, init=init, fused=fused,
                  rng=rng)
            for i in range(len(nouts))
        ]
        for i, layer in enumerate(self.layers):
            layer.scope_name = f"layers.{i}"
            _prefix_labels(layer, f"L{i}.")
        self._single = nouts[-1] == 1

    def forward(self, x):
        """The network's output for inputs `x`: a Value if the last layer has width 1, else a list."""
        x = as_inputs(x, self.nin, self)
        for layer in self.layers:
            x = layer(x)
        return x[0] if self._single else x

    def architecture(self) -> dict:
        """`{"type": "MLP", "nin": ..., "nouts": [...], "activation": ..., "output_activation": ...}`."""
        return {"type": "MLP", "nin": self.nin, "nouts": list(self.nouts), "activation": self.activation,
                "output_activation": self.output_activation}

    def __repr__(self) -> str:
        return (f"MLP({self.nin}, {self.nouts}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r})")


def as_inputs(x, nin: int, module) -> list:
    """`x` checked to be `nin` inputs for `module`, each plain number made a leaf Value `x0`, `x1`, ...

    The leaves keep a network's inputs visible in drawings and backward steps (a plain number
    would be folded into `dot` as a constant), and after `backward()` their `grad` says how the
    output moves with each input. Values pass through unchanged. Errors name the module.

        >>> [v.label for v in as_inputs([0.5, -1], 2, "Neuron(2)")]
        ['x0', 'x1']
    """
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
        raise TypeError(f"{module!r} takes a list of {nin} inputs (numbers or Values), "
                        f"not {type(x).__name__} {_short(x)}")
    if len(x) != nin:
        raise ValueError(f"{module!r} expects {nin} inputs, got {len(x)}")
    for xi in x:
        if not isinstance(xi, Value):
            break
    else:
        return x  # all Values already (a hidden layer's inputs): nothing to wrap
    return [xi if isinstance(xi, Value) else _input_leaf(xi, i, nin, module) for i, xi in enumerate(x)]


def parameter_count(architecture: dict) -> int | None:
    """How many parameters a Neuron, Layer or MLP described by `architecture()` has, computed
    from the sizes alone (nothing is built); None when the description is not one of these
    or its sizes are not positive ints (the constructor then says what is wrong).

        >>> parameter_count({"type": "MLP", "nin": 2, "nouts": [16, 16, 1]})
        337
    """
    kind = architecture.get("type")
    if kind == "Neuron":
        sizes = [architecture.get("nin"), 1]
    elif kind == "Layer":
        sizes = [architecture.get("nin"), architecture.get("nout")]
    elif kind == "MLP" and isinstance(architecture.get("nouts"), list):
        sizes = [architecture.get("nin")] + architecture["nouts"]
    else:
        return None
    if not sizes[1:] or any(type(n) is not int or n < 1 for n in sizes):
        return None
    # Each neuron has one weight per input plus a bias.
    return sum((nin + 1) * nout for nin, nout in zip(sizes, sizes[1:]))


def load_model(path):
    """Rebuild a `Neuron`, `Layer` or `MLP` from a file written by `save`, parameters included.

    The architecture recorded in the file decides what is built; a file saved from any other
    kind of module raises `ModelFileError` (create that module yourself and call its `load`).
    Before anything is built, the parameter count the architecture implies must match the
    file's parameters and be at most `MAX_LOAD_PARAMETERS`, so a corrupt or hostile size
    is refused at once instead of building millions of Values.
    """
    document = read_model_file(path)
    architecture = document["architecture"]
    arguments = dict(architecture)
    kind = arguments.pop("type", None)
    builders = {"MLP": MLP, "Layer": Layer, "Neuron": Neuron}
    if kind not in builders:
        raise ModelFileError(f"{path}: load_model rebuilds MLP, Layer or Neuron, but the file holds {excerpt(repr(kind), 60)}")
    count = parameter_count(architecture)
    if count is not None:  # None: malformed sizes, which the constructor below reports cheaply
        if count > MAX_LOAD_PARAMETERS:
            raise ModelFileError(
                f"{path}: architecture {excerpt(repr(architecture))} implies "
                f"{count if count < 10**18 else 'over 10**18'} parameters, more than load_model builds "
                f"(MAX_LOAD_PARAMETERS = {MAX_LOAD_PARAMETERS})"
            )
        if count != len(document["parameters"]):
            raise ModelFileError(
                f"{path}: architecture {excerpt(repr(architecture))} implies {count} parameters, "
                f"but the file has {len(document['parameters'])}"
            )
    try:
        model = builders[kind](**arguments, seed=0)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: corrupt architecture {excerpt(repr(architecture))}: {excerpt(str(exc))}") from None
    load_document(model, document, path)  # the document already read: the file is read once
    return model


# -- helpers --------------------------------------------------------------------------------------


def _input_leaf(xi, i: int, nin: int, module) -> Value:
    return Value(real_number(xi, f"{module!r}: input {i}"), f"x{i}")


def _short(x) -> str:
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


def _prefix_labels(module, prefix: str) -> None:
    """Put `prefix` before the label of each of `module`'s parameters (a parent naming its child)."""
    for p in module.parameters():
        p.label = prefix + p.label


def _check_width(n, what: str) -> int:
    return whole_number(n, what, minimum=1)


def _check_choice(value, choices, what: str) -> None:
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r:.60}; choose one of {', '.join(choices)}")


def _initializer(init: str, nin: int, nout: int, rng):
    """Two functions drawing one weight and one bias each, per the chosen init scheme."""

    def zero():
        return 0.0

    if init == "uniform":
        def draw():
            return rng.uniform(-1.0, 1.0)
        return draw, draw
    if init == "he":
        std = math.sqrt(2.0 / nin)

        def draw_he():
            return rng.gauss(0.0, std)
        return draw_he, zero
    bound = math.sqrt(6.0 / (nin + nout))  # xavier / glorot

    def draw_xavier():
        return rng.uniform(-bound, bound)
    return draw_xavier, zero
