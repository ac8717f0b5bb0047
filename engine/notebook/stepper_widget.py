"""`StepperWidget`: a backward stepper (`root.backward_steps()`) as a live notebook widget.

Its state is the Python stepper itself. The step / back / reset buttons, the slider and the keys
(arrows, Home, End) send a message to Python, which moves the stepper and syncs what the page
shows; the next cell's `steps` is where the widget is. The other way round, a stepper has no
hook that tells anyone it moved, so after `next(steps)` in Python the widget catches up when
that cell finishes (IPython's post_run_cell event calls `refresh()`), or at once with
`widget.refresh()`; moving through the widget (`widget.step()`, `.back()`, `.reset()`,
`.go(n)`) syncs at once.

The graph is laid out once (every grad cell sized for a long number), so boxes never jump; each
move sends only the grad texts, their states and the step's text -- the text `str(step)` gives.

Predict, then reveal: given a quiz instead (`StepperWidget(o.backward_steps(quiz=True))`), the
widget asks the quiz's question before each step, and only an answer moves the pass on. The
answer (a number, or a formula in the graph's labels) goes to the quiz itself, so it is scored
within the same tolerance and a miss is explained in the same words as at the keyboard.
"""

from __future__ import annotations

import weakref
from importlib import resources

import anywidget
import traitlets

from engine.core.graph import topological_order
from engine.drawing.build import DrawOptions, build_drawing, render
from engine.drawing.player import node_details
from engine.drawing.style import PENDING, format_number
from engine.stepper import Stepper, StepperError

__all__ = ["StepperWidget"]


def _asset(name: str) -> str:
    return resources.files("engine.notebook").joinpath(name).read_text(encoding="utf-8")


