"""The command line's engine half: the formula language (formula.py) and the engine's commands
(commands.py: `draw`, `steps`, `check`). A package built on the engine passes a longer command
table to `main`; the installed `gradwalk` command does so (see docs/architecture.md)."""

from engine.cli.commands import COMMANDS, Command, UsageError, main

__all__ = ["COMMANDS", "Command", "UsageError", "main"]
