"""Stepping through backward by hand: `root.backward_steps()` returns a `Stepper`.

A Stepper is `backward()` one node at a time, to drive from a REPL:

    >>> from engine import Value
    >>> x = Value(3.0, "x")
    >>> f = x * x + x
    >>> f.label = "f"
    >>> steps = Stepper(f)
    >>> steps
    <backward stepper for f: 0 of 2 steps done; next: step 1, f = #1 + x>
    >>> print(next(steps))
    step 1 of 2: f = #1 + x = 12
      f -> #1:  local ∂f/∂#1 = 1;  upstream df/df = 1;  adds 1 × 1 = 1;  #1.grad: 0 → 1
      f -> x:   local ∂f/∂x = 1;  upstream df/df = 1;  adds 1 × 1 = 1;  x.grad: 0 → 1
    >>> print(next(steps))
    step 2 of 2: #1 = x*x = 9
      #1 -> x:  local ∂#1/∂x = x = 3;  upstream df/d#1 = 1;  adds 3 × 1 = 3;  x.grad: 1 → 4
      #1 -> x:  local ∂#1/∂x = x = 3;  upstream df/d#1 = 1;  adds 3 × 1 = 3;  x.grad: 4 → 7

Notation: ∂ marks a local derivative (how a node changes with one of its inputs, known from the
forward pass alone); d marks a total derivative of the root (what `grad` holds once backward is
through with a node). Each edge line shows the local derivative with its formula, the upstream
gradient, their product (the contribution, `=` only when the printed numbers multiply to exactly
the printed product, `≈` otherwise), and the input's running total.

`next(steps)` applies a step and returns it (a `BackwardStep`); `peek()` shows the next step
without applying it; `back()` undoes the last step exactly; `reset()` puts every gradient back as
it was before the stepper started; `table()` sums up the steps done so far.

The rules:

* The first step starts the pass the way `backward()` does: every interior node's grad is set to
  0 and the root's grad gets 1 added. Exhausting the stepper leaves exactly what `backward()`
  leaves, so leaves accumulate across passes, stepped or not. As in `backward()`, a node whose
  upstream gradient is 0 passes nothing on (its step says so).
* A stepper part-way through owns its graph's gradients. When anything else changes a gradient or
  a value in that graph (a `backward()`, `zero_grad()`, an optimizer step, another stepper, code
  assigning to `.grad`), the stepper is stale: its next move raises `StaleStepperError`, naming
  what happened, instead of adding to numbers that are no longer its own. `reset()` revives it.
* Starting over: a new stepper made while an earlier one on the same graph is part-way through
  first puts back the gradients the earlier one changed (and makes it stale), so restarting gives
  one pass, not one and a half.
"""

from __future__ import annotations

import weakref

from engine import modes
from engine.graph import node_names, topological_order
from engine.steps import BackwardStep, EdgeStep, StepTable, describe, parenthesised
from engine.value import Value


class StepperError(RuntimeError):
    """A stepper cannot make the move asked of it (e.g. `back()` before any step)."""


class StaleStepperError(StepperError):
    """Something other than this stepper changed a gradient or value in its graph."""


# -- the stepper ----------------------------------------------------------------------------------

# Every stepper alive, so that a new one can find an earlier one part-way through its graph. A
# WeakSet: a stepper nobody holds any more has nothing to protect.
_steppers: weakref.WeakSet = weakref.WeakSet()


