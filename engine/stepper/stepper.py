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

`next(steps)` applies a step and returns it (a `BackwardStep`); `peek()` shows the next one,
`back()` undoes the last exactly, `reset()` puts every grad back as it was, `table()` sums up,
`run()` does the rest.

The bookkeeping, in one paragraph: a stepper keeps its own record of the pass -- the pass
gradient of every node it has reached (filled by the same `chain_rule` that `backward()` runs),
the grads before the pass, and the grad it left in every node -- and before every move compares
the graph with that record. Any grad or value it did not write (`backward()`, an optimizer, another
stepper, your own `node.grad = 5`) makes it stale: its move raises `StaleStepperError` naming the
node, and it writes nothing more until `reset()`. Starting a pass (a new stepper, its first step,
`backward()`, `zero_grad()`) first puts back every part-way stepper on a shared node that still
holds its graph as it left it, newest first. Nothing depends on addresses or set order, so a
program gives the same gradients in every run and process.
"""

from __future__ import annotations

import weakref

from engine.core import graph
from engine.core.value import Value
from engine.notation import local_formulas, parenthesised, written
from engine.stepper.text import BackwardStep, StepTable, edge_steps


class StepperError(RuntimeError):
    """A stepper cannot make the move asked of it (e.g. `back()` before any step)."""


class StaleStepperError(StepperError):
    """Something other than this stepper changed a gradient or value in its graph."""


# Every stepper made, oldest first (weak references: a stepper nobody holds has nothing to protect).
_steppers: list = []


class Stepper:
    """`backward()` one node at a time, made by `root.backward_steps()` (the module docstring says
    how it works). `put_back=False` leaves other part-way steppers alone: for a tool that puts
    every grad back when it is done, so that the learner's own stepper can go on afterwards."""

    def __init__(self, root, *, put_back: bool = True):
        if not isinstance(root, Value):
            raise TypeError(f"backward_steps needs a Value root, got {type(root).__name__}")
        self.root = root
        self._order = graph.topological_order(root)
        self._names = graph.node_names(self._order)
        self.root_name = self._names[root]
        self._index = {node: k for k, node in enumerate(self._order)}
        self._interior = [node for node in reversed(self._order) if node.parents]  # in backward's order
        self.total = len(self._interior)
        self._call = f"{parenthesised(self.root_name)}.backward_steps()"
        self._put_back = put_back
        if put_back:
            put_back_unfinished(self._order, f"a new stepper {self._call}")
        self._data = [node.data for node in self._order]
        self._rewind()
        _steppers[:] = [ref for ref in _steppers if ref() is not None]
        _steppers.append(weakref.ref(self))

    def _rewind(self) -> None:
        """Back to before the first step, owning nothing: the grads now in the graph are `before`."""
        self._before = [node.grad for node in self._order]
        self._left = list(self._before)  # the grad this stepper has left in every node
        self._pass: dict = {}  # d(root)/d(node) of this pass, for every node reached so far
        self._done: list[BackwardStep] = []
        self._undo: list[dict] = []  # per step: the pass entries it changed, as they were before
        self._started = False
        self._stale = None  # what changed, once this stepper may not move any more

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
        stale, root = self._stale or self._changes(), parenthesised(self.root_name)
        if stale:
            return f"<stale backward stepper for {root}: {stale}; reset() starts it again>"
        if self.done:
            return f"<backward stepper for {root}: finished, all {self.total} steps done>"
        node = self._interior[len(self._done)]
        return (f"<backward stepper for {root}: {len(self._done)} of {self.total} steps done; next: step "
                f"{len(self._done) + 1}, {parenthesised(self._names[node])} = {self._describe(node)[0]}>")

    def table(self, digits: int = 4) -> StepTable:
        """The steps done so far: a readable table, with the `BackwardStep` records as `.rows`."""
        return StepTable(tuple(self._done), self.total, self.root_name, digits)

    # -- moving ---------------------------------------------------------------------------------

    def __iter__(self):
        return self

    def __next__(self) -> BackwardStep:
        """Apply the next step and return it. Past the last step: StopIteration, saying so."""
        self._check()
        if self.done:
            raise StopIteration(
                f"backward is finished: all {self.total} steps of {self._call} are done, and the grads are "
                f"what {parenthesised(self.root_name)}.backward() leaves (back() undoes the last step, reset() all)")
        if not self._started:
            self._start()
            if not self.total:  # the root is a leaf: starting (adding 1 to its grad) was all there was
                raise StopIteration(f"backward is finished: {parenthesised(self.root_name)} is a leaf, so there are no steps")
        return self._apply()

    def run(self) -> list[BackwardStep]:
        """Apply every step that is left, checking the graph once, and return them."""
        self._check()
        if not self._started:
            self._start()
        return [self._apply() for _ in range(self.total - len(self._done))]

    def peek(self) -> BackwardStep | None:
        """The next step, computed but not applied (None once backward is finished)."""
        self._check()
        if self.done or not self.total:
            return None
        return self._compute(len(self._done), self._pass if self._started else {self.root: 1.0})

    def back(self) -> "Stepper":
        """Undo the last step, restoring every grad it changed bit for bit (undoing the first
        step undoes the start too). Returns the stepper; `peek()` then shows the undone step."""
        self._check()
        if not self._started:
            raise StepperError(f"nothing to undo: {self._call} has not taken a step yet")
        if len(self._done) <= 1:
            self._write(self._before)
            self._rewind()
            return self
        self._done.pop()
        for node, earlier in self._undo.pop().items():
            if earlier is None:
                self._pass.pop(node, None)  # (a step with upstream 0 added nothing)
            else:
                self._pass[node] = earlier
        self._write_pass()
        return self

    def reset(self) -> "Stepper":
        """Rewind to before the first step. If the graph still holds what this stepper left, its
        grads go back to what they were before it started; a stale stepper (or one that has not
        started) writes nothing and starts again from the graph as it is. Returns the stepper."""
        if self._started and not (self._stale or self._changes()):
            self._write(self._before)
        self._rewind()
        self._data = [node.data for node in self._order]
        return self

    # -- the pass itself ------------------------------------------------------------------------

    def _start_grads(self) -> list:
        """The grads as `backward()` starts: interior nodes 0, and 1 added to the root's (last) grad."""
        grads = [0.0 if node.parents else g for node, g in zip(self._order, self._before)]
        grads[-1] += 1.0
        return grads

    def _start(self) -> None:
        if self._put_back:
            put_back_unfinished(self._order, f"another stepper ({self._call})", keep=self)
        self._before = [node.grad for node in self._order]
        self._pass = {self.root: 1.0}
        self._started = True
        self._write(self._start_grads())

    def _apply(self) -> BackwardStep:
        position = len(self._done)
        node = self._interior[position]
        step = self._compute(position, self._pass)
        undo = {parent: self._pass.get(parent) for parent in node.parents}
        changed = {parent: g for parent, g in undo.items() if g is not None}
        changed[node] = self._pass.get(node, 0.0)
        graph.chain_rule([node], changed)  # one step of the very loop backward() runs
        graph.refuse_nan_gradients(changed, f"step {position + 1} of {self._call}")  # as backward() does
        self._pass.update((parent, changed[parent]) for parent in node.parents if parent in changed)
        self._undo.append(undo)
        self._done.append(step)
        self._write_pass()
        return step

    def _write_pass(self) -> None:
        """Leave in the graph what `backward()` leaves: an interior node holds its pass gradient,
        a leaf what it held before plus its pass gradient."""
        get = self._pass.get
        if self._started:
            self._write([get(node, 0.0) if node.parents else before + get(node, 0.0)
                         for node, before in zip(self._order, self._before)])

    def _write(self, grads) -> None:
        for node, g in zip(self._order, grads):
            node.grad = g
        self._left = list(grads)

    def _compute(self, position: int, pass_grads: dict) -> BackwardStep:
        """Step `position` (0-based) from the pass so far, without applying it."""
        node = self._interior[position]
        upstream = pass_grads.get(node, 0.0)
        definition, formulas = self._describe(node)
        before = {p: self._before[self._index[p]] for p in node.parents if not p.parents}
        edges = edge_steps(node, upstream, pass_grads, lambda p, g: before[p] + g if p in before else g,
                           self._names, formulas)
        return BackwardStep(position + 1, self.total, node, self._names[node], self.root_name, upstream,
                            edges, definition, node.data)

    def _describe(self, node) -> tuple[str, list[str]]:
        parents = [parenthesised(self._names[p]) for p in node.parents]  # names, as the step's text shows them
        return written(node.op, parents, max_terms=4), local_formulas(node.op, parents, parenthesised(self._names[node]))

    # -- noticing that something else changed the graph ------------------------------------------

    def _check(self) -> None:
        """Raise StaleStepperError if the graph no longer holds what this stepper left there."""
        if not self._stale:
            self._stale = self._changes()
        if self._stale:
            raise StaleStepperError(
                f"this {self._call} stepper is stale: {self._stale}. Going on would mix its numbers with "
                "someone else's and print wrong gradients, so it stops here: reset() starts it again from "
                "the graph as it is, or make a new stepper.")

    def _changes(self) -> str | None:
        """What in the graph differs from what this stepper left there (None if nothing does).
        Before its first step a stepper owns no gradients, so only values count then."""
        for k, node in enumerate(self._order):
            name = parenthesised(self._names[node])
            if self._started and not _same(node.grad, self._left[k]):
                return (f"{self._where()}, something other than this stepper changed a gradient in its graph "
                        f"({name}.grad is {node.grad:.6g}; this stepper left it at {self._left[k]:.6g})")
            if not _same(node.data, self._data[k]):
                return (f"{self._where()}, a value in its graph changed ({name}.data is {node.data:.6g}; it was "
                        f"{self._data[k]:.6g} when the stepper was made): run the forward pass again")
        return None

    def _where(self) -> str:
        return ("before its first step" if not self._started else
                f"after its step {len(self._done)} of {self.total}" if self._done else "after it started")


def put_back_unfinished(nodes, by: str, keep: Stepper | None = None) -> None:
    """Undo the part-way pass of every stepper (but `keep`) that shares a node with `nodes` and
    still holds its graph as it left it, newest first, and make it stale, saying that `by` (e.g.
    "o.backward()") started a new pass. Costs nothing when no stepper is part-way through."""
    unfinished = [s for s in (ref() for ref in reversed(_steppers))
                  if s is not None and s is not keep and s._started and not s.done and not s._stale]
    if not unfinished:
        return
    ours = set(nodes)
    for other in unfinished:
        if ours.isdisjoint(other._order) or other._changes():
            continue  # not this graph; or something else already wrote there, and it is not ours to undo
        other._write(other._before)
        other._stale = (f"{other._where()}, {by} started a new pass on its graph and first put back the gradients "
                        "this one had changed, so that the graph holds one backward pass, not one and a half")


def _same(a: float, b: float) -> bool:
    """a and b are the same number: equal, or both NaN."""
    return a == b or (a != a and b != b)
