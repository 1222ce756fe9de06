"""The symbolic stage: SymPy, entry by entry, at concrete sizes (docs/design.md §3).

Every dimension name is given a small concrete size (distinct names get
distinct sizes, so a transposed answer cannot pass by a coincidence of shapes),
every variable becomes an array of SymPy symbols shaped by its assumptions, and
both sides of the identity are evaluated through the SymPy forms of the
operation registry; ``d(f)/d(x)`` differentiates each entry of ``f`` by each
entry of ``x`` and arranges the result with :mod:`matcalc.layout`.

Variables that are differentiated keep free entries while they are
differentiated and take their structure (symmetry, ...) afterwards: the
derivative of the expression as written, at a structured point. That is what
torch computes too.

Deciding ``lhs - rhs == 0`` is :mod:`matcalc.zerotest`'s part.

The stage runs under a wall-clock budget (:mod:`matcalc.budget`) and reports
when it gave up.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from . import assumptions as A
from . import expr as E
from . import limits
from ._lazy import np, sp
from .budget import check_time
from .evidence import Grid, SymbolicEvidence
from .layout import arrange, layout_plan
from .ops import REGISTRY, TWIN_MARK, s_det
from .shapes import Shape, concrete, kind
from .symarrays import as_grid, grid, map_array, rational

#: the derivative is kept as text for reports when it has at most this many nodes
SHOWN_NODES = 600


class SymbolicUnsupported(Exception):
    """The identity is beyond the symbolic stage (too large)."""


# ---------------------------------------------------------------------------
# Variables as arrays of symbols


def _entry_name(name: str, shape: Shape, i: int, j: int) -> str:
    k = kind(shape)
    if k == "scalar":
        return name
    if k == "column":
        return f"{name}[{i}]"
    if k == "row":
        return f"{name}[{j}]"
    return f"{name}[{i},{j}]"


@dataclass
class _Variable:
    """A variable at concrete size: the entries evaluation sees, and more."""

    entries: Any  # object array used by evaluation
    structured: Any  # object array in terms of the parameters
    params: list[Any]  # parameter symbols, in assumptions.free_positions order
    tags: frozenset[str]
    size: tuple[int, int]


def _cayley(skew: Any, n: int) -> Any:
    """The Cayley transform ``(I - S) @ inv(I + S) = 2 inv(I + S) - I`` of a skew
    matrix, each entry one fraction of expanded polynomials. The adjugate and the
    determinant are taken over the polynomial ring of the parameters: fast (n = 6 in
    about a second), where cancelling SymPy's inverse took minutes at n = 5 in one
    call that no time budget can interrupt."""
    from sympy.polys.matrices import DomainMatrix

    matrix = DomainMatrix.from_Matrix(sp.eye(n) + skew)
    det = matrix.domain.to_sympy(matrix.det())
    adjugate = matrix.adjugate().to_Matrix()
    return sp.Matrix(n, n, lambda i, j: (2 * adjugate[i, j] - (det if i == j else 0)) / det)


def _involution(params: list[Any], n: int, rank: int) -> Any:
    """``I - 2P``, P the orthogonal projector onto the columns of ``V = [I_k; W]``
    (W the first (n - k) * k parameters): ``P = V adj(G) V.T / det(G)`` with
    ``G = V.T V = I + W.T W``, over the polynomial ring as in :func:`_cayley`."""
    from sympy.polys.matrices import DomainMatrix

    if rank in (0, n):
        return sp.eye(n) * (1 if rank == 0 else -1)
    w = sp.Matrix(n - rank, rank, params[: (n - rank) * rank])
    v = sp.Matrix.vstack(sp.eye(rank), w)
    gram = DomainMatrix.from_Matrix(v.T * v)
    det = gram.domain.to_sympy(gram.det())
    numerator = (v * gram.adjugate().to_Matrix() * v.T).expand()
    return sp.Matrix(n, n, lambda i, j: ((det if i == j else 0) - 2 * numerator[i, j]) / det)


def _make_variable(name: str, shape: Shape, tags: frozenset[str], sizes: Mapping[str, int],
                   free: bool, component: int = 0) -> _Variable:
    rows, cols = concrete(shape, sizes)
    struct = A.structure(tags)
    positive = "positive" in tags

    def symbol(i: int, j: int, label: str | None = None) -> Any:
        pos = positive or ("spd" in tags and i == j)
        return sp.Symbol(label or _entry_name(name, shape, i, j), real=True,
                         positive=True if pos else None)

    positions = A.free_positions((rows, cols), struct)
    if struct == "orthogonal":
        params = [symbol(i, j, f"{name}.k[{i},{j}]") for i, j in positions]
        skew = sp.zeros(rows, rows)
        for (i, j), p in zip(positions, params):
            skew[i, j], skew[j, i] = p, -p
        cayley = _cayley(skew, rows)
        if component:  # D @ Cayley(S), D = diag(-1, 1, ..., 1): the det -1 component
            cayley[0, :] = -cayley[0, :]
        structured = grid(rows, cols, lambda i, j: cayley[i, j])
    elif struct == "involution":
        params = [symbol(i, j, f"{name}.w[{i},{j}]") for i, j in positions]
        value = _involution(params, rows, component)
        structured = grid(rows, cols, lambda i, j: value[i, j])
    elif struct in ("signs", "identity"):  # no parameter: a sign pattern, or I
        params = []
        pattern = A.signs(rows, component if struct == "signs" else 0)
        structured = grid(rows, cols, lambda i, j: sp.Integer(pattern[i]) if i == j
                          else sp.S.Zero)
    else:
        params = [symbol(i, j) for i, j in positions]
        lookup = dict(zip(positions, params))

        def entry(i: int, j: int) -> Any:
            if struct == "symmetric":
                return lookup[(min(i, j), max(i, j))]
            if struct == "diagonal":
                return lookup[(i, i)] if i == j else sp.S.Zero
            return lookup[(i, j)]

        structured = grid(rows, cols, entry)
    entries = grid(rows, cols, symbol) if free else structured
    return _Variable(entries, structured, params, tags, (rows, cols))


# ---------------------------------------------------------------------------
# The session: one instantiation of the variables, shared by every claim.


class SymbolicSession:
    """SymPy values of expressions over one instantiation of the variables.

    Values (and native Jacobians) are memoized by node, so checking the same
    derivative against several claims, layouts or seeds derives it once.
    """

    def __init__(self, shapes: Mapping[str, Shape], tags: Mapping[str, frozenset[str]],
                 differentiated: set[str], sizes: Mapping[str, int],
                 variant: frozenset[tuple[str, int]] = frozenset()) -> None:
        self.sizes = dict(sizes)
        self.shapes = dict(shapes)
        self.variant = variant  # the component of each variable (assumptions.component)
        self.variables = {
            name: _make_variable(name, shape, tags.get(name, frozenset()), self.sizes,
                                 name in differentiated, A.component(variant, name))
            for name, shape in shapes.items()
        }
        # free entry -> structured entry, applied after differentiating
        self.structure: dict[Any, Any] = {}
        for name in differentiated:
            v = self.variables[name]
            for free, fixed in zip(v.entries.flat, v.structured.flat):
                if free != fixed:
                    self.structure[free] = fixed
        self._memo: dict[E.Expr, Any] = {}
        self._jacobians: dict[tuple[E.Expr, str], Any] = {}
        self._compared: dict[tuple[E.Expr, E.Expr], tuple[Any, Any, list[Any]]] = {}
        self._texts: dict[E.Expr, Grid | None] = {}
        self.detached = False  # whether detach has made twin symbols
        self._products: dict[tuple[E.Expr, ...], Any] = {}  # sub-products of matmul chains

    # -- evaluation

    def value(self, node: E.Expr) -> Any:
        cached = self._memo.get(node)
        if cached is not None:
            return cached
        check_time()
        if isinstance(node, E.Const):
            result = grid(1, 1, lambda i, j: rational(node.value))
        elif isinstance(node, E.Array):
            result = grid(len(node.rows), len(node.rows[0]),
                          lambda i, j: rational(node.rows[i][j]))
        elif isinstance(node, E.Size):
            result = grid(1, 1, lambda i, j: sp.Integer(node.dim.size(self.sizes)))
        elif isinstance(node, E.Var):
            result = self.variables[node.name].entries
        elif isinstance(node, E.Apply) and node.op == "matmul":
            result = self._chain(_factors(node))
        elif isinstance(node, E.Apply):
            args = [self.value(a) for a in node.args]
            dims = [d.size(self.sizes) for d in node.dims]
            result = REGISTRY[node.op].sym(*args, *dims)
            self.detached |= node.op == "detach"
        else:
            plan = layout_plan(node.of.shape, node.wrt.shape, node.layout)
            result = arrange(self.jacobian(node.of, node.wrt.name), plan, self.sizes)
        self._memo[node] = result
        return result

    def _chain(self, factors: list[E.Expr]) -> Any:
        """A product ``F1 @ F2 @ ... @ Fk`` in the order with the fewest scalar
        multiplications (the classic matrix-chain order): symbolic entries stay
        small, and a repeated sub-product such as ``X.T @ C @ X`` is built once."""
        values = [self.value(f) for f in factors]
        dims = [values[0].shape[0]] + [v.shape[1] for v in values]
        k = len(values)
        cost = {(i, i): 0 for i in range(k)}
        split: dict[tuple[int, int], int] = {}
        for length in range(2, k + 1):
            for i in range(k - length + 1):
                j = i + length - 1
                cost[i, j], split[i, j] = min(
                    (cost[i, m] + cost[m + 1, j] + dims[i] * dims[m + 1] * dims[j + 1], m)
                    for m in range(i, j))

        def build(i: int, j: int) -> Any:
            if i == j:
                return values[i]
            key = tuple(factors[i:j + 1])
            if key not in self._products:
                m = split[i, j]
                self._products[key] = REGISTRY["matmul"].sym(build(i, m), build(m + 1, j))
            return self._products[key]

        return build(0, k - 1)

    def jacobian(self, of: E.Expr, wrt: str) -> Any:
        """Native ``J[out..., in...] = d of[out] / d wrt[in]``."""
        key = (of, wrt)
        if key in self._jacobians:
            return self._jacobians[key]
        f = self.value(of)
        w = self.variables[wrt].entries
        if f.size * w.size > limits.MAX_SYMBOLIC_PAIRS:
            raise SymbolicUnsupported(
                f"the derivative has {f.size * w.size:,} entries at these sizes "
                f"(symbolic limit {limits.MAX_SYMBOLIC_PAIRS:,})"
            )
        out = np.empty(f.shape + w.shape, dtype=object)
        for windex in np.ndindex(w.shape):
            symbol = w[windex]
            memo: dict[Any, Any] = {}  # per symbol: shared subexpressions differentiate once
            for index in np.ndindex(f.shape):
                check_time()
                out[index + windex] = differentiate(f[index], symbol, memo)
        self._jacobians[key] = out
        return out

    def finalize(self, e: Any) -> Any:
        """Undo ``detach`` twins and give differentiated variables their structure."""
        if not self.structure and not self.detached:
            return e
        free = e.free_symbols
        twins = {s: sp.Symbol(s.name[: -len(TWIN_MARK)], **s.assumptions0)
                 for s in free if s.name.endswith(TWIN_MARK)}
        if twins:
            e = e.xreplace(twins)
        if self.structure:
            e = e.xreplace(self.structure)
        return e

    # -- points

    def point(self, rng: random.Random, kind: str) -> dict[Any, Fraction]:
        """Values for every parameter symbol (see assumptions.rational_parameters)."""
        values: dict[Any, Fraction] = {}
        for v in self.variables.values():
            params = A.rational_parameters(v.tags, v.size, rng, kind)
            values.update(zip(v.params, params))
        return values

    def point_values(self, point: Mapping[Any, Any]) -> dict[str, Grid]:
        return {
            name: as_grid(map_array(lambda e: e.xreplace(point), v.structured))
            for name, v in self.variables.items()
        }

    # -- comparison

    def compare(self, lhs: E.Expr, rhs: E.Expr, seed: int = 0,
                points: str | None = None) -> SymbolicEvidence:
        """Decide ``lhs == rhs``; ``seed`` fixes the points the decision uses.
        ``points`` is what evaluation at real points found already
        (:mod:`matcalc.pointtest`), reported when no formal proof is found."""
        start = time.perf_counter()
        left, right, diffs = self._sides(lhs, rhs)
        from .zerotest import Decider

        decision = Decider(self, lhs, rhs, left, right, diffs, seed, points).run()
        return SymbolicEvidence(
            status=decision.status,
            sizes=dict(self.sizes),
            detail=decision.detail,
            proof=decision.proof,
            error_bound=decision.error_bound,
            entries=len(diffs),
            seconds=time.perf_counter() - start,
            counterexample=decision.counterexample,
            derivative=self._derivative_text(lhs, left),
        )

    def derivative_text(self, lhs: E.Derivative) -> Grid | None:
        """The derivative entry by entry for reports, when small enough to read."""
        return self._derivative_text(lhs, map_array(self.finalize, self.value(lhs)))

    def _derivative_text(self, lhs: E.Expr, left: Any) -> Grid | None:
        """The left side as text for reports, when it is a derivative small
        enough to read (computed once)."""
        if not isinstance(lhs, E.Derivative):
            return None
        if lhs not in self._texts:
            self._texts[lhs] = as_grid(left) if _small(left.flat, SHOWN_NODES) else None
        return self._texts[lhs]

    def _sides(self, lhs: E.Expr, rhs: E.Expr) -> tuple[Any, Any, list[Any]]:
        key = (lhs, rhs)
        if key not in self._compared:
            left = map_array(self.finalize, self.value(lhs))
            right = map_array(self.finalize, self.value(rhs))
            diffs = [self.finalize(a - b) for a, b in zip(left.flat, right.flat)]
            self._compared[key] = (left, right, diffs)
        return self._compared[key]

    def conditions(self, lhs: E.Expr, rhs: E.Expr) -> list[tuple[str, Any]]:
        """What a valid point must satisfy: the domains of the operations used.

        These are the numeric sampler's guards, made exact: ``("positive", e)``
        or ``("nonzero", e)`` for SymPy expressions ``e`` over the parameters.
        """
        found: list[tuple[str, Any]] = []
        seen: set[E.Expr] = set()
        for side in (lhs, rhs):
            for node in E.walk(side):
                if isinstance(node, E.Apply) and node not in seen and node.op in DOMAINS:
                    seen.add(node)
                    found.extend((kind, self.finalize(e))
                                 for kind, e in DOMAINS[node.op](self, node))
        return found


def _entries(kind: str, value: Any) -> list[tuple[str, Any]]:
    return [(kind, e) for e in value.flat]


def _pow_domain(session: SymbolicSession, node: E.Apply) -> list[tuple[str, Any]]:
    base, exponent = node.args
    if isinstance(exponent, E.Const) and exponent.value.denominator == 1:
        return [] if exponent.value >= 0 else _entries("nonzero", session.value(base))
    return _entries("positive", session.value(base))


def _det_of(session: SymbolicSession, node: E.Apply) -> Any:
    return s_det(session.value(node.args[0]))


#: operation -> the conditions on its operands (mirrors the guards in ops.py)
DOMAINS = {
    "log": lambda s, n: _entries("positive", s.value(n.args[0])),
    "sqrt": lambda s, n: _entries("positive", s.value(n.args[0])),
    "div": lambda s, n: _entries("nonzero", s.value(n.args[1])),
    "pow": _pow_domain,
    "abs": lambda s, n: _entries("nonzero", s.value(n.args[0])),
    "sign": lambda s, n: _entries("nonzero", s.value(n.args[0])),
    "relu": lambda s, n: _entries("nonzero", s.value(n.args[0])),
    "norm1": lambda s, n: _entries("nonzero", s.value(n.args[0])),
    "norm": lambda s, n: _entries("positive", s.value(n)),
    "inv": lambda s, n: [("nonzero", _det_of(s, n))],
    "det": lambda s, n: [("nonzero", _det_of(s, n))],
    "logdet": lambda s, n: [("positive", _det_of(s, n))],
}


def _factors(node: E.Expr) -> list[E.Expr]:
    """The operands of a chain of ``@``, left to right."""
    if isinstance(node, E.Apply) and node.op == "matmul":
        return _factors(node.args[0]) + _factors(node.args[1])
    return [node]


# ---------------------------------------------------------------------------
# Helpers on SymPy expressions


def differentiate(e: Any, s: Any, memo: dict[Any, Any]) -> Any:
    """``∂e/∂s`` by the sum, product, power and chain rules, memoized on the
    expression DAG (entries of matrix products share subexpressions, which
    ``Expr.diff`` would differentiate again at every occurrence). Functions
    differentiate by SymPy's own ``fdiff``; any other node by ``Expr.diff``."""
    if e in memo:
        return memo[e]
    if s not in e.free_symbols:
        result = sp.S.Zero
    elif e == s:
        result = sp.S.One
    elif e.is_Add:
        result = sp.Add(*[differentiate(a, s, memo) for a in e.args])
    elif e.is_Mul:
        args = e.args
        terms = []
        for i, a in enumerate(args):
            da = differentiate(a, s, memo)
            if da != 0:
                terms.append(sp.Mul(*args[:i], da, *args[i + 1:]))
        result = sp.Add(*terms)
    elif e.is_Pow and not e.exp.has(s):
        base, power = e.args
        result = power * base ** (power - 1) * differentiate(base, s, memo)
    elif e.is_Function and len(e.args) == 1:
        result = e.fdiff(1) * differentiate(e.args[0], s, memo)
    else:
        result = e.diff(s)
    memo[e] = result
    return result


def _small(entries: Any, budget: int) -> bool:
    """Whether the expressions have at most ``budget`` nodes in all (cheap: stops early)."""
    count = 0
    for e in entries:
        for _ in sp.preorder_traversal(e):
            count += 1
            if count > budget:
                return False
    return True
