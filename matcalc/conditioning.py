"""Whether a sampled matrix is fit to invert: the numeric sampler's guards on
``inv``, ``det`` and ``logdet`` (:mod:`matcalc.ops`).

The decision is the exact one, ``torch.linalg.cond(a) <= bound`` (the 2-norm
condition number ``σ_max / σ_min``, from a singular value decomposition), but
that decomposition costs more than inverting the matrix; at the sizes of the
numeric stage at scale it would dominate the check. So a matrix of order at
least ``CERTIFY_MIN_N`` is first given a certificate that costs one Cholesky
factorization, and only a matrix without one gets the SVD:

* ``σ_max(a) ≤ β = sqrt(|a|_1 |a|_∞)`` for every matrix;
* ``σ_min(a) ≥ λ_min(s)`` where ``s = (a + aᵀ) / 2`` is positive definite
  (``|a v| ≥ vᵀ a v = vᵀ s v`` for a unit vector ``v``);
* so if ``s − μ I`` is positive definite for ``μ = β / bound``, then
  ``cond(a) ≤ β / μ = bound``. A Cholesky factorization that runs to completion
  proves that ``s − (μ + δ) I + E`` is positive definite for a rounding error
  ``|E|_2 ≤ δ``, ``δ = 4 (n + 1)² u (β + μ)`` (Higham, *Accuracy and Stability
  of Numerical Algorithms*, Theorem 10.3, with ``| |Rᵀ| |R| |_2 ≤ n |RᵀR|_2``;
  the shift covers the rounding of ``s`` and of the shift as well), so it is
  factored with the shift ``μ + δ``.

A matrix accepted by the certificate has ``cond(a) ≤ bound`` exactly; any other
is decided by the SVD as before, so the guard accepts exactly the matrices the
SVD accepts. The certificate succeeds for the spd matrices the sampler draws
(their condition numbers are below 10) and fails quickly for most others (a
Cholesky factorization stops at its first non-positive pivot).

The answers for the last few matrices are kept (per thread, for the same data:
storage, shape, strides and version; ``logdet(X)`` and ``inv(X)`` in one claim
ask about the same matrix), and the sampler may *vouch* for a matrix it built
(:func:`vouch`): the spd points ``L Lᵀ / n + u I`` (L lower triangular, u >= 5e-4;
n / 2000 from n = 48 up) have every eigenvalue in ``[u, |L|_F² / n + u]`` times
their scale (below order 48, at most their largest absolute row sum), a bound it
proves in O(n²).
"""

from __future__ import annotations

import math
import threading
import weakref
from typing import Any

from ._lazy import torch

#: below this order the SVD is cheaper than the certificate's several small steps
CERTIFY_MIN_N = 48
UNIT_ROUNDOFF = 2.0 ** -53
_KEEP = 16  # answers kept per thread
_recent = threading.local()


def well_conditioned(a: Any, bound: float) -> bool:
    """``cond(a) <= bound`` in the 2-norm (False for a singular or non-finite ``a``)."""
    if _vouched(a, bound) or _remembered(a, ("certified", bound), lambda: certified(a, bound)):
        return True
    return _remembered(a, ("conditioned", bound), lambda: _conditioned(a, bound))


def positive_determinant(a: Any, bound: float) -> bool:
    """``det(a) > 0`` (False for a non-finite ``a``). A matrix certified well
    conditioned has one: its symmetric part is positive definite, so every
    eigenvalue has a positive real part. (The sign comes from the LU
    factorization: a determinant too small for a float64 is still positive.)"""
    if _vouched(a, bound) or _remembered(a, ("certified", bound), lambda: certified(a, bound)):
        return True
    return _remembered(a, ("sign",), lambda: _finite(a) and
                       bool(torch.linalg.slogdet(a).sign.item() > 0))


def vouch(a: Any, condition: float) -> None:
    """Record that ``a`` is symmetric positive definite with ``cond(a) <= condition``,
    proved by whoever built it: the guards then accept it without a factorization
    while its data is unchanged."""
    _keep(a, ("vouched",), condition)


def vouched(a: Any) -> float | None:
    """The condition number vouched for ``a`` (:func:`vouch`), or None."""
    return _answer(a, ("vouched",))


def _vouched(a: Any, bound: float) -> bool:
    condition = vouched(a)
    return condition is not None and condition <= bound


def _finite(a: Any) -> bool:
    return math.isfinite(float(a.abs().max()))  # nan propagates through max


def _conditioned(a: Any, bound: float) -> bool:
    return _finite(a) and bool(torch.linalg.cond(a).item() <= bound)  # nan: singular


def certified(a: Any, bound: float) -> bool:
    """Whether one Cholesky factorization proves ``cond(a) <= bound`` (see the
    module's docstring); False means only that it did not."""
    n = a.shape[0]
    if n < CERTIFY_MIN_N:
        return False
    magnitudes = a.abs()
    beta = math.sqrt(float(magnitudes.sum(0).max()) * float(magnitudes.sum(1).max()))
    if not (beta > 0 and math.isfinite(beta)):  # nan or inf entries, or a zero matrix
        return False
    beta *= 1 + 4 * n * UNIT_ROUNDOFF  # the rounding of the sums
    mu = beta / bound
    delta = 4 * (n + 1) ** 2 * UNIT_ROUNDOFF * (beta + mu)
    doubled = a + a.mT  # 2 s: the factor 2 changes no sign and rounds nothing
    doubled.diagonal().sub_(2 * (mu + delta))
    _, info = torch.linalg.cholesky_ex(doubled)
    return int(info) == 0


def _same(kept: Any, version: int, a: Any) -> bool:
    """Whether ``a`` holds the data of the tensor kept, unchanged since: the same
    storage (alive, so it cannot have been reused), place, shape, strides and
    type, at the version it had (a ``detach``-ed tensor shares the counter)."""
    t = kept()
    return (t is not None and a._version == version and t.data_ptr() == a.data_ptr()
            and t.shape == a.shape and t.stride() == a.stride() and t.dtype == a.dtype)


def _items() -> list:
    items = getattr(_recent, "items", None)
    if items is None:
        items = _recent.items = []
    return items


def _answer(a: Any, key: tuple) -> Any:
    for kept, version, question, answer in _items():
        if question == key and _same(kept, version, a):
            return answer
    return None


def _keep(a: Any, key: tuple, answer: Any) -> None:
    items = _items()
    items.insert(0, (weakref.ref(a), a._version, key, answer))
    del items[_KEEP:]


def _remembered(a: Any, key: tuple, compute: Any) -> bool:
    """``compute()``, kept for the last few matrices."""
    answer = _answer(a, key)
    if answer is None:
        answer = compute()
        _keep(a, key, answer)
    return answer
