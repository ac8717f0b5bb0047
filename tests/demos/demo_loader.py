"""Importing a demo: the demos are scripts, not a package, so each is loaded from its file path."""

import importlib.util
import sys
from pathlib import Path

DEMOS = Path(__file__).resolve().parents[2] / "demos"


def load(name: str):
    """Import demos/<name>.py as a module (fresh each time)."""
    spec = importlib.util.spec_from_file_location(f"demo_{name}", DEMOS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
