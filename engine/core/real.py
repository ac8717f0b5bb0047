"""What counts as a number here: `as_float`, the one check of a plain number, and the refusal of NaN.

A NaN that entered a graph would silently poison every gradient downstream, so none ever does:
inputs are checked by `as_float`, and an op whose result is NaN raises `NaNError` (`refuse_nan`).
"""

from __future__ import annotations

import numbers

from engine.core.protocols import NodeProtocols


def as_float(x, where: str) -> float:
    """`x` as a float, or an error naming `where` and the value.

    Any real number is taken (int, float, numpy's scalars, Fraction); bool is refused (True + x
    is a bug), and so is NaN.
    """
    if type(x) is float and x == x:  # the common case first; x == x is False only for NaN
        return x
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        if isinstance(x, NodeProtocols):  # a Value where a plain number belongs
            raise TypeError(f"{where} takes a plain number here, not a Value")
        raise TypeError(f"{where} takes a Value, int or float, not {type(x).__name__} {shown(x)}")
    try:
        number = float(x)
    except OverflowError:  # an int past the largest float
        raise OverflowError(f"{where} got {shown(x)}, too large for a float") from None
    if number != number:
        raise ValueError(f"{where} got NaN: a NaN input would silently poison every gradient")
    return number


def shown(x) -> str:
    """A value as an error message quotes it: its repr in parentheses, cut to 60 characters."""
    text = repr(x)
    return f"({text[:60]}...)" if len(text) > 60 else f"({text})"


class NaNError(ValueError, ArithmeticError):
    """An op's result would be NaN (inf * 0, inf - inf, ...). A ValueError (a bad value) and an
    ArithmeticError (like an overflow), so code that catches either sees it."""


def refuse_nan(op, operands) -> None:
    """Raise for an op whose result is NaN, naming the op and its operands."""
    listed = ", ".join(repr(x) for x in operands)
    raise NaNError(f"{op} of ({listed}) is NaN (undefined), so gradwalk refuses it: a NaN would silently "
                   "poison every gradient downstream")
