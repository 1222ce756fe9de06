"""Naming the common subexpressions of a closed form.

``-X.T @ diag(y ** 2 * sigmoid(y * (X @ w)) * (1 - sigmoid(y * (X @ w)))) @ X``
reads better as ``-X.T @ diag(y ** 2 * t0 * (1 - t0)) @ X`` where
``t0 = sigmoid(y * (X @ w))``. :func:`name_common` finds the subexpressions that
occur more than once (largest first), and replaces each with a fresh name; the
expression with the names put back is the original, exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from . import expr as E
from .rewrites import tokens

#: a subexpression shorter than this many tokens is not worth a name
MIN_TOKENS = 4
_TRIVIAL = frozenset({"ones", "zeros", "eye", "transpose", "neg"})


def _replace(node: E.Expr, old: E.Expr, new: E.Expr) -> E.Expr:
    if node == old:
        return new
    if isinstance(node, E.Apply):
        args = tuple(_replace(a, old, new) for a in node.args)
        if args != node.args:
            return E.Apply(node.op, args, node.shape, node.dims, node.pos)
    return node


def _occurrences(node: E.Expr) -> Counter:
    return Counter(n for n in E.walk(node) if isinstance(n, E.Apply))


def name_common(node: E.Expr, taken: Iterable[str] = ()) -> tuple[E.Expr, list[tuple[str, E.Expr]]]:
    """``node`` with each repeated subexpression replaced by a name (``t0``,
    ``t1``, ... avoiding ``taken``), and the definitions in order of use."""
    used = set(taken) | set(E.variables(node))
    counts = _occurrences(node)
    candidates = sorted(
        (n for n, c in counts.items()
         if c >= 2 and n.op not in _TRIVIAL and len(tokens(E.to_text(n))) >= MIN_TOKENS),
        key=lambda n: -E.size(n))
    body = node
    names: list[tuple[str, E.Expr]] = []
    index = 0
    for candidate in candidates:
        if _occurrences(body)[candidate] < 2:
            continue  # it only repeats inside a larger named subexpression
        while f"t{index}" in used:
            index += 1
        name = f"t{index}"
        used.add(name)
        body = _replace(body, candidate, E.Var(name, candidate.shape))
        names.append((name, candidate))
    return body, names
