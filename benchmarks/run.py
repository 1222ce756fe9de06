"""matcalc's benchmarks, measured as ratios within one run on one machine.

    .venv/bin/python benchmarks/run.py            # every section, writes benchmarks/RESULTS.md
    .venv/bin/python benchmarks/run.py cold       # one section, prints only

Sections:
  cold  a cold ``matcalc verify`` against ``python -c "import torch, sympy"``
        (the floor any tool built on both pays); goal: ratio <= 1.3.

Machines are shared and noisy: runs alternate between the commands compared,
and medians are reported.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MATCALC = [PYTHON, "-m", "matcalc"]
BASELINE = [PYTHON, "-c", "import torch, sympy"]

COLD_IDENTITY = ["verify", "d(x.T @ A @ x)/d(x) = x.T @ (A + A.T)", "--var", "x:n",
                 "--var", "A:n,n"]


def wall(command: Sequence[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return elapsed


def alternate(commands: dict[str, Sequence[str]], repeats: int) -> dict[str, float]:
    """Median wall time of each command, runs interleaved."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            times[name].append(wall(command))
    return {name: statistics.median(values) for name, values in times.items()}


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def section_cold(repeats: int) -> str:
    medians = alternate({"baseline": BASELINE, "verify": MATCALC + COLD_IDENTITY}, repeats)
    ratio = medians["verify"] / medians["baseline"]
    rows = [
        ['`python -c "import torch, sympy"`', f"{medians['baseline']:.2f}", "1.00"],
        [f"`matcalc {' '.join(repr(a) if ' ' in a else a for a in COLD_IDENTITY)}`",
         f"{medians['verify']:.2f}", f"{ratio:.2f}"],
    ]
    verdict = "met" if ratio <= 1.3 else "MISSED"
    return (f"### (a) Cold `matcalc verify` (median of {repeats}, goal <= 1.3: {verdict})\n\n"
            + table(["command", "wall s", "ratio"], rows))


SECTIONS: dict[str, Callable[[int], str]] = {"cold": section_cold}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", choices=[[], *SECTIONS], default=[])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    chosen = args.sections or list(SECTIONS)
    parts = []
    for name in chosen:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        part = SECTIONS[name](args.repeats)
        print(part + "\n", flush=True)
        parts.append(part)
    if not args.sections:
        machine = subprocess.run(["uname", "-srm"], capture_output=True, text=True).stdout.strip()
        header = (f"# Benchmark results\n\nMeasured by `python benchmarks/run.py` on {machine}, "
                  f"{time.strftime('%Y-%m-%d')}. Ratios are within this one run.\n\n")
        (ROOT / "benchmarks" / "RESULTS.md").write_text(header + "\n\n".join(parts) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
