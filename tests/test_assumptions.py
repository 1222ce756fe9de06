"""Each assumption, and each combination of them, covers its whole set in both engines.

For every assumption and combination: an identity true on part of the set only
must fail, in the exact engine (``method="symbolic"``) and in the numeric one
(``method="numeric"``), and a control true on all of it must hold. The expected
verdicts are established by hand, by a member of the set where the identity is
false (written out below), and :func:`test_the_members_named_here_are_in_their_sets`
checks each named member with our own Fraction arithmetic (no matcalc code):

* orthogonal: ``diag(-1, 1, ..., 1)`` is orthogonal with det -1, so ``det(Q) = 1``
  is false; ``det(Q)**2 = 1`` and ``Q.T @ Q = I`` hold for every orthogonal Q;
* orthogonal,symmetric (the involutions ``I - 2P``, P an orthogonal projector):
  the Householder reflection ``H = I - 2 v v.T / v.T v`` is symmetric and
  orthogonal with det -1 and trace n - 2, so ``det(Q) = 1``, ``trace(Q) = n``
  and ``Q = eye(n)`` are false; ``Q @ Q = I`` (Q = Q.T = Q^-1), ``Q = Q.T``,
  ``Q @ Q.T = I``, ``inv(Q) = Q`` and ``abs(det(Q)) = 1`` hold for every member;
* orthogonal,diagonal (the sign matrices ``diag(±1)``): ``diag(1, -1, 1, ...)``
  is a member, so ``Q = eye(n)`` and ``det(Q) = 1`` are false; ``Q @ Q = I``
  and ``det(Q)**2 = 1`` hold (each diagonal entry squares to 1);
* orthogonal,spd: an spd orthogonal matrix has positive eigenvalues of modulus
  1, so it is I: ``Q = eye(n)`` holds and ``Q = -eye(n)`` fails;
* symmetric: ``[[0, 1], [1, 0]]`` is symmetric and not diagonal; ``-I`` is
  symmetric with a negative trace;
* spd: ``[[2, -1], [-1, 2]]`` is positive definite with negative entries, so
  ``abs(A) = A`` is false; ``I / 2`` is spd with logdet < 0 and diagonal < 1;
* invertible: ``diag(-1, 1, ..., 1)`` is invertible with det -1, so
  ``abs(det(X)) = det(X)`` is false; ``det(inv(X)) * det(X) = 1`` holds;
* diagonal: ``diag(-1, 1, ...)`` has a negative entry, so ``abs(diag(D)) = diag(D)``
  is false;
* positive: ``x = 4`` is positive and ``abs(x - 3) = 1 != 3 - x``;
* invertible,symmetric: ``diag(-1, 1, ...)`` again; spd,diagonal and
  spd,positive: ``I / 2`` and ``[[1/2, 1/4], [1/4, 1/2]]`` (leading minors
  1/2 and 3/16) have diagonal entries below 1.
"""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest
import torch

import matcalc
from matcalc import assumptions as A
from matcalc.cli import main
from matcalc.fields import ExactKit
from matcalc.jets import instantiate

