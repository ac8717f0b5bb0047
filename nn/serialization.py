"""The model file: saving a module's parameters as readable JSON, and loading them back safely.

A model file is one JSON object:

    {"format": "gradwalk-model", "version": 1,
     "architecture": {"type": "MLP", "nin": 2, ...},
     "parameters": {"layers.0.neurons.0.w.0": 0.52, ...}}

Saving writes the file atomically: a crash leaves the old file or the new one, never a mixture.
Loading checks the whole file before it changes a single parameter, so a refused file never
leaves a model half-loaded. `Module.save`, `Module.load` and `Module.load_state_dict` come here,
and so does `nn.layers.load_model`, which rebuilds a network from a file.

This module knows the file and nothing of the layers: it reads and writes any object with
`named_parameters()` and `architecture()`, so it imports nothing from `nn` (only the engine's
number check).
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile

from engine.core.real import as_float

FILE_FORMAT = "gradwalk-model"
"""The marker in every saved model file; `load` refuses JSON without it."""

FILE_VERSION = 1
"""The version of the file layout written by `save`; `load` reads this version and older."""

MAX_FILE_BYTES = 128 * 2**20
"""The largest model file `load` reads (128 MiB, about two million parameters): a bigger file
is refused before it is read, so a device or a runaway file cannot fill the memory."""

class ModelFileError(ValueError):
    """A model file (or state dict) that cannot be loaded; the message says what is wrong."""


# -- saving -----------------------------------------------------------------------------------------


def save_model(module, path) -> None:
    """Write `module`'s architecture and parameters to `path` as JSON, atomically.

    Refuses (ValueError) a NaN or infinite parameter, and a `path` that exists but is not a
    regular file (a directory, a device such as /dev/null, a FIFO). A symbolic link is followed:
    the file it points to is replaced and the link itself stays, as text editors do.
    """
    path = os.fspath(path)
    named = module.named_parameters()
    for name, p in named:
        if not math.isfinite(p.data):
            raise ValueError(f"cannot save: parameter {name!r} is {p.data!r}")
    document = {
        "format": FILE_FORMAT,
        "version": FILE_VERSION,
        "architecture": module.architecture(),
        "parameters": {name: p.data for name, p in named},
    }
    text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    _atomic_write(path, text)


def _atomic_write(path: str, text: str) -> None:
    """Replace the file at `path` with `text` so that no crash can leave a partial or missing file."""
    target = _writable_target(path)
    directory = os.path.dirname(target)
    # The temp file must live in the target's directory: os.replace is atomic only within one
    # file system, and a rename is the only step that switches old content for new.
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".", suffix=".tmp", dir=directory)
    except OSError as exc:  # e.g. a read-only folder: name the user's path, not the temp file's
        raise type(exc)(exc.errno, f"cannot save to {path!r}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # the data must be on disk before the rename makes it visible
        _copy_mode(target, tmp)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _writable_target(path: str) -> str:
    """The absolute file `save` replaces for `path`, after refusing targets that are not files.

    A rename over a device or FIFO would replace the device node itself with a JSON file (as root,
    /dev/null would stop being a device), so anything that exists and is not a regular file is
    refused. Symbolic links are resolved so that the rename replaces the file they point to.
    """
    target = os.path.realpath(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        folder = os.path.dirname(target)
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"cannot save to {path!r}: the folder {folder!r} does not exist") from None
        return target
    if stat.S_ISDIR(mode):
        raise ValueError(f"cannot save to {path!r}: it is a directory; give a file path such as "
                         f"{os.path.join(path, 'model.json')!r}")
    if not stat.S_ISREG(mode):
        raise ValueError(f"cannot save to {path!r}: it exists and is not a regular file "
                         f"(a {_file_kind(mode)}); give the path of a file")
    return target


def _file_kind(mode: int) -> str:
    kinds = [(stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "FIFO"),
             (stat.S_ISSOCK, "socket")]
    return next((name for test, name in kinds if test(mode)), "special file")


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


# -- loading ----------------------------------------------------------------------------------------


def load_into(module, path) -> None:
    """Load the parameters saved in `path` into `module` (see `Module.load`)."""
    path = os.fspath(path)
    load_document(module, read_model_file(path), path)


def load_document(module, document: dict, path) -> None:
    """Set `module`'s parameters from `document` (as `read_model_file` returns it), read from `path`,
    after checking that the architecture matches and every parameter is there and finite."""
    mine = module.architecture()
    if document["architecture"] != mine:
        raise ModelFileError(
            f"{path}: saved from a different architecture: file has {excerpt(repr(document['architecture']))}, "
            f"this model is {excerpt(repr(mine))}"
        )
    try:
        set_parameters(module, document["parameters"])
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None


def set_parameters(module, state) -> None:
    """Set every parameter of `module` from `state` (name -> number), after checking all of it.

    A missing or unexpected name, a value that is not a number, or a NaN/infinity raises
    `ModelFileError` and leaves the module unchanged.
    """
    named = module.named_parameters()
    values = _checked_values(state, named)
    for (_, p), v in zip(named, values):
        p.data = v


def read_model_file(path) -> dict:
    """Read and check the envelope of a saved model file (format marker, version, sections).

    Returns the decoded document; the parameters themselves are checked against a model later.
    Anything but a regular file, and a file over `MAX_FILE_BYTES`, is refused unread.
    """
    path = os.fspath(path)
    try:
        text = _read_bytes(path).decode("utf-8")
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
        raise ModelFileError(f"{path}: corrupt model file: version should be a positive integer, "
                             f"got {excerpt(repr(version))}")
    if version > FILE_VERSION:
        raise ModelFileError(
            f"{path}: saved by a newer gradwalk (file version {version}); this version reads up to {FILE_VERSION}"
        )
    if not isinstance(document.get("architecture"), dict):
        raise ModelFileError(f"{path}: corrupt model file: \"architecture\" should be an object")
    if not isinstance(document.get("parameters"), dict):
        raise ModelFileError(f"{path}: corrupt model file: \"parameters\" should be an object of name -> number")
    return document


def _read_bytes(path: str) -> bytes:
    """The bytes of the regular file at `path`, at most `MAX_FILE_BYTES` of them."""
    _refuse_special(path, os.stat(path).st_mode)  # before opening: a FIFO or socket would block or fail
    # O_NONBLOCK: should the path become a FIFO meanwhile, opening it must still not wait for a writer.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    with os.fdopen(os.open(path, flags), "rb") as f:
        info = os.fstat(f.fileno())
        _refuse_special(path, info.st_mode)  # again on what was opened: no swap between check and read
        limit = MAX_FILE_BYTES
        if info.st_size > limit:
            raise _too_large(path, f"{info.st_size} bytes", limit)
        data = f.read(limit + 1)  # a file can grow while it is read (or report size 0, as in /proc)
    if len(data) > limit:
        raise _too_large(path, f"over {limit} bytes", limit)
    return data


def _refuse_special(path: str, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise ModelFileError(f"{path}: cannot load a directory; give the path of a saved model file")
    if not stat.S_ISREG(mode):
        raise ModelFileError(f"{path}: cannot load it: not a regular file (a {_file_kind(mode)}); "
                             "give the path of a saved model file")


def _too_large(path: str, size: str, limit: int) -> ModelFileError:
    return ModelFileError(f"{path}: too large for a model file ({size}); load reads at most "
                          f"MAX_FILE_BYTES = {limit} bytes ({limit / 2**20:g} MiB)")


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
        try:
            v = as_float(v, f"parameter {name!r}")  # numpy's numbers too (a state dict built by hand)
        except TypeError:
            raise ModelFileError(f"parameter {name!r} should be a single number, got {type(v).__name__} {v!r:.60}") from None
        except OverflowError:  # an int too large for a float, e.g. 400 digits
            raise ModelFileError(
                f"parameter {name!r} is an integer too large for a float ({int(v).bit_length()} bits)"
            ) from None
        except ValueError:  # NaN
            raise ModelFileError(f"parameter {name!r} is nan; only finite numbers can be loaded") from None
        if not math.isfinite(v):
            raise ModelFileError(f"parameter {name!r} is {v!r}; only finite numbers can be loaded")
        values.append(v)
    return values


def excerpt(text: str, limit: int = 200) -> str:
    """`text` cut to `limit` characters: what an error message quotes of a file's contents, so a
    hostile 5 MB field gives a short message, not a 5 MB one."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def _few(names: list, limit: int = 5) -> str:
    shown = ", ".join(excerpt(repr(n), 60) for n in names[:limit])
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
