"""A small, safe formula language: the text `tanh(x*w + b)` becomes a graph of Values.

    >>> from engine import Value
    >>> f = parse_formula("tanh(x*w + b)")
    >>> f.variables
    ['x', 'w', 'b']
    >>> out = f.evaluate({"x": Value(2.0, "x"), "w": Value(-3.0, "w"), "b": Value(6.8813735870195432, "b")})
    >>> round(out.data, 4)
    0.7071

A formula may use numbers, variable names, `+ - * / **`, unary `-` and `+`, brackets, and the
engine's one-argument functions (`known_functions()`). The text is parsed with `ast` and every
part is checked against that whitelist; then the checked tree is evaluated by walking it. Nothing
is ever passed to eval, exec or compile, and sizes are bounded (see `LIMITS`) before any work
grows with them, so no input can run code, hang, or exhaust memory. Every refusal is a
`FormulaError` whose one-line message names the problem and, for a size, the limit hit.
"""

from __future__ import annotations

import ast
import contextlib
import math
import re

from engine.define import unary_ops
from engine.core.value import Value

__all__ = ["LIMITS", "Formula", "FormulaError", "check_variable_name", "describe_limits", "evaluate_at", "known_functions",
           "parse_formula"]

MAX_CHARS = 1000  # characters in the formula
MAX_BRACKETS = 40  # brackets open at once; checked before parsing, because Python's parser recurses on them
MAX_DEPTH = 100  # nesting levels of the formula (the checker and the evaluator recurse on them)
MAX_PARTS = 500  # numbers, names, operators and calls: the graph stays small enough to draw
MAX_CONSTANT = 1e15  # magnitude of a number written in the formula or given for a variable
MAX_EXPONENT = 1000.0  # magnitude of any exponent in a ** b
MAX_VARIABLES = 50  # variables given values

LIMITS = (
    ("MAX_CHARS", MAX_CHARS, "characters in a formula"),
    ("MAX_BRACKETS", MAX_BRACKETS, "brackets open at once"),
    ("MAX_DEPTH", MAX_DEPTH, "nesting levels (a chain such as a + b - c + d is one level)"),
    ("MAX_PARTS", MAX_PARTS, "numbers, names, operators and calls"),
    ("MAX_CONSTANT", MAX_CONSTANT, "magnitude of a number or a variable's value"),
    ("MAX_EXPONENT", MAX_EXPONENT, "magnitude of an exponent"),
    ("MAX_VARIABLES", MAX_VARIABLES, "variables"),
)
"""(name, limit, what it bounds) for every limit of the formula language."""

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")


class FormulaError(ValueError):
    """A formula, or a value for one of its variables, that is refused; the message is one line."""


def known_functions() -> dict:
    """Name -> function for every function a formula may call: the engine's one-argument ops,
    read from the op registry, so an op added with `define_op` can be called too."""
    return {name: op for name, op in unary_ops().items() if name != "neg"}


def describe_limits() -> str:
    """The limits as lines of text, e.g. for a command's --help."""
    return "\n".join(f"  {what}: at most {limit:g} ({name})" for name, limit, what in LIMITS)


def check_variable_name(name: str) -> None:
    """Refuse a variable name that is not letters, digits and _ (starting with a letter), or
    that names a function."""
    if not _NAME.match(name):
        raise FormulaError(f"{_short(name)!r} is not a valid variable name (letters, digits and _, starting with a letter)")
    if name in known_functions():
        raise FormulaError(f"{name} is a function name and cannot be a variable")


def evaluate_at(formula: "Formula", values: dict) -> tuple:
    """The formula's output node with `values` (name -> number) as labelled leaves: returns
    (output, leaves by name, the output's name). The output is labelled `f` (or `out`, ... when a
    variable is called f) unless it is a bare variable. A domain error (log of a negative, 1/0,
    an overflow) or a formula nested too deeply to evaluate becomes a one-line FormulaError."""
    leaves = {name: Value(value, name) for name, value in values.items()}
    try:
        out = formula.evaluate(leaves)
    except FormulaError:
        raise
    except (ValueError, ArithmeticError) as error:  # ArithmeticError: overflow, division by zero
        text = str(error)
        raise FormulaError(_short(text.splitlines()[0], 300) if text.strip() else type(error).__name__) from None
    except RecursionError:
        raise FormulaError("the formula is too deeply nested to evaluate") from None
    if not isinstance(out, Value):
        raise FormulaError("the formula does not depend on its variables")
    name = next(n for n in ("f", "out", "f_out", "result_") if n not in values)
    if not out.label:
        out.label = name  # steps and drawings name the output too
    return out, leaves, name


class Formula:
    """A checked formula: its `text`, its `variables` in order of first use, and `evaluate`."""

    def __init__(self, text: str, tree: ast.expr, variables: list[str]):
        self.text = text
        self.tree = tree
        self.variables = variables

    def evaluate(self, values: dict):
        """The formula at `values` (name -> Value or float). Numbers written in the formula stay
        plain floats, so `x * 3` is one node with op `*3`, exactly as in Python code. Raises
        `FormulaError` for an exponent that evaluates beyond MAX_EXPONENT, a power of two plain
        numbers that has no real value, or an engine error (log of a negative, 1/0, an overflow),
        whose message then starts with the part of the formula it happened in."""
        return _evaluate(self.tree, values, self.text.strip())

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"


