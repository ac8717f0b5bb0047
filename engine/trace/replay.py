"""Replaying a tape for a whole batch with numpy: the plan (which steps run together, as one
array operation or one matrix product) and `Replay`, one run's values and its backward pass.
See `engine.trace.tape` for what a tape is.
"""

from __future__ import annotations

from operator import attrgetter

from engine.core.table import dot_op, relu as relu_op
from engine.trace.checks import (as_batch, careful_contribution, explain_forward, refuse_nan_gradient,
                                 require_numpy)

_data = attrgetter("data")

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
        self.only_inputs = set(by_block) == {0}

    def take(self, blocks, np, width):
        if len(self.parts) == 1:
            b, index, _, _ = self.parts[0]
            return blocks[b][index]
        out = np.empty((self.count, width))
        for b, index, _, positions in self.parts:
            out[positions] = blocks[b][index]  # a shared leaf's single column fills the row
        return out

    def unwanted(self, grads) -> bool:
        """Whether no gradient is wanted for any of these rows (see `Replay.backward(inputs=False)`)."""
        return self.only_inputs and grads[0] is False

    def add(self, grads, blocks, np, contribution):
        """Add `contribution` (one row per operand) to the gradients of the operand nodes."""
        for b, index, repeated, positions in self.parts:
            _add_rows(grads, blocks, np, b, index, contribution if positions is None else contribution[positions],
                      repeated)


def _add_rows(grads, blocks, np, b, index, contribution, repeated):
    g = grads[b]
    if g is False:  # a block whose gradient nobody asked for
        return
    shape = blocks[b].shape
    if shape[1] == 1 and contribution.shape[1] != 1:  # a node shared by every sample: sum the batch
        contribution = contribution.sum(axis=1, keepdims=True)
    if g is None:
        # The block's first gradients, in an array of their own: keep it, and add later ones in
        # place. No array is ever in two places: a contribution is a fresh array, or the upstream
        # gradients of the group passing it on, which `Replay._pass` has taken out of `grads`.
        if (isinstance(index, slice) and index == slice(None) and contribution.shape == shape
                and contribution.flags.owndata and contribution.flags.writeable):
            grads[b] = contribution
            return
        g = grads[b] = np.zeros(shape)
    if repeated:
        np.add.at(g, index, contribution)
    else:
        g[index] += contribution


class Plan:
    """The tape's steps sorted into groups, and where every node's value lives."""

    def __init__(self, tape, grouped: bool):
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
    if op.folded_from:
        base, constant, position = op.folded_from
        return ("folded", base.name, constant, position)
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
        if op.arity is None:
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
        if self.op is relu_op and not careful and upstream.shape == xs[0].shape:
            # relu's slope is the mask x > 0: multiply it into the upstream array, which is this
            # group's own and dead after it, so the pass allocates nothing but the mask's bools.
            self.operands[0].add(grads, blocks, np, np.multiply(upstream, xs[0] > 0.0, out=upstream))
            return
        for rows, slope in zip(self.operands, self.slopes(xs, out)):
            if not hasattr(slope, "shape") and slope == 0.0 or rows.unwanted(grads):  # passes nothing on
                continue
            contribution = slope * upstream
            if careful:
                contribution = careful_contribution(np, self, contribution, upstream, slope)
            elif not hasattr(contribution, "shape") or contribution.shape != upstream.shape:
                contribution = np.broadcast_to(contribution, upstream.shape)
            rows.add(grads, blocks, np, contribution)


class _MatmulGroup:
    """`dot` nodes sharing their inputs, with a shared leaf for every weight: one layer.

    The dot op's definition (`w0*x0 + w1*x1 + ... + b`, slopes d/dw_i = x_i, d/dx_i = w_i,
    d/db = 1) summed over the batch is a matrix product: Z = W X + b,
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
            bias = self.bias.take(blocks, np, width)
            if bias.shape[1] <= out.shape[1]:
                out += bias  # in place: `out` is the product's own fresh array
            else:  # shared inputs (one column) and a bias per sample
                out = out + bias
        return out, (W, X)

    def backward(self, upstream, saved, out, grads, blocks, np, careful):
        W, X = saved
        if careful:
            upstream = careful_contribution(np, self, upstream, upstream, 1.0)
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
            # d/dx_i = w_i. From a single node the product is an outer one, which a broadcast
            # multiply computes several times faster than BLAS does (the same products exactly).
            if not self.inputs.unwanted(grads):
                self.inputs.add(grads, blocks, np, W.T * upstream if W.shape[0] == 1 else W.T @ upstream)
        if self.bias is not None:
            self.bias.add(grads, blocks, np, upstream)  # d/db = 1


def _matmul_layout(tape, steps):
    """For dot nodes that share every input and take a shared leaf as every weight: the input
    positions, the weight positions per node, and the bias positions (or None); else None."""
    op = steps[0].op
    if op is not dot_op:  # gradwalk's own dot: w0*x0 + ... (+ b), slopes x_i, w_i (and 1)
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

    def __init__(self, tape, plan: Plan, batch):
        np = self._np = require_numpy()
        X = as_batch(np, batch, len(tape.inputs))
        self.tape, self.plan, self.size = tape, plan, X.shape[0]
        leaves = np.fromiter(map(_data, plan.leaves), float, len(plan.leaves)).reshape(-1, 1)
        blocks = [np.ascontiguousarray(X.T), leaves]
        saved = []
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            for group in plan.groups:
                try:
                    out, keep = group.run(blocks, np, self.size)
                except FloatingPointError:
                    explain_forward(tape, plan, group, blocks, np, self.size)
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

    def backward(self, upstream=None, *, inputs: bool = True):
        """Backpropagate through the whole batch; returns d/d inputs, shape (batch, inputs).

        `upstream` holds d(something)/d(output) for every sample, shaped like `outputs`
        (default: ones, i.e. the gradient of the sum of the outputs over the batch). The shared
        leaves' gradients, summed over the batch, are added to their `grad` (leaves accumulate,
        as in `Value.backward`). `inputs=False` skips the inputs' gradients and returns None:
        training wants only the leaves'.
        """
        np = self._np
        seed = self._seed(upstream)
        with np.errstate(all="ignore"):
            grads = self._pass(seed.copy(), careful=False, inputs=inputs)  # a copy: the pass writes into it
            if any(g is not None and g is not False and np.isnan(g).any() for g in grads[:2]):
                grads = self._pass(seed, careful=True, inputs=inputs)  # find the NaN's cause, or mask it as nodes do
        if grads[1] is not None:
            for leaf, g in zip(self.plan.leaves, grads[1][:, 0].tolist()):
                leaf.grad += g
        if not inputs:
            return None
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

    def _pass(self, seed, careful, inputs):
        np, blocks = self._np, self.blocks
        grads = [None] * len(blocks)
        grads[0] = None if inputs else False  # False: not wanted
        self.plan.outputs.add(grads, blocks, np, seed)
        for group, saved in zip(reversed(self.plan.groups), reversed(self.saved)):
            upstream = grads[group.block]
            if upstream is not None:
                grads[group.block] = None  # used up here: the group may overwrite it, and it is freed early
                group.backward(upstream, saved, blocks[group.block], grads, blocks, np, careful)
                if careful:
                    refuse_nan_gradient(self.tape, self.plan, group, grads, np, self.size)
        return grads
