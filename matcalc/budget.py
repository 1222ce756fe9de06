"""Wall-clock budgets: the stages say "gave up after N s" instead of hanging.

SymPy and torch run Python code between their heavy steps, so a budget is
enforced by SIGALRM where that is possible (the main thread, POSIX) and, in any
thread, by :func:`check_time` calls in the engines' loops.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any


class Timeout(Exception):
    """The running stage's time budget ran out."""


_deadline: float | None = None


@contextlib.contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Raise :class:`Timeout` in the block after ``seconds``. Budgets nest (the
    inner one cannot outlast the outer)."""
    global _deadline
    if seconds is None:
        yield
        return
    outer = _deadline
    deadline = time.monotonic() + seconds
    if outer is not None:
        deadline = min(deadline, outer)
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(
        signal, "setitimer"
    )
    previous = None
    if use_alarm:

        def on_alarm(signum: int, frame: Any) -> None:
            raise Timeout

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 1e-3))
    _deadline = deadline
    try:
        yield
    finally:
        _deadline = outer
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if outer is not None:
                signal.setitimer(signal.ITIMER_REAL, max(outer - time.monotonic(), 1e-3))


def check_time() -> None:
    """Raise :class:`Timeout` if the running budget is spent."""
    if _deadline is not None and time.monotonic() > _deadline:
        raise Timeout
