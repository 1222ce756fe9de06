"""Running many independent checks on the cores available.

Worker processes start by ``fork`` when the parent has not used torch yet (the
CLI's case: forked workers start warm and instantly) and by ``spawn``
otherwise, because forking a process whose thread pools are already running
is not safe.

Workers ignore SIGINT: Ctrl-C reaches the whole foreground process group, and
only the parent acts on it. When the parent is interrupted (or a task raises),
it terminates the workers before the exception leaves :func:`parallel_map`, so
no worker outlives the call.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _init_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    import torch

    torch.set_num_threads(1)


def _start_method() -> str:
    if "fork" in multiprocessing.get_all_start_methods() and "torch" not in sys.modules:
        return "fork"
    return "spawn"


def parallel_map(function: Callable[[T], R], items: Sequence[T], jobs: int | None = None,
                 progress: Callable[[int, int, R], None] | None = None) -> list[R]:
    """``[function(item) for item in items]``, in worker processes when useful.

    ``function`` must be a module-level function (it is pickled by name).
    Results keep the order of ``items``; ``progress(done, total, result)`` is
    called as each finishes.
    """
    jobs = default_jobs() if jobs is None else max(1, jobs)
    results: list[Any] = [None] * len(items)
    if jobs == 1 or len(items) < 2:
        for i, item in enumerate(items):
            results[i] = function(item)
            if progress:
                progress(i + 1, len(items), results[i])
        return results
    method = _start_method()
    if method == "fork":
        # import the engines before forking, so every worker starts warm
        import sympy  # noqa: F401
        import torch  # noqa: F401

        from . import numeric, symbolic  # noqa: F401

    context = multiprocessing.get_context(method)
    # multiprocessing.Pool, not ProcessPoolExecutor: Pool.terminate() drains its task
    # queue before it stops the workers, so an interrupted run cannot hang on a full
    # pipe (ProcessPoolExecutor's shutdown did, with queued tasks and killed workers)
    pool = context.Pool(processes=min(jobs, len(items)), initializer=_init_worker)
    try:
        tasks = [(function, i, item) for i, item in enumerate(items)]
        for done, (i, result) in enumerate(pool.imap_unordered(_indexed, tasks), 1):
            results[i] = result
            if progress:
                progress(done, len(items), result)
        pool.close()
    except BaseException:
        pool.terminate()  # KeyboardInterrupt or a failed task: no worker is left running
        raise
    finally:
        pool.join()
    return results


def _indexed(task: tuple[Callable[[Any], Any], int, Any]) -> tuple[int, Any]:
    function, index, item = task
    return index, function(item)
