"""Building and simplifying expression trees into the forms people write.

:class:`Builder` has one constructor per operation that simplifies locally as
it builds (``None`` stands for an exact zero): ``1 * X`` is ``X``, ``eye(n) @ X``
is ``X``, a 1x1 factor in ``@`` or ``kron`` becomes a scaling, transposes are
pushed through products and sums (``(A @ x).T`` is ``x.T @ A.T``) but not
into functions (``exp(A @ x).T`` stays), and a symmetric variable is its own
transpose. :meth:`Builder.tidy` then normalises sums: like terms are
collected (``A @ x + A @ x`` is ``2 * A @ x``), a common left or right factor
is pulled out (``A @ x + A.T @ x`` is ``(A + A.T) @ x``), and scalar factors
cancel (``det(X) / det(X)``).

Every rewrite preserves the value exactly; what ``derive`` returns is
verified by both engines anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

from . import expr as E
from . import ops as _ops
from .rewrites import distribute, hadamard, tokens
from .shapes import SCALAR, Dim, Shape, kind

Maybe = E.Expr | None


def is_const(node: Maybe, value: int | Fraction | None = None) -> bool:
    return isinstance(node, E.Const) and (value is None or node.value == value)


def is_scalar(node: E.Expr) -> bool:
    return node.shape == SCALAR


def is_op(node: Maybe, *ops: str) -> bool:
    return isinstance(node, E.Apply) and node.op in ops


def _is_identity(node: E.Expr) -> bool:
    return is_op(node, "eye") or (is_const(node, 1))


def _is_ones(node: E.Expr) -> bool:
    return is_op(node, "ones") or is_const(node, 1)


class Builder:
    """Simplifying constructors; ``symmetric`` names the variables equal to
    their transpose (symmetric, spd or diagonal). Without ``factoring`` sums
    keep one term per product-rule contribution."""

    def __init__(self, symmetric: Iterable[str] = (), factoring: bool = True) -> None:
        self.symmetric = frozenset(symmetric)
        self.factoring = factoring

    # -- constants

    def const(self, value: int | Fraction) -> E.Const:
        return E.const(value)

    def eye(self, n: Dim) -> E.Expr:
        return E.const(1) if n.is_unit else E.apply("eye", dims=(n,))

    def ones(self, shape: Shape) -> E.Expr:
        rows, cols = shape
        if rows.is_unit and cols.is_unit:
            return E.const(1)
        if cols.is_unit:
            return E.apply("ones", dims=(rows,))
        return E.apply("ones", dims=(rows, cols))

    def size(self, dim: Dim) -> E.Expr:
        out: E.Expr = E.const(dim.coeff)
        for name in dim.names:
            out = self.mul(out, E.Size(Dim.of(name)))
        return out

    # -- arithmetic

    def add(self, a: Maybe, b: Maybe) -> Maybe:
        if a is None:
            return b
        if b is None:
            return a
        if is_const(a) and is_const(b):
            return E.const(a.value + b.value)
        if is_op(b, "neg"):
            return self.sub(a, b.args[0])
        return E.apply("add", a, b)

    def sub(self, a: Maybe, b: Maybe) -> Maybe:
        if b is None:
            return a
        if a is None:
            return self.neg(b)
        if is_const(a) and is_const(b):
            return E.const(a.value - b.value)
        if is_op(b, "neg"):
            return self.add(a, b.args[0])
        return E.apply("sub", a, b)

    def neg(self, a: Maybe) -> Maybe:
        if a is None:
            return None
        if is_const(a):
            return E.const(-a.value)
        if is_op(a, "neg"):
            return a.args[0]
        if is_op(a, "mul") and is_const(a.args[0]):
            return self.mul(E.const(-a.args[0].value), a.args[1])
        if is_op(a, "sub"):
            return self.sub(a.args[1], a.args[0])
        return E.apply("neg", a)

    def mul(self, a: Maybe, b: Maybe) -> Maybe:
        """Elementwise product, or scaling when one side is a scalar."""
        if a is None or b is None:
            return None
        if is_const(a, 0) or is_const(b, 0):
            return None
        if is_const(a) and is_const(b):
            return E.const(a.value * b.value)
        if is_const(b) or (is_scalar(b) and not is_scalar(a)):
            a, b = b, a  # scalars first
        if is_const(a, 1) or (_is_ones(a) and a.shape == b.shape):
            return b
        if is_const(a, -1):
            return self.neg(b)
        if is_op(a, "neg"):
            return self.neg(self.mul(a.args[0], b))
        if is_op(b, "neg"):
            return self.neg(self.mul(a, b.args[0]))
        if is_const(a) and is_op(b, "mul") and is_const(b.args[0]):
            return self.mul(E.const(a.value * b.args[0].value), b.args[1])
        if is_scalar(a) and is_op(b, "mul") and is_const(b.args[0]) and not is_const(a):
            return self.mul(b.args[0], self.mul(a, b.args[1]))
        if is_const(a) and is_op(b, "div") and is_const(b.args[0]):
            return self.div(E.const(a.value * b.args[0].value), b.args[1])
        return E.apply("mul", a, b)

    def div(self, a: Maybe, b: E.Expr) -> Maybe:
        if a is None:
            return None
        if is_const(b):
            return self.mul(E.const(1 / b.value), a)
        if is_op(a, "neg"):
            return self.neg(self.div(a.args[0], b))
        if is_op(a, "mul") and is_const(a.args[0]) and not is_const(a.args[0], 1):
            return self.mul(a.args[0], self.div(a.args[1], b))
        return E.apply("div", a, b)

    def pow(self, a: E.Expr, p: E.Expr) -> E.Expr:
        if is_const(p, 1):
            return a
        if is_const(p, 0):
            return self.ones(a.shape)
        return E.apply("pow", a, p)

    def matmul(self, a: Maybe, b: Maybe) -> Maybe:
        if a is None or b is None:
            return None
        if _is_identity(a) and not is_const(a):
            return b
        if _is_identity(b) and not is_const(b):
            return a
        if is_scalar(a):
            return self.mul(a, b)
        if is_scalar(b):
            return self.mul(b, a)
        if is_op(a, "mul") and is_scalar(a.args[0]):
            return self.mul(a.args[0], self.matmul(a.args[1], b))
        if is_op(b, "mul") and is_scalar(b.args[0]):
            return self.mul(b.args[0], self.matmul(a, b.args[1]))
        if is_op(a, "neg"):
            return self.neg(self.matmul(a.args[0], b))
        if is_op(b, "neg"):
            return self.neg(self.matmul(a, b.args[0]))
        if is_op(a, "div") and is_scalar(a.args[1]):
            return self.div(self.matmul(a.args[0], b), a.args[1])
        if is_op(b, "div") and is_scalar(b.args[1]):
            return self.div(self.matmul(a, b.args[0]), b.args[1])
        if is_op(a, "ones") and is_op(b, "ones"):  # rewrites: ones-product
            return self.mul(self.size(a.shape[1]), self.ones((a.shape[0], b.shape[1])))
        if is_op(a, "diag") and is_op(b, "diag") and a.args[0].shape[1].is_unit \
                and b.args[0].shape[1].is_unit:  # rewrites: diag-product (of two columns)
            return self.call("diag", hadamard(self, self.mul(a.args[0], b.args[0])))
        if is_op(a, "kron") and is_op(b, "kron"):
            (p, q), (r, t) = a.args, b.args
            if p.shape[1] == r.shape[0] and q.shape[1] == t.shape[0]:  # mixed product
                return self.kron(self.matmul(p, r), self.matmul(q, t))
        return E.apply("matmul", a, b)

    def kron(self, a: Maybe, b: Maybe) -> Maybe:
        if a is None or b is None:
            return None
        if is_scalar(a):
            return self.mul(a, b)
        if is_scalar(b):
            return self.mul(b, a)
        return E.apply("kron", a, b)

    def transpose(self, a: Maybe) -> Maybe:
        if a is None or is_scalar(a):
            return a
        if isinstance(a, E.Var) and a.name in self.symmetric:
            return a
        if isinstance(a, E.Apply):
            op, args = a.op, a.args
            if op == "transpose":
                return args[0]
            if op in ("eye", "diag") and kind(a.shape) == "matrix":
                return a
            if op == "matmul":
                return self.matmul(self.transpose(args[1]), self.transpose(args[0]))
            if op in ("add", "sub"):
                left, right = self.transpose(args[0]), self.transpose(args[1])
                return self.add(left, right) if op == "add" else self.sub(left, right)
            if op == "neg":
                return self.neg(self.transpose(args[0]))
            if op == "mul":
                return self.mul(self.transpose(args[0]), self.transpose(args[1]))
            if op == "div" and is_scalar(args[1]):
                return self.div(self.transpose(args[0]), args[1])
            if op == "kron":
                return self.kron(self.transpose(args[0]), self.transpose(args[1]))
            if op == "inv" and self.is_symmetric(args[0]):
                return a
            if op in ("ones", "zeros"):
                flipped = (a.shape[1], a.shape[0])
                return self.ones(flipped) if op == "ones" else self.zero(flipped)
        return E.apply("transpose", a)

    def is_symmetric(self, a: E.Expr) -> bool:
        if isinstance(a, E.Var):
            return a.name in self.symmetric
        if is_op(a, "eye", "diag"):
            return True
        if is_op(a, "inv"):
            return self.is_symmetric(a.args[0])
        if is_op(a, "add", "sub"):
            return all(self.is_symmetric(x) for x in a.args)
        if is_op(a, "mul") and is_scalar(a.args[0]):
            return self.is_symmetric(a.args[1])
        return False

    def vec(self, a: Maybe) -> Maybe:
        """vec(a) as a column: a column is its own vec, a row's is its transpose."""
        if a is None:
            return None
        k = kind(a.shape) if len(a.shape) == 2 else "tensor"
        if k in ("scalar", "column"):
            return a
        if k == "row":
            return self.transpose(a)
        return E.apply("vec", a)

    def column(self, a: E.Expr) -> E.Expr:
        return self.transpose(a) if kind(a.shape) == "row" else a

    def like(self, a: Maybe, shape: Shape) -> Maybe:
        """``a`` in ``shape``, transposing a vector if needed."""
        if a is None or a.shape == shape:
            return a
        if len(a.shape) == 2 and (a.shape[1], a.shape[0]) == shape:
            return self.transpose(a)
        raise AssertionError(f"cannot shape {E.to_text(a)} {a.shape} as {shape}")

    def call(self, op: str, *args: E.Expr) -> E.Expr:
        return E.apply(op, *args)

    # -- identities applied before differentiating

    def expand_identities(self, node: E.Expr) -> E.Expr:
        """Rewrite ``trace(kron(A, B))`` as ``trace(A) * trace(B)`` (A, B square),
        everywhere in the tree, so that the rules of calculus apply."""
        if not isinstance(node, E.Apply):
            return node
        args = tuple(self.expand_identities(a) for a in node.args)
        if node.op == "trace" and is_op(args[0], "kron"):
            a, b = args[0].args
            if a.shape[0] == a.shape[1] and b.shape[0] == b.shape[1]:
                return self.mul(E.apply("trace", a), E.apply("trace", b))
        return E.Apply(node.op, args, node.shape, node.dims, node.pos)

    # -- normal forms of sums

    def tidy(self, node: Maybe) -> Maybe:
        """Bottom-up: collect like terms, factor common matmul factors, cancel
        scalar factors."""
        if node is None or not isinstance(node, E.Apply):
            return node
        args = tuple(self.tidy(a) for a in node.args)
        if node.op in ("add", "sub", "neg"):
            rebuilt = {"add": lambda: self.add(*args), "sub": lambda: self.sub(*args),
                       "neg": lambda: self.neg(*args)}[node.op]()
            return self._smaller(self._tidy_sum(rebuilt))
        if node.op == "mul":
            return self._smaller(hadamard(self, self.mul(*args)))
        if node.op == "div":
            if args[1] is None:  # a division by an exact zero stays as written
                return E.apply("div", self.zero_or(args[0], node.args[0].shape),
                               self.zero(node.args[1].shape))
            return self._smaller(hadamard(self, self.div(*args)))
        if node.op == "matmul":  # re-associate to the left: A @ B @ C
            return _rebuild(self, _chain(self.matmul(*args)))
        if node.op == "transpose":
            return self.transpose(args[0])
        if node.op == "kron":
            return self.kron(*args)
        if node.op in _ZERO_AT_ZERO and any(a is None for a in args):
            return None  # f(0) = 0: norm, sum, dot, trace, sin, relu, ...
        if node.op == "sum":
            return self._sum(args[0])
        if node.op == "dot":  # rewrites: dot-cancel
            u, v = args
            product = hadamard(self, self.mul(u, self.like(v, u.shape)))
            if product is None:
                return None
            if E.size(product) < E.size(u) + E.size(v):
                return self._sum(product)
        # any other operation of an exact zero: spell the zero out
        args = tuple(self.zero_or(a, old.shape) for a, old in zip(args, node.args))
        return E.apply(node.op, *args, dims=node.dims, pos=node.pos)

    def _smaller(self, node: Maybe) -> Maybe:
        """``node`` or, when it is smaller, its products multiplied out (rewrites:
        distribute)."""
        if not is_op(node, "mul", "div", "neg", "add", "sub"):
            return node
        expanded = self._tidy_sum(distribute(self, node))
        if expanded is None or E.size(expanded) < E.size(node):
            return expanded
        return node

    def _sum(self, a: E.Expr) -> Maybe:
        """``sum(a)``, with scalar factors and signs taken out (rewrites: sum-linear)
        and ``sum(eye(n) * X)`` written ``trace(X)`` (rewrites: trace)."""
        if is_op(a, "neg"):
            return self.neg(self._sum(a.args[0]))
        if is_op(a, "mul") and is_scalar(a.args[0]):
            return self.mul(a.args[0], self._sum(a.args[1]))
        if is_op(a, "div") and is_scalar(a.args[1]):
            return self.div(self._sum(a.args[0]), a.args[1])
        if is_op(a, "mul") and (is_op(a.args[0], "eye") or is_op(a.args[1], "eye")):
            left, right = a.args
            return self.call("trace", right if is_op(left, "eye") else left)
        if is_op(a, "ones"):
            rows, cols = a.shape
            return self.size(rows * cols)
        return self.call("sum", a)

    def zero(self, shape: Shape) -> E.Expr:
        """An explicit zero of ``shape``."""
        rows, cols = shape
        if rows.is_unit and cols.is_unit:
            return E.const(0)
        return E.apply("zeros", dims=(rows,) if cols.is_unit else (rows, cols))

    def zero_or(self, node: Maybe, shape: Shape) -> E.Expr:
        return self.zero(shape) if node is None else node

    def _tidy_sum(self, node: Maybe) -> Maybe:
        if node is None:
            return None
        terms = sum_terms(node)
        collected: dict[E.Expr, Fraction] = {}
        full = any(t.shape == node.shape and not is_op(t, "ones") for _, t in terms)
        for coef, term in terms:
            if full and is_op(term, "ones") and term.shape == node.shape:
                term = E.const(1)  # rewrites: ones-in-sum (x + ones(n) is x + 1)
            if is_const(term):
                coef, term = coef * term.value, E.const(1)
            collected[term] = collected.get(term, Fraction(0)) + coef
        merged = [(c, t) for t, c in collected.items() if c != 0]
        if self.factoring:
            merged = self._factor(merged)
        merged.sort(key=lambda ct: (ct[0] < 0, is_const(ct[1]), _transposes(ct[1]),
                                    E.to_text(ct[1])))
        out: Maybe = None
        for coef, term in merged:
            scaled = self.mul(E.const(abs(coef)), term)
            out = (self.add(out, scaled) if coef > 0 else self.sub(out, scaled)) \
                if out is not None else self.mul(E.const(coef), term)
        return out

    def _factor(self, terms: list[tuple[Fraction, E.Expr]]) -> list[tuple[Fraction, E.Expr]]:
        """Pull out a factor shared by two or more terms: L @ R1 + L @ R2 = L @ (R1 + R2)."""
        for side in ("right", "left"):
            groups: dict[E.Expr, list[int]] = {}
            for i, (_, term) in enumerate(terms):
                chain = _chain(term)
                if len(chain) >= 2:
                    groups.setdefault(chain[-1] if side == "right" else chain[0], []).append(i)
            for factor, members in groups.items():
                if len(members) < 2:
                    continue
                rest: Maybe = None
                for i in members:
                    coef, term = terms[i]
                    chain = _chain(term)
                    remainder = _rebuild(self, chain[:-1] if side == "right" else chain[1:])
                    rest = self.add(rest, self.mul(E.const(coef), remainder))
                inner = self._tidy_sum(rest)
                if inner is None:
                    continue
                product = (self.matmul(inner, factor) if side == "right"
                           else self.matmul(factor, inner))
                kept = [t for i, t in enumerate(terms) if i not in members]
                return self._factor(kept + [(Fraction(1), product)])
        return terms


