"""matcalc's benchmarks, measured as ratios within one run on one machine.

    .venv/bin/python benchmarks/run.py              # every section; writes benchmarks/RESULTS.md
    .venv/bin/python benchmarks/run.py cold check   # some sections; prints only

Sections (goals from the project's issues):
  cold      (a) a cold `matcalc verify` against `python -c "import torch, sympy"`, the
                floor any tool built on both pays; goal <= 1.1
  check     (b) `matcalc check` over all tables against the same baseline (goal <= 6),
                with the median time per entry
  numeric   (c) the numeric stage at n = 10, 100, 500, 1000 for A @ x, logdet(X), trace(A X B)
                (and inv(X) in the vec layout up to n = 60) against a bare torch.func.jacrev +
                allclose at the same points (goal <= 1.5x at n = 500, 1000) and against
                torch.autograd.gradcheck on A @ x (goal: at least 10x faster), with peak
                memory and scaling exponents; see benchmarks/numeric_scale.py
  symbolic  (d) the symbolic stage per family (det, inv, logdet, trace, elementwise) as the
                size grows, and the slowest table claims at the sizes matcalc chooses
                (goal: no entry above 0.5 s)
  seeds     every table entry at 50 seeds, both engines: any verdict that flips
  derive    (e) derive's closed forms against hand-written references
                (tests/data/derivations.toml), length in tokens: median ratio <= 1.0,
                none above 1.3, none missing (benchmarks/derivations.py)

Machines are shared and noisy: commands compared are run alternately and medians
reported; ratios are the numbers to read.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the table-wide helpers shared with the tests
PYTHON = sys.executable
MATCALC = [PYTHON, "-m", "matcalc"]
BASELINE = [PYTHON, "-c", "import torch, sympy"]

COLD_IDENTITY = ["verify", "d(x.T @ A @ x)/d(x) = x.T @ (A + A.T)", "--var", "x:n",
                 "--var", "A:n,n"]


def wall(command: Sequence[str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return elapsed, result.stdout


def alternate(commands: dict[str, Sequence[str]], repeats: int) -> dict[str, list[float]]:
    """Wall times of each command, runs interleaved."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            times[name].append(wall(command)[0])
    return times


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# ---------------------------------------------------------------------------


def cpu_seconds(command: Sequence[str]) -> float:
    """CPU seconds (user + system) the command used: steadier than wall time on a
    machine shared with other work."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall(command)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def compile_package() -> None:
    """Byte-compile matcalc as ``pip install`` does, so that a cold run measures
    matcalc rather than the compilation of its sources: torch and SymPy are
    compiled when installed, and with PYTHONDONTWRITEBYTECODE set (as in some
    development shells) Python would compile matcalc's modules again on every run."""
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "matcalc")], check=True,
                   capture_output=True)


def section_cold(repeats: int) -> str:
    compile_package()
    commands = {"baseline": BASELINE, "verify": MATCALC + COLD_IDENTITY}
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            start = time.perf_counter()
            cpus[name].append(cpu_seconds(command))
            walls[name].append(time.perf_counter() - start)
    base, ours = statistics.median(walls["baseline"]), statistics.median(walls["verify"])
    base_cpu, ours_cpu = statistics.median(cpus["baseline"]), statistics.median(cpus["verify"])
    ratio, cpu_ratio = ours / base, ours_cpu / base_cpu
    shown = " ".join(repr(a) if " " in a else a for a in COLD_IDENTITY)
    rows = [['`python -c "import torch, sympy"`', f"{base:.2f}", "1.00", f"{base_cpu:.2f}",
             "1.00"],
            [f"`matcalc {shown}`", f"{ours:.2f}", f"{ratio:.2f}", f"{ours_cpu:.2f}",
             f"{cpu_ratio:.2f}"]]
    return (f"### (a) Cold `matcalc verify` — medians of {repeats}, run in turn; goal ≤ 1.1: "
            f"{verdict(cpu_ratio <= 1.1)} by CPU time ({verdict(ratio <= 1.1)} by wall time)\n\n"
            + table(["command", "wall s", "ratio", "CPU s", "ratio"], rows)
            + "\n\nmatcalc's modules are byte-compiled first, as `pip install` does.")


