r"""LaTeX for verdicts and derivations (the notation of :mod:`.notation`).

>>> import matcalc
>>> print(matcalc.derive("logdet(X)", "X", vars={"X": "n n"}, layout="denominator").latex)
\frac{\partial}{\partial \mathbf{X}}\left(\ln\det\left(\mathbf{X}\right)\right) = \mathbf{X}^{- \top}
"""

from __future__ import annotations

from typing import Any

from .formula import derivation_trees, verdict_trees
from .notation import latex


def text_latex(text: str) -> str:
    """Plain text set upright, with LaTeX's special characters escaped."""
    special = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "^": r"\^{}",
               "#": r"\#", "$": r"\$", "%": r"\%", "&": r"\&", "~": r"\~{}"}
    return r"\texttt{" + "".join(special.get(c, c) for c in text) + "}"


def verdict_latex(v: Any) -> str:
    """``lhs = rhs`` of the verdict's identity (as text when it has no tree)."""
    trees = verdict_trees(v)
    if trees is None:
        return text_latex(v.identity.strip())
    return f"{latex(trees[0])} = {latex(trees[1])}"


def derivation_latex(d: Any) -> str:
    """``∂f/∂w = closed form``; without a closed form, the derivative alone."""
    trees = derivation_trees(d)
    if trees is None:
        return text_latex(f"d({d.f})/d({d.wrt})" + (f" = {d.expr}" if d.expr else ""))
    lhs, rhs = trees
    if rhs is None:
        return latex(lhs)
    if getattr(d, "where", ()):  # a repeated subexpression gets its name
        from ..expr import Var
        from ..subexpressions import name_common

        body, names = name_common(rhs, d.variables)
        where = ",\\; ".join(f"{latex(Var(n, t.shape))} = {latex(t)}" for n, t in names)
        return rf"{latex(lhs)} = {latex(body)} \quad\text{{where }} {where}"
    return f"{latex(lhs)} = {latex(rhs)}"
