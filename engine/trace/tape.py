"""Trace once, replay batched: one sample's graph recorded as a tape, then run for a whole batch.

Training builds the same graph for every sample; only the numbers differ. `trace(f, *inputs)`
calls `f` once on Values and records what it did as a `Tape`: a list of steps, each an op and the
positions of its operands on the tape, operands always before the steps that use them. That is
all it takes to compute `f` again for other inputs. `tape.replay(batch)` runs every step once for
the whole batch, with a numpy array holding one node's value for every sample, and the replay's
`backward()` applies the chain rule the same way, one array of gradients per node: a scalar graph
has become a tensor program.

    >>> from engine import trace
    >>> tape = trace(lambda x, y: (x * y + 1.0).tanh(), 0.5, -1.0)
    >>> print(tape)
    inputs x0, x1
    t0 = x0*x1
    t1 = t0 + 1
    t2 = tanh(t1)
    output t2
    >>> run = tape.replay([[0.5, -1.0], [2.0, 0.0], [1.0, 1.0]])   # three samples
    >>> run.outputs.round(4).tolist()
    [0.4621, 0.7616, 0.964]
    >>> run.backward().round(4).tolist()    # d output / d (x, y) for each sample
    [[-0.7864, 0.3932], [0.0, 0.8399], [0.0707, 0.0707]]

What a tape records, and what it cannot:

* Each op, and which node each operand came from. A number folded into an op (`x * 3`) is part
  of the op (`*3`), so it replays as it was.
* Leaves that are not inputs (a model's parameters, constants) are shared by every sample. A
  replay reads their `data` when it starts, so after an optimizer step the next replay uses the
  new values; `backward()` adds each one's gradient, summed over the batch, to its `grad`.
* One path through the Python code. Branching on a Value (`if x:`) raises TypeError while
  tracing. Reading `x.data` cannot be noticed: a branch on it, or a number computed from it (a
  constant such as `max(v.data for v in row)`, a `Value(x.data)`, nodes made under `no_grad()`),
  is frozen at the example's value and replayed for every sample. Write such choices with ops
  (`relu`, `abs`, ...), or don't trace that function.

Replay takes everything from the op definitions in `engine.core.table`: the forward function on arrays
(`array_forward`; `sum` and `dot` use their forward, written with `+` and `*`) and the local
derivatives, which are written so that they work on arrays as on floats. A domain error in some
sample (log of a negative number, say) raises the same error the node-by-node path raises, naming
the sample; a gradient that turns into NaN raises FloatingPointError naming the op. Replaying
needs numpy: `pip install 'gradwalk[fast]'`.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

from engine.core import modes
from engine.core.graph import topological_order
from engine.core.real import as_float
from engine.core.value import Value
from engine.notation import parenthesised, written
from engine.trace.replay import Plan, Replay

_data = attrgetter("data")


@dataclass(frozen=True)
class TapeStep:
    """One recorded node: `op` applied to the tape's nodes at the positions `parents`."""

    op: object
    parents: tuple[int, ...]


def trace(f, *example_inputs) -> "Tape":
    """Record `f`, a function of Values, as a `Tape` that can be replayed for a whole batch.

    `f` is called once, on new leaf Values `x0, x1, ...` holding `example_inputs` (numbers, or
    Values whose `data` is used), and must return a Value or a list of Values. Leaves it reaches
    that are not inputs (parameters, constants) become the tape's shared `leaves`.

    While `f` runs, `bool()` of a Value raises TypeError: a branch on a Value would be recorded
    for the example only. (A branch on `.data` cannot be noticed; see the module docstring.)

        >>> from engine import Value, trace
        >>> w = Value(3.0, "w")
        >>> tape = trace(lambda x: (x * w).relu(), 1.0)
        >>> tape.replay([[1.0], [-2.0], [0.5]]).outputs.tolist()
        [3.0, 0.0, 1.5]
    """
    if not callable(f):
        raise TypeError(f"trace records a function of Values, got {type(f).__name__} {f!r}")
    if not modes.recording:
        raise RuntimeError("trace records the graph f builds, so it can't run inside no_grad()")
    inputs = []
    for i, x in enumerate(example_inputs):
        number = x.data if isinstance(x, Value) else as_float(x, f"trace's example input {i}")
        inputs.append(Value(number, f"x{i}"))
    with modes.tracing_on():
        result = f(*inputs)
    single = isinstance(result, Value)
    outputs = [result] if single else list(result) if isinstance(result, (list, tuple)) else None
    if not outputs or not all(isinstance(v, Value) for v in outputs):
        raise TypeError(f"a traced function must return a Value or a non-empty list of Values, got {result!r:.80}")
    return Tape(inputs, outputs, single)


