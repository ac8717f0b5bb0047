"""How a drawing looks: numbers as text, colours, and the HTML-like labels of its boxes.

Graphviz draws each `Value` as a small table (an "HTML-like label"): the name with a tag naming
its kind, then `data`, then `grad`. Everything here turns plain Python values into such label
text, with every character escaped so that any label renders literally.
"""

from __future__ import annotations

import math

__all__ = ["PENDING", "FILL", "escape", "format_number", "grad_color", "group_label", "node_kind", "value_label"]

PENDING = "grad ?"  # what a grad cell says before the gradient was computed
FONT = "Helvetica,Arial,sans-serif"
OP_FILL = "#f8f9fa"

FILL = {
    "output": "#fff3bf",
    "param": "#d0ebff",
    "input": "#d3f9d8",
    "const": "#f1f3f5",
    "value": "#ffffff",
    "group": "#e5dbff",
}
"""Fill colour per kind of box; all light, so black text stays readable on every one."""

_TAG = {"output": "output", "param": "param", "input": "input", "const": "const", "value": "", "group": ""}
_MAX_LINE = 60  # characters per label line before it is cut with an ellipsis
_MAX_LINES = 4  # label lines shown


def node_kind(node, is_root: bool) -> str:
    """What kind of box a node gets: 'output' (the root drawn), 'param', 'input' (a labelled
    leaf), 'const' (an unlabelled leaf) or 'value' (any other result)."""
    if is_root:
        return "output"
    if node.param:
        return "param"
    if not node.parents:
        return "input" if node.label else "const"
    return "value"


def format_number(x: float, digits: int) -> str:
    """`x` with `digits` significant digits, as drawings print it: `format_number(2/3, 3)` is
    '0.667'. Negative zero prints as 0, because "-0" would puzzle a reader."""
    return f"{x + 0.0:.{digits}g}"


def grad_color(g: float, max_abs: float) -> str:
    """The tint of a grad cell: blue for a positive gradient, red for a negative one, stronger
    as |g| approaches `max_abs` (the largest |grad| in the graph); orange for inf or nan.

        >>> grad_color(0.0, 1.0), grad_color(1.0, 1.0), grad_color(-1.0, 1.0)
        ('#ffffff', '#60a5e2', '#e96f6f')
    """
    if not math.isfinite(g):
        return "#ffa94d"  # orange: inf/nan stands out from both signs
    if g == 0.0 or max_abs == 0.0:
        return "#ffffff"
    # Square-rooted, so small-but-nonzero gradients are still visible next to a large one.
    t = 0.7 * math.sqrt(min(1.0, abs(g) / max_abs))
    base = (28, 126, 214) if g > 0 else (224, 49, 49)
    r, gr, b = (round(255 + (c - 255) * t) for c in base)
    return f"#{r:02x}{gr:02x}{b:02x}"


_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}


def _escape_char(ch: str) -> str:
    if ch in _ENTITIES:
        return _ENTITIES[ch]
    if ch == "\\":
        return "\\\\"  # Graphviz expands \N, \G, \l even in HTML labels; \\ is one backslash
    if ch == "\t":
        return "    "
    code = ord(ch)
    if code < 32 or code == 127 or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
        return f"\\\\x{code:02x}"  # XML cannot carry these: show them as \xNN
    return ch


def escape(text: str) -> str:
    """`text` as the body of a Graphviz HTML-like label, rendering literally.

    `& < > " '` become entities (so `<lambda>`, `a|b`, `{x}` and quotes are plain text); a
    backslash is doubled, because Graphviz expands `\\N` (node name), `\\G` and `\\l` even
    inside HTML labels; line breaks become `<BR/>`; tabs become spaces; control characters,
    which SVG cannot carry, show as `\\xNN`. Very long labels are cut with an ellipsis, so one
    name cannot swamp a drawing.

        >>> escape("<a & b>")
        '&lt;a &amp; b&gt;'
    """
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(lines) > _MAX_LINES:
        lines = lines[: _MAX_LINES - 1] + ["…"]
    cut = [line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 1] + "…" for line in lines]
    return "<BR/>".join("".join(_escape_char(ch) for ch in line) for line in cut)


def value_label(name: str, kind: str, data_text: str, grad_text, grad_fill: str) -> str:
    """The label of one Value's box: name (+ kind tag), data, grad, stacked.

    The grad cell is always last and always has a BGCOLOR (hence its own background polygon in
    the SVG): the backprop player finds and rewrites it there. `grad_text` None leaves it out."""
    border = "2" if kind == "output" else "1"
    style = ' STYLE="dashed"' if kind == "const" else ""
    head = f"<B>{escape(name)}</B>"
    if _TAG[kind]:
        head += f' <FONT POINT-SIZE="9" COLOR="#495057">{_TAG[kind]}</FONT>'
    rows = [f"<TR><TD>{head}</TD></TR>", f"<TR><TD>{escape(data_text)}</TD></TR>"]
    if grad_text is not None:
        rows.append(f'<TR><TD BGCOLOR="{grad_fill}">{escape(grad_text)}</TD></TR>')
    return (
        f'<<TABLE BORDER="{border}"{style} CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" '
        f'BGCOLOR="{FILL[kind]}" COLOR="#343a40">' + "".join(rows) + "</TABLE>>"
    )


def group_label(key: str, lines, kind: str) -> str:
    """The label of a collapsed group's box: its scope, then a few lines of summary."""
    rows = [f"<TR><TD><B>{escape(key)}</B></TD></TR>"]
    rows += [f'<TR><TD><FONT POINT-SIZE="10">{escape(line)}</FONT></TD></TR>' for line in lines]
    border = "2" if kind == "output" else "1"
    return (
        f'<<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
        f'BGCOLOR="{FILL[kind]}" COLOR="#5f3dc4" STYLE="rounded">' + "".join(rows) + "</TABLE>>"
    )
