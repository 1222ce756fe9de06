"""``Derivation``: the result of ``derive``, a derivative verified before it is shown.

:func:`matcalc.api.derive` finds a closed form (:mod:`matcalc.closedform`) and
checks it like any claim, ``d(f)/d(w) = <closed form>``, symbolically and
numerically (:mod:`matcalc.engines`). A closed form that fails that check is
never returned as the answer: the result reports an engine disagreement and
falls back to the componentwise derivative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .evidence import Grid
from .verdict import Verdict


@dataclass(frozen=True)
class Derivation:
    """The derivative of ``f`` with respect to ``wrt`` in ``layout``.

    ``expr`` is a closed form in matcalc's input language (it parses back into
    ``verify``), or None when none was found or it did not verify; when a
    subexpression repeats, ``named`` is ``expr`` with it replaced by a name and
    ``where`` the names' definitions (``(("t0", "sigmoid(X @ w)"),)``); ``order``
    is 2 for a Hessian, ``d(d(f)/d(wrt))/d(wrt)``; ``verdict``
    is the verification of ``d(f)/d(wrt) = expr``; ``componentwise`` is the
    derivative entry by entry at the symbolic stage's sizes; ``variables`` and
    ``assumptions`` are the declarations it was derived under.

    ``latex`` is the formula in LaTeX, ``code("numpy")`` / ``code("torch")`` the
    source of a Python function computing the derivative (see
    :mod:`matcalc.rendering.code`); ``str`` is the report, ``repr`` one line,
    and Jupyter shows the formula rendered (MathML).
    """

    f: str
    wrt: str
    layout: str
    shape: str
    expr: str | None
    method: str
    verdict: Verdict | None = None
    order: int = 1
    named: str | None = None
    where: tuple[tuple[str, str], ...] = ()
    componentwise: Grid | None = None
    sizes: dict[str, int] = field(default_factory=dict)
    note: str = ""
    seconds: float = 0.0
    variables: dict[str, str] = field(default_factory=dict)
    assumptions: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "f": self.f, "wrt": self.wrt, "order": self.order, "layout": self.layout,
            "shape": self.shape,
            "expr": self.expr, "named": self.named, "where": [list(w) for w in self.where],
            "method": self.method, "note": self.note,
            "sizes": self.sizes,
            "componentwise": [list(r) for r in self.componentwise] if self.componentwise else None,
            "verdict": self.verdict.to_dict() if self.verdict is not None else None,
            "seconds": round(self.seconds, 4),
        }

    def __str__(self) -> str:
        from .rendering.text import derivation_text

        return derivation_text(self)

    def __repr__(self) -> str:
        found = self.expr if self.expr is not None else "(no closed form)"
        return f"<Derivation d({self.f.strip()})/d({self.wrt}) = {found} [{self.layout}]>"

    @property
    def latex(self) -> str:
        """The formula ``∂f/∂w = closed form`` in LaTeX (the derivative alone
        when there is no closed form)."""
        from .rendering.latex import derivation_latex

        return derivation_latex(self)

    def code(self, target: str = "numpy") -> str:
        """The source of a Python function (``"numpy"`` or ``"torch"``) that
        computes the verified closed form; see :mod:`matcalc.rendering.code`."""
        from .rendering.code import derivation_code

        return derivation_code(self, target)

    def _repr_latex_(self) -> str:
        return f"$${self.latex}$$"

    def _repr_html_(self) -> str:
        from .rendering.text import derivation_html

        return derivation_html(self)
