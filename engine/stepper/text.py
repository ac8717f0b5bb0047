"""What one step of backward did, and how it reads: the records a `Stepper` returns.

A `BackwardStep` is one node's turn in the backward pass; each `EdgeStep` in it is one use of the
chain rule, parent.grad += ∂node/∂parent * d(root)/d(node). `step.text()` is the one text for a
step that the REPL, the CLI and the player all show:

    step 3 of 3: #2 = x*w = -6
      #2 -> x:  local ∂#2/∂x = w = -3;  upstream do/d#2 = 0.5;  adds -3 × 0.5 = -1.5;  x.grad: 0 → -1.5

∂ marks a local derivative (how a node changes with one of its inputs, known from the forward
pass alone), d a total derivative of the root. The local derivative's formula comes from the op's
own definition (`formula` in `engine.core.table`), in the graph's names. A product is printed with `=`
only when the printed numbers multiply to exactly the printed result, `≈` otherwise (an
overflow too: 1e+200 × 1e+200 ≈ inf).
"""

from __future__ import annotations

import decimal
import html
import math
import re
from dataclasses import dataclass


# -- the records of a step -------------------------------------------------------------------------


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


@dataclass(frozen=True)
class BackwardStep:
    """What backward did at one node: its upstream gradient pushed to each of its parents.

    `str(step)` (and the REPL echo) is `step.text()`: a header line, then one line per edge.
    """

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
        lines = [f"step {self.index} of {self.total}: {node} = {self.definition} = {_num(self.data, digits)}"]
        heads = [f"{node} -> {parenthesised(e.parent_name)}:" for e in self.edges]
        width = max(map(len, heads), default=0)
        for head, e in zip(heads, self.edges):
            parent = parenthesised(e.parent_name)
            local = _num(e.local_grad, digits)
            formula = f"{e.formula} = " if e.formula and e.formula != local else ""
            if self.upstream == 0.0:
                adds = "adds nothing (upstream is 0)"
            else:
                adds = "adds " + _product(e.local_grad, self.upstream, e.contribution, digits)
            lines.append(
                f"  {head:<{width}}  local ∂{node}/∂{parent} = {formula}{local};  "
                f"upstream d{root}/d{node} = {_num(self.upstream, digits)};  "
                f"{adds};  "
                f"{parent}.grad: {_num(e.grad_before, digits)} → {_num(e.grad_after, digits)}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    __repr__ = __str__  # the echo of `next(steps)` and `print(next(steps))` show the same text

    def _repr_html_(self) -> str:
        return _as_html(self)


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


class StepTable:
    """The steps a stepper has done, as a text table (`str`/REPL echo) and as `rows`, the
    `BackwardStep` records themselves: one row per step, one line per edge."""

    def __init__(self, rows, total: int, root_name: str, digits: int = 4):
        self.rows = tuple(rows)
        self.total = total
        self.root_name = root_name
        self.digits = digits

    def __str__(self) -> str:
        root = parenthesised(self.root_name)
        if not self.rows:
            return f"no steps done yet (of {self.total}) in {root}'s backward pass"
        def num(v: float) -> str:
            return _num(v, self.digits)

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

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return _as_html(self)


def _as_html(record) -> str:
    """Jupyter shows the very text of str(); <pre> keeps its columns and line breaks."""
    return f"<pre>{html.escape(str(record))}</pre>"


# -- the words for each op --------------------------------------------------------------------------
# Everything here comes from the op's own definition (engine.core.table): its name, and `formula`, the
# text of its local derivative(s) in the variables x (or a) and y (or b), with `out` (or `s`) for
# the op's result. Those letters are replaced by the names of the node's parents.

_INFIX = {"+": " + ", "-": " - ", "*": "*", "/": "/", "**": "**"}
_VARIABLE = re.compile(r"\b[A-Za-z_]\w*\b")
_MAX_TERMS = 4  # n-ary definitions longer than this show their first and last terms only


def describe(node, parents: list[str], name: str) -> tuple[str, list[str]]:
    """A node's definition in its parents' names, and the formula of each local derivative.

    `parents` and `name` are the display names of the node's parents and of the node itself.
    A formula is "" where the op has none (a node made outside `engine.core.table`).

        >>> from engine import Value
        >>> x, w = Value(2.0), Value(-3.0)
        >>> describe(x * w, ["x", "w"], "#2")
        ('x*w', ['w', 'x'])
        >>> describe(2 / x, ["x"], "y")
        ('2/x', ['-2/x**2'])
    """
    op = node.op
    folded = getattr(op, "folded_from", None)
    if folded:  # a binary op with a number folded in: `x*3` is `*` with b = 3
        base, constant, position = folded
        c = _const(f"{constant:g}")
        operands = [parents[0], c] if position == 1 else [c, parents[0]]
        formulas = _split(base.formula, 2)
        return _infix(str(base), operands), [_substitute(formulas[1 - position], operands, name)]
    formula = getattr(op, "formula", "")
    arity = getattr(op, "arity", len(parents))
    if arity == 1 and len(parents) == 1:
        definition = f"-{parents[0]}" if op == "neg" else f"{op}({parents[0]})"
        return definition, [_substitute(formula, parents, name)]
    if arity == 2 and len(parents) == 2:
        return _infix(str(op), parents), [_substitute(f, parents, name) for f in _split(formula, 2)]
    if op == "sum":
        return _terms(parents), ["1"] * len(parents)
    if op == "dot":  # operands w0 ... w(n-1), x0 ... x(n-1), then the bias when their number is odd
        n = len(parents) // 2
        weights, inputs = parents[:n], parents[n:2 * n]
        terms = [f"{w}*{x}" for w, x in zip(weights, inputs)]
        formulas = inputs + weights  # d/dw_i = x_i, d/dx_i = w_i
        if len(parents) % 2:
            terms.append(parents[-1])
            formulas.append("1")
        return _terms(terms), formulas
    return f"{op}({', '.join(parents)})", [""] * len(parents)


def _infix(op: str, operands: list[str]) -> str:
    if op in _INFIX:
        return _INFIX[op].join(operands)
    return f"{op}({', '.join(operands)})"


def _split(formula: str, n: int) -> list[str]:
    """"1/b, -a/b**2" -> one formula per operand (split at commas outside parentheses); a single
    formula for a two-operand op ("1" for +) serves both."""
    parts, depth, current = [], 0, ""
    for ch in formula:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    if len(parts) != n:
        return [parts[0] if len(parts) == 1 else ""] * n
    return parts


def _substitute(formula: str, operands: list[str], name: str) -> str:
    """The formula with its variables replaced by names: x, a -> the first operand; y, b -> the
    second; out (and s, sigmoid's result) -> the node itself."""
    if not formula:
        return ""
    names = {"x": operands[0], "a": operands[0], "out": name}
    if len(operands) > 1:
        names.update(y=operands[1], b=operands[1])
    else:
        names["s"] = name
    text = _VARIABLE.sub(lambda m: names.get(m.group(), m.group()), formula)
    return f"({text})" if " if " in text else text  # `= (1 if x > 0 else 0) = 1` reads right


def _terms(terms: list[str]) -> str:
    if len(terms) > _MAX_TERMS:
        return " + ".join(terms[:2] + ["..."] + terms[-1:]) + f" ({len(terms)} terms)"
    return " + ".join(terms) if terms else "0"


def _const(text: str) -> str:
    """A folded constant as an operand: negative ones in parentheses (`x*(-2)`)."""
    return f"({text})" if text.startswith("-") else text


# -- numbers and names --------------------------------------------------------------------------------

_PLAIN_NAME = re.compile(r"[#\w][\w.#\[\]]*")


def parenthesised(name: str) -> str:
    """A name ready to sit in `d(name)/dx` or `name.grad`: parenthesised unless it is a plain
    name like `x`, `#3` or `L1.n3.w2`."""
    return name if _PLAIN_NAME.fullmatch(name) else f"({name})"


def _num(x: float, digits: int) -> str:
    return f"{x:.{digits}g}"


_EXACT = decimal.Context(prec=80)  # enough for the exact product of two 17-digit decimals


def _product(a: float, b: float, product: float, digits: int) -> str:
    """`A × B = C` with all three printed to `digits` digits, and `=` only when the printed A
    times the printed B is exactly the printed C; `≈` when rounding makes them differ."""
    texts = [_num(v, digits) for v in (a, b, product)]
    if math.isinf(product) and math.isfinite(a) and math.isfinite(b):  # it overflowed: not truly inf
        exact = False
    elif all(math.isfinite(v) for v in (a, b, product)):
        exact = _EXACT.multiply(decimal.Decimal(texts[0]), decimal.Decimal(texts[1])) == decimal.Decimal(texts[2])
    else:  # inf × 2 = inf; inf × 0 = nan
        exact = _num(float(texts[0]) * float(texts[1]), digits) == texts[2]
    return f"{texts[0]} × {texts[1]} {'=' if exact else '≈'} {texts[2]}"
