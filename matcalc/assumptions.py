"""The six assumptions, and what each means to each engine (docs/design.md §2).

* ``symmetric``  ``A == A.T``
* ``spd``        symmetric positive definite (implies symmetric and invertible)
* ``invertible`` non-singular (the numeric sampler keeps it well conditioned)
* ``orthogonal`` ``Q.T @ Q == I`` (implies invertible)
* ``diagonal``   zero off the diagonal
* ``positive``   every free entry > 0 (for a diagonal matrix: its diagonal)

Tags combine: a variable carries the intersection of their sets. Only an empty
intersection is refused: ``orthogonal`` with ``positive`` (unless ``diagonal``
too), since two columns with positive entries are never orthogonal (at every
size from 2 up; a size pinned to 1 leaves the matrix ``[1]``). Everything else
is a set with members, e.g. ``orthogonal,symmetric`` the involutions
``I - 2P`` (``P`` an orthogonal projector of any rank: ``I``, ``-I``,
Householder reflections, ...), ``orthogonal,diagonal`` the sign matrices
``diag(±1)`` and ``orthogonal,spd`` the identity alone.

The exact engine sees an assumption as a *structure* (which entries are free
symbols and how the others follow from them) plus the sign of its symbols; the
samplers of both engines draw points that satisfy every assumption. A claim
holds under an assumption only if it holds on the whole set the assumption
names, so each engine must reach all of it. Sets with several components (a
rotation or a reflection; the rank of a projector; a sign pattern) are decided
by the exact engine once per *component* (:func:`component_count`, every
combination over the variables, up to ``MAX_VARIANTS`` per size), each with a
parametrization dense in that component. What each reaches:

====================  ==========================================  ==========================================
assumption            exact engine (structure; points)            numeric engine (``sample_tensor``)
====================  ==========================================  ==========================================
symmetric             every symmetric matrix: one symbol per      ``(R + R.T) / 2``, R Gaussian: every
                      upper entry, mirrored; any signs (so        symmetric matrix has positive density
                      indefinite and nearly singular ones too)
spd                   the symmetric structure, diagonal symbols   ``W / n + u I`` times a scale c in
                      positive; rational points                   [1e-2, 1e2], W = R R.T for a Gaussian
                      ``R R.T / s + I / t`` (s, t >= 1): every    n x n R (Wishart, drawn as L L.T by
                      spd matrix, eigenvalues near 0 too          Bartlett's decomposition), u = 1/2 or
                                                                  log-uniform in [5e-4, 1/2] ([n / 2000,
                                                                  1/2] from n = 48 up: the guards'
                                                                  bound): every spd matrix with
                                                                  eigenvalues above c u has positive
                                                                  density (above 5e-6 over the scales
                                                                  at the usual sizes)
invertible            every square matrix; points off det = 0     Gaussian R, condition number <= 1e4
orthogonal            both components: the Cayley transform       Haar measure on O(n) (QR with the sign
                      ``(I - S)(I + S)^-1`` of a skew S reaches   of R's diagonal fixed), made a rotation
                      the rotations without eigenvalue -1 (dense  or a reflection as the schedule of
                      in det = +1), and ``D @ Cayley(S)`` with    points asks: both components
                      ``D = diag(-1, 1, ..., 1)`` the reflections
                      (dense in det = -1)
orthogonal,symmetric  every rank k = 0..n of ``P``: ``I - 2P``,   ``I - 2 U U.T``, U an orthonormal basis
                      ``P = V (V.T V)^-1 V.T`` for                of a Gaussian n x k matrix, k uniform
                      ``V = [I_k; W]``, W (n-k) x k free: dense   over 0..n with the parity (det sign)
                      in each rank, ``I`` and ``-I`` included     the schedule asks
orthogonal,diagonal   every one of the 2**n sign matrices         ``diag(±1)``, random signs, the parity
                      ``diag(±1)``                                of the -1s as the schedule asks
orthogonal,spd        the identity (the only member)              the identity
diagonal              one symbol per diagonal entry, any sign     Gaussian diagonal (both signs)
positive              positive symbols; points with entries in    uniform in [0.5, 2) times a scale
                      (0, 24]: below 1 and above 1
====================  ==========================================  ==========================================

Combinations not listed take the structure of their narrowest tag and the
signs of the others: ``symmetric,diagonal`` is ``diagonal``; ``spd,diagonal``
the diagonal structure with positive symbols (numeric: a positive diagonal);
``invertible`` adds no structure to any of them (its points avoid det = 0);
``positive`` makes every free symbol positive (``spd,positive``: exact points
``R R.T / s + I / t`` made entrywise positive by adding ``c 11.T``, c >= 0,
which reaches every entrywise positive spd matrix; numeric: R with positive
entries). ``orthogonal,spd``, ``orthogonal,diagonal,positive`` and
``orthogonal,positive`` at size 1 are the identity.

An identity that is a rational function of the entries (and of exp, log, ...
of them) and holds on a dense subset of a set holds on all of it, by
continuity, so the exact engine's dense parametrizations of each component are
enough for a proof; its random points make a refutation anywhere in the set
possible. ``tests/test_assumptions.py`` checks, for each assumption and each
combination above, that an identity true on part of its set only fails.
"""

