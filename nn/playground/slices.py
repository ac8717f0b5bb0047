"""Long engine work in slices: a generator that yields between pieces of its work, run a slice at
a time on the engine's thread, so that other tabs' requests are answered in between."""

from __future__ import annotations

import time


def advance(work, seconds: float) -> tuple[bool, object]:
    """Run the generator `work` for about `seconds`: (True, what it returned) once it is done,
    else (False, None) with `work` paused at its next piece."""
    deadline = time.perf_counter() + seconds
    try:
        while True:
            next(work)
            if time.perf_counter() >= deadline:
                return False, None
    except StopIteration as done:
        return True, done.value
