"""A replay's checks, in the words of the node-by-node path: every error names the sample, the
input or node, and the op, and a NaN never comes out.

* `as_batch`: the batch as a (samples, inputs) array of floats. None, ragged rows, strings,
  Values, complex numbers, bools, NaN and infinity are refused, naming the sample and the input.
* `explain_forward`: a group's arrays hit a floating-point error; evaluate the failing nodes on
  floats, so that the error is the one the node path raises for that sample.
* `careful_contribution` and `refuse_nan_gradient`: the backward pass's rule for NaN, as the node
  path's (a zero upstream gradient passes nothing on; any other NaN is an error naming the op).
"""

from __future__ import annotations

import numbers
from itertools import chain

from engine.core.value import Value

_EXTRA = "fast"
_PLAIN = (float, int)


def require_numpy():
    """numpy, or an ImportError naming the extra that installs it."""
    try:
        import numpy
    except ImportError:
        raise ImportError(f"replaying a tape computes with numpy, which is not installed: "
                          f"pip install 'gradwalk[{_EXTRA}]' (or pip install numpy)") from None
    return numpy


# -- the batch --------------------------------------------------------------------------------------


def as_batch(np, batch, n_inputs: int):
    """`batch` (rows of `n_inputs` real numbers; for one input, a flat list of numbers will do)
    as a float array of shape (samples, inputs); a clear error for anything else."""
    if isinstance(batch, np.ndarray) and batch.dtype.kind in "fiu":
        X = np.asarray(batch, dtype=float)  # numbers already: nothing to look at one by one
    else:
        X = np.array(_checked_samples(np, batch, n_inputs), dtype=float)
    if X.ndim == 1 and n_inputs == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2 or X.shape[1] != n_inputs or X.shape[0] == 0:
        raise ValueError(f"a batch for this tape is a non-empty list of samples, each {n_inputs} numbers; "
                         f"got an array of shape {X.shape}")
    finite = np.isfinite(X)
    if not finite.all():
        i, j = (int(k) for k in np.argwhere(~finite)[0])
        raise ValueError(f"sample {i} of the batch has a non-finite input: x{j} = {float(X[i, j])!r} "
                         f"(the sample: {X[i].tolist()}); a replay takes finite numbers")
    return X


def _checked_samples(np, batch, n_inputs: int) -> list:
    """The samples of `batch` as lists (or the numbers of a one-input batch), every entry a real
    number. The usual batch (lists or tuples of floats and ints) is checked at C speed."""
    if isinstance(batch, np.ndarray):
        batch = batch.tolist()  # numpy bools, complex numbers and strings become Python's
    if isinstance(batch, (str, bytes, dict, Value)) or not hasattr(batch, "__iter__"):
        raise TypeError(f"a batch is a list of samples, each a list of {n_inputs} numbers; "
                        f"got {type(batch).__name__} {_shown(batch)}")
    samples = list(batch)
    kinds = set(map(type, samples))
    if kinds <= {list, tuple}:
        lengths = set(map(len, samples))
        if len(lengths) > 1:  # ragged: name the first sample whose length differs from the first's
            first = len(samples[0])
            i = next(i for i, s in enumerate(samples) if len(s) != first)
            raise ValueError(f"the batch is ragged: sample 0 has {first} inputs, sample {i} has {len(samples[i])} "
                             f"{_shown(samples[i])}; every sample needs {n_inputs}")
        if set(map(type, chain.from_iterable(samples))) <= set(_PLAIN):
            return samples
    elif n_inputs == 1 and kinds <= set(_PLAIN):
        return samples
    # Something else is in the batch: look at each sample and entry, to name the one at fault.
    rows = []
    for i, sample in enumerate(samples):
        if isinstance(sample, (list, tuple)):
            row = list(sample)
        elif isinstance(sample, np.ndarray) and sample.ndim == 1:
            row = sample.tolist()
        elif n_inputs == 1 and not isinstance(sample, np.ndarray):  # a flat batch: each sample one number
            row = [sample]
        else:
            raise TypeError(f"sample {i} of the batch is {type(sample).__name__} {_shown(sample)}; "
                            f"a sample is a list of {n_inputs} numbers")
        if len(row) != n_inputs:
            raise ValueError(f"sample {i} of the batch has {len(row)} inputs {_shown(row)}; this tape takes {n_inputs}")
        for j, x in enumerate(row):
            problem = _not_a_number(x)
            if problem:
                raise TypeError(f"sample {i} of the batch, input x{j}, is {problem}")
        rows.append(row)
    return rows


def _not_a_number(x) -> str:
    """What is wrong with `x` as a number of a batch ("" when nothing)."""
    if type(x) in _PLAIN:
        return ""
    shown = _shown(x)
    if isinstance(x, bool) or type(x).__name__ == "bool_":
        return f"the bool {shown}: a batch holds real numbers (write 1.0 and 0.0 if you mean them)"
    if isinstance(x, Value):
        return f"a Value {shown}: a batch holds plain numbers (give its .data)"
    if isinstance(x, numbers.Real):
        return ""  # numpy's real scalars, Fraction, Decimal-like registered reals
    if isinstance(x, numbers.Complex):
        return f"the complex number {shown}: a replay computes with real numbers"
    if x is None:
        return "None: a missing value? a batch holds real numbers"
    if isinstance(x, (str, bytes)):
        return f"the string {shown}: give the number itself, not text"
    return f"{type(x).__name__} {shown}, not a real number"


def _shown(x) -> str:
    text = repr(x)
    return f"({text[:60]}...)" if len(text) > 60 else f"({text})"


# -- floating-point errors, forward and backward -------------------------------------------------


def explain_forward(tape, plan, group, blocks, np, width):
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


def careful_contribution(np, group, contribution, upstream, slope):
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


def refuse_nan_gradient(tape, plan, group, grads, np, width) -> None:
    """After `group`'s part of a careful backward pass: if a gradient it added to has become NaN
    (+inf from one path meeting -inf from another), raise naming the op, the node and the sample."""
    for b, g in enumerate(grads):
        if g is None or g is False:  # none yet, or not wanted
            continue
        bad = np.argwhere(np.isnan(g))
        if not len(bad):
            continue
        row, column = (int(k) for k in bad[0])
        position = plan.location.index((b, row))
        name = tape._names()[position]
        sample = f"sample {column}" if g.shape[1] == width else "the batch's sum"
        raise FloatingPointError(
            f"backward through {group.op.name!r} made the gradient of {name} NaN for {sample}: "
            "an infinite gradient from one path met the opposite infinity from another (inf - inf)")
