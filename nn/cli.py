"""The installed `gradwalk` command: the engine's commands (draw, steps, check, learn) and `playground`.

The playground trains networks, so its command is added here, on the nn side: the engine never
knows about it. `python -m nn.cli ...` runs the same command.
"""

from __future__ import annotations

import sys

from engine.cli import COMMANDS as ENGINE_COMMANDS, Command, main as run_commands
from engine.learn.command import LEARN
from nn import playground


def _run_playground(args) -> int:
    return playground.run_command(port=args.port, open_browser=not args.no_browser, save_dir=args.save_dir)


COMMANDS = [*ENGINE_COMMANDS, LEARN, Command("playground", "train and backprop live in the browser (needs the playground extra)",
                                      playground.add_arguments, _run_playground)]


def main(argv=None) -> int:
    """Entry point of `gradwalk`; returns the exit status (0 ok, 1 check failed, 2 error)."""
    return run_commands(argv, COMMANDS)


if __name__ == "__main__":
    sys.exit(main())
