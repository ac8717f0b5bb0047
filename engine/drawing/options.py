"""The options of a drawing, held in one place: `DrawOptions`, checked when made.

    >>> DrawOptions(rankdir="TB").digits
    4
    >>> DrawOptions(digits=0)
    Traceback (most recent call last):
    ...
    ValueError: digits must be an int from 1 to 17, got 0
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from engine.drawing.groups import check_level

__all__ = ["DEFAULT_MAX_NODES", "DrawOptions"]

DEFAULT_MAX_NODES = 600
"""Boxes drawn at most by default (each comes with an op ellipse, so ~1,200 Graphviz nodes)."""
# Graphviz needs a couple of seconds for 1,200 nodes, ~5 s for 3,000 and minutes for 10,000.


@dataclass(frozen=True)
class DrawOptions:
    """Every drawing option with its default, checked once when made. `draw_dot`, `draw`,
    `save_graph` and `animate_backward` take these as keyword arguments.

    Attributes:
        rankdir: `"LR"` (left to right), `"TB"`, `"RL"` or `"BT"`.
        digits: significant digits for data and grad (1 to 17).
        show_grad: None: gradients are numbers once computed, i.e. when `root.grad != 0`
            (every backward pass seeds the root with +1), and read `grad ?` before. True always
            shows the numbers; False leaves the grad row out.
        color_by_grad: tint each grad cell by sign and size: blue positive, red negative, the
            stronger the larger |grad| relative to the largest in the graph.
        max_nodes: most boxes to draw (None: no limit); more raises `GraphTooLargeError`.
        cluster: frame boxes by `Value.scope`: `"neuron"` (nested inside their layer),
            `"layer"`, or an int depth (scope `a.b.c` at depth 2 -> `a.b`).
        collapse: replace every group (same choices as `cluster`) by one box showing the group's
            size and its parameters' gradient norm. Leaves without a scope (e.g. parameters)
            join a group when every node that uses them lies in that group.
    """

    rankdir: str = "LR"
    digits: int = 4
    show_grad: bool | None = None
    color_by_grad: bool = False
    max_nodes: int | None = DEFAULT_MAX_NODES
    cluster: str | int | None = None
    collapse: str | int | None = None

    def __post_init__(self):
        if self.rankdir not in ("LR", "TB", "RL", "BT"):
            raise ValueError(f"rankdir must be 'LR', 'TB', 'RL' or 'BT', got {self.rankdir!r}")
        if not _is_int(self.digits) or not 1 <= self.digits <= 17:
            raise ValueError(f"digits must be an int from 1 to 17, got {self.digits!r}")
        if self.show_grad is not None and not isinstance(self.show_grad, bool):
            raise ValueError(f"show_grad must be None, True or False, got {self.show_grad!r}")
        if not isinstance(self.color_by_grad, bool):
            raise ValueError(f"color_by_grad must be True or False, got {self.color_by_grad!r}")
        if self.max_nodes is not None and (not _is_int(self.max_nodes) or self.max_nodes < 1):
            raise ValueError(f"max_nodes must be a positive int or None, got {self.max_nodes!r}")
        check_level("cluster", self.cluster)
        check_level("collapse", self.collapse)

    @classmethod
    def from_keywords(cls, caller: str, keywords: dict, allowed=None) -> "DrawOptions":
        """`DrawOptions(**keywords)`, but an unknown name is a TypeError that names `caller`
        and lists the options it takes (`allowed`, default: all of them)."""
        allowed = allowed or [f.name for f in fields(cls)]
        for name in keywords:
            if name not in allowed:
                raise TypeError(f"{caller} got an unknown option {name!r}; its options are {', '.join(allowed)}")
        return cls(**keywords)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)