# -- parsing and checking -------------------------------------------------------------------------

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_SIGNS = (ast.USub, ast.UAdd)
# Operators of one precedence level that chain left to right: `a + b - c` is one level deep.
_CHAINS = {ast.Add: "sum", ast.Sub: "sum", ast.Mult: "product", ast.Div: "product"}
_OPERATOR_TEXT = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^", ast.Invert: "~", ast.Not: "not",
}
# What each refused syntax is called in error messages (anything else: its class name).
_REFUSED = {
    ast.Attribute: "attribute access (a.b)", ast.Subscript: "subscripts (a[b])", ast.Lambda: "lambda",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions", ast.List: "lists", ast.Tuple: "tuples", ast.Set: "sets",
    ast.Dict: "dicts", ast.Compare: "comparisons", ast.BoolOp: "and/or", ast.IfExp: "if/else",
    ast.NamedExpr: "assignment (:=)", ast.JoinedStr: "strings", ast.Starred: "* unpacking",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slices",
}


def parse_formula(text: str) -> Formula:
    """Parse and check `text`; a `FormulaError` (one line) for anything outside the language."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("the formula is empty")
    if len(text) > MAX_CHARS:
        raise FormulaError(f"the formula is {len(text)} characters long; the limit is MAX_CHARS = {MAX_CHARS}")
    for ch in text:
        if not ch.isprintable():
            raise FormulaError(f"the formula contains an unprintable character {ch!r}")
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    if deepest > MAX_BRACKETS:
        raise FormulaError(f"the formula nests brackets {deepest} deep; the limit is MAX_BRACKETS = {MAX_BRACKETS}")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        raise FormulaError(f"the formula is not valid syntax: {error.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise FormulaError("the formula could not be parsed") from None
    _check_size(tree)
    variables: list[str] = []
    _check(tree, variables)
    return Formula(text, tree, variables)


def _is_chain_link(node: ast.AST, parent: ast.AST) -> bool:
    """True when `node` continues its parent's chain: the left operand of `a + b - c` is `a + b`."""
    return (
        isinstance(node, ast.BinOp) and isinstance(parent, ast.BinOp) and node is parent.left
        and _CHAINS.get(type(node.op)) is not None and _CHAINS.get(type(node.op)) == _CHAINS.get(type(parent.op))
    )


def _check_size(tree: ast.AST) -> None:
    """Count the parts and measure the nesting, without recursion: the tree is not yet known to
    be small. A part is a number, a name, an operator or a call; every operand of an operator
    or argument of a call is one level deeper, except that a chain of `+ -` (or of `* /`) stays
    on one level, as a reader sees it."""
    parts = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (ast.expr_context, ast.operator, ast.unaryop)):
            continue  # grammar bookkeeping (`Load`, `Add`), not a part the user wrote
        parts += 1
        if parts > MAX_PARTS:
            raise FormulaError(
                f"the formula has more than {MAX_PARTS} parts (numbers, names, operators, calls); "
                f"the limit is MAX_PARTS = {MAX_PARTS}"
            )
        if depth > MAX_DEPTH:
            raise FormulaError(
                f"the formula nests more than {MAX_DEPTH} levels deep (each bracket, call, sign or power "
                f"opens a level; a chain like a + b - c is one); the limit is MAX_DEPTH = {MAX_DEPTH}"
            )
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth if _is_chain_link(child, node) else depth + 1))


def _chain(node: ast.BinOp) -> tuple[ast.AST, list[ast.BinOp]]:
    """A left-to-right chain `a + b - c` as its first operand `a` and its links, in order."""
    links = [node]
    while _is_chain_link(links[-1].left, links[-1]):
        links.append(links[-1].left)
    links.reverse()
    return links[0].left, links


def _check(node: ast.AST, variables: list[str]) -> None:
    """Refuse anything but the whitelisted syntax; collect variable names in order of first use."""
    functions = known_functions()
    if isinstance(node, ast.Constant):
        _check_number(node.value)
    elif isinstance(node, ast.Name):
        if node.id in functions:
            raise FormulaError(f"{node.id} is a function: call it, as in {node.id}(x)")
        if not _NAME.match(node.id):
            raise FormulaError(f"unknown name {node.id!r}: variables are letters, digits and _, starting with a letter")
        if node.id not in variables:
            variables.append(node.id)
    elif isinstance(node, ast.BinOp):
        first, links = _chain(node)
        for link in links:
            if type(link.op) not in _BINARY:
                raise FormulaError(f"the operator {_operator_text(link.op)} is not supported; use + - * / **")
        _check(first, variables)
        for link in links:
            # The operand first: that refuses a literal too large for a float before _literal converts it.
            _check(link.right, variables)
            exponent = _literal(link.right) if isinstance(link.op, ast.Pow) else None
            if exponent is not None and abs(exponent) > MAX_EXPONENT:
                raise FormulaError(f"the exponent {exponent:g} is too large (limit MAX_EXPONENT = {MAX_EXPONENT:g})")
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, _SIGNS):
            raise FormulaError(f"the operator {_operator_text(node.op)} is not supported; use + - * / **")
        _check(node.operand, variables)
    elif isinstance(node, ast.Call):
        _check_call(node, functions)
        _check(node.args[0], variables)
    else:
        what = _REFUSED.get(type(node), type(node).__name__)
        raise FormulaError(f"{what} not allowed in a formula; use numbers, variables, + - * / ** and " + ", ".join(functions))


