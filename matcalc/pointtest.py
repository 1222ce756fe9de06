"""Deciding ``lhs == rhs`` at one size instantiation by evaluation at points.

The exact engine's first pass (:mod:`matcalc.jets` evaluates both sides and
their derivatives; nothing is expanded):

1. **Modular test.** Both sides at random points, each modulo its own prime
   drawn at random from ``[2**61, 2**62)`` (:mod:`matcalc.residues`, seeded by
   the run's seed and a hash of the claim; transcendental values as
   independent random values). If every entry of ``lhs - rhs`` vanishes at
   every point, the identity holds with error probability at most
   ``(content + degree / 2**61) ** points``: ``content`` bounds the chance that
   the prime divides every integer coefficient of the numerator of
   ``lhs - rhs`` (it then vanishes modulo the prime everywhere: with the fixed
   prime ``2**61 - 1``, ``2048 ** 6 * x = 32 * x`` did), Schwartz-Zippel the
   rest. The degree and the bit size of the coefficients are bounded by
   running the same evaluation on bounds (:class:`~matcalc.fields.Degree`,
   from the constants' digits, ``limits.MAX_CONSTANT``, through every sum,
   product and power), as are the functions' arguments that meet a constant
   (``log(1) = 0``), kinks taken for structural zeros and two arguments of a
   function that the random oracle cannot tell apart.
   A non-zero entry with no transcendental value involved is a certain
   refutation; one with them may be a relation between them
   (``exp(2x) = exp(x)**2``) and is decided at real points. A pole at every
   random point (a denominator that is zero as a polynomial) means the claim
   is defined nowhere at these sizes: no valid point, without real draws.
2. **Real points.** Points inside the domain of every operation, drawn in
   several styles (small integers, modest and wide rationals of both signs,
   positive ones below 3 so that ``log(sin(X))`` is defined, tiny ones) and,
   for every kink (abs, sign, relu) whose argument showed one sign only, along
   random lines through a valid point until it changes sign. There each side is
   evaluated exactly (fractions) or in interval arithmetic (``BITS`` bits): an
   interval of ``lhs - rhs`` that excludes 0 refutes the claim at any scale; one
   that contains 0 means the entry vanishes to the working precision. The
   outcome says which happened: refuted, vanished at N points, or no valid
   point in N draws (and the most frequent reason).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from . import assumptions as A
from . import expr as E
from . import limits
from . import kinks as K
from ._lazy import np
from .budget import check_time
from .evidence import Counterexample, Grid
from .fields import (BITS, Bounds, Iv, DegreeKit, Degree, ExactKit, HybridKit, IntervalKit,
                     ModKit, NotRational, OutOfDomain, base)
from .jets import Jets, environment, parameter_counts
from .layout import arrange, layout_plan
from .shapes import Shape, concrete

#: random points of the modular test
MOD_POINTS = 2
#: random points modulo the prime tried before concluding that every point is a pole
POLE_ATTEMPTS = 6
#: draws of real points, and how many valid ones are evaluated
DRAWS = 60
VALID_POINTS = 4
#: the grid along a line on which kink roots are looked for (both directions)
LINE_STEPS = tuple(Fraction(2) ** k for k in range(-6, 13))
#: lines through valid points, per size instantiation
LINES = 2
#: roots closer together than this (relative to max(1, |t|)) are separated only
#: when they can be solved exactly
RESOLUTION = Fraction(1, 2 ** 50)
#: evaluations of the kink arguments per line, and claims evaluated per line
SCAN_BUDGET = 600
REGION_EVALS = 16
#: significant digits a counterexample is printed with (more when needed to show the gap)
SHOWN_DIGITS = 6


@dataclass
class PointOutcome:
    """What one decision found.

    ``status``: ``proved`` | ``refuted`` | ``vanishes`` (no refutation at the
    real points evaluated; no proof either) | ``no-point`` (no valid point
    found) | ``hard`` (the modular test could not decide: transcendental values
    may be related).
    """

    status: str
    detail: str
    error_bound: float | None = None
    proof: str | None = None  # for "proved": "exact" or "polynomial identity test"
    counterexample: Counterexample | None = None
    valid: int = 0
    draws: int = 0
    reasons: Counter = field(default_factory=Counter)
    kinks: str = ""


class PointTest:
    """Decide ``lhs == rhs`` at ``sizes``, each variable in its component of the
    variant ``reflected`` (:func:`assumptions.component`: e.g. an orthogonal
    variable taken with det -1)."""

    def __init__(self, lhs: E.Expr, rhs: E.Expr, shapes: Mapping[str, Shape],
                 tags: Mapping[str, frozenset[str]], sizes: Mapping[str, int],
                 reflected: frozenset[str], seed: int) -> None:
        self.lhs, self.rhs = lhs, rhs
        self.shapes, self.tags = dict(shapes), dict(tags)
        self.sizes, self.reflected = dict(sizes), reflected
        self.rng = random.Random(seed * 7919 + 17)
        self.seed = seed
        self.counts = parameter_counts(self.shapes, self.tags, self.sizes)
        self.kink_zeros: set = set()
        #: beyond the small sizes, a derivative that is a whole side, with respect to
        #: a variable of more than limits.MAX_EXACT_DIRECTIONS entries, is compared
        #: along random directions (the Jacobians contracted with a random vector)
        self.large = max(self.sizes.values(), default=1) > limits.MAX_SYMBOLIC_DIM
        along = directional_derivative(lhs, rhs) if self.large else None
        if along is not None and _entries(along.wrt, self.sizes) > limits.MAX_EXACT_DIRECTIONS:
            self.along: E.Derivative | None = along
        else:
            self.along = None
        #: set by the modular test: both sides are rational functions of the point
        #: (no exp, log, sqrt, kink, ... met), defined wherever the denominators it
        #: met (not identically 0, since they were not 0 there) do not vanish
        self.rational = False
        self._index: list[int] = []
        self._inputs = self._outputs = 0
        if self.along is not None:
            self._index, self._outputs, self._inputs = _native_index(self.along, self.sizes)
        #: gaps between kink roots that the last real_points could not visit
        self.gaps_missed = 0

    # -- 1. the modular test

    def modular(self) -> PointOutcome:
        met_atom = met_exact = False
        for point in range(MOD_POINTS):
            # each point modulo its own random prime: the points' errors are independent
            kit = ModKit(self._modulus_seed(point))
            reasons: Counter = Counter()
            for _attempt in range(POLE_ATTEMPTS):
                params = {name: [kit.random(self.rng) for _ in range(count)]
                          for name, count in self.counts.items()}
                try:
                    if reasons:  # a pole already: the values alone find the next one cheaply
                        self._difference(kit, params, domain_only=True)
                    diff = self._difference(kit, params)
                    break
                except (ZeroDivisionError, OutOfDomain) as error:
                    reasons[str(error) or "a division by 0"] += 1
                    continue
            else:
                return self._everywhere_a_pole(reasons)
            met_atom, met_exact = met_atom or kit.met_atom, met_exact or kit.met_exact
            self.rational = not met_atom and not met_exact
            if any(v.v != 0 for v in diff):
                if met_atom or met_exact:
                    return PointOutcome("hard", "lhs - rhs does not vanish as a rational "
                                        "function of the values of exp, log, sin, ...")
                along = " contracted with a random vector" if self.along is not None else ""
                return PointOutcome("refuted", "lhs - rhs is a non-zero rational function "
                                    f"(lhs - rhs{along} is not 0 at a random point modulo "
                                    f"the random prime {kit.p})")
        bounds = self._degree()
        degree = bounds.degree
        if degree == 0 and not met_atom and not met_exact:
            # constants: one exact evaluation decides (their residues may all be 0 for
            # a prime that divides the constant)
            exact = self.real_points(wanted=1, lines=False)
            if exact.status == "refuted":
                return exact
            if exact.status == "vanishes":
                return PointOutcome("proved", "every entry of lhs - rhs is a constant, and "
                                    "it is 0 (exact arithmetic)", proof="exact")
        # with exact values of functions at constant arguments (log 1 = 0), each point
        # may also have met such an argument by chance: at most `arguments` / 2**61
        if met_exact:
            degree += bounds.exact_arguments
        bound = bounds.error(MOD_POINTS)
        note = " (exp, log, sqrt, ... as independent variables)" if met_atom else ""
        if met_exact:
            note += (" (a function of an argument equal to a constant there, log(1), "
                     "exp(0), ..., at its exact value)")
        if self.along is not None:
            note += ", the Jacobians contracted with a random vector"
        return PointOutcome("proved", f"polynomial identity test{note} at {MOD_POINTS} "
                            f"random points, each modulo a random 62-bit prime, degree <= {degree}, "
                            f"coefficients <= 2**{bounds.bits}, error probability <= "
                            f"{bound:.1e}", error_bound=bound,
                            proof="polynomial identity test")

    def _modulus_seed(self, point: int) -> int:
        """The seed of point ``point``'s prime: a hash of the run's seed and of
        everything the claim's polynomial depends on (both sides, shapes,
        assumptions, sizes, component). A prime drawn from the seed alone would
        be known in advance (the seed is 0 unless given), and a claim could be
        written whose coefficients it divides (``C * x = x`` with ``C - 1`` its
        multiple); with the claim in the hash, finding such a claim means trying
        about ``1 / content_error`` claims per success, as for a truly random
        prime (the hash taken as a random function), and a run is still
        reproduced by its seed."""
        text = repr((self.seed, point, E.to_text(self.lhs), E.to_text(self.rhs),
                     sorted((n, str(s)) for n, s in self.shapes.items()),
                     sorted((n, sorted(t)) for n, t in self.tags.items()),
                     sorted(self.sizes.items()), sorted(self.reflected)))
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "big")

    def _everywhere_a_pole(self, reasons: Counter) -> PointOutcome:
        """Every random point modulo the prime was a pole: a denominator (or the
        determinant of a matrix inverted) vanished at each of them, so as a
        polynomial it is zero (Schwartz-Zippel), and it is zero at every real
        point as well: the claim is defined nowhere at these sizes (``k x k``
        ``X.T @ A @ X`` for an ``n x k`` ``X`` with ``k > n``). Real points would
        only confirm that, at great cost (each one evaluates the derivative
        before the pole is met), so none are drawn."""
        common = reasons.most_common(1)[0][0] if reasons else "no reason recorded"
        return PointOutcome("no-point", f"no valid point in {POLE_ATTEMPTS} random draws "
                            f"modulo a random 62-bit prime (most often: {common}): a "
                            "denominator that vanishes at random points vanishes everywhere",
                            draws=POLE_ATTEMPTS, reasons=reasons)

    def _difference(self, kit: Any, params: Mapping[str, list[Any]],
                    domain_only: bool = False) -> list[Any]:
        env = environment(kit, self.shapes, self.tags, self.sizes, params, self.reflected)
        ev = Jets(kit, env, self.sizes, self.kink_zeros, domain_only=domain_only)
        left, right = self._sides(ev, domain_only)
        return [base(a - b) for a, b in zip(left, right)]

    def _sides(self, ev: Jets, domain_only: bool = False) -> tuple[list[Any], list[Any]]:
        """Both sides' entries (flat); along a random direction when ``along``."""
        if self.along is None or domain_only:
            return list(ev.value(self.lhs).flat), list(ev.value(self.rhs).flat)
        kit = ev.kit
        if kit.name == "modular":
            direction = [kit.random(self.rng) for _ in range(self._inputs)]
        elif kit.name == "degree":  # the direction's entries are variables of the test too
            direction = [Degree(1, 0)] * self._inputs
        else:
            direction = [kit.const(Fraction(self.rng.randint(-9, 9), self.rng.randint(1, 4)))
                         for _ in range(self._inputs)]
        left, right = (self._contracted(ev, side, direction) for side in (self.lhs, self.rhs))
        return left, right

    def _contracted(self, ev: Jets, side: E.Expr, direction: list[Any]) -> list[Any]:
        """One side contracted with ``direction`` over the input's entries."""
        d = self.along
        assert d is not None
        if directional(side, d):
            return ev.directional(side, direction)
        out = [ev.const(0)] * self._outputs
        for value, code in zip(ev.value(side).flat, self._index):
            check_time()
            o, k = divmod(code, self._inputs)
            out[o] = out[o] + value * direction[k]
        return out

    def _degree(self) -> Bounds:
        """Bounds on every entry of lhs - rhs (:class:`~matcalc.fields.Bounds`)."""
        kit = DegreeKit()
        params = {name: [Degree(1, 0)] * count for name, count in self.counts.items()}
        try:
            diff = self._difference(kit, params)
        except (OutOfDomain, ZeroDivisionError):  # pragma: no cover - degrees never fail
            return Bounds(10**9, 10**9, 10**9, 10**9, 10**9)
        return kit.bounds(diff)

    # -- 2. real points

    def domain_point(self) -> PointOutcome:
        """After a proof: whether the domain has a point at all (``log(-exp(x))``
        has none, and a proof there would be void)."""
        if self.large and self.rational:
            # the domain is the complement of the zeros of finitely many polynomials
            # that are not identically 0: dense, and so it meets every assumption's set
            # (each an open set of its parameters); no need for costly fractions
            return PointOutcome("vanishes", "a valid point exists (a rational identity, "
                                "defined off the zeros of its denominators)", valid=1)
        reasons: Counter = Counter()
        for draw in range(DRAWS):
            check_time()
            styles = ("small", "domain", "positive", "wide", "tiny")
            if self._at(self._draw(styles[draw % len(styles)]), reasons, {}, domain_only=True):
                return PointOutcome("vanishes", "a valid point exists", valid=1, draws=draw + 1)
        common = reasons.most_common(1)[0][0] if reasons else "no reason recorded"
        return PointOutcome("no-point", f"no valid point in {DRAWS} draws (most often: "
                            f"{common})", draws=DRAWS, reasons=reasons)

    def real_points(self, wanted: int = VALID_POINTS, lines: bool = True) -> PointOutcome:
        """Refute at ``wanted`` valid real points, or report that every entry
        vanished there (or that no valid point was found). With ``lines``, every
        gap between kink roots along random lines is visited too."""
        reasons: Counter = Counter()
        valid: list[dict[str, list[Fraction]]] = []
        seen: dict[tuple, set[int]] = {}
        draws = 0
        styles = ("small", "domain", "positive", "wide", "tiny")
        for draw in range(DRAWS):
            if len(valid) >= wanted and (draw >= len(styles) or wanted == 1):
                break
            check_time()
            draws += 1
            params = self._draw(styles[draw % len(styles)])
            found = self._at(params, reasons, seen)
            if isinstance(found, PointOutcome):
                return self._with_counts(found, len(valid) + 1, draws, reasons)
            if found:
                valid.append(params)
        if not valid:
            common = reasons.most_common(1)[0][0] if reasons else "no reason recorded"
            return PointOutcome("no-point", f"no valid point in {draws} draws (most often: "
                                f"{common})", valid=0, draws=draws, reasons=reasons)
        # every gap between kink roots along random lines through valid points
        kinks = ""
        if lines and K.arguments([self.lhs, self.rhs]):
            found = self._lines(valid, reasons, seen)
            if isinstance(found, PointOutcome):
                return self._with_counts(found, len(valid) + 1, draws, reasons)
            kinks, self.gaps_missed = found
            kinks = "; " + kinks
        return PointOutcome("vanishes", f"lhs - rhs vanishes at {len(valid)} valid real "
                            f"points (exact or {BITS}-bit interval arithmetic){kinks}",
                            valid=len(valid), draws=draws, reasons=reasons, kinks=kinks)

    def _with_counts(self, found: PointOutcome, valid: int, draws: int,
                     reasons: Counter) -> PointOutcome:
        found.valid, found.draws, found.reasons = valid, draws, reasons
        return found

    def _lines(self, valid: list, reasons: Counter,
               seen: dict[tuple, set[int]]) -> tuple[str, int] | PointOutcome:
        """Along random lines through valid points: the roots of every kink entry
        (:func:`matcalc.kinks.scan_line`, in exact arithmetic) and a point in every
        gap between them, evaluated once per new sign pattern."""
        arguments = K.arguments([self.lhs, self.rhs])
        patterns = {K.pattern(self._kink_values(p, arguments)) for p in valid}
        scans, unvisited = [], 0
        for start in valid[:LINES]:
            check_time()
            direction = self._draw("domain")
            for name in direction:  # a line in an spd set's parameters may leave it
                if "spd" in self.tags.get(name, frozenset()):
                    direction[name] = [Fraction(0)] * len(direction[name])

            def line(t: Fraction, start: dict = start, direction: dict = direction) -> dict:
                return self._fix({n: [p + t * d for p, d in zip(start[n], direction[n])]
                                  for n in start})

            scan = K.scan_line(lambda t: self._kink_values(line(t), arguments), LINE_STEPS,
                               RESOLUTION, SCAN_BUDGET, exact=True,
                               pick=lambda: Fraction(self.rng.randrange(1, 2 ** 20), 2 ** 20),
                               enclose=lambda a, b, start=start, direction=direction:
                               self._kink_box(start, direction, a, b, arguments))
            scans.append(scan)
            tried = 0
            for places, pattern in scan.regions:
                if pattern in patterns:
                    continue
                if tried >= REGION_EVALS:
                    unvisited += 1
                    continue
                tried += 1
                found = self._at(line(places[0]), reasons, seen)
                if isinstance(found, PointOutcome):
                    return found
                patterns.add(pattern)  # visited, or outside the claim's domain
        missed = unvisited + sum(s.missed for s in scans)
        return K.summary(scans, len(patterns), unvisited), missed

    def _kink_box(self, start: Mapping[str, list[Fraction]],
                  direction: Mapping[str, list[Fraction]], a: Fraction, b: Fraction,
                  arguments: list[E.Expr]) -> tuple | None:
        """The sign of every kink entry over the stretch ``[a, b]`` of a line, by
        interval arithmetic (None where it may vanish); None if it fails."""
        kit = IntervalKit()
        params: dict[str, list[Any]] = {}
        for name, values in start.items():
            positive = "positive" in self.tags.get(name, frozenset())
            out = []
            for p, d in zip(values, direction[name]):
                lo, hi = sorted((p + a * d, p + b * d))
                if positive:  # as _fix folds them
                    lo, hi = ((Fraction(0), max(-lo, hi)) if lo <= 0 <= hi else
                              sorted((abs(lo), abs(hi))))
                out.append(Iv(kit.iv.mpf([kit.const(lo).x.a, kit.const(hi).x.b])))
            params[name] = out
        try:
            env = environment(kit, self.shapes, self.tags, self.sizes, params, self.reflected)
            ev = Jets(kit, env, self.sizes, self.kink_zeros)
            out = [base(v).x for arg in arguments for v in ev.value(arg).flat]
        except (OutOfDomain, ZeroDivisionError, NotRational):
            return None
        return tuple(1 if v.a > 0 else -1 if v.b < 0 else 0 if v.a == v.b == 0 else None
                     for v in out)

    def _kink_values(self, params: Mapping[str, list[Fraction]],
                     arguments: list[E.Expr]) -> tuple | None:
        """Every kink argument's entries at ``params``: fractions, or signs from
        interval arithmetic (None where unsure); None outside the domain."""
        for kit in (ExactKit(), IntervalKit()):
            try:
                values = {n: [kit.const(v) for v in vs] for n, vs in params.items()}
                env = environment(kit, self.shapes, self.tags, self.sizes, values,
                                  self.reflected)
                ev = Jets(kit, env, self.sizes, self.kink_zeros)
                out = [base(v) for a in arguments for v in ev.value(a).flat]
            except NotRational:
                continue
            except (OutOfDomain, ZeroDivisionError):
                return None
            if kit.name == "exact":
                return tuple(out)
            return tuple(1 if v.x.a > 0 else -1 if v.x.b < 0 else None for v in out)
        return None  # pragma: no cover - the interval kit evaluates everything

    def _fix(self, params: dict[str, list[Fraction]]) -> dict[str, list[Fraction]]:
        """Keep positive variables positive after a step along a line."""
        out = {}
        for name, values in params.items():
            tags = self.tags.get(name, frozenset())
            if "positive" in tags:
                values = [abs(v) or Fraction(1, 7) for v in values]
            out[name] = values
        return out

    def _draw(self, style: str) -> dict[str, list[Fraction]]:
        params = {}
        for name, shape in self.shapes.items():
            tags = self.tags.get(name, frozenset())
            size = tuple(d.size(self.sizes) for d in shape)
            params[name] = _parameters(self.rng, tags, size, style)
        return params

    def _at(self, params: Mapping[str, list[Fraction]], reasons: Counter,
            seen: dict[tuple, set[int]], domain_only: bool = False) -> bool | PointOutcome:
        """Evaluate at one point: a PointOutcome if it refutes, else whether it was
        valid (with ``domain_only``, only whether it is valid)."""
        # the domain alone at large sizes: fractions as long as the values are rational
        kits = (ExactKit(), HybridKit() if domain_only and self.large else IntervalKit())
        for kit in kits:
            try:
                values = {n: [kit.const(v) for v in vs] for n, vs in params.items()}
                env = environment(kit, self.shapes, self.tags, self.sizes, values,
                                  self.reflected)
                ev = Jets(kit, env, self.sizes, self.kink_zeros, domain_only=domain_only)
                if domain_only or self.along is None:
                    left, right = ev.value(self.lhs), ev.value(self.rhs)
                    pairs = list(zip(left.flat, right.flat))
                else:
                    pairs = list(zip(*self._sides(ev)))
            except NotRational:
                continue
            except (OutOfDomain, ZeroDivisionError) as error:
                reasons[str(error) or "a division by 0"] += 1
                return False
            for key, signs in ev.signs_seen.items():
                seen.setdefault(key, set()).update(signs)
            if domain_only:
                return True
            for a, b in pairs:
                if _differs(base(a), base(b), kit):
                    if self.along is not None:  # no Jacobian to show, but certain
                        return PointOutcome("refuted", "lhs - rhs contracted with a random "
                                            f"vector is not 0 at a rational point ({kit.name} "
                                            "arithmetic)")
                    return self._refuted(params, env, left, right, kit)
            return True
        return False  # pragma: no cover - the interval kit evaluates everything

    def _refuted(self, params: Mapping[str, list[Fraction]], env: Mapping[str, Any],
                 left: Any, right: Any, kit: Any) -> PointOutcome:
        exact = kit.name == "exact"
        lhs_text, rhs_text = _shown_pair(left, right, exact)
        assert lhs_text != rhs_text, "a counterexample must show its difference"
        exact_kit = ExactKit()
        shown = environment(exact_kit, self.shapes, self.tags, self.sizes,
                            {n: list(vs) for n, vs in params.items()}, self.reflected)
        point = {name: _grid(value, True) for name, value in shown.items()}
        ce = Counterexample(sizes=dict(self.sizes), point=point, lhs=lhs_text, rhs=rhs_text,
                            exact=True, source="symbolic" if exact else
                            f"symbolic, {BITS}-bit interval arithmetic")
        where = ("at a rational point" if exact else
                 "at a rational point (an interval of lhs - rhs excludes 0)")
        return PointOutcome("refuted", f"lhs - rhs is not 0 {where}", counterexample=ce)

    def counterexample(self) -> PointOutcome:
        """After a modular refutation: a rational point that shows it."""
        if self.along is not None:
            return PointOutcome("vanishes", "no counterexample is shown at this size (the "
                                "Jacobians are compared along random directions)")
        reasons: Counter = Counter()
        seen: dict[tuple, set[int]] = {}
        valid = 0
        for draw in range(DRAWS):
            check_time()
            found = self._at(self._draw("small" if draw < 10 else "domain"), reasons, seen)
            if isinstance(found, PointOutcome):
                return found
            valid += bool(found)
        return PointOutcome("vanishes", f"no rational point among {valid} valid ones shows it")


