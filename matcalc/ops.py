"""The operation registry: one row per operation.

Each :class:`Op` holds, in one place, everything matcalc knows about an
operation: how it is written, its shape rule, its SymPy form (on NumPy object
arrays of SymPy expressions), its torch form (on float64 tensors), whether its
SymPy form stays a rational function of its operands, and the domain guard the
numeric sampler uses to stay away from poles and kinks. The two engines read the
same row, so they cannot drift apart; ``tests/test_ops.py`` checks that every
operation of the language (``docs/design.md`` §2) has every form exactly once.

All values are two-dimensional (a scalar is ``1 x 1``). Heavy libraries are
imported lazily: building the registry imports neither SymPy nor torch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import shapes as S
from ._lazy import sp, torch
from .conditioning import positive_determinant, well_conditioned
from .errors import ShapeError
from .shapes import Dim, Shape
from .symarrays import grid, map_array, scalar

PREC_ADD, PREC_MUL, PREC_UNARY, PREC_POW, PREC_POSTFIX, PREC_ATOM = 10, 20, 30, 40, 50, 100

#: the numeric sampler keeps points at least this far from poles and kinks
MARGIN = 1e-2
#: and matrices that are inverted (or whose determinant is taken) this well conditioned
MAX_CONDITION = 1e4

ShapeRule = Callable[[tuple[Shape, ...], tuple[str, ...], tuple[Dim, ...], "int | None"], Shape]


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    shape: ShapeRule
    sym: Callable[..., Any]
    num: Callable[..., Any]
    doc: str
    syntax: str = "call"  # call | infix | prefix | postfix
    symbol: str = ""
    precedence: int = PREC_ATOM
    right_assoc: bool = False
    dims: tuple[int, int] = (0, 0)  # how many dimension arguments (min, max)
    rational: bool = True
    guard: Callable[..., str | None] | None = None


REGISTRY: dict[str, Op] = {}


def register(op: Op) -> None:
    """Add ``op`` to :data:`REGISTRY`, once (``docs/design.md`` §7: what else a
    new operation needs)."""
    if op.name in REGISTRY:
        raise RuntimeError(f"operation {op.name!r} registered twice")
    REGISTRY[op.name] = op


# ---------------------------------------------------------------------------
# SymPy helpers: values are NumPy object arrays of SymPy expressions
# (built and mapped by :mod:`matcalc.symarrays`).


def _ew(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda a: map_array(fn, a)


def _s_matmul(a: Any, b: Any) -> Any:
    inner = a.shape[1]
    return grid(
        a.shape[0], b.shape[1], lambda i, j: sp.Add(*[a[i, k] * b[k, j] for k in range(inner)])
    )


#: up to this size determinants are expanded along rows (Laplace), which keeps
#: symbolic entries far smaller than general elimination does
LAPLACE_MAX = 4


def _laplace(rows: list[list[Any]]) -> Any:
    n = len(rows)
    if n == 1:
        return rows[0][0]
    if n == 2:
        return rows[0][0] * rows[1][1] - rows[0][1] * rows[1][0]
    terms = []
    for j, entry in enumerate(rows[0]):
        if entry != 0:
            minor = [r[:j] + r[j + 1:] for r in rows[1:]]
            terms.append((-1) ** j * entry * _laplace(minor))
    return sp.Add(*terms)


def s_det(a: Any) -> Any:
    """The determinant of a square object array of SymPy expressions."""
    rows = [list(r) for r in a.tolist()]
    if len(rows) <= LAPLACE_MAX:
        return _laplace(rows)
    return sp.Matrix(rows).det(method="berkowitz")


def s_inv(a: Any) -> Any:
    """The inverse, as adjugate / determinant."""
    rows = [list(r) for r in a.tolist()]
    n = len(rows)
    if n > LAPLACE_MAX:
        m = sp.Matrix(rows)
        det, adj = m.det(method="berkowitz"), m.adjugate(method="berkowitz")
        return grid(n, n, lambda i, j: adj[i, j] / det)
    det = _laplace(rows)

    def cofactor(i: int, j: int) -> Any:
        minor = [r[:j] + r[j + 1:] for k, r in enumerate(rows) if k != i]
        return (-1) ** (i + j) * (_laplace(minor) if minor else sp.S.One)

    return grid(n, n, lambda i, j: cofactor(j, i) / det)


def _s_diag(a: Any) -> Any:
    if a.shape[0] == 1 or a.shape[1] == 1:
        flat = a.reshape(-1)
        n = flat.shape[0]
        return grid(n, n, lambda i, j: flat[i] if i == j else sp.S.Zero)
    return grid(a.shape[0], 1, lambda i, j: a[i, i])


def _s_softmax(a: Any) -> Any:
    exps = map_array(sp.exp, a)
    total = sp.Add(*exps.flat)
    return map_array(lambda e: e / total, exps)


def _s_softmax_rows(a: Any) -> Any:
    exps = map_array(sp.exp, a)
    totals = [sp.Add(*exps[i, :]) for i in range(a.shape[0])]
    return grid(a.shape[0], a.shape[1], lambda i, j: exps[i, j] / totals[i])


def _s_kron(a: Any, b: Any) -> Any:
    p, q = b.shape
    return grid(a.shape[0] * p, a.shape[1] * q, lambda i, j: a[i // p, j // q] * b[i % p, j % q])


def _s_outer(a: Any, b: Any) -> Any:
    u, v = a.reshape(-1), b.reshape(-1)
    return grid(u.shape[0], v.shape[0], lambda i, j: u[i] * v[j])


@functools.cache
def sgn_function() -> Any:
    """``sign`` as SymPy sees it in matcalc: derivative 0, ``sign(u)**2 == 1``.

    matcalc's derivatives hold almost everywhere: away from the kinks of
    ``abs``, ``sign`` and ``relu`` (docs/design.md §3, the numeric sampler keeps
    away from them too). So ``abs(u) = u*sign(u)`` and
    ``relu(u) = u*(1 + sign(u))/2``, and the product rule gives the usual
    derivatives without Dirac deltas.
    """

    class sign(sp.Function):  # noqa: N801 - prints as sign(x)
        @classmethod
        def eval(cls, arg: Any) -> Any:
            if arg.is_zero:
                return sp.S.Zero
            if arg.is_extended_positive:
                return sp.S.One
            if arg.is_extended_negative:
                return sp.S.NegativeOne
            if arg.could_extract_minus_sign():
                return -cls(-arg)
            return None

        def fdiff(self, argindex: int = 1) -> Any:
            return sp.S.Zero

        def _eval_power(self, exponent: Any) -> Any:
            if exponent.is_Integer:
                return sp.S.One if exponent.is_even else self
            return None

        def _eval_is_real(self) -> bool:
            return True

    return sign


def _sgn(e: Any) -> Any:
    return sgn_function()(e)


TWIN_MARK = "~"


def twin(symbol: Any) -> Any:
    """The constant twin of a symbol: same value, no derivative (``detach``)."""
    return sp.Symbol(symbol.name + TWIN_MARK, **symbol.assumptions0)


def _s_detach(a: Any) -> Any:
    free = set()
    for e in a.flat:
        free |= e.free_symbols
    mapping = {s: twin(s) for s in free if not s.name.endswith(TWIN_MARK)}
    return map_array(lambda e: e.xreplace(mapping), a)


# ---------------------------------------------------------------------------
# torch helpers: values are float64 tensors.


def _t_scalar(t: Any) -> Any:
    return t.reshape(1, 1)


def _t_det(a: Any) -> Any:
    """The determinant; in float32 (the comparison's rounding estimate) from the
    logarithms of the pivots, whose product underflows: float32's det of a 360 x
    360 orthogonal matrix came out as -784 or 0 (adversary 3, H7), which would
    have passed for an enormous rounding error."""
    if a.dtype != torch.float32:
        return torch.linalg.det(a)
    sign, logabs = torch.linalg.slogdet(a)
    return sign * torch.exp(logabs)


def _t_diag(a: Any) -> Any:
    if a.shape[0] == 1 or a.shape[1] == 1:
        return torch.diag(a.reshape(-1))
    return torch.diagonal(a).reshape(-1, 1)


def _t_full(value: float) -> Callable[..., Any]:
    return lambda m, n=1: torch.full((m, n), value, dtype=torch.float64)


def _t_matmul(a: Any, b: Any) -> Any:
    """``a @ b``, with a product by a column (or of a row) as ``torch.mv``: the same
    numbers, but a backward pass that torch batches (under ``torch.func.vmap``,
    taking a Jacobian row by row) into one matrix product rather than one per row."""
    if b.shape[1] == 1:  # (a reshape, not an index: its backward is a view, not a copy)
        return torch.mv(a, b.reshape(-1)).unsqueeze(1)
    if a.shape[0] == 1:
        return torch.mv(b.mT, a.reshape(-1)).unsqueeze(0)
    return a @ b


# Domain guards: given the operands at a sampled point, say what is wrong.


def _g_positive(what: str) -> Callable[[Any], str | None]:
    return lambda a: None if a.min().item() > MARGIN else f"{what} of a value <= {MARGIN}"


def _g_nonzero(what: str) -> Callable[[Any], str | None]:
    return lambda a: None if a.abs().min().item() > MARGIN else f"{what} within {MARGIN} of 0"


def _g_conditioned(a: Any) -> str | None:
    if not well_conditioned(a, MAX_CONDITION):  # also False for a singular matrix
        return f"a matrix with condition number above {MAX_CONDITION:g}"
    return None


def _g_logdet(a: Any) -> str | None:
    if not positive_determinant(a, MAX_CONDITION):
        return "logdet of a matrix with non-positive determinant"
    return _g_conditioned(a)


def _g_divide(a: Any, b: Any) -> str | None:
    return _g_nonzero("division by a value")(b)


def _g_pow(a: Any, b: Any) -> str | None:
    exponent = b.item()
    if float(exponent).is_integer():
        return None if exponent >= 0 else _g_nonzero("a negative power of a value")(a)
    return _g_positive("a fractional power")(a)


def _g_norm(a: Any) -> str | None:
    return None if torch.linalg.norm(a).item() > MARGIN else "norm of a near-zero value"


# ---------------------------------------------------------------------------
# Shape-rule builders


def _same(shapes, texts, dims, pos):  # noqa: ANN001, ANN202 - shape-rule signature
    return shapes[0]


def _same_2d(what: str) -> ShapeRule:
    def rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
        S.require_2d(shapes[0], texts[0], what, pos)
        return shapes[0]

    return rule


def _to_scalar(what: str) -> ShapeRule:
    def rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
        S.require_2d(shapes[0], texts[0], what, pos)
        return S.SCALAR

    return rule


def _square_to(result: str) -> Callable[[str], ShapeRule]:
    def build(fn: str) -> ShapeRule:
        def rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
            S.square(shapes[0], texts[0], fn, pos)
            return S.SCALAR if result == "scalar" else shapes[0]

        return rule

    return build


def _binary(symbol: str) -> ShapeRule:
    def rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
        return S.elementwise_binary(symbol, shapes[0], shapes[1], texts[0], texts[1], pos)

    return rule


def _pow_rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
    S.require_2d(shapes[0], texts[0], "'**'", pos)
    S.scalar_exponent(shapes[1], texts[1], pos)
    return shapes[0]


def _matmul_rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
    return S.matmul(shapes[0], shapes[1], texts[0], texts[1], pos)


def _transpose_rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
    return S.transpose(shapes[0], texts[0], pos)


def _dot_rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
    n = S.vector(shapes[0], texts[0], "dot", pos)
    m = S.vector(shapes[1], texts[1], "dot", pos)
    if n != m:
        raise ShapeError(
            f"dot({texts[0]}, {texts[1]}): {texts[0]} is {S.fmt(shapes[0])} and "
            f"{texts[1]} is {S.fmt(shapes[1])}; the lengths {n} and {m} differ",
            position=pos,
            token="dot",
        )
    return S.SCALAR


def _vector_same(fn: str) -> ShapeRule:
    def rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
        S.vector(shapes[0], texts[0], fn, pos)
        return shapes[0]

    return rule


def _diag_rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
    shape = shapes[0]
    S.require_2d(shape, texts[0], "diag()", pos)
    if S.kind(shape) in ("column", "row", "scalar"):
        n = S.length(shape)
        return (n, n)
    if shape[0] == shape[1]:
        return S.column(shape[0])
    raise ShapeError(
        f"diag({texts[0]}): {texts[0]} is {S.fmt(shape)}; diag takes a vector "
        "(to build a diagonal matrix) or a square matrix (to take its diagonal)",
        position=pos,
        token="diag",
    )


def _eye_rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
    return (dims[0], dims[0])


def _full_rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
    return (dims[0], dims[1]) if len(dims) == 2 else S.column(dims[0])


def _vec_rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
    S.require_2d(shapes[0], texts[0], "vec()", pos)
    return S.column(S.numel(shapes[0]))


def _kron_rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
    (a, b), (ta, tb) = shapes, texts
    S.require_2d(a, ta, "kron()", pos)
    S.require_2d(b, tb, "kron()", pos)
    return (a[0] * b[0], a[1] * b[1])


def _outer_rule(shapes, texts, dims, pos):  # noqa: ANN001, ANN202
    return (S.vector(shapes[0], texts[0], "outer", pos), S.vector(shapes[1], texts[1], "outer", pos))


# ---------------------------------------------------------------------------
# The rows.


def _infix(name: str, symbol: str, prec: int, rule: ShapeRule, sym: Callable, num: Callable,
           doc: str, **kw: Any) -> None:
    register(Op(name, 2, rule, sym, num, doc, syntax="infix", symbol=symbol, precedence=prec, **kw))


_infix("add", "+", PREC_ADD, _binary("+"), lambda a, b: a + b, lambda a, b: a + b,
       "sum; equal shapes, or a scalar that broadcasts")
_infix("sub", "-", PREC_ADD, _binary("-"), lambda a, b: a - b, lambda a, b: a - b,
       "difference; equal shapes, or a scalar that broadcasts")
_infix("mul", "*", PREC_MUL, _binary("*"), lambda a, b: a * b, lambda a, b: a * b,
       "elementwise (Hadamard) product, or scaling by a scalar")
_infix("div", "/", PREC_MUL, _binary("/"), lambda a, b: a / b, lambda a, b: a / b,
       "elementwise quotient, or division by a scalar", guard=_g_divide)
_infix("matmul", "@", PREC_MUL, _matmul_rule, _s_matmul, _t_matmul, "matrix product")
_infix("pow", "**", PREC_POW, _pow_rule, lambda a, b: a ** b, lambda a, b: a ** b,
       "elementwise power by a scalar exponent", right_assoc=True, guard=_g_pow)
register(Op("neg", 1, _same, lambda a: -a, lambda a: -a, "negation",
             syntax="prefix", symbol="-", precedence=PREC_UNARY))
register(Op("transpose", 1, _transpose_rule, lambda a: a.T, lambda a: a.T, "transpose",
             syntax="postfix", symbol=".T", precedence=PREC_POSTFIX))

register(Op("trace", 1, _square_to("scalar")("trace"),
             lambda a: scalar(sp.Add(*[a[i, i] for i in range(a.shape[0])])),
             lambda a: _t_scalar(torch.trace(a)), "trace of a square matrix"))
register(Op("det", 1, _square_to("scalar")("det"), lambda a: scalar(s_det(a)),
             lambda a: _t_scalar(_t_det(a)), "determinant",
             guard=_g_conditioned))
register(Op("inv", 1, _square_to("same")("inv"), s_inv, lambda a: torch.linalg.inv(a),
             "matrix inverse", guard=_g_conditioned))
register(Op("logdet", 1, _square_to("scalar")("logdet"), lambda a: scalar(sp.log(s_det(a))),
             lambda a: _t_scalar(torch.logdet(a)), "log of the determinant (det > 0)",
             rational=False, guard=_g_logdet))
register(Op("norm", 1, _to_scalar("norm()"),
             lambda a: scalar(sp.sqrt(sp.Add(*[e**2 for e in a.flat]))),
             lambda a: _t_scalar(torch.linalg.norm(a)),
             "2-norm of a vector, Frobenius norm of a matrix", rational=False, guard=_g_norm))
register(Op("norm1", 1, _to_scalar("norm1()"),
             lambda a: scalar(sp.Add(*[e * _sgn(e) for e in a.flat])),
             lambda a: _t_scalar(a.abs().sum()), "L1 norm (sum of absolute values)",
             rational=False, guard=_g_nonzero("norm1 of a value")))
register(Op("sum", 1, _to_scalar("sum()"), lambda a: scalar(sp.Add(*a.flat)),
             lambda a: _t_scalar(a.sum()), "sum of all entries"))
register(Op("mean", 1, _to_scalar("mean()"), lambda a: scalar(sp.Add(*a.flat) / a.size),
             lambda a: _t_scalar(a.mean()), "mean of all entries"))
register(Op("dot", 2, _dot_rule,
             lambda a, b: scalar(sp.Add(*[u * v for u, v in zip(a.flat, b.flat)])),
             lambda a, b: _t_scalar((a.reshape(-1) * b.reshape(-1)).sum()),
             "inner product of two vectors of equal length"))

register(Op("exp", 1, _same_2d("exp()"), _ew(lambda e: sp.exp(e)), lambda a: torch.exp(a),
             "elementwise exponential", rational=False))
register(Op("log", 1, _same_2d("log()"), _ew(lambda e: sp.log(e)), lambda a: torch.log(a),
             "elementwise natural logarithm", rational=False, guard=_g_positive("log")))
register(Op("sin", 1, _same_2d("sin()"), _ew(lambda e: sp.sin(e)), lambda a: torch.sin(a),
             "elementwise sine", rational=False))
register(Op("cos", 1, _same_2d("cos()"), _ew(lambda e: sp.cos(e)), lambda a: torch.cos(a),
             "elementwise cosine", rational=False))
register(Op("tanh", 1, _same_2d("tanh()"), _ew(lambda e: sp.tanh(e)), lambda a: torch.tanh(a),
             "elementwise hyperbolic tangent", rational=False))
register(Op("sqrt", 1, _same_2d("sqrt()"), _ew(lambda e: sp.sqrt(e)), lambda a: torch.sqrt(a),
             "elementwise square root", rational=False, guard=_g_positive("sqrt")))
register(Op("abs", 1, _same_2d("abs()"), _ew(lambda e: e * _sgn(e)), lambda a: torch.abs(a),
             "elementwise absolute value", rational=False, guard=_g_nonzero("abs")))
register(Op("sign", 1, _same_2d("sign()"), _ew(_sgn), lambda a: torch.sign(a),
             "elementwise sign (derivative 0 away from 0)", rational=False,
             guard=_g_nonzero("sign")))
register(Op("sigmoid", 1, _same_2d("sigmoid()"), _ew(lambda e: 1 / (1 + sp.exp(-e))),
             lambda a: torch.sigmoid(a), "elementwise logistic function 1/(1+exp(-x))",
             rational=False))
register(Op("relu", 1, _same_2d("relu()"), _ew(lambda e: e * (1 + _sgn(e)) / 2),
             lambda a: torch.relu(a), "elementwise max(x, 0)", rational=False,
             guard=_g_nonzero("relu")))
register(Op("softmax", 1, _vector_same("softmax"), _s_softmax,
             lambda a: torch.softmax(a.reshape(-1), 0).reshape(a.shape),
             "softmax of a vector", rational=False))
register(Op("softmax_rows", 1, _same_2d("softmax_rows()"), _s_softmax_rows,
             lambda a: torch.softmax(a, 1), "softmax of each row of a matrix (each row sums "
             "to 1), as in attention: softmax_rows(Q @ K.T) @ V", rational=False))
register(Op("logsumexp", 1, _to_scalar("logsumexp()"),
             lambda a: scalar(sp.log(sp.Add(*[sp.exp(e) for e in a.flat]))),
             lambda a: _t_scalar(torch.logsumexp(a.reshape(-1), 0)),
             "log of the sum of the exponentials of all entries", rational=False))

register(Op("diag", 1, _diag_rule, _s_diag, _t_diag,
             "diagonal matrix from a vector; diagonal (a column) of a square matrix"))
register(Op("eye", 0, _eye_rule,
             lambda n: grid(n, n, lambda i, j: sp.S.One if i == j else sp.S.Zero),
             lambda n: torch.eye(n, dtype=torch.float64), "identity matrix eye(n)", dims=(1, 1)))
register(Op("ones", 0, _full_rule, lambda m, n=1: grid(m, n, lambda i, j: sp.S.One),
             _t_full(1.0), "ones(n): a column of ones; ones(m, n): a matrix", dims=(1, 2)))
register(Op("zeros", 0, _full_rule, lambda m, n=1: grid(m, n, lambda i, j: sp.S.Zero),
             _t_full(0.0), "zeros(n): a column of zeros; zeros(m, n): a matrix", dims=(1, 2)))
register(Op("vec", 1, _vec_rule, lambda a: a.T.reshape(-1, 1), lambda a: a.T.reshape(-1, 1),
             "stack the columns into one column (column-major)"))
register(Op("kron", 2, _kron_rule, _s_kron, lambda a, b: torch.kron(a.contiguous(), b.contiguous()),
             "Kronecker product"))
register(Op("outer", 2, _outer_rule, _s_outer,
             lambda a, b: a.reshape(-1, 1) @ b.reshape(1, -1), "outer product u v^T of vectors"))
register(Op("detach", 1, _same, _s_detach, lambda a: a.detach(),
             "the same value with no derivative (torch's .detach())"))

#: infix symbol -> operation name
INFIX = {op.symbol: op.name for op in REGISTRY.values() if op.syntax == "infix"}
#: names that may be called as functions
FUNCTIONS = frozenset(name for name, op in REGISTRY.items() if op.syntax == "call")
