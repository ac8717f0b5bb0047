"""What one step of backward did, and how it reads: the records a `Stepper` returns.

A `BackwardStep` is one node's turn in the backward pass; each `EdgeStep` in it is one use of the
chain rule, parent.grad += ∂node/∂parent * d(root)/d(node). `step.text()` is the one text for a
step that the REPL, the CLI and the player all show:

    step 3 of 3: #2 = x*w = -6
      #2 -> x:  local ∂#2/∂x = w = -3;  upstream do/d#2 = 0.5;  adds -3 × 0.5 = -1.5;  x.grad: 0 → -1.5

∂ marks a local derivative (how a node changes with one of its inputs, known from the forward
pass alone), d a total derivative of the root; the formulas are written by `engine.notation`. A
product is printed with `=` only when the printed numbers multiply to exactly the printed result,
`≈` otherwise (an overflow too: 1e+200 × 1e+200 ≈ inf).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from engine.notation import number, parenthesised, product


# -- the records of a step -------------------------------------------------------------------------


class ShownAsText:
    """A record whose REPL echo is its text, and whose Jupyter display is that text in <pre>."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"


@dataclass(frozen=True)
class EdgeStep:
    """One application of the chain rule along the edge parent -> node."""

    parent: object
    parent_name: str
    local_grad: float  # ∂node/∂parent
    contribution: float  # local_grad * upstream: what this edge adds to parent.grad
    grad_before: float
    grad_after: float
    formula: str  # local_grad's formula in the graph's names ("w" for ∂(x*w)/∂x); "" if unknown


@dataclass(frozen=True, repr=False)
class BackwardStep(ShownAsText):
    """What backward did at one node: its upstream gradient pushed to each of its parents.
    `str(step)` (and the REPL echo) is `step.text()`: a header line, then one line per edge."""

    index: int  # 1-based position among the steps
    total: int  # how many steps this backward pass has
    node: object
    node_name: str
    root_name: str
    upstream: float  # d(root)/d(node)
    edges: tuple[EdgeStep, ...]
    definition: str  # the node in its parents' names: "x*w", "tanh(n)"
    data: float  # the node's value

    def text(self, digits: int = 4) -> str:
        """The step as the CLI, the player and the REPL show it, numbers to `digits` significant
        digits: `step k of n: node = definition = value`, then one line per edge."""
        node, root = parenthesised(self.node_name), parenthesised(self.root_name)
        lines = [f"step {self.index} of {self.total}: {node} = {self.definition} = {number(self.data, digits)}"]
        heads = [f"{node} -> {parenthesised(e.parent_name)}:" for e in self.edges]
        width = max(map(len, heads), default=0)
        for head, e in zip(heads, self.edges):
            parent = parenthesised(e.parent_name)
            local = number(e.local_grad, digits)
            formula = f"{e.formula} = " if e.formula and e.formula != local else ""
            if self.upstream == 0.0:
                adds = "adds nothing (upstream is 0)"
            else:
                adds = "adds " + product(e.local_grad, self.upstream, e.contribution, digits)
            lines.append(
                f"  {head:<{width}}  local ∂{node}/∂{parent} = {formula}{local};  "
                f"upstream d{root}/d{node} = {number(self.upstream, digits)};  "
                f"{adds};  "
                f"{parent}.grad: {number(e.grad_before, digits)} → {number(e.grad_after, digits)}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()



def edge_steps(node, upstream: float, pass_grads: dict, written, names: dict, formulas) -> tuple:
    """The edges of a step at `node`, each with its numbers, computed exactly as the chain rule
    adds them (`graph.chain_rule`), from the pass so far: `pass_grads` maps a node to its pass
    gradient, and `written(parent, g)` is the grad a parent with pass gradient g holds."""
    running = {}  # a parent on several edges (x*x) accumulates across them
    edges = []
    for parent, local, formula in zip(node.parents, node.local_grad(), formulas):
        before = running.get(parent, pass_grads.get(parent, 0.0))
        if upstream == 0.0:  # as in backward(): nothing flows on, so an inf slope makes no NaN
            contribution, after = 0.0, before
        else:
            contribution = local * upstream
            after = before + contribution
        running[parent] = after
        edges.append(EdgeStep(parent, names[parent], local, contribution, written(parent, before),
                              written(parent, after), formula))
    return tuple(edges)


@dataclass(frozen=True, repr=False, eq=False)
class StepTable(ShownAsText):
    """The steps a stepper has done, as a text table (`str`/REPL echo) and as `rows`, the
    `BackwardStep` records themselves: one row per step, one line per edge."""

    rows: tuple
    total: int
    root_name: str
    digits: int = 4

    def __str__(self) -> str:
        root = parenthesised(self.root_name)
        if not self.rows:
            return f"no steps done yet (of {self.total}) in {root}'s backward pass"
        num = lambda v: number(v, self.digits)  # noqa: E731
        header = ["step", "node", "op", "data", f"upstream d{root}/d(node)", "-> input", "local ∂", "contribution",
                  "input.grad after"]
        table = []
        for step in self.rows:
            first = [str(step.index), parenthesised(step.node_name), str(step.node.op), num(step.data),
                     num(step.upstream)]
            for i, e in enumerate(step.edges):
                left = first if i == 0 else [""] * len(first)
                table.append(left + [parenthesised(e.parent_name), num(e.local_grad), num(e.contribution),
                                     num(e.grad_after)])
        widths = [max(len(row[c]) for row in [header] + table) for c in range(len(header))]
        text_columns = (1, 2, 5)  # names and ops read left-aligned, numbers right-aligned
        lines = ["  ".join(cell.ljust(w) if c in text_columns else cell.rjust(w)
                           for c, (cell, w) in enumerate(zip(row, widths))).rstrip()
                 for row in [header] + table]
        done = len(self.rows)
        lines.append(f"({done} of {self.total} steps done)" if done < self.total else f"(all {done} steps done)")
        return "\n".join(lines)
