"""`detect_anomaly()`: find where a NaN or an infinity is born, as PyTorch's `detect_anomaly` does.

Inside the block every new node checks its result, and every backward pass checks each
chain-rule product. The first infinity made from finite numbers, or NaN, raises at once, naming
the op, its inputs and the line of your code that created the node.

Inside the block the core calls two hooks it keeps for this: `modes.watch` sees every new node,
and `graph.after_pass` every finished backward pass. Outside, both are empty.
"""

from __future__ import annotations

import math
import os
import sys
import weakref
from contextlib import contextmanager

from engine.core import graph, modes
from engine.core.graph import node_names

_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))


def _in_engine(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_ENGINE_DIR + os.sep)


_created_at: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class AnomalyError(FloatingPointError):
    """A NaN or an infinity was born inside `detect_anomaly()`; the message says where."""


def _user_line() -> str:
    """`file:line in function: source` of the innermost frame outside the engine package."""
    frame = sys._getframe(1)
    while frame is not None and _in_engine(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return "(unknown)"
    return _place(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def _place(filename: str, line: int, function: str) -> str:
    """`file:line in function: source`, or `line N of your input` in a REPL, which has no file."""
    import linecache

    source = linecache.getline(filename, line).strip()
    where = f"line {line} of your input" if "<" in filename else f"{filename}:{line} in {function}"
    return f"{where}: {source}" if source else where


def _inputs(parents) -> str:
    return ", ".join(f"{p.label or 'a node'}={p.data!r}" for p in parents) or "no Value inputs"


@contextmanager
def detect_anomaly():
    """Raise `AnomalyError` where a NaN or inf is born, in the forward or the backward pass.

        >>> from engine import Value
        >>> with detect_anomaly():
        ...     y = Value(1000.0, "x").exp()
        Traceback (most recent call last):
        ...
        engine.anomaly.AnomalyError: exp overflows for x=1000.0 (largest finite input is about 709.78)...
    """
    outer = modes.watch  # another watch already on (count_ops, an outer detect_anomaly): it sees every node too

    def watch(node):
        if outer is not None:
            outer(node)
        data = node.data
        if math.isinf(data) and all(math.isfinite(p.data) for p in node.parents):
            raise AnomalyError(f"{node.op} made an infinity ({data!r}) from finite inputs ({_inputs(node.parents)}), "
                               f"at {_user_line()}")
        _created_at[node] = _user_line()

    graph.after_pass.append(check_backward)
    try:
        with modes.watching(watch):
            yield
    except (OverflowError, ValueError, ZeroDivisionError) as error:
        if isinstance(error, AnomalyError):
            raise
        raise AnomalyError(f"{error}; at {_user_line_of(error)}") from error
    finally:
        graph.after_pass.remove(check_backward)


def _user_line_of(error: BaseException) -> str:
    """The innermost traceback frame outside the engine: the line that made the bad op."""
    tb, found = error.__traceback__, "(unknown)"
    while tb is not None:
        filename = os.path.abspath(tb.tb_frame.f_code.co_filename)
        if not _in_engine(filename) and "contextlib" not in filename:
            found = _place(filename, tb.tb_lineno, tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    return found


def check_backward(root, order) -> None:
    """After a backward pass in anomaly mode: the first chain-rule product (local derivative x
    upstream gradient) that is NaN or infinite while the upstream gradient is finite."""
    names = node_names(order)
    for node in reversed(order):
        upstream = node.grad
        if not node.parents or upstream == 0.0 or not math.isfinite(upstream):
            continue
        for parent, local in zip(node.parents, node.local_grad()):
            product = local * upstream
            if not math.isfinite(product):
                site = _created_at.get(node, "a line outside detect_anomaly()")
                raise AnomalyError(
                    f"backward: {node.op} node {names[node]} (inputs {_inputs(node.parents)}) has local "
                    f"derivative {local!r} with respect to {names[parent]}; times the upstream gradient "
                    f"{upstream!r} that is {product!r}. The node was created at {site}")
