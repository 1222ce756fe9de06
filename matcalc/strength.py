"""How strong the evidence for a ``holds`` is: general, exact or numeric.

* ``general``: proved for every size by an argument that does not depend on the
  sizes. After every ``d(f)/d(x)`` is replaced by its closed form from the rules
  of matrix calculus (:mod:`matcalc.calculus`, one rule per operation, each valid
  at every size), both sides are put in normal form by the rewrite rules of
  :mod:`matcalc.simplify` and the rules below (each an identity at every size);
  when the two normal forms are the same tree the identity holds at every size.
  The verdict names this argument. It is only claimed when the engines that ran
  agree as well.
* ``exact``: decided exactly (symbolic algebra or exact arithmetic) at the sizes
  in ``exact_sizes``, every free dimension name at an even and an odd size.
* ``numeric``: float64 evidence only, at the sizes in ``numeric_sizes``.

Rules applied here besides :class:`~matcalc.simplify.Builder`'s, for square
``A``, ``B`` of size ``n``, any ``P`` (p x q), ``Q`` (q x p) and a scalar ``c``
(each tested at sizes of both parities in ``tests/test_strength.py``)::

    det(-A)      = (-1)**n * det(A)        trace(A.T)     = trace(A)
    det(c * A)   = c**n * det(A)           trace(A ± B)   = trace(A) ± trace(B)
    det(A.T)     = det(A)                  trace(c * A)   = c * trace(A)
    det(inv(A))  = 1 / det(A)              trace(P @ Q)   = trace(Q @ P) = trace(Q.T @ P.T)
    det(A @ B)   = det(A) * det(B)         trace(c)       = c  (1 x 1)
    inv(-A)      = -inv(A)                 inv(A) @ A = A @ inv(A) = eye(n)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from . import expr as E
from .errors import MatcalcError
from .evidence import NumericEvidence, SymbolicEvidence
from .options import STRENGTHS
from .shapes import SCALAR, Dim

RANK = {name: rank for rank, name in enumerate(STRENGTHS)}

#: the general argument, for a claim about derivatives and for one without
GENERAL_DERIVATIVE = ("the claim is the derivative given by the rules of matrix calculus, up to "
                      "rewrite rules; each rule holds at every size")
GENERAL_ALGEBRA = "both sides reduce to the same form by rewrite rules that hold at every size"


@dataclass(frozen=True)
class Strength:
    """The strength of a ``holds`` and the sizes behind it."""

    strength: str
    exact_sizes: tuple[dict[str, int], ...]
    numeric_sizes: tuple[dict[str, int], ...]
    argument: str | None = None
    parity_complete: bool = True  # every free dimension decided exactly at both parities

    def scope(self) -> str:
        """``for every size``, ``exactly at n = 2, 3 and numerically at n = 5, 7``, ..."""
        if self.strength == "general":
            return "for every size"
        numeric = _at(self.numeric_sizes)
        if self.strength == "numeric":
            return f"numerically{numeric} (no exact evidence)"
        text = f"exactly{_at(self.exact_sizes)}"
        if not self.parity_complete:
            text += " only (not at sizes of both parities)"
        if self.numeric_sizes:
            text += f" and numerically{numeric}"
        return text

    def summary(self, symbolic: SymbolicEvidence | None, numeric: NumericEvidence | None) -> str:
        """The verdict's one-line summary of a ``holds``."""
        exact, at_numeric = _at(self.exact_sizes), _at(self.numeric_sizes)
        if self.strength == "general":
            also = [f"exactly{exact}" if self.exact_sizes else "",
                    f"numerically{at_numeric}" if self.numeric_sizes else ""]
            agree = " and ".join(a for a in also if a)
            both = self.exact_sizes and self.numeric_sizes
            return (f"proved for every size: {self.argument}"
                    + (f"; {'the engines agree' if both else 'confirmed'} ({agree})"
                       if agree else ""))
        if self.strength == "numeric":
            why = symbolic.detail if symbolic is not None else "exact stage not run"
            return f"confirmed numerically{at_numeric} only (no exact evidence: {why})"
        text = f"decided exactly{exact}"
        if not self.parity_complete:
            text += " only, not at sizes of both parities"
        if self.numeric_sizes:
            return text + f" and confirmed numerically{at_numeric}"
        why = numeric.detail if numeric is not None else "numeric stage not run"
        return text + f" (no numeric evidence: {why})"

    def meets(self, required: str) -> bool:
        rank = RANK[self.strength]
        if self.strength == "exact" and not self.parity_complete:
            rank = RANK["numeric"]
        return rank >= RANK[required]


