"""The trap corpus: identities built to catch a checker that trusts too little evidence.

Kinds: parity in each dimension position (true at sizes of one parity only),
orthogonal matrices of both components (det +1 and -1), huge and tiny scales,
kinks far from the origin or closer together than any sampling step, sizes
pinned beyond the exact stage, kinks in the sizes (``relu(n - 8)``), constants
whose differences are multiples of ``2**61 - 1`` (a prime fixed in advance would
take them for 0); each with
true controls of the same shapes. Required: no false identity holds, no true one is
refuted.

How each expected verdict is established, independently of matcalc: every trap
carries its own torch oracle, written here by hand (no matcalc code is used to
evaluate it). :func:`establish` evaluates the oracle at sizes of both parities
(2..7 for one free dimension, every pair of 2..5 for two, or the pinned sizes),
at random points drawn to satisfy the assumptions and spread over scales and
far regions (chosen per trap, e.g. on both sides of a kink at x = 20, or inside
the gap (0, 1e-6) between two kinks, with a difference step of 1e-10 there).
Traps with a kink in the sizes give the sizes the oracle tries (every size from
1 to past the sign change, e.g. 1..60 for ``sign(n - 50)``).
Derivatives are taken with torch autograd and cross-checked against our own
central differences; determinants of integer points are computed exactly
(Bareiss elimination on integers). A claim is
false when some entry differs from the truth by more than 1e-6 of the largest
entry compared at that point, true when every entry agrees to 1e-8 of it;
anything in between fails the test (the oracle must be decisive). Where the
values cancel to rounding noise (``logdet(Q @ Q.T)`` is 0 for an orthogonal
``Q``, float64 gives 3e-16), a trap names the magnitude of its computation, the
largest intermediate the compared values are computed from (the entries of
``Q @ Q.T``, of size 1), and the comparison is relative to that magnitude too:
float64's rounding error is a few ulps of it, far below 1e-8 of it. The
algebra of these traps is written out in ``how``. Traps whose false claim differs
from the truth by a small but exact amount (``inv(X).T + 1e-9 * eye(n)`` against the
derivative of ``logdet``, a factor ``1 + 6e-12``: differences the default tolerance
alone would hide) name their own decisive bounds in ``decisive`` (e.g. true below
1e-13, false above 1e-11 of the largest entry): their oracle's own float64 error is
far below both (a well-conditioned inverse, a product with one factor). Traps marked ``hand``
state the algebra as well (e.g. a skew matrix of odd order is singular,
because det(S) = det(Sᵀ) = det(-S) = (-1)ⁿ det(S)); the oracle confirms it.

``KNOWN_OPEN`` lists the traps that matcalc gets wrong today; they are reported
as ``xfail(strict=True)``, so that one that starts passing must be removed from
the set.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import torch

import matcalc
from matcalc.cli import main

T = torch.Tensor
Values = dict[str, T]


# ---------------------------------------------------------------------------
# Our own derivative, in numerator layout: output indices first, then the
# input's indices reversed (for a scalar f of a matrix X: D[j, i] = df/dX[i, j]).


def numerator(f: Callable[[T], T], x: T, h: float = 1e-6) -> T:
    """d f(x) / d x in numerator layout, by autograd, checked by central differences
    (step ``h`` relative to max(1, |x|): smaller than the distance to every kink)."""
    x = x.detach().clone().requires_grad_(True)
    out = f(x)
    flat_out = out.reshape(-1)
    rows = []
    for k in range(flat_out.numel()):
        (g,) = torch.autograd.grad(flat_out[k], x, retain_graph=True, allow_unused=True)
        rows.append(torch.zeros_like(x) if g is None else g)
    jac = torch.stack(rows).reshape(flat_out.numel(), *x.shape)  # [out, i, j]
    _check_with_differences(f, x.detach(), jac, h)
    if out.numel() == 1:  # scalar: the transpose of the gradient (the input's shape)
        grad = jac[0]
        return grad.T if x.shape[1] > 1 or x.shape[0] > 1 else grad.reshape(1, 1)
    if x.numel() == 1:  # scalar input: the output's shape
        return jac.reshape(out.shape)
    if x.shape[1] == 1 and out.shape[1] == 1:  # vector by vector: (m, n)
        return jac.reshape(out.shape[0], x.shape[0])
    raise AssertionError("the oracle only states scalar and vector derivatives")


def _check_with_differences(f: Callable[[T], T], x: T, jac: T, step: float = 1e-6) -> None:
    flat = x.reshape(-1)
    for i in range(flat.numel()):
        h = step * max(1.0, abs(flat[i].item()))
        up, down = flat.clone(), flat.clone()
        up[i] += h
        down[i] -= h
        diff = (f(up.reshape(x.shape)) - f(down.reshape(x.shape))).reshape(-1) / (2 * h)
        auto = jac.reshape(jac.shape[0], -1)[:, i]
        scale = max(auto.abs().max().item(), diff.abs().max().item(), 1e-300)
        assert (diff - auto).abs().max().item() <= 1e-4 * scale, \
            f"autograd and central differences disagree at entry {i}"


# ---------------------------------------------------------------------------
# Points


def sample(shape: tuple[int, int], tags: tuple[str, ...], gen: torch.Generator, scale: float,
           shift: float, k: int) -> T:
    rows, cols = shape
    a = torch.randn(rows, cols, generator=gen, dtype=torch.float64)
    if "orthogonal" in tags:
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if k % 2:  # every other point a reflection: det -1
            q[:, 0] = -q[:, 0]
        return q
    if "spd" in tags and "diagonal" in tags:
        return torch.diag(a.diagonal().abs() + 0.5)
    if "spd" in tags:
        return a @ a.T / rows + torch.eye(rows, dtype=torch.float64)
    if "symmetric" in tags:
        return (a + a.T) / 2
    value = scale * a + shift
    if "positive" in tags:
        value = value.abs() + 0.1
    return value


@dataclass(frozen=True)
class Trap:
    id: str
    kind: str  # parity | orthogonal | scale | kink | pinned
    identity: str
    vars: dict[str, str]
    expected: str  # "holds" or "fails"
    oracle: Callable[[Values], tuple[T, T]]  # (true value, claim) at a point
    assume: dict[str, list[str]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    # where the points lie: (scale, shift) pairs for unstructured variables
    regions: tuple[tuple[float, float], ...] = ((1.0, 0.0), (0.3, 0.0), (3.0, 0.0))
    integer: bool = False  # integer entries (the oracle computes exactly, e.g. xdet)
    how: str = "checker"
    #: the sizes the oracle tries for a free dimension (default 2..7)
    size_range: tuple[int, int] | None = None
    #: the magnitude of the computation at a point (the largest intermediate the
    #: compared values are computed from), where it exceeds the values themselves
    magnitude: Callable[[Values], float] | None = None
    #: (true at most, false above) this fraction of the magnitude
    decisive: tuple[float, float] = (1e-8, 1e-6)


def xdet(m: T) -> T:
    """The determinant of an integer matrix, exactly (Bareiss' fraction-free
    elimination on Python integers), as a 1x1 float64 tensor."""
    a = [[int(round(e)) for e in row] for row in m.tolist()]
    assert all(float(x) == y for r, row in zip(a, m.tolist()) for x, y in zip(r, row))
    n, sign, previous = len(a), 1, 1
    for k in range(n - 1):
        if a[k][k] == 0:
            swap = next((i for i in range(k + 1, n) if a[i][k] != 0), None)
            if swap is None:
                return one(0.0)
            a[k], a[swap] = a[swap], a[k]
            sign = -sign
        for i in range(k + 1, n):
            for j in range(k + 1, n):
                a[i][j] = (a[i][j] * a[k][k] - a[i][k] * a[k][j]) // previous
        previous = a[k][k]
    return one(float(sign * a[n - 1][n - 1]))


def establish(trap: Trap) -> str:
    """``holds`` or ``fails`` by the trap's own oracle (see the module docstring)."""
    dims = sorted({d for spec in trap.vars.values() for d in spec.replace(",", " ").split()
                   if not d.isdigit()})
    free = [d for d in dims if d not in trap.sizes]
    choices = [range(2, 8) if len(free) == 1 else range(2, 6)] * len(free)
    if trap.size_range:
        choices = [range(trap.size_range[0], trap.size_range[1] + 1)] * len(free)
    verdict = "holds"
    for combo in itertools.product(*choices):
        sizes = {**trap.sizes, **dict(zip(free, combo))}
        gen = torch.Generator().manual_seed(sum(sizes.values()) * 7919 + len(trap.id))
        for k, (scale, shift) in enumerate(trap.regions * 2):
            values = {}
            for name, spec in trap.vars.items():
                parts = [p for p in spec.replace(",", " ").split() if p]
                shape = [sizes[p] if not p.isdigit() else int(p) for p in parts] + [1, 1]
                values[name] = sample((shape[0], shape[1]) if parts else (1, 1),
                                      tuple(trap.assume.get(name, ())), gen, scale, shift, k)
                if trap.integer:
                    values[name] = values[name].round()
            lhs, rhs = trap.oracle(values)
            lhs, rhs = torch.as_tensor(lhs, dtype=torch.float64), torch.as_tensor(
                rhs, dtype=torch.float64)
            assert lhs.shape == rhs.shape or lhs.numel() == rhs.numel() == 1
            size = max(lhs.abs().max().item(), rhs.abs().max().item())
            if trap.magnitude is not None:
                size = max(size, float(trap.magnitude(values)))
            error = (lhs.reshape(-1) - rhs.reshape(-1)).abs().max().item()
            true_below, false_above = trap.decisive
            if error > false_above * size:
                verdict = "fails"
            else:
                assert error <= true_below * size or error < 1e-300, \
                    f"{trap.id}: indecisive at {sizes} (error {error:.1e}, magnitude {size:.1e})"
        if len(free) == 0:
            break
    return verdict