#: operations that give an exact zero when an operand is an exact zero
_ZERO_AT_ZERO = frozenset({"norm", "norm1", "sum", "mean", "dot", "trace", "diag", "vec",
                           "outer", "det", "abs", "sign", "relu", "sin", "tanh", "sqrt",
                           "detach"})


def present(node: Maybe, flip: bool = True, nested: bool = False) -> Maybe:
    """The form people write: a constant factor or a sign of a matrix product
    moves onto its first factor, so ``2 * (x.T @ A)`` prints ``2 * x.T @ A``;
    a sum or product whose transpose is shorter is written as that transpose
    (``(x - mu).T``, not ``x.T - mu.T``), and a factor common to every term of a
    sum is taken out when that is shorter (rewrites: scalar-onto-first,
    shorter-transpose, common-factor)."""
    if not isinstance(node, E.Apply):
        return node
    free = node.op in ("neg", "add", "sub") or (node.op == "mul" and is_scalar(node.args[0]))
    args = tuple(present(a, flip, nested=not (free and (i == 1 or node.op != "mul")))
                 for i, a in enumerate(node.args))
    if node.op == "mul" and is_scalar(args[0]) and is_op(args[1], "matmul"):
        out = _onto_first(args[1], lambda first: E.apply("mul", args[0], first))
    elif node.op == "neg":
        out = _negate_first(args[0])
    elif node.op == "mul" and is_const(args[0]) and is_op(args[1], "mul", "div"):
        out = _scale_first(args[0], args[1])
    else:
        out = E.Apply(node.op, args, node.shape, node.dims, node.pos)
    if not flip or not is_op(node, "add", "sub", "matmul"):
        return out
    candidates = [out]
    flipped = Builder().transpose(node)
    if is_op(flipped, "matmul"):  # left-associated, as the chain was
        flipped = _rebuild(Builder(), _chain(flipped))
    if not is_op(flipped, "transpose"):
        candidates.append(E.apply("transpose", present(flipped, flip=False)))
    if is_op(node, "add", "sub"):
        candidates.extend(_common_factor(node))
    return min(candidates, key=lambda c: _length(c, nested))


