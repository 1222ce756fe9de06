"""Each assumption covers its whole set in the exact engine.

For every assumption: an identity true on part of the set only must fail in the
exact engine (``method="symbolic"``), and a control true on all of it must hold.
The expected verdicts are established by hand, by a member of the set where the
identity is false:

* orthogonal: ``diag(-1, 1, ..., 1)`` is orthogonal with det -1, so ``det(Q) = 1``
  is false; ``det(Q)**2 = 1`` and ``Q.T @ Q = I`` hold for every orthogonal Q;
* symmetric: ``[[0, 1], [1, 0]]`` is symmetric and not diagonal;
* spd: ``[[2, -1], [-1, 2]]`` is positive definite with negative entries, so
  ``abs(A) = A`` is false;
* invertible: ``diag(-1, 1, ..., 1)`` is invertible with det -1, so
  ``abs(det(X)) = det(X)`` is false; ``det(inv(X)) * det(X) = 1`` holds;
* diagonal: ``diag(-1, 1, ...)`` has a negative entry, so ``abs(diag(D)) = diag(D)``
  is false;
* positive: ``x = 1/2`` is positive and ``abs(x - 1) = 1/2 != x - 1``.
"""

from __future__ import annotations

import pytest

import matcalc

CASES = [
    # (assumption, declarations, false on part of the set, true on all of it)
    ("orthogonal", {"Q": "n n"}, "det(Q) = 1", "det(Q) ** 2 = 1"),
    ("orthogonal", {"Q": "n n"}, "d(det(Q) * x)/d(x) = 1", "Q.T @ Q = eye(n)"),
    ("symmetric", {"A": "n n"}, "A = diag(diag(A))", "A.T = A"),
    ("spd", {"A": "n n"}, "abs(A) = A", "abs(diag(A)) = diag(A)"),
    ("invertible", {"X": "n n"}, "abs(det(X)) = det(X)", "det(inv(X)) * det(X) = 1"),
    ("diagonal", {"D": "n n"}, "abs(diag(D)) = diag(D)", "D.T = D"),
    ("positive", {"x": "n"}, "abs(x - 1) = x - 1", "abs(x) = x"),
]


def _variables(declared: dict[str, str], identity: str) -> dict[str, str]:
    extra = {"x": ""} if "d(x)" in identity else {}
    return {**declared, **extra}


@pytest.mark.parametrize("tag, declared, false, true", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_an_identity_true_on_part_of_the_set_fails(tag: str, declared: dict[str, str],
                                                    false: str, true: str) -> None:
    name = next(iter(declared))
    verdict = matcalc.verify(false, vars=_variables(declared, false), assume={name: tag},
                             method="symbolic")
    assert verdict.status == "fails", verdict
    assert verdict.symbolic.status == "refuted"
    control = matcalc.verify(true, vars=declared, assume={name: tag}, method="symbolic")
    assert control.status == "holds", control
    assert control.symbolic.status == "proved"


def test_orthogonal_is_decided_as_rotation_and_as_reflection() -> None:
    verdict = matcalc.verify("Q.T @ Q = eye(n)", vars={"Q": "n n"},
                             assume={"Q": "orthogonal"}, method="symbolic")
    assert verdict.holds
    assert "reflections" in verdict.symbolic.detail
    refuted = matcalc.verify("det(Q) = 1", vars={"Q": "n n"}, assume={"Q": "orthogonal"},
                             method="symbolic")
    assert "reflection" in refuted.symbolic.detail
    assert refuted.counterexample is not None and refuted.counterexample.lhs == (("-1",),)
