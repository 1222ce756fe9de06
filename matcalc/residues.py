"""Integers modulo a prime drawn at random for each point of a modular test.

The modular test (:mod:`matcalc.pointtest`) evaluates both sides of a claim
modulo a prime. Schwartz-Zippel bounds the chance that a rational function
that is not zero vanishes at a random point, but only for one that is not zero
*modulo the prime*: a prime fixed in advance divides every coefficient of
numerators a user can write on purpose (``2048 ** 6 * x = 32 * x``, since
``2**66 - 2**5 = 32 (2**61 - 1)``). So each point of a test draws its prime
uniformly from the primes in ``[2**61, 2**62)`` (:func:`random_prime`, with a
generator seeded by the run's seed and a hash of the claim, so that a run is
reproduced by its seed and no claim can be written for a prime known in
advance), and a given non-zero integer is divisible by it with a probability
that :func:`content_error` bounds. :func:`residue_class` makes the class of residues of one prime; the
modulus is a constant of the class, never a global, so that tests modulo
different primes run side by side, in threads too.
"""

from __future__ import annotations

import functools
import math
import random
from fractions import Fraction
from typing import Any

#: the modulus of each modular test is a prime drawn uniformly at random from
#: [2**(MODULUS_BITS - 1), 2**MODULUS_BITS), from the test's seeded generator
MODULUS_BITS = 62
#: a lower bound on the number of primes in that range: by Rosser and Schoenfeld
#: (1962), x / ln x < pi(x) for x >= 17 and pi(x) < 1.25506 x / ln x for x > 1, so
#: pi(2**62) - pi(2**61) > 2**62 / ln 2**62 - 1.25506 * 2**61 / ln 2**61 > 3.88e16
#: (tests/test_jets.py recomputes it)
PRIMES_IN_RANGE = 38 * 10**15
#: trial divisors before Miller-Rabin
_SMALL_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
#: Miller-Rabin with these seven bases decides every n < 2**64 (Sinclair, 2011;
#: the first twelve primes would do too, Jiang and Deng 2014, at 12/7 the cost)
_WITNESSES = (2, 325, 9375, 28178, 450775, 9780504, 1795265022)
#: the product of the primes below 1000 (a candidate of 62 bits sharing no factor with
#: it is prime about six times as often as an odd number of its size)
_SMALL_PRIMES_PRODUCT = math.prod(q for q in range(3, 1000, 2)
                                  if all(q % r for r in range(3, math.isqrt(q) + 1, 2)))


def is_prime(n: int) -> bool:
    """Whether ``n`` is prime, for ``n < 2**64`` (deterministic Miller-Rabin)."""
    if n >= 2**64:
        raise ValueError("is_prime decides n < 2**64 only")
    if n < 2:
        return False
    for q in _SMALL_PRIMES:
        if n % q == 0:
            return n == q
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in _WITNESSES:
        a %= n
        if a == 0:  # a base that is a multiple of n says nothing
            continue
        x = pow(a, d, n)
        if x == 1 or x == n - 1:
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def random_prime(rng: random.Random) -> int:
    """A prime drawn uniformly from ``[2**61, 2**62)``: odd numbers are drawn
    uniformly until one is prime (about 21 draws), so that every prime of the
    range is equally likely. A fixed non-zero integer ``C`` is divisible by it
    with probability at most ``log2|C| / 61 / PRIMES_IN_RANGE`` (a product of k
    such primes exceeds ``2**(61 k)``)."""
    low, high = 2 ** (MODULUS_BITS - 1), 2 ** MODULUS_BITS
    while True:
        n = rng.randrange(low + 1, high, 2)
        # most candidates have a small factor: one gcd sets them aside
        if math.gcd(n, _SMALL_PRIMES_PRODUCT) == 1 and is_prime(n):
            return n


def content_error(bits: int) -> float:
    """The chance that the random prime divides one of some fixed non-zero
    integers whose sizes add up to ``bits`` bits (see :func:`random_prime`)."""
    return bits / (MODULUS_BITS - 1) / PRIMES_IN_RANGE