def directional_derivative(lhs: E.Expr, rhs: E.Expr) -> E.Derivative | None:
    """The derivative that is a whole side of the claim (the left one first), which
    large claims compare along random directions; None if neither side is one."""
    return next((side for side in (lhs, rhs) if isinstance(side, E.Derivative)), None)


def directional(side: E.Expr, along: E.Derivative | None) -> bool:
    """Whether ``side`` is evaluated along the random direction itself (a
    derivative arranged as ``along`` is), rather than contracted with it."""
    return along is not None and isinstance(side, E.Derivative) and \
        (side.wrt.name, side.layout, side.of.shape) == (along.wrt.name, along.layout,
                                                        along.of.shape)


def _entries(node: E.Expr, sizes: Mapping[str, int]) -> int:
    rows, cols = concrete(node.shape, sizes)
    return rows * cols


def _native_index(d: E.Derivative, sizes: Mapping[str, int]) -> tuple[list[int], int, int]:
    """For each entry of ``d`` in its layout (flat), ``output * inputs + input``
    in native order; and the numbers of outputs and inputs."""
    out_shape, in_shape = concrete(d.of.shape, sizes), concrete(d.wrt.shape, sizes)
    outputs, inputs = out_shape[0] * out_shape[1], in_shape[0] * in_shape[1]
    native = np.arange(outputs * inputs, dtype=np.int64).reshape(out_shape + in_shape)
    plan = layout_plan(d.of.shape, d.wrt.shape, d.layout)
    return [int(c) for c in arrange(native, plan, sizes).flat], outputs, inputs


