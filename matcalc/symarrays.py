"""SymPy values as NumPy object arrays: the one set of helpers to build, map and show them.

Both the operation registry's SymPy forms (:mod:`matcalc.ops`) and the exact
engine (:mod:`matcalc.symbolic`, :mod:`matcalc.zerotest`) hold a value as a 2-d
NumPy object array of SymPy expressions. SymPy and NumPy are imported on first
use (:mod:`matcalc._lazy`).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from ._lazy import np, sp
from .evidence import Grid


def grid(rows: int, cols: int, entry: Callable[[int, int], Any]) -> Any:
    """The ``rows`` x ``cols`` object array whose entry ``(i, j)`` is ``entry(i, j)``."""
    out = np.empty((rows, cols), dtype=object)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = entry(i, j)
    return out


def scalar(value: Any) -> Any:
    """``value`` as a 1 x 1 array."""
    return grid(1, 1, lambda i, j: value)


def map_array(fn: Callable[[Any], Any], a: Any) -> Any:
    """``fn`` applied to every entry of an object array."""
    out = np.empty(a.shape, dtype=object)
    for index in np.ndindex(a.shape):
        out[index] = fn(a[index])
    return out


def rational(value: Fraction) -> Any:
    """An exact fraction as a SymPy rational."""
    return sp.Rational(value.numerator, value.denominator)


def _number_text(value: Any, digits: int = 6) -> str:
    if value.is_Integer:
        return str(int(value))
    if value.is_Rational:
        return f"{value.p}/{value.q}"
    if value.free_symbols:
        return str(value)
    try:
        if digits > 15:
            return str(value.evalf(digits))
        number = complex(value.evalf(15))
    except (TypeError, ValueError):
        return str(value)
    if abs(number.imag) > 1e-12:
        return str(value)
    return f"{number.real:.{digits}g}"


def as_grid(a: Any, digits: int = 6) -> Grid:
    """An array of SymPy values as text (numbers to ``digits`` significant
    digits), for records and reports."""
    if a.ndim != 2:
        a = a.reshape(a.shape[0], -1) if a.ndim > 2 else a.reshape(1, -1)
    return tuple(tuple(_number_text(e, digits) if not e.free_symbols else str(e) for e in row)
                 for row in a)


def shown_grids(left: Any, right: Any) -> tuple[Grid, Grid]:
    """Both arrays as text with enough digits that they visibly differ (6, then
    more where they agree to 6 digits)."""
    for digits in (6, 12, 30, 60):
        pair = as_grid(left, digits), as_grid(right, digits)
        if pair[0] != pair[1]:
            break
    return pair
