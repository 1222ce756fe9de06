"""The long fuzz run: many generated inputs through the library, counted.

    .venv/bin/python scripts/fuzz.py --count 100000 --jobs 2

Inputs come from tests/fuzzing.py (grammar-aware identities, ill-typed ones,
raw text, mutated identities, and expressions for derive, in the proportions of
``LONG_RUN_MIX``). Each is handed to ``verify`` (1 in 100 with the diagnosis) or
to ``derive``, plus a check that its closed form holds at another seed. It counts:

* crashes: any exception that is not a MatcalcError (and a ShapeError escaping
  verify, which reports shape errors as ill-formed verdicts);
* hangs: calls that run past --limit seconds;
* executed: calls from matcalc that hand a string to eval, exec or sympify;
* wrong: a derived (true) derivative that verify does not find to hold.

The symbolic stage runs under a 2 s budget here, as the fuzzing tests do.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import random
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import fuzzing as F  # noqa: E402 - the generators live with the tests


class _Hang(Exception):
    pass


def _on_alarm(signum: int, frame: object) -> None:
    raise _Hang


def work(task: tuple[int, int, int, float]) -> dict:
    """Run ``count`` cases from ``seed``; return the counts."""
    start_seed, count, worker, limit = task
    with F.watch_execution() as executed:
        return _work(start_seed, count, worker, limit, executed)


def _work(start_seed: int, count: int, worker: int, limit: float, executed: list[str]) -> dict:
    import matcalc

    signal.signal(signal.SIGALRM, _on_alarm)
    counts: collections.Counter = collections.Counter()
    crashes, hangs, wrong = [], [], []
    slowest = (0.0, "")
    rng = random.Random(start_seed)
    for _ in range(count):
        case = F.case(rng, F.LONG_RUN_MIX)
        counts[f"kind:{case.kind}"] += 1
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            if case.expression:
                wrt = next((v for v in ("x", "y", "s", "X", "A") if F.mentions(case.text, v)),
                           "x")
                derivation = matcalc.derive(case.text, wrt, vars=F.VARS, assume=F.ASSUME,
                                            timeout=2.0)
                if derivation.expr is not None:
                    check = matcalc.verify(f"d({case.text})/d({wrt}) = {derivation.expr}",
                                           vars=F.VARS, assume=F.ASSUME, timeout=2.0,
                                           seed=rng.randrange(10**6), diagnose=False)
                    counts[f"derived:{check.status}"] += 1
                    if check.status != "holds":
                        wrong.append(case.text)
                else:
                    counts["derived:none"] += 1
            else:
                verdict = matcalc.verify(case.text, vars=F.VARS, assume=F.ASSUME, timeout=2.0,
                                         diagnose=rng.random() < 0.01)
                counts[f"status:{verdict.status}"] += 1
        except matcalc.ShapeError as error:
            if case.expression:  # derive refuses an ill-shaped expression: bad input
                counts["rejected:ShapeError"] += 1
            else:  # verify turns shape errors into ill-formed verdicts: this is a bug
                crashes.append((case.text, f"ShapeError escaped verify: {error}"))
        except matcalc.MatcalcError as error:
            counts[f"rejected:{type(error).__name__}"] += 1
        except _Hang:
            hangs.append(case.text)
        except Exception:  # noqa: BLE001 - a crash is what this run looks for
            crashes.append((case.text, traceback.format_exc(limit=3)))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        elapsed = time.perf_counter() - started
        if elapsed > slowest[0]:
            slowest = (elapsed, case.text)
        if worker == 0 and counts.total() % 1000 == 0:
            print(f"  worker 0: {sum(v for k, v in counts.items() if k.startswith('kind:'))} "
                  f"inputs", file=sys.stderr, flush=True)
    return {"counts": counts, "crashes": crashes, "hangs": hangs, "wrong": wrong,
            "executed": executed, "slowest": slowest}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=float, default=30.0, help="seconds before a hang")
    parser.add_argument("--json", metavar="FILE", help="also write the summary here")
    args = parser.parse_args(argv)
    per = -(-args.count // args.jobs)
    tasks = [(args.seed * 1_000_003 + w, min(per, args.count - w * per), w, args.limit)
             for w in range(args.jobs) if args.count - w * per > 0]
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(len(tasks)) as pool:
        parts = pool.map(work, tasks)
    seconds = time.perf_counter() - start
    counts: collections.Counter = collections.Counter()
    for part in parts:
        counts.update(part["counts"])
    summary = {
        "inputs": sum(v for k, v in counts.items() if k.startswith("kind:")),
        "crashes": sum(len(p["crashes"]) for p in parts),
        "hangs": sum(len(p["hangs"]) for p in parts),
        "executed": sum(len(p["executed"]) for p in parts),
        "true_derivative_not_holding": sum(len(p["wrong"]) for p in parts),
        "seconds": round(seconds, 1),
        "slowest_seconds": round(max(p["slowest"][0] for p in parts), 2),
        "counts": dict(sorted(counts.items())),
    }
    print(json.dumps(summary, indent=2))
    for part in parts:
        for text, trace in part["crashes"][:5]:
            print(f"CRASH on {text!r}\n{trace}")
        for text in part["hangs"][:5]:
            print(f"HANG on {text!r}")
        for text in part["executed"][:5]:
            print(f"EXECUTED {text}")
        for text in part["wrong"][:5]:
            print(f"TRUE DERIVATIVE DID NOT HOLD for {text!r}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(summary, handle, indent=2)
    bad = summary["crashes"] + summary["hangs"] + summary["executed"]
    return 1 if bad or summary["true_derivative_not_holding"] else 0


if __name__ == "__main__":
    sys.exit(main())