def _differs(a: Any, b: Any, kit: Any) -> bool:
    if kit.name == "exact":
        return a != b
    d = (a - b).x
    return bool(d.a > 0 or d.b < 0)


def _parameters(rng: random.Random, tags: frozenset[str], shape: tuple[int, ...],
                style: str) -> list[Fraction]:
    """Free parameters of one variable, drawn in ``style``."""
    if style in ("small", "domain"):
        return A.rational_parameters(tags, shape, rng, style)
    struct = A.structure(tags)
    positions = A.free_positions(shape, struct)
    positive = "positive" in tags or style == "positive"

    def draw() -> Fraction:
        if style == "positive":
            value = Fraction(rng.randint(1, 30), 10)  # in (0, 3], inside (0, pi)
        elif style == "wide":
            value = Fraction(rng.randint(1, 400), 10)
        else:  # tiny
            value = Fraction(rng.randint(1, 100), 1000)
        return value if positive or rng.random() < 0.5 else -value

    if "spd" in tags and struct != "diagonal" and positions:
        r = [[draw() for _ in range(shape[0])] for _ in range(shape[0])]
        full = A.spd_point(r, rng, "positive" in tags)
        return [full[i][j] for i, j in positions]
    if "spd" in tags:
        return [abs(draw()) or Fraction(1) for _ in positions]
    return [draw() for _ in positions]


