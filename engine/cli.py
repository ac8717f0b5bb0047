"""The `gradwalk` command: draw, step through, and check the gradient of a formula.

    gradwalk draw  "tanh(x*w + b)" x=2 w=-3 b=6.88 -o graph.svg   # picture (.svg/.png/.dot)
    gradwalk steps "tanh(x*w + b)" x=2 w=-3 b=6.88                # chain rule, step by step
    gradwalk steps "tanh(x*w + b)" x=2 w=-3 b=6.88 --html bp.html # ... as an animation
    gradwalk check "tanh(x*w + b)" x=2 w=-3 b=6.88                # backprop vs finite differences

Formulas are parsed with `ast` and checked against a whitelist -- numbers, variable names,
`+ - * / **`, unary `-`/`+`, and the engine's functions (`engine.functional.UNARY`) -- then
evaluated by walking the checked tree. Nothing is ever passed to eval/exec/compile, and sizes are
bounded before parsing, so no input can run code, hang, or crash with a traceback: every problem
is one line on stderr and exit status 2. `check` exits 1 when the gradients disagree.
"""

from __future__ import annotations

import argparse
import ast
import math
import re
import sys
from pathlib import Path

from engine.check import compare_gradients, gradcheck_table
from engine.functional import UNARY
from engine.value import Value

MAX_CHARS = 1000  # formula length
MAX_PARENS = 40  # bracket nesting depth, checked before parsing (the parser recurses on it)
MAX_DEPTH = 100  # depth of the syntax tree (the evaluator recurses on it)
MAX_NODES = 500  # syntax-tree nodes
MAX_CONSTANT = 1e15  # magnitude of a number written in the formula
MAX_EXPONENT = 1000.0  # magnitude of any exponent a ** b
MAX_VARIABLES = 50
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with what the user typed; main() prints it as one line and exits 2."""


# -- formulas -----------------------------------------------------------------------------------

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_UNARY_OPS = {ast.USub: "-", ast.UAdd: "+"}
# What each refused syntax is called in error messages (anything else: its class name).
_REFUSED = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "subscripts (a[b])",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.NamedExpr: "assignment (:=)",
    ast.JoinedStr: "strings",
    ast.Starred: "* unpacking",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}


class Formula:
    """A checked formula: `variables` in order of first use, `evaluate(values)` to compute it."""

    def __init__(self, text: str, tree: ast.expr, variables: list[str]):
        self.text = text
        self.tree = tree
        self.variables = variables

    def evaluate(self, values: dict):
        """The formula at `values` (name -> Value or float); numbers in the formula stay floats,
        so `x * 3` is one node with op `*3`, exactly as in Python code."""
        return _evaluate(self.tree, values)


def parse_formula(text: str) -> Formula:
    """Parse and check `text`; `UsageError` (one line) for anything outside the whitelist."""
    if not isinstance(text, str) or not text.strip():
        raise UsageError("the formula is empty")
    if len(text) > MAX_CHARS:
        raise UsageError(f"the formula is {len(text)} characters long; the limit is {MAX_CHARS}")
    for ch in text:
        if not ch.isprintable():
            raise UsageError(f"the formula contains an unprintable character {ch!r}")
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    if deepest > MAX_PARENS:
        raise UsageError(f"the formula nests brackets {deepest} deep; the limit is {MAX_PARENS}")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        raise UsageError(f"the formula is not valid syntax: {error.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise UsageError("the formula could not be parsed") from None
    _check_size(tree)
    variables: list[str] = []
    _check(tree, variables)
    return Formula(text, tree, variables)


def _check_size(tree: ast.AST) -> None:
    """Node count and depth, measured without recursion (the tree is not yet known to be small)."""
    count = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise UsageError(f"the formula has more than {MAX_NODES} parts; write a smaller one")
        if depth > MAX_DEPTH:
            raise UsageError(f"the formula nests more than {MAX_DEPTH} levels deep; write a flatter one")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _check(node: ast.AST, variables: list[str]) -> None:
    """Refuse anything but the whitelisted syntax; collect variable names in order of first use."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, (str, bytes)):
            raise UsageError("strings are not allowed in a formula, only numbers")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{_short(repr(value))} is not allowed in a formula, only numbers")
        # Compare the magnitude first: Python compares a huge int with a float exactly, while
        # math.isfinite(int) converts it to float and overflows (400 digits of 1).
        if abs(value) > MAX_CONSTANT or not math.isfinite(value):
            raise UsageError(f"the number {_short(repr(value))} is too large (limit {MAX_CONSTANT:g})")
        return
    if isinstance(node, ast.Name):
        if node.id in UNARY:
            raise UsageError(f"{node.id} is a function: call it, as in {node.id}(x)")
        if not _NAME.match(node.id):
            raise UsageError(f"unknown name {node.id!r}: variables are letters, digits and _, starting with a letter")
        if node.id not in variables:
            variables.append(node.id)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise UsageError(f"the operator {_OPERATOR_TEXT.get(type(node.op), type(node.op).__name__)} is not supported; use + - * / **")
        # Operands first: that refuses a literal too large for a float before _literal converts it.
        _check(node.left, variables)
        _check(node.right, variables)
        if isinstance(node.op, ast.Pow):
            exponent = _literal(node.right)
            if exponent is not None and abs(exponent) > MAX_EXPONENT:
                raise UsageError(f"the exponent {exponent:g} is too large (limit {MAX_EXPONENT:g})")
        return
    if isinstance(node, ast.UnaryOp):
        if type(node.op) not in _UNARY_OPS:
            raise UsageError(f"the operator {_OPERATOR_TEXT.get(type(node.op), type(node.op).__name__)} is not supported; use + - * / **")
        _check(node.operand, variables)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise UsageError("only the functions " + ", ".join(UNARY) + " can be called, by name")
        name = node.func.id
        if name not in UNARY:
            raise UsageError(f"unknown function {_short(name)!r}; the functions are " + ", ".join(UNARY))
        if node.keywords:
            raise UsageError(f"{name}() takes no keyword arguments")
        if len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise UsageError(f"{name}() takes exactly one argument, got {len(node.args)}")
        _check(node.args[0], variables)
        return
    what = _REFUSED.get(type(node), type(node).__name__)
    raise UsageError(f"{what} not allowed in a formula; use numbers, variables, + - * / ** and " + ", ".join(UNARY))


