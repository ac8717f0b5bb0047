"""How gradwalk writes an op applied to its operands, its local derivatives, and their numbers.

One notation for every printout: the stepper's steps (`#2 = x*w`), the player, the test
strategies' formulas, and the tape's program all come here. Everything is read from the op's own
definition (`engine.core.table`): its name, and `formula`, the text of its local derivative(s) in
the variables x (or a) and y (or b), with `out` (or `s`) for the op's result.

    >>> from engine import Value
    >>> x, w = Value(2.0), Value(-3.0)
    >>> written((x * w).op, ["x", "w"]), local_formulas((x * w).op, ["x", "w"], "#2")
    ('x*w', ['w', 'x'])
    >>> written((2 / x).op, ["x"]), local_formulas((2 / x).op, ["x"], "y")
    ('2/x', ['-2/x**2'])
"""

from __future__ import annotations

import decimal
import math
import re

_INFIX = {"+": " + ", "-": " - ", "*": "*", "/": "/", "**": "**"}
_PLAIN_NAME = re.compile(r"[#\w][\w.#\[\]]*")
_NUMBER = re.compile(r"\d+(\.\d*)?(e[+-]\d+)?|inf")  # a non-negative number as `:g` prints it
_VARIABLE = re.compile(r"\b[A-Za-z_]\w*\b")


def parenthesised(name: str) -> str:
    """A name ready to sit in `d(name)/dx`, `name.grad` or `name*w`: parenthesised unless it is a
    plain name like `x`, `#3` or `L1.n3.w2`."""
    return name if _PLAIN_NAME.fullmatch(name) else f"({name})"


def number(x: float, digits: int) -> str:
    """A number as every printout shows it: `digits` significant digits."""
    return f"{x:.{digits}g}"


_EXACT = decimal.Context(prec=80)  # enough for the exact product of two 17-digit decimals


def product(a: float, b: float, result: float, digits: int) -> str:
    """`A × B = C`, all three to `digits` digits, with `=` only when the printed A times the
    printed B is exactly the printed C, and `≈` when rounding (or an overflow) makes them differ."""
    texts = [number(v, digits) for v in (a, b, result)]
    if math.isinf(result) and math.isfinite(a) and math.isfinite(b):  # it overflowed: not truly inf
        exact = False
    elif all(math.isfinite(v) for v in (a, b, result)):
        exact = _EXACT.multiply(decimal.Decimal(texts[0]), decimal.Decimal(texts[1])) == decimal.Decimal(texts[2])
    else:  # inf × 2 = inf; inf × 0 = nan
        exact = number(float(texts[0]) * float(texts[1]), digits) == texts[2]
    return f"{texts[0]} × {texts[1]} {'=' if exact else '≈'} {texts[2]}"


def written(op, operands: list[str], *, max_terms: int | None = None) -> str:
    """`op` applied to `operands` (their names or formulas): `x*w`, `tanh(n)`, `-x`, `x*3`, `2/x`,
    `w0*x0 + w1*x1 + b` for dot. An operand that is not a plain name, a call or already in
    parentheses is parenthesised where it meets an operator. With `max_terms`, a longer sum shows
    its first two terms, `...` and its last one."""
    folded = getattr(op, "folded_from", None)
    if folded:  # a binary op with a number folded in: `x*3` is `*` with b = 3
        base, constant, position = folded
        c = f"{constant:g}"
        return _applied(str(base), [operands[0], c] if position == 1 else [c, operands[0]])
    if op == "neg" and len(operands) == 1:
        return f"-{_operand(operands[0])}"
    if op == "sum":
        return _terms(operands, max_terms)  # a sum's terms need no parentheses: + is associative
    if op == "dot":  # operands w0 ... w(n-1), x0 ... x(n-1), then the bias when their number is odd
        n = len(operands) // 2
        terms = [f"{_operand(w)}*{_operand(x)}" for w, x in zip(operands[:n], operands[n:2 * n])]
        return _terms(terms + operands[2 * n:], max_terms)
    return _applied(str(op), operands)


def local_formulas(op, operands: list[str], name: str) -> list[str]:
    """The formula of each local derivative d(node)/d(operand), in the operands' names and the
    node's own `name` for the op's result; "" where the op has none."""
    operands = [_operand(o) for o in operands]
    name = _operand(name)
    folded = getattr(op, "folded_from", None)
    if folded:
        base, constant, position = folded
        c = _operand(f"{constant:g}")
        both = [operands[0], c] if position == 1 else [c, operands[0]]
        return [_substitute(_split(base.formula, 2)[1 - position], both, name)]
    if op == "sum":
        return ["1"] * len(operands)
    if op == "dot":  # d/dw_i = x_i, d/dx_i = w_i, d/db = 1
        n = len(operands) // 2
        return operands[n:2 * n] + operands[:n] + ["1"] * (len(operands) % 2)
    formula = getattr(op, "formula", "")
    if len(operands) == 2 and getattr(op, "arity", 2) == 2:
        return [_substitute(f, operands, name) for f in _split(formula, 2)]
    if len(operands) == 1 and getattr(op, "arity", 1) == 1:
        return [_substitute(formula, operands, name)]
    return [""] * len(operands)


def _applied(op: str, operands: list[str]) -> str:
    if op in _INFIX and len(operands) == 2:
        return _INFIX[op].join(map(_operand, operands))
    return f"{op}({', '.join(operands)})"


def _operand(text: str) -> str:
    """An infix operand: as it is if it is a name, a number, a call `f(...)` or already in
    parentheses; `-2` and `a + b` get parentheses."""
    if _NUMBER.fullmatch(text):
        return text
    head, paren, _ = text.partition("(")
    if paren and text.endswith(")") and (not head or _PLAIN_NAME.fullmatch(head)) and _closes_at_end(text, len(head)):
        return text
    return parenthesised(text)


def _closes_at_end(text: str, start: int) -> bool:
    """The parenthesis at `start` is closed by the last character, not before."""
    depth = 0
    for k in range(start, len(text)):
        depth += (text[k] == "(") - (text[k] == ")")
        if depth == 0:
            return k == len(text) - 1
    return False


def _terms(terms: list[str], max_terms: int | None) -> str:
    if max_terms is not None and len(terms) > max_terms:
        return " + ".join(terms[:2] + ["..."] + terms[-1:]) + f" ({len(terms)} terms)"
    return " + ".join(terms) if terms else "0"


def _split(formula: str, n: int) -> list[str]:
    """"1/b, -a/b**2" -> one formula per operand (split at commas outside parentheses); a single
    formula for a two-operand op ("1" for +) serves both."""
    parts, depth, current = [], 0, ""
    for ch in formula:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    if len(parts) != n:
        return [parts[0] if len(parts) == 1 else ""] * n
    return parts


def _substitute(formula: str, operands: list[str], name: str) -> str:
    """The formula with its variables replaced by names: x, a -> the first operand; y, b -> the
    second; out (and s, sigmoid's result) -> the node itself."""
    if not formula:
        return ""
    names = {"x": operands[0], "a": operands[0], "out": name}
    if len(operands) > 1:
        names.update(y=operands[1], b=operands[1])
    else:
        names["s"] = name
    text = _VARIABLE.sub(lambda m: names.get(m.group(), m.group()), formula)
    return f"({text})" if " if " in text else text  # `= (1 if x > 0 else 0) = 1` reads right