from __future__ import annotations

import math
import operator
import random
from collections.abc import Iterable, Mapping
from fractions import Fraction
from functools import lru_cache
from typing import Any

from ._lazy import LazyModule, np, torch
from .conditioning import CERTIFY_MIN_N, UNIT_ROUNDOFF, vouch
from .errors import DeclarationError, UnknownNameError, did_you_mean
from .shapes import Shape, fmt, kind

TAGS = ("symmetric", "spd", "invertible", "orthogonal", "diagonal", "positive")
_SQUARE = frozenset(TAGS) - {"positive"}
_IMPLIES = {"spd": {"symmetric", "invertible"}, "orthogonal": {"invertible"}}
#: the most components (rotation or reflection, projector rank, sign pattern,
#: over every variable together) the exact stage decides at one size
MAX_VARIANTS = 64


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
    if "diagonal" in result:
        result.discard("symmetric")
    return frozenset(result)


def refuse_empty(name: str, shape: Shape, tags: frozenset[str],
                 pinned: Mapping[str, int]) -> None:
    """Raise if no matrix of ``shape`` (at the ``pinned`` sizes) carries every tag.

    The one empty intersection: ``orthogonal`` with ``positive`` on a matrix that
    is not ``diagonal``, of size 2 or more."""
    if not {"orthogonal", "positive"} <= tags or "diagonal" in tags:
        return
    if all(set(d.names) <= set(pinned) and d.size(pinned) == 1 for d in shape):
        return  # 1 x 1: the matrix [1]
    raise DeclarationError(
        f"{name} cannot be both orthogonal and positive: two columns of an orthogonal "
        f"matrix have dot product 0, and two columns with every entry positive have a "
        f"positive one (at every size from 2 up), so no such matrix exists",
        token="positive",
        hint="with diagonal too (positive then means the diagonal), the only member is "
             "the identity",
    )


def structure(tags: frozenset[str]) -> str:
    """general | symmetric | diagonal | orthogonal | involution (orthogonal and
    symmetric) | signs (orthogonal and diagonal: diag(±1)) | identity
    (orthogonal and spd, or orthogonal and positive)"""
    if "orthogonal" in tags:
        if tags & {"spd", "positive"}:
            return "identity"
        if "diagonal" in tags:
            return "signs"
        if "symmetric" in tags:
            return "involution"
        return "orthogonal"
    for name in ("diagonal", "symmetric"):
        if name in tags:
            return name
    return "general"


def component_count(tags: frozenset[str], n: int) -> int:
    """How many components the exact stage decides separately for a square
    variable of size ``n``: 2 for orthogonal (rotations, reflections), n + 1
    for orthogonal and symmetric (the rank of the projector), 2**n for
    orthogonal and diagonal (the sign patterns), else 1."""
    struct = structure(tags)
    return {"orthogonal": 2, "involution": n + 1, "signs": 2**n}.get(struct, 1)


def component(variant: Iterable[tuple[str, int]], name: str) -> int:
    """The component of ``name`` in a variant (pairs ``(variable, component)``;
    an absent variable is in component 0: a rotation, ``I``)."""
    return dict(variant).get(name, 0)


def variants(counts: Mapping[str, int]) -> list[frozenset[tuple[str, int]]] | None:
    """Every combination of components of the variables (``counts``: how many
    each has), component 0 everywhere first; None when more than
    ``MAX_VARIANTS``."""
    total = 1
    for count in counts.values():
        total *= count
    if total > MAX_VARIANTS:
        return None
    out: list[frozenset[tuple[str, int]]] = [frozenset()]
    for name, count in counts.items():
        out = [v | ({(name, k)} if k else set()) for v in out for k in range(count)]
    return out


