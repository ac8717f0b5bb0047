"""The `gradwalk` command: draw, step through, and check the gradient of a formula.

    gradwalk draw  "tanh(x*w + b)" x=2 w=-3 b=6.88 -o graph.svg   # picture (.svg/.png/.dot)
    gradwalk steps "tanh(x*w + b)" x=2 w=-3 b=6.88                # chain rule, step by step
    gradwalk steps "tanh(x*w + b)" x=2 w=-3 b=6.88 --html bp.html # ... as an animation
    gradwalk check "tanh(x*w + b)" x=2 w=-3 b=6.88                # backprop vs finite differences

(The installed `gradwalk` command joins these commands with the network side's own, such as the playground.)

Formulas are read by `engine.cli.formula`, which never evaluates text as code. Every problem is one
line on stderr and exit status 2; `check` exits 1 when the gradients disagree. Each subcommand is
one entry of `COMMANDS`: its name, its help, its own arguments, and the function that runs it.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine.check import compare_gradients, gradcheck_table
from engine.cli.formula import (
    MAX_CONSTANT, MAX_VARIABLES, Formula, FormulaError, check_variable_name, describe_limits, evaluate_at,
    known_functions, parse_formula,
)
from engine.core.value import Value

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with what the user typed; main() prints it as one line and exits 2."""


# -- variables ----------------------------------------------------------------------------------


def parse_assignments(items, formula: Formula) -> dict[str, float]:
    """`["x=2", "w=-3"]` -> {"x": 2.0, "w": -3.0}, checked against the formula's variables."""
    values: dict[str, float] = {}
    if len(items) > MAX_VARIABLES:
        raise UsageError(f"too many variable values ({len(items)}); the limit is MAX_VARIABLES = {MAX_VARIABLES}")
    for item in items:
        name, sep, number = item.partition("=")
        name, number = name.strip(), number.strip()
        if not sep or not name or not number:
            raise UsageError(f"expected NAME=NUMBER, got {_short(item)!r}")
        check_variable_name(name)
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


def _read_formula(args) -> tuple[Formula, dict[str, float]]:
    formula = parse_formula(args.formula)
    return formula, parse_assignments(args.values, formula)


def _forward(formula: Formula, values: dict[str, float]):
    """Variables as labelled leaves, the formula's output node, and the output's name for the
    printouts (df/dx): `f`, or another name when a variable is called f."""
    out, leaves, name = evaluate_at(formula, values)
    if not math.isfinite(out.data):
        raise UsageError(f"the formula evaluates to {out.data} at {_point(values)}")
    # A bare variable ("x") is its own output: it keeps its label, and the printouts say f.
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
    except (UsageError, FormulaError):
        raise
    except (ValueError, ArithmeticError) as error:  # ArithmeticError: overflow, division by zero
        raise UsageError(_one_line(error)) from None
    except RecursionError:
        raise UsageError("the formula is too deeply nested to evaluate") from None


def _one_line(error: Exception) -> str:
    """An exception as one short line: its first line, or its class name when it has no text."""
    text = str(error)
    return _short(text.splitlines()[0], 300) if text.strip() else type(error).__name__


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _summary(out, leaves, formula, name, digits=4) -> str:
    lines = [f"{name} = {formula.text.strip()} = {out.data:.{digits}g}"]
    for v, leaf in leaves.items():
        lines.append(f"  d{name}/d{v} = {leaf.grad:.{digits}g}")
    return "\n".join(lines)


def _write(action, path: Path) -> None:
    """Run a file-writing action; unwritable paths and a missing Graphviz become UsageErrors."""
    from engine.drawing.build import GraphTooLargeError, GraphvizNotFoundError

    try:
        action()
    except OSError as error:
        raise UsageError(f"cannot write {_short(str(path))}: {error.strerror or error}") from None
    except (GraphvizNotFoundError, GraphTooLargeError) as error:
        raise UsageError(str(error)) from None


# -- the commands -------------------------------------------------------------------------------


