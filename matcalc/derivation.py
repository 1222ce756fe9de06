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
    ``verify``), or None when none was found or it did not verify; ``verdict``
    is the verification of ``d(f)/d(wrt) = expr``; ``componentwise`` is the
    derivative entry by entry at the symbolic stage's sizes.
    """

    f: str
    wrt: str
    layout: str
    shape: str
    expr: str | None
    method: str
    verdict: Verdict | None = None
    componentwise: Grid | None = None
    sizes: dict[str, int] = field(default_factory=dict)
    note: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "f": self.f, "wrt": self.wrt, "layout": self.layout, "shape": self.shape,
            "expr": self.expr, "method": self.method, "note": self.note,
            "sizes": self.sizes,
            "componentwise": [list(r) for r in self.componentwise] if self.componentwise else None,
            "verdict": self.verdict.to_dict() if self.verdict is not None else None,
            "seconds": round(self.seconds, 4),
        }

    def __str__(self) -> str:
        from .rendering.text import derivation_text

        return derivation_text(self)

    def _repr_html_(self) -> str:
        from .rendering.text import derivation_html

        return derivation_html(self)
