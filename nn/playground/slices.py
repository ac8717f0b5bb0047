"""Long engine work in slices: a generator that yields between pieces of its work, run a slice at
a time on the engine's thread, so that other tabs' requests are answered in between."""

from __future__ import annotations

import time


def advance(work, seconds: float, on_yield=None) -> tuple[bool, object]:
    """Run the generator `work` for about `seconds`: (True, what it returned) once it is done,
    else (False, None) with `work` paused at its next piece. A piece may yield something for
    the caller to act on at once (a drawing whose layout can start while the work goes on):
    `on_yield(it)` is called with everything yielded that is not None."""
    deadline = time.perf_counter() + seconds
    try:
        while True:
            handed = next(work)
            if handed is not None and on_yield is not None:
                on_yield(handed)
            if time.perf_counter() >= deadline:
                return False, None
    except StopIteration as done:
        return True, done.value
