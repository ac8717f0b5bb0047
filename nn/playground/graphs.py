"""The two graph views: one sample's loss (Backprop one sample) and a formula (Expression sandbox).

Each reply carries the recorded backward pass (names, data, steps: see `adapters.record_backward`)
and the engine's drawing, but the drawing only when the graph's shape changed: dragging a slider
keeps the shape, so the page rewrites the numbers into the drawing it has, with no new layout.

The work is done by generators that yield between pieces (see `Session.work`), so that a long
formula's graph and plot never hold the engine's thread for long. A yield never happens inside
a `no_grad` or `name_scope` block: another tab's work may run at that point.
"""

from __future__ import annotations

import copy
import math

from nn.playground import adapters, boundary, features, metrics
from nn.playground.layout import LayoutError
from nn.playground.protocol import PlaygroundError, error_message

PLOT_POINTS = 101  # samples along the sandbox's plot


class GraphView:
    """What one view's page already shows, so that a drawing is sent once per shape."""

    def __init__(self):
        self.layout = None  # the structure key of the drawing the page has (or was told it cannot have)

    def show(self, root, expand: bool = True):
        """A generator (engine work, in slices: see `Session.work`) returning the reply's graph
        part for `root`, whose backward pass runs here (through the stepper). A new shape's
        drawing is a `PendingDrawing`, laid out later, off the engine's thread. A big graph is
        drawn one box per neuron unless `expand` (see `adapters.graph_dot`)."""
        reply = self._drawing(root, expand)
        yield reply["svg"]  # a new drawing: the server starts its layout while the steps are recorded
        reply.update((yield from adapters.record_backward_in_pieces(root)))
        return reply

    def _drawing(self, root, expand: bool) -> dict:
        key = (expand, adapters.structure_key(root))
        if key == self.layout:
            return {"svg": None}
        try:
            source, grouping = adapters.graph_dot(root, expand=expand)
        except RuntimeError as error:
            raise PlaygroundError(str(error)) from None
        return {"svg": PendingDrawing(self, key, source, grouping), "groups": adapters.group_names(root, grouping)}


class PendingDrawing:
    """A drawing's DOT text waiting for its layout; `settle` gives the reply's drawing fields."""

    def __init__(self, view: GraphView, key, source: str, grouping: str):
        self.view, self.key, self.source, self.grouping = view, key, source, grouping
        self.layout = None  # a concurrent.futures.Future of the SVG, once `start`ed

    def start(self, executor, layout) -> None:
        """Lay the drawing out with `layout(source) -> svg` on `executor`, from now on."""
        if self.layout is None:
            self.layout = executor.submit(layout, self.source)

    def settle(self, svg: str | None, problem: str | None = None) -> dict:
        """The drawing fields once laid out (`svg`), or without a drawing because of `problem`.
        Either way the view remembers the shape: the same shape is not laid out again."""
        self.view.layout = self.key
        if svg is None:
            return {"svg": None, "grouping": None,
                    "drawing_problem": f"{problem}; showing the steps and the numbers without the drawing"}
        return {"svg": svg, "grouping": self.grouping}


def settle_drawings(replies: list, layout) -> list:
    """Lay out every pending drawing in `replies` here and now with `layout(source) -> svg` (which
    raises LayoutError): what `Session.handle` does; the server does it off the engine's thread."""
    for reply in replies:
        pending = reply.get("svg")
        if isinstance(pending, PendingDrawing):
            try:
                reply.update(pending.settle(layout(pending.source)))
            except LayoutError as error:
                reply.update(pending.settle(None, str(error)))
    return replies


class SampleView:
    """The Backprop-one-sample view of one tab: the sample, the network snapshot it steps through."""

    def __init__(self):
        self.view = GraphView()
        self.index = None
        self.model = None

    def forget(self) -> None:
        """New data or a new network: the page clears its sample view, so its next sample gets a
        drawing of its own even when the graph's shape is the same."""
        self.index = self.model = None
        self.view.layout = None

    def answer(self, message: dict, session):
        """A generator (engine work, in slices) returning the reply to a checked `sample` message:
        the loss graph of one of `session`'s points, its recorded backward pass and drawing."""
        index, expand = message["index"], message.get("expand", False)
        if index is None:  # the page asks for a sample worth stepping through
            index = teaching_sample(session)
        if index >= len(session.X):
            raise PlaygroundError(f"there is no point {index}: the data has {len(session.X)} points")
        if index != self.index or message["x"] is None or self.model is None:
            # Step through a snapshot: training may go on, and the snapshot's gradients are its own.
            self.model = copy.deepcopy(session.model)
            self.index = index
        x = message["x"] or session.X[index]
        self.model.zero_grad()
        inputs = [adapters.Value(x[0], "x0"), adapters.Value(x[1], "x1")]
        out = self.model(features.expand(session.config["features"], *inputs, label=True))
        loss = sample_loss(session.config["loss"], out, session._targets[index])
        reply = {"type": "sample", "index": index, "x": [inputs[0].data, inputs[1].data], "label": session.y[index],
                 "loss_name": session.config["loss"], "output": out.data, "expand": expand,
                 "why_zero": why_zero(session, out.data, loss.data, session._targets[index])}
        reply.update((yield from self.view.show(loss, expand)))
        return [reply]


