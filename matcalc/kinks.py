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

:func:`size_kinks` finds the kinks in the sizes: where an argument of the
sizes alone (``relu(n - 8)``) changes sign as a function of a dimension.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import expr as E

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
    """The kinked operations in ``exprs`` (each distinct one once)."""
    found: dict[E.Expr, None] = {}
    for expr in exprs:
        for node in E.walk(expr):
            if isinstance(node, E.Apply) and node.op in KINK_OPS:
                found[node] = None
    return list(found)


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


# ---------------------------------------------------------------------------
# Kinks in the sizes: relu(n - 8) * x is 0 up to n = 8 only


#: every size up to this is tried for a size-dependent kink, then powers of two
SIZE_SCAN = 64


def size_kinks(exprs: Iterable[E.Expr], base: Mapping[str, int],
               largest: int) -> dict[str, list[int]]:
    """For each dimension name, the sizes around which a kink argument that
    depends on the sizes alone (``relu(n - 8)``, ``abs(trace(eye(n)) - 2)``)
    changes sign or vanishes, as a function of that name with the others at
    ``base``: the sizes on both sides of every change, and 1. Likewise for the
    arguments of log, sqrt, exp, ..., divisors and powers' bases (``log(n - 3)``
    is defined from n = 4 on), where a change is found. Exact arithmetic
    (intervals for exp, log, ...); sizes up to ``SIZE_SCAN``, then powers of two
    up to ``largest``, with the changes between them found by bisection."""
    from .fields import ExactKit, IntervalKit, NotRational, OutOfDomain, base as plain
    from .jets import Jets

    def sign(argument: E.Expr, sizes: Mapping[str, int]) -> int:
        for kit in (ExactKit(), IntervalKit()):
            try:
                values = [plain(v) for v in Jets(kit, {}, sizes).value(argument).flat]
            except NotRational:
                continue
            except (OutOfDomain, ZeroDivisionError):
                return 0
            signs = {(v > 0) - (v < 0) if kit.name == "exact" else
                     1 if v.x.a > 0 else -1 if v.x.b < 0 else 0 for v in values}
            return signs.pop() if len(signs) == 1 else 2  # 2: entries of both signs
        return 0  # pragma: no cover - the interval kit evaluates everything

    found: dict[str, set[int]] = {}
    for argument, kinked in _size_arguments(exprs):
        for name in sorted(_size_names(argument)):
            if name not in base:
                continue
            tried = list(range(1, SIZE_SCAN + 1))
            k = SIZE_SCAN * 2
            # beyond SIZE_SCAN only where no value grows with the size (eye(n) would)
            scalar = all(not d.names for n in E.walk(argument) for d in n.shape)
            while scalar and k <= largest:
                tried.append(k)
                k *= 2
            signs = {k: sign(argument, {**base, name: k}) for k in tried}
            critical: set[int] = set()
            for low, high in zip(tried, tried[1:]):
                while signs[low] != signs[high] and high - low > 1:
                    middle = (low + high) // 2
                    signs[middle] = sign(argument, {**base, name: middle})
                    if signs[middle] != signs[low]:
                        high = middle
                    else:
                        low = middle
                if signs[low] != signs[high]:
                    critical |= {low, high}
            for k, s in signs.items():
                if s == 0:
                    critical |= {k - 1, k, k + 1} - {0}
            if kinked or critical:
                found.setdefault(name, set()).update(critical | {1})
    return {name: sorted(sizes) for name, sizes in found.items()}


#: the degree in a size assumed for a size-only subexpression that is no
#: polynomial in it (``2 ** n``, ``log(n)``): as many sizes as Declarations allows
UNBOUNDED_DEGREE = 64


