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
    t0 = x0 * x1
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

Replay takes everything from the op definitions in `engine.ops`: the forward function on arrays
(`array_forward`; `sum` and `dot` use their forward, written with `+` and `*`) and the local
derivatives, which are written so that they work on arrays as on floats. A domain error in some
sample (log of a negative number, say) raises the same error the node-by-node path raises, naming
the sample; a gradient that turns into NaN raises FloatingPointError naming the op. Replaying
needs numpy: `pip install 'gradwalk[fast]'`.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

from engine import modes
from engine.graph import topological_order
from engine.op import FoldedOp
from engine.value import Value, as_float

_EXTRA = "fast"
_data = attrgetter("data")


def require_numpy():
    """numpy, or an ImportError naming the extra that installs it."""
    try:
        import numpy
    except ImportError:
        raise ImportError(f"replaying a tape computes with numpy, which is not installed: "
                          f"pip install 'gradwalk[{_EXTRA}]' (or pip install numpy)") from None
    return numpy


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
    previous = modes.tracing
    modes.tracing = True
    try:
        result = f(*inputs)
    finally:
        modes.tracing = previous
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
            args = [names[p] for p in step.parents]
            op = step.op
            if isinstance(op, FoldedOp):
                c = f"{op.constant:g}"
                text = f"{args[0]} {op.base.name} {c}" if op.position == 1 else f"{c} {op.base.name} {args[0]}"
            elif op.arity == 2:
                text = f"{args[0]} {op} {args[1]}"
            else:
                text = f"{op}({', '.join(args)})"
            lines.append(f"{names[first + k]} = {text}")
        lines.append(f"output{'s' if len(self.outputs) != 1 else ''} {', '.join(names[p] for p in self.outputs)}")
        return "\n".join(lines)

    def _names(self) -> list[str]:
        names = [f"x{i}" for i in range(len(self.inputs))]
        names += [leaf.label or f"c{j}" for j, leaf in enumerate(self.leaves)]
        return names + [f"t{k}" for k in range(len(self.steps))]

    def draw(self, path=None, *, output: int = 0, **options):
        """A picture of the recorded example graph of output `output` (see `engine.draw`)."""
        from engine.drawing import draw

        return draw(self.example_outputs[output], path, **options)

    def replay(self, batch, *, grouped: bool = True) -> "Replay":
        """Run the tape forward for every sample of `batch` (rows of input numbers) at once.

        Returns a `Replay` holding the outputs; call its `backward()` for the gradients.
        `grouped=False` runs every step on its own (one array per node), the plain form that
        the grouped one must agree with.
        """
        plan = self._plans.get(grouped)
        if plan is None:
            plan = self._plans[grouped] = _Plan(self, grouped)
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
    base = op.base if isinstance(op, FoldedOp) else op
    if base.arity is not None and base.array_forward is None:
        raise TypeError(f"the op {base.name!r} has no array_forward, so a tape using it can't be replayed: "
                        f"define it with define_op(..., array_forward=<the same function on numpy arrays>)")


# -- the replay plan -------------------------------------------------------------------------------
# Replay keeps values in "blocks": block 0 holds the inputs (one row per input, one column per
# sample), block 1 the shared leaves (one row each, a single column: the same for every sample),
# and every further block the nodes of one group of steps, a row per node. A group is a set of
# steps with the same op at the same depth (longest distance from a leaf), so none depends on
# another and the op runs once for all of them: a layer's 16 relu nodes are one call to numpy on
# a 16-row array. Ungrouped, every step is its own group of one row: one array per node.


class _Rows:
    """Where the operands of a group at one operand position live, one row per group member:
    rows of one block (all of it, a slice, or picked rows), or picked rows of several blocks."""

    def __init__(self, locations, sizes):
        self.count = len(locations)
        by_block: dict = {}
        for position, (b, r) in enumerate(locations):
            by_block.setdefault(b, []).append((position, r))
        # One part per block: (block, which rows of it, repeated rows?, which operand positions).
        self.parts = []
        for b, pairs in by_block.items():
            rows = [r for _, r in pairs]
            if rows == list(range(sizes[b])):
                index = slice(None)
            elif rows == list(range(rows[0], rows[0] + len(rows))):
                index = slice(rows[0], rows[0] + len(rows))
            else:
                index = require_numpy().array(rows, dtype=int)
            positions = None if len(by_block) == 1 else require_numpy().array([p for p, _ in pairs], dtype=int)
            self.parts.append((b, index, len(set(rows)) != len(rows), positions))

    def take(self, blocks, np, width):
        if len(self.parts) == 1:
            b, index, _, _ = self.parts[0]
            return blocks[b][index]
        out = np.empty((self.count, width))
        for b, index, _, positions in self.parts:
            out[positions] = blocks[b][index]  # a shared leaf's single column fills the row
        return out

    def add(self, grads, blocks, np, contribution):
        """Add `contribution` (one row per operand) to the gradients of the operand nodes."""
        for b, index, repeated, positions in self.parts:
            _add_rows(grads, blocks, np, b, index, contribution if positions is None else contribution[positions],
                      repeated)