# ---------------------------------------------------------------------------
# The corpus. Oracle helpers: v is the dict of sampled values.

det, inv, tr = torch.linalg.det, torch.linalg.inv, torch.trace


def one(value: T | float) -> T:
    return torch.as_tensor(value, dtype=torch.float64).reshape(1, 1)


def ones_row(n: int) -> T:
    return torch.ones(1, n, dtype=torch.float64)


def logdet_gradient(x: T) -> T:
    """d logdet(X) / dX in numerator layout by torch autograd (no central differences:
    their error, ~1e-10, is above the 1e-9 differences these traps are about)."""
    x = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(torch.logdet(x), x)
    return g.T


def size_poly(n: int, *roots: int) -> float:
    """The product of (n - r) over the roots, exactly (Python integers)."""
    value = 1
    for r in roots:
        value *= n - r
    return float(value)


def skew_det_slopes(x: T) -> T:
    """Two entries of d det(X - X.T) / dX, exactly: det((X + t E) - (X + t E).T) is a
    quadratic in t (E has one non-zero entry), so its slope at 0 is (f(1) - f(-1)) / 2."""
    slopes = []
    for i, j in ((0, 1), (2, 0)):
        e = torch.zeros_like(x)
        e[i, j] = 1.0
        up, down = x + e, x - e
        slopes.append((xdet(up - up.T) - xdet(down - down.T)) / 2)
    return torch.cat(slopes).reshape(1, 2)