def size_value_sizes(exprs: Iterable[E.Expr], largest: int) -> dict[str, list[int]]:
    """Sizes at which to decide a claim that uses a dimension's size as a value
    (a ``Size`` node: ``(n - 2) * (n - 3) * 1e-12 * x``), for each such name:
    ``1, 2, ..., D + 4`` (at most ``largest``), where ``D`` bounds the claim's
    degree in the size through those values (the sum over the maximal
    size-only subexpressions of their degrees). Through its shapes alone a
    claim is decided at the usual three sizes; a polynomial of degree ``D`` in
    the size that vanishes at ``D + 1`` further sizes vanishes at all, so
    ``x = (1 + (n-2)*(n-3)*(n-4)*1e-12) * x``, zero at the usual sizes 2, 3, 4,
    is refuted at n = 1 and 5. A claim without sizes as values gets none."""
    total: dict[str, int] = {}
    for expr in exprs:
        for sub in _size_only_maximal(expr):
            for name, degree in _size_degree(sub).items():
                total[name] = total.get(name, 0) + degree
    return {name: list(range(1, min(degree + 4, largest) + 1))
            for name, degree in total.items() if degree}


def _size_only_maximal(expr: E.Expr) -> list[E.Expr]:
    """The largest subexpressions made of constants and sizes only, with a size."""
    found: list[E.Expr] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, E.Size) or (
                isinstance(node, E.Apply) and node.args and all(
                    isinstance(n, (E.Size, E.Const)) or (isinstance(n, E.Apply) and n.args)
                    for n in E.walk(node)) and any(isinstance(n, E.Size) for n in E.walk(node))):
            found.append(node)
        elif isinstance(node, E.Apply):
            stack.extend(node.args)
        elif isinstance(node, E.Derivative):
            stack.extend(E.children(node))
    return found


def _size_degree(node: E.Expr) -> dict[str, int]:
    """A bound on the degree in each size name of a size-only expression (a
    quotient counts numerator and denominator: p / q = r / s is p s = q r)."""
    if isinstance(node, E.Size):
        degree: dict[str, int] = {}
        for name in node.dim.names:
            degree[name] = degree.get(name, 0) + 1
        return degree
    if not isinstance(node, E.Apply):
        return {}
    parts = [_size_degree(a) for a in node.args]
    names = {name for part in parts for name in part}
    if node.op in ("neg", "add", "sub"):
        return {name: max(p.get(name, 0) for p in parts) for name in names}
    if node.op in ("mul", "div"):
        return {name: sum(p.get(name, 0) for p in parts) for name in names}
    if node.op == "pow" and not parts[1] and isinstance(node.args[1], E.Const) \
            and node.args[1].value.denominator == 1 and 0 <= node.args[1].value <= 64:
        return {name: d * int(node.args[1].value) for name, d in parts[0].items()}
    base = node.args[0]
    while isinstance(base, E.Apply) and base.op == "neg":
        base = base.args[0]
    if node.op == "pow" and isinstance(base, E.Const) and abs(base.value) == 1 \
            and all(d <= 1 for d in parts[1].values()):
        return {}  # (-1)**n: periodic in n, its two parities decided as usual
    return {name: UNBOUNDED_DEGREE for name in names}


def _size_arguments(exprs: Iterable[E.Expr]) -> list[tuple[E.Expr, bool]]:
    """Arguments that depend on the sizes alone where the sign matters: of the
    kinked operations (True), and of those whose domain or form depends on it
    (log, sqrt, a divisor, a power's base, exp, ...; False)."""
    from .ops import REGISTRY

    found: dict[E.Expr, bool] = {}
    for expr in exprs:
        for node in E.walk(expr):
            if not isinstance(node, E.Apply):
                continue
            spec = REGISTRY[node.op]
            kinked = node.op in KINK_OPS
            if not (kinked or not spec.rational or spec.guard is not None):
                continue
            args = node.args[1:] if node.op == "div" else node.args[:1]
            for a in args:
                if _size_names(a) and not any(isinstance(n, (E.Var, E.Derivative))
                                              for n in E.walk(a)):
                    found[a] = found.get(a, False) or kinked
    return list(found.items())


def _size_names(node: E.Expr) -> set[str]:
    names: set[str] = set()
    for sub in E.walk(node):
        if isinstance(sub, E.Size):
            names |= set(sub.dim.names)
        elif isinstance(sub, E.Apply):
            for d in sub.dims:
                names |= set(d.names)
    return names
