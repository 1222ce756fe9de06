"""Layouts: the one place where a Jacobian's axes are arranged (docs/design.md §1).

Both engines produce derivatives in one *native* order, the order of
``torch.func.jacrev``: the output's axes, then the input's, unreversed::

    J[p, q, i, j] = d out[p, q] / d wrt[i, j]

with every value two-dimensional (a column ``x`` is ``(n, 1)``). A layout is a
:class:`LayoutPlan` computed from the shapes alone: drop the unit axes, permute,
reshape. :func:`layout_plan` gives the plan (and so the layout's shape, which the
expression tree uses) and :func:`arrange` applies it to an array, whether a
NumPy array of SymPy expressions or a torch tensor.

* numerator: output axes, then the input's axes reversed
  (``D[j, i] = dy/dX[i, j]``); scalar-by-vector is a row ``(1, n)``,
  vector-by-scalar a column ``(m, 1)``;
* denominator: the numerator result with all its axes reversed;
* mixed: denominator for a scalar output, numerator otherwise;
* vec: ``d vec(out) / d vec(wrt)``, ``numel(out) x numel(wrt)``, column-major.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .shapes import SCALAR, Dim, Shape, axes, column, concrete

LAYOUTS = ("numerator", "denominator", "mixed", "vec")


@dataclass(frozen=True)
class LayoutPlan:
    """``keep`` the native axes that are not unit axes, permute them by
    ``perm``, and reshape the result to ``shape``."""

    keep: tuple[int, ...]
    perm: tuple[int, ...]
    shape: Shape


@lru_cache(maxsize=4096)
def layout_plan(out: Shape, wrt: Shape, layout: str) -> LayoutPlan:
    """The arrangement of ``d(out)/d(wrt)`` in ``layout``."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}")
    out_axes = axes(out)
    in_axes = tuple(len(out) + i for i in axes(wrt))
    full = tuple(out) + tuple(wrt)
    keep = out_axes + in_axes
    if layout == "vec":
        # column-major vec of each side: reverse its axes, then flatten row-major
        order = tuple(reversed(out_axes)) + tuple(reversed(in_axes))
        rows, cols = Dim(), Dim()
        for i in out_axes:
            rows = rows * full[i]
        for i in in_axes:
            cols = cols * full[i]
        return LayoutPlan(keep, tuple(keep.index(i) for i in order), (rows, cols))
    numerator = out_axes + tuple(reversed(in_axes))
    reverse = layout == "denominator" or (layout == "mixed" and not out_axes)
    order = tuple(reversed(numerator)) if reverse else numerator
    dims = tuple(full[i] for i in order)
    if not dims:
        shape: Shape = SCALAR
    elif len(dims) == 1:
        # numerator: scalar-by-vector is a row, vector-by-scalar a column
        is_row = bool(in_axes) != reverse
        shape = (Dim(), dims[0]) if is_row else column(dims[0])
    else:
        shape = dims
    return LayoutPlan(keep, tuple(keep.index(i) for i in order), shape)


def arrange(native: Any, plan: LayoutPlan, sizes: Mapping[str, int],
            sizes_key: tuple[tuple[str, int], ...] | None = None) -> Any:
    """Apply ``plan`` to a native Jacobian (NumPy array or torch tensor);
    ``sizes_key``, ``sizes`` as a tuple of items, lets the steps be reused."""
    if sizes_key is None:
        sizes_key = tuple(sizes.items())
    kept, perm, shape = _steps(plan, tuple(native.shape), sizes_key)
    if perm is None:  # the native order is the layout's: one reshape (a view)
        return native.reshape(shape)
    kept_array = native.reshape(kept)
    if hasattr(kept_array, "permute"):
        moved = kept_array.permute(perm)
    else:
        moved = kept_array.transpose(perm)
    return moved.reshape(shape)


@lru_cache(maxsize=4096)
def _steps(plan: LayoutPlan, native: tuple[int, ...], sizes: tuple[tuple[str, int], ...]
           ) -> tuple[tuple[int, ...], tuple[int, ...] | None, tuple[int, ...]]:
    """:func:`arrange`'s reshape, permutation (None: the identity) and final shape."""
    perm = None if plan.perm == tuple(range(len(plan.perm))) else plan.perm
    return (tuple(native[i] for i in plan.keep), perm, concrete(plan.shape, dict(sizes)))


def unarrange(arranged: Any, plan: LayoutPlan, native_shape: tuple[int, ...]) -> Any:
    """The inverse of :func:`arrange`: a layout's array back in native order."""
    kept = [native_shape[i] for i in plan.keep]
    moved = arranged.reshape(tuple(kept[i] for i in plan.perm))
    inverse = [0] * len(plan.perm)
    for position, axis in enumerate(plan.perm):
        inverse[axis] = position
    back = moved.permute(inverse) if hasattr(moved, "permute") else moved.transpose(inverse)
    return back.reshape(native_shape)
