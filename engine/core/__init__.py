"""The core of the engine, to be read top to bottom: modes (the switches ops read), graph (the
topological order and the one chain-rule loop), protocols (a node as a Python object), real (what
counts as a number), value (the node, and the op that makes nodes), define (adding ops), table
(every op gradwalk knows) and functional (ops as functions). Everything else in `engine` is built
on these."""

from engine.core import modes, graph, protocols, real, value, define, table, functional  # noqa: F401  (in reading order)