class Mod:
    """An integer modulo a prime (the base class of every modulus's class, for
    ``isinstance``): ``v`` is the residue in ``[0, p)``. The class for a
    modulus ``p`` comes from :func:`residue_class` (``ModKit.Mod``); it holds
    ``p`` as a class attribute ``modulus`` and in its methods' closures, so that
    tests modulo different primes run side by side (in threads too) with no
    shared mutable state."""

    __slots__ = ("v",)
    modulus = 0

    def __init__(self, v: int) -> None:
        raise TypeError("Mod stands for no modulus: use residue_class(p) or ModKit(seed).Mod")


@functools.lru_cache(maxsize=64)
def residue_class(p: int) -> type[Mod]:
    """The class of integers modulo ``p``. The arithmetic between two of them
    is written out (no conversion, no second reduction): the modular test
    spends most of its time here."""
    new = object.__new__

    class Residue(Mod):
        __slots__ = ()
        modulus = p

        def __init__(self, v: int) -> None:
            self.v = v % p

        @staticmethod
        def lift(x: Any) -> Mod:
            if x.__class__ is Residue:
                return x
            if isinstance(x, Mod):
                raise TypeError("residues modulo two different primes")
            # a constant whose numerator or denominator is a multiple of p has no
            # faithful image modulo p: the point is refused like a pole, so that a
            # multiple of the modulus is never taken for 0
            if isinstance(x, Fraction):
                if x.denominator % p == 0 or x.numerator % p == 0 and x.numerator:
                    raise ZeroDivisionError("a constant divisible by the modulus")
                return Residue(x.numerator * pow(x.denominator, p - 2, p))
            image = Residue(int(x))
            if image.v == 0 and x:
                raise ZeroDivisionError("a constant divisible by the modulus")
            return image

        def _other(self, o: Any) -> Mod | None:
            if o.__class__ is Residue:
                return o
            if isinstance(o, (int, Fraction, Mod)):
                return Residue.lift(o)
            return None

        def __add__(self, o: Any) -> Any:
            if o.__class__ is Residue:
                total = self.v + o.v
                out = new(Residue)
                out.v = total - p if total >= p else total
                return out
            m = self._other(o)
            return NotImplemented if m is None else Residue(self.v + m.v)

        __radd__ = __add__

        def __sub__(self, o: Any) -> Any:
            if o.__class__ is Residue:
                difference = self.v - o.v
                out = new(Residue)
                out.v = difference + p if difference < 0 else difference
                return out
            m = self._other(o)
            return NotImplemented if m is None else Residue(self.v - m.v)

        def __rsub__(self, o: Any) -> Any:
            m = self._other(o)
            return NotImplemented if m is None else Residue(m.v - self.v)

        def __mul__(self, o: Any) -> Any:
            if o.__class__ is Residue:
                out = new(Residue)
                out.v = self.v * o.v % p
                return out
            m = self._other(o)
            return NotImplemented if m is None else Residue(self.v * m.v)

        __rmul__ = __mul__

        def __truediv__(self, o: Any) -> Any:
            m = self._other(o)
            if m is None:
                return NotImplemented
            if m.v == 0:
                raise ZeroDivisionError("division by zero modulo the prime")
            return Residue(self.v * pow(m.v, p - 2, p))

        def __rtruediv__(self, o: Any) -> Any:
            m = self._other(o)
            return NotImplemented if m is None else m / self

        def __neg__(self) -> Mod:
            out = new(Residue)
            out.v = p - self.v if self.v else 0
            return out

        def __pow__(self, k: int) -> Mod:
            if k < 0:
                if self.v == 0:
                    raise ZeroDivisionError("a negative power of zero modulo the prime")
                return Residue(pow(pow(self.v, p - 2, p), -k, p))
            return Residue(pow(self.v, k, p))

        def __eq__(self, o: object) -> bool:
            m = self._other(o)
            return m is not None and m.v == self.v

        def __hash__(self) -> int:
            return hash(self.v)

        def __repr__(self) -> str:
            return f"Mod({self.v} mod {p})"

    Residue.__name__ = Residue.__qualname__ = f"Mod{p}"
    return Residue


