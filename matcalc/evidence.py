"""What each engine found: plain, immutable records (no SymPy or torch objects).

The engines return these; the verdict carries them; the reports render them.
Numbers are stored as text (``"3/2"``, ``"0.5403"``) so that a record can be
printed, compared and serialised to JSON without the engines loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

Grid = tuple[tuple[str, ...], ...]


def sizes_text(sizes: Mapping[str, int], empty: str = "fixed sizes") -> str:
    """Dimension sizes as people read them, ``"m=2, n=3"``; ``empty`` when there are none."""
    return ", ".join(f"{k}={v}" for k, v in sizes.items()) or empty


@dataclass(frozen=True)
class Counterexample:
    """A point where the claim and the true value differ."""

    sizes: dict[str, int]
    point: dict[str, Grid]  # variable -> its value at the point
    lhs: Grid  # the left side (the true derivative) at the point
    rhs: Grid  # the right side (the claim) at the point
    exact: bool  # exact rational arithmetic (symbolic) or float64 (numeric)
    source: str  # "symbolic" or "numeric"


@dataclass(frozen=True)
class SymbolicEvidence:
    """The exact stage's finding over all its size instantiations.

    ``size_sets`` lists every instantiation decided: for ``proved``, each of
    them was proved (instantiations the stage could not decide are named in
    ``detail``, not listed); for ``refuted``, the last one is the refuting
    one. ``sizes`` is the first instantiation, or the refuting one.
    """

    status: str  # "proved" | "refuted" | "undecided"
    sizes: dict[str, int]
    detail: str  # one sentence: how it was proved, or why it could not decide
    proof: str | None = None  # "exact" | "polynomial identity test" | None
    error_bound: float | None = None  # for the randomized polynomial identity test
    entries: int = 0
    seconds: float = 0.0
    counterexample: Counterexample | None = None
    derivative: Grid | None = None  # the left side, entry by entry, at these sizes
    size_sets: tuple[dict[str, int], ...] = ()  # every instantiation decided
    #: for "undecided": "vanishes" (every valid point evaluated gave lhs = rhs, no
    #: proof) or "no-valid-point" (none found inside the domain); else None
    finding: str | None = None
    #: gaps between kink roots along the search lines that no point visited
    gaps_missed: int = 0


@dataclass(frozen=True)
class NumericPoint:
    sizes: dict[str, int]
    #: largest |lhs - rhs| / max(|lhs|, |rhs|) over the entries, leaving out those
    #: within the estimated rounding error of their computation
    error: float
    ok: bool  # the point agrees
    inconclusive: bool = False  # neither agrees nor disagrees (no rounding estimate)


@dataclass(frozen=True)
class NumericEvidence:
    status: str  # "agrees" | "disagrees" | "undecided"
    detail: str
    engine: str = "torch autograd, float64"
    points: tuple[NumericPoint, ...] = ()
    max_error: float = 0.0
    tolerance: float = 0.0  # rtol of the entrywise comparison
    seconds: float = 0.0
    counterexample: Counterexample | None = None
    samples_rejected: int = 0
    sizes_tried: tuple[dict[str, int], ...] = field(default_factory=tuple)
    atol: float = 0.0  # atol of the entrywise comparison
    inconclusive: int = 0  # points that neither agreed nor disagreed
    #: (kinked operation, its argument seen below 0, seen above 0) for each kink
    kinks: tuple[tuple[str, bool, bool], ...] = ()
    strategy: str = ""  # how the Jacobians were taken
    #: gaps between kink roots along the search lines that no point visited
    gaps_missed: int = 0
    #: roots closer to another than float64 resolves (any gap between them not visited)
    gaps_merged: int = 0
    #: kinks whose argument was seen on one side only: their other side, if there is
    #: one, was never evaluated, so agreement is no evidence that the claim holds there
    kinks_one_sided: tuple[str, ...] = ()
    #: size instantiations at which some combination of the independent kink entries'
    #: signs was never visited (:func:`matcalc.kinks.combinations`)
    combinations_missed: int = 0


def to_plain(record: Any) -> Any:
    """A dataclass record as JSON-ready dicts and lists."""
    if record is None:
        return None
    return _plain(asdict(record))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value
