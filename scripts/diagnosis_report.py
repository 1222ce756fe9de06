"""How well matcalc names the planted mistakes of the diagnosis corpus.

    .venv/bin/python scripts/diagnosis_report.py [tests/data/mistakes.toml]

For every wrong claim in the corpus it prints the kinds matcalc found, whether
the planted kind is among them, and at the end the share named correctly.
"""

from __future__ import annotations

import sys
import time
import tomllib
from pathlib import Path

import matcalc

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "mistakes.toml"


def load(path: Path = CORPUS) -> list[dict]:
    return tomllib.loads(path.read_text(encoding="utf-8"))["mistake"]


def diagnose(mistake: dict) -> matcalc.Verdict:
    return matcalc.verify(mistake["identity"], vars=mistake["vars"],
                          assume=mistake.get("assume"), layout=mistake.get("layout", "numerator"))


def main(argv: list[str]) -> int:
    corpus = load(Path(argv[0])) if argv else load()
    named = 0
    start = time.perf_counter()
    for mistake in corpus:
        verdict = diagnose(mistake)
        kinds = [f.kind for f in verdict.diagnosis]
        hit = mistake["kind"] in kinds
        named += hit
        mark = "ok  " if hit else "MISS"
        print(f"{mark} {mistake['kind']:<15} found {', '.join(kinds) or '-':<40} "
              f"{mistake['identity']}")
    share = named / len(corpus)
    print(f"\n{named} of {len(corpus)} planted mistakes named with the right kind "
          f"({share:.0%}) in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
