"""Kinks: where ``abs``, ``relu``, ``sign`` and ``norm1`` change branch.

matcalc's derivatives hold away from the kinks, and a claim can be right on
one side of a kink and wrong on the other (``d(sum(abs(x - 20)))/d(x) =
-ones(1, n)`` holds wherever every ``x_i < 20``), or wrong only between two
kinks closer together than any sampling step (``d(abs(s - 0.000001))/d(s) =
sign(s)``, wrong on 0 < s < 1e-6). :func:`scan_line` finds, along one line
through a sampled point, the roots of every kinked entry (of both sides of a
claim, the true derivative's kinks included): on a grid of geometrically
growing steps in both directions, halving every stretch whose ends differ in
more than one sign, solving coincident roots, and looking inside stretches
without a sign change for two roots of one entry (by interval arithmetic in
the exact stage, by the dips of the entry's magnitude in float64). It returns
places inside every gap between consecutive roots and beyond the outermost
ones, or says which gaps it could not resolve. Both engines use it: the exact
one with fractions (no margin needed), the numeric one in float64. Every line
keeps the assumptions: structured variables move within their structure,
``positive`` ones multiplicatively, ``spd`` ones by a positive factor, and
orthogonal ones stay where they are.

:func:`combinations` counts the combinations of the kink entries' signs the
points visited (a claim with kinks holds numerically only if it visited them
all: :data:`matcalc.verdict.KINKED`). The kinks in the sizes (``relu(n - 8)``)
are :mod:`matcalc.sizekinks`'.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import expr as E
from .shapes import SCALAR

#: operations with a kink where their argument crosses 0
KINK_OPS = ("abs", "relu", "sign", "norm1")
#: random lines scanned per size instantiation of the numeric stage
LINES = 2
#: the grid along a line (both directions), in units of the direction
STEPS = tuple(2.0 ** k for k in range(-6, 13))
#: the numeric stage separates roots down to this relative distance along a line
RESOLUTION = 1e-12
#: random places tried per stretch next to a region (halving it each time)
PICKS = 40
#: float64: searches for the dips of a kink argument's magnitude nested in one
#: stretch, and parabola steps per search
DIP_DEPTH = 400
DIP_STEPS = 30
#: halvings of a grid cell while showing it free of roots (scan_line's ``enclose``)
CERTIFY_DEPTH = 40
#: float64 roots closer together than this (relative) are taken as one
MERGE = 1e-14
#: evaluations of the kink arguments per line, and new sign patterns tried per line
BUDGET = 400
REGIONS = 512
#: ... at least this many evaluations per kink entry (two roots each, found and
#: isolated)
PROBES_PER_ENTRY = 24
#: places tried in one region before it counts as not visited
TRIES = 6


def kinks(exprs: Iterable[E.Expr]) -> list[E.Apply]:
    """The kinked operations in ``exprs`` (each distinct one once), those written
    without a kinked operation included (:func:`hidden_abs`)."""
    found: dict[E.Expr, None] = {}
    for expr in exprs:
        for node in E.walk(expr):
            if isinstance(node, E.Apply):
                kink = node if node.op in KINK_OPS else hidden_abs(node)
                if kink is not None:
                    found[kink] = None
    return list(found)


def hidden_abs(node: E.Apply) -> E.Apply | None:
    """``abs(u)`` where ``node`` is one written without abs, else None: the square
    root, the logarithm or a fractional power of ``u * u`` or ``u ** 2k``, and the
    norm of a scalar. Each is analytic on both sides of u = 0 but not across it
    (``x / sqrt(x * x)`` is ``sign(x)``, ``exp(log(x * x) / 2)`` is ``abs(x)``), so
    its sides are pieces of a piecewise claim like a kink's (adversary 4, J8)."""
    base = node.args[0] if node.args else None
    if node.op == "norm" and base is not None and base.shape == SCALAR:
        return E.Apply("abs", (base,), base.shape)
    fractional = (node.op == "pow" and isinstance(node.args[1], E.Const)
                  and node.args[1].value.denominator != 1)
    if not (node.op in ("sqrt", "log") or fractional) or not isinstance(base, E.Apply):
        return None
    if base.op == "mul" and base.args[0] == base.args[1]:
        u = base.args[0]
    elif (base.op == "pow" and isinstance(base.args[1], E.Const)
          and base.args[1].value.denominator == 1 and base.args[1].value % 2 == 0):
        u = base.args[0]
    else:
        return None
    return E.Apply("abs", (u,), u.shape)


