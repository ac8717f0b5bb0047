"""The playground's one doorway into engine and nn APIs that are still moving.

The formula parser, the backward stepper, the graph drawing and the training step are each used
through one function here, so a change in one of them is a change in one place.
"""

from __future__ import annotations

import math

from engine import Value, node_names, sum_values, topological_order
from engine.drawing.groups import group_key, keys_with_adoption, short_name
from engine.cli import formula as _formulas
from nn.losses import l2_penalty
from nn.train import train_step as nn_train_step

# -- formulas -----------------------------------------------------------------------------------

FormulaError = _formulas.FormulaError
"""What the parser raises for a formula it refuses (its message is one line for the page)."""

MAX_FORMULA_CHARS = _formulas.MAX_CHARS
MAX_VARIABLES = _formulas.MAX_VARIABLES
MAX_MAGNITUDE = _formulas.MAX_CONSTANT  # the largest value a variable may take, as in the CLI
parse_formula = _formulas.parse_formula


def evaluate_formula(formula, values: dict):
    """The formula's output node with `values` (name -> float) as labelled leaves, and the leaves
    (`engine.cli.formula.evaluate_at`: domain errors are one-line FormulaErrors)."""
    out, leaves, _ = _formulas.evaluate_at(formula, values)
    return out, leaves


# -- stepping through backward ------------------------------------------------------------------


def grad_text(x: float) -> str:
    """A gradient as drawings show it."""
    return f"grad {x + 0.0:.4g}"


def data_text(x: float) -> str:
    """A node's data as drawings show it."""
    return f"data {x + 0.0:.4g}"


def record_backward(root) -> dict:
    """Run root's backward pass with the engine's stepper and record it for the page (all at once:
    see `record_backward_in_pieces`)."""
    pieces = record_backward_in_pieces(root)
    while True:
        try:
            next(pieces)
        except StopIteration as done:
            return done.value


def record_backward_in_pieces(root, steps_per_piece: int = 100):
    """A generator that records root's backward pass, yielding every `steps_per_piece` steps
    (a graph of a thousand nodes takes tens of milliseconds), and returns the record.

    Returns JSON-ready `names` and `data` (per node, in topological order: the `k` of the
    drawing's box ids `v{k}`), `root` (its position) and `steps`: per step its header, the
    stepper's own text (`str(step)`, as in the REPL), the node it stands on, and for each edge
    the parent's position and its gradient text after the step. The page replays the edges to
    show any step, forwards or back, without asking the server again.
    """
    order = topological_order(root)
    names = node_names(order)
    position = {id(node): k for k, node in enumerate(order)}
    steps = []
    for step in root.backward_steps():
        if len(steps) % steps_per_piece == steps_per_piece - 1:
            yield
        node = step.node
        header, text = _split_step_text(step)
        steps.append({
            "node": position[id(node)],
            "header": header,
            "text": text,
            "edges": [[position[id(edge.parent)], grad_text(edge.grad_after)] for edge in step.edges],
        })
    return {
        "names": [names[node] for node in order],
        "data": [data_text(node.data) for node in order],
        "root": position[id(root)],
        "root_grad": grad_text(root.grad),
        "steps": steps,
    }


def _split_step_text(step) -> tuple[str, str]:
    """The step's headline and its chain-rule lines, from the stepper's own text. A stepper whose
    text starts with a `step k of n: ...` line has its headline; otherwise one is written here."""
    text = str(step)
    first, _, rest = text.partition("\n")
    if first.startswith("step "):
        return first, "\n".join(line[2:] if line.startswith("  ") else line for line in rest.splitlines())
    header = (f"step {step.index} of {step.total}: {step.node_name} ({step.node.op}), "
              f"d{step.root_name}/d{step.node_name} = {step.upstream:.4g}")
    return header, text


def structure_key(root) -> tuple:
    """What decides a drawing's layout: ops, labels and edges, not the numbers. Two graphs with
    the same key can share one SVG whose texts the page rewrites."""
    order = topological_order(root)
    position = {id(node): k for k, node in enumerate(order)}
    return tuple((node.op, node.label, node.param, node.scope, tuple(position[id(p)] for p in node.parents))
                 for node in order)


# -- drawing ------------------------------------------------------------------------------------

# The widest number a box will show (4 significant digits): drawing every box with it lays the
# graph out once for all the numbers the page will write into it later.
_WIDEST = -8.888e-88


