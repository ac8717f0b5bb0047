"""The switches that change how ops record the graph, and the state they switch.

`no_grad()` stops recording (ops compute `data` only), `name_scope()` stamps new nodes with a
scope, and `detect_anomaly()` (in `engine.anomaly`) watches every new node. Each switch sits here
with the state it changes, so the rest of the engine only ever reads that state.

The switches are process-wide, not per thread: gradwalk's graphs are built by one thread at a time.
"""

from __future__ import annotations

from contextlib import contextmanager

# Read on every op creation (engine.core.value), written only by the switches below.
recording = True  # False inside no_grad(): ops compute data only.
scope = None  # The dotted path of the open name_scope() blocks, stamped on every new node.
tracing = False  # True while engine.trace records a function: Values then refuse bool().
watch = None  # Inside detect_anomaly(): a function called with every new node. None otherwise.


def current_scope() -> str | None:
    """The dotted path of the open `name_scope` blocks (None outside any)."""
    return scope


@contextmanager
def no_grad():
    """Inside this block ops compute `data` only: no parents, no closures, nothing to backprop.

    Use it for evaluation and for parameter updates. Nests, and restores the previous mode.

        >>> from engine import Value
        >>> with no_grad():
        ...     y = Value(2.0) * 3
        >>> y.parents
        ()
    """
    global recording
    previous = recording
    recording = False
    try:
        yield
    finally:
        recording = previous


@contextmanager
def enable_grad():
    """Record the graph inside this block, even within an enclosing `no_grad()`."""
    global recording
    previous = recording
    recording = True
    try:
        yield
    finally:
        recording = previous


def is_grad_enabled() -> bool:
    """False inside `no_grad()`."""
    return recording


@contextmanager
def tracing_on():
    """While `engine.trace` records a function: Values refuse bool() (a branch would not replay)."""
    global tracing
    previous = tracing
    tracing = True
    try:
        yield
    finally:
        tracing = previous


@contextmanager
def watching(watch_node):
    """Call `watch_node(node)` on every new node inside the block (`detect_anomaly` uses this)."""
    global watch
    previous = watch
    watch = watch_node
    try:
        yield
    finally:
        watch = previous


class name_scope:
    """Stamp every node created inside the block with `scope` = the dotted path of open scopes.

    A network opens one per module call (e.g. `layers.1.neurons.3`), so drawings can cluster a
    network's nodes by the neuron or layer that made them. The engine itself never sets one.

        >>> from engine import Value
        >>> with name_scope("layer"):
        ...     y = Value(2.0) * 3
        >>> y.scope
        'layer'
    """

    # A small class rather than a @contextmanager generator: a network enters one per module call, and
    # a class enters and leaves in well under half the time (see docs/performance.md).
    __slots__ = ("name", "_previous")

    def __init__(self, name: str):
        if not isinstance(name, str) or not name:
            raise ValueError(f"name_scope needs a non-empty string, got {name!r}")
        self.name = name

    def __enter__(self):
        global scope
        previous = self._previous = scope
        scope = self.name if previous is None else f"{previous}.{self.name}"

    def __exit__(self, *exc_info):
        global scope
        scope = self._previous
