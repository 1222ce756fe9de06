"""Traps for the exact engine: identities whose truth depends on the parity of a
size, on the component of an orthogonal matrix, on scale or on a far kink.

Every expected verdict is established by hand, independently of matcalc:

* ``det(c X) = c**n det(X)`` (the determinant is multilinear in the rows), so
  ``det(-X) = -det(X)`` is false at every even n, and ``det(-X) = (-1)**n det(X)``
  holds;
* the derivative of ``det(-X)`` by Jacobi's formula and the chain rule is
  ``-(det(-X) inv(-X)) = det(-X) inv(X)`` in numerator layout, which is
  ``(-1)**n det(X) inv(X)``: ``-det(X) inv(X)`` is false at even n;
* a skew matrix S has ``det(S) = det(S.T) = det(-S) = (-1)**n det(S)``, so it is
  singular at odd n; at n = 2, ``[[0, 1], [-1, 0]]`` has det 1;
* ``d(c x.T x)/d(x) = 2 c x.T`` (numerator layout), so ``c x.T`` is off by 2.

The exact stage is asked alone (``method="symbolic"``): these are its verdicts.
"""

from __future__ import annotations

import pytest

import matcalc

SQUARE = {"X": "n n"}

# (identity, variables, assumptions, pinned sizes, expected status)
TRAPS = [
    ("det(-X) = -det(X)", SQUARE, {}, None, "fails"),
    ("det(-X) = (-1)**n * det(X)", SQUARE, {}, None, "holds"),
    ("det(-X) = -det(X)", SQUARE, {}, {"n": 3}, "holds"),
    ("det(-X) = det(X)", SQUARE, {}, {"n": 4}, "holds"),
    ("d(det(-X))/d(X) = -det(X) * inv(X)", SQUARE, {"X": "invertible"}, None, "fails"),
    ("d(det(-X))/d(X) = det(-X) * inv(X)", SQUARE, {"X": "invertible"}, None, "holds"),
    ("d(det(-X))/d(X) = (-1)**n * det(X) * inv(X)", SQUARE, {"X": "invertible"}, None, "holds"),
    ("det(X - X.T) = 0", SQUARE, {}, None, "fails"),
    ("det(X - X.T) = 0", SQUARE, {}, {"n": 3}, "holds"),
    ("det(X - X.T) = 0", SQUARE, {}, {"n": 5}, "holds"),
    ("det(-Y) = det(Y)", {"X": "m m", "Y": "n n"}, {}, None, "fails"),
    ("det(-X) = det(X)", {"X": "m m", "Y": "n n"}, {}, None, "fails"),
    ("det(-Y) = (-1)**n * det(Y)", {"X": "m m", "Y": "n n"}, {}, None, "holds"),
    ("trace(-X) = -trace(X)", SQUARE, {}, None, "holds"),
    ("det(Q) = 1", {"Q": "n n"}, {"Q": "orthogonal"}, None, "fails"),
    ("det(Q) ** 2 = 1", {"Q": "n n"}, {"Q": "orthogonal"}, None, "holds"),
    ("d(1e-10 * x.T @ x)/d(x) = 1e-10 * x.T", {"x": "n"}, {}, {"n": 8}, "fails"),
    ("d(1e-10 * x.T @ x)/d(x) = 2e-10 * x.T", {"x": "n"}, {}, {"n": 8}, "holds"),
]


@pytest.mark.parametrize("identity, variables, assume, sizes, expected", TRAPS,
                         ids=[f"{t[0]} {t[3] or ''}" for t in TRAPS])
def test_the_exact_stage_gets_the_trap_right(identity: str, variables: dict, assume: dict,
                                             sizes: dict | None, expected: str) -> None:
    verdict = matcalc.verify(identity, vars=variables, assume=assume, sizes=sizes,
                             method="symbolic")
    assert verdict.status == expected, verdict


def test_every_dimension_is_decided_at_both_parities() -> None:
    verdict = matcalc.verify("det(-Y) = (-1)**n * det(Y)", vars={"X": "m m", "Y": "n n"},
                             method="symbolic")
    sets = verdict.symbolic.size_sets
    assert len(sets) >= 3
    for dim in ("m", "n"):
        assert {s[dim] % 2 for s in sets} == {0, 1}
    assert all(s["m"] != s["n"] for s in sets)  # a transpose cannot hide
    refuted = matcalc.verify("det(-X) = -det(X)", vars=SQUARE, method="symbolic")
    assert refuted.symbolic.sizes["n"] % 2 == 0  # refuted at the even size
    assert refuted.counterexample.sizes == refuted.symbolic.sizes


def test_a_pinned_size_is_decided_exactly_when_cheap() -> None:
    verdict = matcalc.verify("d(x.T @ x)/d(x) = 2 * x.T", vars={"x": "n"}, sizes={"n": 20},
                             method="symbolic")
    assert verdict.holds and verdict.symbolic.size_sets == ({"n": 20},)
