"""Dimensions and shapes, and the shape rules every operation uses.

A dimension is a product of dimension names and a positive integer (``n``,
``3``, ``m*n`` for ``vec`` of an ``m x n`` matrix). Every value in an
expression is two-dimensional: a column vector ``x: n`` is ``(n, 1)``, its
transpose ``(1, n)``, a scalar ``(1, 1)``. Only derivatives of non-scalar
quantities with respect to non-scalars produce tensors of rank 3 or 4.

A literal ``1`` in a shape is a *unit* axis: it is what makes ``(n, 1)`` a
vector rather than a matrix, and layouts drop it (docs/design.md §1). A named
dimension never counts as a unit axis, whatever size it is given later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import ShapeError


@dataclass(frozen=True, order=True)
class Dim:
    """A product ``coeff * name1 * name2 ...`` of dimension names."""

    coeff: int = 1
    names: tuple[str, ...] = ()

    @classmethod
    def of(cls, value: int | str | Dim) -> Dim:
        if isinstance(value, Dim):
            return value
        if isinstance(value, int):
            return cls(value, ())
        return cls(1, (value,))

    def __mul__(self, other: Dim) -> Dim:
        return Dim(self.coeff * other.coeff, tuple(sorted(self.names + other.names)))

    @property
    def is_unit(self) -> bool:
        return self.coeff == 1 and not self.names

    def size(self, sizes: Mapping[str, int]) -> int:
        total = self.coeff
        for name in self.names:
            total *= sizes[name]
        return total

    def __str__(self) -> str:
        parts = [str(self.coeff)] if self.coeff != 1 or not self.names else []
        return "*".join(parts + list(self.names))

    def __repr__(self) -> str:
        return f"Dim({str(self)!r})"


ONE = Dim()
Shape = tuple[Dim, ...]
SCALAR: Shape = (ONE, ONE)


def column(d: Dim) -> Shape:
    return (d, ONE)


def fmt(shape: Shape) -> str:
    """``(m, n)``; the form used in every message."""
    return "(" + ", ".join(str(d) for d in shape) + ")"


def kind(shape: Shape) -> str:
    """One of ``scalar``, ``column``, ``row``, ``matrix`` or ``tensor``."""
    if len(shape) != 2:
        return "tensor"
    rows, cols = shape
    if rows.is_unit and cols.is_unit:
        return "scalar"
    if cols.is_unit:
        return "column"
    if rows.is_unit:
        return "row"
    return "matrix"


def is_scalar(shape: Shape) -> bool:
    return shape == SCALAR


def is_vector(shape: Shape) -> bool:
    return kind(shape) in ("column", "row")


def length(shape: Shape) -> Dim:
    """The length of a vector (or 1 for a scalar)."""
    if kind(shape) == "scalar":
        return ONE
    rows, cols = shape
    return cols if rows.is_unit else rows


def numel(shape: Shape) -> Dim:
    total = ONE
    for d in shape:
        total = total * d
    return total


def axes(shape: Shape) -> tuple[int, ...]:
    """Indices of the axes a layout keeps: all but the unit axes."""
    return tuple(i for i, d in enumerate(shape) if not d.is_unit)


def concrete(shape: Shape, sizes: Mapping[str, int]) -> tuple[int, ...]:
    return tuple(d.size(sizes) for d in shape)


def dim_names(shapes: Iterable[Shape]) -> list[str]:
    """Dimension names in order of first appearance."""
    seen: dict[str, None] = {}
    for shape in shapes:
        for d in shape:
            for name in d.names:
                seen.setdefault(name, None)
    return list(seen)


# ---------------------------------------------------------------------------
# Shape rules. Each takes the operands' shapes and the operands' display texts
# (for messages) and returns the result shape or raises ShapeError naming both
# operands and their shapes.


def require_2d(shape: Shape, text: str, what: str, position: int | None) -> None:
    if len(shape) != 2:
        raise ShapeError(
            f"{what} needs a scalar, vector or matrix, but {text} is a tensor of shape "
            f"{fmt(shape)}; only +, -, scaling and d() apply to tensors",
            position=position,
            token=text,
        )


def elementwise_binary(
    symbol: str, a: Shape, b: Shape, ta: str, tb: str, position: int | None
) -> Shape:
    """``+ - * /``: equal shapes, or one operand a scalar (it broadcasts)."""
    if a == b:
        return a
    if is_scalar(a) and (len(b) == 2 or symbol in "*/"):
        return b
    if is_scalar(b) and (len(a) == 2 or symbol in "*/"):
        return a
    hint = None
    if symbol == "*" and len(a) == 2 and len(b) == 2 and a[1] == b[0]:
        hint = f"'*' is elementwise; for the matrix product write {ta} @ {tb}"
    elif len(a) == 2 and len(b) == 2 and (a[1], a[0]) == b:
        hint = f"the shapes are transposes of each other: did you mean {tb}.T?"
    raise ShapeError(
        f"{ta} {symbol} {tb}: {ta} is {fmt(a)} and {tb} is {fmt(b)}; "
        f"'{symbol}' needs equal shapes (or a scalar operand)",
        position=position,
        token=symbol,
        hint=hint,
    )


def matmul(a: Shape, b: Shape, ta: str, tb: str, position: int | None) -> Shape:
    require_2d(a, ta, "'@'", position)
    require_2d(b, tb, "'@'", position)
    if a[1] == b[0]:
        return (a[0], b[1])
    hint = None
    if is_scalar(a) or is_scalar(b):
        hint = "to scale by a scalar use '*'"
    elif a[0] == b[0]:
        hint = f"{ta}.T @ {tb} would fit"
    elif a[1] == b[1]:
        hint = f"{ta} @ {tb}.T would fit"
    raise ShapeError(
        f"{ta} @ {tb}: {ta} is {fmt(a)} and {tb} is {fmt(b)}; "
        f"the inner dimensions {a[1]} and {b[0]} differ",
        position=position,
        token="@",
        hint=hint,
    )


def square(shape: Shape, text: str, fn: str, position: int | None) -> Dim:
    require_2d(shape, text, f"{fn}()", position)
    if shape[0] != shape[1]:
        raise ShapeError(
            f"{fn}({text}): {text} is {fmt(shape)}, not square",
            position=position,
            token=fn,
        )
    return shape[0]


def vector(shape: Shape, text: str, fn: str, position: int | None) -> Dim:
    require_2d(shape, text, f"{fn}()", position)
    if kind(shape) not in ("column", "row", "scalar"):
        raise ShapeError(
            f"{fn}({text}): {text} is {fmt(shape)}, not a vector",
            position=position,
            token=fn,
        )
    return length(shape)


def transpose(shape: Shape, text: str, position: int | None) -> Shape:
    require_2d(shape, text, "'.T'", position)
    return (shape[1], shape[0])


def scalar_exponent(shape: Shape, text: str, position: int | None) -> None:
    if not is_scalar(shape):
        raise ShapeError(
            f"the exponent {text} is {fmt(shape)}, not a scalar",
            position=position,
            token="**",
            hint="'**' is elementwise; matrix powers are written with '@'",
        )