def sides(values: Any) -> tuple[bool, bool]:
    """Whether some entry is below 0, and whether some is above."""
    return bool((values < 0).any()), bool((values > 0).any())


def move(env: Mapping[str, Any], direction: Mapping[str, Any], t: float,
         tags: Mapping[str, frozenset[str]]) -> dict[str, Any]:
    """The point ``t`` along the line from ``env`` in ``direction``, within every
    variable's assumptions."""
    out = {}
    log_step = math.copysign(math.log1p(abs(t)), t)
    for name, value in env.items():
        tag = tags.get(name, frozenset())
        if "orthogonal" in tag:
            out[name] = value
        elif "spd" in tag:
            out[name] = value * math.exp(log_step)
        elif "positive" in tag:
            out[name] = value * (direction[name] * log_step).exp()
        else:
            out[name] = value + direction[name] * t
    return out


def record(kinks_: Iterable[E.Apply], seen: Mapping[E.Expr, tuple[bool, bool]]) -> tuple:
    """``(text of the kinked operation, argument below 0 seen, above 0 seen)`` each."""
    return tuple((E.to_text(k), *seen.get(k.args[0], (False, False))) for k in kinks_)


def arguments(exprs: Iterable[E.Expr]) -> list[E.Expr]:
    """The distinct arguments of the kinked operations in ``exprs``."""
    return list(dict.fromkeys(k.args[0] for k in kinks(exprs)))



#: independent kink entries beyond which their sign combinations are not counted
#: (2**16 of them could never all be visited)
MAX_COMBINED = 16


def combinations(values: Sequence[tuple], patterns: Iterable[tuple | None]) -> tuple[int, int]:
    """How many combinations of the kink entries' signs ``patterns`` visited, and
    how many there are: 2**k for the k independent entries. ``values`` are the
    entries at a few random points; an entry 0 at all of them is 0 by structure
    (no kink), and one equal to another or to its negative at all of them is the
    same kink (``relu(x)`` and ``sign(-x)``): random values agree so only by
    construction. A pattern with an unknown sign or a 0 counts for nothing.

    On each combination a piecewise claim is one formula, analytic wherever it is
    defined, so agreement at a random point of that combination is evidence for
    all of it, however far its parts lie from the points (one orthant of 2**n is
    as good as any); a combination never visited is no evidence at all."""
    if not values:
        return 0, 1
    columns = list(zip(*values))
    kept: list[tuple[int, tuple]] = []
    for index, column in enumerate(columns):
        if all(v == 0 for v in column):
            continue
        negated = tuple(-v for v in column)
        if not any(column == other or negated == other for _, other in kept):
            kept.append((index, column))
    if len(kept) > MAX_COMBINED:
        return 0, 2 ** len(kept)
    seen = {tuple(p[i] for i, _ in kept) for p in patterns if p is not None}
    return sum(1 for c in seen if None not in c and 0 not in c), 2 ** len(kept)

#: a place on a line: the kink entries' values there (None: the sign of that entry
#: is unknown), or None outside the domain
Probe = Callable[[Any], "tuple | None"]


def pattern(values: tuple | None) -> tuple | None:
    """The sign of every kink entry (None where unknown), or None outside the domain."""
    if values is None:
        return None
    return tuple(None if v is None else (v > 0) - (v < 0) for v in values)


@dataclass
class Scan:
    """What :func:`scan_line` found along one line."""

    #: kink roots isolated (sign changes of one kink entry, coincident roots once)
    roots: int = 0
    #: roots solved exactly (counted once however many cells end at them)
    exact_roots: set = field(default_factory=set)
    #: each region between consecutive roots: (places in it, best first; its signs)
    regions: list[tuple[list[Any], tuple]] = field(default_factory=list)
    #: places where roots lie closer together than the resolution (or the budget
    #: ran out): the gaps there were not visited
    missed: int = 0
    #: roots of different entries closer together than float64 resolves, taken as one
    merged: int = 0
    #: whether every cell without a sign change was shown free of roots (``enclose``)
    certified: bool = False


