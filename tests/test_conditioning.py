"""The sampler's matrix guards (matcalc/conditioning.py) decide exactly as the
singular value decomposition does: a Cholesky certificate may only ever accept
a matrix whose 2-norm condition number (``torch.linalg.cond``, computed here
independently) is within the bound."""

from __future__ import annotations

import pytest
import torch

from matcalc import conditioning as C
from matcalc.ops import MAX_CONDITION

F64 = torch.float64


def _matrices(n: int, seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    r = torch.randn(n, n, generator=g, dtype=F64)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=F64))
    out = [r, r @ r.T / n + torch.eye(n, dtype=F64) / 2, -(r @ r.T / n + torch.eye(n, dtype=F64))]
    # symmetric positive definite with condition numbers on both sides of the bound
    for condition in (10.0, 0.5 * MAX_CONDITION, 0.999 * MAX_CONDITION, 1.001 * MAX_CONDITION,
                      10 * MAX_CONDITION):
        spectrum = torch.logspace(0, -torch.log10(torch.tensor(condition)).item(), n, dtype=F64)
        out.append((q * spectrum) @ q.T * 3.0)
    # a positive definite symmetric part with a large skew part: cond grows with the skew
    spd = r @ r.T / n + torch.eye(n, dtype=F64)
    for skew in (1.0, 1e3, 1e5):
        out.append(spd + skew * (r - r.T))
    # nearly singular, singular, non-finite
    nearly = r.clone()
    nearly[:, 0] = nearly[:, 1] * (1 + 1e-9)
    singular = r.clone()
    singular[0] = 0.0
    nan = r.clone()
    nan[1, 2] = float("nan")
    inf = r.clone()
    inf[0, 0] = float("inf")
    return out + [nearly, singular, nan, inf, torch.zeros(n, n, dtype=F64)]


@pytest.mark.parametrize("n", [3, C.CERTIFY_MIN_N, 97, 160])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_guard_decides_as_the_svd_does(n: int, seed: int) -> None:
    for a in _matrices(n, seed):
        exact = bool(torch.linalg.cond(a).item() <= MAX_CONDITION) \
            if bool(torch.isfinite(a).all()) else False
        assert C.well_conditioned(a, MAX_CONDITION) == exact
        if C.certified(a, MAX_CONDITION):
            assert exact  # the certificate never accepts what the SVD rejects


def test_the_certificate_takes_the_sampled_spd_matrices() -> None:
    """The point of the certificate: an spd matrix as the sampler draws it (at any
    scale) is accepted without an SVD."""
    from matcalc.assumptions import sample_tensor

    g = torch.Generator().manual_seed(3)
    for scale in (1e-2, 1.0, 1e2):
        x = sample_tensor(frozenset({"spd", "symmetric", "invertible"}), (200, 200), g, scale)
        assert C.certified(x, MAX_CONDITION)
        assert C.positive_determinant(x, MAX_CONDITION)


@pytest.mark.parametrize("n", [4, 60, 120])
def test_the_determinant_sign(n: int) -> None:
    g = torch.Generator().manual_seed(n)
    for _ in range(6):
        a = torch.randn(n, n, generator=g, dtype=F64)
        expected = torch.linalg.slogdet(a).sign.item() > 0
        assert C.positive_determinant(a, MAX_CONDITION) == expected
        assert C.positive_determinant(-a if n % 2 else a, MAX_CONDITION) == expected
    nan = torch.full((n, n), float("nan"), dtype=F64)
    assert not C.positive_determinant(nan, MAX_CONDITION)


def test_a_determinant_below_float64_is_still_positive() -> None:
    """logdet's domain is det > 0: a positive determinant that underflows in
    float64 (an spd matrix of order 400 at scale 1e-2) is in it (torch's logdet
    is finite there), where the product of the pivots reads 0."""
    from matcalc.assumptions import sample_tensor

    g = torch.Generator().manual_seed(5)
    x = sample_tensor(frozenset({"spd", "symmetric", "invertible"}), (400, 400), g, 1e-2)
    assert torch.linalg.det(x).item() == 0.0
    assert torch.isfinite(torch.logdet(x))
    assert C.positive_determinant(x, MAX_CONDITION)


def test_answers_follow_the_tensor() -> None:
    """An answer is kept for the tensor it was computed for (identity and version),
    never handed to another tensor or to the same one changed in place."""
    n = 64
    good = torch.eye(n, dtype=F64)
    assert C.well_conditioned(good, MAX_CONDITION)
    good[0, 0] = 1e-12  # in place: a new version
    assert not C.well_conditioned(good, MAX_CONDITION)
    other = torch.eye(n, dtype=F64)
    other[1, 1] = 0.0
    assert not C.well_conditioned(other, MAX_CONDITION)


@pytest.mark.parametrize("tags", [{"spd"}, {"spd", "positive"}])
@pytest.mark.parametrize("scale", [1e-2, 1.0, 1e2])
def test_the_sampler_vouches_only_for_what_holds(tags: set[str], scale: float) -> None:
    """The sampler vouches for its spd points (matcalc.assumptions): the bound it
    states is at least the condition number (eigenvalues computed here), and a
    change in place ends the voucher."""
    from matcalc.assumptions import sample_tensor

    g = torch.Generator().manual_seed(7)
    vouched_small = 0
    for n in (1, 3, 10, 30, C.CERTIFY_MIN_N, 150):
        x = sample_tensor(frozenset(tags | {"symmetric", "invertible"}), (n, n), g, scale)
        stated = C.vouched(x)
        if n < C.CERTIFY_MIN_N:  # (the row-sum bound: usually, not always, small enough)
            if stated is None:
                continue
            vouched_small += stated <= MAX_CONDITION
        else:
            assert stated is not None and stated <= MAX_CONDITION
        assert torch.equal(x, x.T)
        eigenvalues = torch.linalg.eigvalsh(x)
        assert eigenvalues.min() > 0
        assert (eigenvalues.max() / eigenvalues.min()).item() <= stated
        assert C.vouched(x.detach()) == stated  # the same data
        assert C.vouched(x.clone()) is None  # other data, though equal
        x.diagonal().mul_(-1.0)  # no longer spd
        assert C.vouched(x) is None
        assert C.positive_determinant(x, MAX_CONDITION) == (torch.linalg.slogdet(x).sign > 0)
    assert vouched_small >= 2