def _add_rows(grads, blocks, np, b, index, contribution, repeated):
    g = grads[b]
    if g is None:
        g = grads[b] = np.zeros(blocks[b].shape)
    if g.shape[1] == 1 and contribution.shape[1] != 1:  # a node shared by every sample: sum the batch
        contribution = contribution.sum(axis=1, keepdims=True)
    if repeated:
        np.add.at(g, index, contribution)
    else:
        g[index] += contribution


class _Plan:
    """The tape's steps sorted into groups, and where every node's value lives."""

    def __init__(self, tape: Tape, grouped: bool):
        n_in, n_leaves = len(tape.inputs), len(tape.leaves)
        first = n_in + n_leaves
        depth = [0] * first
        members_by_key: dict = {}
        for k, step in enumerate(tape.steps):
            d = 1 + max(depth[p] for p in step.parents)
            depth.append(d)
            key = (d, _op_key(step.op), len(step.parents)) if grouped else k
            members_by_key.setdefault(key, []).append(first + k)
        member_lists = sorted(members_by_key.values(), key=lambda m: (depth[m[0]], m[0]))
        layouts = [_matmul_layout(tape, [tape.steps[s - first] for s in members]) if grouped else None
                   for members in member_lists]
        # Block 1 holds the shared leaves in an order that gives each layer's weights as one
        # contiguous (nodes x inputs) stretch, so that replay reads and updates them as a matrix.
        self.leaf_order = _leaf_order(tape, layouts)
        # (block, row) of every node on the tape.
        self.location = [(0, i) for i in range(n_in)] + [None] * (n_leaves + len(tape.steps))
        for row, j in enumerate(self.leaf_order):
            self.location[n_in + j] = (1, row)
        sizes = [n_in, n_leaves]
        for members in member_lists:
            for row, s in enumerate(members):
                self.location[s] = (len(sizes), row)
            sizes.append(len(members))
        self.groups = []
        for block, (members, layout) in enumerate(zip(member_lists, layouts), start=2):
            steps = [tape.steps[s - first] for s in members]
            if layout is not None:
                group = _MatmulGroup(steps[0].op, members, layout, self.location, sizes)
            else:
                operands = [_Rows([self.location[st.parents[i]] for st in steps], sizes)
                            for i in range(len(steps[0].parents))]
                group = _ElementwiseGroup(steps[0].op, members, operands)
            group.block = block
            self.groups.append(group)
        self.leaves = [tape.leaves[j] for j in self.leaf_order]
        self.outputs = _Rows([self.location[p] for p in tape.outputs], sizes)


def _op_key(op):
    """Ops that are the same computation: equal names can hide different folded constants."""
    if isinstance(op, FoldedOp):
        return ("folded", op.base.name, op.constant, op.position)
    return ("op", op.name)


def _leaf_order(tape, layouts) -> list[int]:
    """The shared leaves (as indexes into tape.leaves): each matrix product's weights row by row,
    then its biases, where no leaf is in two of them; every other leaf after, in tape order."""
    first, end = len(tape.inputs), len(tape.inputs) + len(tape.leaves)
    order, placed = [], set()
    for layout in layouts:
        if layout is None:
            continue
        _, weights, bias = layout
        stretch = [p - first for row in weights for p in row]
        if bias and all(first <= b < end for b in bias):
            stretch += [b - first for b in bias]
        if len(set(stretch)) == len(stretch) and not placed.intersection(stretch):
            order += stretch
            placed.update(stretch)
    return order + [j for j in range(len(tape.leaves)) if j not in placed]


