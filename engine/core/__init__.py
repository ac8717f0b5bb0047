"""The core of the engine, to be read top to bottom: modes (the switches ops read), graph (the
topological order and the one chain-rule loop), protocols (a node as a Python object), real (what
counts as a number), value (the node, and the op that makes nodes), table (every op gradwalk
knows, and how a row is installed) and functional (ops as functions). Everything else in `engine`
is built on these; `engine.define` adds your own ops."""

from engine.core import modes, graph, protocols, real, value, table, functional  # noqa: F401  (in reading order)