def _number(value: Any, exact: bool, digits: int = SHOWN_DIGITS) -> str:
    value = base(value)
    if exact:
        value = Fraction(value)
        return str(value.numerator) if value.denominator == 1 else \
            f"{value.numerator}/{value.denominator}"
    import mpmath

    if value.x.a <= 0 <= value.x.b:  # 0 within the working precision
        return "0"
    with mpmath.workprec(BITS):
        text = mpmath.nstr(mpmath.mpf(value.x.mid.a), digits)
    return text[:-2] if text.endswith(".0") else text


def _grid(a: Any, exact: bool, digits: int = SHOWN_DIGITS) -> Grid:
    a = np.asarray(a, dtype=object)
    if a.ndim != 2:
        a = a.reshape(a.shape[0], -1) if a.ndim > 2 else a.reshape(1, -1)
    return tuple(tuple(_number(v, exact, digits) for v in row) for row in a)


def _shown_pair(left: Any, right: Any, exact: bool) -> tuple[Grid, Grid]:
    """Both sides as text, with enough digits that they visibly differ."""
    for digits in (SHOWN_DIGITS, 12, 20, 30, 45, 60):
        pair = _grid(left, exact, digits), _grid(right, exact, digits)
        if pair[0] != pair[1]:
            return pair
    return pair