def assess(symbolic: SymbolicEvidence | None, numeric: NumericEvidence | None,
           pinned: Iterable[str], argument: str | None) -> Strength:
    """The strength of a ``holds`` supported by this evidence."""
    exact: tuple[dict[str, int], ...] = ()
    if symbolic is not None and symbolic.status == "proved":
        exact = tuple(getattr(symbolic, "size_sets", ()) or (symbolic.sizes,))
    numeric_sizes: list[dict[str, int]] = []
    if numeric is not None and numeric.status == "agrees":
        for point in numeric.points:
            if point.ok and point.sizes not in numeric_sizes:
                numeric_sizes.append(dict(point.sizes))
    complete = both_parities(exact, pinned)
    if argument is not None:
        strength = "general"
    elif exact and (complete or not numeric_sizes):
        strength = "exact"
    else:
        strength = "numeric"
    return Strength(strength, tuple(dict(s) for s in exact), tuple(numeric_sizes), argument,
                    complete if exact else True)


def both_parities(size_sets: Sequence[Mapping[str, int]], pinned: Iterable[str]) -> bool:
    """Whether every dimension not pinned took an even and an odd size."""
    fixed = set(pinned)
    names = {name for sizes in size_sets for name in sizes} - fixed
    return all({sizes[name] % 2 for sizes in size_sets if name in sizes} == {0, 1}
               for name in names)


def _at(size_sets: Sequence[Mapping[str, int]]) -> str:
    """`` at n = 2, 3`` or `` at (n, m) = (2, 3), (4, 5)``; empty without dimensions."""
    if not size_sets or not any(size_sets):
        return ""
    names = list(size_sets[0])
    if len(names) == 1:
        values = sorted({s[names[0]] for s in size_sets})
        return f" at {names[0]} = " + ", ".join(str(v) for v in values)
    tuples = ", ".join("(" + ", ".join(str(s.get(n, "?")) for n in names) + ")"
                       for s in size_sets)
    return f" at ({', '.join(names)}) = {tuples}"


# ---------------------------------------------------------------------------
# The general argument


def general_argument(lhs: E.Expr, rhs: E.Expr, symmetric: Iterable[str]) -> str | None:
    """Why ``lhs = rhs`` holds at every size, or None when no such argument is found."""
    from .calculus import NoClosedForm
    from .simplify import Builder

    names = frozenset(symmetric)
    derivatives = any(isinstance(n, E.Derivative) for side in (lhs, rhs) for n in E.walk(side))
    try:
        left = normal_form(_closed(lhs, names, frozenset()), Builder(names))
        right = normal_form(_closed(rhs, names, frozenset()), Builder(names))
    except (NoClosedForm, ZeroDivisionError, MatcalcError, AssertionError, RecursionError):
        return None
    if left != right:
        return None
    return GENERAL_DERIVATIVE if derivatives else GENERAL_ALGEBRA


def _closed(node: E.Expr, symmetric: frozenset[str], outer: frozenset[str]) -> E.Expr:
    """``node`` with every derivative replaced by its closed form. Inside a
    derivative by ``x``, ``x.T`` is not rewritten to ``x`` even when ``x`` is
    symmetric: that holds for values at the point, not for derivatives."""
    from .closedform import closed_form
    from .simplify import Builder

    if isinstance(node, E.Derivative):
        wrt = node.wrt.name
        inner = _closed(node.of, symmetric, outer | {wrt})
        tree, _ = closed_form(inner, node.wrt, node.layout, Builder(symmetric - outer))
        if tree is None or tree.shape != node.shape:
            raise AssertionError("closed form of an unexpected shape")
        return tree
    if isinstance(node, E.Apply):
        args = tuple(_closed(a, symmetric, outer) for a in node.args)
        return E.Apply(node.op, args, node.shape, node.dims, node.pos)
    return node


def normal_form(node: E.Expr, b: object) -> E.Expr | None:
    """A normal form: the rules above, then the builder's, to a fixed point."""
    current: E.Expr | None = node
    for _ in range(4):
        if current is None:
            return None
        rewritten = b.tidy(b.expand_identities(rewrite(current, b)))
        if rewritten == current:
            return rewritten
        current = rewritten
    return current