def scan_line(probe: Probe, steps: Sequence[Any], resolution: Any, budget: int,
              exact: bool, pick: Callable[[], Any],
              enclose: Callable[[Any, Any], tuple | None] | None = None) -> Scan:
    """The regions between the kink roots along one line.

    ``probe(t)`` gives the kink entries' values at ``t``; ``steps`` (positive)
    make the grid ``0, +-steps``. A cell of the grid whose ends differ in the sign
    of several entries is halved until each part changes one sign (one root), or
    its width falls below ``resolution`` (relative to max(1, |t|)). There, with
    ``exact`` values, each changing entry's root is solved by linear
    interpolation; roots that are exact and equal coincide (no gap between them),
    exact distinct ones get a place between them; anything else is a miss.

    A cell whose ends show the same signs may still hide two roots of one entry
    (``abs(s*s - 1e-12)``). With ``enclose(a, b)`` (each entry's sign over the
    whole cell, by interval arithmetic: None where it may vanish) such a cell
    is halved until every part is shown free of roots or changes sign; what
    the budget leaves unshown is a miss.

    Each region comes with places in it, the first one random (``pick()``: a
    fraction of the way between two places known to lie in the region or next
    to it), so that no symmetry of the line (a midpoint at s = 0) decides.
    """
    values: dict[Any, tuple | None] = {}
    scan = Scan(certified=enclose is not None)

    def at(t: Any) -> tuple | None:
        if t not in values:
            values[t] = probe(t)
        return values[t]

    grid = sorted({0 * steps[0]} | {s for step in steps for s in (step, -step)})
    for t in grid:
        at(t)
    # (a, b, halvings, halvings while showing a cell free of roots)
    cells = [(a, b, 0, 0) for a, b in zip(grid, grid[1:])]
    while cells:
        a, b, depth, shown = cells.pop()
        pa, pb = pattern(at(a)), pattern(at(b))
        if pa == pb:
            if pa is None:
                continue
            if enclose is None:  # float64: look into the dips of |argument|
                if len(values) >= budget or shown >= DIP_DEPTH:
                    scan.missed += 1  # not looked into
                    continue
                t, complete = _dip(at, a, b, pa, budget - len(values))
                if t is not None:
                    cells += [(a, t, depth + 1, shown + 1), (t, b, depth + 1, shown + 1)]
                elif not complete:
                    scan.missed += 1
                continue
            box = enclose(a, b)
            if box is not None and None not in box and box == pa:
                continue  # no root inside
            if len(values) >= budget or shown >= CERTIFY_DEPTH:
                scan.missed += 1
                scan.certified = False
                continue
            m = (a + b) / 2
            cells += [(a, m, depth + 1, shown + 1), (m, b, depth + 1, shown + 1)]
            continue
        if pa is None or pb is None:  # a boundary of the domain: find regions near it
            if depth < 24 and len(values) < budget:
                m = (a + b) / 2
                cells += [(a, m, depth + 1, 0), (m, b, depth + 1, 0)]
            continue
        changed = [i for i, (x, y) in enumerate(zip(pa, pb)) if x != y]
        if len(changed) == 1:
            i = changed[0]
            # the other entries may hide two roots each in here as well
            if enclose is not None:
                box = enclose(a, b)
                hidden = box is None or any(box[j] is None or box[j] != pa[j]
                                            for j in range(len(pa)) if j != i)
            elif len(values) < budget and shown < DIP_DEPTH:
                t, complete = _dip(at, a, b, pa, budget - len(values), skip=i)
                if t is not None:
                    cells += [(a, t, depth + 1, shown + 1), (t, b, depth + 1, shown + 1)]
                    continue
                hidden = not complete
            else:
                hidden = True
            if hidden and len(values) < budget and shown < CERTIFY_DEPTH and enclose:
                m = (a + b) / 2
                cells += [(a, m, depth + 1, shown + 1), (m, b, depth + 1, shown + 1)]
                continue
            if hidden:
                scan.missed += 1
                scan.certified = False
            if pa[i] == 0 or pb[i] == 0:  # met exactly: counted once, from both sides
                scan.exact_roots.add(a if pa[i] == 0 else b)
            else:
                scan.roots += 1
            continue
        if b - a <= resolution * max(1, abs(a), abs(b)) or len(values) >= budget:
            split = _coincident(at, a, b, changed, exact)
            if split is None:
                scan.missed += 1
                scan.roots += 1
                continue
            roots, middles = split
            if exact:
                scan.exact_roots |= set(roots)
            else:
                scan.roots += len(roots)
                scan.merged += len(changed) - len(roots)
            for t in middles:
                at(t)
            continue
        m = (a + b) / 2
        cells += [(a, m, depth + 1, 0), (m, b, depth + 1, 0)]
    # regions: runs of equal signs, known at every entry; an entry 0 at a place is
    # a root met exactly, unless it is 0 everywhere (0 by structure)
    known = [v for v in values.values() if v is not None]
    structural = {i for i in range(len(known[0]) if known else 0)
                  if all(v[i] == 0 for v in known)}
    places = sorted(values)
    runs: list[list[int]] = []
    for k, t in enumerate(places):
        p = pattern(values[t])
        if runs and runs[-1] and k - 1 == runs[-1][-1] and p == pattern(values[places[k - 1]]):
            runs[-1].append(k)
        elif p is not None and None not in p and all(
                x != 0 or i in structural for i, x in enumerate(p)):
            runs.append([k])
    for run in runs:
        scan.regions.append((_candidates(run, places, at, pick), pattern(values[places[run[0]]])))
    scan.roots += len(scan.exact_roots)
    return scan


