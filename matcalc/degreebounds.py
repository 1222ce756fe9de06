"""Degree and coefficient-size bounds of determinants, inverses and matrix
products beyond the small sizes (:mod:`matcalc.linalg` calls them for the
degree kit, :class:`~matcalc.fields.DegreeKit`).

Elimination would double the bounds at every step, so the bounds come from the
rows instead. Row ``r`` times the product ``Q_r`` of its denominators (degree
``D_r``) is polynomial, of degree at most ``N_r = D_r + max(0, max_j (n_rj -
d_rj))``. Hence ``det(A) = det(diag(Q) A) / prod(Q)`` has degrees at most
``(sum N, sum D)``, every cofactor shares that denominator with a numerator of
degree at most ``sum N``, and ``inv(A) = adj(A) / det(A)`` has degrees at most
``(sum N, sum N)`` with one common denominator. The derivatives' bounds follow
from ``d det(A) = det(A) tr(inv(A) dA)`` and ``d inv(A) = -inv(A) dA inv(A)``
with those common denominators. The bit sizes of the coefficients
(``Degree.hn``, ``Degree.hd``) follow the same representations: see
:func:`_row_bound` and :func:`_degree_matmul`.
"""

from __future__ import annotations

from typing import Any

from ._lazy import np
from .budget import check_time
from .fields import Degree, Dual


def array(rows: int, cols: int, entry: Any) -> Any:
    out = np.empty((rows, cols), dtype=object)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = entry(i, j)
    return out


def total(values: Any, start: Any) -> Any:
    acc = start
    for v in values:
        acc = acc + v
    return acc


def _top_tag(a: Any) -> int | None:
    tags = [x.tag for x in a.flat if isinstance(x, Dual)]
    return max(tags) if tags else None


def _split_duals(a: Any, tag: int) -> tuple[Any, list[Any]]:
    """The values under the duals of ``tag`` and one array of tangents per direction."""
    count = next(len(x.tan) for x in a.flat if isinstance(x, Dual) and x.tag == tag)
    values = np.empty(a.shape, dtype=object)
    tangents = [np.empty(a.shape, dtype=object) for _ in range(count)]
    for index in np.ndindex(a.shape):
        x = a[index]
        own = isinstance(x, Dual) and x.tag == tag
        values[index] = x.val if own else x
        for k in range(count):
            tangents[k][index] = x.tan[k] if own else Degree(0, 0)
    return values, tangents


def _row_bound(a: Any) -> tuple[int, int, int, int]:
    """``(sum N, sum D)`` of the module docstring, for plain degree bounds, and
    the bit sizes alike: ``det(diag(Q) A)`` is a sum over permutations of
    products of one entry per row, so its 1-norm is at most the product over the
    rows of ``n`` times the largest entry's, row ``r``'s entries having bit sizes
    at most ``max_j hn_rj + sum_j hd_rj`` (a cofactor's rows are among them)."""
    total_n = total_d = total_hn = total_hd = 0
    width = max(1, len(a[0]) - 1).bit_length()  # ceil(log2 n) for n >= 2
    for row in a:
        entries = [Degree.of(x) for x in row]
        d = sum(e.d for e in entries)
        hd = sum(e.hd for e in entries)
        total_d += d
        total_n += d + max(0, max(e.n - e.d for e in entries))
        total_hd += hd
        total_hn += hd + max(e.hn for e in entries) + width
    return total_n, total_d, total_hn, total_hd


def degree_det(a: Any) -> Any:
    tag = _top_tag(a)
    if tag is None:
        return Degree(*_row_bound(a))
    values, tangents = _split_duals(a, tag)
    value = degree_det(values)  # bounds every cofactor too, over one common denominator
    return Dual(tag, value, [value * total(t.flat, Degree(0, 0)) for t in tangents])