def graph_dot(root, *, expand: bool = True, boxes_inline: int = 60) -> tuple[str, str]:
    """The engine's drawing of root's graph as DOT text (for `nn.playground.layout`), and how it
    was grouped: "plain", "cluster" or "collapse".

    Up to `boxes_inline` boxes are drawn plainly. A bigger graph is drawn with one box per
    neuron inside a frame per layer, unless `expand`: then every value is drawn, framed by layer
    (a frame per neuron would let Graphviz draw a layer's neurons in reverse). Graphs too big
    for that collapse each neuron (then each layer) into one box. Raises RuntimeError naming
    the problem when the graph cannot be drawn at all.
    """
    from engine import GraphTooLargeError, draw_dot

    order = topological_order(root)
    if len(order) <= boxes_inline:
        return _widest_layout(order, lambda: draw_dot(root, show_grad=True)).source, "plain"
    if expand:
        try:
            return _widest_layout(order, lambda: draw_dot(root, show_grad=True, cluster="layer")).source, "cluster"
        except GraphTooLargeError:
            pass
    # Collapsed boxes summarise their members, so they show the real numbers, fixed.
    for options in ({"collapse": "neuron", "cluster": "layer"}, {"collapse": "layer"}):
        try:
            return draw_dot(root, show_grad=True, **options).source, "collapse"
        except GraphTooLargeError as error:
            last = error
    raise RuntimeError(str(last))


def group_names(root, grouping: str) -> list:
    """Per node of root's graph (in topological order), the name of the collapsed box it is drawn
    in (`L1.n3`, as the box says), or None when it has a box of its own: the page lights up a
    neuron's box when a step stands on a value inside it. The same grouping as the drawing's
    (`engine.drawing.groups`), neuron by neuron."""
    order = topological_order(root)
    if grouping != "collapse":
        return [None] * len(order)
    index = {id(node): k for k, node in enumerate(order)}
    keys = keys_with_adoption(order, index, lambda scope: group_key(scope, "neuron"))
    return [None if key is None else short_name(key) for key in keys]


def _widest_layout(order, draw):
    """`draw()` with every box showing the widest number it will ever show (see _WIDEST): the
    graph is ours alone, and its numbers go back right after."""
    saved = [(node.data, node.grad) for node in order]
    try:
        for node in order:
            node.data = node.grad = _WIDEST
        return draw()
    finally:
        for node, (data, grad) in zip(order, saved):
            node.data, node.grad = data, grad


# -- training -----------------------------------------------------------------------------------


class DivergedError(FloatingPointError):
    """The loss or a gradient stopped being finite; no parameter was changed by that step."""


def penalty(params, l2: float, l1: float = 0.0):
    """`l2 * sum(p * p) + l1 * sum(|p|)` over `params` (the weight penalties the page offers), or
    None when both rates are 0."""
    terms = []
    if l2:
        terms.append(l2_penalty(params, l2))
    if l1:
        terms.append(sum_values([abs(p) for p in params]) * l1)
    return sum_values(terms) if len(terms) > 1 else (terms[0] if terms else None)


def train_step(model, X, targets, loss_fn, optimizer, l2: float, l1: float = 0.0) -> float:
    """One optimizer step on the batch (X, targets): forward, loss (+ L2 and L1 penalties),
    backward, update.

    Returns the batch loss before the update. Raises DivergedError, leaving every parameter as
    it was, when the loss or a gradient is not finite.
    """
    if l2 or l1:
        params = optimizer.params

        def objective(outputs, targets):
            return loss_fn(outputs, targets) + penalty(params, l2, l1)
    else:
        objective = loss_fn
    try:
        return nn_train_step(model, X, targets, objective, optimizer)
    except FloatingPointError as error:  # nn's TrainingDivergedError and NonFiniteGradientError
        raise DivergedError(_first_line(error)) from None
    except (ValueError, ArithmeticError) as error:  # the engine refusing a NaN or an overflow on the way
        raise DivergedError(f"the forward pass failed ({_first_line(error)}); no parameter was updated") from None


def train_step_in_chunks(model, X, targets, loss_fn, optimizer, l2: float, chunk: int, l1: float = 0.0):
    """`train_step` for a batch too big to run at once: a generator that does the batch's forward
    and backward `chunk` samples at a time, yields after each chunk, and returns the batch loss.

    Each chunk's summed loss divided by the batch size is its share of the batch's mean loss, and
    leaves add up their gradients over the chunks, so the update is `train_step`'s (up to the
    order of the additions). Raises DivergedError, leaving every parameter as it was, like it.
    A caller may drop the generator between two chunks: no parameter changes before the last.
    """
    n = len(X)
    optimizer.zero_grad()
    total = 0.0
    try:
        for start in range(0, n, chunk):
            outputs = [model(x) for x in X[start:start + chunk]]
            share = loss_fn(outputs, targets[start:start + chunk], reduction="sum") / n
            share.backward()
            total += share.data
            yield
        if l2 or l1:
            weights = penalty(optimizer.params, l2, l1)
            weights.backward()
            total += weights.data
    except (ValueError, ArithmeticError) as error:
        raise DivergedError(f"the forward pass failed ({_first_line(error)}); no parameter was updated") from None
    if not math.isfinite(total):
        raise DivergedError(f"the loss is {total!r}; no parameter was updated")
    try:
        optimizer.step()
    except FloatingPointError as error:  # a gradient that is not finite: checked before any update
        raise DivergedError(_first_line(error)) from None
    return total


def _first_line(error: Exception, head: int = 160, tail: int = 100) -> str:
    """The error's first line, its middle cut when long: an overflow lists every number involved,
    and the advice comes at the end."""
    text = str(error).splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= head + tail + 5 else f"{text[:head]} ... {text[-tail:]}"
