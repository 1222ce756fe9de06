"""Dimension-generic derivatives in matrix notation: the rules of matrix calculus.

Three modes, each a table with one row per operation:

* **gradient** (reverse mode) for a scalar ``f``: the adjoint ``Ȳ = ∂f/∂Y``
  (the shape of ``Y``) flows from ``f`` to the variable, e.g. for ``Y = A @ B``
  the operands receive ``Ȳ @ B.T`` and ``A.T @ Ȳ``. The result is the gradient,
  the denominator-layout derivative;
* **tangent** (forward mode) for a scalar variable ``s``: ``Ẏ = ∂Y/∂s`` (the
  shape of ``Y``), e.g. ``Ẏ = Ȧ @ B + A @ Ḃ`` and ``d inv(A) = -inv(A) @ Ȧ @ inv(A)``;
* **jacobian** (forward mode) for everything else: ``J = ∂vec(Y)/∂vec(w)``,
  ``numel(Y) x numel(w)``, with Kronecker products: ``vec(A @ B)`` gives
  ``kron(B.T, eye) @ J_A + kron(eye, A) @ J_B``. For vectors it is the
  numerator-layout Jacobian.

``None`` is an exact zero. An operation a mode has no rule for raises
:class:`NoClosedForm`; ``derive`` then reports the componentwise derivative.
"""

from __future__ import annotations

from collections.abc import Callable

from . import expr as E
from .shapes import SCALAR, kind, numel
from .simplify import Builder, Maybe


class NoClosedForm(Exception):
    """No matrix-notation rule applies; the message says which operation."""


# Elementwise functions: g'(A), given A and Y = g(A).
ELEMENTWISE: dict[str, Callable[[Builder, E.Expr, E.Expr], Maybe]] = {
    "exp": lambda b, a, y: y,
    "log": lambda b, a, y: b.div(b.const(1), a),
    "sin": lambda b, a, y: b.call("cos", a),
    "cos": lambda b, a, y: b.neg(b.call("sin", a)),
    "tanh": lambda b, a, y: b.sub(b.const(1), b.pow(y, b.const(2))),
    "sqrt": lambda b, a, y: b.div(b.const(1), b.mul(b.const(2), y)),
    "abs": lambda b, a, y: b.call("sign", a),
    "sign": lambda b, a, y: None,
    "sigmoid": lambda b, a, y: b.mul(y, b.sub(b.const(1), y)),
    "relu": lambda b, a, y: b.div(b.add(b.call("sign", a), b.const(1)), b.const(2)),
}


