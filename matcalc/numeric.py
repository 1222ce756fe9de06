"""The numeric stage: torch autograd at random float64 points.

Both sides of the identity are evaluated at every point by
:mod:`matcalc.torcheval` (exact Jacobians, reverse or forward mode by the
smaller side, the points of one size in one batched pass) and compared entry
by entry, scale-free (:mod:`matcalc.agreement`). No Jacobian is probed along
random directions: a claim has as many entries as its Jacobian and both obey one
size limit (:mod:`matcalc.limits`), so a Jacobian too large to form is refused
with its claim.

Points are drawn from a seeded generator (the seed fixes every sample), satisfy
every assumption (:mod:`matcalc.assumptions`; orthogonal matrices alternate
between rotations and reflections), spread over scales from 1e-2 to 1e2, reach
both sides of every kink they can (:mod:`matcalc.kinks`), and are rejected when
an operation's domain guard objects (near a pole, a kink of ``abs``/``relu``, a
badly conditioned matrix, a ``logdet`` of a matrix with negative determinant)
or a value overflows, underflows or saturates. The truth (the Jacobians and
values at each point, and their float32 versions when the comparison needs
them) is computed once per point and reused by every claim on the session:
the closed form's check and the diagnosis' candidates.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import assumptions as A
from . import expr as E
from . import kinks as K
from ._lazy import torch
from .agreement import DEFAULT_ATOL, DEFAULT_RTOL, ROUNDING_RUNS, judge
from .budget import check_time
from .errors import DeclarationError
from .evidence import Counterexample, Grid, NumericEvidence, NumericPoint
from .shapes import Shape, concrete
from .torcheval import (Evaluator, NumericUnsupported, Reject, check_size, differentiated,
                        guard_tree, outermost_derivatives, prefill, strategy)

__all__ = ["Evaluator", "NumericSession", "NumericUnsupported", "check_tolerances"]

#: random points per size instantiation (before the points found past kinks)
POINTS_PER_SIZE = 3
#: the default tolerances of the entrywise comparison (matcalc.agreement)
RTOL, ATOL = DEFAULT_RTOL, DEFAULT_ATOL
TOLERANCE = RTOL
#: draws before giving up on finding a point inside the domain
MAX_DRAWS = 60
#: rounds of further points for a claim with inconclusive points
REFILLS = 2
#: points after the first are drawn at scales up to 10**SCALE_DECADES and down
#: to 10**-SCALE_DECADES ...
SCALE_DECADES = 2.0
#: ... shrinking to 1 over this many rejected draws in a row
SHRINK_DRAWS = 20


@dataclass
class _Point:
    sizes: dict[str, int]
    env: dict[str, Any]
    cache: dict[Any, Any]  # native Jacobians at this point
    memo: dict[Any, Any]  # values at this point (from the guarded evaluation)
    low: Any = field(default=None)  # (env, cache, memo) in float32, when needed


class NumericSession:
    """Sampled points (per size instantiation) shared by every claim checked.

    ``rtol`` and ``atol`` are the tolerances of the entrywise comparison
    (:mod:`matcalc.agreement`: by default 1e-8 relative and no absolute one);
    entries outside them are judged again against the estimated rounding error.
    """

    def __init__(self, shapes: Mapping[str, Shape], tags: Mapping[str, frozenset[str]],
                 size_sets: Sequence[Mapping[str, int]], seed: int = 0,
                 points_per_size: int = POINTS_PER_SIZE, rtol: float | None = None,
                 atol: float | None = None) -> None:
        self.shapes = dict(shapes)
        self.tags = dict(tags)
        self.size_sets = [dict(s) for s in size_sets]
        self.seed = seed
        # every size instantiation takes each combination of rotation and reflection
        # of up to three orthogonal variables (see _draw)
        flips = sum(1 for t in self.tags.values() if "orthogonal" in t)
        self.points_per_size = max(points_per_size, 2 ** min(flips, 3))
        check_tolerances(rtol, atol)
        self.rtol = DEFAULT_RTOL if rtol is None else float(rtol)
        self.atol = DEFAULT_ATOL if atol is None else float(atol)
        self.points: list[_Point] | None = None
        self.exprs: list[E.Expr] = []  # what the points were checked against
        self._gens: list[Any] = []  # per size instantiation: its generator ...
        self._drawn: list[int] = []  # ... and how many points it has drawn
        self.rejected = 0
        #: why the comparison found no rounding estimate, per inconclusive point
        self.no_estimate: list[str] = []
        #: points that disagreed only within the tolerance, beyond the rounding estimate
        self.hidden = 0
        self.reasons: dict[str, int] = {}
        #: per size instantiation with kinks: (line scans, gaps not visited, patterns,
        #: sign combinations visited, sign combinations: :func:`matcalc.kinks.combinations`)
        self.scans: list[tuple[list, int, int, int, int]] = []

    # -- points

    def sample(self, exprs: Sequence[E.Expr]) -> list[_Point]:
        """Points valid for every expression in ``exprs`` (drawn once, then reused):
        ``points_per_size`` per size instantiation, spread over scales, plus the
        points found on the far side of kinks."""
        if self.points is not None:
            return self.points
        self.exprs = list(dict.fromkeys(exprs))
        kinked = list(_kink_parts(tuple(self.exprs))[0])
        points = []
        for index, sizes in enumerate(self.size_sets):
            for name, shape in self.shapes.items():
                check_size(E.Var(name, shape), sizes)
            self._gens.append(A.generator(self.seed * 1_000_003 + index))
            self._drawn.append(0)
            here = self._more(index, self.points_per_size, self.exprs)
            if kinked and here:
                here += self._cross_kinks(kinked, here, sizes, self._gens[index], self.exprs)
            points += here
        self.points = points
        return points

    def _more(self, index: int, count: int, exprs: Sequence[E.Expr]) -> list[_Point]:
        """Up to ``count`` further points of size instantiation ``index``,
        continuing its schedule of scales."""
        sizes, gen = self.size_sets[index], self._gens[index]
        arguments = _kink_parts(tuple(exprs))[1]
        targets = differentiated(exprs, sizes)
        here: list[_Point] = []
        misses = 0
        for _ in range(MAX_DRAWS):
            check_time()
            if len(here) == count:
                break
            env = self._draw(sizes, gen, self._drawn[index], misses)
            try:
                here.append(self._admit(env, sizes, exprs, arguments or None, targets))
                self._drawn[index] += 1
                misses = 0
            except Reject as reject:
                self.rejected += 1
                reason = str(reject).splitlines()[0][:80]
                self.reasons[reason] = self.reasons.get(reason, 0) + 1
                misses += 1
        return here

    def _draw(self, sizes: Mapping[str, int], gen: Any, k: int, misses: int) -> dict[str, Any]:
        """The ``k``-th point of a size instantiation: the first at unit scale, then
        each variable at its own scale, alternately in [1e-2, 1] and [1, 1e2]
        (shrinking towards 1 as draws are rejected, and after ``SHRINK_DRAWS``
        rejections in a row every other draw in [1e-2, 1], every other one with the
        entries' magnitudes); the determinant of orthogonal
        matrices (a rotation or a reflection, an involution's rank parity, a sign
        pattern's parity) follows bit i of ``k`` for the i-th orthogonal variable,
        and a size instantiation draws at least ``2**k`` points for ``k <= 3`` of
        them, so each size takes every combination for three of them (random for
        a fourth): at a single pinned size too, two reflections at once."""
        code = k
        shrink = max(0.0, 1.0 - misses / SHRINK_DRAWS)
        low, high = ((-SCALE_DECADES, 0.0) if k % 2 else (0.0, SCALE_DECADES)) if k else (0, 0)
        env, orthogonal = {}, 0
        for name, shape in self.shapes.items():
            tags = self.tags.get(name, frozenset())
            scale = 1.0
            if k:
                scale = 10.0 ** ((low + (high - low) * gen.random()) * shrink)
            if misses >= SHRINK_DRAWS and not misses % 2:
                # a guard that objects at unit scale (tanh(W @ x + b) saturates at n = 200,
                # its entries about N(0, n)): every other draw goes down to 1e-2
                scale = 10.0 ** (-SCALE_DECADES * gen.random())
            reflect = None
            if "orthogonal" in tags:
                reflect = bool((code >> orthogonal) & 1) if orthogonal < 3 else None
                orthogonal += 1
            value = A.sample_tensor(tags, concrete(shape, sizes), gen, scale, reflect)
            if misses >= SHRINK_DRAWS and misses % 2 and not tags & {"spd", "orthogonal"}:
                # a narrow domain (log(sin(X)), sqrt(1 - x*x), ...) rejected many draws in
                # a row: every other draw takes the entries' magnitudes, near unit scale,
                # which keeps every assumption (symmetric, diagonal, invertible, positive)
                value = value.abs()
            env[name] = value
        return env

    def _admit(self, env: dict[str, Any], sizes: Mapping[str, int],
               exprs: Sequence[E.Expr], kinks: Sequence[E.Expr] | None = None,
               targets: set[str] | None = None) -> _Point:
        """The point, if every guard accepts it (raises :class:`Reject`); with
        ``kinks`` (their arguments: every kink of ``exprs``), the kinks are not kept
        at the guards' margin but their signs must be certain (:func:`certain_kinks`):
        a vector of 200 entries is never 0.01 away from every kink at once."""
        cache: dict[Any, Any] = {}
        # the functions of small Jacobians keep their graphs, for prefill to reuse
        if targets is None:
            targets = differentiated(exprs, sizes)
        env = {k: v.detach().requires_grad_(k in targets) for k, v in env.items()}
        try:
            with torch.enable_grad() if targets else torch.no_grad():
                evaluator = Evaluator(env, sizes, guards=True, jacobians=cache,
                                      kink_guards=kinks is None)
                for e in exprs:
                    guard_tree(evaluator, e)
            if kinks is not None:
                with torch.no_grad():
                    certain_kinks(env, sizes, kinks, evaluator)
        except RuntimeError as error:  # torch errors: a singular matrix
            raise Reject(str(error)) from None
        return _Point(dict(sizes), env, cache, evaluator.memo)

    def _cross_kinks(self, kinked: Sequence[E.Apply], here: list[_Point],
                     sizes: Mapping[str, int], gen: Any,
                     exprs: Sequence[E.Expr]) -> list[_Point]:
        """A point in every gap between kink roots along random lines through
        ``here`` (:func:`matcalc.kinks.scan_line` in float64), one per sign pattern
        not seen yet. Such a point may lie closer to a kink than the guards'
        margin: it is admitted when every kink argument's sign is certain there
        (:func:`certain_kinks`)."""
        arguments = _kink_parts(tuple(exprs))[1]
        values = [_kink_values(p.env, sizes, arguments) for p in here]
        patterns = {K.pattern(v) for v in values}
        extra: list[_Point] = []
        scans, unvisited = [], 0
        for line in range(min(K.LINES, len(here))):
            check_time()
            base = here[line]
            direction = {
                name: A.sample_tensor(self.tags.get(name, frozenset()) - {"positive", "spd"},
                                      concrete(shape, sizes), gen)
                for name, shape in self.shapes.items()
                if "orthogonal" not in self.tags.get(name, frozenset())}

            def probe(t: float, base: _Point = base, direction: dict = direction) -> Any:
                return _kink_values(K.move(base.env, direction, t, self.tags), sizes, arguments)

            entries = len(patterns and next(iter(patterns)) or ())
            scan = K.scan_line(probe, K.STEPS, K.RESOLUTION,
                               max(K.BUDGET, K.PROBES_PER_ENTRY * entries), exact=False,
                               pick=gen.random)
            scans.append(scan)
            tried = 0
            for places, pattern in scan.regions:
                if pattern in patterns:
                    continue
                if tried >= K.REGIONS:
                    unvisited += 1
                    continue
                tried += 1
                uncertain = False
                for t in places[:K.TRIES]:
                    env = K.move(base.env, direction, t, self.tags)
                    try:
                        point = self._admit(env, sizes, exprs, arguments)
                    except Reject as reject:
                        uncertain |= str(reject).startswith(UNCERTAIN)
                        continue
                    extra.append(point)
                    patterns.add(pattern)
                    break
                else:
                    unvisited += uncertain
        seen, combined = K.combinations([v for v in values if v is not None], patterns)
        self.scans.append((scans, unvisited, len(patterns), seen, combined))
        return extra

    # -- claims

    def compare(self, lhs: E.Expr, rhs: E.Expr) -> NumericEvidence:
        start = time.perf_counter()
        points = self.sample([lhs, rhs])
        if not points:
            common = max(self.reasons, key=self.reasons.get) if self.reasons else "no reason"
            return NumericEvidence(
                "undecided",
                f"no valid point in {MAX_DRAWS} draws per size (most often: {common})",
                samples_rejected=self.rejected,
                sizes_tried=tuple(self.size_sets),
                seconds=time.perf_counter() - start,
                tolerance=self.rtol, atol=self.atol,
            )
        derivatives = outermost_derivatives(lhs) + outermost_derivatives(rhs)
        prefill(points, derivatives)
        results: list[NumericPoint] = []
        found: list[tuple[_Point, Any, Any]] = []  # disagreeing points
        by_rounding = 0
        self.hidden = 0
        todo = list(points)
        for _ in range(1 + REFILLS):
            for point in todo:
                check_time()
                judged = self._judge(point, lhs, rhs)
                if judged is None:
                    continue
                outcome, left, right, explained = judged
                by_rounding += explained
                results.append(outcome)
                if not outcome.ok and not outcome.inconclusive:
                    found.append((point, left, right))
            # a size instantiation short of conclusive points gets more (an inconclusive
            # point is one where float32 over- or underflowed: another scale may do)
            todo = []
            for index, sizes in enumerate(self.size_sets):
                here = [r for r in results if r.sizes == sizes]
                decided = sum(1 for r in here if not r.inconclusive)
                if decided < self.points_per_size and len(here) > decided and not found:
                    extra = self._more(index, self.points_per_size - decided,
                                       list(dict.fromkeys([*self.exprs, lhs, rhs])))
                    self.points.extend(extra)
                    todo += extra
            if not todo:
                break
            prefill(todo, derivatives)
        counterexample = None
        if found:
            point, left, right = found[0]
            shown = shown_pair(left, right)
            counterexample = Counterexample(
                sizes=dict(point.sizes),
                point={name: tensor_grid(v) for name, v in point.env.items()},
                lhs=shown[0],
                rhs=shown[1],
                exact=False,
                source="numeric",
            )
        seconds = time.perf_counter() - start
        kinks = _kink_record(K.kinks([lhs, rhs]), self.points)
        missed = sum(s.missed for scans, *_ in self.scans for s in scans) + sum(
            unvisited for _, unvisited, *_ in self.scans) if kinks else 0
        merged = sum(s.merged for scans, *_ in self.scans for s in scans) if kinks else 0
        short = sum(seen < combined for *_, seen, combined in self.scans) if self.scans else 1
        common = dict(tolerance=self.rtol, atol=self.atol, seconds=seconds,
                      samples_rejected=self.rejected, sizes_tried=tuple(self.size_sets),
                      kinks=kinks, strategy=strategy(derivatives, points), gaps_missed=missed,
                      gaps_merged=merged, combinations_missed=short if kinks else 0,
                      kinks_one_sided=tuple(t for t, below, above in kinks if not (below and above)))
        decided = [r for r in results if not r.inconclusive]
        unsure = len(results) - len(decided)
        if not decided:
            why = ("both sides were non-finite at every point" if not results else
                   f"at all {unsure} points an entry differs by more than 1024 ulps where its "
                   f"rounding error could not be estimated ({self._no_estimate_why()})")
            return NumericEvidence("undecided", why, points=tuple(results), inconclusive=unsure,
                                   **common)
        failed = sum(1 for r in decided if not r.ok)
        status = "disagrees" if failed else "agrees"
        detail = (f"lhs and rhs agree at all {len(decided)} points" if not failed else
                  f"lhs and rhs differ at {failed} of {len(decided)} points")
        if self.hidden:
            detail += (f" ({'all' if self.hidden == failed else self.hidden} beyond the "
                       "estimated rounding error of their computation but within the "
                       f"tolerance {self.rtol:g}: a difference the tolerance would hide)")
        if by_rounding:
            detail += (f" ({by_rounding} entries only within the estimated rounding error "
                       "of their computation)")
        if unsure:
            detail += f"; {unsure} more points inconclusive (rounding error not estimable)"
        if kinks:
            detail += "; " + self._kink_text(kinks)
        return NumericEvidence(
            status=status,
            detail=detail,
            points=tuple(results),
            max_error=max(r.error for r in decided),
            counterexample=counterexample,
            inconclusive=unsure,
            **common,
        )

    def _no_estimate_why(self) -> str:
        """The most frequent reason the comparison found no rounding estimate."""
        whys = Counter(self.no_estimate)
        return whys.most_common(1)[0][0] if whys else "float32 failed"

    def _kink_text(self, kinks: tuple) -> str:
        """The kink record: the lines scanned (all sizes), or the sides seen."""
        one_side = [text for text, below, above in kinks if not (below and above)]
        scans = [s for scans, *_ in self.scans for s in scans]
        text = K.summary(scans, sum(p for _, _, p, *_ in self.scans),
                         sum(u for _, u, *_ in self.scans)) if scans else "kinks: no line scanned"
        short = [(seen, combined) for *_, seen, combined in self.scans if seen < combined]
        if short:
            text += (f"; sign combinations of the independent kink entries visited: "
                     f"{' and '.join(f'{seen} of {combined:,}' for seen, combined in short[:3])}")
        if one_side:
            text += (f"; seen on one side only: {', '.join(one_side)} (the other side, if there "
                     "is one, was never evaluated)")
        return text

    def _judge(self, point: _Point, lhs: E.Expr,
               rhs: E.Expr) -> tuple[NumericPoint, Any, Any, int] | None:
        """The comparison at one point, or None where it cannot be made."""
        evaluator = Evaluator(point.env, point.sizes, jacobians=point.cache, memo=point.memo)
        try:
            with torch.no_grad():  # (a Jacobian's own pass turns gradients on)
                left = evaluator.value(lhs).detach()
                right = evaluator.value(rhs).detach()
        except RuntimeError:  # torch refused (a singular matrix in the claim): skip
            self.rejected += 1
            return None
        first = lhs if _cheaper(lhs, rhs) else rhs
        judgement = judge(left, right, self.rtol, self.atol,
                          lambda run: _low_precision(point, lhs, rhs, run),
                          (first is lhs, lambda: _low_side(point, first)))
        if judgement is None:  # a non-finite side
            self.rejected += 1
            return None
        if judgement.why:
            self.no_estimate.append(judgement.why)
        self.hidden += judgement.hidden > 0
        outcome = NumericPoint(dict(point.sizes), judgement.error,
                               judgement.status == "agrees", judgement.status == "inconclusive")
        return outcome, left, right, judgement.by_rounding


@lru_cache(maxsize=1024)
def _kink_parts(exprs: tuple[E.Expr, ...]) -> tuple[tuple[E.Apply, ...], tuple[E.Expr, ...]]:
    """The kinked operations in ``exprs`` and their distinct arguments."""
    return tuple(K.kinks(exprs)), tuple(K.arguments(exprs))


def _sides(point: _Point, arguments: Sequence[E.Expr]) -> dict[E.Expr, tuple[bool, bool]]:
    """Which signs each kink argument shows at ``point`` (none where it cannot
    be evaluated)."""
    evaluator = Evaluator(point.env, point.sizes, jacobians=point.cache, memo=point.memo)
    found = {}
    with torch.no_grad():
        for a in arguments:
            try:
                found[a] = K.sides(evaluator.value(a))
            except (RuntimeError, NumericUnsupported):
                found[a] = (False, False)
    return found


#: the start of the reason a point is refused for a kink sign that is not certain
UNCERTAIN = "a kink's sign is not certain"


def _kink_values(env: Mapping[str, Any], sizes: Mapping[str, int],
                 arguments: Sequence[E.Expr]) -> tuple | None:
    """Every kink argument's entries at ``env`` (float64), or None where they
    cannot be evaluated."""
    evaluator = Evaluator(env, sizes)
    try:
        with torch.no_grad():
            values = [evaluator.value(a).reshape(-1) for a in arguments]
    except (RuntimeError, NumericUnsupported):
        return None
    flat = torch.cat(values) if values else torch.zeros(0, dtype=torch.float64)
    if not bool(torch.isfinite(flat).all()):
        return None
    return tuple(flat.tolist())


def certain_kinks(env: Mapping[str, Any], sizes: Mapping[str, int],
                  arguments: Sequence[E.Expr], evaluator: Evaluator) -> None:
    """Refuse the point (:class:`Reject`) unless every kink argument's sign is
    certain in float64: the same argument in float32 differs from it by less
    than half its magnitude (float32's rounding error is about 2**29 times
    float64's), or both are exactly 0 (an argument that is 0 by structure)."""
    low = Evaluator({k: v.to(torch.float32) for k, v in env.items()}, sizes,
                    dtype=torch.float32)
    for a in arguments:
        high = evaluator.value(a).reshape(-1)
        rough = low.value(a).reshape(-1).to(torch.float64)
        both_zero = (high == 0) & (rough == 0)
        sure = (high - rough).abs() < high.abs() / 2
        if not bool((sure | both_zero).all()):
            raise Reject(f"{UNCERTAIN} (of {E.to_text(a)[:40]})")


def _kink_record(kinked: Sequence[E.Apply], points: Sequence[_Point]) -> tuple:
    if not kinked:
        return ()
    seen: dict[E.Expr, tuple[bool, bool]] = {}
    for point in points:
        for a, (below, above) in _sides(point, [k.args[0] for k in kinked]).items():
            was = seen.get(a, (False, False))
            seen[a] = (was[0] or below, was[1] or above)
    return K.record(kinked, seen)


@lru_cache(maxsize=256)
def _cheaper(lhs: E.Expr, rhs: E.Expr) -> bool:
    """Whether ``lhs`` is likely the cheaper side to evaluate again: fewer
    derivatives (each a backward pass), then fewer nodes; the rhs on a tie.
    (Asked at every point: kept, a walk of both trees costs 20 us.)"""
    def cost(e: E.Expr) -> tuple[int, int]:
        nodes = list(E.walk(e))
        return sum(isinstance(n, E.Derivative) for n in nodes), len(nodes)

    return cost(lhs) < cost(rhs)


def _low_side(point: _Point, side: E.Expr) -> Any:
    """One side at ``point`` in float32 from the inputs rounded to nearest (a
    float32 array: the comparison reads only the entries it needs), or None:
    the evaluation :func:`_low_precision` makes in its run 0, kept with the
    point for it to reuse."""
    if point.low is None:
        point.low = ({k: v.detach().to(torch.float32) for k, v in point.env.items()}, {}, {})
    env, cache, memo = point.low
    evaluator = Evaluator(env, point.sizes, jacobians=cache, memo=memo, dtype=torch.float32)
    try:
        return evaluator.value(side).detach()
    except (RuntimeError, NumericUnsupported):
        return None


def _low_precision(point: _Point, lhs: E.Expr, rhs: E.Expr,
                   run: int = 0) -> tuple[Any, Any] | None:
    """Both sides at ``point`` evaluated again for the rounding estimate
    (:mod:`matcalc.agreement`), or None. Run 0 is float32 from the inputs rounded
    to nearest float32 (kept with the point, with its values and Jacobians, for
    later claims); run 1 is float32 from the inputs each moved to a neighbouring
    float32 value, up or down at random (an entry exactly 0 stays 0, the structure
    of a diagonal or a zero block). The last run is float64 from the inputs each
    moved by a relative 2**-24 (float32's unit roundoff), up or down at random:
    the change it makes is the computation's sensitivity to perturbations of
    float32's size, with no float32 arithmetic in it. A float32 sum of many terms
    is quantized to the unit roundoff of its partial sums, so its error at one
    entry can be near zero by luck, and a neighbouring input often leaves that
    entry's float32 value unchanged (adversary 3, H9: ``Q @ Q.T = eye(n)`` at
    n = 201, one entry of 40,000 where three float32 runs all gave -2**-36);
    float64 resolves such changes. Random patterns are seeded by the run."""
    generator = torch.Generator().manual_seed(run)

    def signs(shape: Any) -> Any:
        return torch.rand(shape, generator=generator) < 0.5

    dtype = torch.float32
    if run == 0:
        if point.low is None:
            point.low = ({k: v.detach().to(torch.float32) for k, v in point.env.items()},
                         {}, {})
        env, cache, memo = point.low
    elif run < ROUNDING_RUNS - 1:
        env, cache, memo = {}, {}, {}
        for name, value in sorted(point.env.items()):
            rounded = value.detach().to(torch.float32)
            toward = torch.where(signs(rounded.shape), torch.inf, -torch.inf).to(torch.float32)
            env[name] = torch.where(rounded == 0, rounded, torch.nextafter(rounded, toward))
    else:
        dtype, env, cache, memo = torch.float64, {}, {}, {}
        for name, value in sorted(point.env.items()):
            value = value.detach()
            step = torch.where(signs(value.shape), 2.0 ** -24, -(2.0 ** -24)).to(value.dtype)
            env[name] = value + value * step
    evaluator = Evaluator(env, point.sizes, jacobians=cache, memo=memo, dtype=dtype)
    try:
        return evaluator.value(lhs).detach(), evaluator.value(rhs).detach()
    except (RuntimeError, NumericUnsupported):
        return None


def tensor_grid(t: Any, digits: int = 6) -> Grid:
    """A tensor's values as text (6 significant digits), for records and reports."""
    t = t.detach()
    if t.dim() != 2:
        t = t.reshape(t.shape[0], -1) if t.dim() > 2 else t.reshape(1, -1)
    return tuple(tuple(f"{v:.{digits}g}" for v in row) for row in t.tolist())


def shown_pair(left: Any, right: Any) -> tuple[Grid, Grid]:
    """Both sides of a counterexample as text, with enough significant digits
    (6, or up to 17 where they differ only further down) that they visibly
    differ. Only a point beyond the estimated rounding error of its computation
    is a counterexample (:mod:`matcalc.agreement`), so that they differ in print
    is necessary, not sufficient: 3.33e-16 against 0 differs in print and is
    rounding when the computation's terms are of magnitude 1."""
    for digits in (6, 9, 12, 17):
        pair = tensor_grid(left, digits), tensor_grid(right, digits)
        if pair[0] != pair[1]:
            break
    return pair


def check_tolerances(rtol: float | None, atol: float | None) -> None:
    """Refuse a tolerance that is not a finite number >= 0 (None: the default)."""
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not 0 <= value < float("inf"):
            raise DeclarationError(f"{name} must be a finite number >= 0, not {value!r}",
                                   token=repr(value), hint=f"e.g. {name}=1e-6")