_OPERATOR_TEXT = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.Invert: "~",
    ast.Not: "not",
}


def _literal(node: ast.AST):
    """The value of a plain (optionally signed) number, else None."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY_OPS:
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return sign * float(node.value)
    return None


def _one_line(error: Exception) -> str:
    """An exception as one short line: its first line, or its class name when it has no text."""
    text = str(error)
    return _short(text.splitlines()[0], 300) if text.strip() else type(error).__name__


def _short(text: str, limit: int = 40) -> str:
    """`text`, cut to `limit` characters: error messages stay one short line whatever was typed."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _evaluate(node: ast.AST, values: dict):
    # Only the node types _check admitted can reach here.
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        return UNARY[node.func.id](_evaluate(node.args[0], values))
    left = _evaluate(node.left, values)
    right = _evaluate(node.right, values)
    op = node.op
    if isinstance(op, ast.Add):
        return left + right
    if isinstance(op, ast.Sub):
        return left - right
    if isinstance(op, ast.Mult):
        return left * right
    if isinstance(op, ast.Div):
        return left / right
    # ast.Pow: bound the exponent once it is known, so `9**9**9` is refused instead of computed.
    exponent = right.data if isinstance(right, Value) else right
    if abs(exponent) > MAX_EXPONENT:
        raise UsageError(f"an exponent evaluates to {exponent:.4g}; the limit is {MAX_EXPONENT:g}")
    if isinstance(left, Value) or isinstance(right, Value):
        return left**right  # the engine checks its own domain
    return _number_power(left, right)


