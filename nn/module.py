"""`Module`: the base class of everything in `nn` that owns parameters.

A module finds its parameters by walking its own attributes in the order they were assigned:
a `Value` with `param=True` is a parameter, a `Module` is a child, and a list or tuple of either
is numbered. That walk gives every parameter a stable dotted name such as
`layers.0.neurons.3.w.1`, which is what `state_dict()` and saved model files use.

Saving writes readable JSON atomically; loading checks the whole file before it changes a
single parameter, so a refused file never leaves a model half-loaded.
"""

from __future__ import annotations

import json
import math
import os
import random
import tempfile

from engine import Value

FILE_FORMAT = "gradwalk-model"
"""The marker in every saved model file; `load` refuses JSON without it."""

FILE_VERSION = 1
"""The version of the file layout written by `save`; `load` reads this version and older."""


class ModelFileError(ValueError):
    """A model file (or state dict) that cannot be loaded; the message says what is wrong."""


class Module:
    """Base class for neurons, layers and networks: parameter bookkeeping, saving and loading.

    Subclasses assign their parameters (`Value(..., param=True)`), child modules and lists of
    either as attributes in `__init__`, and implement `__call__`. Everything else is inherited.
    Attributes whose names start with "_" are private and never searched for parameters.

    A parent sets each child's `scope_name` (MLP names its layers `layers.0`, ...); a module
    with a scope name runs inside `engine.name_scope(scope_name)`, so the nodes it creates can
    be traced back to it. A model's root module has none.
    """

    scope_name = None
    """Name of the `engine.name_scope` opened while this module runs (set by the parent module)."""

    def __call__(self, x):
        """Run the module on input `x` (subclasses define this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    # -- parameters --------------------------------------------------------------------------------

    def named_parameters(self) -> list[tuple[str, Value]]:
        """`(name, parameter)` pairs in a fixed order: attribute order, then list order.

        A parameter reachable twice (shared between two modules) is listed once, under the first
        name found, so an optimizer never updates it twice.
        """
        found: list[tuple[str, Value]] = []
        seen: set[int] = set()
        _walk(self, "", found, seen, {id(self)})
        return found

    def parameters(self) -> list[Value]:
        """All parameters, in the order of `named_parameters()`."""
        return [p for _, p in self.named_parameters()]

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
        named = self.named_parameters()
        values = _checked_values(state, named)
        for (_, p), v in zip(named, values):
            p.data = v

    def save(self, path) -> None:
        """Write the parameters and architecture to `path` as readable JSON, atomically.

        The file is written to a temporary file in the same directory, flushed to disk, then
        renamed over `path` in one step: a crash leaves either the old file or the new one,
        never a mixture. Refuses (ValueError) when a parameter is NaN or infinite.
        """
        named = self.named_parameters()
        for name, p in named:
            if not math.isfinite(p.data):
                raise ValueError(f"cannot save: parameter {name!r} is {p.data!r}")
        document = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "architecture": self.architecture(),
            "parameters": {name: p.data for name, p in named},
        }
        text = json.dumps(document, indent=2, allow_nan=False) + "\n"
        _atomic_write(os.fspath(path), text)

    def load(self, path) -> None:
        """Load parameters saved by `save` from `path` into this model.

        Raises `ModelFileError` (a ValueError) naming the problem when the file is not JSON, not
        a gradwalk model file, from a newer format version, saved from a different architecture,
        or has missing, extra, non-numeric or non-finite parameters. The model is unchanged
        whenever loading is refused. A missing file raises the usual `FileNotFoundError`.
        """
        path = os.fspath(path)
        document = read_model_file(path)
        mine = self.architecture()
        if document["architecture"] != mine:
            raise ModelFileError(
                f"{path}: saved from a different architecture: file has {document['architecture']}, "
                f"this model is {mine}"
            )
        named = self.named_parameters()
        try:
            values = _checked_values(document["parameters"], named)
        except ModelFileError as exc:
            raise ModelFileError(f"{path}: {exc}") from None
        for (_, p), v in zip(named, values):
            p.data = v

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def read_model_file(path) -> dict:
    """Read and check the envelope of a saved model file (format marker, version, sections).

    Returns the decoded document; the parameters themselves are checked against a model later.
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: not a gradwalk model file (not UTF-8 text)") from None
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: not a gradwalk model file (not valid JSON: {exc})") from None
    except _DuplicateKey as exc:
        raise ModelFileError(f"{path}: corrupt model file: key {exc.args[0]!r} appears twice") from None
    except RecursionError:
        raise ModelFileError(f"{path}: not a gradwalk model file (JSON nested too deeply to read)") from None
    except ValueError as exc:  # e.g. an integer longer than Python's int conversion limit
        raise ModelFileError(f"{path}: corrupt model file: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise ModelFileError(f"{path}: not a gradwalk model file (no \"format\": \"{FILE_FORMAT}\" marker)")
    version = document.get("version")
    if type(version) is not int or version < 1:
        raise ModelFileError(f"{path}: corrupt model file: version should be a positive integer, got {version!r}")
    if version > FILE_VERSION:
        raise ModelFileError(
            f"{path}: saved by a newer gradwalk (file version {version}); this version reads up to {FILE_VERSION}"
        )
    if not isinstance(document.get("architecture"), dict):
        raise ModelFileError(f"{path}: corrupt model file: \"architecture\" should be an object")
    if not isinstance(document.get("parameters"), dict):
        raise ModelFileError(f"{path}: corrupt model file: \"parameters\" should be an object of name -> number")
    return document


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
    if seed is not None and (type(seed) is not int):
        raise TypeError(f"seed should be an int, not {type(seed).__name__}")
    return random.Random(seed)


# -- helpers --------------------------------------------------------------------------------------


def _walk(obj, prefix: str, found: list, seen: set, active: set) -> None:
    """Collect obj's parameters depth first; `active` guards against a module containing itself."""
    for attr, value in vars(obj).items():
        if attr.startswith("_"):
            continue
        _visit(value, prefix + attr, found, seen, active)


def _visit(value, name: str, found: list, seen: set, active: set) -> None:
    if isinstance(value, Value):
        if value.param and id(value) not in seen:
            seen.add(id(value))
            found.append((name, value))
    elif isinstance(value, Module):
        if id(value) not in active:
            active.add(id(value))
            _walk(value, name + ".", found, seen, active)
            active.discard(id(value))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _visit(item, f"{name}.{i}", found, seen, active)


def _checked_values(state, named) -> list[float]:
    """The new value for each of `named`'s parameters, taken from `state` after checking all."""
    if not isinstance(state, dict):
        raise ModelFileError(f"parameters should be a mapping of name -> number, got {type(state).__name__}")
    expected = [name for name, _ in named]
    expected_set = set(expected)  # built once: a lookup per key keeps loading linear
    missing = [name for name in expected if name not in state]
    extra = [name for name in state if name not in expected_set]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} parameter(s): {_few(missing)}")
        if extra:
            parts.append(f"unexpected {len(extra)} parameter(s): {_few(extra)}")
        raise ModelFileError("; ".join(parts))
    values = []
    for name in expected:
        v = state[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ModelFileError(f"parameter {name!r} should be a single number, got {type(v).__name__} {v!r:.60}")
        try:
            v = float(v)
        except OverflowError:  # an int too large for a float, e.g. 400 digits
            raise ModelFileError(
                f"parameter {name!r} is an integer too large for a float ({v.bit_length()} bits)"
            ) from None
        if not math.isfinite(v):
            raise ModelFileError(f"parameter {name!r} is {v!r}; only finite numbers can be loaded")
        values.append(v)
    return values


def _few(names: list, limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


class _DuplicateKey(Exception):
    pass


def _no_duplicate_keys(pairs):
    # json keeps the last of two equal keys silently; in a model file that means corruption.
    out = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _atomic_write(path: str, text: str) -> None:
    """Replace `path` with `text` so that no crash can leave a partial or missing file."""
    directory = os.path.dirname(os.path.abspath(path))
    # The temp file must live in the target's directory: os.replace is atomic only within one
    # file system, and a rename is the only step that switches old content for new.
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # the data must be on disk before the rename makes it visible
        _copy_mode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _copy_mode(path: str, tmp: str) -> None:
    # mkstemp creates files readable by the owner only; give the result the permissions an
    # ordinary open() would (or the replaced file's), so saving does not silently hide models.
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) on Windows.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