def _draw_arguments(sub) -> None:
    _formula_arguments(sub)
    sub.add_argument("-o", "--output", default="graph.svg", help="output file: .svg, .png or .dot (default graph.svg)")
    sub.add_argument("--rankdir", choices=["LR", "TB"], default="LR", help="layout direction (default LR)")
    sub.add_argument("--color-by-grad", action="store_true", help="tint gradients: blue positive, red negative")


def _run_draw(args) -> int:
    from engine.drawing.build import save_graph

    formula, values = _read_formula(args)
    path = Path(args.output)
    if path.suffix.lower() not in (".svg", ".png", ".dot", ".gv"):
        raise UsageError(f"-o must end in .svg, .png or .dot, got {_short(str(path))!r}")
    out, leaves, name = _forward(formula, values)
    _run(out.backward)
    _refuse_non_finite(leaves, name, values)
    options = {"rankdir": args.rankdir, "digits": args.digits, "color_by_grad": args.color_by_grad}
    _write(lambda: save_graph(out, path, **options), path)
    print(_summary(out, leaves, formula, name, args.digits))
    print(f"wrote {path}")
    return EXIT_OK


def _steps_arguments(sub) -> None:
    _formula_arguments(sub)
    sub.add_argument("--html", metavar="OUT.html", help="also write an animated, step-through page")
    sub.add_argument("--rankdir", choices=["LR", "TB"], default="LR", help="layout direction of the animation")


def _run_steps(args) -> int:
    from engine.drawing.player import step_text

    formula, values = _read_formula(args)
    html = Path(args.html) if args.html else None
    if html is not None and html.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--html must end in .html, got {_short(str(html))!r}")
    out, leaves, name = _forward(formula, values)
    steps = _run(lambda: list(out.backward_steps()))
    _refuse_non_finite(leaves, name, values)  # before printing anything
    print(f"{name} = {formula.text.strip()} = {out.data:.{args.digits}g}")
    if steps:
        print(f"backward: {len(steps)} step{'s' if len(steps) != 1 else ''}, from {name} back to the inputs")
    else:
        print(f"backward: no steps, {name} is the variable {out.label} itself")
    for step in steps:  # the same text as print(step) in a REPL and the player's caption
        print(step_text(step, args.digits))
    print("gradients:")
    print("\n".join(_summary(out, leaves, formula, name, args.digits).splitlines()[1:]))
    if html is not None:
        from engine.drawing.player import animate_backward

        # A fresh graph: the animation runs its own backward pass from "nothing computed yet".
        fresh, _, _ = _forward(formula, values)
        _write(lambda: animate_backward(fresh, html, digits=args.digits, rankdir=args.rankdir), html)
        print(f"wrote {html} (open it in a browser; arrow keys step, space plays)")
    return EXIT_OK


def _check_arguments(sub) -> None:
    _formula_arguments(sub)
    sub.add_argument("--eps", type=_number(0.0, 1.0), default=1e-6,
                     help="finite-difference step, relative to the size of each input (default 1e-6)")
    sub.add_argument("--atol", type=_number(0.0, None, zero=True), default=1e-5, help="absolute tolerance (default 1e-5)")
    sub.add_argument("--rtol", type=_number(0.0, None, zero=True), default=1e-3, help="relative tolerance (default 1e-3)")


def _run_check(args) -> int:
    formula, values = _read_formula(args)
    names = list(values)
    inputs = [Value(values[n], n) for n in names]

    def f(*args_):
        return formula.evaluate(dict(zip(names, args_)))

    # The same refusals as draw and steps: a non-finite value first, then (after finite
    # differences, whose domain message is the more useful one at sqrt(x), x=0) gradients.
    out, leaves, name = _forward(formula, values)
    _run(out.backward)
    tolerances = {"eps": args.eps, "atol": args.atol, "rtol": args.rtol}
    try:
        rows = _run(lambda: compare_gradients(f, *inputs, **tolerances))
    except (UsageError, FormulaError) as error:
        # f is defined at the point itself (the forward pass above worked), so the nudged
        # inputs x +- h left f's domain: say that, not just the engine's "got x=-1e-06".
        raise UsageError(
            f"finite differences step outside the domain of {name} at {_point(values)} ({error}); "
            f"gradcheck needs a point where {name} is defined on both sides"
        ) from None
    _refuse_non_finite(leaves, name, values)
    print(gradcheck_table(rows, atol=args.atol, rtol=args.rtol))
    return EXIT_OK if all(row.ok for row in rows) else EXIT_CHECK_FAILED