def _number_power(base: float, exponent: float) -> float:
    """`base ** exponent` for two plain numbers, real or refused: Python's float `**` returns a
    complex number for (-8) ** 0.5, which the engine cannot use."""
    if base == 0.0 and exponent < 0.0:
        raise UsageError(f"0 ** {exponent:g} divides by zero")
    if base < 0.0 and not exponent.is_integer():
        raise UsageError(f"({base:g}) ** {exponent:g} is not a real number: a negative base needs a whole-number exponent")
    try:
        return math.pow(base, exponent)
    except OverflowError:
        raise UsageError(f"({base:g}) ** {exponent:g} overflows") from None


# -- variables ----------------------------------------------------------------------------------


def parse_assignments(items, formula: Formula) -> dict[str, float]:
    """`["x=2", "w=-3"]` -> {"x": 2.0, "w": -3.0}, checked against the formula's variables."""
    values: dict[str, float] = {}
    if len(items) > MAX_VARIABLES:
        raise UsageError(f"too many variable values ({len(items)}); the limit is {MAX_VARIABLES}")
    for item in items:
        name, sep, number = item.partition("=")
        name, number = name.strip(), number.strip()
        if not sep or not name or not number:
            raise UsageError(f"expected NAME=NUMBER, got {_short(item)!r}")
        if not _NAME.match(name):
            raise UsageError(f"{_short(name)!r} is not a valid variable name (letters, digits and _, starting with a letter)")
        if name in UNARY:
            raise UsageError(f"{name} is a function name and cannot be a variable")
        if name in values:
            raise UsageError(f"variable {name} is given twice")
        if len(number) > 40:
            raise UsageError(f"the value of {name} is too long")
        try:
            value = float(number)
        except ValueError:
            raise UsageError(f"the value of {name} is not a number: {_short(number)!r}") from None
        if not math.isfinite(value) or abs(value) > MAX_CONSTANT:
            raise UsageError(f"the value of {name} must be a finite number of magnitude at most {MAX_CONSTANT:g}")
        values[name] = value
    missing = [v for v in formula.variables if v not in values]
    if missing:
        raise UsageError("missing value for " + ", ".join(missing) + " (give it as " + " ".join(f"{v}=NUMBER" for v in missing) + ")")
    unused = [v for v in values if v not in formula.variables]
    if unused:
        raise UsageError("the formula does not use " + ", ".join(unused))
    if not formula.variables:
        raise UsageError("the formula has no variables, so there is nothing to differentiate")
    return values


def _forward(formula: Formula, values: dict[str, float]):
    """Variables as labelled leaves, the formula's output node, and the output's name for the
    printouts (df/dx): `f`, or another name when a variable is called f."""
    leaves = {name: Value(value, name) for name, value in values.items()}
    out = _run(lambda: formula.evaluate(leaves))
    if not isinstance(out, Value):  # cannot happen with at least one variable, but be explicit
        raise UsageError("the formula does not depend on its variables")
    if not math.isfinite(out.data):
        raise UsageError(f"the formula evaluates to {out.data} at {_point(values)}")
    name = next(n for n in ("f", "out", "f_out", "result_") if n not in values)
    if not out.label:
        out.label = name  # steps and drawings name the output too
    # A bare variable ("x") is its own output: it keeps its label, and the printouts say f.
    return out, leaves, name


def _backward(formula: Formula, values: dict[str, float]):
    """`_forward`, then backward; non-finite gradients are refused (see `_refuse_non_finite`)."""
    out, leaves, name = _forward(formula, values)
    _run(out.backward)
    _refuse_non_finite(leaves, name, values)
    return out, leaves, name


