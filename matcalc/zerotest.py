"""Deciding whether ``lhs - rhs`` vanishes, entry by entry, exactly.

The symbolic stage (:mod:`matcalc.symbolic`) builds both sides as SymPy
expressions at concrete sizes; this module decides their difference:

* small-integer points first (inside the domain of every operation used): a
  non-zero entry there is a counterexample a person can check by hand;
* then the randomized polynomial identity test (Schwartz-Zippel) at points with
  62-bit coordinates, with an error bound from a degree bound. Non-rational
  atoms (``exp(..)``, ``log(..)``, ``sqrt(..)``, ``sign(..)``) stand as
  independent variables there: an entry that vanishes as a rational function of
  them vanishes, whatever relations hold between them;
* an entry that survives that only by such a relation (``exp(2x) = exp(x)**2``,
  ``sin**2 + cos**2 = 1``) is evaluated exactly at points inside the domain and
  put through ``cancel`` (and ``simplify`` if time allows); if no proof is found
  the stage says so.

Points are evaluated by :class:`Exact` (Python integers and fractions) and,
for exp, log, sqrt, ..., by :class:`Approx` (mpmath at ``DIGITS`` + 10 digits),
both far faster than substituting into SymPy trees.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from . import assumptions as A
from . import expr as E
from ._lazy import sp
from .budget import check_time
from .evidence import Counterexample
from .ops import sgn_function
from .symarrays import map_array, rational, shown_grids

if TYPE_CHECKING:
    from .symbolic import SymbolicSession

#: points tried with small integers before the randomized test
SMALL_POINTS = 3
#: points of the polynomial identity test
PIT_POINTS = 2
#: points where non-rational entries are evaluated
DOMAIN_POINTS = 3
#: |value| below this (after evaluation to DIGITS digits) counts as zero
DIGITS = 30
ZERO = 1e-20


@dataclass
class _Decision:
    status: str
    detail: str
    proof: str | None = None
    error_bound: float | None = None
    counterexample: Counterexample | None = None


@dataclass
class _Searched:
    """A search that refuted nothing: how many valid points, out of how many draws."""

    valid: int
    draws: int
    reason: str  # the most frequent reason a draw was not valid


class Decider:
    """Decide whether every entry of ``lhs - rhs`` vanishes."""

    def __init__(self, session: SymbolicSession, lhs: E.Expr, rhs: E.Expr, left: Any,
                 right: Any, diffs: list[Any], seed: int, points: str | None = None) -> None:
        self.session = session
        self.points = points  # what evaluation at real points found (pointtest), if run
        self.lhs, self.rhs = lhs, rhs
        self.left, self.right = left, right
        self.pending = [e for e in diffs if e != 0]
        self.rng = random.Random(seed)

    def run(self) -> _Decision:
        if any(e.has(sp.zoo, sp.nan) for e in self.pending):
            return _Decision("undecided", "the expression is undefined everywhere (a division "
                             "by an exact zero, such as the inverse of a zero matrix)")
        if not self.pending:
            return _Decision("proved", "every entry of lhs - rhs simplifies to 0", "exact")
        # an argument that is identically 0 (off the diagonal of a diagonal matrix)
        # is no kink: sign(0) = 0 there
        self.conditions = [(kind, e) for kind, e in self.session.conditions(self.lhs, self.rhs)
                           if not (kind == "nonzero" and e == 0)]
        # 1. small integer points: cheap, and a counterexample a person can check
        found = self.search("small", SMALL_POINTS, tries=8)
        if isinstance(found, _Decision):
            return found
        # 2. the randomized polynomial identity test, with exp(...), log(...),
        #    sqrt(...), sign(...) standing as independent variables: if lhs - rhs
        #    vanishes as a rational function of those, it vanishes.
        points = [self.pit_point() for _ in range(PIT_POINTS)]
        hard, abstracted = [], False
        for e in self.pending:
            for index in range(PIT_POINTS):
                for _ in range(5):  # off the poles
                    check_time()
                    point, generators = points[index]
                    evaluate = Exact(point, generators, self.rng)
                    try:
                        value = evaluate(e)
                        break
                    except ZeroDivisionError:
                        points[index] = self.pit_point()
                else:
                    return _Decision("undecided", "could not find points off the poles")
                abstracted |= evaluate.met_atom
                if value != 0:
                    if not evaluate.met_atom:
                        return self.refuted(point, "at a random point")
                    hard.append(e)  # perhaps a relation between exp, log, ...: decided below
                    break
        proved = [e for e in self.pending if e not in hard]
        bound = None
        if proved:
            memo: dict[Any, tuple[int, int]] = {}
            degree = max(_degree_bound(e, memo)[0] for e in proved)
            bound = (max(degree, 1) / A.PIT_RANGE) ** PIT_POINTS
            note = " (exp, log, sqrt, ... as independent variables)" if abstracted else ""
            pit = (f"polynomial identity test{note} at {PIT_POINTS} random points, "
                   f"degree <= {degree}, error probability <= {bound:.1e}")
        if not hard:
            return _Decision("proved", pit, "polynomial identity test", bound)
        # 3. what is left: exact evaluation inside the domain, then cancel/simplify
        self.pending = hard
        searched = None
        if self.points is None:
            found = self.search("domain", DOMAIN_POINTS, tries=30)
            if isinstance(found, _Decision):
                return found
            searched = found
        unproved = [e for e in hard if not _exact_zero(e)]
        if not unproved:
            if bound is None:
                return _Decision("proved", "lhs - rhs reduces to 0 (cancel/simplify)", "exact")
            return _Decision("proved", f"cancel/simplify; the other entries by {pit}",
                             "exact and polynomial identity test", bound)
        entries = f"no formal proof for {len(unproved)} entr{'y' if len(unproved) == 1 else 'ies'}"
        if self.points is not None:
            return _Decision("undecided", f"{entries}; {self.points}")
        if searched is None or searched.valid == 0:
            reason = searched.reason if searched else "no reason recorded"
            draws = searched.draws if searched else 0
            return _Decision("undecided", f"{entries}; no valid point in {draws} draws "
                             f"(most often: {reason})")
        return _Decision("undecided", f"{entries}; they vanish to {DIGITS} digits at "
                         f"{searched.valid} exact random points")

    def pit_point(self) -> tuple[dict[Any, Fraction], dict[Any, int]]:
        return self.session.point(self.rng, "pit"), {}

    def search(self, kind: str, count: int, tries: int) -> _Decision | _Searched:
        """Refute at up to ``count`` valid points of ``kind``, or say how many
        valid points vanished (and why the others were not valid). Only exact
        values refute here; approximate ones are decided scale-free, in
        interval arithmetic, by :mod:`matcalc.pointtest`."""
        valid, draws = 0, 0
        reasons: dict[str, int] = {}
        for _ in range(tries):
            if valid >= count:
                break
            draws += 1
            point = self.session.point(self.rng, kind)
            why = self.in_domain(point)
            if why is not True:
                reasons[why] = reasons.get(why, 0) + 1
                continue
            try:
                values = [_value_at(e, point) for e in self.pending]
            except (ZeroDivisionError, ValueError):
                reasons["a pole"] = reasons.get("a pole", 0) + 1
                continue
            if any(abs(getattr(v, "imag", 0)) > ZERO for v in values
                   if not hasattr(v, "is_Rational")):
                reasons["a complex value"] = reasons.get("a complex value", 0) + 1
                continue  # off the real line: outside the domain
            valid += 1
            for value in values:
                check_time()
                if _exact_nonzero(value):
                    return self.refuted(point, "at a small integer point" if kind == "small"
                                        else "at a random rational point")
        reason = max(reasons, key=reasons.get) if reasons else "no reason recorded"
        return _Searched(valid, draws, reason)

    def in_domain(self, point: Mapping[Any, Fraction]) -> bool | str:
        """True, or the condition the point violates (as text)."""
        for condition, e in self.conditions:
            check_time()
            try:
                value = _value_at(e, point)
            except ZeroDivisionError:
                return "a pole"
            positive = condition == "positive"
            if isinstance(value, Fraction):
                ok = value > 0 if positive else value != 0
            elif not hasattr(value, "is_Rational"):  # mpmath: keep clear of the boundary
                if abs(getattr(value, "imag", 0)) > ZERO:
                    ok = False
                else:
                    real = getattr(value, "real", value)
                    ok = real > ZERO if positive else abs(real) > ZERO
            else:
                if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
                    return "a pole"
                ok = (value.is_positive if positive else value.is_nonzero) is True
            if not ok:
                text = str(e)
                text = text if len(text) <= 60 else text[:57] + "..."
                return f"{text} {'> 0' if positive else '!= 0'} fails"
        return True

    def refuted(self, point: Mapping[Any, Fraction], where: str) -> _Decision:
        exact = sympy_point(point)
        lhs, rhs = shown_grids(map_array(lambda e: e.xreplace(exact), self.left),
                               map_array(lambda e: e.xreplace(exact), self.right))
        ce = Counterexample(
            sizes=dict(self.session.sizes),
            point=self.session.point_values(exact),
            lhs=lhs,
            rhs=rhs,
            exact=True,
            source="symbolic",
        )
        return _Decision("refuted", f"lhs - rhs is not 0 {where}", counterexample=ce)


# ---------------------------------------------------------------------------
# Exact evaluation


class _Atom(Exception):
    """Evaluation met exp(...), log(...), ... where only rationals were allowed."""


class Exact:
    """Exact evaluation of a SymPy expression at a point, with Python integers
    and fractions (much faster than substituting into SymPy trees).

    ``generators`` gives each non-rational atom (exp(...), sqrt(...), ...) its
    own random value, as the abstracted polynomial identity test needs; with
    ``generators=None`` such an atom raises :class:`_Atom`. A pole raises
    ZeroDivisionError.
    """

    def __init__(self, point: Mapping[Any, Fraction], generators: dict[Any, int] | None,
                 rng: random.Random | None = None) -> None:
        self.point = point
        self.generators = generators
        self.rng = rng
        self.memo: dict[Any, Fraction | int] = {}
        self.met_atom = False

    def __call__(self, e: Any) -> Fraction | int:
        memo = self.memo
        if e in memo:
            return memo[e]
        if e.is_Symbol:
            value = self.point[e]
        elif e.is_Integer:
            value = int(e.p)
        elif e.is_Rational:
            value = Fraction(int(e.p), int(e.q))
        elif e.is_Add:
            value = 0
            for a in e.args:
                value += self(a)
        elif e.is_Mul:
            value = 1
            for a in e.args:
                value *= self(a)
        elif e.is_Pow and e.exp.is_Integer:
            base, power = self(e.base), int(e.exp.p)
            value = Fraction(1, 1) / base ** -power if power < 0 else base ** power
        else:
            if self.generators is None:
                raise _Atom
            self.met_atom = True
            if e not in self.generators:
                self.generators[e] = self.rng.randint(1, A.PIT_RANGE)
            value = self.generators[e]
        memo[e] = value
        return value


def sympy_point(point: Mapping[Any, Fraction]) -> dict[Any, Any]:
    return {s: rational(Fraction(v)) for s, v in point.items()}


class Approx:
    """High-precision evaluation (mpmath, ``DIGITS`` + 10 digits) of a SymPy
    expression at a rational point, for entries with exp, log, sqrt, ...
    Much faster than ``evalf`` on large trees. A function it does not know
    raises :class:`_Atom`; a pole raises ZeroDivisionError; a value off the
    real line comes back complex."""

    def __init__(self, point: Mapping[Any, Fraction]) -> None:
        self.point = point
        self.memo: dict[Any, Any] = {}
        self.sgn = sgn_function()

    def __call__(self, e: Any) -> Any:
        import mpmath

        with mpmath.workdps(DIGITS + 10):
            return self._eval(e, mpmath)

    def _eval(self, e: Any, mp: Any) -> Any:
        memo = self.memo
        if e in memo:
            return memo[e]
        if e.is_Symbol:
            v = Fraction(self.point[e])
            value = mp.mpf(v.numerator) / v.denominator
        elif e.is_Rational:
            value = mp.mpf(int(e.p)) / int(e.q)
        elif e.is_Add:
            value = mp.fsum(self._eval(a, mp) for a in e.args)
        elif e.is_Mul:
            value = mp.fprod(self._eval(a, mp) for a in e.args)
        elif e.is_Pow:
            base, power = self._eval(e.base, mp), self._eval(e.exp, mp)
            if base == 0 and mp.re(power) < 0:
                raise ZeroDivisionError
            value = base ** power
        elif e.func is self.sgn:
            arg = self._eval(e.args[0], mp)
            value = mp.mpf(0) if arg == 0 else mp.sign(mp.re(arg))
        elif (e.is_Function and e.func.__name__ in _MPMATH
              and e.func is getattr(sp, e.func.__name__)):
            value = getattr(mp, e.func.__name__)(self._eval(e.args[0], mp))
        else:
            raise _Atom
        memo[e] = value
        return value


#: SymPy functions Approx evaluates with mpmath (the same names in both)
_MPMATH = ("exp", "log", "sin", "cos", "tanh")


def _value_at(e: Any, point: Mapping[Any, Fraction]) -> Any:
    """``e`` at the point: a Fraction when rational, else a high-precision number
    (or an exact SymPy number where mpmath cannot evaluate it)."""
    try:
        return Fraction(Exact(point, None)(e))
    except _Atom:
        pass
    try:
        return Approx(point)(e)
    except _Atom:
        value = e.xreplace(sympy_point(point))
        if value.has(sp.zoo, sp.nan):
            raise ZeroDivisionError from None
        return value


def _exact_nonzero(value: Any) -> bool:
    """Whether an exactly known value is non-zero (approximate ones never count)."""
    if isinstance(value, (int, Fraction)):
        return value != 0
    if hasattr(value, "is_Rational") and value.is_Rational:
        return value != 0
    return False


def _degree_bound(e: Any, memo: dict) -> tuple[int, int]:
    """Bounds on the total degrees of numerator and denominator of ``e`` as a
    rational function of its symbols and non-rational atoms."""
    if e in memo:
        return memo[e]
    if e.is_Rational:
        result = (0, 0)
    elif e.is_Mul:
        parts = [_degree_bound(a, memo) for a in e.args]
        result = (sum(p[0] for p in parts), sum(p[1] for p in parts))
    elif e.is_Add:
        parts = [_degree_bound(a, memo) for a in e.args]
        den = sum(p[1] for p in parts)
        result = (max(p[0] + den - p[1] for p in parts), den)
    elif e.is_Pow and e.exp.is_Integer:
        n, d = _degree_bound(e.base, memo)
        k = int(e.exp)
        result = (k * n, k * d) if k >= 0 else (-k * d, -k * n)
    else:  # a symbol, or an atom standing as one
        result = (1, 0)
    memo[e] = result
    return result


#: operation counts above which ``cancel`` / ``simplify`` are not tried: one such
#: call cannot be interrupted by the time budget, so its size bounds its time
MAX_CANCEL_OPS = 2000
MAX_SIMPLIFY_OPS = 400


#: constants beyond which ``simplify`` is not tried: exp(-400) made it factor
#: polynomials with 174-digit coefficients for minutes (adversary 4, J7)
MAX_SIMPLIFY_EXP = 64
MAX_SIMPLIFY_BITS = 128


def huge_constant(e: Any) -> bool:
    """Whether ``e`` has an exponential of a large number or a rational of many digits."""
    for atom in sp.preorder_traversal(e):
        if isinstance(atom, sp.exp) and atom.args[0].is_number and \
                abs(atom.args[0]) > MAX_SIMPLIFY_EXP:
            return True
        if isinstance(atom, sp.Rational) and max(abs(atom.p), atom.q).bit_length() \
                > MAX_SIMPLIFY_BITS:
            return True
    return False


def _exact_zero(e: Any) -> bool:
    """A formal proof that ``e == 0``: cancel, then (if small) simplify.
    False when no proof was found (or the entry is too large to try)."""
    check_time()
    ops = sp.count_ops(e)
    if ops > MAX_CANCEL_OPS:
        return False
    if sp.cancel(e) == 0:
        return True
    if ops > MAX_SIMPLIFY_OPS or huge_constant(e):
        return False
    check_time()
    if sp.cancel(sp.expand_trig(e)) == 0:
        return True
    return sp.simplify(e) == 0
