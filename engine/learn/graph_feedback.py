"""Feedback on a graph exercise: the wrong edge, named as the drawings and the stepper name it,
a hint from the stepper's own text for that edge, and a drawing with that edge marked in red.

A node's name is its label or `#k`, its position in the topological order: the very names the
drawing and `backward_steps()` print, so the verdict, the picture and the hint agree.
"""

from __future__ import annotations

from pathlib import Path

from engine.core.graph import node_names, topological_order, zero_grad
from engine.stepper.stepper import Stepper
from engine.notation import parenthesised, written

MARK = 'color="#e03131" penwidth=3 fontcolor="#e03131" fontsize=11'


class GraphNames:
    """The names of one graph's nodes, and each node's definition in its parents' names."""

    def __init__(self, root):
        self.root = root
        self.order = topological_order(root)
        self.names = node_names(self.order)
        self.position = {node: k for k, node in enumerate(self.order)}

    def __getitem__(self, node) -> str:
        return self.names[node]

    def defined(self, node) -> str:
        """`#3 = tanh(#2)`, or just the name for a leaf."""
        if not node.parents:
            return self.names[node]
        definition = written(node.op, [parenthesised(self.names[p]) for p in node.parents], max_terms=4)
        return f"{self.names[node]} = {definition}"

    def formula(self) -> str:
        """The whole graph, one line per interior node."""
        return "; ".join(self.defined(node) for node in self.order if node.parents)

    def uses(self, parent) -> list[tuple]:
        """Every edge out of `parent`: (child, operand index), in topological order."""
        return [(child, i) for child in self.order for i, p in enumerate(child.parents) if p is parent]


def stepper_hint(root, child, index: int) -> str:
    """What `backward_steps()` says at the edge child -> child.parents[index]: the step's header
    and that edge's line. The graph's grads are zeroed first and left as the stepper leaves them."""
    zero_grad(root)
    steps = Stepper(root, put_back=False)
    for step in steps:
        if step.node is child:
            lines = step.text().splitlines()
            return f"the stepper's step for this edge reads:\n      {lines[0]}\n      {lines[1 + index].strip()}"
    return ""


def draw_marked(root, child, index: int, path: Path) -> str | None:
    """Save a drawing of root's graph, with the learner's grads, and the edge from
    child.parents[index] into child's op marked; the path, or None when Graphviz is missing."""
    from engine.drawing.build import GraphvizNotFoundError, draw_dot, render
    from engine.drawing.style import FONT

    k = GraphNames(root).position[child]
    try:
        dot = draw_dot(root, show_grad=True, max_nodes=None)
        edge_id = f"[id=e{k}_{index}]"
        dot.body[:] = [line.replace(edge_id, f'[id=e{k}_{index} {MARK} fontname="{FONT}" label=" wrong edge"]') for line in dot.body]
        svg = render(dot, "svg")
    except (GraphvizNotFoundError, OSError):
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(svg)
    return str(path)


def drawing_path(number: int) -> Path:
    """Where a verdict's drawing goes: a folder of its own in the working folder."""
    return Path.cwd() / "gradwalk-learn" / f"exercise{number}-failing-graph.svg"