def component_text(name: str, tags: frozenset[str], n: int, k: int) -> str:
    """A component in words, e.g. ``Q a reflection, det = -1``."""
    struct = structure(tags)
    if struct == "orthogonal":
        return f"{name} a reflection, det = -1" if k else f"{name} a rotation"
    if struct == "involution":
        if k in (0, n):
            return f"{name} = {'-' if k else ''}I"
        return f"{name} = I - 2P, P a projector of rank {k}"
    if struct == "signs":
        return f"{name} = diag({', '.join(str(s) for s in signs(n, k))})"
    return name


def signs(n: int, k: int) -> list[int]:
    """The sign pattern ``k`` of size ``n``: bit i of ``k`` set makes entry i -1."""
    return [-1 if (k >> i) & 1 else 1 for i in range(n)]


def free_positions(shape: tuple[int, int], struct: str) -> list[tuple[int, int]]:
    """The entries that carry a free parameter, in row-major order."""
    rows, cols = shape
    if struct == "diagonal":
        return [(i, i) for i in range(rows)]
    if struct == "symmetric":
        return [(i, j) for i in range(rows) for j in range(i, cols)]
    if struct == "orthogonal":  # parameters of the skew matrix, strictly upper
        return [(i, j) for i in range(rows) for j in range(i + 1, cols)]
    if struct == "involution":  # W of I - 2P, (n - k) x k <= floor(n**2 / 4) of them
        every = [(i, j) for i in range(rows) for j in range(cols)]
        return every[: (rows // 2) * (rows - rows // 2)]
    if struct in ("signs", "identity"):  # finitely many members: no parameter
        return []
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
    if "spd" in tags and kind != "pit" and positions:
        n = shape[0]
        if struct == "diagonal":
            return [abs(draw_rational(rng, kind, True)) for _ in positions]
        r = [[draw_rational(rng, kind, False) for _ in range(n)] for _ in range(n)]
        full = spd_point(r, rng, positive, small=kind == "small")
        return [full[i][j] for i, j in positions]
    return [draw_rational(rng, kind, positive) for _ in positions]


def spd_point(r: list[list[Fraction]], rng: random.Random, positive: bool,
              small: bool = False) -> list[list[Fraction]]:
    """An spd matrix from a square ``r``: ``R R.T / s + I / t`` with random
    integers ``s, t >= 1`` (``R R.T + I`` when ``small``, for counterexamples in
    integers), every spd matrix in the closure of these. With ``positive``,
    ``c 11.T`` is added (positive semidefinite) with ``c`` the most negative
    entry's size plus a random margin: every entrywise positive spd matrix B is
    reached (from ``B - c 11.T``, spd for small ``c``)."""
    n = len(r)
    s, t = (1, 1) if small else (rng.randint(1, 24), 2 ** rng.randint(0, 10))
    # R = N / d over integers (d the denominators' lcm): R R.T = N N.T / d**2, integer
    # products (at n = 100 a million Fraction products took about 10 s)
    d = math.lcm(*(v.denominator for row in r for v in row))
    numerators = [[v.numerator * (d // v.denominator) for v in row] for row in r]
    full = [[Fraction(0)] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            value = Fraction(sum(map(operator.mul, numerators[i], numerators[j])), d * d * s)
            full[i][j] = full[j][i] = value + Fraction(1, t) if i == j else value
    if positive:
        lowest = min(min(row) for row in full)
        c = max(Fraction(0), -lowest) + (1 if small else Fraction(1, rng.randint(1, 24)))
        full = [[v + c for v in row] for row in full]
    return full


# ---------------------------------------------------------------------------
# Float64 points for the numeric engine.

#: the numeric sampler's random source is NumPy's generator with the SFC64 bit
#: generator (its ziggurat normals are more than twice as fast as ``torch.randn`` in
#: float64, and a draw costs less than a torch call: drawing the points is a large
#: part of the numeric stage, at n = 10 as at n = 500); a seed fixes every point
BIT_GENERATOR = "SFC64"
#: from this order up an spd point's product ``L Lᵀ`` is taken by blocks of about
#: this order, below the diagonal only (a third of the work of one full product)
GRAM_BLOCK = 128


#: (numpy loads its random module on first access, through a module-level
#: ``__getattr__`` that a lazy stand-in would call on every access)
nprandom = LazyModule("numpy.random")


def generator(seed: int) -> Any:
    """A new random source for :func:`sample_tensor`, fixed by ``seed``."""
    return nprandom.Generator(getattr(nprandom, BIT_GENERATOR)(seed))


def source(gen: Any) -> Any:
    """``gen`` as a random source: a NumPy generator as is, a ``torch.Generator``
    (older callers) seeding a new one from its own stream."""
    if isinstance(gen, nprandom.Generator):
        return gen
    return generator(int(torch.randint(0, 2 ** 62, (1,), generator=gen)))


def _vouch_spd(a: Any, lower: Any, floor: float, shift: float, scale: float) -> None:
    """Tell the guards (:func:`matcalc.conditioning.vouch`) what the construction
    proves about ``a = (L Lᵀ / n + floor I + shift 1 1ᵀ) * scale``, exactly
    symmetric: its eigenvalues lie in ``[floor, top] * scale``, ``top = |L|_F² / n
    + floor + shift n``, moved by at most ``δ = 8 (n + 2) u top * scale`` by the
    rounding of its entries (each entry of the product is a sum of at most n
    products, in whatever order the blocks take them, so its error is below
    ``n u |L|_F²`` in the Frobenius norm; each later step's is below ``u |a|_F``),
    so ``cond(a) <= (top + δ) / (floor - δ)``: the guards need no factorization of
    it. Below ``CERTIFY_MIN_N`` top (about n) is too loose to vouch for a small
    floor, and the largest eigenvalue of the computed ``a`` is bounded by its
    largest absolute row sum instead (Gershgorin; the sum's own rounding covered
    by ``1 + 2 n u``), which costs an O(n²) pass but spares the guards a singular
    value decomposition."""
    n = a.shape[0]
    flat = lower.reshape(-1)
    frobenius = float(torch.dot(flat, flat)) * (1 + 2 * n * n * UNIT_ROUNDOFF)
    top = frobenius / n + floor + shift * n
    delta = 8 * (n + 2) * UNIT_ROUNDOFF * top
    if not (math.isfinite(top) and delta < floor / 2):
        return
    condition = (top + delta) / (floor - delta)
    if n < CERTIFY_MIN_N:
        rows = float(a.abs().sum(1).max()) * (1 + 2 * n * UNIT_ROUNDOFF)
        condition = min(condition, rows / ((floor - delta) * scale))
    vouch(a, condition * (1 + 16 * UNIT_ROUNDOFF))  # (the rounding of these quotients)


def gaussian(gen: Any, *size: int) -> Any:
    """Standard normal float64 entries of ``size``, drawn from ``gen`` (a
    random source, :func:`source`)."""
    return torch.from_numpy(gen.standard_normal(size))


def wishart(gen: Any, n: int) -> tuple[Any, Any]:
    """``(W, L)``: ``W = L Lᵀ`` Wishart distributed with n degrees of freedom and
    identity covariance (the law of ``R Rᵀ`` for an n x n standard normal R), by
    Bartlett's decomposition: L lower triangular, standard normal below the
    diagonal, ``L_ii² ~ χ²(n - i)`` (i = 0 .. n - 1) on it. ``W`` is exactly
    symmetric. Half the normals of ``R Rᵀ``; the product is taken by blocks below
    the diagonal (:data:`GRAM_BLOCK`), mirrored, a third of the work of a full one."""
    lower = np.zeros((n, n))
    lower[_strictly_lower(n)] = gen.standard_normal(n * (n - 1) // 2)
    np.fill_diagonal(lower, np.sqrt(gen.chisquare(np.arange(n, 0, -1.0))))
    low = torch.from_numpy(lower)
    if n <= GRAM_BLOCK:
        w = torch.mm(low, low.mT)
        return (w + w.mT).div_(2), low
    w = torch.empty(n, n, dtype=torch.float64)
    step = -(-n // -(-n // GRAM_BLOCK))  # equal blocks of at most GRAM_BLOCK
    for i in range(0, n, step):
        rows = slice(i, min(i + step, n))
        for j in range(0, i + 1, step):
            end = min(j + step, n)
            block = w[rows, j:end]
            # L's columns past this block's are 0 in its rows j..end
            torch.mm(low[rows, :end], low[j:end, :end].mT, out=block)
            if j < i:
                w[j:end, rows].copy_(block.mT)
            else:
                block.copy_((block + block.mT).div_(2))
    return w, low


@lru_cache(maxsize=16)
def _strictly_lower(n: int) -> Any:
    return np.tri(n, k=-1, dtype=bool)


def sample_tensor(tags: frozenset[str], shape: tuple[int, int], gen: Any,
                  scale: float = 1.0, reflect: bool | None = None) -> Any:
    """A random float64 tensor of ``shape`` satisfying ``tags``, drawn from ``gen``
    (a random source, :func:`generator`; a ``torch.Generator`` seeds one).

    Entries are standard normal (both signs) times ``scale``; ``positive``
    entries are log-normal (``exp`` of a standard normal, every positive value
    has positive density) times ``scale``. Every assumption is kept at every
    ``scale > 0``: ``spd`` is ``(W / n + u I) * scale`` with W Wishart (the law of
    ``R Rᵀ`` for a standard normal n x n R, drawn as ``L Lᵀ`` by :func:`wishart`)
    and ``u`` 1/2 or log-uniform in [5e-4, 1/2] (from n = 48 up: [n / 2000, 1/2])
    (its condition number does not depend on the scale; with ``positive``,
    ``c 11ᵀ`` is added to make every entry positive), ``symmetric`` is
    ``(R + Rᵀ) / 2``, ``diagonal`` keeps only a diagonal, ``invertible`` is a
    Gaussian matrix (singular with probability 0; the numeric guards reject
    badly conditioned ones). The orthogonal structures ignore the scale, and
    ``reflect`` (when not None) chooses their determinant: -1 when true, +1 when
    false. ``orthogonal`` is the Q of a QR factorization with the signs fixed
    (Haar distributed over the whole group), a column negated if its determinant
    is not the one asked for; ``orthogonal,symmetric`` is ``I - 2 U Uᵀ`` with U
    an orthonormal basis of a Gaussian n x k matrix, the rank k uniform over
    0..n (over those of the parity asked for); ``orthogonal,diagonal`` is
    ``diag(±1)`` with random signs (the first flipped if their product is not
    the one asked for); ``orthogonal,spd`` is the identity.
    """
    rows, cols = shape
    f64 = torch.float64
    gen = source(gen)

    def normal(*size: int) -> Any:
        value = gen.standard_normal(size)
        if scale != 1.0:
            value *= scale
        return torch.from_numpy(value)

    def positive(*size: int) -> Any:
        value = np.exp(gen.standard_normal(size))
        if scale != 1.0:
            value *= scale
        return torch.from_numpy(value)

    draw = positive if "positive" in tags else normal
    struct = structure(tags)
    if struct == "orthogonal":
        q, r = torch.linalg.qr(gaussian(gen, rows, rows))
        q = q * torch.sign(torch.diagonal(r)).reshape(1, -1)
        if reflect is not None and (torch.linalg.det(q).item() < 0) != reflect:
            q[:, 0] = -q[:, 0]
        return q
    if struct == "involution":
        ranks = [k for k in range(rows + 1) if reflect is None or k % 2 == int(reflect)]
        rank = ranks[int(gen.integers(len(ranks)))]
        if rank in (0, rows):  # exactly I or -I (no rounding noise around them)
            return torch.eye(rows, dtype=f64) * (1.0 if rank == 0 else -1.0)
        u, _ = torch.linalg.qr(gaussian(gen, rows, rank))
        return torch.eye(rows, dtype=f64) - 2 * u @ u.T
    if struct == "signs":
        d = torch.from_numpy(np.where(gen.random(rows) < 0.5, -1.0, 1.0))
        if reflect is not None and bool((d < 0).sum() % 2) != reflect:
            d[0] = -d[0]
        return torch.diag(d)
    if struct == "identity":
        return torch.eye(rows, dtype=f64)
    if struct == "diagonal":
        d = positive(rows) if "spd" in tags else draw(rows)
        return torch.diag(d)
    if "spd" in tags:
        a, lower = wishart(gen, rows)
        a.div_(rows)
        # the eigenvalue floor: 1/2, or log-uniform down to 5e-4 (to n / 2000 from
        # CERTIFY_MIN_N up, so that the bound vouched for stays below 1e4 / 2)
        u = gen.random(2)
        low = 5e-4 if rows < CERTIFY_MIN_N else min(0.5, rows / 2000)
        floor = 0.5 if u[0] < 0.5 else 0.5 * (low / 0.5) ** float(u[1])
        a.diagonal().add_(floor)
        shift = 0.0
        if "positive" in tags:
            margin = float(gen.random()) * 0.5 + 0.05
            shift = torch.clamp(-a.min(), min=0.0).item() + margin
            a.add_(shift)
        a.mul_(scale)
        _vouch_spd(a, lower, floor, shift, scale)
        return a
    if struct == "symmetric":
        r = draw(rows, rows)
        return (r + r.T) / 2
    return draw(rows, cols)
