"""Trace once, replay batched: `trace(f)` records f's graph as a tape, and `Tape.replay` runs it on
numpy arrays of inputs, forward and backward (replay.py knows nothing of how a tape is made)."""

from engine.trace.tape import Tape, trace
from engine.trace.replay import Replay

__all__ = ["Replay", "Tape", "trace"]
