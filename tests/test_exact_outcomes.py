"""The exact stage at scale, at kinks and in narrow domains; each outcome in its own words.

Expected verdicts, established by hand:

* ``d(exp(50 s) sigmoid(s))/ds = exp(50 s) (50 sigmoid(s) + sigmoid(s)(1 - sigmoid(s)))``
  by the product rule and ``sigmoid' = sigmoid (1 - sigmoid)``: true, with values
  near 1e20 at s = 1;
* ``d(s**60 (sin(s)**2 + cos(s)**2))/ds = 60 s**59`` since the bracket is 1: true;
* ``d(exp(-30 x.T x))/dx = -60 exp(-30 x.T x) x.T`` (chain rule): tiny but not 0,
  so the claim ``zeros(1, n)`` is false;
* ``d(sum(abs(x - 20)))/dx = sign(x - 20).T``, which is +1 wherever x > 20, so
  ``-ones(1, n)`` is false; likewise ``d(sum(relu(x + 10)))/dx`` is 0 wherever
  x < -10, so ``ones(1, n)`` is false;
* ``f = a.T log(sin(X)) b`` has ``df/dX[i, j] = a[i] b[j] cos(X[i, j]) / sin(X[i, j])``;
  in numerator layout ``D[j, i] = df/dX[i, j]``, so the derivative is
  ``(b @ a.T) * cos(X.T) / sin(X.T)``, and ``(a @ b.T) * cos(X) / sin(X)`` in
  denominator layout; the claims without the cos factor are false. The domain is
  sin(X) > 0 in every entry, which random points rarely meet;
* ``log(-exp(x))`` is defined nowhere (its argument is negative): no valid point.
* for an ``n x k`` matrix ``X`` with ``k > n``, the ``k x k`` matrix ``X.T @ A @ X`` has
  rank at most ``n``: it is never invertible, so ``inv(X.T @ A @ X)`` is defined
  nowhere at such sizes; at ``k <= n`` the Matrix Cookbook's (§2.1.2)
  ``d(det(X.T A X))/dX = det(X.T A X) (A X inv(X.T A X) + A.T X inv(X.T A.T X))``
  (denominator layout) holds by Jacobi's formula and the product rule.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

import matcalc
from matcalc.declarations import declare
from matcalc.engines import Engines
from matcalc.parsing import parse_expression

LOG_SIN = {"a": "k", "b": "k", "X": "k k"}

CASES = [
    # (identity, variables, sizes, layout, expected)
    ("d(exp(50 * s) * sigmoid(s))/d(s) = exp(50 * s) * (50 * sigmoid(s) + sigmoid(s) * "
     "(1 - sigmoid(s)))", {"s": ""}, None, "numerator", "holds"),
    ("d(exp(50 * s) * sigmoid(s))/d(s) = exp(50 * s) * (51 * sigmoid(s) + sigmoid(s) * "
     "(1 - sigmoid(s)))", {"s": ""}, None, "numerator", "fails"),
    ("d(s ** 60 * (sin(s) ** 2 + cos(s) ** 2))/d(s) = 60 * s ** 59", {"s": ""}, None,
     "numerator", "holds"),
    ("d(s ** 60 * (sin(s) ** 2 + cos(s) ** 2))/d(s) = 61 * s ** 59", {"s": ""}, None,
     "numerator", "fails"),
    ("d(exp(-30 * x.T @ x))/d(x) = zeros(1, n)", {"x": "n"}, {"n": 8}, "numerator", "fails"),
    ("d(exp(-30 * x.T @ x))/d(x) = -60 * exp(-30 * x.T @ x) * x.T", {"x": "n"}, {"n": 8},
     "numerator", "holds"),
    ("d(sum(abs(x - 20)))/d(x) = -ones(1, n)", {"x": "n"}, None, "numerator", "fails"),
    ("d(sum(abs(x - 20)))/d(x) = sign(x - 20).T", {"x": "n"}, None, "numerator", "holds"),
    ("d(sum(relu(x + 10)))/d(x) = ones(1, n)", {"x": "n"}, {"n": 8}, "numerator", "fails"),
    ("d(sum(relu(x + 10)))/d(x) = ones(1, n)", {"x": "n"}, None, "numerator", "fails"),
    ("d(sum(relu(x + 10)))/d(x) = ((sign(x + 10) + 1) / 2).T", {"x": "n"}, None,
     "numerator", "holds"),
    ("d(a.T @ log(sin(X)) @ b)/d(X) = diag(a) @ sin(X)**(-1) @ diag(b)", LOG_SIN, None,
     "numerator", "fails"),
    ("d(a.T @ log(sin(X)) @ b)/d(X) = zeros(k, k)", LOG_SIN, None, "numerator", "fails"),
    ("d(a.T @ log(sin(X)) @ b)/d(X) = 7 * (a @ b.T) / sin(X)", LOG_SIN, None, "numerator",
     "fails"),
    ("d(a.T @ log(sin(X)) @ b)/d(X) = (b @ a.T) * cos(X.T) / sin(X.T)", LOG_SIN, None,
     "numerator", "holds"),
    ("d(a.T @ log(sin(X)) @ b)/d(X) = (a @ b.T) * cos(X) / sin(X)", LOG_SIN, None,
     "denominator", "holds"),
]


@pytest.mark.parametrize("identity, variables, sizes, layout, expected", CASES,
                         ids=[f"{c[0][:50]} {c[2] or ''} {c[3]}" for c in CASES])
def test_the_exact_stage_decides(identity: str, variables: dict, sizes: dict | None,
                                 layout: str, expected: str) -> None:
    verdict = matcalc.verify(identity, vars=variables, sizes=sizes, layout=layout,
                             method="symbolic")
    assert verdict.status == expected, verdict
    if expected == "fails":
        ce = verdict.counterexample
        assert ce is not None and ce.exact
        assert ce.lhs != ce.rhs  # visibly different as printed


def test_a_counterexample_lies_inside_the_domain() -> None:
    verdict = matcalc.verify(CASES[11][0], vars=LOG_SIN, method="symbolic")
    point = verdict.counterexample.point["X"]
    assert all(0 < Fraction(v) < Fraction(314, 100) for row in point for v in row)  # sin > 0


def _evidence(identity: str, variables: dict, sizes: dict | None = None):  # noqa: ANN202
    engines = Engines(declare(variables, None, sizes), method="symbolic")
    scope = engines.declarations.scope("numerator")
    lhs, rhs = (parse_expression(t, scope) for t in identity.split(" = "))
    return engines.symbolic(lhs, rhs)


def test_each_outcome_in_its_own_words() -> None:
    refuted = _evidence("d(sum(abs(x - 20)))/d(x) = -ones(1, n)", {"x": "n"})
    assert refuted.status == "refuted" and "not 0" in refuted.detail
    empty = _evidence("d(sum(log(-exp(x))))/d(x) = ones(1, n)", {"x": "n"})
    assert empty.status == "undecided" and empty.finding == "no-valid-point"
    assert "no valid point in" in empty.detail and "log needs -exp(x) > 0" in empty.detail
    # beyond SymPy's sizes (pinned n = 10), a true relation between sin and cos
    # has no formal proof here: it vanishes at every point evaluated, and says so
    vanishes = _evidence("sin(x) ** 2 + cos(x) ** 2 = ones(n)", {"x": "n"}, {"n": 10})
    assert vanishes.status == "undecided" and vanishes.finding == "vanishes"
    assert "vanishes at" in vanishes.detail and "valid real points" in vanishes.detail
    proved = _evidence("d(x.T @ x)/d(x) = 2 * x.T", {"x": "n"})
    assert proved.status == "proved" and proved.finding is None


def test_both_sides_of_a_far_kink_are_tried() -> None:
    # sign**3 = sign only on the real line: no modular proof, decided at real points
    true = _evidence("d(sum(abs(x - 20)))/d(x) = (sign(x - 20) ** 3).T", {"x": "n"},
                     {"n": 10})
    # n = 10 is beyond SymPy: decided by points, on both sides of every kink
    assert true.status == "undecided" and true.finding == "vanishes"
    # abs and sign share their argument: ten kink entries, each with one root along
    # a line (interval arithmetic shows there is no other), and every gap between
    # consecutive roots visited
    assert ("kinks: 10 kink roots on each of 2 lines (no other, by interval arithmetic), "
            "every gap between them visited") in true.detail


def test_sizes_where_the_claim_is_defined_nowhere_are_undecided_at_modular_cost(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A pole at every random point modulo the prime is a pole everywhere: no real point is
    drawn at those sizes (each draw used to evaluate the derivative before meeting
    the singular inverse), and the sizes where the claim is defined are decided."""
    from matcalc.pointtest import PointTest

    def no_real_points(*args: object, **kwargs: object) -> None:
        raise AssertionError("real points drawn where every modular point is a pole")

    monkeypatch.setattr(PointTest, "real_points", no_real_points)
    engines = Engines(declare({"X": "n k", "A": "n n"}, {"A": ["invertible"]}),
                      method="symbolic")
    scope = engines.declarations.scope("denominator")
    lhs = parse_expression("d(det(X.T @ A @ X))/d(X)", scope)
    true = parse_expression("det(X.T @ A @ X) * (A @ X @ inv(X.T @ A @ X) "
                            "+ A.T @ X @ inv(X.T @ A.T @ X))", scope)
    proved = engines.symbolic(lhs, true)
    assert proved.status == "proved"
    assert proved.size_sets and all(s["k"] <= s["n"] for s in proved.size_sets)
    assert "no valid point in 6 random draws modulo a random 62-bit prime" in proved.detail
    assert "inv needs X.T @ A" in proved.detail
    false = parse_expression("2 * det(X.T @ A @ X) * A @ X @ inv(X.T @ A @ X)", scope)
    assert engines.symbolic(lhs, false).status == "refuted"  # A is not symmetric
