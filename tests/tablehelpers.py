"""Table-wide helpers for the tests and the benchmarks (test-only code, so not
in the package). Module-level functions, so that :func:`matcalc.parallel.parallel_map`
can run them in worker processes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matcalc
from matcalc import expr as E
from matcalc.derivation import Derivation
from matcalc.engines import Engines
from matcalc.parsing import parse_expression
from matcalc.tablecheck import check_entry, entry_declarations, entry_scope
from matcalc.tables import Entry


def verdicts_across_seeds(args: tuple[Entry, Sequence[int], str]) -> dict[int, str]:
    """The entry's status at each seed, with ``method`` (the derivatives are
    derived once; the points are drawn anew for every seed)."""
    entry, seeds, method = args
    studies: dict[Any, Engines] = {}
    return {seed: check_entry(entry, seed, studies=studies, method=method).status
            for seed in seeds}


def entry_derivations(entry: Entry) -> list[Derivation]:
    """``derive`` for a table entry's function, in every layout the entry states
    (once per instance for a rule)."""
    out = []
    for instance in entry.instances or (None,):
        decl = entry_declarations(entry, instance)
        for layout, _ in entry.claims:
            f = parse_expression(entry.f, entry_scope(entry, instance, decl, layout))
            out.append(matcalc.derive(E.to_text(f), entry.wrt, vars=decl.describe(),
                                      assume=decl.assumptions(), layout=layout))
    return out
