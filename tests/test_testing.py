"""Using matcalc from a test suite: ``bool(verdict)``, ``assert_identity``, the short
repr, and the numeric tolerances ``rtol`` / ``atol``."""

from __future__ import annotations

import pytest

import matcalc
from matcalc.errors import DeclarationError, ParseError
from matcalc.testing import assert_identity

X_A = {"x": "n", "A": "m n"}
SQUARE = {"x": "n", "A": "n n"}


def test_a_verdict_is_true_exactly_when_it_holds() -> None:
    holds = matcalc.verify("d(A @ x)/d(x) = A", vars=X_A)
    fails = matcalc.verify("d(x.T @ A @ x)/d(x) = 2 * x.T @ A", vars=SQUARE)
    ill_formed = matcalc.verify("d(A @ x)/d(x) = A.T", vars=X_A)
    assert (holds.status, fails.status, ill_formed.status) == ("holds", "fails", "ill-formed")
    assert bool(holds) is True
    assert bool(fails) is False
    assert bool(ill_formed) is False
    with pytest.raises(AssertionError):
        assert fails


def test_short_repr() -> None:
    verdict = matcalc.verify("d(A @ x)/d(x) = A", vars=X_A)
    assert repr(verdict) == "<Verdict holds: d(A @ x)/d(x) = A [numerator]>"
    wrong = matcalc.verify("d(norm(x)**2)/d(x) = 2 * x", vars={"x": "n"})
    assert repr(wrong) == "<Verdict ill-formed: d(norm(x)**2)/d(x) = 2 * x [numerator]>"


def test_assert_identity_passes_silently() -> None:
    assert assert_identity("d(A @ x)/d(x) = A", vars=X_A) is None
    assert_identity("d(norm(x)**2)/d(x) = 2 * x", vars={"x": "n"}, layout="denominator")
    assert_identity("d(x.T @ A @ x)/d(x) = 2 * x.T @ A", vars=SQUARE,
                    assume={"A": ["symmetric"]}, seed=3)


def test_assert_identity_fails_with_the_report() -> None:
    with pytest.raises(AssertionError) as caught:
        assert_identity("d(x.T @ A @ x)/d(x) = 2 * x.T @ A", vars=SQUARE)
    message = str(caught.value)
    assert message.startswith("FAILS  d(x.T @ A @ x)/d(x) = 2 * x.T @ A")
    assert 'add assume={"A": ["symmetric"]}' in message  # the diagnosis, in Python's words
    assert "counterexample (exact" in message  # and the counterexample
    with pytest.raises(AssertionError, match="ILL-FORMED"):
        assert_identity("d(A @ x)/d(x) = A.T", vars=X_A)


def test_assert_identity_undecided_fails_and_bad_input_raises() -> None:
    # a numeric-only check where every sampled point is outside log's domain
    with pytest.raises(AssertionError, match="UNDECIDED"):
        assert_identity("d(sum(log(-exp(x))))/d(x) = ones(n).T", vars={"x": "n"},
                        method="numeric")
    with pytest.raises(ParseError):
        assert_identity("d(A @ x)/d(x) = = A", vars=X_A)


CLOSE = "d(x.T @ x)/d(x) = 2.0000001 * x.T"  # off by a relative 5e-8


def test_rtol_and_atol_reach_the_numeric_stage() -> None:
    assert matcalc.verify(CLOSE, vars={"x": "n"}, method="numeric").status == "fails"
    assert matcalc.verify(CLOSE, vars={"x": "n"}, method="numeric", rtol=1e-6).status == "holds"
    # an absolute tolerance alone: the difference 1e-7 * |x| stays below 1e-5
    assert matcalc.verify(CLOSE, vars={"x": "n"}, method="numeric", atol=1e-5).status == "holds"
    # the exact stage still refutes it, and a looser tolerance is not an engine disagreement
    both = matcalc.verify(CLOSE, vars={"x": "n"}, rtol=1e-6)
    assert both.status == "fails" and both.disagreement is None
    assert "tolerance" in both.summary


@pytest.mark.parametrize("bad", [-1e-3, float("nan"), float("inf"), "1e-3", True])
def test_bad_tolerances_are_refused(bad: object) -> None:
    with pytest.raises(DeclarationError, match="rtol"):
        matcalc.verify("d(A @ x)/d(x) = A", vars=X_A, rtol=bad)


def test_assert_gradient() -> None:
    import torch

    from matcalc.testing import assert_gradient

    x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    assert assert_gradient(lambda x: torch.sum(x ** 3), "3 * x ** 2", {"x": x}, "x") is None
    with pytest.raises(AssertionError, match="factor of 3"):  # by hand: the derivative is 3x^2
        assert_gradient(lambda x: torch.sum(x ** 3), "x ** 2", {"x": x}, "x")


def test_docstring_examples() -> None:
    import doctest

    import matcalc.testing

    failures, tried = doctest.testmod(matcalc.testing)
    assert tried > 0 and failures == 0
