"""The PyTorch twin: move a gradwalk model to PyTorch and back, with the same numbers.

`to_torch(model)` builds a `torch.nn.Sequential` that computes what the gradwalk model
computes: each gradwalk `Layer` becomes a `torch.nn.Linear` (its neurons' weights are the rows
of the weight matrix, their biases the bias vector), followed by `torch.nn.ReLU`, `Tanh` or
`Sigmoid` unless the layer's activation is "linear". `from_torch(seq)` reads such a
Sequential back into a gradwalk `MLP` and refuses, by name, any layer it cannot represent.

Parameter names line up: gradwalk's `layers.i.neurons.j.w.k` is `weight[j, k]` of the i-th
Linear, and `layers.i.neurons.j.b` its `bias[j]`. `torch_gradients(seq)` lists the Sequential's
gradients under gradwalk's names, to compare the two backward passes number by number.

One difference in shape: a gradwalk MLP whose last layer has width 1 returns one Value per
sample, whereas the Sequential returns a tensor of shape (batch, 1).

PyTorch is an optional extra (pip install 'gradwalk[torch]'), imported on first use.
"""

from __future__ import annotations

import math

from nn.layers import ACTIVATIONS, MLP, Layer, Neuron

_ACTIVATION_LAYERS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}
"""gradwalk activation -> the name of the torch.nn module computing it ("linear" adds none)."""