def _length(node: E.Expr, nested: bool) -> tuple[int, int, int]:
    """Tokens (with the parentheses it needs inside a product, when nested),
    then numbers, then transposes: the shortest form reads best."""
    words = tokens(E.to_text(node))
    wrap = 2 if nested and E.precedence(node) <= _ops.PREC_MUL else 0
    return (len(words) + wrap, sum(w[0].isdigit() for w in words), words.count(".T"))


def _common_factor(node: E.Expr) -> list[E.Expr]:
    terms = sum_terms(node)
    sizes = {abs(c) for c, _ in terms}
    if len(terms) < 2 or len(sizes) != 1:
        return []
    (c,) = sizes
    if c == 1 or (c.denominator != 1 and c.numerator != 1):
        return []
    b = Builder()
    inner: Maybe = None
    for coef, term in terms:
        inner = b.add(inner, term) if coef > 0 else b.sub(inner, term)
    inner = present(inner)
    if c.denominator == 1:
        return [E.apply("mul", E.const(c), inner)]
    return [E.apply("div", inner, E.const(c.denominator))]


def _scale_first(c: E.Const, node: E.Expr) -> E.Expr:
    """``2 * (s * x)`` written ``2 * s * x``."""
    if is_op(node, "mul", "div"):
        return E.apply(node.op, _scale_first(c, node.args[0]), node.args[1])
    if is_op(node, "matmul"):
        return _onto_first(node, lambda first: _scale_first(c, first))
    return E.apply("mul", c, node)