class _ElementwiseGroup:
    """Nodes with one op, computed together by the op's own forward and derivatives on arrays."""

    def __init__(self, op, members, operands):
        self.op, self.members, self.operands = op, members, operands
        if isinstance(op, FoldedOp):
            base, c = op.base.array_forward, op.constant
            self.forward = (lambda x: base(x, c)) if op.position == 1 else (lambda x: base(c, x))
        elif op.arity is None:
            n_ary = op.array_forward or op.forward
            self.forward = lambda *xs: n_ary(list(xs))
        else:
            self.forward = op.array_forward

    def run(self, blocks, np, width):
        xs = [rows.take(blocks, np, width) for rows in self.operands]
        try:
            out = self.forward(*xs)
        except TypeError as exc:  # an n-ary op whose forward only works on floats
            raise TypeError(f"the op {self.op.name!r} can't run on numpy arrays ({exc}); "
                            f"give define_op(..., array_forward=...) to replay it") from None
        if not hasattr(out, "shape"):  # e.g. a sum of shared leaves only
            out = np.full((len(self.members), 1), float(out))
        return out, xs

    def slopes(self, xs, out):
        """d(node)/d(operand) for each operand position: numbers or arrays, from the op's definition."""
        op, d = self.op, self.op.derivative
        if op.arity is None:
            return tuple(d(list(xs), out))
        if op.arity == 1:
            return (d(xs[0], out) if callable(d) else d,)
        return tuple(di(xs[0], xs[1], out) if callable(di) else di for di in d)

    def backward(self, upstream, xs, out, grads, blocks, np, careful):
        for rows, slope in zip(self.operands, self.slopes(xs, out)):
            if not hasattr(slope, "shape") and slope == 0.0:  # a constant slope of 0 passes nothing on
                continue
            contribution = slope * upstream
            if careful:
                contribution = _careful(np, self, contribution, upstream, slope)
            elif not hasattr(contribution, "shape") or contribution.shape != upstream.shape:
                contribution = np.broadcast_to(contribution, upstream.shape)
            rows.add(grads, blocks, np, contribution)


class _MatmulGroup:
    """`dot` nodes sharing their inputs, with a shared leaf for every weight: one layer.

    The dot op's definition (`w0*x0 + w1*x1 + ... + b`, slopes d/dw_i = x_i, d/dx_i = w_i,
    d/db = 1; see `_is_weighted_sum`) summed over the batch is a matrix product: Z = W X + b,
    dW = G X^T, dX = W^T G, db = G summed over the batch (G: the gradients of Z).
    """

    def __init__(self, op, members, layout, location, sizes):
        x_positions, weights, bias = layout
        self.op, self.members = op, members
        self.inputs = _Rows([location[s] for s in x_positions], sizes) if x_positions else None
        rows = [location[s][1] for row in weights for s in row]  # the weights' rows in block 1
        self.shape = (len(members), len(x_positions))
        if rows and rows == list(range(rows[0], rows[0] + len(rows))):
            self.weights = slice(rows[0], rows[0] + len(rows))  # row by row: W is a view of block 1
        else:
            self.weights = require_numpy().array(rows, dtype=int).reshape(self.shape)
        self.repeated = len(set(rows)) != len(rows)
        self.bias = None if bias is None else _Rows([location[s] for s in bias], sizes)

    def _matrix(self, block):
        """W, or (for gradients) where W's gradients go, as an array over `block`'s column 0."""
        if isinstance(self.weights, slice):
            return block[self.weights, 0].reshape(self.shape)
        return block[self.weights, 0]

    def run(self, blocks, np, width):
        W = self._matrix(blocks[1])
        X = self.inputs.take(blocks, np, width) if self.inputs is not None else np.zeros((0, width))
        out = W @ X
        if self.bias is not None:
            out = out + self.bias.take(blocks, np, width)
        return out, (W, X)

    def backward(self, upstream, saved, out, grads, blocks, np, careful):
        W, X = saved
        if careful:
            upstream = _careful(np, self, upstream, upstream, 1.0)
        if self.inputs is not None:
            summed = upstream if X.shape[1] == upstream.shape[1] else upstream.sum(axis=1, keepdims=True)
            dW = summed @ X.T  # d/dw_i = x_i, summed over the batch
            g = grads[1]
            if g is None:
                g = grads[1] = np.zeros(blocks[1].shape)
            if self.repeated:
                np.add.at(g[:, 0], self.weights, dW)
            elif isinstance(self.weights, slice):
                self._matrix(g)[...] += dW  # a view: adds into g
            else:
                g[self.weights, 0] += dW
            self.inputs.add(grads, blocks, np, W.T @ upstream)  # d/dx_i = w_i
        if self.bias is not None:
            self.bias.add(grads, blocks, np, upstream)  # d/db = 1


