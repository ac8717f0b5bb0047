"""Backward one step at a time: stepper.py keeps the pass and its record, text.py says each step
in words. `Value.backward_steps()` and the player come here."""

from engine.core import graph
from engine.core.protocols import tools
from engine.stepper.stepper import StaleStepperError, Stepper, StepperError, put_back_unfinished
from engine.stepper.text import BackwardStep, EdgeStep, StepTable


def backward_steps(root) -> Stepper:
    """`root.backward_steps()`: backward one node at a time, as a `Stepper`."""
    return Stepper(root)


tools["stepper"] = backward_steps
graph.before_pass.append(put_back_unfinished)

__all__ = ["BackwardStep", "EdgeStep", "StaleStepperError", "StepTable", "Stepper", "StepperError", "backward_steps",
           "put_back_unfinished"]
