"""How long derive's answers are against the forms a careful person writes.

    .venv/bin/python benchmarks/derivations.py        # prints the table and the summary

For every derivation of ``tests/data/derivations.toml`` (D2L, the Matrix Cookbook,
common losses and layers; references written by hand and verified by the test
suite), ``matcalc.derive`` is run and the length of its closed form is divided by
the reference's, both counted in tokens (names, numbers, operators, parentheses,
``.T``). Goals: median ratio <= 1.0, none above 1.3, none missing.
"""

from __future__ import annotations

import statistics
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "derivations.toml"
MEDIAN_GOAL, MAX_GOAL = 1.0, 1.3

def tokens(text: str) -> list[str]:
    """The tokens of an expression in matcalc's language (spaces do not count)."""
    sys.path.insert(0, str(ROOT))
    from matcalc.rewrites import tokens as split

    return split(text)


@dataclass(frozen=True)
class Row:
    id: str
    reference: str
    derived: str | None
    ratio: float | None
    note: str


def load() -> list[dict]:
    with CORPUS.open("rb") as handle:
        return tomllib.load(handle)["derivation"]


def measure_one(item: dict) -> Row:
    sys.path.insert(0, str(ROOT))
    import matcalc

    result = matcalc.derive(item["f"], item["wrt"], vars=item["vars"],
                            assume=item.get("assume"), layout=item["layout"],
                            order=item.get("order", 1))
    if result.expr is None:
        return Row(item["id"], item["reference"], None, None, result.note)
    ratio = len(tokens(result.expr)) / len(tokens(item["reference"]))
    return Row(item["id"], item["reference"], result.expr, ratio, "")


def measure() -> list[Row]:
    sys.path.insert(0, str(ROOT))
    from matcalc.parallel import parallel_map

    return parallel_map(measure_one, load())


def summary(rows: list[Row]) -> dict[str, object]:
    ratios = [r.ratio for r in rows if r.ratio is not None]
    return {"count": len(rows), "missing": sum(r.ratio is None for r in rows),
            "median": statistics.median(ratios) if ratios else None,
            "max": max(ratios) if ratios else None,
            "over": [r.id for r in rows if r.ratio is not None and r.ratio > MAX_GOAL]}


def markdown(rows: list[Row]) -> str:
    s = summary(rows)
    met = (s["missing"] == 0 and s["median"] is not None and s["median"] <= MEDIAN_GOAL
           and s["max"] <= MAX_GOAL)
    lines = [f"### (e) `derive` against hand-written references — {s['count']} "
             f"derivations; goals: median ≤ {MEDIAN_GOAL}, none above {MAX_GOAL}, none missing: "
             f"{'met' if met else 'MISSED'}", "",
             f"Median ratio {s['median']:.2f}, largest {s['max']:.2f}, missing {s['missing']} "
             "(tokens of derive's closed form / tokens of the reference).", "",
             "| derivation | reference | derive | ratio |", "|---|---|---|---|"]
    for r in rows:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "missing"
        lines.append(f"| {r.id} | `{r.reference}` | `{r.derived or r.note}` | {ratio} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    rows = measure()
    print(markdown(rows))
    s = summary(rows)
    return 0 if s["missing"] == 0 and s["max"] <= MAX_GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
