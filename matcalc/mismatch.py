"""The message for a claim whose two sides have different shapes, and hints on
what would fit (another layout, the transpose, the shape a constant needs)."""

from __future__ import annotations

from . import expr as E
from .layout import LAYOUTS, layout_plan
from .shapes import fmt, kind
from .surface import setting


def shape_mismatch(lhs: E.Expr, rhs: E.Expr, layout: str) -> tuple[str, tuple[str, ...]]:
    """The message for sides of different shapes, and hints on what would fit."""
    if not isinstance(lhs, E.Derivative):
        return (f"the two sides have different shapes: {E.to_text(lhs)} is {fmt(lhs.shape)} "
                f"and {E.to_text(rhs)} is {fmt(rhs.shape)}"), ()
    message = (f"the claim {E.to_text(rhs)} is {fmt(rhs.shape)}, but d({E.to_text(lhs.of)})"
               f"/d({lhs.wrt.name}) in {layout} layout is {fmt(lhs.shape)}")
    hints = []
    if len(lhs.shape) > 2:
        hints.append(f"in {layout} layout this derivative is a {len(lhs.shape)}-d tensor; "
                     f"state it in the vec layout ({setting('layout', 'vec')}), e.g. with kron")
    for other in LAYOUTS:
        if other != layout and layout_plan(lhs.of.shape, lhs.wrt.shape, other).shape == rhs.shape:
            hints.append(f"{fmt(rhs.shape)} is the {other}-layout shape: "
                         f"use {setting('layout', other)}, or state the claim in {layout} layout")
            break
    if len(rhs.shape) == 2 and (rhs.shape[1], rhs.shape[0]) == lhs.shape:
        hints.append(f"its transpose fits: {E.transposed_text(rhs)}")
    if kind(rhs.shape) == "scalar" and len(lhs.shape) == 2 and kind(lhs.shape) != "scalar":
        rows, cols = lhs.shape
        hints.append(f"a constant claim needs the derivative's shape, e.g. zeros({rows}, {cols})")
    return message, tuple(hints)