def _check_number(value) -> None:
    if isinstance(value, (str, bytes)):
        raise FormulaError("strings are not allowed in a formula, only numbers")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FormulaError(f"{_short(repr(value))} is not allowed in a formula, only numbers")
    # Compare the magnitude first: Python compares a huge int with a float exactly, while
    # math.isfinite(int) converts it to float and overflows (400 digits of 1).
    if abs(value) > MAX_CONSTANT or not math.isfinite(value):
        raise FormulaError(f"the number {_short(repr(value))} is too large (limit MAX_CONSTANT = {MAX_CONSTANT:g})")


def _check_call(node: ast.Call, functions: dict) -> None:
    if not isinstance(node.func, ast.Name):
        raise FormulaError("only the functions " + ", ".join(functions) + " can be called, by name")
    name = node.func.id
    if name not in functions:
        raise FormulaError(f"unknown function {_short(name)!r}; the functions are " + ", ".join(functions))
    if node.keywords:
        raise FormulaError(f"{name}() takes no keyword arguments")
    if len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
        raise FormulaError(f"{name}() takes exactly one argument, got {len(node.args)}")


def _operator_text(op: ast.AST) -> str:
    return _OPERATOR_TEXT.get(type(op), type(op).__name__)


def _literal(node: ast.AST):
    """The value of a plain (optionally signed) number, else None."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, _SIGNS):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return sign * float(node.value)
    return None


def _short(text: str, limit: int = 40) -> str:
    """`text`, cut to `limit` characters: error messages stay one short line whatever was typed."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- evaluating -----------------------------------------------------------------------------------


def _evaluate(node: ast.AST, values: dict, text: str):
    # Only the node types _check admitted can reach here.
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, values, text)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        argument = _evaluate(node.args[0], values, text)
        with _naming(text, node, node):
            return known_functions()[node.func.id](argument)
    first, links = _chain(node)  # a chain is folded in a loop: its length costs no recursion
    result = _evaluate(first, values, text)
    for link in links:
        right = _evaluate(link.right, values, text)
        with _naming(text, first, link.right):
            result = _apply(link.op, result, right)
    return result


@contextlib.contextmanager
def _naming(text: str, start: ast.AST, end: ast.AST):
    """An engine error (log of a negative, 1/0, an overflow) names the part of the formula it
    happened in, in the formula's own words: `a**b: ...`, not only the op's generic operands."""
    try:
        yield
    except FormulaError:
        raise
    except (ValueError, ArithmeticError) as error:
        message = str(error).splitlines()[0] if str(error).strip() else type(error).__name__
        part = text[start.col_offset:end.end_col_offset] if start.lineno == end.end_lineno else ""
        raise FormulaError(f"in {_short(part, 60)}: {_short(message, 240)}" if part else _short(message, 300)) from None


def _apply(op: ast.operator, left, right):
    if isinstance(op, ast.Add):
        return left + right
    if isinstance(op, ast.Sub):
        return left - right
    if isinstance(op, ast.Mult):
        return left * right
    if isinstance(op, ast.Div):
        return left / right
    # ast.Pow: bound the exponent once it is known, so `9**9**9` is refused instead of computed.
    exponent = getattr(right, "data", right)
    if abs(exponent) > MAX_EXPONENT:
        raise FormulaError(f"an exponent evaluates to {exponent:.6g}; the limit is MAX_EXPONENT = {MAX_EXPONENT:g}")
    if isinstance(left, float) and isinstance(right, float):
        return _number_power(left, right)
    return left**right  # the engine checks its own domain


def _number_power(base: float, exponent: float) -> float:
    """`base ** exponent` for two plain numbers, real or refused: Python's float `**` returns a
    complex number for (-8) ** 0.5, which the engine cannot use."""
    if base == 0.0 and exponent < 0.0:
        raise FormulaError(f"0 ** {exponent:g} divides by zero")
    if base < 0.0 and not exponent.is_integer():
        raise FormulaError(f"({base:g}) ** {exponent:g} is not a real number: a negative base needs a whole-number exponent")
    try:
        return math.pow(base, exponent)
    except OverflowError:
        raise FormulaError(f"({base:g}) ** {exponent:g} overflows") from None
