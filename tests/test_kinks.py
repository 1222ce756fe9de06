"""The search for kink roots along a line (matcalc.kinks.scan_line), on functions
whose roots are known by hand, and the kinks in the sizes (size_kinks)."""

from __future__ import annotations

import random
from fractions import Fraction

from matcalc import kinks as K
from matcalc.sizekinks import size_kinks
from matcalc.declarations import declare
from matcalc.parsing import parse_expression

STEPS_EXACT = tuple(Fraction(2) ** k for k in range(-6, 13))


def _regions(scan: K.Scan) -> list[tuple]:
    return [signs for _, signs in scan.regions]


def _exact_scan(probe, enclose=None) -> K.Scan:
    rng = random.Random(1)
    return K.scan_line(probe, STEPS_EXACT, Fraction(1, 2 ** 50), 2000, exact=True,
                       pick=lambda: Fraction(rng.randrange(1, 2 ** 20), 2 ** 20),
                       enclose=enclose)


def test_a_gap_narrower_than_any_step_is_visited_exactly() -> None:
    # along s = 1/3 + t: abs(s - 1e-6) and sign(s) have roots 1e-6 apart
    def probe(t: Fraction) -> tuple:
        s = Fraction(1, 3) + t
        return (s - Fraction(1, 10 ** 6), s)

    scan = _exact_scan(probe)
    assert scan.roots == 2 and scan.missed == 0
    assert (-1, 1) in _regions(scan)  # 0 < s < 1e-6: the gap
    for places, signs in scan.regions:  # the first place of each region shows its signs
        assert K.pattern(probe(places[0])) == signs


def test_coincident_roots_are_one_root_and_no_gap() -> None:
    def probe(t: Fraction) -> tuple:
        s = Fraction(1, 3) + t
        return (2 * s, s)  # abs(2 s) against sign(s): the same root

    scan = _exact_scan(probe)
    assert scan.roots == 1 and scan.missed == 0
    assert sorted(_regions(scan)) == [(-1, -1), (1, 1)]


def test_two_roots_between_two_grid_places_are_found_by_interval_arithmetic() -> None:
    # s*s - 1e-12 is positive at every grid place: its roots +-1e-6 hide between two
    def probe(t: Fraction) -> tuple:
        s = Fraction(1, 3) + t
        return (s * s - Fraction(1, 10 ** 12),)

    def enclose(a: Fraction, b: Fraction) -> tuple:
        lo, hi = Fraction(1, 3) + a, Fraction(1, 3) + b
        low = 0 if lo <= 0 <= hi else min(lo * lo, hi * hi)
        high = max(lo * lo, hi * hi)
        low, high = low - Fraction(1, 10 ** 12), high - Fraction(1, 10 ** 12)
        return (1 if low > 0 else -1 if high < 0 else None,)

    grid = [Fraction(0), *STEPS_EXACT, *(-t for t in STEPS_EXACT)]
    assert all(probe(t)[0] > 0 for t in grid)  # the grid alone shows no sign change
    scan = _exact_scan(probe, enclose)
    assert scan.roots == 2 and scan.missed == 0 and scan.certified
    assert (-1,) in _regions(scan)


def test_float64_finds_a_hidden_pair_by_its_dip() -> None:
    rng = random.Random(2)

    def probe(t: float) -> tuple:
        s = 0.3 + t
        return (s * s - 1e-12,)

    scan = K.scan_line(probe, K.STEPS, K.RESOLUTION, K.BUDGET, exact=False,
                       pick=rng.random)
    assert scan.roots == 2 and scan.missed == 0
    assert (-1,) in _regions(scan)


def test_kinks_in_the_sizes() -> None:
    d = declare({"x": "n"})
    scope = d.scope("numerator")
    # relu(n - 8) changes at n = 8, 9; abs(n - 2) vanishes at n = 2; and n = 1 always
    found = size_kinks([parse_expression("relu(n - 8) * x", scope)], {"n": 3}, 4096)
    assert found == {"n": [1, 7, 8, 9]}
    found = size_kinks([parse_expression("abs(n - 2) * x", scope)], {"n": 3}, 4096)
    assert found == {"n": [1, 2, 3]}
    # beyond the sizes tried one by one: found by bisection between powers of two
    found = size_kinks([parse_expression("sign(n - 1000) * x", scope)], {"n": 3}, 4096)
    assert {999, 1000, 1001} <= set(found["n"])
    # no kink in the sizes: no size added
    assert size_kinks([parse_expression("abs(x) * n", scope)], {"n": 3}, 4096) == {}


def test_sign_combinations_count_independent_entries_only() -> None:
    """By hand: entries (x, -x, 0, y) at two points are two independent kinks (the
    second is the first negated, the third is 0 by structure): 4 combinations, of
    which the patterns below visit (+, -) and (-, +) only; with (+, +) and (-, -)
    added, all 4."""
    values = [(1.5, -1.5, 0.0, -2.0), (-0.25, 0.25, 0.0, 3.0)]
    seen = [(1, -1, 0, -1), (-1, 1, 0, 1)]
    assert K.combinations(values, seen) == (2, 4)
    both = seen + [(1, -1, 0, 1), (-1, 1, 0, -1), None, (1, -1, 0, None)]
    assert K.combinations(values, both) == (4, 4)
    wide = [tuple(float(i + 1 + k) for i in range(K.MAX_COMBINED + 1)) for k in range(2)]
    assert K.combinations(wide, []) == (0, 2 ** (K.MAX_COMBINED + 1))