def timed(command: Sequence[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system, the command and every process it
    waited for) and standard output of one run."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, out = wall(command)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def section_check(repeats: int) -> str:
    compile_package()
    runs = max(2, repeats // 2)
    base_times, check_times, base_cpus, check_cpus, medians, entries = [], [], [], [], [], 0
    for _ in range(runs):
        seconds, cpu, _ = timed(BASELINE)
        base_times.append(seconds)
        base_cpus.append(cpu)
        seconds, cpu, out = timed(MATCALC + ["check", "--json"])
        check_times.append(seconds)
        check_cpus.append(cpu)
        summary = json.loads(out)["summary"]
        medians.append(summary["median_seconds_per_entry"])
        entries = summary["entries"]
    base, ours = statistics.median(base_times), statistics.median(check_times)
    base_cpu, ours_cpu = statistics.median(base_cpus), statistics.median(check_cpus)
    ratio = ours / base
    rows = [['`python -c "import torch, sympy"`', f"{base:.2f}", "1.00", f"{base_cpu:.2f}",
             "1.00"],
            [f"`matcalc check` ({entries} entries, both layouts, both engines)", f"{ours:.2f}",
             f"{ratio:.2f}", f"{ours_cpu:.2f}", f"{ours_cpu / base_cpu:.2f}"]]
    jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"### (b) `matcalc check` over all tables — median of {runs}; goal ≤ 6 (wall): "
            f"{verdict(ratio <= 6)}\n\n"
            + table(["command", "wall s", "ratio", "CPU s", "ratio"], rows)
            + f"\n\nCPU time is the sum over the {jobs} worker processes and their parent "
              f"(which imports torch and SymPy once, before the workers fork). "
              f"Median time per entry (in a worker, both engines, every claimed layout): "
              f"{statistics.median(medians) * 1000:.0f} ms.")


def section_numeric(repeats: int) -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import numeric_scale

    return numeric_scale.section(repeats)


def _median_times(functions: dict[str, Callable[[], None]], rounds: int) -> dict[str, float]:
    """Median seconds of each function, timed in alternation (one call of each
    per round), so that a burst of load on the machine hits all of them."""
    for function in functions.values():
        function()  # warm up
    samples: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


FAMILIES = [
    ("det", {"X": "n n"}, {}, "d(det(X))/d(X) = det(X) * inv(X)"),
    ("inv", {"X": "n n", "a": "n", "b": "n"}, {},
     "d(a.T @ inv(X) @ b)/d(X) = -inv(X) @ b @ a.T @ inv(X)"),
    ("logdet", {"X": "n n"}, {"X": ["spd"]}, "d(logdet(X))/d(X) = inv(X)"),
    ("trace", {"X": "n n", "A": "n n", "B": "n n"}, {},
     "d(trace(A @ X @ B @ X))/d(X) = B @ X @ A + A @ X @ B"),
    ("trace of inverse", {"X": "n n", "A": "n n"}, {},
     "d(trace(A @ inv(X)))/d(X) = -inv(X) @ A @ inv(X)"),
    ("elementwise", {"x": "n", "A": "n n"}, {}, "d(sum(exp(A @ x)))/d(x) = exp(A @ x).T @ A"),
]


def section_symbolic(repeats: int) -> str:
    from sympy.core.cache import clear_cache

    from matcalc.tablecheck import check_all
    from matcalc.parsing import build, parse_identity
    from matcalc.engines import Engines
    from matcalc.declarations import declare
    from matcalc.tables import load_tables

    sizes = (2, 3, 4, 5)
    rows = []
    totals = {}
    for name, variables, assume, identity in FAMILIES:
        cells = [name]
        total = 0.0
        for n in sizes:
            decl = declare(variables, assume, {"n": n})
            scope = decl.scope("numerator")
            lhs_s, rhs_s = parse_identity(identity, scope)
            lhs, rhs = build(lhs_s, scope), build(rhs_s, scope)
            Engines(decl, method="symbolic", timeout=30).symbolic(lhs, rhs)  # warm up
            samples = []
            for _ in range(max(1, repeats // 3)):
                clear_cache()  # SymPy memoizes globally: time the work, not a cache hit
                evidence = Engines(decl, method="symbolic", timeout=30).symbolic(lhs, rhs)
                samples.append(evidence.seconds if evidence.status == "proved" else float("inf"))
            seconds = statistics.median(samples)
            total += seconds
            mark = " ←" if n == 3 else ""
            cells.append("> 30" if seconds == float("inf") else f"{seconds:.3f}{mark}")
        totals[name] = total
        rows.append(cells + ["> 30" if total == float("inf") else f"{total:.3f}"])
    part = table(["family"] + [f"n = {n}" for n in sizes] + ["n = 2..5"], rows)
    decided = [totals[f] for f in ("det", "inv", "logdet", "trace of inverse")]
    part += ("\n\nGoal: each det / inv / logdet / trace-of-inverse identity decided exactly at "
             f"n = 2, 3, 4 and 5 in under 0.5 s in total: {verdict(max(decided) < 0.5)} "
             f"(slowest {max(decided):.3f} s).")
    results = check_all(list(load_tables()), jobs=1)
    claims = sorted(((c.verdict.symbolic.seconds, r.key, c.label) for r in results
                     for c in r.checks if c.verdict is not None and c.verdict.symbolic), reverse=True)
    slowest = claims[0][0]
    top = table(["seconds", "entry", "claim"],
                [[f"{s:.3f}", k, label] for s, k, label in claims[:5]])
    return (f"### (d) Exact stage per family (seconds for one claim at one pinned size, "
            f"derivation included; ← marks the first size matcalc uses for a lone dimension)\n\n{part}\n\n"
            f"Slowest of the {len(claims)} table claims at the sizes matcalc chooses, run one "
            f"at a time (goal: none above 0.5 s — {verdict(slowest <= 0.5)}):\n\n{top}")


def section_seeds(repeats: int) -> str:
    from matcalc.parallel import parallel_map
    from matcalc.tables import load_tables
    from tablehelpers import verdicts_across_seeds  # test-only code, in tests/

    entries = list(load_tables())
    start = time.perf_counter()
    results = parallel_map(verdicts_across_seeds, [(e, range(50), "both") for e in entries])
    seconds = time.perf_counter() - start
    flipped = [e.key for e, r in zip(entries, results) if set(r.values()) != {"holds"}]
    return ("### Seeds — every table entry at 50 seeds, both engines\n\n"
            + table(["entries", "seeds", "verdicts", "flipped", "wall s"],
                    [[str(len(entries)), "50", str(50 * len(entries)), str(len(flipped)),
                      f"{seconds:.0f}"]])
            + ("\n\nFlipped: " + ", ".join(flipped) if flipped else ""))


def section_derive(repeats: int) -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import derivations

    return derivations.markdown(derivations.measure()).rstrip("\n")


SECTIONS: dict[str, Callable[[int], str]] = {
    "cold": section_cold, "check": section_check, "numeric": section_numeric,
    "symbolic": section_symbolic, "seeds": section_seeds, "derive": section_derive,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", help=f"some of: {', '.join(SECTIONS)}")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}")
    chosen = args.sections or list(SECTIONS)
    parts = []
    for name in chosen:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        part = SECTIONS[name](args.repeats)
        print(part + "\n", flush=True)
        parts.append(part)
    if not args.sections:
        machine = subprocess.run(["uname", "-srm"], capture_output=True, text=True).stdout.strip()
        cores = len(__import__("os").sched_getaffinity(0))
        header = (f"# Benchmark results\n\nMeasured by `.venv/bin/python benchmarks/run.py` on "
                  f"{machine} ({cores} cores), {time.strftime('%Y-%m-%d')}. Compare ratios "
                  f"within this one run; absolute times depend on the machine and its load.\n\n")
        (ROOT / "benchmarks" / "RESULTS.md").write_text(header + "\n\n".join(parts) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
