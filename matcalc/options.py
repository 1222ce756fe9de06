"""The run options the entry points share, checked before any work is done.

``seed``, ``timeout`` and ``jobs`` reach the engines from :func:`matcalc.verify`,
:func:`matcalc.derive`, the table check and the command line; each is checked
here once, and a bad value raises an :class:`~matcalc.errors.OptionError`
naming the option as the caller spells it (``--seed`` on the command line,
``seed`` in Python: :mod:`matcalc.surface`).

>>> check_seed(7), check_timeout(2), check_jobs(None)
(7, 2.0, None)
>>> check_seed(2**70)
Traceback (most recent call last):
...
matcalc.errors.OptionError: seed must be an integer from 0 to 4294967295, not 1180591620717411303424; e.g. seed=0
"""

from __future__ import annotations

import math
import operator
from numbers import Real
from typing import Any

from .errors import OptionError
from .surface import option, setting

#: how strong the evidence for a holds can be, weakest first (see matcalc.strength)
STRENGTHS = ("numeric", "exact", "general")
#: which engines a verification runs: both, or one alone
METHODS = ("both", "symbolic", "numeric")
#: seeds are 32-bit: every engine derives its generators' seeds from it
MAX_SEED = 2**32 - 1
#: worker processes of the table check
MAX_JOBS = 1024


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def check_seed(seed: Any) -> int:
    """The seed as an int, or OptionError unless it is an integer in [0, MAX_SEED]."""
    value = _integer(seed)
    if value is None or not 0 <= value <= MAX_SEED:
        raise OptionError(f"{option('seed')} must be an integer from 0 to {MAX_SEED}, "
                          f"not {seed!r}", token=str(seed), hint=f"e.g. {setting('seed', 0)}")
    return value


def check_timeout(timeout: Any) -> float | None:
    """The time budget in seconds (None: the default), or OptionError unless it
    is a finite number >= 0."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, Real) \
            or not (math.isfinite(timeout) and timeout >= 0):
        raise OptionError(f"{option('timeout')} must be a finite number of seconds >= 0, "
                          f"not {timeout!r}", token=str(timeout),
                          hint=f"e.g. {setting('timeout', 10)}")
    return float(timeout)


def check_jobs(jobs: Any) -> int | None:
    """The number of worker processes (None: one per core available), or
    OptionError unless it is an integer from 1 to MAX_JOBS."""
    if jobs is None:
        return None
    value = _integer(jobs)
    if value is None or not 1 <= value <= MAX_JOBS:
        raise OptionError(f"{option('jobs')} must be an integer from 1 to {MAX_JOBS}, "
                          f"not {jobs!r}", token=str(jobs),
                          hint=f"e.g. {setting('jobs', 2)}, or leave it out for one per core")
    return value


def check_flag(name: str, value: Any) -> bool:
    """A yes/no option: True or False, nothing else (``"no"`` is not False)."""
    if not isinstance(value, bool):
        raise OptionError(f"{option(name)} must be True or False, not {value!r}",
                          token=str(value))
    return value