TRAPS = [
    # -- parity in each dimension position (integer points, determinants exact)
    Trap("det-neg", "parity", "det(-X) = -det(X)", {"X": "n n"}, "fails",
         lambda v: (xdet(-v["X"]), -xdet(v["X"])), integer=True,
         how="hand: det(-X) = (-1)^n det(X), so the claim is false at every even n"),
    Trap("det-neg-sign", "parity", "det(-X) = (-1)**n * det(X)", {"X": "n n"}, "holds",
         lambda v: (xdet(-v["X"]), (-1) ** v["X"].shape[0] * xdet(v["X"])), integer=True,
         how="hand: det is linear in each of the n rows"),
    Trap("det-neg-pinned-even", "parity", "det(-X) = det(X)", {"X": "n n"}, "holds",
         lambda v: (xdet(-v["X"]), xdet(v["X"])), sizes={"n": 4}, integer=True),
    Trap("det-neg-derivative", "parity", "d(det(-X))/d(X) = -det(X) * inv(X)",
         {"X": "n n"}, "fails",
         lambda v: (numerator(lambda x: det(-x), v["X"]), -det(v["X"]) * inv(v["X"])),
         assume={"X": ["invertible"]},
         how="hand: d det(-X)/dX = (-1)^n det(X) inv(X) in numerator layout"),
    Trap("det-neg-derivative-true", "parity",
         "d(det(-X))/d(X) = (-1)**n * det(X) * inv(X)", {"X": "n n"}, "holds",
         lambda v: (numerator(lambda x: det(-x), v["X"]),
                    (-1) ** v["X"].shape[0] * det(v["X"]) * inv(v["X"])),
         assume={"X": ["invertible"]}),
    Trap("skew-singular", "parity", "det(X - X.T) = 0", {"X": "n n"}, "fails",
         lambda v: (xdet(v["X"] - v["X"].T), one(0.0)), integer=True,
         how="hand: a skew matrix of even order is generically invertible (det = Pf^2 > 0)"),
    Trap("skew-sign", "parity", "det(X - X.T) = (-1)**n * det(X.T - X)", {"X": "n n"}, "holds",
         lambda v: (xdet(v["X"] - v["X"].T), (-1) ** v["X"].shape[0] * xdet(v["X"].T - v["X"])),
         integer=True),
    Trap("skew-singular-odd", "pinned", "det(X - X.T) = 0", {"X": "n n"}, "holds",
         lambda v: (xdet(v["X"] - v["X"].T), one(0.0)), sizes={"n": 61}, integer=True,
         how="hand: det(S) = det(S.T) = det(-S) = -det(S) for a skew S of odd order"),
    Trap("skew-singular-even-pinned", "pinned", "det(X - X.T) = 0", {"X": "n n"}, "fails",
         lambda v: (xdet(v["X"] - v["X"].T), one(0.0)), sizes={"n": 60}, integer=True),
    Trap("second-dimension", "parity", "det(-Y) = det(Y)", {"X": "m m", "Y": "n n"}, "fails",
         lambda v: (xdet(-v["Y"]), xdet(v["Y"])), integer=True,
         how="hand: false at every odd n, whatever m"),
    Trap("second-dimension-true", "parity", "det(-Y) = (-1)**n * det(Y)",
         {"X": "m m", "Y": "n n"}, "holds",
         lambda v: (xdet(-v["Y"]), (-1) ** v["Y"].shape[0] * xdet(v["Y"])), integer=True),
    Trap("rectangular-first", "parity", "det(-(A @ B)) = det(A @ B)", {"A": "m n", "B": "n m"},
         "fails", lambda v: (xdet(-(v["A"] @ v["B"])), xdet(v["A"] @ v["B"])), integer=True,
         how="hand: det(-(A B)) = (-1)^m det(A B), and A B (m x m) is invertible when m <= n"),
    Trap("rectangular-second", "parity", "det(-(B @ A)) = (-1)**n * det(B @ A)",
         {"A": "m n", "B": "n m"}, "holds",
         lambda v: (xdet(-(v["B"] @ v["A"])), (-1) ** v["B"].shape[0] * xdet(v["B"] @ v["A"])),
         integer=True),
    Trap("kron-det-parity", "parity", "det(kron(X, -Y)) = det(kron(X, Y))",
         {"X": "m m", "Y": "n n"}, "fails",
         lambda v: (xdet(torch.kron(v["X"], -v["Y"])), xdet(torch.kron(v["X"], v["Y"]))),
         integer=True,
         how="hand: det(kron(X, -Y)) = (-1)^(m n) det(X)^n det(Y)^m: false when m, n are odd"),
    Trap("kron-det", "parity", "det(kron(X, Y)) = det(X) ** n * det(Y) ** m",
         {"X": "m m", "Y": "n n"}, "holds",
         lambda v: (xdet(torch.kron(v["X"], v["Y"])),
                    xdet(v["X"]) ** v["Y"].shape[0] * xdet(v["Y"]) ** v["X"].shape[0]),
         integer=True),
    Trap("kron-trace", "parity", "trace(kron(X, Y)) = trace(X) * trace(Y)",
         {"X": "m m", "Y": "n n"}, "holds",
         lambda v: (tr(torch.kron(v["X"], v["Y"])), tr(v["X"]) * tr(v["Y"]))),
    Trap("trace-eye-four", "parity", "trace(eye(n)) = 4", {"x": "n"}, "fails",
         lambda v: (one(v["x"].shape[0]), one(4.0)), how="hand: trace(eye(n)) = n"),
    Trap("trace-eye", "parity", "trace(eye(n)) = n", {"x": "n"}, "holds",
         lambda v: (one(v["x"].shape[0]), one(v["x"].shape[0]))),
    Trap("minus-one-power", "parity", "(-1) ** n * x = x", {"x": "n"}, "fails",
         lambda v: ((-1) ** v["x"].shape[0] * v["x"], v["x"])),
    Trap("minus-one-square", "parity", "(-1) ** (2 * n) * x = x", {"x": "n"}, "holds",
         lambda v: ((-1) ** (2 * v["x"].shape[0]) * v["x"], v["x"])),
    # -- orthogonal matrices: both components
    Trap("orthogonal-det-one", "orthogonal", "det(Q) = 1", {"Q": "n n"}, "fails",
         lambda v: (det(v["Q"]), one(1.0)), assume={"Q": ["orthogonal"]},
         how="hand: a reflection is orthogonal with det -1"),
    Trap("orthogonal-det-square", "orthogonal", "det(Q) ** 2 = 1", {"Q": "n n"}, "holds",
         lambda v: (det(v["Q"]) ** 2, one(1.0)), assume={"Q": ["orthogonal"]}),
    Trap("orthogonal-abs-det", "orthogonal", "abs(det(Q)) = 1", {"Q": "n n"}, "holds",
         lambda v: (det(v["Q"]).abs(), one(1.0)), assume={"Q": ["orthogonal"]}),
    Trap("orthogonal-trace", "orthogonal", "trace(Q.T @ Q) = n", {"Q": "n n"}, "holds",
         lambda v: (tr(v["Q"].T @ v["Q"]), one(v["Q"].shape[0])), assume={"Q": ["orthogonal"]}),
    Trap("orthogonal-det-inverse", "orthogonal", "det(inv(Q)) = det(Q)", {"Q": "n n"}, "holds",
         lambda v: (det(inv(v["Q"])), det(v["Q"])), assume={"Q": ["orthogonal"]},
         how="hand: inv(Q) = Q.T and det(Q) = +-1 is its own inverse"),
    Trap("orthogonal-det-derivative-wrong", "orthogonal",
         "d(det(Q))/d(Q) = Q.T", {"Q": "n n"}, "fails",
         lambda v: (numerator(det, v["Q"]), v["Q"].T), assume={"Q": ["orthogonal"]},
         how="hand: d det(Q)/dQ = det(Q) inv(Q) = det(Q) Q.T, which is -Q.T for a reflection"),
    Trap("orthogonal-det-derivative", "orthogonal",
         "d(det(Q))/d(Q) = det(Q) * Q.T", {"Q": "n n"}, "holds",
         lambda v: (numerator(det, v["Q"]), det(v["Q"]) * v["Q"].T),
         assume={"Q": ["orthogonal"]}),
    # -- huge and tiny scales
    Trap("exp50-sigmoid", "scale",
         "d(exp(50 * s) * sigmoid(s))/d(s) = exp(50 * s) * (50 * sigmoid(s) + sigmoid(s) * "
         "(1 - sigmoid(s)))", {"s": ""}, "holds",
         lambda v: (numerator(lambda s: torch.exp(50 * s) * torch.sigmoid(s), v["s"]),
                    torch.exp(50 * v["s"]) * (50 * torch.sigmoid(v["s"]) + torch.sigmoid(
                        v["s"]) * (1 - torch.sigmoid(v["s"])))),
         regions=((1.0, 0.0), (0.3, 0.0), (2.0, 0.0))),
    Trap("exp50-sigmoid-wrong", "scale",
         "d(exp(50 * s) * sigmoid(s))/d(s) = 50 * exp(50 * s) * sigmoid(s)", {"s": ""}, "fails",
         lambda v: (numerator(lambda s: torch.exp(50 * s) * torch.sigmoid(s), v["s"]),
                    50 * torch.exp(50 * v["s"]) * torch.sigmoid(v["s"])),
         regions=((1.0, 0.0), (0.3, 0.0), (2.0, 0.0))),
    Trap("power60", "scale", "d(s ** 60 * (sin(s) ** 2 + cos(s) ** 2))/d(s) = 60 * s ** 59",
         {"s": ""}, "holds",
         lambda v: (numerator(lambda s: s ** 60 * (torch.sin(s) ** 2 + torch.cos(s) ** 2),
                              v["s"]), 60 * v["s"] ** 59),
         regions=((1.0, 0.0), (3.0, 0.0), (0.3, 0.0))),
    Trap("power60-wrong", "scale", "d(s ** 60 * (sin(s) ** 2 + cos(s) ** 2))/d(s) = 59 * s ** 59",
         {"s": ""}, "fails",
         lambda v: (numerator(lambda s: s ** 60, v["s"]), 59 * v["s"] ** 59)),
    Trap("tiny-quadratic", "scale", "d(1e-10 * x.T @ x)/d(x) = 1e-10 * x.T", {"x": "n"},
         "fails", lambda v: (numerator(lambda x: 1e-10 * x.T @ x, v["x"]), 1e-10 * v["x"].T),
         sizes={"n": 8}, how="hand: the derivative is 2e-10 x.T"),
    Trap("tiny-quadratic-true", "scale", "d(1e-10 * x.T @ x)/d(x) = 2e-10 * x.T", {"x": "n"},
         "holds", lambda v: (numerator(lambda x: 1e-10 * x.T @ x, v["x"]), 2e-10 * v["x"].T),
         sizes={"n": 8}),
    Trap("tiny-quadratic-free", "scale", "d(1e-10 * x.T @ x)/d(x) = 1e-10 * x.T", {"x": "n"},
         "fails", lambda v: (numerator(lambda x: 1e-10 * x.T @ x, v["x"]), 1e-10 * v["x"].T)),
    Trap("gaussian-zero", "scale", "d(exp(-30 * x.T @ x))/d(x) = zeros(1, n)", {"x": "n"},
         "fails", lambda v: (numerator(lambda x: torch.exp(-30 * x.T @ x), v["x"]),
                             torch.zeros(1, v["x"].shape[0], dtype=torch.float64)),
         sizes={"n": 8}, regions=((0.1, 0.0), (0.05, 0.0), (0.2, 0.0))),
    Trap("gaussian", "scale", "d(exp(-30 * x.T @ x))/d(x) = -60 * exp(-30 * x.T @ x) * x.T",
         {"x": "n"}, "holds",
         lambda v: (numerator(lambda x: torch.exp(-30 * x.T @ x), v["x"]),
                    -60 * torch.exp(-30 * v["x"].T @ v["x"]) * v["x"].T),
         sizes={"n": 8}, regions=((0.1, 0.0), (0.05, 0.0), (0.2, 0.0))),
    Trap("exp40-plus-one", "scale", "d(exp(40 * s) + s)/d(s) = 40 * exp(40 * s)", {"s": ""},
         "fails", lambda v: (numerator(lambda s: torch.exp(40 * s) + s, v["s"]),
                             40 * torch.exp(40 * v["s"])),
         how="hand: the derivative is 40 exp(40 s) + 1; the 1 is swamped for s > 0 only"),
    Trap("exp40-plus-one-true", "scale", "d(exp(40 * s) + s)/d(s) = 40 * exp(40 * s) + 1",
         {"s": ""}, "holds", lambda v: (numerator(lambda s: torch.exp(40 * s) + s, v["s"]),
                                        40 * torch.exp(40 * v["s"]) + 1)),
    Trap("huge-linear", "scale", "d(1e8 * sum(exp(x)))/d(x) = 1e8 * exp(x).T", {"x": "n"},
         "holds", lambda v: (numerator(lambda x: 1e8 * torch.exp(x).sum(), v["x"]),
                             1e8 * torch.exp(v["x"]).T)),
    # -- rounding: true identities whose exact value is 0 or an integer but whose
    # float64 value is off by a few ulps of the computation (adversary G1), with false
    # twins of the same shapes; tiny and precise constants (adversary G2)
    Trap("orthogonal-logdet-gram", "orthogonal", "logdet(Q @ Q.T) = 0", {"Q": "n n"}, "holds",
         lambda v: (torch.logdet(v["Q"] @ v["Q"].T), one(0.0)), assume={"Q": ["orthogonal"]},
         magnitude=lambda v: (v["Q"] @ v["Q"].T).abs().max(),
         how="hand: Q Q.T = I for every orthogonal Q (rotation or reflection), so "
             "logdet(Q Q.T) = log 1 = 0; float64 gives ~1e-16 from entries of size 1"),
    Trap("orthogonal-logdet-gram-scaled", "orthogonal", "logdet(2 * Q @ Q.T) = 0",
         {"Q": "n n"}, "fails",
         lambda v: (torch.logdet(2 * v["Q"] @ v["Q"].T), one(0.0)), assume={"Q": ["orthogonal"]},
         how="hand: det(2 Q Q.T) = 2^n, so logdet(2 Q Q.T) = n log 2"),
    Trap("orthogonal-det-gram", "orthogonal", "det(Q @ Q.T) = 1", {"Q": "n n"}, "holds",
         lambda v: (det(v["Q"] @ v["Q"].T), one(1.0)), assume={"Q": ["orthogonal"]},
         how="hand: det(Q Q.T) = det(Q)^2 = (+-1)^2 = 1"),
    Trap("orthogonal-det-gram-sign", "orthogonal", "det(Q @ Q.T) = det(Q)", {"Q": "n n"},
         "fails", lambda v: (det(v["Q"] @ v["Q"].T), det(v["Q"])), assume={"Q": ["orthogonal"]},
         how="hand: det(Q Q.T) = 1 while det(Q) = -1 for a reflection"),
    Trap("orthogonal-trace-pinned", "pinned", "trace(Q.T @ Q) = n", {"Q": "n n"}, "holds",
         lambda v: (tr(v["Q"].T @ v["Q"]), one(v["Q"].shape[0])), assume={"Q": ["orthogonal"]},
         sizes={"n": 9}, how="hand: Q.T Q = I, whose trace is n"),
    Trap("orthogonal-trace-pinned-wrong", "pinned", "trace(Q @ Q.T) = n - 1", {"Q": "n n"},
         "fails", lambda v: (tr(v["Q"] @ v["Q"].T), one(v["Q"].shape[0] - 1)),
         assume={"Q": ["orthogonal"]}, sizes={"n": 12}, how="hand: the trace is n"),
    # two orthogonal variables at one pinned size (adversary 3, H2): with three points
    # per size the combination "both reflections" was never drawn
    Trap("two-reflections-pinned", "orthogonal", "(1 - det(P)) * (1 - det(Q)) * x = 0 * x",
         {"x": "n", "P": "n n", "Q": "n n"}, "fails",
         lambda v: ((1 - det(v["P"])) * (1 - det(v["Q"])) * v["x"], 0 * v["x"]),
         assume={"P": ["orthogonal"], "Q": ["orthogonal"]}, sizes={"n": 200},
         how="hand: with P and Q both reflections (det -1) the lhs is (1 + 1)(1 + 1) x = 4 x"),
    Trap("two-reflections-pinned-true", "orthogonal",
         "(1 - det(P)) * (1 + det(P)) * (1 - det(Q)) * x = 0 * x",
         {"x": "n", "P": "n n", "Q": "n n"}, "holds",
         lambda v: ((1 - det(v["P"])) * (1 + det(v["P"])) * (1 - det(v["Q"])) * v["x"],
                    0 * v["x"]),
         assume={"P": ["orthogonal"], "Q": ["orthogonal"]}, sizes={"n": 200},
         magnitude=lambda v: 4 * v["x"].abs().max(),
         how="hand: (1 - det P)(1 + det P) = 1 - det(P)**2 = 0 for det P = +-1; float64 "
             "leaves ~1e-13 of the terms, of size 4 |x|"),
    Trap("inverse-logdet", "scale", "logdet(X @ inv(X)) = 0", {"X": "n n"}, "holds",
         lambda v: (torch.logdet(v["X"] @ inv(v["X"])), one(0.0)), assume={"X": ["invertible"]},
         magnitude=lambda v: (v["X"].abs() @ inv(v["X"]).abs()).max(),
         how="hand: X inv(X) = I, so its logdet is log 1 = 0; float64's error is a few "
             "ulps of the products' terms |X| |inv(X)|"),
    # -- differences within the default tolerance but far beyond rounding (adversary
    # G5): the oracle takes the derivative of logdet by torch autograd (its float64
    # error at these well-conditioned spd points is ~1e-15 of the entries)
    Trap("logdet-gradient-shift-pinned", "scale",
         "d(logdet(X))/d(X) = inv(X).T + 1e-9 * eye(n)", {"X": "n n"}, "fails",
         lambda v: (logdet_gradient(v["X"]), inv(v["X"]).T + 1e-9 * torch.eye(
             v["X"].shape[0], dtype=torch.float64)), assume={"X": ["spd"]},
         sizes={"n": 100}, decisive=(1e-13, 1e-11),
         how="hand: d logdet(X) / dX[i, j] = inv(X)[j, i], so the numerator layout is "
             "inv(X) (= inv(X).T for symmetric X); the claim adds 1e-9 on the diagonal"),
    Trap("logdet-gradient-shift", "scale", "d(logdet(X))/d(X) = inv(X).T + 1e-9 * eye(n)",
         {"X": "n n"}, "fails",
         lambda v: (logdet_gradient(v["X"]), inv(v["X"]).T + 1e-9 * torch.eye(
             v["X"].shape[0], dtype=torch.float64)), assume={"X": ["spd"]},
         sizes={"n": 5}, decisive=(1e-13, 1e-11), how="as above, at n = 5"),
    Trap("logdet-gradient-pinned-true", "scale", "d(logdet(X))/d(X) = inv(X).T",
         {"X": "n n"}, "holds", lambda v: (logdet_gradient(v["X"]), inv(v["X"]).T),
         assume={"X": ["spd"]}, sizes={"n": 100}, decisive=(1e-13, 1e-11),
         how="as above, without the shift"),
    Trap("inverse-logdet-shifted", "scale", "logdet(X @ inv(X) + eye(n)) = 0", {"X": "n n"},
         "fails", lambda v: (torch.logdet(v["X"] @ inv(v["X"]) + torch.eye(
             v["X"].shape[0], dtype=torch.float64)), one(0.0)), assume={"X": ["invertible"]},
         how="hand: X inv(X) + I = 2 I, whose logdet is n log 2"),
    Trap("cancel-huge-constant", "scale", "(1000000000000 + s) - 1000000000000 = s", {"s": ""},
         "holds", lambda v: ((1e12 + v["s"]) - 1e12, v["s"]), magnitude=lambda v: 1e12,
         how="hand: exact rational arithmetic; float64 keeps s to ~1e-4 only (terms of 1e12)"),
    Trap("cancel-huge-constant-wrong", "scale", "(1000000000000 + s) - 1000000000000 = 2 * s",
         {"s": ""}, "fails", lambda v: ((1e12 + v["s"]) - 1e12, 2 * v["s"]),
         how="hand: the left side is s (to ~1e-4 in float64), not 2 s"),
    Trap("tiny-constant", "scale", "d(1e-16 * s)/d(s) = 1e-16", {"s": ""}, "holds",
         lambda v: (numerator(lambda s: 1e-16 * s, v["s"]), one(1e-16))),
    Trap("tiny-constant-wrong", "scale", "d(1e-16 * s ** 2)/d(s) = 1e-16 * s", {"s": ""},
         "fails", lambda v: (numerator(lambda s: 1e-16 * s ** 2, v["s"]), 1e-16 * v["s"]),
         how="hand: the derivative is 2e-16 s"),
    Trap("precise-constant", "scale", "d(2.0000001e-10 * x.T @ x)/d(x) = 4.0000002e-10 * x.T",
         {"x": "n"}, "holds",
         lambda v: (numerator(lambda x: 2.0000001e-10 * x.T @ x, v["x"]), 4.0000002e-10 * v["x"].T)),
    Trap("huge-both-sides", "scale", "d(1e20 * s ** 2)/d(s) = 2e20 * s", {"s": ""}, "holds",
         lambda v: (numerator(lambda s: 1e20 * s ** 2, v["s"]), 2e20 * v["s"])),
    Trap("huge-both-sides-wrong", "scale", "d(1e20 * s ** 2)/d(s) = 1e20 * s", {"s": ""},
         "fails", lambda v: (numerator(lambda s: 1e20 * s ** 2, v["s"]), 1e20 * v["s"]),
         how="hand: the derivative is 2e20 s"),
    Trap("tiny-both-sides", "scale", "d(1e-20 * s ** 3)/d(s) = 3e-20 * s ** 2", {"s": ""},
         "holds", lambda v: (numerator(lambda s: 1e-20 * s ** 3, v["s"]), 3e-20 * v["s"] ** 2)),
    Trap("tiny-both-sides-wrong", "scale", "d(1e-20 * s ** 3)/d(s) = 3e-20 * s", {"s": ""},
         "fails", lambda v: (numerator(lambda s: 1e-20 * s ** 3, v["s"]), 3e-20 * v["s"]),
         how="hand: the derivative is 3e-20 s^2, not 3e-20 s (they agree only at s = 0, 1)"),
    # -- kinks far from the origin
    Trap("abs-far", "kink", "d(sum(abs(x - 20)))/d(x) = -ones(1, n)", {"x": "n"}, "fails",
         lambda v: (numerator(lambda x: (x - 20).abs().sum(), v["x"]),
                    -ones_row(v["x"].shape[0])),
         regions=((5.0, 20.0), (5.0, 25.0), (1.0, 0.0)), how="hand: +1 wherever x > 20"),
    Trap("abs-far-true", "kink", "d(sum(abs(x - 20)))/d(x) = sign(x - 20).T", {"x": "n"},
         "holds", lambda v: (numerator(lambda x: (x - 20).abs().sum(), v["x"]),
                             torch.sign(v["x"] - 20).T),
         regions=((5.0, 20.0), (5.0, 25.0), (1.0, 0.0))),
    Trap("relu-far", "kink", "d(sum(relu(x + 10)))/d(x) = ones(1, n)", {"x": "n"}, "fails",
         lambda v: (numerator(lambda x: torch.relu(x + 10).sum(), v["x"]),
                    ones_row(v["x"].shape[0])),
         sizes={"n": 8}, regions=((5.0, -10.0), (5.0, -15.0), (1.0, 0.0)),
         how="hand: 0 wherever x < -10"),
    Trap("relu-far-true", "kink", "d(sum(relu(x + 10)))/d(x) = ((sign(x + 10) + 1) / 2).T",
         {"x": "n"}, "holds",
         lambda v: (numerator(lambda x: torch.relu(x + 10).sum(), v["x"]),
                    ((torch.sign(v["x"] + 10) + 1) / 2).T),
         sizes={"n": 8}, regions=((5.0, -10.0), (5.0, -15.0), (1.0, 0.0))),
    Trap("abs-scalar-far", "kink", "d(abs(s - 50))/d(s) = -1", {"s": ""}, "fails",
         lambda v: (numerator(lambda s: (s - 50).abs(), v["s"]), one(-1.0)),
         regions=((10.0, 50.0), (5.0, 60.0), (1.0, 0.0))),
    Trap("abs-scalar-far-true", "kink", "d(abs(s - 50))/d(s) = sign(s - 50)", {"s": ""},
         "holds", lambda v: (numerator(lambda s: (s - 50).abs(), v["s"]), torch.sign(v["s"] - 50)),
         regions=((10.0, 50.0), (5.0, 60.0), (1.0, 0.0))),
    Trap("relu-window", "kink", "d(relu(s - 30) - relu(-s - 30))/d(s) = 0", {"s": ""}, "fails",
         lambda v: (numerator(lambda s: torch.relu(s - 30) - torch.relu(-s - 30), v["s"]),
                    one(0.0)),
         regions=((10.0, 35.0), (10.0, -35.0), (1.0, 0.0)),
         how="hand: the derivative is 1 outside [-30, 30]"),
    Trap("abs-product-far", "kink", "d(abs(s - 20) * abs(s + 20))/d(s) = 2 * s",
         {"s": ""}, "fails",
         lambda v: (numerator(lambda s: (s - 20).abs() * (s + 20).abs(), v["s"]),
                    2 * v["s"]),
         regions=((3.0, 25.0), (3.0, -25.0), (3.0, 0.0)),
         how="hand: |s^2 - 400| has derivative -2 s inside (-20, 20)"),
    # -- kinks closer together than any sampling step (adversary F9): the claim is
    # wrong only between two kink roots; the oracle samples inside that gap
    # (regions: scale 1e-7 around 5e-7 lies in (0, 1e-6)) with central differences
    # of a step far smaller than the gap
    Trap("gap-abs-sign", "kink", "d(abs(s - 0.000001))/d(s) = sign(s)", {"s": ""}, "fails",
         lambda v: (numerator(lambda s: (s - 1e-6).abs(), v["s"], h=1e-10),
                    torch.sign(v["s"])),
         regions=((1e-7, 5e-7), (1.0, 0.0), (3.0, 0.0)),
         how="hand: the derivative is -1 on (0, 1e-6), where sign(s) = +1"),
    Trap("gap-abs-sign-true", "kink", "d(abs(s - 0.000001))/d(s) = sign(s - 0.000001)",
         {"s": ""}, "holds",
         lambda v: (numerator(lambda s: (s - 1e-6).abs(), v["s"], h=1e-10),
                    torch.sign(v["s"] - 1e-6)),
         regions=((1e-7, 5e-7), (1.0, 0.0), (3.0, 0.0))),
    Trap("gap-relu", "kink", "d(relu(s - 0.001))/d(s) = 0.5 * (sign(s) + 1)", {"s": ""},
         "fails",
         lambda v: (numerator(lambda s: torch.relu(s - 1e-3), v["s"], h=1e-9),
                    0.5 * (torch.sign(v["s"]) + 1)),
         regions=((1e-4, 5e-4), (1.0, 0.0), (3.0, 0.0)),
         how="hand: the derivative is 0 on (0, 1e-3), where the claim is 1"),
    Trap("gap-relu-true", "kink", "d(relu(s - 0.001))/d(s) = 0.5 * (sign(s - 0.001) + 1)",
         {"s": ""}, "holds",
         lambda v: (numerator(lambda s: torch.relu(s - 1e-3), v["s"], h=1e-9),
                    0.5 * (torch.sign(v["s"] - 1e-3) + 1)),
         regions=((1e-4, 5e-4), (1.0, 0.0), (3.0, 0.0))),
    Trap("gap-scaled-abs", "kink", "d(abs(1000000 * s - 1))/d(s) = 1000000 * sign(s)",
         {"s": ""}, "fails",
         lambda v: (numerator(lambda s: (1e6 * s - 1).abs(), v["s"], h=1e-10),
                    1e6 * torch.sign(v["s"])),
         regions=((1e-7, 5e-7), (1.0, 0.0), (3.0, 0.0)),
         how="hand: the derivative is -1e6 on (0, 1e-6), where the claim is +1e6"),
    Trap("gap-scaled-abs-true", "kink",
         "d(abs(1000000 * s - 1))/d(s) = 1000000 * sign(1000000 * s - 1)", {"s": ""}, "holds",
         lambda v: (numerator(lambda s: (1e6 * s - 1).abs(), v["s"], h=1e-10),
                    1e6 * torch.sign(1e6 * v["s"] - 1)),
         regions=((1e-7, 5e-7), (1.0, 0.0), (3.0, 0.0))),
    # two roots of one kink argument between two places of any grid along a line:
    # only interval arithmetic over the stretch shows that its sign changes there
    Trap("gap-hidden-pair", "kink", "d(abs(s * s - 0.000000000001))/d(s) = 2 * s", {"s": ""},
         "fails",
         lambda v: (numerator(lambda s: (s * s - 1e-12).abs(), v["s"], h=1e-10), 2 * v["s"]),
         regions=((3e-7, 0.0), (1.0, 0.0), (3.0, 0.0)),
         how="hand: the derivative is -2 s on (-1e-6, 1e-6)"),
    Trap("gap-hidden-pair-true", "kink",
         "d(abs(s * s - 0.000000000001))/d(s) = 2 * s * sign(s * s - 0.000000000001)",
         {"s": ""}, "holds",
         lambda v: (numerator(lambda s: (s * s - 1e-12).abs(), v["s"], h=1e-10),
                    2 * v["s"] * torch.sign(v["s"] * v["s"] - 1e-12)),
         regions=((3e-7, 0.0), (1.0, 0.0), (3.0, 0.0))),
    Trap("abs-diagonal-spd", "kink", "abs(D) = D", {"D": "n n"}, "holds",
         lambda v: (v["D"].abs(), v["D"]), assume={"D": ["diagonal", "spd"]},
         how="hand: the entries of a diagonal spd matrix are >= 0 (zeros off the diagonal)"),
    # -- kinks in the sizes (adversary F5): a size-dependent constant changes its form
    # beyond the sizes usually tried; the oracle tries every size in size_range
    Trap("size-relu", "size", "relu(n - 8) * x = 0 * x", {"x": "n"}, "fails",
         lambda v: (max(v["x"].shape[0] - 8, 0) * v["x"], 0 * v["x"]), size_range=(1, 12),
         how="hand: relu(n - 8) = n - 8 > 0 for n >= 9"),
    Trap("size-relu-true", "size", "relu(n - 8) * x = (n - 8 + abs(n - 8)) / 2 * x",
         {"x": "n"}, "holds",
         lambda v: (max(v["x"].shape[0] - 8, 0) * v["x"],
                    (v["x"].shape[0] - 8 + abs(v["x"].shape[0] - 8)) / 2 * v["x"]),
         size_range=(1, 12)),
    # a polynomial in the size vanishing at the small sizes, times a constant below
    # the default tolerance (adversary F5): false at n = 1 (a factor 1 - 6e-12) and
    # from n = 5 on (1 + 6e-12, 2.4e-11, ...); the oracle's error is one rounding
    Trap("size-poly-tiny", "size", "x = (1 + (n-2)*(n-3)*(n-4)*1e-12) * x", {"x": "n"},
         "fails", lambda v: (v["x"], (1 + size_poly(v["x"].shape[0], 2, 3, 4) * 1e-12)
                             * v["x"]),
         size_range=(1, 8), decisive=(1e-14, 1e-13),
         how="hand: (n-2)(n-3)(n-4) is -6 at n = 1 and 6 at n = 5"),
    Trap("size-poly-tiny-true", "size", "x = (1 + (n-2)*(n-3)*(n-4)*(n-2)*0) * x",
         {"x": "n"}, "holds", lambda v: (v["x"], v["x"]), size_range=(1, 8),
         decisive=(1e-14, 1e-13), how="hand: the product has the factor 0"),
    Trap("size-poly-wide", "size",
         "x = (1 + (n-2)*(n-3)*(n-4)*(n-6)*(n-7)*1e-12) * x", {"x": "n"}, "fails",
         lambda v: (v["x"], (1 + size_poly(v["x"].shape[0], 2, 3, 4, 6, 7) * 1e-12)
                    * v["x"]),
         size_range=(1, 8), decisive=(1e-14, 1e-13),
         how="hand: the polynomial vanishes at 2, 3, 4, 6, 7 only (-720 at n = 1)"),
    # the same polynomial with the size read through a shape (adversary 4, J5)
    Trap("size-poly-through-shapes", "size",
         "x = (1 + (trace(eye(n))-2)*(sum(ones(n))-3)*(trace(eye(n))-4)*(sum(ones(n))-6)"
         "*(ones(n).T @ ones(n)-7)) * x", {"x": "n"}, "fails",
         lambda v: (v["x"], (1 + size_poly(v["x"].shape[0], 2, 3, 4, 6, 7)) * v["x"]),
         size_range=(1, 8),
         how="hand: trace(eye(n)) = sum(ones(n)) = ones(n).T @ ones(n) = n; the "
             "polynomial vanishes at 2, 3, 4, 6, 7 only (-720 at n = 1, 6 at n = 5)"),
    Trap("size-poly-through-norm", "size",
         "x = (1 + (norm(ones(n))**2-2)*(norm(ones(n))**2-3)*(norm(ones(n))**2-4)"
         "*(norm(ones(n))**2-6)*(norm(ones(n))**2-7)) * x", {"x": "n"}, "fails",
         lambda v: (v["x"], (1 + size_poly(v["x"].shape[0], 2, 3, 4, 6, 7)) * v["x"]),
         size_range=(1, 8),
         how="hand: norm(ones(n))**2 = n (adversary 4, J15); as size-poly-through-shapes"),
    Trap("size-trace-eye", "size", "trace(eye(n)) * x = n * x", {"x": "n"}, "holds",
         lambda v: (tr(torch.eye(v["x"].shape[0], dtype=torch.float64)) * v["x"],
                    v["x"].shape[0] * v["x"]), size_range=(1, 8),
         how="hand: the trace of the identity is n"),
    Trap("size-abs", "size", "abs(n - 2) * x = (n - 2) * x", {"x": "n"}, "fails",
         lambda v: (abs(v["x"].shape[0] - 2) * v["x"], (v["x"].shape[0] - 2) * v["x"]),
         size_range=(1, 8), how="hand: at n = 1, |n - 2| = 1 but n - 2 = -1"),
    Trap("size-abs-true", "size", "abs(n - 2) * x = sign(n - 2) * (n - 2) * x", {"x": "n"},
         "holds",
         lambda v: (abs(v["x"].shape[0] - 2) * v["x"],
                    ((v["x"].shape[0] > 2) - (v["x"].shape[0] < 2)) * (v["x"].shape[0] - 2)
                    * v["x"]), size_range=(1, 8)),
    Trap("size-sign", "size", "sign(n - 50) * x = -x", {"x": "n"}, "fails",
         lambda v: (((v["x"].shape[0] > 50) - (v["x"].shape[0] < 50)) * v["x"], -v["x"]),
         size_range=(1, 60), how="hand: sign(n - 50) is 0 at n = 50 and 1 beyond"),
    Trap("size-sign-true", "size", "sign(n - 50) * abs(n - 50) * x = (n - 50) * x",
         {"x": "n"}, "holds",
         lambda v: (((v["x"].shape[0] > 50) - (v["x"].shape[0] < 50))
                    * abs(v["x"].shape[0] - 50) * v["x"], (v["x"].shape[0] - 50) * v["x"]),
         size_range=(1, 60)),
    # -- sizes pinned beyond the exact stage
    Trap("pinned-det-even", "pinned", "det(-X) = det(X)", {"X": "n n"}, "holds",
         lambda v: (xdet(-v["X"]), xdet(v["X"])), sizes={"n": 60}, integer=True),
    Trap("pinned-det-odd", "pinned", "det(-X) = det(X)", {"X": "n n"}, "fails",
         lambda v: (xdet(-v["X"]), xdet(v["X"])), sizes={"n": 61}, integer=True),
    Trap("pinned-frobenius", "pinned", "trace(X @ X.T) = sum(X * X)", {"X": "n n"}, "holds",
         lambda v: (tr(v["X"] @ v["X"].T), (v["X"] * v["X"]).sum()), sizes={"n": 60}),
    Trap("pinned-quadratic", "pinned", "d(x.T @ A @ x)/d(x) = x.T @ (A + A.T)",
         {"x": "n", "A": "n n"}, "holds",
         lambda v: (numerator(lambda x: x.T @ v["A"] @ x, v["x"]),
                    v["x"].T @ (v["A"] + v["A"].T)), sizes={"n": 60}),
    Trap("pinned-quadratic-wrong", "pinned", "d(x.T @ A @ x)/d(x) = 2 * x.T @ A",
         {"x": "n", "A": "n n"}, "fails",
         lambda v: (numerator(lambda x: x.T @ v["A"] @ x, v["x"]), 2 * v["x"].T @ v["A"]),
         sizes={"n": 60}),
    # pinned sizes where only the O(n^3) exact stage decides (det, inv, their derivatives)
    Trap("pinned-det-neg-odd", "pinned", "det(-X) = -det(X)", {"X": "n n"}, "holds",
         lambda v: (xdet(-v["X"]), -xdet(v["X"])), sizes={"n": 61}, integer=True,
         how="hand: det(-X) = (-1)^61 det(X); the oracle's Bareiss determinant agrees"),
    Trap("pinned-det-neg-even", "pinned", "det(-X) = -det(X)", {"X": "n n"}, "fails",
         lambda v: (xdet(-v["X"]), -xdet(v["X"])), sizes={"n": 60}, integer=True,
         how="hand: det(-X) = det(X) at n = 60, not -det(X) unless det(X) = 0"),
    Trap("pinned-skew-sign-odd", "pinned", "det(X.T - X) = det(X - X.T)", {"X": "n n"}, "holds",
         lambda v: (xdet(v["X"].T - v["X"]), xdet(v["X"] - v["X"].T)), sizes={"n": 71},
         integer=True, how="hand: both sides are determinants of skew matrices of odd order: 0"),
    Trap("pinned-skew-gradient-odd", "pinned", "d(det(X - X.T))/d(X) = zeros(n, n)",
         {"X": "n n"}, "holds", lambda v: (skew_det_slopes(v["X"]), torch.zeros(1, 2)),
         sizes={"n": 61}, integer=True,
         how="hand: det(X - X.T) is 0 for every X of odd order, so is its derivative "
             "(the derivative of det is taken where its argument is singular)"),
    Trap("pinned-skew-gradient-even", "pinned", "d(det(X - X.T))/d(X) = zeros(n, n)",
         {"X": "n n"}, "fails", lambda v: (skew_det_slopes(v["X"]), torch.zeros(1, 2)),
         sizes={"n": 60}, integer=True),
    Trap("pinned-inv-trace", "pinned", "trace(inv(X) @ X) = n", {"X": "n n"}, "holds",
         lambda v: (tr(inv(v["X"]) @ v["X"]), one(v["X"].shape[0])), sizes={"n": 80},
         how="hand: inv(X) @ X = I"),
    Trap("pinned-inv-trace-transposed", "pinned", "trace(inv(X) @ X.T) = n", {"X": "n n"},
         "fails", lambda v: (tr(inv(v["X"]) @ v["X"].T), one(v["X"].shape[0])),
         sizes={"n": 80}, how="hand: inv(X) @ X.T is I only for orthogonal-like X"),
    Trap("pinned-det-inv", "pinned", "det(inv(X)) * det(X) = 1", {"X": "n n"}, "holds",
         lambda v: (det(inv(v["X"])) * det(v["X"]), one(1.0)), sizes={"n": 64},
         regions=((0.5, 0.0), (0.4, 0.0), (0.6, 0.0))),
    Trap("pinned-det-gradient", "pinned", "d(det(X))/d(X) = det(X) * inv(X)", {"X": "n n"},
         "holds", lambda v: (numerator(det, v["X"]), det(v["X"]) * inv(v["X"])),
         assume={"X": ["invertible"]}, sizes={"n": 70}, regions=((0.4, 0.0),),
         how="hand: d det(X)/dX[i, j] = det(X) inv(X)[j, i], so the numerator layout "
             "(entry [j, i]) is det(X) inv(X)"),
    Trap("pinned-det-gradient-transposed", "pinned", "d(det(X))/d(X) = det(X) * inv(X).T",
         {"X": "n n"}, "fails",
         lambda v: (numerator(det, v["X"]), det(v["X"]) * inv(v["X"]).T),
         assume={"X": ["invertible"]}, sizes={"n": 70}, regions=((0.4, 0.0),),
         how="hand: inv(X).T is the denominator layout's answer"),
]

