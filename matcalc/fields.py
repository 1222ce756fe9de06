"""Number types of the exact evaluator (:mod:`matcalc.jets`) and their functions.

A value is a NumPy object array of scalars of one *kit*:

* :class:`ModKit` -- integers modulo the prime ``P = 2**61 - 1`` (:class:`Mod`).
  A rational function that is not identically zero is non-zero at a random
  point with probability at least ``1 - degree / P`` (Schwartz-Zippel), so a
  zero at random points is a proof with a stated error bound and a non-zero
  value a certain refutation. ``exp(u)``, ``log(u)``, ``sin(u)``, ... stand as
  independent random values, one per function and value of ``u`` (a random
  oracle): an identity that vanishes as a rational function of them vanishes,
  whatever relations hold between them.
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
from fractions import Fraction
from typing import Any

#: the prime of the modular field
P = 2**61 - 1
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
# Integers modulo P

_new = object.__new__


class Mod:
    """An integer modulo P. The arithmetic between two of them is written out
    (no conversion, no second reduction): the modular test spends most of its
    time here."""

    __slots__ = ("v",)

    def __init__(self, v: int) -> None:
        self.v = v % P

    @staticmethod
    def lift(x: Any) -> Mod:
        if isinstance(x, Mod):
            return x
        # a constant whose numerator or denominator is a multiple of P (constants
        # have up to 60 digits, limits.MAX_CONSTANT) has no faithful image modulo P:
        # the point is refused like a pole, so that 2**61 - 1 is never taken for 0
        if isinstance(x, Fraction):
            if x.denominator % P == 0 or x.numerator % P == 0 and x.numerator:
                raise ZeroDivisionError("a constant divisible by the modulus")
            return Mod(x.numerator * pow(x.denominator, P - 2, P))
        image = Mod(int(x))
        if image.v == 0 and x:
            raise ZeroDivisionError("a constant divisible by the modulus")
        return image

    def _other(self, o: Any) -> Mod | None:
        if isinstance(o, Mod):
            return o
        if isinstance(o, (int, Fraction)):
            return Mod.lift(o)
        return None

    def __add__(self, o: Any) -> Any:
        if o.__class__ is Mod:
            total = self.v + o.v
            out = _new(Mod)
            out.v = total - P if total >= P else total
            return out
        m = self._other(o)
        return NotImplemented if m is None else Mod(self.v + m.v)

    __radd__ = __add__

    def __sub__(self, o: Any) -> Any:
        if o.__class__ is Mod:
            difference = self.v - o.v
            out = _new(Mod)
            out.v = difference + P if difference < 0 else difference
            return out
        m = self._other(o)
        return NotImplemented if m is None else Mod(self.v - m.v)

    def __rsub__(self, o: Any) -> Any:
        m = self._other(o)
        return NotImplemented if m is None else Mod(m.v - self.v)

    def __mul__(self, o: Any) -> Any:
        if o.__class__ is Mod:
            out = _new(Mod)
            out.v = self.v * o.v % P
            return out
        m = self._other(o)
        return NotImplemented if m is None else Mod(self.v * m.v)

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Any:
        m = self._other(o)
        if m is None:
            return NotImplemented
        if m.v == 0:
            raise ZeroDivisionError("division by zero modulo P")
        return Mod(self.v * pow(m.v, P - 2, P))

    def __rtruediv__(self, o: Any) -> Any:
        m = self._other(o)
        return NotImplemented if m is None else m / self

    def __neg__(self) -> Mod:
        out = _new(Mod)
        out.v = P - self.v if self.v else 0
        return out

    def __pow__(self, k: int) -> Mod:
        if k < 0:
            if self.v == 0:
                raise ZeroDivisionError("a negative power of zero modulo P")
            return Mod(pow(pow(self.v, P - 2, P), -k, P))
        return Mod(pow(self.v, k, P))

    def __eq__(self, o: object) -> bool:
        m = self._other(o)
        return m is not None and m.v == self.v

    def __hash__(self) -> int:
        return hash(self.v)

    def __repr__(self) -> str:
        return f"Mod({self.v})"


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
#: The modular kit uses them where the argument's image modulo P is that
#: constant: an argument that is identically the constant (``det(Q @ Q.T)`` of
#: an orthogonal ``Q``) then makes ``log`` exactly 0 instead of an independent
#: atom, and the claim a rational one; an argument that is not identically the
#: constant takes the constant's image at a random point with probability at
#: most deg / P (Schwartz-Zippel, the same test), a term that the modular
#: test's error bound includes (``DegreeKit.arguments``)
EXACT_VALUES: dict[tuple[str, int], int] = {
    ("log", 1): 0, ("exp", 0): 1, ("sin", 0): 0, ("cos", 0): 1, ("tanh", 0): 0,
    ("sqrt", 1): 1, ("pow", 1): 1,
}


class ModKit:
    """Integers modulo P; transcendental values from a seeded random oracle."""

    name = "modular"

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.oracle: dict[tuple[str, int], Mod] = {}
        self.met_atom = False
        #: a function was given its exact value at a constant argument
        #: (EXACT_VALUES): a vanishing difference is a proof (with the bound on
        #: the constant test), a non-vanishing one no certain refutation
        self.met_exact = False

    def const(self, value: Fraction) -> Mod:
        return Mod.lift(value)

    def atom(self, kind: str, x: Mod) -> Mod:
        self.met_atom = True
        key = (kind, x.v)
        if key not in self.oracle:
            self.oracle[key] = Mod(self.rng.randrange(1, P))
        return self.oracle[key]

    def function(self, kind: str, x: Mod) -> Mod:
        known = EXACT_VALUES.get((kind, x.v))
        if known is not None:
            self.met_exact = True
            return Mod(known)
        return self.atom(kind, x)

    def power(self, x: Mod, exponent: Fraction) -> Mod:
        if x.v == 1:
            self.met_exact = True
            return Mod(1)
        return self.atom(f"pow{exponent}", x)

    def is_zero(self, x: Any) -> bool:
        return base(x).v == 0

    def positive(self, x: Any) -> bool | None:
        return None  # no order modulo P

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
    """A bound on the degrees of the numerator and denominator of a rational
    function (of the point's parameters and the transcendental atoms). Run
    through the same evaluation as the other kits, it bounds the degree of
    every entry, derivatives included: the error bound of the modular test."""

    __slots__ = ("n", "d")

    def __init__(self, n: int, d: int) -> None:
        self.n, self.d = n, d

    @staticmethod
    def of(x: Any) -> Degree:
        return x if isinstance(x, Degree) else Degree(0, 0)

    def __add__(self, o: Any) -> Any:
        if isinstance(o, Dual):
            return NotImplemented
        o = Degree.of(o)
        return Degree(max(self.n + o.d, o.n + self.d), self.d + o.d)

    __radd__ = __add__
    __sub__ = __add__
    __rsub__ = __add__

    def __mul__(self, o: Any) -> Any:
        if isinstance(o, Dual):
            return NotImplemented
        o = Degree.of(o)
        return Degree(self.n + o.n, self.d + o.d)

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Any:
        if isinstance(o, Dual):
            return NotImplemented
        o = Degree.of(o)
        return Degree(self.n + o.d, self.d + o.n)

    def __rtruediv__(self, o: Any) -> Any:
        return Degree.of(o) / self

    def __neg__(self) -> Degree:
        return self

    def __pow__(self, k: int) -> Degree:
        return Degree(k * self.n, k * self.d) if k >= 0 else Degree(-k * self.d, -k * self.n)


class DegreeKit:
    """Degree bounds: every transcendental value is a new variable (degree 1)."""

    name = "degree"

    def __init__(self) -> None:
        #: the sum over the transcendental values met of the degree of their
        #: argument minus a constant: a bound on the chance, times P, that some
        #: argument takes a constant of EXACT_VALUES at a random point without
        #: being that constant
        self.arguments = 0

    def const(self, value: Fraction) -> Degree:
        return Degree(0, 0)

    def function(self, kind: str, x: Any) -> Degree:
        x = Degree.of(x)
        self.arguments += max(x.n, x.d)
        return Degree(1, 0)

    def power(self, x: Any, exponent: Fraction) -> Degree:
        return self.function("pow", x)

    def is_zero(self, x: Any) -> bool:
        return False

    def positive(self, x: Any) -> bool | None:
        return None

    def sign(self, x: Any) -> Degree:
        return Degree(1, 0)
