"""The engine's structure: module-level imports run one way (no cycle), and engine never imports nn.

Run this file directly to print the import graph: `python tests/engine/test_structure.py`.
"""

import ast
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"


def import_graph() -> dict[str, set[str]]:
    """engine module -> the engine modules it imports at module level (imports inside functions
    run later, on first use, and are left out: they can't make an import cycle)."""
    graph = {}
    for path in sorted(ENGINE.glob("*.py")):
        name = "engine" if path.stem == "__init__" else f"engine.{path.stem}"
        targets = set()
        for node in ast.parse(path.read_text()).body:  # module level only
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("engine", "nn"):
                if node.module == "engine":
                    targets |= {f"engine.{alias.name}" for alias in node.names
                                if (ENGINE / f"{alias.name}.py").exists()}
                    targets.add("engine") if name != "engine" else None
                else:
                    targets.add(node.module)
            elif isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names if alias.name.split(".")[0] in ("engine", "nn")}
        graph[name] = targets - {name}
    return graph


def find_cycle(graph):
    state = {}

    def visit(node, path):
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if target == "engine" and node != "engine":
                continue  # `from engine import modes` needs only the package object, made first
            if state.get(target) == "open":
                return path + [target]
            if target not in state:
                found = visit(target, path + [target])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def test_engine_modules_import_one_way():
    assert find_cycle(import_graph()) is None, find_cycle(import_graph())


def test_engine_never_imports_nn():
    for name, targets in import_graph().items():
        assert not any(t.split(".")[0] == "nn" for t in targets), (name, targets)
    for path in ENGINE.glob("*.py"):
        assert "import nn" not in path.read_text() and "from nn" not in path.read_text(), path


def test_no_engine_or_nn_file_is_much_over_400_lines():
    root = ENGINE.parent
    long = {str(p.relative_to(root)): len(p.read_text().splitlines())
            for folder in ("engine", "nn") for p in (root / folder).rglob("*.py")}
    assert {name: n for name, n in long.items() if n > 450} == {}


if __name__ == "__main__":
    for module, targets in import_graph().items():
        print(f"{module:22s} -> {', '.join(sorted(targets)) or '(nothing in engine)'}")
    cycle = find_cycle(import_graph())
    print("cycle: " + " -> ".join(cycle) if cycle else "no import cycle")
    sys.exit(1 if cycle else 0)