def _negate_first(node: E.Expr) -> E.Expr:
    """``-(s * x)`` written ``-s * x``: the sign goes onto the first factor."""
    if is_const(node):
        return E.const(-node.value)
    if is_op(node, "matmul"):
        return _onto_first(node, _negate_first)
    if is_op(node, "mul", "div"):
        return E.apply(node.op, _negate_first(node.args[0]), node.args[1])
    return E.apply("neg", node)


def _onto_first(chain: E.Apply, wrap: object) -> E.Expr:
    left, right = chain.args
    if is_op(left, "matmul"):
        return E.apply("matmul", _onto_first(left, wrap), right)
    return E.apply("matmul", wrap(left), right)


def sum_terms(node: E.Expr, sign: Fraction = Fraction(1)) -> list[tuple[Fraction, E.Expr]]:
    """``node`` as a sum of (coefficient, term) pairs."""
    if is_op(node, "add"):
        return sum_terms(node.args[0], sign) + sum_terms(node.args[1], sign)
    if is_op(node, "sub"):
        return sum_terms(node.args[0], sign) + sum_terms(node.args[1], -sign)
    if is_op(node, "neg"):
        return sum_terms(node.args[0], -sign)
    if is_op(node, "mul") and is_const(node.args[0]):
        return [(sign * c, t) for c, t in sum_terms(node.args[1], node.args[0].value)]
    return [(sign, node)]


def _chain(node: E.Expr) -> list[E.Expr]:
    if is_op(node, "matmul"):
        return _chain(node.args[0]) + _chain(node.args[1])
    return [node]


def _rebuild(builder: Builder, chain: Sequence[E.Expr]) -> E.Expr:
    out = chain[0]
    for factor in chain[1:]:
        out = builder.matmul(out, factor)
    return out


def _transposes(node: E.Expr) -> int:
    return sum(1 for n in E.walk(node) if is_op(n, "transpose"))