Q = {"Q": "n n"}
CASES = [
    # (assumption, declarations, false on part of the set, true on all of it)
    ("orthogonal", Q, "det(Q) = 1", "det(Q) ** 2 = 1"),
    ("orthogonal", Q, "d(det(Q) * x)/d(x) = 1", "Q.T @ Q = eye(n)"),
    ("orthogonal,symmetric", Q, "det(Q) = 1", "Q @ Q = eye(n)"),
    ("orthogonal,symmetric", Q, "trace(Q) = n", "Q = Q.T"),
    ("orthogonal,symmetric", Q, "Q = eye(n)", "Q @ Q.T = eye(n)"),
    ("orthogonal,symmetric", Q, "Q = -eye(n)", "inv(Q) = Q"),
    ("orthogonal,diagonal", Q, "Q = eye(n)", "Q @ Q = eye(n)"),
    ("orthogonal,diagonal", Q, "det(Q) = 1", "det(Q) ** 2 = 1"),
    ("orthogonal,spd", Q, "Q = -eye(n)", "Q = eye(n)"),
    ("symmetric", {"A": "n n"}, "A = diag(diag(A))", "A.T = A"),
    ("symmetric", {"A": "n n"}, "abs(trace(A)) = trace(A)", "A.T = A"),
    ("spd", {"A": "n n"}, "abs(A) = A", "abs(diag(A)) = diag(A)"),
    ("spd", {"A": "n n"}, "abs(diag(A) - 1) = diag(A) - 1", "A.T = A"),
    ("invertible", {"X": "n n"}, "abs(det(X)) = det(X)", "det(inv(X)) * det(X) = 1"),
    ("invertible,symmetric", {"X": "n n"}, "abs(det(X)) = det(X)", "inv(X).T = inv(X)"),
    ("diagonal", {"D": "n n"}, "abs(diag(D)) = diag(D)", "D.T = D"),
    ("diagonal,symmetric", {"D": "n n"}, "abs(diag(D)) = diag(D)", "D @ D.T = D @ D"),
    ("diagonal,spd", {"D": "n n"}, "abs(diag(D) - 1) = diag(D) - 1", "abs(diag(D)) = diag(D)"),
    ("spd,positive", {"A": "n n"}, "abs(diag(A) - 1) = diag(A) - 1", "abs(A) = A"),
    ("positive", {"x": "n"}, "abs(x - 1) = x - 1", "abs(x) = x"),
    ("positive", {"x": "n"}, "abs(x - 3) = 3 - x", "abs(x) = x"),
]


def _variables(declared: dict[str, str], identity: str) -> dict[str, str]:
    extra = {"x": ""} if "d(x)" in identity else {}
    return {**declared, **extra}