class Tape:
    """A recorded function of Values: `inputs`, shared `leaves`, `steps` and `outputs`.

    Node positions on the tape run inputs first, then leaves, then one per step, so that
    `steps[k]` is the node at position `len(inputs) + len(leaves) + k`; each step's `parents`
    are positions. `outputs` are the positions of the results. The recorded example graph stays
    available: `example_outputs` (its result Values) and `draw()`.

    `replay(batch)` runs the tape for every sample of `batch` at once (see `Replay`).
    """

    def __init__(self, inputs, outputs, single: bool = True):
        position = {id(x): i for i, x in enumerate(inputs)}
        leaves, interior = [], []
        for node in _nodes_in_order(outputs):
            if id(node) in position:
                continue
            (interior if node.parents else leaves).append(node)
        for node in leaves:
            position[id(node)] = len(position)
        steps = []
        for node in interior:
            _check_replayable(node.op)
            position[id(node)] = len(position)
            steps.append(TapeStep(node.op, tuple(position[id(p)] for p in node.parents)))
        self.inputs = list(inputs)
        self.leaves = leaves
        self.steps = steps
        self.outputs = [position[id(v)] for v in outputs]
        self.example_outputs = list(outputs)
        self.single = single
        self._plans = {}
        self._position = position  # by id: the example graph, alive through example_outputs

    def position(self, node) -> int:
        """Where `node`, a node of the recorded example graph, is on the tape."""
        found = self._position.get(id(node))
        if found is None or not isinstance(node, Value):
            raise ValueError(f"{node!r:.60} is not a node of this tape's recorded graph")
        return found

    def __len__(self) -> int:
        return len(self.inputs) + len(self.leaves) + len(self.steps)

    def __repr__(self) -> str:
        return (f"<Tape: {len(self.inputs)} inputs, {len(self.leaves)} shared leaves, {len(self.steps)} steps, "
                f"{len(self.outputs)} output{'s' if len(self.outputs) != 1 else ''}>")

    def __str__(self) -> str:
        """The tape as a little program: one line per step, `t3 = tanh(t2)`."""
        names = self._names()
        lines = [f"inputs {', '.join(names[:len(self.inputs)])}"]
        if self.leaves:
            lines.append(f"leaves {', '.join(names[len(self.inputs):len(self.inputs) + len(self.leaves)])}")
        first = len(self.inputs) + len(self.leaves)
        for k, step in enumerate(self.steps):
            lines.append(f"{names[first + k]} = {written(step.op, [parenthesised(names[p]) for p in step.parents])}")
        lines.append(f"output{'s' if len(self.outputs) != 1 else ''} {', '.join(names[p] for p in self.outputs)}")
        return "\n".join(lines)

    def _names(self) -> list[str]:
        names = [f"x{i}" for i in range(len(self.inputs))]
        names += [leaf.label or f"c{j}" for j, leaf in enumerate(self.leaves)]
        return names + [f"t{k}" for k in range(len(self.steps))]

    def draw(self, path=None, *, output: int = 0, **options):
        """A picture of the recorded example graph of output `output` (see `engine.draw_dot` for the options)."""
        return self.example_outputs[output].draw(path, **options)

    def replay(self, batch, *, grouped: bool = True):
        """Run the tape forward for every sample of `batch` (rows of input numbers) at once.

        Returns a `Replay` holding the outputs; call its `backward()` for the gradients.
        `grouped=False` runs every step on its own (one array per node), the plain form that
        the grouped one must agree with.
        """
        plan = self._plans.get(grouped)
        if plan is None:
            plan = self._plans[grouped] = Plan(self, grouped)

        return Replay(self, plan, batch)


def _nodes_in_order(outputs) -> list:
    """Every node the outputs depend on, each after its parents (the outputs' orders, merged)."""
    seen, order = set(), []
    for out in outputs:
        for node in topological_order(out):
            if id(node) not in seen:
                seen.add(id(node))
                order.append(node)
    return order


def _check_replayable(op) -> None:
    if op.arity is not None and op.array_forward is None:
        base = op.folded_from[0] if op.folded_from else op
        raise TypeError(f"the op {base.name!r} has no array_forward, so a tape using it can't be replayed: "
                        f"define it with define_op(..., array_forward=<the same function on numpy arrays>)")
