"""`gradwalk learn`: the exercises and your progress; `start N`, `check N`; `export DIR` for teachers.

    gradwalk learn                          # the ladder, and which exercises you have passed
    gradwalk learn start 4                  # writes ex04_backward.py (never over a file)
    gradwalk learn check 4                  # grades it; exit status 1 while it is wrong
    gradwalk learn export course --for github-classroom

`LEARN` is the command's entry for the CLI's command table (`engine.cli.commands.Command`).
"""

from __future__ import annotations

from engine.cli.commands import EXIT_CHECK_FAILED, EXIT_OK, Command, UsageError
from engine.learn import export as exporting
from engine.learn import ladder


def _exercise_number(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise UsageError(f"an exercise is a number from 1 to {len(ladder.EXERCISES)}, not {text[:20]!r}") from None
    try:
        ladder.exercise(n)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return n


def add_arguments(sub) -> None:
    actions = sub.add_subparsers(dest="learn_action", metavar="{start,check,export}")
    start = actions.add_parser("start", help="write exercise N's stub into this folder", description="write exercise N's stub into this folder")
    start.add_argument("number", metavar="N")
    check = actions.add_parser("check", help="grade exercise N", description="grade exercise N (exit 1 while it is wrong)")
    check.add_argument("number", metavar="N")
    check.add_argument("--file", help="the file to grade (default: exercise N's file in this folder)")
    check.add_argument("--quick", action="store_true", help="the fixed cases only, no random graphs")
    export = actions.add_parser("export", help="write a student repository (teachers)",
                                description="write a student repository, and its teacher folder next to it")
    export.add_argument("folder", metavar="DIR")
    export.add_argument("--for", dest="target", choices=exporting.TARGETS, default="pytest",
                        help="pytest (markers task1 ...) or github-classroom (adds the autograding steps)")
    export.add_argument("--teacher", metavar="DIR", help="where solutions and hidden tests go (default: DIR-teacher)")


def run(args) -> int:
    action = getattr(args, "learn_action", None)
    try:
        if action is None:
            print(ladder.listing())
        elif action == "start":
            path = ladder.start(_exercise_number(args.number))
            print(f"wrote {path}: fill it in, then run `gradwalk learn check {args.number}`")
        elif action == "check":
            verdict = ladder.check(_exercise_number(args.number), args.file, thorough=not args.quick)
            print(verdict)
            return EXIT_OK if verdict.passed else EXIT_CHECK_FAILED
        else:
            student, teacher = exporting.export(args.folder, args.target, args.teacher)
            print(f"wrote the student repository {student} (stubs, public tests; run `pytest -m task1`)")
            print(f"wrote the teacher folder {teacher} (solutions, hidden tests): keep it out of the student repository")
    except (FileExistsError, ValueError) as error:
        raise UsageError(str(error)) from None
    return EXIT_OK


LEARN = Command("learn", "exercises: write backprop yourself, graded by gradwalk (start N, check N, export DIR)",
                add_arguments, run)