def _refuse_non_finite(leaves, name, values) -> None:
    """A NaN or infinite gradient is no answer: say why instead of printing it with exit 0."""
    for v, leaf in leaves.items():
        g = leaf.grad
        if math.isnan(g):
            raise UsageError(
                f"the gradient d{name}/d{v} is nan at {_point(values)}: an intermediate value overflowed "
                f"to inf, and the chain rule met 0*inf or inf-inf (= nan); try values of smaller magnitude"
            )
        if math.isinf(g):
            raise UsageError(
                f"the gradient d{name}/d{v} is {g} at {_point(values)}: the slope is infinite there "
                f"(like sqrt at 0) or too large for a float"
            )


def _point(values: dict[str, float]) -> str:
    return _short(", ".join(f"{n}={x:g}" for n, x in values.items()), 80)


def _run(thunk):
    """Run engine code, turning its domain errors (log(-1), 1/0, overflow) into UsageErrors."""
    try:
        return thunk()
    except UsageError:
        raise
    except (ValueError, ArithmeticError) as error:  # ArithmeticError: overflow, division by zero
        raise UsageError(_one_line(error)) from None
    except RecursionError:
        raise UsageError("the formula is too deeply nested to evaluate") from None


# -- commands -----------------------------------------------------------------------------------


def _summary(out, leaves, formula, name, digits=4) -> str:
    lines = [f"{name} = {formula.text.strip()} = {out.data:.{digits}g}"]
    for v, leaf in leaves.items():
        lines.append(f"  d{name}/d{v} = {leaf.grad:.{digits}g}")
    return "\n".join(lines)


def _cmd_draw(args, formula, values) -> int:
    from engine.draw import save_graph

    path = Path(args.output)
    if path.suffix.lower() not in (".svg", ".png", ".dot", ".gv"):
        raise UsageError(f"-o must end in .svg, .png or .dot, got {_short(str(path))!r}")
    out, leaves, name = _backward(formula, values)
    kw = {"rankdir": args.rankdir, "digits": args.digits, "color_by_grad": args.color_by_grad}
    _write(lambda: save_graph(out, path, **kw), path)
    print(_summary(out, leaves, formula, name, args.digits))
    print(f"wrote {path}")
    return EXIT_OK


def _cmd_steps(args, formula, values) -> int:
    html = Path(args.html) if args.html else None
    if html is not None and html.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--html must end in .html, got {_short(str(html))!r}")
    out, leaves, name = _forward(formula, values)
    steps = []

    def walk():
        steps.extend(out.backward_steps())

    _run(walk)
    _refuse_non_finite(leaves, name, values)  # before printing anything
    print(f"{name} = {formula.text.strip()} = {out.data:.{args.digits}g}")
    if steps:
        print(f"backward: {len(steps)} step{'s' if len(steps) != 1 else ''}, from {name} back to the inputs")
    else:
        print(f"backward: no steps, {name} is the variable {out.label} itself")
    for step in steps:
        print(f"step {step.index}/{step.total}: {step.node_name} ({step.node.op}), d{step.root_name}/d{step.node_name} = {step.upstream:.{args.digits}g}")
        for line in str(step).splitlines():
            print("  " + line)
    print("gradients:")
    print("\n".join(_summary(out, leaves, formula, name, args.digits).splitlines()[1:]))
    if html is not None:
        from engine.player import animate_backward

        # A fresh graph: the animation runs its own backward pass from "nothing computed yet".
        fresh, _, _ = _forward(formula, values)
        _write(lambda: animate_backward(fresh, html, digits=args.digits, rankdir=args.rankdir), html)
        print(f"wrote {html} (open it in a browser; arrow keys step, space plays)")
    return EXIT_OK


def _cmd_check(args, formula, values) -> int:
    names = list(values)
    inputs = [Value(values[n], n) for n in names]

    def f(*args_):
        return formula.evaluate(dict(zip(names, args_)))

    # The same refusals as draw and steps: a non-finite value first, then (after finite
    # differences, whose domain message is the more useful one at sqrt(x), x=0) gradients.
    out, leaves, name = _forward(formula, values)
    _run(out.backward)
    try:
        rows = _run(lambda: compare_gradients(f, *inputs))
    except UsageError as error:
        # f is defined at the point itself (the forward pass above worked), so the nudged
        # inputs x +- h left f's domain: say that, not just the engine's "got x=-1e-06".
        raise UsageError(
            f"finite differences step outside the domain of {name} at {_point(values)} ({error}); "
            f"gradcheck needs a point where {name} is defined on both sides"
        ) from None
    _refuse_non_finite(leaves, name, values)
    print(gradcheck_table(rows))
    return EXIT_OK if all(row.ok for row in rows) else EXIT_CHECK_FAILED