class Stepper:
    """`backward()` one node at a time: an iterator of `BackwardStep`s with `peek()`, `back()`,
    `reset()`, `done` and `table()`. Made by `root.backward_steps()`; see the module docstring
    for how it starts, finishes, and notices that something else changed its graph.

    `put_back=False` leaves an earlier stepper that is part-way through the same graph alone: for
    a tool that puts every grad back when it is done (the player does), so that the learner's own
    stepper can go on afterwards.
    """

    def __init__(self, root, *, put_back: bool = True):
        if not isinstance(root, Value):
            raise TypeError(f"backward_steps needs a Value root, got {type(root).__name__}")
        order = topological_order(root)
        self.root = root
        self._order = order
        self._names = node_names(order)
        self.root_name = self._names[id(root)]
        self._index = {id(node): k for k, node in enumerate(order)}
        self._interior = [node for node in reversed(order) if node.parents]  # in backward's order
        self.total = len(self._interior)
        self._call = f"{parenthesised(self.root_name)}.backward_steps()"
        if put_back:
            put_back_unfinished(order, f"a new stepper {self._call}")
        self._before = [node.grad for node in order]  # for reset()
        self._data = [node.data for node in order]
        self._grads = list(self._before)  # what this stepper has left in every node's grad
        self._done: list[BackwardStep] = []
        self._started = False
        self._stale = None  # (what changed, what to do) once this stepper may not move any more
        self._writes = modes.grad_writes  # the write counter when it last checked its graph
        _steppers.add(self)

    # -- where it is --------------------------------------------------------------------------

    @property
    def position(self) -> int:
        """How many steps have been applied."""
        return len(self._done)

    @property
    def done(self) -> bool:
        """True once every step is applied: the grads are what `backward()` leaves."""
        return self._started and len(self._done) == self.total

    def __repr__(self) -> str:
        stale = self._stale or self._changes(range(len(self._order)))
        if stale:
            return f"<stale backward stepper for {parenthesised(self.root_name)}: {stale[0]}; reset() starts it again>"
        root = parenthesised(self.root_name)
        if self.done:
            return f"<backward stepper for {root}: finished, all {self.total} steps done>"
        node = self._interior[len(self._done)]
        name = parenthesised(self._names[id(node)])
        return (f"<backward stepper for {root}: {len(self._done)} of {self.total} steps done; "
                f"next: step {len(self._done) + 1}, {name} = {self._describe(node)[0]}>")

    def table(self, digits: int = 4) -> StepTable:
        """The steps done so far: a readable table, with the `BackwardStep` records as `.rows`."""
        return StepTable(self._done, self.total, self.root_name, digits)

    # -- moving ---------------------------------------------------------------------------------

    def __iter__(self):
        return self

    def __next__(self) -> BackwardStep:
        """Apply the next step and return it. Past the last step: StopIteration, saying so."""
        if self.done:
            raise StopIteration(
                f"backward is finished: all {self.total} steps of {self._call} are done, and the grads are "
                f"what {parenthesised(self.root_name)}.backward() leaves (back() undoes the last step, reset() all)"
            )
        if not self._started:
            self._check(None)
            self._start()
            if not self.total:  # the root is a leaf: starting (adding 1 to its grad) was all there was
                self._noted()
                root = parenthesised(self.root_name)
                raise StopIteration(f"backward is finished: {root} is a leaf, so there are no steps")
        else:
            self._check(self._touched(self._interior[len(self._done)]))
        step = self._compute(len(self._done), self._grads)
        for edge in step.edges:
            edge.parent.grad = edge.grad_after
            self._grads[self._index[id(edge.parent)]] = edge.grad_after
        self._done.append(step)
        self._noted()
        return step

    def peek(self) -> BackwardStep | None:
        """The next step, computed but not applied (None once backward is finished)."""
        if self.done:
            return None
        if not self._started:
            self._check(None)
            return self._compute(0, self._started_grads())
        self._check(self._touched(self._interior[len(self._done)]))
        return self._compute(len(self._done), self._grads)

    def back(self) -> "Stepper":
        """Undo the last step, restoring every grad it changed bit for bit. Returns the stepper
        (whose echo says where it is now); `peek()` then shows the step that was undone.

        Undoing the first step also undoes the start of the pass: the grads are then exactly
        as they were before the stepper started.
        """
        if not self._started:
            raise StepperError(f"nothing to undo: {self._call} has not taken a step yet")
        if len(self._done) <= 1:
            self._check(None)
            self._done.clear()
            self._restore(self._before)
            self._started = False
        else:
            self._check(self._touched(self._done[-1].node))
            undone = self._done.pop()
            for edge in reversed(undone.edges):  # reversed: a parent on two edges (x*x) ends at its first before
                edge.parent.grad = edge.grad_before
                self._grads[self._index[id(edge.parent)]] = edge.grad_before
        self._noted()
        return self

    def reset(self) -> "Stepper":
        """Put every grad in the graph back as it was before this stepper started (also after
        something else changed them), and rewind to before the first step. Returns the stepper."""
        self._restore(self._before)
        self._done.clear()
        self._started = False
        self._stale = None
        self._noted()
        return self

    # -- the pass itself ------------------------------------------------------------------------

    def _started_grads(self) -> list:
        """The grads just after the pass starts, as `backward()` starts it: interior nodes 0,
        and 1 added to the root's grad (the root is last in topological order)."""
        grads = [0.0 if node.parents else g for node, g in zip(self._order, self._grads)]
        grads[-1] += 1.0
        return grads

    def _start(self) -> None:
        self._restore(self._started_grads())
        self._started = True

    def _restore(self, grads) -> None:
        for node, g in zip(self._order, grads):
            node.grad = g
        self._grads = list(grads)

    def _compute(self, position: int, grads) -> BackwardStep:
        """Step `position` (0-based) with the graph's grads at `grads`, without applying it."""
        node = self._interior[position]
        upstream = grads[self._index[id(node)]]
        definition, formulas = self._describe(node)
        running = {}  # a parent on several edges (x*x) accumulates across them
        edges = []
        for parent, local, formula in zip(node.parents, node.local_grad(), formulas):
            j = self._index[id(parent)]
            before = running.get(j, grads[j])
            if upstream == 0.0:  # as in backward(): nothing flows on, so an inf slope makes no NaN
                contribution, after = 0.0, before
            else:
                contribution = local * upstream
                after = before + contribution  # exactly backward's `parent.grad += local * upstream`
            running[j] = after
            edges.append(EdgeStep(parent, self._names[id(parent)], local, contribution, before, after, formula))
        return BackwardStep(position + 1, self.total, node, self._names[id(node)], self.root_name, upstream,
                            tuple(edges), definition, node.data)

    def _describe(self, node) -> tuple[str, list[str]]:
        parents = [parenthesised(self._names[id(p)]) for p in node.parents]
        return describe(node, parents, parenthesised(self._names[id(node)]))

    # -- noticing that something else changed the graph ------------------------------------------

    def _touched(self, node) -> list[int]:
        """The nodes whose grads a step at `node` reads or writes."""
        return [self._index[id(node)]] + [self._index[id(p)] for p in node.parents]

    def _check(self, touched) -> None:
        """Raise StaleStepperError if the graph no longer holds what this stepper left there.

        Every node is compared when anything wrote gradients anywhere since the last check (the
        counter in `engine.modes` moved) or when `touched` is None; otherwise only the nodes the
        move will read or write, so a step costs no more than the step itself.
        """
        if not self._stale:
            moved = modes.grad_writes != self._writes
            self._stale = self._changes(range(len(self._order)) if moved or touched is None else touched)
        if self._stale:
            what, remedy = self._stale
            raise StaleStepperError(
                f"this {self._call} stepper is stale: {what}. Going on would mix its numbers with theirs and "
                f"print wrong gradients, so it stops here: {remedy}, or start a new stepper."
            )
        self._writes = modes.grad_writes

    def _changes(self, indices) -> tuple[str, str] | None:
        """What changed among the nodes at `indices` since this stepper last left them, and what
        to do about it; None if nothing did."""
        for k in indices:
            node = self._order[k]
            name = parenthesised(self._names[id(node)])
            if not _same(node.grad, self._grads[k]):
                what = f"{name}.grad is {node.grad:.6g}; this stepper left it at {self._grads[k]:.6g}"
                return self._what_changed("gradients", what), "reset() puts back the gradients from before it started"
            if not _same(node.data, self._data[k]):
                what = f"{name}.data is {node.data:.6g}; it was {self._data[k]:.6g} when the stepper was made"
                return self._what_changed("values", what), "run the forward pass again and step the new graph"
        return None

    def _what_changed(self, kind: str, what: str) -> str:
        writes = modes.grad_writes - self._writes
        if writes == 1:
            who = f"{modes.last_grad_writer} changed {kind} in its graph"
        elif writes > 1:
            who = f"{kind} in its graph were changed (the last of {writes} writes since: {modes.last_grad_writer})"
        else:
            who = f"code outside gradwalk's backward, steppers and optimizers changed {kind} in its graph"
        return f"{self._where()}, {who} ({what})"

    def _where(self) -> str:
        if not self._started:
            return "before its first step"
        return f"after its step {len(self._done)} of {self.total}" if self._done else "after it started"

    def _noted(self) -> None:
        """Tell `engine.modes` that this stepper wrote gradients, and remember the counter."""
        modes.note_grad_write(f"another stepper ({self._call})")
        self._writes = modes.grad_writes


def put_back_unfinished(nodes, by: str) -> None:
    """Undo the part-way pass of every stepper that shares a node with `nodes` and still holds
    its graph as it left it, and make that stepper stale, saying that `by` (e.g. "o.backward()")
    did it. Called by a new stepper, so that starting over gives one pass, not one and a half.

    Costs nothing when no stepper is part-way through (the usual case).
    """
    unfinished = [s for s in _steppers if s._started and not s.done and not s._stale]
    if not unfinished:
        return
    ours = {id(node) for node in nodes}
    for other in unfinished:
        if not any(id(node) in ours for node in other._order):
            continue
        if other._changes(range(len(other._order))):
            continue  # something else already wrote there: it is stale, and not ours to undo
        other._stale = (
            f"{other._where()}, {by} started a new pass on its graph and first put back the gradients this "
            f"one had changed, so that the graph holds one backward pass, not one and a half",
            "reset() starts this one again",
        )
        other._restore(other._before)
        modes.note_grad_write(by)


def _same(a: float, b: float) -> bool:
    """a and b are the same number: equal, or both NaN."""
    return a == b or (a != a and b != b)