# -- the modulus of the exact stage's modular test: claims whose lhs - rhs is a non-zero
# rational function whose integer coefficients are all multiples of 2**61 - 1 (a prime),
# so that modulo that fixed prime they vanish identically, built from small constants
# through powers, products and sums; and true controls with large constants. The
# arithmetic, checked in test_the_modulus_arithmetic: 2048**6 = 2**66 and
# 2**66 - 32 = 32 (2**61 - 1); 2305843009213693952 = 2**61 = (2**61 - 1) + 1, so
# log(2**61) is log 1 modulo 2**61 - 1; 2 * 2**60 - 1 = 2**61 - 1; 2**62 - 2 = 2 (2**61 - 1);
# sin(2**61 x) and sin(x) have arguments that differ by (2**61 - 1) x.
x_n = {"x": "n"}
MODULUS_TRAPS = [
    Trap("modulus-power", "modulus", "2048 ** 6 * x = 32 * x", x_n, "fails",
         lambda v: (2048.0 ** 6 * v["x"], 32 * v["x"]),
         how="hand: 2048**6 = 2**66 != 32; 2**66 - 32 = 32 (2**61 - 1)"),
    Trap("modulus-power-true", "modulus", "2048 ** 6 * x = 73786976294838206464 * x", x_n,
         "holds", lambda v: (2048.0 ** 6 * v["x"], 73786976294838206464.0 * v["x"]),
         how="hand: 2048**6 = 2**66 = 73786976294838206464"),
    Trap("modulus-constant", "modulus", "2305843009213693952 * x = x", x_n, "fails",
         lambda v: (2.0 ** 61 * v["x"], v["x"]), how="hand: 2**61 - 1 is the difference"),
    Trap("modulus-log", "modulus", "log(2305843009213693952) * x = 0 * x", x_n, "fails",
         lambda v: (math.log(2.0 ** 61) * v["x"], 0 * v["x"]),
         how="hand: log(2**61) = 61 log 2 != 0, though 2**61 is 1 modulo 2**61 - 1"),
    Trap("modulus-log-true", "modulus", "log(2305843009213693952) * x = 61 * log(2) * x", x_n,
         "holds", lambda v: (math.log(2.0 ** 61) * v["x"], 61 * math.log(2.0) * v["x"])),
    Trap("modulus-sum", "modulus",
         "1152921504606846976 * x + 1152921504606846976 * x = x", x_n, "fails",
         lambda v: (2.0 ** 60 * v["x"] + 2.0 ** 60 * v["x"], v["x"]),
         how="hand: 2**60 + 2**60 - 1 = 2**61 - 1"),
    Trap("modulus-sum-true", "modulus",
         "1152921504606846976 * x + 1152921504606846976 * x = 2305843009213693952 * x", x_n,
         "holds", lambda v: (2.0 ** 60 * v["x"] + 2.0 ** 60 * v["x"], 2.0 ** 61 * v["x"])),
    Trap("modulus-difference", "modulus", "2 ** 61 * x - x = 0 * x", x_n, "fails",
         lambda v: (2.0 ** 61 * v["x"] - v["x"], 0 * v["x"])),
    Trap("modulus-derivative", "modulus", "d(2 ** 61 * x.T @ x)/d(x) = 2 * x.T", x_n, "fails",
         lambda v: (numerator(lambda x: 2.0 ** 61 * x.T @ x, v["x"]), 2 * v["x"].T),
         how="hand: the derivative is 2**62 x.T; 2**62 - 2 = 2 (2**61 - 1)"),
    Trap("modulus-derivative-true", "modulus", "d(2 ** 61 * x.T @ x)/d(x) = 2 ** 62 * x.T",
         x_n, "holds",
         lambda v: (numerator(lambda x: 2.0 ** 61 * x.T @ x, v["x"]), 2.0 ** 62 * v["x"].T)),
    Trap("modulus-oracle", "modulus", "sin(2 ** 61 * x) = sin(x)", x_n, "fails",
         lambda v: (torch.sin(2.0 ** 61 * v["x"]), torch.sin(v["x"])),
         how="hand: sin(2**61 x) != sin(x) at almost every x (the arguments are equal "
             "modulo 2**61 - 1, so a random oracle keyed by their residues confuses them)"),
]
TRAPS += MODULUS_TRAPS