def rewrite(node: E.Expr, b: object) -> E.Expr:
    """One bottom-up pass of the rewrite rules above over ``node``."""
    if not isinstance(node, E.Apply):
        return node
    args = tuple(rewrite(a, b) for a in node.args)
    node = E.Apply(node.op, args, node.shape, node.dims, node.pos)
    if node.op == "det":
        return _det(args[0], b) or node
    if node.op == "trace":
        return _trace(args[0], b) or node
    if node.op == "inv" and _is(args[0], "neg"):
        return b.neg(E.apply("inv", args[0].args[0]))
    if node.op == "matmul":
        return _cancel_inverses(_factors(node), b) or node
    return node


def _is(node: E.Expr, op: str) -> bool:
    return isinstance(node, E.Apply) and node.op == op


def _square(node: E.Expr) -> bool:
    return len(node.shape) == 2 and node.shape[0] == node.shape[1]


def _det(a: E.Expr, b: object) -> E.Expr | None:
    n = a.shape[0]
    if _is(a, "neg"):
        return b.mul(_power(E.const(-1), n), E.apply("det", a.args[0]))
    if _is(a, "mul") and a.args[0].shape == SCALAR and a.args[1].shape == a.shape:
        return b.mul(_power(a.args[0], n), E.apply("det", a.args[1]))
    if _is(a, "transpose"):
        return E.apply("det", a.args[0])
    if _is(a, "inv"):
        return b.div(E.const(1), E.apply("det", a.args[0]))
    if _is(a, "matmul") and all(_square(f) for f in _factors(a)):
        out = None
        for factor in _factors(a):
            det = E.apply("det", factor)
            out = det if out is None else b.mul(out, det)
        return out
    return None


def _trace(a: E.Expr, b: object) -> E.Expr | None:
    if a.shape == SCALAR:
        return a
    if _is(a, "transpose"):
        return E.apply("trace", a.args[0])
    if _is(a, "neg"):
        return b.neg(E.apply("trace", a.args[0]))
    if _is(a, "add") or _is(a, "sub"):
        left, right = (E.apply("trace", x) for x in a.args)
        return b.add(left, right) if a.op == "add" else b.sub(left, right)
    if _is(a, "mul") and a.args[0].shape == SCALAR and a.args[1].shape == a.shape:
        return b.mul(a.args[0], E.apply("trace", a.args[1]))
    if _is(a, "matmul"):  # cyclicity and trace(M.T) = trace(M): the form that prints first
        chain = _factors(a)
        flipped = [b.transpose(f) for f in reversed(chain)]
        rotations = [c[i:] + c[:i] for c in (chain, flipped) for i in range(len(c))]
        best = min(rotations, key=lambda r: [E.to_text(f) for f in r])
        if best != chain:
            return E.apply("trace", _product(best, b))
    return None


def _cancel_inverses(chain: list[E.Expr], b: object) -> E.Expr | None:
    """``inv(A) @ A`` and ``A @ inv(A)`` inside a chain are the identity."""
    for i in range(len(chain) - 1):
        left, right = chain[i], chain[i + 1]
        if (_is(left, "inv") and left.args[0] == right) or (_is(right, "inv")
                                                           and right.args[0] == left):
            rest = chain[:i] + chain[i + 2:]
            if not rest:
                return b.eye(left.shape[0])
            return _product(rest, b)
    return None


def _factors(node: E.Expr) -> list[E.Expr]:
    if _is(node, "matmul"):
        return _factors(node.args[0]) + _factors(node.args[1])
    return [node]


def _product(chain: list[E.Expr], b: object) -> E.Expr:
    out = chain[0]
    for factor in chain[1:]:
        out = b.matmul(out, factor)
    return out


def _power(base: E.Expr, n: Dim) -> E.Expr:
    """``base ** n`` for a dimension ``n`` (folded when both are constants)."""
    if not n.names:
        if isinstance(base, E.Const):
            return E.const(base.value ** n.coeff)
        return E.apply("pow", base, E.const(n.coeff))
    if n.coeff != 1 or len(n.names) > 1:
        raise AssertionError("compound dimension")  # kept to plain names
    return E.apply("pow", base, E.Size(n))
