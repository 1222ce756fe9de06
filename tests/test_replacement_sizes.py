"""Instantiations defined nowhere are replaced (docs/design.md, the size policy).

det(X.T @ A @ X) with X n x k needs k <= n (X.T @ A @ X is k x k of rank at most
n, so for k > n its determinant vanishes and its inverse exists nowhere). The
policy's own instantiations are mostly k > n; the exact stage then tries other
small sizes until n and k each took an even and an odd size.

Expected verdicts are established here, independently of matcalc: the
derivative of det(M), M = X^T A X with A symmetric, is
d det(M) = det(M) tr(M^-1 dM), dM = dX^T A X + X^T A dX, so
d det(M) = 2 det(M) tr(M^-1 X^T A dX): the numerator-layout derivative (k x n)
is 2 det(M) M^-1 X^T A. ``test_hand_derivative_by_finite_differences`` checks
that formula with torch central differences at sizes of both parities. The
false variants multiply it by det(-eye(k)) = (-1)**k (wrong only for odd k) or
by -det(-eye(n)) = (-1)**(n + 1) (wrong only for even n): both equal the true
derivative at the policy's first instantiation (n, k) = (3, 2).
"""

import torch

from matcalc import verify
from matcalc.declarations import declare

VARS = {"X": "n k", "A": "n n"}
ASSUME = {"A": ["symmetric"]}
LHS = "d(det(X.T @ A @ X))/d(X) = "
TRUE = "2 * det(X.T @ A @ X) * inv(X.T @ A @ X) @ X.T @ A"


def test_hand_derivative_by_finite_differences():
    gen = torch.Generator().manual_seed(1)
    for n, k in [(4, 3), (5, 2), (5, 3), (4, 2)]:
        X = torch.randn(n, k, generator=gen, dtype=torch.float64)
        B = torch.randn(n, n, generator=gen, dtype=torch.float64)
        A = B + B.T
        M = X.T @ A @ X
        claim = 2 * torch.det(M) * torch.linalg.inv(M) @ X.T @ A  # k x n
        h = 1e-6
        for i in range(n):
            for j in range(k):
                E = torch.zeros(n, k, dtype=torch.float64)
                E[i, j] = h
                fd = (torch.det((X + E).T @ A @ (X + E))
                      - torch.det((X - E).T @ A @ (X - E))) / (2 * h)
                assert abs(fd - claim[j, i]) <= 1e-5 * (1 + abs(fd))


def _parities(sizes, name):
    return {s[name] % 2 for s in sizes}


def test_true_claim_decided_at_both_parities_of_each_dimension():
    v = verify(LHS + TRUE, vars=VARS, assume=ASSUME)
    assert v.status == "holds"
    assert v.strength == "exact"
    assert _parities(v.exact_sizes, "n") == {0, 1}
    assert _parities(v.exact_sizes, "k") == {0, 1}
    # only sizes where the claim is defined (k <= n) are listed as decided
    assert all(s["k"] <= s["n"] for s in v.exact_sizes)


def test_false_for_odd_k_only_fails():
    v = verify(LHS + "det(-eye(k)) * " + TRUE, vars=VARS, assume=ASSUME)
    assert v.status == "fails"


def test_false_for_even_n_only_fails():
    v = verify(LHS + "-det(-eye(n)) * " + TRUE, vars=VARS, assume=ASSUME)
    assert v.status == "fails"


def test_replacements_only_add_missing_coverage():
    d = declare(VARS, ASSUME)
    first = {"n": 3, "k": 2}
    tried = d.exact_size_sets()
    extra = d.replacement_sizes([first], tried)
    assert extra is not None and extra not in tried
    # the policy's own sets, when all decided, leave nothing to replace
    assert d.replacement_sizes(tried, tried) is None


def test_claim_defined_everywhere_keeps_the_policys_sizes():
    v = verify("d(trace(X.T @ A @ X))/d(X) = X.T @ (A + A.T)", vars=VARS)
    assert v.status == "holds"
    assert [dict(s) for s in v.exact_sizes] == declare(VARS).exact_size_sets()