def test_the_modulus_arithmetic() -> None:
    p = 2**61 - 1
    assert 2048**6 == 2**66 == 73786976294838206464 and 2**66 - 32 == 32 * p
    assert 2305843009213693952 == 2**61 == p + 1
    assert 1152921504606846976 == 2**60 and 2 * 2**60 - 1 == p and 2**62 - 2 == 2 * p


#: the modulus traps as a user types them, with the exact stage alone and with both engines
MODULUS_ROWS = [(t.id, [t.identity, "--var", "x:n"], "HOLDS" if t.expected == "holds"
                 else "FAILS", 0 if t.expected == "holds" else 1) for t in MODULUS_TRAPS]


@pytest.mark.parametrize("method", ["symbolic", "both"])
@pytest.mark.parametrize("row", MODULUS_ROWS, ids=[r[0] for r in MODULUS_ROWS])
def test_modulus_rows(row: tuple, method: str, capsys: pytest.CaptureFixture) -> None:
    _, argv, status, code = row
    assert main(["verify", *argv, "--method", method]) == code
    out = capsys.readouterr().out
    assert out.split()[0] == status
    assert "ENGINE DISAGREEMENT" not in out


#: traps matcalc gets wrong today (reported as strict xfails; empty the set as they are fixed)
KNOWN_OPEN: set[str] = set()