def _careful(np, group, contribution, upstream, slope):
    """The node-by-node rule for a NaN: an upstream gradient of exactly 0 passes nothing on (so an
    infinite slope behind a dead relu gives 0, not NaN); any other NaN is an error naming the op."""
    contribution = np.where(upstream == 0.0, 0.0, np.broadcast_to(contribution, upstream.shape))
    bad = np.argwhere(np.isnan(contribution))
    if len(bad):
        row, sample = bad[0]
        raise FloatingPointError(
            f"backward through {group.op.name!r} gave a NaN gradient for sample {int(sample)} "
            f"(local derivative {_pick(slope, row, sample)!r} times upstream gradient {float(upstream[row, sample])!r})")
    return contribution


def _pick(x, row, sample):
    if not hasattr(x, "shape"):
        return x
    return float(x[min(row, x.shape[0] - 1), min(sample, x.shape[1] - 1)])


_WEIGHTED_SUM: dict = {}


def _is_weighted_sum(op) -> bool:
    """True when `op`'s own definition computes w0*x0 + w1*x1 + ... (+ b) from the operands
    w0 ... w(n-1), x0 ... x(n-1) (, b), with the slopes x_i, w_i (and 1): checked on numbers,
    with and without the bias. That is the dot op."""
    known = _WEIGHTED_SUM.get(op.name)
    if known is None or known[0] is not op:
        try:
            xs = [2.0, 3.0, 5.0, 7.0, 11.0]
            known = (op, op.forward(xs) == 42.0 and tuple(op.derivative(xs, 42.0)) == (5.0, 7.0, 2.0, 3.0, 1.0)
                     and op.forward(xs[:4]) == 31.0 and tuple(op.derivative(xs[:4], 31.0)) == (5.0, 7.0, 2.0, 3.0))
        except Exception:  # an n-ary op that isn't a weighted sum may refuse these numbers
            known = (op, False)
        _WEIGHTED_SUM[op.name] = known
    return known[1]


def _matmul_layout(tape, steps):
    """For dot nodes that share every input and take a shared leaf as every weight: the input
    positions, the weight positions per node, and the bias positions (or None); else None."""
    op = steps[0].op
    if op.arity is not None or isinstance(op, FoldedOp) or not _is_weighted_sum(op):
        return None
    first_leaf, end_leaf = len(tape.inputs), len(tape.inputs) + len(tape.leaves)

    def is_leaf(p):
        return first_leaf <= p < end_leaf

    count = len(steps[0].parents)
    n = count // 2
    x_positions, weight_columns = [], []
    for i in range(n):
        a = [s.parents[i] for s in steps]
        b = [s.parents[n + i] for s in steps]
        if all(is_leaf(p) for p in b) and len(set(a)) == 1:
            x_positions.append(a[0])
            weight_columns.append(b)
        elif all(is_leaf(p) for p in a) and len(set(b)) == 1:
            x_positions.append(b[0])
            weight_columns.append(a)
        else:
            return None
    weights = [list(row) for row in zip(*weight_columns)] if weight_columns else [[] for _ in steps]
    bias = [s.parents[-1] for s in steps] if count % 2 else None
    return x_positions, weights, bias


# -- running a replay ------------------------------------------------------------------------------


