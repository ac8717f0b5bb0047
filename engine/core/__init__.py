"""The core of the engine, to be read top to bottom: modes (the switches ops read), graph (the
topological order and the one chain-rule loop), value (the node), op (how a definition becomes
nodes), define (adding ops), table (every op gradwalk knows) and functional (ops as functions).
Everything else in `engine` is built on these."""

from engine.core import modes, graph, value, op, define, table, functional  # noqa: F401  (in reading order)
