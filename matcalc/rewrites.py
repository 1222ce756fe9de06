"""Rewrite rules that bring a derivative into the form a person writes.

:class:`matcalc.simplify.Builder` applies these while it tidies a tree; this
module holds the two that need room of their own, and :data:`RULES`, the
catalogue of every rewrite ``derive`` makes, each with examples. Every rule is
an identity valid at every size (where both sides are defined): the test
suite checks each example with both engines at sizes of both parities, and
that the builder really rewrites the example's left side into its right side.

Hadamard monomials. A product of elementwise factors of one shape (scalars
broadcast) is a coefficient times factors with integer powers:
``1 / s * (s * (1 - s)) * y`` is ``(1 - s) * y`` once the powers of ``s``
cancel. :func:`hadamard` flattens such a product, cancels, recognises
``exp(a) / sum(exp(a))`` as ``softmax(a)`` (and ``exp(A) / (exp(A) @ ones(n, n))``
as ``softmax_rows(A)``), and rebuilds it with the scalars first and the
smaller factors before the larger: ``y * (1 - sigmoid(y * (X @ w)))``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from . import expr as E
from .shapes import SCALAR, Shape, kind

if TYPE_CHECKING:
    from .simplify import Builder, Maybe


@dataclass(frozen=True)
class Rule:
    """One rewrite: what it does, and examples ``(before, after)`` over ``vars``."""

    name: str
    doc: str
    examples: tuple[tuple[str, str], ...]
    vars: tuple[tuple[str, str], ...]


RULES: tuple[Rule, ...] = (
    Rule("hadamard-cancel",
         "factors of an elementwise product cancel against their reciprocals",
         (("x * (1 / x)", "ones(n)"),
          ("1 / y * (y * (1 - y)) * x", "x * (1 - y)"),
          ("x * y / x ** 3 * x", "y / x"),
          ("s * x * s", "s ** 2 * x"),
          ("s / (2 * s) * x", "0.5 * x"),
          ("log(x) + x * (1 / x)", "log(x) + 1")),
         (("x", "n"), ("y", "n"), ("s", ""))),
    Rule("softmax",
         "exp(a) / sum(exp(a)) is softmax(a) for a vector a",
         (("exp(x) / sum(exp(x))", "softmax(x)"),
          ("ones(n) / sum(exp(x)) * exp(x)", "softmax(x)"),
          ("exp(x).T / sum(exp(x))", "softmax(x).T")),
         (("x", "n"),)),
    Rule("softmax-rows",
         "exp(A) / (exp(A) @ ones(n, n)) is softmax_rows(A): each row divided by its sum",
         (("exp(A) / (exp(A) @ ones(n, n))", "softmax_rows(A)"),),
         (("A", "m n"),)),
    Rule("ones-product",
         "ones(k, n) @ ones(n, p) is n * ones(k, p)",
         (("ones(k, n) @ ones(n)", "n * ones(k)"),
          ("ones(n).T @ ones(n)", "n"),
          ("ones(k, n) @ ones(n, k)", "n * ones(k, k)")),
         (("A", "k n"),)),
    Rule("diag-product",
         "diag(u) @ diag(v) is diag(u * v) for vectors of one length",
         (("diag(x) @ diag(1 / x / x)", "diag(1 / x)"),
          ("diag(x) @ diag(y) @ A", "diag(x * y) @ A")),
         (("x", "n"), ("y", "n"), ("A", "n m"))),
    Rule("trace",
         "sum(eye(n) * X) is trace(X)",
         (("sum(eye(n) * X)", "trace(X)"), ("sum(X * eye(n))", "trace(X)")),
         (("X", "n n"),)),
    Rule("sigmoid",
         "exp(a) / (exp(a) + 1) is sigmoid(a)",
         (("exp(x) / (exp(x) + 1)", "sigmoid(x)"), ("exp(x) / (1 + exp(x)) * y", "y * sigmoid(x)")),
         (("x", "n"), ("y", "n"))),
    Rule("ones-in-sum",
         "a ones(...) term of a sum with an array term is the scalar 1, broadcast",
         (("x + ones(n)", "x + 1"), ("2 * ones(n) - x", "2 - x")),
         (("x", "n"),)),
    Rule("distribute",
         "an elementwise product is multiplied out over a sum when that is smaller",
         (("s * (1 - y / s)", "s - y"),
          ("y * (1 - x) + x * y", "y"),
          ("x * (1 - x) * ((1 - y) / (1 - x) - y / x)", "x - y")),
         (("x", "n"), ("y", "n"), ("s", ""))),
    Rule("dot-cancel",
         "dot(u, v) is sum(u * v), written so when the product cancels",
         (("dot(x, y / x)", "sum(y)"), ("dot(x, -y / x) * x", "-sum(y) * x")),
         (("x", "n"), ("y", "n"))),
    Rule("sum-linear",
         "sum(s * A) is s * sum(A) for a scalar s; sum(-A) is -sum(A); sum(ones(m, n)) is m * n",
         (("sum(s * A)", "s * sum(A)"), ("sum(-A / s)", "-sum(A) / s"),
          ("sum(ones(m, n))", "m * n")),
         (("A", "m n"), ("s", ""))),
    Rule("shorter-transpose",
         "a sum or product whose transpose is shorter is written as that transpose (display)",
         (("x @ (x.T - y.T)", "x @ (x - y).T"),
          ("-inv(X).T @ A.T @ B.T @ inv(X).T", "-(inv(X) @ B @ A @ inv(X)).T")),
         (("A", "n n"), ("B", "n n"), ("X", "n n"), ("x", "n"), ("y", "n"))),
    Rule("common-factor",
         "a coefficient shared by every term of a sum is taken out when that is shorter "
         "(display)",
         (("0.5 * X - 0.5 * X @ x @ x.T @ X", "(X - X @ x @ x.T @ X) / 2"),),
         (("X", "n n"), ("x", "n"))),
    Rule("scalar-onto-first",
         "a scalar factor of a matrix product is written on its first factor (display)",
         (("s * (A @ x)", "s * A @ x"), ("-(s * (x.T @ x))", "-s * x.T @ x")),
         (("A", "m n"), ("x", "n"), ("s", ""))),
)


_TOKEN = re.compile(r"\.T\b|\*\*|[A-Za-z_][A-Za-z_0-9]*|\d+(?:\.\d+)?|[-+*/@(),\[\]]")


def tokens(text: str) -> list[str]:
    """The tokens of an expression in matcalc's language: names, numbers,
    operators, parentheses, ``.T`` (how the length of a form is measured)."""
    return _TOKEN.findall(text)


# ---------------------------------------------------------------------------
# Hadamard monomials


def _is(node: object, *ops: str) -> bool:
    return isinstance(node, E.Apply) and node.op in ops


def _flatten(node: E.Expr, shape: Shape) -> tuple[Fraction, dict[E.Expr, int]]:
    """``node`` (a product of shape ``shape``) as a coefficient and factors with
    integer powers. Scalars broadcast; ``ones`` of the shape is dropped."""
    coef = Fraction(1)
    powers: dict[E.Expr, int] = {}

    def fits(n: E.Expr) -> bool:
        return n.shape == shape or n.shape == SCALAR

    def visit(n: E.Expr, exponent: int) -> None:
        nonlocal coef
        if isinstance(n, E.Const) and (n.value or exponent > 0):  # 1/0 stays a factor
            coef *= n.value ** exponent
        elif _is(n, "mul") and all(fits(a) for a in n.args):
            visit(n.args[0], exponent)
            visit(n.args[1], exponent)
        elif _is(n, "div") and all(fits(a) for a in n.args):
            visit(n.args[0], exponent)
            visit(n.args[1], -exponent)
        elif _is(n, "neg"):
            coef *= (-1) ** exponent
            visit(n.args[0], exponent)
        elif (_is(n, "pow") and isinstance(n.args[1], E.Const)
              and n.args[1].value.denominator == 1):
            visit(n.args[0], exponent * int(n.args[1].value))
        elif _is(n, "ones") and n.shape == shape:
            pass
        else:
            powers[n] = powers.get(n, 0) + exponent

    visit(node, 1)
    return coef, {f: p for f, p in powers.items() if p != 0}


def _recognise(b: Builder, powers: dict[E.Expr, int]) -> dict[E.Expr, int]:
    """``exp(a) / sum(exp(a))`` -> ``softmax(a)``; the same under a transpose;
    ``exp(A) / (exp(A) @ ones(n, n))`` -> ``softmax_rows(A)``."""
    for factor, power in list(powers.items()):
        if power >= 0 or factor not in powers:
            continue
        if _is(factor, "sum") and _is(factor.args[0], "exp"):
            total, exp = factor, factor.args[0]
            arg = exp.args[0]
            if kind(arg.shape) not in ("column", "row"):
                continue
            candidates = [(exp, E.apply("softmax", arg)),
                          (b.transpose(exp), b.transpose(E.apply("softmax", arg)))]
        elif (_is(factor, "matmul") and _is(factor.args[0], "exp")
              and _is(factor.args[1], "ones")
              and factor.args[1].shape[0] == factor.args[1].shape[1]
              and kind(factor.shape) == "matrix"):
            total, exp = factor, factor.args[0]
            candidates = [(exp, E.apply("softmax_rows", exp.args[0]))]
        elif (_is(factor, "add") and any(_is(a, "exp") for a in factor.args)
              and any(isinstance(a, E.Const) and a.value == 1 for a in factor.args)):
            total = factor
            exp = next(a for a in factor.args if _is(a, "exp"))
            candidates = [(exp, E.apply("sigmoid", exp.args[0]))]
        else:
            continue
        for numerator, replacement in candidates:
            while powers.get(numerator, 0) > 0 and powers.get(total, 0) < 0:
                for key, step in ((numerator, -1), (total, 1), (replacement, 1)):
                    powers[key] = powers.get(key, 0) + step
                    if powers[key] == 0:
                        del powers[key]
    return powers


def _order(node: E.Expr) -> tuple[bool, int, str]:
    """Scalars first, then smaller factors before larger ones."""
    return (node.shape != SCALAR, E.size(node), E.to_text(node))


def hadamard(b: Builder, node: Maybe) -> Maybe:
    """The normal form of an elementwise product or quotient (see the module
    docstring); other nodes are returned unchanged."""
    if not _is(node, "mul", "div", "neg"):
        return node
    shape = node.shape
    coef, powers = _flatten(node, shape)
    if coef == 0:
        return None
    powers = _recognise(b, powers)
    up = sorted((f for f, p in powers.items() if p > 0), key=_order)
    down = sorted((f for f, p in powers.items() if p < 0), key=_order)
    if shape != SCALAR and not any(f.shape == shape for f in (*up, *down)):
        up.append(b.ones(shape))  # only scalars are left: they fill the shape
        powers[up[-1]] = 1
    out: Maybe = None
    for factor in up:
        power = powers[factor]
        term = factor if power == 1 else b.pow(factor, E.const(power))
        out = term if out is None else b.mul(out, term)
    if out is None:
        out = E.const(coef)
    elif coef != 1:
        out = b.mul(E.const(coef), out)
    for factor in down:
        power = -powers[factor]
        out = b.div(out, factor if power == 1 else b.pow(factor, E.const(power)))
    return out


# ---------------------------------------------------------------------------
# Distributing products over sums

#: an expansion with more terms than this is abandoned
MAX_TERMS = 16

Monomial = tuple[tuple[E.Expr, int], ...]
Poly = dict[Monomial, Fraction]


class _TooMany(Exception):
    pass


def _times(p: Poly, q: Poly) -> Poly:
    out: Poly = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            powers = dict(m1)
            for f, e in m2:
                powers[f] = powers.get(f, 0) + e
            key = tuple(sorted(((f, e) for f, e in powers.items() if e), key=lambda fe:
                               _order(fe[0])))
            out[key] = out.get(key, Fraction(0)) + c1 * c2
            if len(out) > MAX_TERMS:
                raise _TooMany
    return {m: c for m, c in out.items() if c}


def _plus(p: Poly, q: Poly, sign: int = 1) -> Poly:
    out = dict(p)
    for m, c in q.items():
        out[m] = out.get(m, Fraction(0)) + sign * c
    if len(out) > MAX_TERMS:
        raise _TooMany
    return {m: c for m, c in out.items() if c}


def _poly(n: E.Expr, shape: Shape, keep: frozenset[E.Expr] = frozenset()) -> Poly:
    """``n`` as a polynomial in its elementwise factors (sums multiplied out,
    except those in ``keep``)."""
    def fits(a: E.Expr) -> bool:
        return a.shape == shape or a.shape == SCALAR

    def _poly(a: E.Expr, shape: Shape) -> Poly:
        return _poly_outer(a, shape, keep)

    if isinstance(n, E.Const):
        return {(): n.value} if n.value else {}
    if _is(n, "add", "sub") and all(fits(a) for a in n.args) and n not in keep:
        return _plus(_poly(n.args[0], shape), _poly(n.args[1], shape),
                     1 if n.op == "add" else -1)
    if _is(n, "neg"):
        return {m: -c for m, c in _poly(n.args[0], shape).items()}
    if _is(n, "mul") and all(fits(a) for a in n.args):
        return _times(_poly(n.args[0], shape), _poly(n.args[1], shape))
    if _is(n, "div") and all(fits(a) for a in n.args):
        return _times(_poly(n.args[0], shape), _reciprocal(_poly(n.args[1], shape), n.args[1]))
    if _is(n, "pow") and isinstance(n.args[1], E.Const) and n.args[1].value.denominator == 1:
        p = int(n.args[1].value)
        base = _poly(n.args[0], shape)
        if 0 < p <= 3:
            out: Poly = {(): Fraction(1)}
            for _ in range(p):
                out = _times(out, base)
            return out
        if p < 0 and len(base) == 1:
            inverse = _reciprocal(base, n.args[0])
            out = {(): Fraction(1)}
            for _ in range(-p):
                out = _times(out, inverse)
            return out
    if _is(n, "ones") and n.shape == shape:
        return {(): Fraction(1)}
    return {((n, 1),): Fraction(1)}


_poly_outer = _poly


def _reciprocal(p: Poly, node: E.Expr) -> Poly:
    if len(p) == 1:  # (an exact zero has no terms: it stays a factor)
        (m, c), = p.items()
        return {tuple((f, -e) for f, e in m): 1 / c}
    return {((node, -1),): Fraction(1)}


def distribute(b: Builder, node: Maybe) -> Maybe:
    """``node`` with elementwise products multiplied out over sums, the terms
    collected: ``s * (1 - y / s)`` is ``s - y``. None when it has too many terms
    (the caller keeps the form it has)."""
    if node is None:
        return None
    # sums that divide somewhere stay whole at first, so that they can cancel
    divisors = frozenset(n.args[1] for n in E.walk(node) if _is(n, "div"))
    try:
        poly = _poly(node, node.shape, divisors)
        expanded: Poly = {}
        for monomial, coef in poly.items():
            term: Poly = {(): coef}
            for factor, power in monomial:
                if power > 0 and factor in divisors:
                    piece = _poly(factor, node.shape)
                    for _ in range(min(power, 3)):
                        term = _times(term, piece)
                    if power > 3:
                        term = _times(term, {((factor, power - 3),): Fraction(1)})
                else:
                    term = _times(term, {((factor, power),): Fraction(1)})
            expanded = _plus(expanded, term)
        poly = expanded
    except _TooMany:
        return node
    out: Maybe = None
    for monomial, coef in poly.items():
        term: Maybe = E.const(coef)
        for factor, power in monomial:
            piece = factor if power == 1 else b.pow(factor, E.const(power))
            term = b.mul(term, piece) if power > 0 else b.div(term, factor if power == -1
                                                               else b.pow(factor,
                                                                          E.const(-power)))
        term = hadamard(b, term)
        out = b.add(out, term)
    if out is not None and out.shape != node.shape:
        out = b.mul(out, b.ones(node.shape))
    return out
