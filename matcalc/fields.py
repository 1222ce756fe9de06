"""Number types of the exact evaluator (:mod:`matcalc.jets`) and their functions.

A value is a NumPy object array of scalars of one *kit*:

* :class:`ModKit` -- integers modulo a prime ``p`` drawn at random from the
  primes in ``[2**61, 2**62)`` for each point of a modular test
  (:func:`random_prime`, from the kit's seed, which the test derives from the
  run's seed and a hash of the claim; :class:`Mod`). A rational function that is not
  identically zero is non-zero at a random point with probability at least
  ``1 - degree / p`` (Schwartz-Zippel) *provided that it is not zero modulo
  p*, i.e. that ``p`` does not divide every integer coefficient of its
  numerator; a prime fixed in advance could be met on purpose
  (``2048 ** 6 * x = 32 * x``: ``2**66 - 2**5 = 32 (2**61 - 1)``), a random one
  divides a given non-zero integer ``C`` with probability at most
  ``log2|C| / 61 / PRIMES_IN_RANGE`` (:func:`content_error`), and the sizes of
  the coefficients are bounded by running the evaluation on :class:`Degree`,
  which carries bit sizes besides degrees. So a zero at random points is a
  proof with a stated error bound and a non-zero value a certain refutation.
  ``exp(u)``, ``log(u)``, ``sin(u)``, ... stand as independent random values,
  one per function and value of ``u`` modulo p (a random oracle): an identity
  that vanishes as a rational function of them vanishes, whatever relations
  hold between them.
* :class:`ExactKit` -- Python fractions: exact values at rational points, for
  counterexamples a person can check. Transcendental functions raise
  :class:`NotRational`.
* :class:`IntervalKit` -- mpmath interval arithmetic at ``BITS`` bits: every
  value is an interval that contains the true value, so an interval of
  ``lhs - rhs`` that excludes 0 refutes the claim rigorously, at any scale.

:class:`Dual` carries a value and its tangents (forward-mode automatic
differentiation) over any of them; nested derivatives nest duals, kept apart by
their ``tag`` (the newest derivative is the outermost dual).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .residues import Mod, content_error, random_prime, residue_class

#: working precision of interval evaluation, in bits (about 90 digits)
BITS = 300


class NotRational(Exception):
    """A transcendental function met where only exact rationals are allowed."""


class OutOfDomain(Exception):
    """The point is outside the domain of an operation (the message says which)."""


class Unevaluated(Exception):
    """The evaluator does not evaluate this value here (a limit of matcalc, not a
    property of the claim: the exact stage is then undecided at these sizes)."""


# ---------------------------------------------------------------------------
# Forward-mode duals


class Dual:
    """``val + sum(tan[i] * e_i)``: a value and its derivatives along ``len(tan)``
    directions, at derivative level ``tag``."""

    __slots__ = ("tag", "val", "tan")

    def __init__(self, tag: int, val: Any, tan: list[Any]) -> None:
        self.tag, self.val, self.tan = tag, val, tan

    def _outer(self, o: Any) -> bool:
        """Whether ``o`` is a dual of a newer derivative (it must do the work)."""
        return isinstance(o, Dual) and o.tag > self.tag

    def __add__(self, o: Any) -> Any:
        if isinstance(o, Dual) and o.tag == self.tag:
            return Dual(self.tag, self.val + o.val, [a + b for a, b in zip(self.tan, o.tan)])
        if self._outer(o):
            return o.__radd__(self)
        return Dual(self.tag, self.val + o, self.tan)

    def __radd__(self, o: Any) -> Any:
        return Dual(self.tag, o + self.val, self.tan)

    def __sub__(self, o: Any) -> Any:
        if isinstance(o, Dual) and o.tag == self.tag:
            return Dual(self.tag, self.val - o.val, [a - b for a, b in zip(self.tan, o.tan)])
        if self._outer(o):
            return o.__rsub__(self)
        return Dual(self.tag, self.val - o, self.tan)

    def __rsub__(self, o: Any) -> Any:
        return Dual(self.tag, o - self.val, [-t for t in self.tan])

    def __mul__(self, o: Any) -> Any:
        if isinstance(o, Dual) and o.tag == self.tag:
            a, b = self.val, o.val
            return Dual(self.tag, a * b, [s * b + a * t for s, t in zip(self.tan, o.tan)])
        if self._outer(o):
            return o.__rmul__(self)
        return Dual(self.tag, self.val * o, [t * o for t in self.tan])

    def __rmul__(self, o: Any) -> Any:
        return Dual(self.tag, o * self.val, [o * t for t in self.tan])

    def __truediv__(self, o: Any) -> Any:
        if isinstance(o, Dual) and o.tag == self.tag:
            inverse = 1 / o.val
            q = self.val * inverse
            return Dual(self.tag, q, [(s - q * t) * inverse for s, t in zip(self.tan, o.tan)])
        if self._outer(o):
            return o.__rtruediv__(self)
        inverse = 1 / o
        return Dual(self.tag, self.val * inverse, [t * inverse for t in self.tan])

    def __rtruediv__(self, o: Any) -> Any:
        inverse = 1 / self.val
        q = o * inverse
        factor = -q * inverse
        return Dual(self.tag, q, [factor * t for t in self.tan])

    def __neg__(self) -> Dual:
        return Dual(self.tag, -self.val, [-t for t in self.tan])

    def __pow__(self, k: int) -> Dual:
        if k == 0:
            return Dual(self.tag, self.val ** 0, [t * 0 for t in self.tan])
        if k < 0:
            return 1 / (self ** -k)
        power = self.val ** (k - 1)
        factor = k * power
        return Dual(self.tag, power * self.val, [factor * t for t in self.tan])


def base(x: Any) -> Any:
    """The plain value under any duals."""
    while isinstance(x, Dual):
        x = x.val
    return x


def lift_unary(fn: Any, derivative: Any) -> Any:
    """A scalar function on duals from its base form: ``derivative(x, fx)`` is
    its derivative at ``x`` given ``fx = fn(x)`` (both of the inner type)."""

    def apply(x: Any) -> Any:
        if isinstance(x, Dual):
            value = apply(x.val)
            slope = derivative(x.val, value)
            return Dual(x.tag, value, [slope * t for t in x.tan])
        return fn(x)

    return apply


# ---------------------------------------------------------------------------
# Kits: the base type, its constants and its transcendental functions.

FUNCTIONS = ("exp", "log", "sin", "cos", "tanh", "sqrt", "sign")

#: the values a transcendental function takes exactly at a rational argument,
#: (function, argument) -> value; ``pow`` is any fractional power (1 ** c = 1).
#: The modular kit uses them where the argument's image modulo p is that
#: constant: an argument that is identically the constant (``det(Q @ Q.T)`` of
#: an orthogonal ``Q``) then makes ``log`` exactly 0 instead of an independent
#: atom, and the claim a rational one; an argument that is not identically the
#: constant takes the constant's image at a random point with probability at
#: most deg / p (Schwartz-Zippel, the same test), or at every point if p divides
#: every coefficient of the numerator of argument - constant (``log(2**61)`` for
#: p = 2**61 - 1: no fixed prime), terms that the modular test's error bound
#: includes (``DegreeKit.arguments``, ``DegreeKit.argument_bits``)
EXACT_VALUES: dict[tuple[str, int], int] = {
    ("log", 1): 0, ("exp", 0): 1, ("sin", 0): 0, ("cos", 0): 1, ("tanh", 0): 0,
    ("sqrt", 1): 1, ("pow", 1): 1,
}


class ModKit:
    """Integers modulo a random prime (``p``, drawn from ``seed``, with its
    class of residues ``Mod``); transcendental values from a seeded random
    oracle."""

    name = "modular"

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        #: the modulus of this kit, a prime drawn uniformly from [2**61, 2**62)
        self.p = random_prime(self.rng)
        #: its residues' class (:func:`residue_class`)
        self.Mod = residue_class(self.p)
        self.oracle: dict[tuple[str, int], Mod] = {}
        self.met_atom = False
        #: a function was given its exact value at a constant argument
        #: (EXACT_VALUES): a vanishing difference is a proof (with the bound on
        #: the constant test), a non-vanishing one no certain refutation
        self.met_exact = False

    def random(self, rng: random.Random) -> Mod:
        """A residue drawn uniformly with ``rng``."""
        return self.Mod(rng.randrange(self.p))

    def const(self, value: Fraction) -> Mod:
        return self.Mod.lift(value)

    def atom(self, kind: str, x: Mod) -> Mod:
        self.met_atom = True
        key = (kind, x.v)
        if key not in self.oracle:
            self.oracle[key] = self.Mod(self.rng.randrange(1, self.p))
        return self.oracle[key]

    def function(self, kind: str, x: Mod) -> Mod:
        known = EXACT_VALUES.get((kind, x.v))
        if known is not None:
            self.met_exact = True
            return self.Mod(known)
        return self.atom(kind, x)

    def power(self, x: Mod, exponent: Fraction) -> Mod:
        if x.v == 1:
            self.met_exact = True
            return self.Mod(1)
        return self.atom(f"pow{exponent}", x)

    def is_zero(self, x: Any) -> bool:
        return base(x).v == 0

    def positive(self, x: Any) -> bool | None:
        return None  # no order modulo p

    def sign(self, x: Mod) -> Mod:
        return self.atom("sign", x)


class ExactKit:
    """Python fractions; a transcendental function raises :class:`NotRational`."""

    name = "exact"

    def const(self, value: Fraction) -> Fraction:
        return value

    def function(self, kind: str, x: Fraction) -> Any:
        if x.denominator == 1 and (kind, x.numerator) in EXACT_VALUES:
            return Fraction(EXACT_VALUES[kind, x.numerator])
        raise NotRational(kind)

    def power(self, x: Fraction, exponent: Fraction) -> Any:
        if x == 1:
            return Fraction(1)
        raise NotRational("a fractional power")

    def is_zero(self, x: Any) -> bool:
        return base(x) == 0

    def positive(self, x: Any) -> bool | None:
        return base(x) > 0

    def sign(self, x: Fraction) -> int:
        return (x > 0) - (x < 0)


class Iv:
    """An mpmath interval that leaves mixed arithmetic with duals to the dual
    (mpmath's own interval raises instead of returning NotImplemented)."""

    __slots__ = ("x",)

    def __init__(self, x: Any) -> None:
        self.x = x

    @staticmethod
    def _raw(o: Any) -> Any:
        if isinstance(o, Iv):
            return o.x
        if isinstance(o, int):
            return o
        if isinstance(o, Fraction):
            return Iv.ctx().mpf(o.numerator) / o.denominator
        return None

    @staticmethod
    def ctx() -> Any:
        import mpmath

        return mpmath.iv

    def __add__(self, o: Any) -> Any:
        r = Iv._raw(o)
        return NotImplemented if r is None else Iv(self.x + r)

    __radd__ = __add__

    def __sub__(self, o: Any) -> Any:
        r = Iv._raw(o)
        return NotImplemented if r is None else Iv(self.x - r)

    def __rsub__(self, o: Any) -> Any:
        r = Iv._raw(o)
        return NotImplemented if r is None else Iv(r - self.x)

    def __mul__(self, o: Any) -> Any:
        r = Iv._raw(o)
        return NotImplemented if r is None else Iv(self.x * r)

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Any:
        r = Iv._raw(o)
        if r is None:
            return NotImplemented
        if isinstance(o, Iv) and o.x.a <= 0 <= o.x.b:
            raise OutOfDomain("a division by a value that may be 0")
        return Iv(self.x / r)

    def __rtruediv__(self, o: Any) -> Any:
        r = Iv._raw(o)
        if r is None:
            return NotImplemented
        if self.x.a <= 0 <= self.x.b:
            raise OutOfDomain("a division by a value that may be 0")
        return Iv(r / self.x)

    def __neg__(self) -> Iv:
        return Iv(-self.x)

    def __pow__(self, k: int) -> Iv:
        if k < 0 and self.x.a <= 0 <= self.x.b:
            raise OutOfDomain("a negative power of a value that may be 0")
        return Iv(self.x ** k)


class IntervalKit:
    """mpmath intervals at ``BITS`` bits (:class:`Iv`): enclosures of the true values."""

    name = "interval"

    def __init__(self, bits: int = BITS) -> None:
        import mpmath

        self.iv = mpmath.iv
        self.iv.prec = bits

    def const(self, value: Fraction) -> Iv:
        iv = self.iv
        return Iv(iv.mpf(value.numerator) / iv.mpf(value.denominator))

    def function(self, kind: str, x: Iv) -> Iv:
        iv, v = self.iv, x.x
        if kind in ("log", "sqrt") and not v.a > 0:
            raise OutOfDomain(f"{kind} of a value that is not > 0")
        if kind == "tanh":
            e = iv.exp(-2 * v)
            return Iv((1 - e) / (1 + e))
        return Iv(getattr(iv, kind)(v))

    def power(self, x: Iv, exponent: Fraction) -> Iv:
        if not x.x.a > 0:
            raise OutOfDomain("a fractional power of a value that is not > 0")
        return Iv(self.iv.exp(self.const(exponent).x * self.iv.log(x.x)))

    def is_zero(self, x: Any) -> bool:
        value = base(x).x
        return value.a <= 0 <= value.b  # not certainly non-zero

    def positive(self, x: Any) -> bool | None:
        value = base(x).x
        if value.a > 0:
            return True
        if value.b <= 0:
            return False
        return None

    def sign(self, x: Iv) -> int:
        if x.x.a > 0:
            return 1
        if x.x.b < 0:
            return -1
        raise OutOfDomain("a kink (abs, sign, relu) at an argument not certainly non-zero")


class HybridKit(ExactKit):
    """Fractions until a transcendental function is met, intervals (:class:`Iv`)
    from there on. For the domain checks at large sizes (is every operation
    defined at this point?), where det and inv in fractions are cheap and in
    300-bit intervals are not. A value whose sign is uncertain is not positive,
    and a kink at an argument of 0 is outside the domain, as in the other kits."""

    name = "hybrid"

    def __init__(self) -> None:
        self.intervals = IntervalKit()

    def _iv(self, x: Any) -> Iv:
        return x if isinstance(x, Iv) else self.intervals.const(Fraction(x))

    def function(self, kind: str, x: Any) -> Iv:
        return self.intervals.function(kind, self._iv(x))

    def power(self, x: Any, exponent: Fraction) -> Iv:
        return self.intervals.power(self._iv(x), exponent)

    def is_zero(self, x: Any) -> bool:
        value = base(x)
        return self.intervals.is_zero(value) if isinstance(value, Iv) else value == 0

    def positive(self, x: Any) -> bool | None:
        value = base(x)
        if isinstance(value, Iv):
            return self.intervals.positive(value) is True
        return value > 0

    def sign(self, x: Any) -> int:
        if isinstance(x, Iv):
            return self.intervals.sign(x)
        if x == 0:
            raise OutOfDomain("a kink (abs, sign, relu) at an argument of 0")
        return (x > 0) - (x < 0)


class Degree:
    """Bounds on a rational function ``N / D`` (of the point's parameters and
    the transcendental atoms, ``N`` and ``D`` integer polynomials, not
    necessarily coprime): the degrees of ``N`` and ``D`` (``n``, ``d``) and the
    bit sizes ``hn``, ``hd`` of their coefficients, ``||N||_1 <= 2**hn`` (the
    sum of the absolute values of the coefficients; it bounds every
    coefficient, and it is submultiplicative: ``||AB|| <= ||A|| ||B||``).
    Run through the same evaluation as the other kits, it bounds every entry,
    derivatives included: the degrees bound the chance of a zero at a random
    point (Schwartz-Zippel), the bit sizes the chance that the random prime
    divides every coefficient of a numerator (:func:`content_error`). The
    rules follow ``N1/D1 + N2/D2 = (N1 D2 + N2 D1) / (D1 D2)`` (one more bit for
    the sum), ``N1/D1 * N2/D2 = N1 N2 / (D1 D2)`` and the swap of a division; a
    constant ``a/b`` has ``hn``, ``hd`` the bit lengths of ``|a|``, ``b``."""

    __slots__ = ("n", "d", "hn", "hd")

    def __init__(self, n: int, d: int, hn: int = 0, hd: int = 0) -> None:
        self.n, self.d, self.hn, self.hd = n, d, hn, hd

    @staticmethod
    def of(x: Any) -> Degree:
        if isinstance(x, Degree):
            return x
        if isinstance(x, Fraction):
            return Degree(0, 0, abs(x.numerator).bit_length(), x.denominator.bit_length())
        if isinstance(x, int):
            return Degree(0, 0, abs(x).bit_length(), 0)
        return Degree(0, 0)  # pragma: no cover - the evaluation mixes no other numbers

    def __add__(self, o: Any) -> Any:
        if isinstance(o, Dual):
            return NotImplemented
        o = Degree.of(o)
        return Degree(max(self.n + o.d, o.n + self.d), self.d + o.d,
                      max(self.hn + o.hd, o.hn + self.hd) + 1, self.hd + o.hd)

    __radd__ = __add__
    __sub__ = __add__
    __rsub__ = __add__

    def __mul__(self, o: Any) -> Any:
        if isinstance(o, Dual):
            return NotImplemented
        o = Degree.of(o)
        return Degree(self.n + o.n, self.d + o.d, self.hn + o.hn, self.hd + o.hd)

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Any:
        if isinstance(o, Dual):
            return NotImplemented
        o = Degree.of(o)
        return Degree(self.n + o.d, self.d + o.n, self.hn + o.hd, self.hd + o.hn)

    def __rtruediv__(self, o: Any) -> Any:
        return Degree.of(o) / self

    def __neg__(self) -> Degree:
        return self

    def __pow__(self, k: int) -> Degree:
        if k >= 0:
            return Degree(k * self.n, k * self.d, k * self.hn, k * self.hd)
        return Degree(-k * self.d, -k * self.n, -k * self.hd, -k * self.hn)


class DegreeKit:
    """Degree and bit-size bounds: every transcendental value (and every kink's
    sign) is a new variable (degree 1, coefficient 1). It also bounds what the
    modular kit's treatment of their arguments may cost:

    * a function at an argument equal to a constant of EXACT_VALUES modulo p
      takes that constant's exact value, and a kink at an argument that is 0
      modulo p is taken for a structural zero: an argument ``g`` that is not
      that constant ``c`` meets it at a random point with probability at most
      ``deg(g - c) / p``, or at every point if p divides every coefficient of
      the numerator of ``g - c``;
    * the random oracle gives one value per function and argument modulo p: two
      different arguments ``g``, ``h`` of one function share it where
      ``g - h`` vanishes modulo p.

    ``arguments`` and ``collisions`` sum those degrees (``deg(g - c) <= max(n,
    d)``, ``deg(g - h) <= (n + d)(g) + (n + d)(h)``), ``argument_bits`` their
    numerators' bit sizes (``max(hn, hd) + 1``, and ``(hn + hd)(g) + (hn +
    hd)(h) + 1`` per pair)."""

    name = "degree"

    def __init__(self) -> None:
        self.arguments = 0
        self.argument_bits = 0
        #: per function: (arguments met, sum of their n + d, sum of their hn + hd)
        self._kinds: dict[str, tuple[int, int, int]] = {}

    @property
    def collisions(self) -> int:
        return sum((m - 1) * degrees for m, degrees, _ in self._kinds.values())

    @property
    def collision_bits(self) -> int:
        return sum((m - 1) * bits + m * (m - 1) // 2 for m, _, bits in self._kinds.values())

    def const(self, value: Fraction) -> Degree:
        return Degree.of(Fraction(value))

    def function(self, kind: str, x: Any) -> Degree:
        x = Degree.of(x)
        self.arguments += max(x.n, x.d)
        self.argument_bits += max(x.hn, x.hd) + 1
        m, degrees, bits = self._kinds.get(kind, (0, 0, 0))
        self._kinds[kind] = (m + 1, degrees + x.n + x.d, bits + x.hn + x.hd)
        return Degree(1, 0)

    def power(self, x: Any, exponent: Fraction) -> Degree:
        return self.function("pow", x)

    def is_zero(self, x: Any) -> bool:
        return False

    def positive(self, x: Any) -> bool | None:
        return None

    def sign(self, x: Any) -> Degree:
        return self.function("sign", x)

    def bounds(self, difference: list[Any]) -> Bounds:
        """The bounds of this evaluation, whose entries of lhs - rhs are ``difference``."""
        entries = [Degree.of(d) for d in difference]
        return Bounds(degree=max((d.n for d in entries), default=0),
                      bits=max((d.hn for d in entries), default=0),
                      arguments=self.arguments + self.collisions,
                      argument_bits=self.argument_bits + self.collision_bits,
                      exact_arguments=self.arguments)


@dataclass(frozen=True)
class Bounds:
    """What the degree pass bounds (:class:`DegreeKit`): the
    degree of the numerator of every entry of lhs - rhs and the bit size of its
    coefficients, and the degrees and bit sizes of what the modular kit's
    functions and kinks may meet (``arguments``, ``argument_bits``: constants of
    EXACT_VALUES, structural zeros, two arguments sharing an oracle value;
    ``exact_arguments``: the degrees without the pairs)."""

    degree: int
    bits: int
    arguments: int
    argument_bits: int
    exact_arguments: int

    def error(self, points: int) -> float:
        """The chance that a claim that is false passes the test at ``points``
        points, each with its own random prime: at each, the prime divides a
        numerator's coefficients (one of ``bits + argument_bits`` bits in all),
        or the point is a zero of a numerator that is not zero modulo the prime
        (Schwartz-Zippel, prime >= 2**61); the points are independent."""
        per_point = content_error(self.bits + self.argument_bits) + \
            (self.degree + self.arguments) / 2.0 ** 61
        return min(1.0, per_point) ** points
