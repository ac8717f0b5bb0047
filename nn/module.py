"""`Module`: the base class of everything in `nn` that owns parameters.

As in PyTorch, a module defines `forward`, and calling the module runs it: `model(x)` is
`model.forward(x)` run inside the module's `engine.name_scope`, so every node it creates can be
traced back to the neuron or layer that made it.

A module finds its parameters by walking its own attributes in the order they were assigned:
a `Value` with `param=True` is a parameter, a `Module` is a child, and a list or tuple of either
is numbered. That walk gives every parameter a stable dotted name such as
`layers.0.neurons.3.w.1`, which is what `state_dict()` and saved model files use. The file
format itself lives in `nn.serialization`, which imports nothing from `nn`.
"""

from __future__ import annotations

import numbers
import random

from engine import Value, name_scope
from engine.core.real import as_float
from nn import serialization


class Module:
    """Base class for neurons, layers and networks: calling, parameter bookkeeping, saving, loading.

    Subclasses assign their parameters (`Value(..., param=True)`), child modules and lists of
    either as attributes in `__init__`, and define `forward`. Everything else is inherited.
    Attributes whose names start with "_" are private and never searched for parameters.

    A parent sets each child's `scope_name` (MLP names its layers `layers.0`, ...); a module
    with a scope name runs inside `engine.name_scope(scope_name)`. A model's root module has none.
    """

    scope_name = None
    """Name of the `engine.name_scope` opened while this module runs (set by the parent module)."""

    def __call__(self, *args, **kwargs):
        """Run `forward(*args, **kwargs)` inside this module's name scope and return its result."""
        if self.scope_name is None:
            return self.forward(*args, **kwargs)
        with name_scope(self.scope_name):
            return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        """The module's computation (subclasses define it); call the module, not this."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # -- parameters --------------------------------------------------------------------------------

    def named_parameters(self) -> list[tuple[str, Value]]:
        """`(name, parameter)` pairs in a fixed order: attribute order, then list order.

        A parameter reachable twice (shared between two modules) is listed once, under the first
        name found, so an optimizer never updates it twice.
        """
        return _collect(self, named=True)

    def parameters(self) -> list[Value]:
        """All parameters, in the order of `named_parameters()`."""
        # The same walk without building the names: a training loop calls this every step
        # (and zero_grad does), and the names would be most of the walk's cost.
        return _collect(self, named=False)

    def zero_grad(self) -> None:
        """Set every parameter's `grad` to 0.0 (call before each `backward()` when training)."""
        for p in self.parameters():
            p.grad = 0.0

    def architecture(self) -> dict:
        """A JSON-ready description of the model's shape; saved with it so `load` can compare.

        Subclasses with constructor arguments extend this; the base only records the type.
        """
        return {"type": type(self).__name__}

    # -- state -------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, float]:
        """Every parameter's value by name, in `named_parameters()` order."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state) -> None:
        """Set every parameter from `state` (name -> number), as returned by `state_dict()`.

        The whole mapping is checked first: a missing or unexpected name, a value that is not a
        number, or a NaN/infinity raises `ModelFileError` and leaves the model unchanged.
        """
        serialization.set_parameters(self, state)

    def save(self, path) -> None:
        """Write the parameters and architecture to `path` as readable JSON, atomically.

        The file is written to a temporary file in the same directory, flushed to disk, then
        renamed over `path` in one step: a crash leaves either the old file or the new one,
        never a mixture. Refuses (ValueError) a NaN or infinite parameter, and a `path` that
        exists but is not a regular file (a directory, a device, a FIFO). When `path` is a
        symbolic link, the file it points to is replaced and the link stays.
        """
        serialization.save_model(self, path)

    def load(self, path) -> None:
        """Load parameters saved by `save` from `path` into this model.

        Raises `ModelFileError` (a ValueError) naming the problem when the file is not JSON, not
        a gradwalk model file, from a newer format version, saved from a different architecture,
        or has missing, extra, non-numeric or non-finite parameters; also when `path` is not a
        regular file (a directory, a FIFO, a device: refused before anything is read) or is larger
        than `nn.MAX_FILE_BYTES`. The model is unchanged whenever loading is refused. A missing
        file raises the usual `FileNotFoundError`.
        """
        serialization.load_into(self, path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def resolve_rng(seed=None, rng=None) -> random.Random:
    """The random generator a constructor should draw from: `rng` itself, a new generator
    seeded with `seed`, or (neither given) a generator seeded from the OS.

    Every `nn` function that draws random numbers takes `seed` or `rng` and goes through here,
    so a fixed seed always means the same numbers, in any process.
    """
    if rng is not None:
        if seed is not None:
            raise ValueError("give either seed or rng, not both")
        if not isinstance(rng, random.Random):
            raise TypeError(f"rng should be a random.Random, not {type(rng).__name__}")
        return rng
    if seed is not None:
        seed = whole_number(seed, "seed")
    return random.Random(seed)


def real_number(x, where: str) -> float:
    """`x` as a float, by the engine's one rule for plain numbers (`as_float`): any real number
    (int, float, numpy's scalars such as np.float32 or np.int64), never a bool, never NaN.

    Every number `nn` takes (inputs, labels, learning rates, coefficients) comes through here or
    `whole_number`, so all of them accept and refuse the same things, with the same words.
    """
    if type(x) is float and x == x:  # the common case, without a call
        return x
    try:
        return as_float(x, where)
    except TypeError:
        raise number_error(x, where, "a real number (int, float or a numpy scalar)") from None


def whole_number(x, where: str, minimum: int | None = None) -> int:
    """`x` as an int (an int or a numpy integer, never a bool); ValueError when below `minimum`."""
    if not isinstance(x, numbers.Integral) or isinstance(x, bool):
        raise number_error(x, where, "a whole number (int or a numpy integer)")
    if minimum is not None and x < minimum:
        raise ValueError(f"{where} should be an int >= {minimum}, got {x!r}")
    return int(x)


def number_error(x, where: str, wanted: str) -> TypeError:
    """The TypeError for `x` given where `wanted` was needed; a bool, Python's or numpy's, always
    gets the same words."""
    if type(x).__name__ in ("bool", "bool_"):
        return TypeError(f"{where} should be {wanted}, not the bool {x!r}: True and False are not "
                         "numbers here (write 1 or 0)")
    shown = repr(x)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return TypeError(f"{where} should be {wanted}, not {type(x).__name__} {shown}")


# -- helpers --------------------------------------------------------------------------------------


def _collect(module, named: bool) -> list:
    """module's parameters (as `(name, parameter)` pairs when `named`), depth first."""
    found: list = []
    _walk(module, "", named, found, set(), {id(module)})
    return found


def _walk(obj, prefix: str, named: bool, found: list, seen: set, active: set) -> None:
    """Collect obj's parameters; `seen` lists each once, `active` stops a module containing itself."""
    for attr, value in vars(obj).items():
        if not attr.startswith("_"):
            _visit(value, prefix + attr if named else "", named, found, seen, active)


def _visit(value, name: str, named: bool, found: list, seen: set, active: set) -> None:
    if isinstance(value, Value):
        if value.param and id(value) not in seen:
            seen.add(id(value))
            found.append((name, value) if named else value)
    elif isinstance(value, Module):
        if id(value) not in active:
            active.add(id(value))
            _walk(value, name + "." if named else "", named, found, seen, active)
            active.discard(id(value))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _visit(item, f"{name}.{i}" if named else "", named, found, seen, active)
