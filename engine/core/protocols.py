"""How a Value behaves as a Python object, and the tools the layers above the core lend it.

`Value` (next, in `engine.core.value`) is a graph node, not a number, and these methods say so
where Python would otherwise guess: `==` is identity, `<` is refused, `float(v)` and
`f"{v:.3f}"` read the data. The methods `backward_steps`, `draw` and Jupyter's display hand
over to tools registered in `tools` by the layers above (the stepper, the drawings, the quiz), so
the core never imports them.
"""

from __future__ import annotations

import numbers

from engine.core import modes

tools: dict = {}
"""The parts of the engine built on top of this core, which Value's methods hand over to:
"stepper" (engine.stepper), "draw" and "mimebundle" (engine.drawing), "quiz" (engine.cli.quiz).
Each registers itself when it is imported, and `import engine` imports them all."""


def tool(name: str):
    try:
        return tools[name]
    except KeyError:
        raise RuntimeError(f"Value needs engine's {name!r} tool: import engine (not only engine.core) first") from None


class NodeProtocols:
    """Python's protocols for a graph node; `Value` inherits them."""

    __slots__ = ()

    def __pos__(self):
        return self

    def __float__(self) -> float:
        """`float(v)` is `v.data`, as `float(tensor)` is in PyTorch."""
        return self.data

    def __format__(self, spec: str) -> str:
        """`f"{v:.3f}"` formats `v.data`; `f"{v}"` is the repr."""
        return format(self.data, spec) if spec else repr(self)

    def __eq__(self, other):
        """Values are nodes: equal only to themselves (graph walks key nodes by identity). Comparing
        with a number is refused, since `v == 0.7` would silently be False: compare `v.data`."""
        if isinstance(other, NodeProtocols):
            return self is other
        if isinstance(other, numbers.Number):
            raise TypeError(f"a Value is a graph node, not a number: compare its data (v.data == {other!r})")
        return NotImplemented

    __hash__ = object.__hash__  # by identity, as the graph walks need

    def _order(self, other, sign: str):
        raise TypeError(f"a Value is a graph node and has no order: compare data (v.data {sign} ...); "
                        "for a smooth max write relu or softplus")

    def __lt__(self, other):
        self._order(other, "<")

    def __le__(self, other):
        self._order(other, "<=")

    def __gt__(self, other):
        self._order(other, ">")

    def __ge__(self, other):
        self._order(other, ">=")

    def __bool__(self):
        if modes.tracing:
            raise TypeError(
                f"a traced function branched on a Value ({self.data:g}): a tape records one path through "
                "the code, so replaying it for other inputs would be wrong. Write the branch with ops "
                "(relu, abs, ...) or don't trace this function")
        return True

    # -- the tools built on the core ----------------------------------------------------------------

    def backward_steps(self, *, quiz: bool = False, **quiz_options):
        """Backward one node at a time, yielding a readable step: see `engine.Stepper`. With
        `quiz=True`, a `Quiz` that asks you each number first (`ask=`, `tolerance=`)."""
        if quiz:
            return tool("quiz")(self, **quiz_options)
        if quiz_options:
            raise TypeError(f"{', '.join(quiz_options)}: options of a quiz; pass quiz=True")
        return tool("stepper")(self)

    def draw(self, path=None, **draw_kw):
        """A picture of this node's graph (a graphviz.Digraph), also saved to `path` if given.

        Keyword arguments go to `engine.draw_dot` (rankdir, digits, color_by_grad, cluster, ...).
        """
        return tool("draw")(self, path, **draw_kw)

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Jupyter shows a Value as its graph (plain text when too large or Graphviz is missing)."""
        return tool("mimebundle")(self, include, exclude)