class Calculus:
    """Derivatives with respect to one variable ``wrt``."""

    def __init__(self, wrt: E.Var, builder: Builder) -> None:
        self.wrt = wrt
        self.b = builder
        self._depends: dict[E.Expr, bool] = {}
        self._tangents: dict[E.Expr, Maybe] = {}
        self._jacobians: dict[E.Expr, Maybe] = {}

    def depends(self, node: E.Expr) -> bool:
        """Whether ``node`` varies with ``wrt`` (``detach`` stops it)."""
        if node in self._depends:
            return self._depends[node]
        if isinstance(node, E.Derivative):
            raise NoClosedForm("a derivative inside the expression")
        if isinstance(node, E.Var):
            result = node.name == self.wrt.name
        elif isinstance(node, E.Apply) and node.op != "detach":
            result = any(self.depends(a) for a in node.args)
        else:
            result = False
        self._depends[node] = result
        return result

    # ------------------------------------------------------------------
    # reverse mode

    def gradient(self, f: E.Expr) -> Maybe:
        """``∂f/∂wrt`` for scalar ``f``, shaped like ``wrt`` (denominator layout)."""
        if not self.depends(f):
            return None
        order = _topological(f, self.depends)
        adjoint: dict[E.Expr, Maybe] = {f: self.b.const(1)}
        for node in order:
            bar = adjoint.get(node)
            if bar is None or not isinstance(node, E.Apply):
                continue
            rule = REVERSE.get(node.op)
            if rule is None:
                raise NoClosedForm(f"no gradient rule for {node.op}()")
            for index, contribution in rule(self.b, node, bar):
                child = node.args[index]
                if self.depends(child) and contribution is not None:
                    adjoint[child] = self.b.add(adjoint.get(child), contribution)
        return adjoint.get(self.wrt)

    # ------------------------------------------------------------------
    # forward mode, scalar variable

    def tangent(self, node: E.Expr) -> Maybe:
        """``∂node/∂s`` for a scalar variable ``s``, shaped like ``node``."""
        if node in self._tangents:
            return self._tangents[node]
        if not self.depends(node):
            result = None
        elif isinstance(node, E.Var):
            result = self.b.const(1)
        else:
            rule = TANGENT.get(node.op)
            if rule is None:
                raise NoClosedForm(f"no tangent rule for {node.op}()")
            result = rule(self, node, [self.tangent(a) for a in node.args])
        self._tangents[node] = result
        return result

    # ------------------------------------------------------------------
    # forward mode, vec Jacobians

    def jacobian(self, node: E.Expr) -> Maybe:
        """``∂vec(node)/∂vec(wrt)``: ``numel(node) x numel(wrt)``."""
        if node in self._jacobians:
            return self._jacobians[node]
        if not self.depends(node):
            result = None
        elif isinstance(node, E.Var):
            result = self.b.eye(numel(node.shape))
        else:
            rule = JACOBIAN.get(node.op)
            if rule is None:
                raise NoClosedForm(f"no Jacobian rule for {node.op}()")
            result = rule(self, node, [self.jacobian(a) for a in node.args])
        self._jacobians[node] = result
        return result

    def local(self, node: E.Apply, index: int, jac: Maybe) -> Maybe:
        """Chain a scalar-valued node through its reverse rule:
        ``vec(∂node/∂arg).T @ J_arg``."""
        if jac is None:
            return None
        for i, contribution in REVERSE[node.op](self.b, node, self.b.const(1)):
            if i == index:
                return self.b.matmul(self.b.transpose(self.b.vec(contribution)), jac)
        return None


