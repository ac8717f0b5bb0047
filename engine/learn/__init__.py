"""Learn backprop by writing it: a ladder of exercises, each checked by gradwalk's own oracles.

    gradwalk learn              # the exercises and your progress
    gradwalk learn start 4      # writes ex04_backward.py, the stub to fill in
    gradwalk learn check 4      # grades it: what is wrong, on which edge, and a hint

In a notebook, `engine.learn.check(4, globals())` grades the names you defined in the notebook.
verdict.py holds what checkers share, graph_feedback.py the wrong edge's drawing and hint,
tasks_*.py the exercises themselves, ladder.py the list and the progress file, export.py a
student repository for teachers, and command.py the `gradwalk learn` command.
"""

from engine.learn.ladder import EXERCISES, Exercise, check, exercise, listing, progress, start
from engine.learn.verdict import Verdict, WrongAnswer

__all__ = ["EXERCISES", "Exercise", "Verdict", "WrongAnswer", "check", "exercise", "listing", "progress", "start"]
