"""The six assumptions, and what each means to each engine (docs/design.md §2).

* ``symmetric``  ``A == A.T``
* ``spd``        symmetric positive definite (implies symmetric and invertible)
* ``invertible`` non-singular (the numeric sampler keeps it well conditioned)
* ``orthogonal`` ``Q.T @ Q == I`` (implies invertible)
* ``diagonal``   zero off the diagonal
* ``positive``   every free entry > 0 (for a diagonal matrix: its diagonal)

The exact engine sees an assumption as a *structure* (which entries are free
symbols and how the others follow from them) plus the sign of its symbols; the
samplers of both engines draw points that satisfy every assumption. A claim
holds under an assumption only if it holds on the whole set the assumption
names, so each engine must reach all of it. What each reaches:

==============  ==========================================  ==========================================
assumption      exact engine (structure; points)            numeric engine (``sample_tensor``)
==============  ==========================================  ==========================================
symmetric       every symmetric matrix: one symbol per      ``(R + R.T) / 2``, R Gaussian: every
                upper entry, mirrored; any signs            symmetric matrix has positive density
spd             the symmetric structure, diagonal symbols   ``R R.T / n + I / 2``: all spd matrices
                positive; rational points ``R R.T + I``     with eigenvalues above 1/2
                (all spd matrices with eigenvalues > 1)
invertible      every square matrix; points off det = 0     Gaussian R, condition number <= 1e4
orthogonal      both components: the Cayley transform       Haar measure on O(n) (QR with the sign
                ``(I - S)(I + S)^-1`` of a skew S reaches   of R's diagonal fixed): each point is a
                the rotations without eigenvalue -1 (dense  rotation or a reflection with
                in det = +1), and ``D @ Cayley(S)`` with    probability 1/2
                ``D = diag(-1, 1, ..., 1)`` the reflections
                (dense in det = -1); every instantiation is
                decided with each orthogonal variable both
                ways
diagonal        one symbol per diagonal entry, any sign     Gaussian diagonal
positive        positive symbols; points with entries in    uniform in [0.5, 2)
                (0, 24]: below 1 and above 1
==============  ==========================================  ==========================================

An identity that is a rational function of the entries (and of exp, log, ...
of them) and holds on a dense subset of a set holds on all of it, by
continuity, so the exact engine's dense parametrizations are enough for a
proof; its random points make a refutation anywhere in the set possible.
``tests/test_assumptions.py`` checks, for each assumption, that an identity
true on part of its set only fails.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from ._lazy import torch
from .errors import DeclarationError, UnknownNameError, did_you_mean
from .shapes import Shape, fmt, kind

TAGS = ("symmetric", "spd", "invertible", "orthogonal", "diagonal", "positive")
_SQUARE = frozenset(TAGS) - {"positive"}
_IMPLIES = {"spd": {"symmetric", "invertible"}, "orthogonal": {"invertible"}}
_EXCLUSIVE = [
    ({"orthogonal"}, {"symmetric", "spd", "diagonal", "positive"}),
]


def normalize(name: str, shape: Shape, tags: Iterable[str]) -> frozenset[str]:
    """Validate the tags of one variable and add what they imply."""
    result: set[str] = set()
    for tag in tags:
        if tag not in TAGS:
            raise UnknownNameError(
                f"unknown assumption '{tag}' for {name}",
                token=tag,
                hint=did_you_mean(tag, TAGS) or f"choose from {', '.join(TAGS)}",
            )
        if tag in _SQUARE and (kind(shape) != "matrix" or shape[0] != shape[1]):
            raise DeclarationError(
                f"assumption '{tag}' needs a square matrix, but {name} is {fmt(shape)}",
                token=tag,
            )
        result.add(tag)
        result.update(_IMPLIES.get(tag, ()))
    for group, others in _EXCLUSIVE:
        if group <= result and result & others:
            clash = sorted(result & others)[0]
            raise DeclarationError(
                f"{name} cannot be both {sorted(group)[0]} and {clash}", token=clash
            )
    if "diagonal" in result:
        result.discard("symmetric")
    return frozenset(result)


def structure(tags: frozenset[str]) -> str:
    """general | symmetric | diagonal | orthogonal"""
    for name in ("orthogonal", "diagonal", "symmetric"):
        if name in tags:
            return name
    return "general"


def free_positions(shape: tuple[int, int], struct: str) -> list[tuple[int, int]]:
    """The entries that carry a free parameter, in row-major order."""
    rows, cols = shape
    if struct == "diagonal":
        return [(i, i) for i in range(rows)]
    if struct == "symmetric":
        return [(i, j) for i in range(rows) for j in range(i, cols)]
    if struct == "orthogonal":  # parameters of the skew matrix, strictly upper
        return [(i, j) for i in range(rows) for j in range(i + 1, cols)]
    return [(i, j) for i in range(rows) for j in range(cols)]


# ---------------------------------------------------------------------------
# Exact points for the symbolic engine. ``kind`` is
#   "small":  small integers, for counterexamples a person can check by hand;
#   "pit":    huge integers, for the randomized polynomial identity test (only
#             the structure matters there: a rational identity that holds on an
#             open set of the assumptions holds on all of their structure);
#   "domain": modest rationals that satisfy every assumption.

PIT_RANGE = 2**62


def draw_rational(rng: random.Random, kind: str, positive: bool) -> Fraction:
    if kind == "pit":
        value = Fraction(rng.randint(1, PIT_RANGE))
    elif kind == "small":
        value = Fraction(rng.randint(1, 3))
    else:
        value = Fraction(rng.randint(1, 24), rng.randint(1, 8))
    if not positive and rng.random() < 0.5:
        value = -value
    return value


def rational_parameters(
    tags: frozenset[str], shape: tuple[int, int], rng: random.Random, kind: str
) -> list[Fraction]:
    """Values for the free parameters (in :func:`free_positions` order)."""
    struct = structure(tags)
    positions = free_positions(shape, struct)
    positive = "positive" in tags
    if "spd" in tags and kind != "pit":
        n = shape[0]
        if struct == "diagonal":
            return [abs(draw_rational(rng, kind, True)) for _ in positions]
        r = [[draw_rational(rng, kind, positive) for _ in range(n)] for _ in range(n)]
        full = [
            [sum(r[i][k] * r[j][k] for k in range(n)) + (1 if i == j else 0) for j in range(n)]
            for i in range(n)
        ]
        return [full[i][j] for i, j in positions]
    return [draw_rational(rng, kind, positive) for _ in positions]


# ---------------------------------------------------------------------------
# Float64 points for the numeric engine.


def sample_tensor(tags: frozenset[str], shape: tuple[int, int], gen: Any,
                  scale: float = 1.0, reflect: bool | None = None) -> Any:
    """A random float64 tensor of ``shape`` satisfying ``tags``.

    Entries are standard normal (both signs) times ``scale``; ``positive``
    entries are uniform in ``[0.5, 2) * scale``. Every assumption is kept at
    every ``scale > 0``: ``spd`` is ``(R Rᵀ / n + I / 2) * scale`` (its
    condition number does not depend on the scale), ``symmetric`` is
    ``(R + Rᵀ) / 2``, ``diagonal`` keeps only a diagonal, ``invertible`` is a
    Gaussian matrix (singular with probability 0; the numeric guards reject
    badly conditioned ones). ``orthogonal`` ignores the scale: it is the Q of a
    QR factorization with the signs fixed (Haar distributed over the whole
    orthogonal group), turned into a reflection (det -1) when ``reflect`` is
    true and a rotation (det +1) when it is false, so that both components of
    the group are reached.
    """
    rows, cols = shape
    f64 = torch.float64

    def normal(*size: int) -> Any:
        return torch.randn(*size, generator=gen, dtype=f64) * scale

    def positive(*size: int) -> Any:
        return (torch.rand(*size, generator=gen, dtype=f64) * 1.5 + 0.5) * scale

    draw = positive if "positive" in tags else normal
    struct = structure(tags)
    if struct == "orthogonal":
        q, r = torch.linalg.qr(torch.randn(rows, rows, generator=gen, dtype=f64))
        q = q * torch.sign(torch.diagonal(r)).reshape(1, -1)
        if reflect is not None and (torch.linalg.det(q).item() < 0) != reflect:
            q[:, 0] = -q[:, 0]
        return q
    if struct == "diagonal":
        d = positive(rows) if "spd" in tags else draw(rows)
        return torch.diag(d)
    if "spd" in tags:
        r = (torch.rand(rows, rows, generator=gen, dtype=f64) * 1.5 + 0.5
             if "positive" in tags else torch.randn(rows, rows, generator=gen, dtype=f64))
        return (r @ r.T / rows + 0.5 * torch.eye(rows, dtype=f64)) * scale
    if struct == "symmetric":
        r = draw(rows, rows)
        return (r + r.T) / 2
    return draw(rows, cols)