def sample_losses(session) -> list[float]:
    """Every point's loss under the tab's model, as plain numbers (one replayed pass, no graph)."""
    return metrics.point_losses(session.config["loss"], boundary.scores(session.model, session.X), session._targets)


def teaching_sample(session) -> int:
    """The point with the largest loss: a trained model gives most points a hinge loss of 0, and
    stepping through such a point adds 0 at every step. Point 0 when every loss is 0."""
    if not session.X:
        raise PlaygroundError("there are no points: pick a dataset or click the map to add points")
    try:
        losses = sample_losses(session)
    except (ValueError, ArithmeticError):  # outputs overflow: any point will do
        return 0
    return max(range(len(losses)), key=lambda i: (losses[i], -i))


def why_zero(session, out: float, loss: float, target) -> str | None:
    """Why this sample's loss is 0 (so every backward step adds 0), or None when it is not."""
    if loss != 0.0:
        return None
    try:
        teaching = sum(value > 0.0 for value in sample_losses(session))
    except (ValueError, ArithmeticError):
        teaching = 0
    others = (f" {teaching} of the {len(session.X)} points have a loss above 0: "
              f"'a point that teaches' picks the one with the largest." if teaching else
              f" None of the {len(session.X)} points has a loss above 0: the model fits them all, so training"
              " has nothing left to learn from this loss (add noise or points to see it work again).")
    if session.config["loss"] == "hinge":
        return (f"Its hinge loss is 0: y·out = {target * out:.4g} ≥ 1, so the point is on its class's side "
                f"with margin to spare, relu(1 − y·out) = 0 and relu's slope there is 0: every step adds 0.{others}")
    return f"Its loss is 0 (the output equals the target y = {target}), so every gradient is 0.{others}"


def sample_loss(name: str, out, target):
    """One sample's loss, its target a leaf `y` of the graph: nn's losses fold a target into an
    op (`-1`, `1-`), which hides it from the learner. The number is nn's own loss for one sample,
    bit for bit (tests/nn/playground/test_playground_sample_view.py)."""
    y = adapters.Value(float(target), "y")
    if name == "hinge":
        loss = (1.0 - y * out).relu()
    elif name == "mse":
        error = out - y
        loss = error * error
    elif name == "bce_with_logits":
        loss = out.softplus() - y * out
    else:  # bce, on a sigmoid output; clamped into [eps, 1 - eps] as nn clamps it
        eps = metrics.BCE_EPS
        p = out if eps <= out.data <= 1.0 - eps else adapters.Value(min(max(out.data, eps), 1.0 - eps))
        loss = -(y * p.log() + (1.0 - y) * (1.0 - p).log())
    loss.label = "loss"
    return loss


class Sandbox:
    """The expression sandbox of one tab: its formula (parsed once per text) and its view."""

    def __init__(self):
        self.view = GraphView()
        self._parsed = None  # (text, formula)

    def answer(self, message: dict):
        """A generator (engine work, in slices) returning the reply to a checked `formula` message: the graph with data and grads, the steps, the
        gradients, and a plot along one variable. Where f is undefined, an error and the
        variables (so the page's sliders can move to where it is defined)."""
        text = message["text"]
        if self._parsed is None or self._parsed[0] != text:
            self._parsed = (text, adapters.parse_formula(text))
        formula = self._parsed[1]
        if not formula.variables:
            raise PlaygroundError("the formula has no variables, so there is nothing to differentiate")
        values = {name: message["values"].get(name, 1.0) for name in formula.variables}
        try:
            out, leaves = adapters.evaluate_formula(formula, values)
            if not math.isfinite(out.data):
                raise PlaygroundError(f"the formula is {out.data}")
        except (PlaygroundError, adapters.FormulaError) as error:
            return [error_message(f"{error} (at {_point(values)})", "formula"),
                    {"type": "formula_variables", "text": text, "variables": formula.variables, "values": values}]
        reply = {"type": "formula", "text": text, "variables": formula.variables, "values": values, "output": out.data}
        reply.update((yield from self.view.show(out)))
        reply["gradients"] = {name: _finite_or_none(leaf.grad) for name, leaf in leaves.items()}
        variable = message["plot"] if message["plot"] in values else formula.variables[0]
        reply["plot"] = yield from _plot(formula, values, variable, message["range"])
        return [reply]


def _plot(formula, values, variable, span):
    """f and every df/dv along `variable` over span, the other variables held where they are.
    A point where f is undefined or not finite is None (a gap in the curve). A generator that
    yields every few points: a long formula's plot is most of its engine time."""
    low, high = span
    xs = [low + (high - low) * i / (PLOT_POINTS - 1) for i in range(PLOT_POINTS)]
    f, grads = [], {name: [] for name in values}
    for i, x in enumerate(xs):
        if i % 10 == 9:
            yield
        try:
            out, leaves = adapters.evaluate_formula(formula, dict(values, **{variable: x}))
            out.backward()
            ok = math.isfinite(out.data)
        except adapters.FormulaError:
            ok = False
        f.append(out.data if ok else None)
        for name in values:
            grads[name].append(_finite_or_none(leaves[name].grad) if ok else None)
    return {"variable": variable, "xs": xs, "f": f, "grads": grads}


def _finite_or_none(x: float):
    return x if math.isfinite(x) else None


def _point(values) -> str:
    return ", ".join(f"{name}={value:g}" for name, value in values.items())