@dataclass(frozen=True)
class Command:
    """One subcommand: `gradwalk NAME ...`."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]  # returns the exit status


COMMANDS = [
    Command("draw", "forward, backward, and save a picture of the graph", _draw_arguments, _run_draw),
    Command("steps", "print the chain rule, one backward step at a time", _steps_arguments, _run_steps),
    Command("check", "compare backprop with finite differences (exit 1 if they disagree)", _check_arguments, _run_check),
]
"""The engine's commands. A package built on the engine adds its own and passes the longer table
to `main` (the installed `gradwalk` command adds `playground` this way)."""


# -- argument parsing ---------------------------------------------------------------------------


def _formula_arguments(sub) -> None:
    """The arguments of every command that takes a formula."""
    functions = ", ".join(known_functions())
    sub.add_argument("formula", help=f'e.g. "tanh(x*w + b)": numbers, variables, + - * / ** and {functions}')
    sub.add_argument("values", nargs="*", metavar="NAME=NUMBER", help="a value for every variable, e.g. x=2 w=-3")
    sub.add_argument("--digits", type=int, default=4, choices=range(1, 18), metavar="N", help="significant digits shown (default 4)")


def _number(low: float, high: float | None, zero: bool = False):
    """An argparse type: a float above `low` (or equal, when `zero`) and below `high`."""

    def parse(text: str) -> float:
        try:
            x = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {_short(text)!r}") from None
        above = x >= low if zero else x > low
        if not math.isfinite(x) or not above or (high is not None and x >= high):
            bound = f"{'>=' if zero else '>'} {low:g}" + (f" and < {high:g}" if high is not None else "")
            raise argparse.ArgumentTypeError(f"must be a number {bound}, got {_short(text)}")
        return x

    return parse


class _Parser(argparse.ArgumentParser):
    options_elsewhere: frozenset = frozenset()  # the options of every command, to tell `-o` from `-x*2`

    def error(self, message):  # argparse would print usage plus a line and exit; we want one line
        hint = ""
        unknown = re.search(r"unrecognized arguments: (-\S*)", message)
        if unknown and (unknown.group(1).startswith("--") or unknown.group(1) in self.options_elsewhere):
            hint = f" (this command has no option {_short(unknown.group(1), 20)})"
        elif unknown:
            hint = " (a formula starting with '-' reads as an option: write \"(-x)*2\" or \" -x*2\")"
        raise UsageError(f"{_short(message, 200)}{hint} (see {self.prog} --help)")


def _parser(commands) -> argparse.ArgumentParser:
    names = "{" + ",".join(c.name for c in commands) + "}"
    parser = _Parser(
        prog="gradwalk",
        description="Draw, step through, and check the gradient of a formula such as \"tanh(x*w + b)\".",
        epilog=(
            'Example: gradwalk draw "tanh(x*w + b)" x=2 w=-3 b=6.88 -o graph.svg\n\n'
            "Formulas never run as code, and are refused beyond these limits:\n" + describe_limits()
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subcommands = parser.add_subparsers(dest="command", metavar=names)
    options = set()
    for command in commands:
        sub = subcommands.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
        options |= {option for action in sub._actions for option in action.option_strings}
    parser.options_elsewhere = frozenset(options)
    return parser


def main(argv=None, commands=COMMANDS) -> int:
    """Run the command line `argv` with the subcommands `commands`; returns the exit status (0 ok,
    1 check failed, 2 error)."""
    parser = _parser(commands)
    try:
        args = parser.parse_args(argv)
        if args.command is None:  # one line, not the whole help text
            names = ",".join(c.name for c in commands)
            print(f"usage: gradwalk {{{names}}} ... (see `gradwalk --help`)", file=sys.stderr)
            return EXIT_USAGE
        return args.run(args)
    except (UsageError, FormulaError) as error:
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