def _params() -> list:
    return [pytest.param(t, id=t.id, marks=pytest.mark.xfail(
        strict=True, reason="known open: matcalc's verdict is wrong (issue 11)"))
        if t.id in KNOWN_OPEN else pytest.param(t, id=t.id) for t in TRAPS]


def test_the_corpus() -> None:
    assert len(TRAPS) >= 40 and len({t.id for t in TRAPS}) == len(TRAPS)
    kinds = {t.kind for t in TRAPS}
    assert kinds == {"parity", "orthogonal", "scale", "kink", "pinned", "size", "modulus"}
    for kind in kinds:  # false traps and true controls of each kind
        assert {t.expected for t in TRAPS if t.kind == kind} == {"holds", "fails"}, kind
    assert KNOWN_OPEN <= {t.id for t in TRAPS}


@pytest.mark.parametrize("trap", TRAPS, ids=[t.id for t in TRAPS])
def test_expected_verdict_is_established_independently(trap: Trap) -> None:
    assert establish(trap) == trap.expected


@pytest.mark.parametrize("trap", _params())
def test_matcalc_gives_the_expected_verdict(trap: Trap) -> None:
    verdict = matcalc.verify(trap.identity, vars=trap.vars, assume=trap.assume,
                             sizes=trap.sizes, diagnose=False)
    if trap.expected == "holds":
        assert verdict.status == "holds", f"a true identity refuted:\n{verdict}"
    else:
        assert verdict.status != "holds", f"a false identity holds:\n{verdict}"
        assert verdict.status == "fails", str(verdict)