def _write(action, path: Path) -> None:
    """Run a file-writing action; unwritable paths and a missing Graphviz become UsageErrors."""
    from engine.draw import GraphTooLargeError, GraphvizNotFoundError

    try:
        action()
    except OSError as error:
        raise UsageError(f"cannot write {_short(str(path))}: {error.strerror or error}") from None
    except (GraphvizNotFoundError, GraphTooLargeError) as error:
        raise UsageError(str(error)) from None


# -- argument parsing ---------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print usage plus a line and exit; we want one line
        hint = ""
        if "unrecognized arguments: -" in message and "unrecognized arguments: --" not in message:
            hint = " (a formula starting with '-' reads as an option: write \"(-x)*2\" or \" -x*2\")"
        raise UsageError(f"{_short(message, 200)}{hint} (see {self.prog} --help)")


_USAGE = 'gradwalk {draw,steps,check} "FORMULA" NAME=NUMBER ...'


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gradwalk",
        description="Draw, step through, and check the gradient of a formula such as \"tanh(x*w + b)\".",
        epilog='Example: gradwalk draw "tanh(x*w + b)" x=2 w=-3 b=6.88 -o graph.svg',
    )
    commands = parser.add_subparsers(dest="command", metavar="{draw,steps,check}")

    def common(sub):
        sub.add_argument("formula", help="e.g. \"tanh(x*w + b)\": numbers, variables, + - * / ** and " + ", ".join(UNARY))
        sub.add_argument("values", nargs="*", metavar="NAME=NUMBER", help="a value for every variable, e.g. x=2 w=-3")
        sub.add_argument("--digits", type=int, default=4, choices=range(1, 18), metavar="N", help="significant digits shown (default 4)")

    draw = commands.add_parser("draw", help="forward, backward, and save a picture of the graph")
    common(draw)
    draw.add_argument("-o", "--output", default="graph.svg", help="output file: .svg, .png or .dot (default graph.svg)")
    draw.add_argument("--rankdir", choices=["LR", "TB"], default="LR", help="layout direction (default LR)")
    draw.add_argument("--color-by-grad", action="store_true", help="tint gradients: blue positive, red negative")

    steps = commands.add_parser("steps", help="print the chain rule, one backward step at a time")
    common(steps)
    steps.add_argument("--html", metavar="OUT.html", help="also write an animated, step-through page")
    steps.add_argument("--rankdir", choices=["LR", "TB"], default="LR", help="layout direction of the animation")

    check = commands.add_parser("check", help="compare backprop with finite differences (exit 1 if they disagree)")
    common(check)
    return parser


def main(argv=None) -> int:
    """Entry point of the `gradwalk` command; returns the exit status (0 ok, 1 check failed, 2 error)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:  # one line, not the whole help text
            print(f"usage: {_USAGE} (see `gradwalk --help`)", file=sys.stderr)
            return EXIT_USAGE
        formula = parse_formula(args.formula)
        values = parse_assignments(args.values, formula)
        command = {"draw": _cmd_draw, "steps": _cmd_steps, "check": _cmd_check}[args.command]
        return command(args, formula, values)
    except UsageError as error:
        print(f"gradwalk: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, ArithmeticError) as error:
        # A domain error (ArithmeticError covers OverflowError and ZeroDivisionError) that some
        # path did not route through _run: still one line, never a traceback. Anything else
        # (TypeError, AttributeError, ...) is a bug in gradwalk and keeps its traceback.
        print(f"gradwalk: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exit_:  # --help, and argparse's own exits
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