def degree_inv(a: Any) -> Any:
    n = a.shape[0]
    tag = _top_tag(a)
    if tag is None:
        total_n, _, total_hn, _ = _row_bound(a)
        bound = Degree(total_n, total_n, total_hn, total_hn)
        return array(n, n, lambda i, j: bound)
    values, tangents = _split_duals(a, tag)
    bound = degree_inv(values)[0, 0]  # every entry: one common denominator
    slopes = [bound * total(t.flat, Degree(0, 0)) * bound for t in tangents]
    entry = Dual(tag, bound, slopes)
    return array(n, n, lambda i, j: entry)


def split_degree(a: Any) -> tuple[int | None, int, Any, list[Any]] | None:
    """``(tag, count, values, tangents)`` when every entry is a degree bound or a
    dual of one tag over them (a plain entry's tangents: 0, of degree 0), else None."""
    tag, count = None, 0
    for x in a.flat:
        if isinstance(x, Dual):
            if tag is None:
                tag, count = x.tag, len(x.tan)
            if x.tag != tag or len(x.tan) != count or not isinstance(x.val, Degree) \
                    or not all(isinstance(t, Degree) for t in x.tan):
                return None
        elif not isinstance(x, Degree):
            return None
    if tag is None:
        return None, 0, a, []
    values, tangents = _split_duals(a, tag)
    return tag, count, values, tangents


def degree_dual_matmul(left: tuple, right: tuple) -> Any:
    """Bounds of ``a @ b`` and of its tangents ``da @ b + a @ db``."""
    tag = left[0] if left[0] is not None else right[0]
    count = max(left[1], right[1])
    a, b = left[2], right[2]
    value = _degree_matmul(a, b)
    if tag is None:
        return value
    slopes = []
    for k in range(count):
        parts = []
        if left[0] is not None:
            parts.append(_degree_matmul(left[3][k], b))
        if right[0] is not None:
            parts.append(_degree_matmul(a, right[3][k]))
        slopes.append(parts[0] if len(parts) == 1 else parts[0] + parts[1])
    out = np.empty(value.shape, dtype=object)
    for index in np.ndindex(value.shape):
        out[index] = Dual(tag, value[index], [s[index] for s in slopes])
    return out


def _degree_matmul(a: Any, b: Any) -> Any:
    """Sums of products of degree bounds, as the schoolbook product would
    combine them (``(n, d) + (n', d') = (max(n + d', n' + d), d + d')``, so a
    sum's excess ``n - d`` is the largest excess, and 0 for the sum's start).
    Bit sizes: the sum of ``k`` products over the product of all denominators
    has a numerator of at most ``k`` times the largest product's 1-norm."""
    an = np.array([[x.n for x in row] for row in a], dtype=object)
    ad = np.array([[x.d for x in row] for row in a], dtype=object)
    bn = np.array([[x.n for x in row] for row in b], dtype=object)
    bd = np.array([[x.d for x in row] for row in b], dtype=object)
    ahn = np.array([[x.hn for x in row] for row in a], dtype=object)
    ahd = np.array([[x.hd for x in row] for row in a], dtype=object)
    bhn = np.array([[x.hn for x in row] for row in b], dtype=object)
    bhd = np.array([[x.hd for x in row] for row in b], dtype=object)
    check_time()
    excess = (an - ad)[:, :, None] + (bn - bd)[None, :, :]  # rows x inner x cols
    top = np.maximum(excess.max(axis=1), 0)
    denominators = ad.sum(axis=1)[:, None] + bd.sum(axis=0)[None, :]
    check_time()
    largest = (ahn[:, :, None] + bhn[None, :, :]).max(axis=1)
    bits = ahd.sum(axis=1)[:, None] + bhd.sum(axis=0)[None, :]
    width = max(1, a.shape[1] - 1).bit_length()
    rows, cols = top.shape
    return array(rows, cols, lambda i, j: Degree(int(top[i, j] + denominators[i, j]),
                                                 int(denominators[i, j]),
                                                 int(largest[i, j] + bits[i, j]) + width,
                                                 int(bits[i, j])))