#: traps whose float64 values cancel to rounding noise, with their false twins: the
#: numeric stage alone must hold the true ones (the rounding estimate must not be
#: fooled by one lucky float32 evaluation, adversary G1) and refute the false ones
ROUNDING_TRAPS = ("orthogonal-logdet-gram", "orthogonal-logdet-gram-scaled",
                  "orthogonal-det-gram", "orthogonal-det-gram-sign", "orthogonal-trace-pinned",
                  "orthogonal-trace-pinned-wrong", "inverse-logdet", "inverse-logdet-shifted",
                  "tiny-quadratic", "tiny-quadratic-true", "tiny-constant-wrong",
                  "huge-both-sides-wrong", "tiny-both-sides-wrong")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("trap", [t for t in TRAPS if t.id in ROUNDING_TRAPS],
                         ids=[t.id for t in TRAPS if t.id in ROUNDING_TRAPS])
def test_numeric_stage_alone_within_rounding(trap: Trap, seed: int) -> None:
    verdict = matcalc.verify(trap.identity, vars=trap.vars, assume=trap.assume,
                             sizes=trap.sizes, diagnose=False, method="numeric", seed=seed)
    assert verdict.status == ("holds" if trap.expected == "holds" else "fails"), str(verdict)


def test_cancellation_beyond_float32_is_no_overflow() -> None:
    """(1e12 + s) - 1e12 = s: float32 keeps no digit of s, float64 keeps s to ~1e-4
    (terms of 1e12); the numeric stage alone cannot estimate that rounding and says
    why, without calling it an overflow; both engines prove it."""
    text, declared = "(1000000000000 + s) - 1000000000000 = s", {"s": ""}
    with pytest.raises(matcalc.UndecidedError) as info:
        matcalc.verify(text, vars=declared, method="numeric", diagnose=False)
    assert "float32 kept no digit" in str(info.value) and "overflow" not in str(info.value)
    assert matcalc.verify(text, vars=declared, diagnose=False).status == "holds"


# ---------------------------------------------------------------------------
# The table of issue 11, as a user types it: verdict and exit code

ISSUE_TABLE = [
    ("det-neg", ["det(-X) = -det(X)", "--var", "X:n,n"], "FAILS", 1),
    ("det-neg-derivative", ["d(det(-X))/d(X) = -det(X) * inv(X)", "--var", "X:n,n",
                            "--assume", "X:invertible"], "FAILS", 1),
    ("skew-singular", ["det(X - X.T) = 0", "--var", "X:n,n"], "FAILS", 1),
    ("second-dimension", ["det(-Y) = det(Y)", "--var", "X:m,m", "--var", "Y:n,n"], "FAILS", 1),
    ("orthogonal-symbolic", ["det(Q) = 1", "--var", "Q:n,n", "--assume", "Q:orthogonal",
                             "--method", "symbolic"], "FAILS", 1),
    ("exp50-sigmoid", ["d(exp(50 * s) * sigmoid(s))/d(s) = exp(50 * s) * (50 * sigmoid(s) + "
                       "sigmoid(s) * (1 - sigmoid(s)))", "--var", "s:"], "HOLDS", 0),
    ("power60", ["d(s ** 60 * (sin(s) ** 2 + cos(s) ** 2))/d(s) = 60 * s ** 59", "--var", "s:"],
     "HOLDS", 0),
    ("tiny-quadratic", ["d(1e-10 * x.T @ x)/d(x) = 1e-10 * x.T", "--var", "x:n", "--size", "n=8"],
     "FAILS", 1),
    ("gaussian-zero", ["d(exp(-30 * x.T @ x))/d(x) = zeros(1, n)", "--var", "x:n",
                       "--size", "n=8"], "FAILS", 1),
    ("abs-far", ["d(sum(abs(x - 20)))/d(x) = -ones(1, n)", "--var", "x:n"], "FAILS", 1),
    ("relu-far", ["d(sum(relu(x + 10)))/d(x) = ones(1, n)", "--var", "x:n", "--size", "n=8"],
     "FAILS", 1),
]

#: rows of the table matcalc gets wrong today (strict xfails, like KNOWN_OPEN)
KNOWN_OPEN_TABLE: set[str] = {
}