@pytest.mark.parametrize("tag, declared, false, true", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
@pytest.mark.parametrize("method", ["symbolic", "numeric"])
def test_an_identity_true_on_part_of_the_set_fails(tag: str, declared: dict[str, str],
                                                    false: str, true: str,
                                                    method: str) -> None:
    name = next(iter(declared))
    verdict = matcalc.verify(false, vars=_variables(declared, false), assume={name: tag},
                             method=method, diagnose=False)
    assert verdict.status == "fails", verdict
    stage = verdict.symbolic if method == "symbolic" else verdict.numeric
    assert stage.status in ("refuted", "disagrees"), stage
    if method == "numeric" and "abs(" in true:
        # abs(diag(A)) = diag(A) holds because diag(A) > 0 for every spd A (abs(x) = x for
        # positive x likewise), which points cannot show: the kink's other side, if any,
        # was never evaluated, so numeric agreement alone is no evidence
        with pytest.raises(matcalc.UndecidedError, match="seen on one side only"):
            matcalc.verify(true, vars=declared, assume={name: tag}, method=method,
                           diagnose=False)
        return
    control = matcalc.verify(true, vars=declared, assume={name: tag}, method=method,
                             diagnose=False)
    assert control.status == "holds", control


def test_orthogonal_is_decided_as_rotation_and_as_reflection() -> None:
    verdict = matcalc.verify("Q.T @ Q = eye(n)", vars={"Q": "n n"},
                             assume={"Q": "orthogonal"}, method="symbolic")
    assert verdict.holds
    assert "reflections" in verdict.symbolic.detail
    refuted = matcalc.verify("det(Q) = 1", vars={"Q": "n n"}, assume={"Q": "orthogonal"},
                             method="symbolic")
    assert "reflection" in refuted.symbolic.detail
    assert refuted.counterexample is not None and refuted.counterexample.lhs == (("-1",),)


def test_involutions_are_decided_at_every_rank() -> None:
    verdict = matcalc.verify("Q @ Q = eye(n)", vars=Q, assume={"Q": "orthogonal,symmetric"},
                             method="symbolic")
    assert verdict.holds and "every rank of P" in verdict.symbolic.detail
    assert {s["n"] for s in verdict.exact_sizes} >= {2, 3}  # both parities
    refuted = matcalc.verify("trace(Q) = n", vars=Q, assume={"Q": "orthogonal,symmetric"},
                             method="symbolic")
    assert "projector of rank" in refuted.symbolic.detail or "= -I" in refuted.symbolic.detail


# ---------------------------------------------------------------------------
# The command line: combinations refused before are accepted, and decided


@pytest.mark.parametrize("identity, tags, status, code", [
    ("Q @ Q = eye(n)", "orthogonal,symmetric", "HOLDS", 0),
    ("Q = Q.T", "orthogonal,symmetric", "HOLDS", 0),
    ("abs(det(Q)) = 1", "orthogonal,symmetric", "HOLDS", 0),
    ("det(Q) = 1", "orthogonal,symmetric", "FAILS", 1),
    ("trace(Q) = n", "orthogonal,symmetric", "FAILS", 1),
    ("Q @ Q.T = eye(n)", "orthogonal,diagonal", "HOLDS", 0),
    ("Q = eye(n)", "orthogonal,diagonal", "FAILS", 1),
    ("Q = eye(n)", "orthogonal,spd", "HOLDS", 0),
    ("Q = eye(n)", "orthogonal,diagonal,positive", "HOLDS", 0),
])
def test_combinations_on_the_command_line(identity: str, tags: str, status: str, code: int,
                                          capsys: pytest.CaptureFixture) -> None:
    assert main(["verify", identity, "--var", "Q:n,n", "--assume", f"Q:{tags}"]) == code
    out = capsys.readouterr().out
    assert out.split()[0] == status
    assert "ENGINE DISAGREEMENT" not in out


def test_only_an_empty_intersection_is_refused_and_the_error_says_why(
        capsys: pytest.CaptureFixture) -> None:
    assert main(["verify", "Q = eye(n)", "--var", "Q:n,n", "--assume",
                 "Q:orthogonal,positive"]) == 2
    err = capsys.readouterr().err
    assert "orthogonal and positive" in err and "dot product" in err
    with pytest.raises(matcalc.DeclarationError, match="dot product"):
        matcalc.verify("Q = eye(n)", vars=Q, assume={"Q": "orthogonal,spd,positive"})
    # at size 1 the set is {[1]}: not empty, so not refused
    one = matcalc.verify("Q = eye(n)", vars=Q, assume={"Q": "orthogonal,positive"},
                         sizes={"n": 1})
    assert one.holds
    for tags in ("orthogonal,symmetric", "orthogonal,diagonal", "orthogonal,spd",
                 "orthogonal,symmetric,diagonal", "orthogonal,spd,diagonal,positive",
                 "spd,diagonal,positive", "symmetric,diagonal", "invertible,symmetric"):
        matcalc.verify("Q = Q", vars=Q, assume={"Q": tags}, method="numeric")


# ---------------------------------------------------------------------------
# The members named in the docstring, checked with our own Fraction arithmetic


def _mul(a: list[list[Fraction]], b: list[list[Fraction]]) -> list[list[Fraction]]:
    return [[sum((a[i][k] * b[k][j] for k in range(len(b))), Fraction(0))
             for j in range(len(b[0]))] for i in range(len(a))]


def _eye(n: int) -> list[list[Fraction]]:
    return [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]


def _det(a: list[list[Fraction]]) -> Fraction:
    a = [row[:] for row in a]
    n, det = len(a), Fraction(1)
    for c in range(n):
        p = next((r for r in range(c, n) if a[r][c] != 0), None)
        if p is None:
            return Fraction(0)
        if p != c:
            a[c], a[p], det = a[p], a[c], -det
        det *= a[c][c]
        for r in range(c + 1, n):
            f = a[r][c] / a[c][c]
            a[r] = [x - f * y for x, y in zip(a[r], a[c])]
    return det


def _transpose(a: list[list[Fraction]]) -> list[list[Fraction]]:
    return [list(row) for row in zip(*a)]


def _householder(v: list[Fraction]) -> list[list[Fraction]]:
    vv = sum(x * x for x in v)
    n = len(v)
    return [[Fraction(int(i == j)) - 2 * v[i] * v[j] / vv for j in range(n)] for i in range(n)]


def _is_spd(a: list[list[Fraction]]) -> bool:
    return a == _transpose(a) and all(_det([row[:k] for row in a[:k]]) > 0
                                      for k in range(1, len(a) + 1))


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_the_members_named_here_are_in_their_sets(n: int) -> None:
    h = _householder([Fraction(k + 1) for k in range(n)])
    assert h == _transpose(h) and _mul(h, h) == _eye(n)  # symmetric, orthogonal
    assert _det(h) == -1 and sum(h[i][i] for i in range(n)) == n - 2
    signs = [[Fraction((-1) ** i if i == j else 0) for j in range(n)] for i in range(n)]
    assert _mul(signs, _transpose(signs)) == _eye(n) and signs != _eye(n)
    half = [[Fraction(1, 2) * x for x in row] for row in _eye(n)]
    assert _is_spd(half) and _det(half) < 1
    assert _is_spd([[Fraction(1, 2), Fraction(1, 4)], [Fraction(1, 4), Fraction(1, 2)]])
    assert _is_spd([[Fraction(2), Fraction(-1)], [Fraction(-1), Fraction(2)]])


# ---------------------------------------------------------------------------
# Each parametrization is a member of every tag it carries, and reaches every
# component (checked with our own Fraction arithmetic on the exact points, and
# with torch on the numeric ones)


def _member(value: list[list[Fraction]], tags: frozenset[str]) -> None:
    n = len(value)
    if "symmetric" in tags or "spd" in tags:
        assert value == _transpose(value)
    if "diagonal" in tags:
        assert all(value[i][j] == 0 for i in range(n) for j in range(n) if i != j)
    if "orthogonal" in tags:
        assert _mul(_transpose(value), value) == _eye(n)
    if "spd" in tags:
        assert _is_spd(value)
    if tags & {"orthogonal", "spd"}:
        assert _det(value) != 0
    if "positive" in tags:
        free = [value[i][i] for i in range(n)] if "diagonal" in tags else \
            [x for row in value for x in row]
        assert all(x > 0 for x in free)


COMBINATIONS = ["symmetric", "spd", "invertible", "orthogonal", "diagonal", "positive",
                "orthogonal,symmetric", "orthogonal,diagonal", "orthogonal,spd",
                "orthogonal,diagonal,positive", "symmetric,diagonal", "spd,diagonal",
                "spd,positive", "invertible,symmetric", "spd,diagonal,positive",
                "symmetric,positive"]


@pytest.mark.parametrize("given", COMBINATIONS)
@pytest.mark.parametrize("n", [2, 3, 4])
def test_exact_points_are_members_and_reach_every_component(given: str, n: int) -> None:
    tags = _tags(given)
    rng = random.Random(n)
    count = A.component_count(tags, n) if "orthogonal" in tags else 1
    dets, traces = set(), set()
    for component in range(count):
        for kind in ("small", "domain"):
            params = A.rational_parameters(tags, (n, n), rng, kind)
            value = instantiate(ExactKit(), (n, n), tags, params, component)
            grid = [[Fraction(x) for x in row] for row in value.tolist()]
            _member(grid, tags)
            dets.add(_det(grid))
            traces.add(sum(grid[i][i] for i in range(n)))
    if given in ("orthogonal", "orthogonal,symmetric", "orthogonal,diagonal"):
        assert dets == {1, -1}
    if given in ("orthogonal,symmetric", "orthogonal,diagonal"):
        assert traces == {Fraction(n - 2 * k) for k in range(n + 1)}  # every rank
    if given == "orthogonal,spd":
        assert dets == {1} and traces == {n}


def _tags(given: str) -> frozenset[str]:
    from matcalc.shapes import Dim

    d = Dim(1, ("n",))
    return A.normalize("Q", (d, d), given.split(","))


def test_exact_spd_points_reach_small_eigenvalues() -> None:
    """``R R.T + I`` only reaches eigenvalues above 1: the points must go below."""
    rng = random.Random(0)
    tags = _tags("spd")
    lowest = min(min(A.spd_point([[A.draw_rational(rng, "domain", False) for _ in range(3)]
                                  for _ in range(3)], rng, False)[i][i] for i in range(3))
                 for _ in range(200))
    assert lowest < Fraction(1, 2)
    for _ in range(20):
        params = A.rational_parameters(tags, (3, 3), rng, "domain")
        value = instantiate(ExactKit(), (3, 3), tags, params)
        _member([[Fraction(x) for x in row] for row in value.tolist()], tags)


@pytest.mark.parametrize("given", COMBINATIONS)
@pytest.mark.parametrize("n", [2, 3, 5])
def test_numeric_points_are_members_and_reach_both_determinants(given: str, n: int) -> None:
    tags = _tags(given)
    gen = torch.Generator().manual_seed(n)
    dets, traces = set(), set()
    for k in range(40):
        reflect = None if k % 3 == 2 else bool(k % 2)
        scale = 10.0 ** ((k % 5) - 2)
        q = A.sample_tensor(tags, (n, n), gen, scale, reflect)
        if "symmetric" in tags or "spd" in tags or "diagonal" in tags:
            assert torch.allclose(q, q.T, rtol=1e-14, atol=0)
        if "diagonal" in tags:
            assert torch.count_nonzero(q - torch.diag(torch.diagonal(q))) == 0
        if "orthogonal" in tags:
            assert torch.allclose(q.T @ q, torch.eye(n, dtype=torch.float64), atol=1e-12)
            det = round(torch.linalg.det(q).item())
            if reflect is not None and tags & {"spd", "positive"} == set():
                assert det == (-1 if reflect else 1)
            dets.add(det)
            traces.add(round(torch.trace(q).item()))
        if "spd" in tags:
            assert torch.linalg.eigvalsh(q).min() > 0
        if "positive" in tags:
            free = torch.diagonal(q) if "diagonal" in tags else q
            assert (free > 0).all()
    if given in ("orthogonal", "orthogonal,symmetric", "orthogonal,diagonal"):
        assert dets == {1, -1}
    if given == "orthogonal,spd":
        assert dets == {1} and traces == {n}
    if given == "orthogonal,symmetric":
        assert len(traces) >= min(n + 1, 4)  # several ranks, not only +-I


# ---------------------------------------------------------------------------
# Several variables: every combination of their components is reached. By hand:
# each det(Qi) is +1 or -1, so (1 + s1 det(Q1)) (1 + s2 det(Q2)) (1 + s3 det(Q3))
# is 8 when det(Qi) = si for every i and 0 otherwise: false on exactly one of the
# eight combinations (and before the components were combined in full, the
# combination (-1, -1, +1) was never tried by either engine: a false holds).

THREE = {"Q1": "n n", "Q2": "n n", "Q3": "n n"}


@pytest.mark.parametrize("signs", list(itertools.product((1, -1), repeat=3)),
                         ids=lambda s: "".join("+" if x > 0 else "-" for x in s))
@pytest.mark.parametrize("method", ["symbolic", "numeric"])
def test_every_combination_of_components_is_reached(signs: tuple[int, ...],
                                                    method: str) -> None:
    product = " * ".join(f"(1 {'+' if s > 0 else '-'} det(Q{i + 1}))"
                         for i, s in enumerate(signs))
    assume = {name: "orthogonal" for name in THREE}
    verdict = matcalc.verify(f"{product} = 0", vars=THREE, assume=assume, method=method,
                             diagnose=False)
    assert verdict.status == "fails", verdict


def test_a_size_counts_as_exact_only_when_every_component_was_proved() -> None:
    verdict = matcalc.verify("abs(det(Q)) = 1", vars=Q, assume={"Q": "orthogonal,symmetric"},
                             diagnose=False)
    assert verdict.holds
    detail = verdict.symbolic.detail
    for sizes in verdict.exact_sizes:
        assert f"undecided at n = {sizes['n']} (" not in detail
        assert f"skipped at n = {sizes['n']}" not in detail


def test_numeric_spd_points_reach_nearly_singular_ones() -> None:
    """``R R.T / n + I / 2`` alone keeps every eigenvalue above half the scale."""
    gen = torch.Generator().manual_seed(0)
    tags = _tags("spd")
    ratios = []
    for _ in range(200):
        eig = torch.linalg.eigvalsh(A.sample_tensor(tags, (4, 4), gen))
        assert eig.min() > 0
        ratios.append((eig.min() / eig.max()).item())
    assert min(ratios) < 1e-3