def _dip(at: Callable[[Any], Any], a: float, b: float, signs: tuple,
         budget: int, skip: int | None = None) -> tuple[float | None, bool]:
    """In float64, where no interval arithmetic shows a stretch free of roots: for
    each entry whose magnitude may dip inside ``[a, b]`` (the parabola through its
    values at both ends and the middle bends towards 0, with its vertex inside), a
    search for its smallest magnitude (successive parabolas). Returns a
    place where some entry's sign differs from ``signs`` (two roots, as in
    ``abs(s*s - 1e-12)``) or None, and whether every search ran to its end. The
    entry ``skip`` (one that changes sign between the ends) is left out."""

    def differs(v: tuple | None) -> bool:
        p = pattern(v)
        return p is not None and any(x != y for j, (x, y) in enumerate(zip(p, signs))
                                     if j != skip)

    m = (a + b) / 2
    vm, va, vb = at(m), at(a), at(b)
    if vm is None:
        return None, True
    if differs(vm):
        return m, True
    dips = [i for i, (x, y, z) in enumerate(zip(va, vm, vb))
            if i != skip and None not in (x, y, z) and signs[i] and _bends(x, y, z, signs[i])]
    for i in dips:
        # successive parabolic interpolation of signs[i] * entry i (exact for a parabola)
        (x0, f0), (x1, f1), (x2, f2) = ((t, signs[i] * v[i]) for t, v in
                                        ((a, va), (m, vm), (b, vb)))
        for _ in range(DIP_STEPS):
            if budget < 1:
                return None, False
            denominator = (x1 - x0) * (f1 - f2) - (x1 - x2) * (f1 - f0)
            if denominator == 0:
                break
            u = x1 - ((x1 - x0) ** 2 * (f1 - f2) - (x1 - x2) ** 2 * (f1 - f0)) / (
                2 * denominator)
            if not x0 < u < x2 or u == x1:
                break
            budget -= 1
            vu = at(u)
            if differs(vu):
                return u, True
            if vu is None or vu[i] is None:
                break
            fu = signs[i] * vu[i]
            if fu >= f1 - 1e-9 * abs(f1):  # no lower: the smallest magnitude is found
                break
            if u < x1:
                x1, x2, f1, f2 = u, x1, fu, f1
            else:
                x0, x1, f0, f1 = x1, u, f1, fu
    return None, True