@pytest.mark.parametrize("row", [
    pytest.param(r, id=r[0], marks=pytest.mark.xfail(
        strict=True, reason="known open: issue 11's table row still wrong"))
    if r[0] in KNOWN_OPEN_TABLE else pytest.param(r, id=r[0]) for r in ISSUE_TABLE])
def test_issue_table_rows(row: tuple, capsys: pytest.CaptureFixture) -> None:
    _, argv, status, code = row
    assert main(["verify", *argv]) == code
    out = capsys.readouterr().out
    assert out.split()[0] == status
    assert "ENGINE DISAGREEMENT" not in out


# ---------------------------------------------------------------------------
# Pinned sizes beyond the small ones: the exact stage decides them on its own

#: pinned traps decided by the exact stage alone (matcalc.linalg: O(n^3) per point)
EXACT_PINNED = {"skew-singular-odd", "skew-singular-even-pinned", "pinned-det-even",
                "pinned-det-odd", "pinned-det-neg-odd", "pinned-det-neg-even",
                "pinned-skew-sign-odd", "pinned-inv-trace", "pinned-inv-trace-transposed",
                "pinned-det-inv", "pinned-det-gradient", "pinned-det-gradient-transposed",
                "pinned-skew-gradient-odd", "pinned-skew-gradient-even",
                "logdet-gradient-shift", "size-poly-tiny", "size-poly-wide"}


@pytest.mark.parametrize("trap", [t for t in TRAPS if t.id in EXACT_PINNED],
                         ids=[t.id for t in TRAPS if t.id in EXACT_PINNED])
def test_the_exact_stage_decides_large_pinned_sizes(trap: Trap) -> None:
    verdict = matcalc.verify(trap.identity, vars=trap.vars, assume=trap.assume,
                             sizes=trap.sizes, method="symbolic", diagnose=False)
    assert verdict.status == trap.expected, str(verdict)
    if trap.expected == "holds":
        assert verdict.symbolic.status == "proved"
        assert verdict.strength in ("exact", "general") and \
            verdict.symbolic.size_sets == (trap.sizes,)
    else:
        assert verdict.symbolic.status == "refuted"


@pytest.mark.parametrize("n, status, code", [(61, "HOLDS exactly at n = 61", 0),
                                             (60, "FAILS", 1)])
def test_a_skew_matrix_of_odd_order_on_the_command_line(n: int, status: str, code: int,
                                                        capsys: pytest.CaptureFixture) -> None:
    assert main(["verify", "det(X - X.T) = 0", "--var", "X:n,n", "--size", f"n={n}"]) == code
    out = capsys.readouterr().out
    assert out.startswith(status)
    assert "ENGINE DISAGREEMENT" not in out


# ---------------------------------------------------------------------------
# The adversary's kink and size findings (issue 11), as a user types them. Each
# expected verdict is the corresponding trap's above (established by its oracle).

KINK_ROWS = [
    ("gap-abs-sign", ["d(abs(s - 0.000001))/d(s) = sign(s)", "--var", "s:"], "FAILS", 1),
    ("gap-relu", ["d(relu(s - 0.001))/d(s) = 0.5 * (sign(s) + 1)", "--var", "s:"], "FAILS", 1),
    ("gap-scaled-abs", ["d(abs(1000000 * s - 1))/d(s) = 1000000 * sign(s)", "--var", "s:"],
     "FAILS", 1),
    ("size-relu", ["relu(n - 8) * x = 0 * x", "--var", "x:n"], "FAILS", 1),
    ("size-abs", ["abs(n - 2) * x = (n - 2) * x", "--var", "x:n"], "FAILS", 1),
    ("gap-abs-sign-true", ["d(abs(s - 0.000001))/d(s) = sign(s - 0.000001)", "--var", "s:"],
     "HOLDS", 0),
    ("size-relu-true", ["relu(n - 8) * x = (n - 8 + abs(n - 8)) / 2 * x", "--var", "x:n"],
     "HOLDS", 0),
]


def _shown(out: str, label: str) -> str:
    line = next(line for line in out.splitlines() if line.strip().startswith(label))
    return line.split("=", 1)[1].strip()


@pytest.mark.parametrize("row", KINK_ROWS, ids=[r[0] for r in KINK_ROWS])
def test_kink_rows(row: tuple, capsys: pytest.CaptureFixture) -> None:
    trap_id, argv, status, code = row
    expected = next(t.expected for t in TRAPS if t.id == trap_id)
    assert (status == "HOLDS") == (expected == "holds")
    assert main(["verify", *argv]) == code
    out = capsys.readouterr().out
    assert out.split()[0] == status
    assert "ENGINE DISAGREEMENT" not in out
    if status == "FAILS":  # the counterexample shows its difference
        assert _shown(out, "true value") != _shown(out, "claim")
    # the kink record never claims more than was visited
    assert "tried on both sides" not in out


def test_gaps_between_kinks_are_visited_and_said() -> None:
    verdict = matcalc.verify("d(abs(s - 0.000001))/d(s) = sign(s - 0.000001)", vars={"s": ""},
                             diagnose=False)
    assert verdict.status == "holds"
    assert "every gap between them visited" in verdict.numeric.detail
    assert verdict.numeric.gaps_missed == 0
    # the numeric stage on its own finds the gap of the false claim in float64
    verdict = matcalc.verify("d(abs(s - 0.000001))/d(s) = sign(s)", vars={"s": ""},
                             method="numeric", diagnose=False)
    assert verdict.status == "fails"


@pytest.mark.parametrize("identity, variables, assume, sizes, method", [
    # Q = I is orthogonal: relu(n - 5) x = 195 x at n = 200, yet trace(Q) of a Haar Q is
    # about N(0, 1), so every sampled point sees relu(...) = 0 (adversary 3, H1)
    ("relu(trace(Q) - 5) * x = 0 * x", {"x": "n", "Q": "n n"}, {"Q": "orthogonal"},
     {"n": 200}, "both"),
    ("relu(trace(Q) - 2) * x = 0 * x", {"x": "n", "Q": "n n"}, {"Q": "orthogonal"}, {},
     "numeric"),
    # relu(0.001 - |x - 3|^2) is 0 except in a ball of radius 0.03 around (3, ..., 3)
    # that neither random points nor random lines through them meet (lead, by hand)
    ("relu(0.001 - (x - 3 * ones(n)).T @ (x - 3 * ones(n))) * y = 0 * y",
     {"x": "n", "y": "m"}, {}, {}, "both"),
    # x = ones(6): relu(6 - 5.5) y = 0.5 y, yet all six signs positive has probability
    # 1/64 per point (adversary 3, H5)
    ("relu(sum(sign(x)) - 5.5) * y = 0 * y", {"x": "n", "y": "m"}, {}, {"n": 6, "m": 2},
     "numeric"),
    # X = diag(1, 1e-7, 1) is spd with trace(inv X) trace(X) = (1e7 + 2) 2.0000001 > 1e6;
    # the sampler's spd points are well conditioned, and the search lines only rescale
    # them (adversary 3, H3)
    ("relu(trace(inv(X)) * trace(X) - 1000000) * x = 0 * x", {"x": "n", "X": "n n"},
     {"X": "spd"}, {}, "both"),
])
def test_a_kink_seen_on_one_side_only_is_no_evidence(identity: str, variables: dict, assume: dict,
                                            sizes: dict, method: str) -> None:
    try:
        verdict = matcalc.verify(identity, vars=variables, assume=assume, sizes=sizes,
                                 method=method, diagnose=False)
    except matcalc.UndecidedError as error:  # undecided: the kink is said to be one-sided
        assert "never evaluated" in str(error), str(error)
    else:
        assert verdict.status == "fails", str(verdict)


def test_a_kink_seen_on_one_side_only_does_not_block_a_proof() -> None:
    # relu(trace(X)) = trace(X) for spd X (a positive trace): the exact stage proves the
    # claim at small sizes; at a pinned size beyond it, agreement alone is no evidence
    claim = "d(relu(trace(X)) * (x.T @ x))/d(x) = 2 * trace(X) * x.T"
    variables, assume = {"x": "n", "X": "n n"}, {"X": "spd"}
    assert matcalc.verify(claim, vars=variables, assume=assume, diagnose=False).status == "holds"
    with pytest.raises(matcalc.UndecidedError, match="one side only: relu"):
        matcalc.verify(claim, vars=variables, assume=assume, sizes={"n": 200}, diagnose=False)


def test_structural_zeros_are_no_kinks_without_derivatives() -> None:
    # adversary F7: abs of a diagonal matrix has kinks at its zeros, but no derivative
    # is taken through them, so the numeric stage evaluates there
    verdict = matcalc.verify("abs(D) = D", vars={"D": "n n"}, assume={"D": "diagonal,spd"},
                             diagnose=False)
    assert verdict.status == "holds" and verdict.numeric.status == "agrees"
    assert verdict.numeric_sizes


def test_a_gross_failure_is_not_called_within_tolerance() -> None:
    # adversary F8: the summary of a failure by 2.0 never mentions the tolerance
    verdict = matcalc.verify("abs(det(S)) = det(S)", vars={"S": "n n"},
                             assume={"S": "symmetric"}, diagnose=False)
    assert verdict.status == "fails"
    assert "tolerance" not in verdict.summary