def to_torch(model, *, dtype=None):
    """A `torch.nn.Sequential` computing what `model` (an `MLP`, `Layer` or `Neuron`) computes.

    The Sequential holds a `Linear` per gradwalk layer, each followed by its activation module
    (none for "linear"), with gradwalk's current parameter values copied in. `dtype` is the
    tensors' floating-point type, `torch.float64` by default: the same 64-bit floats gradwalk
    computes with, so outputs and gradients agree to rounding. With `torch.float32` the weights
    are rounded to 32 bits. The Sequential is a copy: training one leaves the other unchanged.

        seq = to_torch(MLP(2, [3, 1], activation="tanh", seed=0))
        # Sequential((0): Linear(in_features=2, out_features=3), (1): Tanh(),
        #            (2): Linear(in_features=3, out_features=1))
    """
    torch = _import_torch("to_torch")
    dtype = torch.float64 if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype should be a torch floating-point dtype such as torch.float64, got {dtype!r}")
    modules = []
    for layer in _layers_of(model):
        weights = [[w.data for w in neuron.w] for neuron in layer]
        biases = [neuron.b.data for neuron in layer]
        # skip_init builds the Linear without drawing random initial weights: drawing them would
        # advance torch's global random generator, a side effect on the caller's program.
        linear = torch.nn.utils.skip_init(torch.nn.Linear, len(weights[0]), len(weights), dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(weights, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(biases, dtype=torch.float64))
        modules.append(linear)
        activation = layer[0].activation
        if activation != "linear":
            modules.append(getattr(torch.nn, _ACTIVATION_LAYERS[activation])())
    return torch.nn.Sequential(*modules)


def from_torch(seq) -> MLP:
    """The gradwalk `MLP` that computes what the `torch.nn.Sequential` `seq` computes.

    `seq` must be what `to_torch` makes: `Linear` layers (with a bias), each optionally
    followed by one `ReLU`, `Tanh` or `Sigmoid`, every hidden layer with the same activation
    (a gradwalk MLP has one hidden activation and its own output activation). Anything else
    raises ValueError naming the layer; non-finite weights raise ValueError too. Parameters are
    copied exactly (float32 weights become the float64 numbers they stand for), so
    `from_torch(to_torch(model))` has `model`'s architecture and its exact parameters. (A
    Sequential with a single Linear has no hidden layer: its MLP gets the default hidden
    activation "relu", which it never uses.)
    """
    torch = _import_torch("from_torch")
    layers = _linear_blocks(seq, torch)
    nin = layers[0][0].in_features
    nouts = [linear.out_features for linear, _ in layers]
    hidden = [activation for _, activation in layers[:-1]]
    if len(set(hidden)) > 1:
        listing = ", ".join(f"Linear {i}: {a}" for i, a in enumerate(hidden))
        raise ValueError(f"from_torch: a gradwalk MLP uses one activation for all hidden layers, but this "
                         f"Sequential mixes them ({listing})")
    model = MLP(nin, nouts, activation=hidden[0] if hidden else "relu", output_activation=layers[-1][1], seed=0)
    values = []
    for i, (linear, _) in enumerate(layers):
        weights = linear.weight.detach().cpu().to(torch.float64).tolist()
        biases = linear.bias.detach().cpu().to(torch.float64).tolist()
        for j, (row, b) in enumerate(zip(weights, biases)):
            for k, v in enumerate(row + [b]):
                if not math.isfinite(v):
                    what = f"weight[{j}, {k}]" if k < len(row) else f"bias[{j}]"
                    raise ValueError(f"from_torch: Linear {i} has {what} = {v!r}; only finite numbers can be copied")
            values.extend(row + [b])
    # Every value was checked before any is written: a refused Sequential builds nothing.
    for p, v in zip(_ordered_parameters(model), values):
        p.data = v
    return model


def torch_gradients(seq) -> dict[str, float]:
    """The gradients of `seq`'s parameters as `{gradwalk name: float}`, e.g. after `loss.backward()`.

    The names are those of `from_torch(seq).named_parameters()`, so the result compares
    directly with `{name: p.grad for name, p in model.named_parameters()}`. Raises ValueError
    when a parameter has no gradient yet (no backward pass reached it).
    """
    torch = _import_torch("torch_gradients")
    grads = {}
    for i, (linear, _) in enumerate(_linear_blocks(seq, torch)):
        if linear.weight.grad is None or linear.bias.grad is None:
            raise ValueError(f"torch_gradients: Linear {i} has no gradient yet; run a backward pass first")
        weights = linear.weight.grad.detach().cpu().to(torch.float64).tolist()
        biases = linear.bias.grad.detach().cpu().to(torch.float64).tolist()
        for j, (row, b) in enumerate(zip(weights, biases)):
            for k, g in enumerate(row):
                grads[f"layers.{i}.neurons.{j}.w.{k}"] = g
            grads[f"layers.{i}.neurons.{j}.b"] = b
    return grads


# -- helpers --------------------------------------------------------------------------------------


def _import_torch(caller: str):
    try:
        import torch  # optional extra: gradwalk[torch]
    except ImportError as exc:
        raise ImportError(f"nn.{caller} needs PyTorch: pip install 'gradwalk[torch]' "
                          f"(the CPU-only wheel is enough)") from exc
    return torch


def _layers_of(model) -> list[list[Neuron]]:
    """The model's layers as lists of neurons, from input to output."""
    if isinstance(model, MLP):
        return [layer.neurons for layer in model.layers]
    if isinstance(model, Layer):
        return [model.neurons]
    if isinstance(model, Neuron):
        return [[model]]
    raise TypeError(f"to_torch converts an MLP, Layer or Neuron, not {type(model).__name__}")


def _ordered_parameters(model: MLP) -> list:
    """The MLP's parameters in layer, neuron order, each neuron's weights then its bias."""
    return [p for layer in model.layers for neuron in layer.neurons for p in neuron.w + [neuron.b]]


def _linear_blocks(seq, torch) -> list[tuple[object, str]]:
    """`(Linear, gradwalk activation name)` for each Linear of `seq`, after checking the whole of it."""
    if not isinstance(seq, torch.nn.Sequential):
        raise TypeError(f"from_torch reads a torch.nn.Sequential, not {type(seq).__name__}")
    names = {module_name: activation for activation, module_name in _ACTIVATION_LAYERS.items()}
    blocks: list[list] = []
    for index, module in enumerate(seq):
        kind = type(module).__name__
        if type(module) is torch.nn.Linear:
            if module.bias is None:
                raise ValueError(f"from_torch: layer {index} ({_brief(module)}) has no bias; every gradwalk neuron has one")
            if blocks and blocks[-1][0].out_features != module.in_features:
                raise ValueError(f"from_torch: layer {index} ({_brief(module)}) takes {module.in_features} inputs, but the "
                                 f"Linear before it has {blocks[-1][0].out_features} outputs")
            blocks.append([module, "linear"])
        elif type(module) is getattr(torch.nn, kind, None) and kind in names:
            if not blocks:
                raise ValueError(f"from_torch: layer {index} ({_brief(module)}) comes before any Linear layer; a gradwalk "
                                 f"MLP applies an activation only after a layer's weights")
            if blocks[-1][1] != "linear":
                raise ValueError(f"from_torch: layer {index} ({_brief(module)}) follows another activation; a gradwalk "
                                 f"layer has one activation")
            blocks[-1][1] = names[kind]
        else:
            allowed = ", ".join(["Linear"] + [_ACTIVATION_LAYERS[a] for a in ACTIVATIONS if a in _ACTIVATION_LAYERS])
            raise ValueError(f"from_torch cannot represent layer {index} ({_brief(module)}) of type {kind}; a gradwalk "
                             f"MLP is made of {allowed}")
    if not blocks:
        raise ValueError("from_torch: the Sequential has no Linear layer")
    return [(linear, activation) for linear, activation in blocks]


def _brief(module) -> str:
    # A container's repr spans lines; an error message keeps it on one line, cut to a sane length.
    text = " ".join(repr(module).split())
    return text if len(text) <= 80 else text[:77] + "..."
