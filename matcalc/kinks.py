"""Kinks: where ``abs``, ``relu``, ``sign`` and ``norm1`` change branch.

matcalc's derivatives hold away from the kinks, and a claim can be right on
one side of a kink and wrong on the other (``d(sum(abs(x - 20)))/d(x) =
-ones(1, n)`` holds wherever every ``x_i < 20``). Points drawn near the origin
stay on one side of a far kink, so the numeric stage looks for the other side:
from a sampled point it walks along random lines, at geometrically growing
steps in both directions, until the kink's argument shows an entry of the sign
not seen yet, and adds that point (when it passes the domain guards). Every
line keeps the assumptions: structured variables move within their structure,
``positive`` ones multiplicatively, ``spd`` ones by a positive factor, and
orthogonal ones stay where they are.

Which kinks were seen on which side is recorded in the numeric evidence.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from . import expr as E
from .ops import MARGIN

#: operations with a kink where their argument crosses 0
KINK_OPS = ("abs", "relu", "sign", "norm1")
#: random lines tried per size instantiation while a kink lacks a side
LINES = 4
#: step lengths along a line (both directions), in units of the direction
STEPS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0)


def kinks(exprs: Iterable[E.Expr]) -> list[E.Apply]:
    """The kinked operations in ``exprs`` (each distinct one once)."""
    found: dict[E.Expr, None] = {}
    for expr in exprs:
        for node in E.walk(expr):
            if isinstance(node, E.Apply) and node.op in KINK_OPS:
                found[node] = None
    return list(found)


def sides(values: Any) -> tuple[bool, bool]:
    """Whether some entry is clearly below 0, and whether some is clearly above."""
    return bool((values < -MARGIN).any()), bool((values > MARGIN).any())


def signed_steps() -> list[float]:
    return [s * sign for s in STEPS for sign in (1.0, -1.0)]


def move(env: Mapping[str, Any], direction: Mapping[str, Any], t: float,
         tags: Mapping[str, frozenset[str]]) -> dict[str, Any]:
    """The point ``t`` along the line from ``env`` in ``direction``, within every
    variable's assumptions."""
    out = {}
    log_step = math.copysign(math.log1p(abs(t)), t)
    for name, value in env.items():
        tag = tags.get(name, frozenset())
        if "orthogonal" in tag:
            out[name] = value
        elif "spd" in tag:
            out[name] = value * math.exp(log_step)
        elif "positive" in tag:
            out[name] = value * (direction[name] * log_step).exp()
        else:
            out[name] = value + direction[name] * t
    return out


def record(kinks_: Iterable[E.Apply], seen: Mapping[E.Expr, tuple[bool, bool]]) -> tuple:
    """``(text of the kinked operation, argument below 0 seen, above 0 seen)`` each."""
    return tuple((E.to_text(k), *seen.get(k.args[0], (False, False))) for k in kinks_)
