"""The code's structure: layers that import only downward, lazy imports included; no import cycle
in engine or nn; engine never names nn; no module writes into another module's globals; and no
file over 400 lines.

Run this file directly to print the import graph: `python tests/test_structure.py`.
"""

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "nn")

# The layers, lowest first. A module may import its own layer and those below, never one above.
# In the core each module is its own layer, so the core reads top to bottom.
LAYERS = [
    ["engine.core.modes"], ["engine.core.graph"], ["engine.core.protocols"], ["engine.core.real"], ["engine.core.value"],
    ["engine.core.table"], ["engine.core.functional"], ["engine.core"],
    ["engine.notation"],
    ["engine.define", "engine.check", "engine.anomaly", "engine.testing", "engine.stepper", "engine.trace", "engine.forward",
     "engine.transform"],
    ["engine.drawing"],
    ["engine.notebook"],
    ["engine.cli"],
    ["engine.learn"],
    ["engine"],
    ["nn"],
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _ours(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def imports_of(path: Path, known) -> set[str]:
    """Every engine or nn module `path` imports: at module level, inside functions, and by name
    through importlib. `from package import name` counts the submodule when name is one."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and _ours(node.module):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if _ours(alias.name)}
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in
              ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str) and _ours(node.args[0].value)):
            found.add(node.args[0].value)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(path, known) - {name} for name, path in known.items()}


def layer_of(module: str) -> int:
    best, rank = -1, None
    for k, layer in enumerate(LAYERS):
        for prefix in layer:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), k
    return rank


def _is_package_of(target: str, module: str) -> bool:
    """`engine.drawing.build` importing `engine.drawing` needs only the package object, made first."""
    return module.startswith(target + ".")


def find_cycle(graph):
    state = {}

    def visit(node, path):
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if _is_package_of(target, node):
                continue
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


def test_the_structure_test_finds_what_it_looks_for(tmp_path):
    # Its own finders on a made-up module: a lazy import, an importlib string, a `from x import y`.
    source = ("import importlib\nfrom engine.core import value\n\ndef later():\n    import nn.train\n"
              "    importlib.import_module('nn.playground')\n")
    path = tmp_path / "m.py"
    path.write_text(source)
    assert imports_of(path, {"engine.core.value"}) == {"engine.core.value", "nn.train", "nn.playground"}
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert layer_of("engine.core.value") < layer_of("engine.stepper.text") < layer_of("engine") < layer_of("nn.cli")


def test_every_module_has_a_layer():
    assert [name for name in modules() if layer_of(name) is None] == []


def test_imports_go_down_the_layers_lazy_ones_included():
    upward = [(name, target) for name, targets in import_graph().items() for target in sorted(targets)
              if layer_of(target) > layer_of(name) and not _is_package_of(target, name)]
    assert upward == []


def test_no_import_cycle_in_engine_or_nn():
    graph = import_graph()
    assert find_cycle(graph) is None, find_cycle(graph)


def test_engine_never_names_nn_not_even_in_a_string():
    # Not in an import, a string, a docstring or a comment, and not in the page templates either.
    naming = re.compile(r"\bnn\b")
    files = [path for path in (ROOT / "engine").rglob("*") if path.suffix in (".py", ".js", ".html", ".css")]
    offenders = [f"{path.relative_to(ROOT)}:{k}" for path in files
                 for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if naming.search(line)]
    assert len(files) > 40 and offenders == []


def test_no_module_writes_into_another_modules_globals():
    writes = []
    for name, path in modules().items():
        tree = ast.parse(path.read_text())
        imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    and node.module and _ours(node.module) for alias in node.names
                    if f"{node.module}.{alias.name}" in modules()}
        imported |= {(alias.asname or alias.name).split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.Import) for alias in node.names if _ours(alias.name)}
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, (ast.AugAssign, ast.AnnAssign)) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in imported:
                    writes.append(f"{name}: {target.value.id}.{target.attr} = ...")
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("setattr", "delattr") and node.args
                    and isinstance(node.args[0], ast.Name) and node.args[0].id in imported):
                writes.append(f"{name}: {node.func.id}({node.args[0].id}, ...)")
    assert writes == []


def test_no_file_is_over_400_lines():
    files = [p for folder in ("engine", "nn", "tests", "demos") for p in (ROOT / folder).rglob("*") if p.suffix
             in (".py", ".js", ".css", ".html") and ".venv" not in p.parts]
    long = {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text(errors="replace").splitlines())) > 400}
    assert long == {}


def test_architecture_page_names_every_module():
    page = (ROOT / "docs" / "architecture.md").read_text()
    missing = [name for name in modules() if f"`{name.rsplit('.', 1)[-1]}`" not in page and f"`{name}`" not in page]
    assert missing == []


def draw_layers(path: str) -> None:
    """Write the import graph as a picture, one box per module, one cluster per layer."""
    import graphviz

    graph, dot = import_graph(), graphviz.Digraph("layers", graph_attr={"rankdir": "BT", "fontsize": "11"},
                                                  node_attr={"shape": "box", "fontsize": "10"})
    for k, layer in enumerate(LAYERS):
        with dot.subgraph(name=f"cluster_{k}", graph_attr={"label": " ".join(layer), "style": "dashed"}) as sub:
            for name in graph:
                if layer_of(name) == k:
                    sub.node(name)
    for name, targets in graph.items():
        for target in sorted(targets):
            if target in graph and not _is_package_of(target, name):
                dot.edge(name, target)
    Path(path).write_bytes(dot.pipe(format="svg"))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--svg"]:
        draw_layers(sys.argv[2])
    for module, targets in import_graph().items():
        print(f"{module:32s} (layer {layer_of(module):2d}) -> {', '.join(sorted(targets)) or '-'}")
    cycle = find_cycle(import_graph())
    print("cycle: " + " -> ".join(cycle) if cycle else "no import cycle")
    sys.exit(1 if cycle else 0)