class StepperWidget(anywidget.AnyWidget):
    """A live view of `steps` (an `engine.Stepper`), driving it: `StepperWidget(o.backward_steps())`.

    Synced traits: `position`, `total`, `grads` (per value, the grad text shown), `states` (per
    value p/a/d: pending, accumulating, final), `current` (the value the last step pushed back
    from, -1 before any step), `edges` and `updated` (what that step highlights), `title` (the
    stepper's echo), `text` (the last step's text), `error` (why the last move was refused), and
    once: `svg` and `nodes` (what clicking a box shows). For a quiz also: `quiz` (True),
    `question` (what it asks now, or the final score), `verdict` and `verdict_right` (how the last
    answer went), `score` and `asked`.
    """

    _esm = _asset("stepper_widget.js")
    _css = _asset("stepper_widget.css")

    svg = traitlets.Unicode("").tag(sync=True)
    nodes = traitlets.List().tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)
    grads = traitlets.List(traitlets.Unicode()).tag(sync=True)
    states = traitlets.Unicode("").tag(sync=True)
    current = traitlets.Int(-1).tag(sync=True)
    edges = traitlets.List(traitlets.Unicode()).tag(sync=True)
    updated = traitlets.List(traitlets.Int()).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    text = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    quiz = traitlets.Bool(False).tag(sync=True)
    question = traitlets.Unicode("").tag(sync=True)
    verdict = traitlets.Unicode("").tag(sync=True)
    verdict_right = traitlets.Bool(False).tag(sync=True)
    score = traitlets.Int(0).tag(sync=True)
    asked = traitlets.Int(0).tag(sync=True)

    def __init__(self, steps, *, digits: int = 4, **options):
        # A quiz (engine.Quiz, from the cli layer above this one) is known by what it has: the
        # stepper it drives and a way to answer.
        self._quiz = steps if isinstance(getattr(steps, "steps", None), Stepper) and hasattr(steps, "answer") else None
        if self._quiz is not None:
            steps = self._quiz.steps
        if not isinstance(steps, Stepper):
            raise TypeError("StepperWidget needs a Stepper (root.backward_steps()) or a quiz "
                            f"(root.backward_steps(quiz=True)), got {type(steps).__name__}")
        drawing_options = DrawOptions.from_keywords(
            "StepperWidget", {"digits": digits, **options}, allowed=("rankdir", "digits", "max_nodes", "cluster"))
        super().__init__(quiz=self._quiz is not None)
        self.steps = steps
        self.digits = drawing_options.digits
        self._order = topological_order(steps.root)
        self._index = {id(node): k for k, node in enumerate(self._order)}
        # Every grad cell is laid out for a long number, so no later text needs a new layout.
        wide = "grad " + format_number(-1.0 / 3.0e-10, self.digits)
        drawing = build_drawing(steps.root, drawing_options, grad_text=[wide] * len(self._order))
        svg = render(drawing.digraph, "svg").decode("utf-8")
        self._names = drawing.names
        self.svg = svg[svg.index("<svg"):]
        self.nodes = node_details(steps.root, self._order, drawing.names, self.digits)
        self.total = steps.total
        self.on_msg(self._on_message)
        self.refresh()
        _refresh_after_every_cell(self)

    def __repr__(self) -> str:
        return f"<StepperWidget of {self.steps!r}>"

    # -- moving the stepper through the widget ----------------------------------------------------

    def step(self) -> "StepperWidget":
        """`next(steps)`, then show it (past the last step, `error` says so)."""
        return self._move(lambda: next(self.steps))

    def back(self) -> "StepperWidget":
        """`steps.back()`, then show it."""
        return self._move(self.steps.back)

    def reset(self) -> "StepperWidget":
        """`steps.reset()`, then show it."""
        return self._move(self.steps.reset)

    def go(self, position: int) -> "StepperWidget":
        """Step forwards or back until `position` steps are done (0 to `total`)."""
        if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= self.total:
            raise ValueError(f"position must be an int from 0 to {self.total}, got {position!r}")

        def walk():
            while self.steps.position < position:
                next(self.steps)
            while self.steps.position > position:
                self.steps.back()

        return self._move(walk)

    def answer(self, given) -> "StepperWidget":
        """Answer the quiz's question (a number, or a formula as text), then show how it went.
        An answer the quiz cannot read is not scored: `error` says why."""
        if self._quiz is None:
            raise TypeError("this widget shows a stepper, not a quiz: StepperWidget(root.backward_steps(quiz=True))")
        try:
            self._quiz.answer(given)
        except (TypeError, ValueError) as exc:
            self.refresh()
            self.error = str(exc)
            return self
        return self.refresh()

    def _move(self, move) -> "StepperWidget":
        if self._quiz is not None:  # the quiz keeps its place in the pass: only answers move it
            self.refresh()
            self.error = "this is a quiz: answer the question to take the next step"
            return self
        try:
            move()
        except (StopIteration, StepperError) as exc:  # a refused move changes nothing: show why
            self.refresh()
            self.error = str(exc) or "backward is finished"
            return self
        self.refresh()
        return self

    def _on_message(self, _widget, content, _buffers) -> None:
        moves = {"step": self.step, "back": self.back, "reset": self.reset}
        move = content.get("move") if isinstance(content, dict) else None
        if move in moves:
            moves[move]()
        elif move == "answer" and isinstance(content.get("answer"), str) and self._quiz is not None:
            self.answer(content["answer"])
        elif move == "go" and isinstance(content.get("to"), int):
            self.go(max(0, min(self.total, content["to"])))

    # -- what the page shows ---------------------------------------------------------------------

    def refresh(self) -> "StepperWidget":
        """Show where the stepper is now (after it was moved in Python, not through the widget)."""
        rows = self.steps.table(self.digits).rows
        n = len(self._order)
        users_left = [0] * n
        for node in self._order:
            for parent in node.parents:
                users_left[self._index[id(parent)]] += 1
        grads, states = [PENDING] * n, ["p"] * n
        if rows:
            grads[-1], states[-1] = "grad " + format_number(rows[0].upstream, self.digits), "d"  # the root
        for row in rows:
            for edge in row.edges:
                j = self._index[id(edge.parent)]
                users_left[j] -= 1
                grads[j] = "grad " + format_number(edge.grad_after, self.digits)
                states[j] = "d" if users_left[j] == 0 else "a"
        with self.hold_sync():  # one message per move, not one per trait
            self.position = len(rows)
            self.grads, self.states = grads, "".join(states)
            if rows:
                k = self._index[id(rows[-1].node)]
                self.current = k
                self.edges = [f"e{k}"] + [f"e{k}_{i}" for i in range(len(rows[-1].edges))]
                self.updated = sorted({self._index[id(e.parent)] for e in rows[-1].edges})
                self.text = rows[-1].text(self.digits)
            else:
                self.current, self.edges, self.updated = -1, [], []
                root = self._names[self.steps.root]
                how = "Answer the question" if self._quiz else "Press step (or the right arrow)"
                self.text = f"Backprop starts at the output {root} with d{root}/d{root} = 1. {how} to push it back one node."
            self.title = repr(self.steps)
            self.error = ""
            if self._quiz is not None:
                self._show_quiz()
        return self

    def _show_quiz(self) -> None:
        quiz = self._quiz
        self.score, self.asked = quiz.score, quiz.asked
        self.question = quiz.question or f"done: {quiz.score} of {quiz.asked} right"
        last = quiz.verdicts[-1] if quiz.verdicts else None
        self.verdict, self.verdict_right = (str(last), last.right) if last else ("", False)


def _refresh_after_every_cell(widget: StepperWidget) -> None:
    """In IPython, refresh the widget after every cell, so `next(steps)` in a cell moves it."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    ref = weakref.ref(widget)

    def after_cell(*_result):
        alive = ref()
        if alive is None:
            shell.events.unregister("post_run_cell", after_cell)  # IPython iterates over a copy
        elif (alive.position != alive.steps.position or alive.title != repr(alive.steps)
              or (alive._quiz is not None and alive.asked != alive._quiz.asked)):  # answered in Python
            alive.refresh()

    shell.events.register("post_run_cell", after_cell)