class Replay:
    """One run of a tape over a batch: every node's values as arrays, ready for `backward()`.

    Attributes:
        outputs: the outputs for every sample, shape (batch,) for a tape with one output,
            else (batch, outputs).
    """

    def __init__(self, tape: Tape, plan: _Plan, batch):
        np = self._np = require_numpy()
        X = _as_batch(np, batch, len(tape.inputs))
        self.tape, self.plan, self.size = tape, plan, X.shape[0]
        leaves = np.fromiter(map(_data, plan.leaves), float, len(plan.leaves)).reshape(-1, 1)
        blocks = [np.ascontiguousarray(X.T), leaves]
        saved = []
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            for group in plan.groups:
                try:
                    out, keep = group.run(blocks, np, self.size)
                except FloatingPointError:
                    _explain(tape, plan, group, blocks, np, self.size)
                    with np.errstate(all="ignore"):  # every non-finite value is one floats give too
                        out, keep = group.run(blocks, np, self.size)
                blocks.append(out)
                saved.append(keep)
        self.blocks, self.saved = blocks, saved
        values = np.broadcast_to(plan.outputs.take(blocks, np, self.size), (len(tape.outputs), self.size))
        self.outputs = values[0].copy() if tape.single else values.T.copy()

    def node_value(self, position: int):
        """The value of the tape's node at `position` for every sample (an array of shape (batch,))."""
        block, row = self.plan.location[position]
        return self._np.broadcast_to(self.blocks[block][row], (self.size,)).copy()

    def backward(self, upstream=None):
        """Backpropagate through the whole batch; returns d/d inputs, shape (batch, inputs).

        `upstream` holds d(something)/d(output) for every sample, shaped like `outputs`
        (default: ones, i.e. the gradient of the sum of the outputs over the batch). The shared
        leaves' gradients, summed over the batch, are added to their `grad` (leaves accumulate,
        as in `Value.backward`).
        """
        np = self._np
        seed = self._seed(upstream)
        with np.errstate(all="ignore"):
            grads = self._pass(seed, careful=False)
            if any(g is not None and np.isnan(g).any() for g in grads[:2]):
                grads = self._pass(seed, careful=True)  # find the NaN's cause, or mask it as nodes do
        modes.note_grad_write("a tape replay's backward()")
        if grads[1] is not None:
            for leaf, g in zip(self.plan.leaves, grads[1][:, 0].tolist()):
                leaf.grad += g
        if grads[0] is None:
            return np.zeros((self.size, len(self.tape.inputs)))
        return grads[0].T.copy()

    def _seed(self, upstream):
        np, n_out = self._np, len(self.tape.outputs)
        if upstream is None:
            return np.ones((n_out, self.size))
        seed = np.array(upstream, dtype=float)
        shape = (self.size,) if self.tape.single else (self.size, n_out)
        if seed.shape != shape:
            raise ValueError(f"upstream gradients should have the outputs' shape {shape}, got {seed.shape}")
        if not np.isfinite(seed).all():
            raise ValueError("upstream gradients must be finite numbers")
        return seed.reshape(1, -1) if self.tape.single else np.ascontiguousarray(seed.T)

    def _pass(self, seed, careful):
        np, blocks = self._np, self.blocks
        grads = [None] * len(blocks)
        self.plan.outputs.add(grads, blocks, np, seed)
        for group, saved in zip(reversed(self.plan.groups), reversed(self.saved)):
            upstream = grads[group.block]
            if upstream is not None:
                group.backward(upstream, saved, blocks[group.block], grads, blocks, np, careful)
        return grads


def _as_batch(np, batch, n_inputs):
    X = np.array(batch, dtype=float)
    if X.ndim == 1 and n_inputs == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2 or X.shape[1] != n_inputs or X.shape[0] == 0:
        raise ValueError(f"a batch for this tape is a non-empty list of samples, each {n_inputs} numbers; "
                         f"got an array of shape {X.shape}")
    finite = np.isfinite(X)
    if not finite.all():
        i = int(np.argwhere(~finite)[0][0])
        raise ValueError(f"sample {i} of the batch has a non-finite input: {X[i].tolist()}")
    return X


def _explain(tape, plan, group, blocks, np, width):
    """A group's arrays hit a floating-point error: run the op on the numbers of each failing node
    and sample, so that the error is the one node-by-node evaluation gives, with the sample named.
    Returns quietly when floats give the same non-finite results (an overflow to inf)."""
    with np.errstate(all="ignore"):
        out, _ = group.run(blocks, np, width)
    first = len(tape.inputs) + len(tape.leaves)
    for row, sample in np.argwhere(~np.isfinite(np.broadcast_to(out, (len(group.members), width)))):
        step = tape.steps[group.members[row] - first]
        xs = []
        for p in step.parents:
            b, r = plan.location[p]
            xs.append(float(blocks[b][r, min(sample, blocks[b].shape[1] - 1)]))
        op = step.op
        try:
            value = op.forward(xs) if op.arity is None else op.forward(*xs)
        except (ArithmeticError, ValueError) as exc:
            raise type(exc)(f"sample {sample} of the batch, node t{group.members[row] - first}: {exc}") from None
        if value != value:
            raise ValueError(f"sample {sample} of the batch, node t{group.members[row] - first}: "
                             f"{op.name} of {xs!r} is NaN; a NaN would silently poison every gradient")