def _bends(x: float, y: float, z: float, sign: int) -> bool:
    """Whether the parabola through ``x, y, z`` (at -1, 0, 1) turns towards 0
    (for an entry of ``sign``) with its vertex inside; rounding is no bend."""
    curve = x - 2 * y + z
    if sign * curve <= 1e-12 * max(abs(x), abs(y), abs(z)):
        return False
    return abs(z - x) < 2 * abs(curve)  # the vertex -(z - x) / (2 curve) within (-1, 1)


def _candidates(run: list[int], places: list[Any], at: Callable[[Any], Any],
                pick: Callable[[], Any]) -> list[Any]:
    """Places in one region, best first: a random one inside it (checked to show
    the region's signs), then the places evaluated there, from both ends inwards
    (near a root the kink's arguments are smallest, where float32 keeps up)."""
    ts = [places[k] for k in run]
    wanted = pattern(at(ts[0]))
    # between two places of the region, else towards a neighbour (that stretch holds a
    # root: it is halved towards the region until the random place lands in it)
    spans = [(ts[0], ts[-1] - ts[0])] if len(ts) > 1 else []
    if run[0] > 0:
        spans.append((ts[0], places[run[0] - 1] - ts[0]))
    if run[-1] + 1 < len(places):
        spans.append((ts[-1], places[run[-1] + 1] - ts[-1]))
    first = []
    for origin, width in spans:
        for _ in range(PICKS):
            t = origin + width * pick()
            if pattern(at(t)) == wanted:
                first = [t]
                break
            width = width / 2
        if first:
            break
    inwards = [t for pair in zip(ts, reversed(ts)) for t in pair][:len(ts)]
    return first + list(dict.fromkeys(inwards))


def _coincident(at: Callable[[Any], Any], a: Any, b: Any, changed: list[int],
                exact: bool) -> tuple[list[Any], list[Any]] | None:
    """The roots of the ``changed`` entries in the tiny cell ``[a, b]`` by linear
    interpolation, equal ones merged, and a place between each two consecutive
    ones; None when that cannot be trusted. Exact roots must be roots (the entry
    is exactly 0 there); float64 ones are merged within ``MERGE`` of each other
    (float64 cannot tell them apart)."""
    va, vb = at(a), at(b)
    roots: list[Any] = []
    for i in changed:
        x, y = va[i], vb[i]
        if x is None or y is None or x == y:
            return None
        r = a - x * (b - a) / (y - x)
        if exact:
            there = at(r)
            if there is None or there[i] != 0:
                return None
        roots.append(r)
    ordered: list[Any] = []
    for r in sorted(roots):
        if not ordered or r - ordered[-1] > (0 if exact else MERGE * max(1, abs(r))):
            ordered.append(r)
    return ordered, [(p + q) / 2 for p, q in zip(ordered, ordered[1:])]


def summary(scans: Sequence[Scan], visited: int, unvisited: int) -> str:
    """The kink record of one engine: roots per line, and whether every gap was visited."""
    if not scans:
        return ""
    roots = sorted({s.roots for s in scans})
    count = (f"{roots[0]}" if len(roots) == 1 else f"{roots[0]} to {roots[-1]}")
    missed = sum(s.missed for s in scans) + unvisited
    merged = sum(s.merged for s in scans)
    lines = f"{len(scans)} line{'s' if len(scans) > 1 else ''}"
    certified = all(s.certified for s in scans)
    found = "" if certified else " found"
    if roots == [0] and not missed:
        return (f"kinks: no kink root{found} on the {lines} scanned"
                + (" (shown by interval arithmetic)" if certified else "")
                + f"; {visited} sign patterns evaluated")
    text = (f"kinks: {count} kink root{'' if roots[-1] == 1 else 's'}{found} on each of "
            f"{lines}" + (" (no other, by interval arithmetic)" if certified else "") + ", "
            + (f"every gap between them visited" if not missed else
               f"{missed} gap{'s' if missed > 1 else ''} between them NOT visited (roots too "
               "close together to separate, a stretch not shown free of roots, or no point "
               "there whose kink signs are certain)")
            + f"; {visited} sign patterns evaluated")
    if merged:
        text += (f"; {merged} root{'s' if merged > 1 else ''} within float64 resolution of "
                 "another (the gaps there NOT visited)")
    return text
