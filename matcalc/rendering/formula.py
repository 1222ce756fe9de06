"""The formula behind a verdict or a derivation, as expression trees again.

Verdicts and derivations keep their formulas as text in matcalc's language
(what :func:`matcalc.expr.to_text` printed); the notation printers need trees.
The text is matcalc's own output, so it parses back with the declarations the
result carries; a formula that does not (a table rule written with macros, a
check of a user's function, whose sides are Python callables) has no tree and
is shown as text.
"""

from __future__ import annotations

from typing import Any

from .. import expr as E
from ..errors import MatcalcError


def _scope(variables: dict[str, str], assumptions: dict[str, list[str]], layout: str) -> Any:
    from ..declarations import declare

    return declare(variables, assumptions).scope(layout)


def verdict_trees(v: Any) -> tuple[E.Expr, E.Expr] | None:
    """The verdict's two sides as trees, or None."""
    from ..parsing import parse_expression

    if v.lhs is None or v.rhs is None:
        return None
    try:
        scope = _scope(v.variables, v.assumptions, v.layout)
        return parse_expression(v.lhs, scope), parse_expression(v.rhs, scope)
    except (MatcalcError, ValueError):
        return None


def derivation_trees(d: Any) -> tuple[E.Expr, E.Expr | None] | None:
    """``d(f)/d(wrt)`` and the closed form (None if there is none) as trees, or None."""
    from ..parsing import parse_expression

    try:
        scope = _scope(d.variables, d.assumptions, d.layout)
        f = parse_expression(d.f, scope)
        lhs = E.derivative(f, E.Var(d.wrt, scope.shapes[d.wrt]), d.layout)
        rhs = parse_expression(d.expr, scope) if d.expr is not None else None
    except (MatcalcError, KeyError, ValueError):
        return None
    return lhs, rhs


def verdict_mathml(v: Any) -> str | None:
    """The verdict's identity as a MathML block, or None without trees."""
    from .notation import mathml_equation

    trees = verdict_trees(v)
    return mathml_equation(*trees) if trees is not None else None


def derivation_mathml(d: Any) -> str | None:
    """``∂f/∂w = closed form`` as a MathML block, or None without trees."""
    from .notation import mathml_equation

    trees = derivation_trees(d)
    return mathml_equation(*trees) if trees is not None else None