def _topological(root: E.Expr, keep: Callable[[E.Expr], bool]) -> list[E.Expr]:
    """Nodes that vary, parents before children."""
    order: list[E.Expr] = []
    seen: set[E.Expr] = set()
    stack: list[tuple[E.Expr, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen or not keep(node):
            continue
        seen.add(node)
        stack.append((node, True))
        for child in E.children(node):
            stack.append((child, False))
    return list(reversed(order))


# ---------------------------------------------------------------------------
# Reverse rules: (builder, node, adjoint of node) -> [(argument index, its share)]

Reverse = Callable[[Builder, E.Apply, E.Expr], list[tuple[int, Maybe]]]


def _reduce_to(b: Builder, share: Maybe, target: E.Expr) -> Maybe:
    """A broadcast scalar receives the sum of its share."""
    if share is None:
        return None
    if target.shape == SCALAR and share.shape != SCALAR:
        return b.call("sum", share)
    return share


def _r_add(sign: int) -> Reverse:
    def rule(b: Builder, y: E.Apply, g: E.Expr) -> list[tuple[int, Maybe]]:
        left, right = y.args
        other = g if sign > 0 else b.neg(g)
        return [(0, _reduce_to(b, g, left)), (1, _reduce_to(b, other, right))]

    return rule


def _r_mul(b: Builder, y: E.Apply, g: E.Expr) -> list[tuple[int, Maybe]]:
    left, right = y.args
    return [(0, _reduce_to(b, b.mul(g, right), left)),
            (1, _reduce_to(b, b.mul(g, left), right))]


def _r_div(b: Builder, y: E.Apply, g: E.Expr) -> list[tuple[int, Maybe]]:
    left, right = y.args
    return [(0, _reduce_to(b, b.div(g, right), left)),
            (1, _reduce_to(b, b.neg(b.div(b.mul(g, y), right)), right))]


def _r_pow(b: Builder, y: E.Apply, g: E.Expr) -> list[tuple[int, Maybe]]:
    base, p = y.args
    if isinstance(p, E.Const):
        slope = b.mul(p, b.pow(base, b.const(p.value - 1)))
    else:
        slope = b.mul(p, b.div(y, base))
    return [(0, b.mul(g, slope)),
            (1, _reduce_to(b, b.mul(g, b.mul(y, b.call("log", base))), p))]


def _r_dot(b: Builder, y: E.Apply, g: E.Expr) -> list[tuple[int, Maybe]]:
    u, v = y.args
    return [(0, b.mul(g, b.like(v, u.shape))), (1, b.mul(g, b.like(u, v.shape)))]


def _r_elementwise(b: Builder, y: E.Apply, g: E.Expr) -> list[tuple[int, Maybe]]:
    return [(0, b.mul(g, ELEMENTWISE[y.op](b, y.args[0], y)))]


def _r_sum(b: Builder, y: E.Apply, g: E.Expr) -> list[tuple[int, Maybe]]:
    return [(0, b.mul(g, b.ones(y.args[0].shape)))]


def _r_mean(b: Builder, y: E.Apply, g: E.Expr) -> list[tuple[int, Maybe]]:
    a = y.args[0]
    return [(0, b.div(b.mul(g, b.ones(a.shape)), b.size(numel(a.shape))))]


def _r_softmax(b: Builder, y: E.Apply, g: E.Expr) -> list[tuple[int, Maybe]]:
    return [(0, b.mul(y, b.sub(g, b.call("dot", y, g))))]


def _r_logsumexp(b: Builder, y: E.Apply, g: E.Expr) -> list[tuple[int, Maybe]]:
    a = y.args[0]
    if kind(a.shape) in ("column", "row"):
        return [(0, b.mul(g, b.call("softmax", a)))]
    return [(0, b.mul(g, b.div(b.call("exp", a), b.call("sum", b.call("exp", a)))))]


def _rows_coupled(b: Builder, y: E.Expr, t: Maybe) -> Maybe:
    """``Y * (T - (Y * T) @ ones(n, n))``: softmax_rows' reverse and tangent rule
    (each row's own softmax Jacobian, diag(s) - s sᵀ, applied to a row of T)."""
    if t is None:
        return None
    n = y.shape[1]
    return b.mul(y, b.sub(t, b.matmul(b.mul(y, t), b.ones((n, n)))))


def _r_diag(b: Builder, y: E.Apply, g: E.Expr) -> list[tuple[int, Maybe]]:
    a = y.args[0]
    return [(0, b.like(b.call("diag", g), a.shape))]


def _r_outer(b: Builder, y: E.Apply, g: E.Expr) -> list[tuple[int, Maybe]]:
    u, v = y.args
    return [(0, b.like(b.matmul(g, b.column(v)), u.shape)),
            (1, b.like(b.matmul(b.transpose(g), b.column(u)), v.shape))]


def _inv_t(b: Builder, a: E.Expr) -> E.Expr:
    return b.transpose(b.call("inv", a))


REVERSE: dict[str, Reverse] = {
    "add": _r_add(+1),
    "sub": _r_add(-1),
    "neg": lambda b, y, g: [(0, b.neg(g))],
    "mul": _r_mul,
    "div": _r_div,
    "matmul": lambda b, y, g: [(0, b.matmul(g, b.transpose(y.args[1]))),
                               (1, b.matmul(b.transpose(y.args[0]), g))],
    "pow": _r_pow,
    "transpose": lambda b, y, g: [(0, b.transpose(g))],
    "trace": lambda b, y, g: [(0, b.mul(g, b.eye(y.args[0].shape[0])))],
    "det": lambda b, y, g: [(0, b.mul(b.mul(g, y), _inv_t(b, y.args[0])))],
    "logdet": lambda b, y, g: [(0, b.mul(g, _inv_t(b, y.args[0])))],
    "inv": lambda b, y, g: [(0, b.neg(b.matmul(b.matmul(b.transpose(y), g),
                                                b.transpose(y))))],
    "norm": lambda b, y, g: [(0, b.mul(g, b.div(y.args[0], y)))],
    "norm1": lambda b, y, g: [(0, b.mul(g, b.call("sign", y.args[0])))],
    "sum": _r_sum,
    "mean": _r_mean,
    "dot": _r_dot,
    "softmax": _r_softmax,
    "softmax_rows": lambda b, y, g: [(0, _rows_coupled(b, y, g))],
    "logsumexp": _r_logsumexp,
    "diag": _r_diag,
    "outer": _r_outer,
    "detach": lambda b, y, g: [],
    **{name: _r_elementwise for name in ELEMENTWISE},
}


# ---------------------------------------------------------------------------
# Tangent rules: (calculus, node, tangents of the arguments) -> tangent of node

Tangent = Callable[[Calculus, E.Apply, list[Maybe]], Maybe]


def _t_broadcast(c: Calculus, t: Maybe, arg: E.Expr, y: E.Expr) -> Maybe:
    """A scalar argument's tangent, spread over a non-scalar result."""
    if t is not None and arg.shape == SCALAR and y.shape != SCALAR:
        return c.b.mul(t, c.b.ones(y.shape))
    return t


def _t_add(sign: int) -> Tangent:
    def rule(c: Calculus, y: E.Apply, t: list[Maybe]) -> Maybe:
        left = _t_broadcast(c, t[0], y.args[0], y)
        right = _t_broadcast(c, t[1], y.args[1], y)
        return c.b.add(left, right) if sign > 0 else c.b.sub(left, right)

    return rule


def _t_mul(c: Calculus, y: E.Apply, t: list[Maybe]) -> Maybe:
    a, d = y.args
    return c.b.add(c.b.mul(t[0], d), c.b.mul(a, t[1]))


def _t_div(c: Calculus, y: E.Apply, t: list[Maybe]) -> Maybe:
    a, d = y.args
    b = c.b
    return b.sub(b.div(t[0], d), b.div(b.mul(y, t[1]), d))


def _t_pow(c: Calculus, y: E.Apply, t: list[Maybe]) -> Maybe:
    base, p = y.args
    b = c.b
    slope = (b.mul(p, b.pow(base, b.const(p.value - 1))) if isinstance(p, E.Const)
             else b.mul(p, b.div(y, base)))
    return b.add(b.mul(slope, t[0]), b.mul(b.mul(y, b.call("log", base)), t[1])
                 if t[1] is not None else None)


def _t_chain(c: Calculus, y: E.Apply, t: list[Maybe]) -> Maybe:
    """A scalar of a matrix: the sum of (its gradient) * (the tangent)."""
    b = c.b
    total: Maybe = None
    for index, share in REVERSE[y.op](b, y, b.const(1)):
        if t[index] is not None and share is not None:
            total = b.add(total, b.call("sum", b.mul(share, t[index])))
    return total


TANGENT: dict[str, Tangent] = {
    "add": _t_add(+1),
    "sub": _t_add(-1),
    "neg": lambda c, y, t: c.b.neg(t[0]),
    "mul": _t_mul,
    "div": _t_div,
    "matmul": lambda c, y, t: c.b.add(c.b.matmul(t[0], y.args[1]),
                                      c.b.matmul(y.args[0], t[1])),
    "pow": _t_pow,
    "transpose": lambda c, y, t: c.b.transpose(t[0]),
    "trace": lambda c, y, t: c.b.call("trace", t[0]),
    "det": lambda c, y, t: c.b.mul(y, c.b.call(
        "trace", c.b.matmul(c.b.call("inv", y.args[0]), t[0]))),
    "logdet": lambda c, y, t: c.b.call("trace", c.b.matmul(c.b.call("inv", y.args[0]), t[0])),
    "inv": lambda c, y, t: c.b.neg(c.b.matmul(c.b.matmul(y, t[0]), y)),
    "sum": lambda c, y, t: c.b.call("sum", t[0]),
    "mean": lambda c, y, t: c.b.call("mean", t[0]),
    "norm": _t_chain,
    "norm1": _t_chain,
    "logsumexp": _t_chain,
    "softmax_rows": lambda c, y, t: _rows_coupled(c.b, y, t[0]),
    "dot": lambda c, y, t: c.b.add(
        c.b.call("dot", t[0], y.args[1]) if t[0] is not None else None,
        c.b.call("dot", y.args[0], t[1]) if t[1] is not None else None),
    "softmax": lambda c, y, t: c.b.sub(c.b.mul(y, t[0]),
                                       c.b.mul(c.b.call("dot", y, t[0]), y)),
    "diag": lambda c, y, t: c.b.call("diag", t[0]),
    "vec": lambda c, y, t: c.b.call("vec", t[0]),
    "kron": lambda c, y, t: c.b.add(c.b.kron(t[0], y.args[1]), c.b.kron(y.args[0], t[1])),
    "outer": lambda c, y, t: c.b.add(
        c.b.call("outer", t[0], y.args[1]) if t[0] is not None else None,
        c.b.call("outer", y.args[0], t[1]) if t[1] is not None else None),
    "detach": lambda c, y, t: None,
    **{name: (lambda c, y, t: c.b.mul(ELEMENTWISE[y.op](c.b, y.args[0], y), t[0]))
       for name in ELEMENTWISE},
}


# ---------------------------------------------------------------------------
# Jacobian rules: (calculus, node, Jacobians of the arguments) -> Jacobian of node

Jacobian = Callable[[Calculus, E.Apply, list[Maybe]], Maybe]


def _j_spread(c: Calculus, j: Maybe, arg: E.Expr, y: E.Expr) -> Maybe:
    """A scalar argument broadcast over ``y``: ``ones(numel(y)) @ J``."""
    if j is not None and arg.shape == SCALAR and y.shape != SCALAR:
        return c.b.matmul(c.b.ones((numel(y.shape), SCALAR[0])), j)
    return j


def _j_add(sign: int) -> Jacobian:
    def rule(c: Calculus, y: E.Apply, j: list[Maybe]) -> Maybe:
        left = _j_spread(c, j[0], y.args[0], y)
        right = _j_spread(c, j[1], y.args[1], y)
        return c.b.add(left, right) if sign > 0 else c.b.sub(left, right)

    return rule


def _diag_vec(c: Calculus, a: Maybe) -> Maybe:
    if a is None or a.shape == SCALAR:
        return a
    return c.b.call("diag", c.b.vec(a))


def _j_mul(c: Calculus, y: E.Apply, j: list[Maybe]) -> Maybe:
    a, d = y.args
    b = c.b
    terms: Maybe = None
    for own, other, jac in ((a, d, j[0]), (d, a, j[1])):
        if jac is None:
            continue
        if own.shape == SCALAR and y.shape != SCALAR:  # scaling: vec(other) @ J_own
            terms = b.add(terms, b.matmul(b.vec(other), jac))
        elif other.shape == SCALAR and y.shape != SCALAR:
            terms = b.add(terms, b.mul(other, jac))
        else:
            terms = b.add(terms, b.matmul(_diag_vec(c, other), jac))
    return terms


def _j_div(c: Calculus, y: E.Apply, j: list[Maybe]) -> Maybe:
    a, d = y.args
    b = c.b
    if d.shape == SCALAR:
        first = b.div(j[0], d) if j[0] is not None else None
        second = (b.matmul(b.vec(b.div(y, d)), j[1]) if j[1] is not None else None)
        return b.sub(_j_spread(c, first, a, y) if a.shape == SCALAR else first, second)
    first = (b.matmul(_diag_vec(c, b.div(b.ones(d.shape), d)), _j_spread(c, j[0], a, y))
             if j[0] is not None else None)
    second = (b.matmul(_diag_vec(c, b.div(y, d)), j[1]) if j[1] is not None else None)
    return b.sub(first, second)


def _j_matmul(c: Calculus, y: E.Apply, j: list[Maybe]) -> Maybe:
    a, d = y.args
    b = c.b
    rows, cols = a.shape[0], d.shape[1]
    left = b.matmul(b.kron(b.transpose(d), b.eye(rows)), j[0]) if j[0] is not None else None
    right = b.matmul(b.kron(b.eye(cols), a), j[1]) if j[1] is not None else None
    return b.add(left, right)


def _j_transpose(c: Calculus, y: E.Apply, j: list[Maybe]) -> Maybe:
    if kind(y.shape) in ("scalar", "column", "row"):
        return j[0]
    raise NoClosedForm("the transpose of a matrix needs the commutation matrix")


def _j_pow(c: Calculus, y: E.Apply, j: list[Maybe]) -> Maybe:
    base, p = y.args
    b = c.b
    if not isinstance(p, E.Const):
        raise NoClosedForm("a power with a variable exponent")
    slope = b.mul(p, b.pow(base, b.const(p.value - 1)))
    return b.matmul(_diag_vec(c, slope), j[0])


def _j_elementwise(c: Calculus, y: E.Apply, j: list[Maybe]) -> Maybe:
    slope = ELEMENTWISE[y.op](c.b, y.args[0], y)
    return c.b.matmul(_diag_vec(c, slope), j[0])


def _j_scalar(c: Calculus, y: E.Apply, j: list[Maybe]) -> Maybe:
    total: Maybe = None
    for index, jac in enumerate(j):
        total = c.b.add(total, c.local(y, index, jac))
    return total


def _j_softmax(c: Calculus, y: E.Apply, j: list[Maybe]) -> Maybe:
    b = c.b
    s = b.column(y)
    return b.matmul(b.sub(b.call("diag", s), b.matmul(s, b.transpose(s))), j[0])


def _j_softmax_rows(c: Calculus, y: E.Apply, j: list[Maybe]) -> Maybe:
    b = c.b
    m, n = y.shape
    d = _diag_vec(c, y)  # vec(Y @ ones(n, n)) = kron(ones(n, n), eye(m)) @ vec(Y)
    rows = b.kron(b.ones((n, n)), b.eye(m))
    return b.matmul(b.sub(d, b.matmul(b.matmul(d, rows), d)), j[0])


def _j_outer(c: Calculus, y: E.Apply, j: list[Maybe]) -> Maybe:
    u, v = (c.b.column(a) for a in y.args)
    b = c.b
    left = b.matmul(b.kron(v, b.eye(u.shape[0])), j[0]) if j[0] is not None else None
    right = b.matmul(b.kron(b.eye(v.shape[0]), u), j[1]) if j[1] is not None else None
    return b.add(left, right)


JACOBIAN: dict[str, Jacobian] = {
    "add": _j_add(+1),
    "sub": _j_add(-1),
    "neg": lambda c, y, j: c.b.neg(j[0]),
    "mul": _j_mul,
    "div": _j_div,
    "matmul": _j_matmul,
    "transpose": _j_transpose,
    "pow": _j_pow,
    "inv": lambda c, y, j: c.b.neg(c.b.matmul(c.b.kron(c.b.transpose(y), y), j[0])),
    "softmax": _j_softmax,
    "softmax_rows": _j_softmax_rows,
    "vec": lambda c, y, j: j[0],
    "outer": _j_outer,
    "detach": lambda c, y, j: None,
    **{name: _j_scalar for name in ("trace", "det", "logdet", "norm", "norm1", "sum",
                                    "mean", "dot", "logsumexp")},
    **{name: _j_elementwise for name in ELEMENTWISE},
}
