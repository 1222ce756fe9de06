"""The modular test's random prime (matcalc.residues) and the size bounds it relies on.

Expected answers are established independently of matcalc: the primes and
composites below are known ones (Mersenne primes, the largest primes below
2**61 and 2**64 from published tables, Carmichael numbers, and the strong
pseudoprimes to several bases from Arnault's and Jaeschke's papers, each
checked here by trial division or by its stated factorization).
"""

from __future__ import annotations

import math
import random
import threading
from fractions import Fraction

import pytest

from matcalc.fields import Degree, DegreeKit, ModKit
from matcalc.residues import (MODULUS_BITS, PRIMES_IN_RANGE, content_error, is_prime,
                              random_prime, residue_class)

PRIMES = [2, 3, 5, 7, 97, 65537, 2**31 - 1, 2**61 - 1, 2**64 - 59, 2**62 - 57,
          1_000_000_007, 999_999_999_989]
#: Carmichael numbers, strong pseudoprimes to small bases (2047 = 23 * 89 to base 2;
#: 3215031751 = 151 * 751 * 28351 to bases 2, 3, 5, 7; 3825123056546413051 =
#: 149491 * 747451 * 34233211 to bases 2..23), squares of primes, products of the
#: primes around 2**31 and 2**32
COMPOSITES = [1, 0, 4, 561, 1105, 1729, 2465, 2821, 6601, 8911, 2047, 1373653, 25326001,
              3215031751, 2152302898747, 3474749660383, 341550071728321,
              3825123056546413051, (2**31 - 1) ** 2, (2**31 - 1) * (2**32 - 5),
              (2**32 - 5) * (2**32 - 17), 2**61 + 1, 2**62 - 1]


def _trial(n: int) -> bool:
    return n >= 2 and all(n % q for q in range(2, math.isqrt(n) + 1))


@pytest.mark.parametrize("n", PRIMES)
def test_known_primes(n: int) -> None:
    assert is_prime(n)


@pytest.mark.parametrize("n", COMPOSITES)
def test_known_composites(n: int) -> None:
    assert not is_prime(n)


def test_the_factorizations_quoted() -> None:
    assert 2047 == 23 * 89 and 3215031751 == 151 * 751 * 28351
    assert 3825123056546413051 == 149491 * 747451 * 34233211
    assert all(not _trial(n) for n in (561, 1105, 1729, 2465, 2821, 6601, 8911, 1373653,
                                       25326001))


def test_agrees_with_trial_division_on_small_numbers() -> None:
    assert [n for n in range(3000) if is_prime(n)] == [n for n in range(3000) if _trial(n)]
    rng = random.Random(5)
    for n in (rng.randrange(10**9, 10**10) for _ in range(150)):
        assert is_prime(n) == _trial(n), n


def test_beyond_its_range_it_refuses() -> None:
    with pytest.raises(ValueError):
        is_prime(2**64 + 13)


def test_seeds_draw_primes_of_the_range() -> None:
    primes = {seed: ModKit(seed).p for seed in range(8)}
    assert all(2**61 < p < 2**62 and _strong_probable_prime(p) for p in primes.values())
    assert len(set(primes.values())) == len(primes)  # different seeds, different primes
    assert all(ModKit(seed).p == p for seed, p in primes.items())  # same seed, same prime
    assert random_prime(random.Random(3)) == random_prime(random.Random(3))


def _strong_probable_prime(n: int) -> bool:
    """An independent check: Fermat's test to 20 random bases."""
    rng = random.Random(n)
    return all(pow(a, n - 1, n) == 1 for a in (rng.randrange(2, n - 1) for _ in range(20)))


def test_the_count_of_primes_in_the_range() -> None:
    """pi(x) > x / ln x (x >= 17), pi(x) < 1.25506 x / ln x (x > 1): Rosser and Schoenfeld."""
    low, high = 2.0 ** (MODULUS_BITS - 1), 2.0 ** MODULUS_BITS
    assert high / math.log(high) - 1.25506 * low / math.log(low) > PRIMES_IN_RANGE
    assert content_error(61) == 1 / PRIMES_IN_RANGE


def test_residues_of_two_primes_live_side_by_side() -> None:
    one, two = residue_class(2**61 - 1), residue_class(2**62 - 57)
    assert one(2**66) == one(32) and two(2**66) != two(32)
    assert (one(5) * one(7)).v == 35 and (-one(1)).v == 2**61 - 2
    with pytest.raises(TypeError):
        one(3) + two(3)


def test_threads_keep_their_own_modulus() -> None:
    """Tests in several threads at once, each with its own prime: no global modulus."""
    results: dict[int, bool] = {}

    def work(seed: int) -> None:
        kit = ModKit(seed)
        mod, ok = kit.Mod, True
        for k in range(2000):
            a, b = kit.random(kit.rng), mod(k + 1)
            ok &= (a * b / b) == a and (a + b - b) == a and (a * b).v == a.v * b.v % kit.p
        results[seed] = ok

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {seed: True for seed in range(6)}


def test_bit_sizes_bound_the_coefficients() -> None:
    """(x + 3/4)**2 - 5 = (16 x^2 + 24 x - 71) / 16: coefficients of 1-norm 111 <= 2**hn."""
    x = Degree(1, 0)
    value = (x + Fraction(3, 4)) ** 2 - 5
    assert (value.n, value.d) == (2, 0)  # constants have degree 0
    assert 16 + 24 + 71 <= 2 ** value.hn and 16 <= 2 ** value.hd
    big = Degree.of(2048) ** 6 - 32  # 2**66 - 32: the constant of 2048 ** 6 * x = 32 * x
    assert 2**66 - 32 <= 2 ** big.hn
    kit = DegreeKit()
    kit.function("exp", x)
    kit.function("exp", x * 3)
    kit.function("log", x)
    # two exp arguments: one pair, of degree <= 1 + 1; log alone collides with nothing
    assert kit.collisions == 2 and kit.arguments == 3


def _prime_of(claim: str, seed: int, point: int = 0, n: int = 3) -> int:
    """The prime of a modular point of ``claim``: a false claim's refutation names it."""
    from matcalc.declarations import declare
    from matcalc.parsing import parse_expression
    from matcalc.pointtest import PointTest

    d = declare({"x": "n"})
    scope = d.scope("numerator")
    lhs, rhs = (parse_expression(side, scope) for side in claim.split(" = "))
    test = PointTest(lhs, rhs, d.shape_map, d.tag_map, {"n": n}, frozenset(), seed)
    outcome = test.modular()
    assert outcome.status == "refuted"
    prime = int(outcome.detail.rsplit(" ", 1)[1].rstrip(")"))
    assert prime == ModKit(test._modulus_seed(point)).p
    return prime


def test_the_prime_depends_on_the_seed_and_the_claim() -> None:
    """Reproducible under a seed, different under another seed, and different for
    another claim: a claim cannot be written for a prime known in advance."""
    first = _prime_of("3 * x = x", seed=0)
    assert _prime_of("3 * x = x", seed=0) == first
    assert _prime_of("3 * x = x", seed=1) != first
    assert _prime_of("5 * x = x", seed=0) != first
    assert _prime_of("3 * x = x", seed=0, n=4) != first
    assert all(2**61 < p < 2**62 for p in (first, _prime_of("5 * x = x", seed=7)))
