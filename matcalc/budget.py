"""Wall-clock budgets: the stages say "gave up after N s" instead of hanging.

A budget is a deadline held in a :class:`contextvars.ContextVar`, so it belongs
to the call that set it: every thread (and every asyncio task) has its own,
budgets in different threads never see each other, and nothing process-wide
(no signal handler, no interval timer) is touched. The engines poll it with
:func:`check_time` between their steps: per derivative entry, per point, per
zero test.

What a poll cannot interrupt is one long call into SymPy or torch. Those calls
are bounded by size instead, before they are made: the symbolic stage only runs
at small concrete sizes (``limits.MAX_SYMBOLIC_DIM``, ``MAX_SYMBOLIC_PAIRS``),
an orthogonal variable's Cayley transform is built over a polynomial ring (about
a second at the largest size), and the zero test gives ``cancel`` and
``simplify`` only expressions below an operation count (:mod:`matcalc.zerotest`). A budget can therefore be overrun by
at most one such bounded step.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator


class Timeout(Exception):
    """The running stage's time budget ran out."""


_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "matcalc_deadline", default=None)


@contextlib.contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Make :func:`check_time` raise :class:`Timeout` in the block after
    ``seconds`` (``None``: no budget of its own). Budgets nest: the inner one
    cannot outlast the outer.

    >>> with time_budget(0):
    ...     check_time()
    Traceback (most recent call last):
    ...
    matcalc.budget.Timeout
    """
    if seconds is None:
        yield
        return
    deadline = time.monotonic() + seconds
    outer = _deadline.get()
    if outer is not None:
        deadline = min(deadline, outer)
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def check_time() -> None:
    """Raise :class:`Timeout` if the calling context's budget is spent."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() >= deadline:
        raise Timeout


def remaining() -> float | None:
    """Seconds left in the calling context's budget (None: no budget)."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())
