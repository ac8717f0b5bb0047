"""Predict, then reveal: backward one step at a time, asking you each number before it is applied.

    >>> from engine import Value
    >>> x, w = Value(2.0, "x"), Value(-3.0, "w")
    >>> o = (x * w).tanh()
    >>> o.label = "o"
    >>> quiz = o.backward_steps(quiz=True)
    >>> print(quiz.question)
    step 1 of 2: o = tanh(#2) = -1
      what is the local derivative ∂o/∂#2?
    >>> print(quiz.answer("1 - o**2"))
    right: ∂o/∂#2 = 1 - tanh(#2)**2 = 2.458e-05 (score 1 of 1)

An answer is a number or a formula in the formula language, in which the graph's labelled nodes
are variables holding their data (`1 - o**2` above). It is right within `tolerance` (relative,
or absolute near 0). A miss is explained from the step's own numbers, and the step is applied
either way, so the pass goes on: `quiz.steps` is the ordinary stepper underneath, and `quiz.run()`
asks at the keyboard until the pass is done. `ask="upstream"` asks for each node's upstream
gradient d(root)/d(node) instead of the local derivatives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.cli.formula import FormulaError, parse_formula
from engine.core.graph import topological_order
from engine.core.protocols import tools
from engine.core.value import Value
from engine.stepper import Stepper
from engine.notation import parenthesised


@dataclass(frozen=True)
class Verdict:
    """How one answer went: `right`, the `expected` number, what was `given`, and the words."""

    right: bool
    expected: float
    given: float | None
    text: str

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


class Quiz:
    """A backward pass that asks before it shows: see the module docstring."""

    def __init__(self, root, *, ask: str = "local", tolerance: float = 1e-3):
        if ask not in ("local", "upstream"):
            raise ValueError(f"a quiz asks for 'local' derivatives or 'upstream' gradients, got ask={ask!r}")
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 < tolerance < 1:
            raise ValueError(f"tolerance is a relative error between 0 and 1, got {tolerance!r}")
        self.steps = Stepper(root)
        self.ask, self.tolerance = ask, float(tolerance)
        self.score = self.asked = 0
        self.verdicts: list[Verdict] = []
        self._edge = 0  # which edge of the next step is asked (ask="local")
        self._values = {node.label: node.data for node in topological_order(root) if node.label.isidentifier()}

    @property
    def done(self) -> bool:
        return self.steps.done or self.steps.peek() is None

    @property
    def question(self) -> str:
        """What the quiz asks now ("" once the pass is done)."""
        step = self.steps.peek()
        if step is None:
            return ""
        node, root = parenthesised(step.node_name), parenthesised(step.root_name)
        head = f"step {step.index} of {step.total}: {node} = {step.definition} = {step.data:.4g}"
        if self.ask == "upstream":
            return f"{head}\n  what is the upstream gradient d{root}/d{node}?"
        parent = parenthesised(step.edges[self._edge].parent_name)
        return f"{head}\n  what is the local derivative ∂{node}/∂{parent}?"

    def answer(self, given) -> Verdict:
        """Score `given` (a number, or a formula as text); apply the step once it is answered."""
        step = self.steps.peek()
        if step is None:
            raise ValueError("the quiz is over: every step of the pass is done")
        number = self._read(given)
        edge = step.edges[self._edge] if self.ask == "local" else None
        expected = edge.local_grad if edge else step.upstream
        right = number is not None and _close(number, expected, self.tolerance)
        self.asked += 1
        self.score += right
        verdict = Verdict(right, expected, number, self._words(step, edge, number, right))
        self.verdicts.append(verdict)
        self._edge += 1
        if self.ask == "upstream" or self._edge == len(step.edges):
            next(self.steps)
            self._edge = 0
        return verdict

    def run(self, read=input, show=print) -> int:
        """Ask at the keyboard until the pass is done; returns the score."""
        while not self.done:
            show(self.question)
            show(self.answer(read("> ")))
        show(f"done: {self.score} of {self.asked} right")
        return self.score

    def __repr__(self) -> str:
        where = self.question.splitlines()[0] if not self.done else "finished"
        return f"<backward quiz: {self.score} of {self.asked} right; {where}>"

    # -- scoring and explaining -------------------------------------------------------------

    def _read(self, given) -> float | None:
        if isinstance(given, (int, float)) and not isinstance(given, bool):
            return float(given)
        if not isinstance(given, str):
            raise TypeError(f"an answer is a number or a formula as text, got {type(given).__name__}")
        try:
            formula = parse_formula(given)
            unknown = [v for v in formula.variables if v not in self._values]
            if unknown:
                raise FormulaError(f"{', '.join(unknown)} is not a labelled node of this graph")
            value = formula.evaluate({v: self._values[v] for v in formula.variables})
        except (FormulaError, ValueError, ArithmeticError) as error:
            raise ValueError(f"can't read the answer {given!r}: {error}") from None
        return float(value.data if isinstance(value, Value) else value)

    def _words(self, step, edge, number, right: bool) -> str:
        node, root = parenthesised(step.node_name), parenthesised(step.root_name)
        score = f"(score {self.score} of {self.asked})"
        if edge is not None:
            parent = parenthesised(edge.parent_name)
            formula = f"{edge.formula} = " if edge.formula and edge.formula != f"{edge.local_grad:.4g}" else ""
            truth = f"∂{node}/∂{parent} = {formula}{edge.local_grad:.4g}"
            why = f"it is how {node} = {step.definition} changes with {parent}, from the forward pass alone"
        else:
            truth = f"d{root}/d{node} = {step.upstream:.4g}"
            why = ("1: the pass starts at the root" if step.index == 1 else
                   f"it is the sum of what the steps before added to {node}.grad: each user of {node} sends its "
                   "local derivative times its own upstream gradient")
        if right:
            return f"right: {truth} {score}"
        return f"not quite: you said {number:.4g}; {truth}, because {why} {score}"


def _close(a: float, b: float, tolerance: float) -> bool:
    if math.isinf(b) or math.isinf(a):
        return a == b
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance * 1e-3)


def backward_quiz(root, *, ask: str = "local", tolerance: float = 1e-3) -> Quiz:
    """`root.backward_steps(quiz=True)`: the pass as a quiz (see the module docstring)."""
    return Quiz(root, ask=ask, tolerance=tolerance)


tools["quiz"] = backward_quiz
