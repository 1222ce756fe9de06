"""Determinants, inverses and matrix products in the point test's number kits.

Up to ``SMALL`` rows (``limits.MAX_SYMBOLIC_DIM``) the forms are the plain
ones: Bird's division-free determinant, valid at singular points (where the
derivative of det need not vanish), Gauss-Jordan elimination for the inverse
and the schoolbook product. Beyond it (sizes pinned up to
``limits.MAX_EXACT_PINNED_LINALG``) every form costs O(n^3) per evaluation:

* integers modulo the test's prime p (:class:`~matcalc.residues.Mod`, and one
  level of duals over them): elimination on plain Python integers. A column
  without a non-zero pivot means the matrix is singular modulo p: its
  determinant is then exactly 0 (the value at the point, modulo p) and its
  inverse does not exist
  (ZeroDivisionError, so the modular test draws another point). Derivatives
  follow ``d det(A) = det(A) tr(inv(A) dA)`` and ``d inv(A) = -inv(A) dA inv(A)``,
  which need ``A`` invertible at the point (an inverse at a singular one is
  another draw; the derivative of det there comes from elimination over the
  dual numbers, :func:`_singular_slope`);
* fractions, intervals and deeper duals: elimination on the kit's own values,
  pivoting on an entry the kit knows is non-zero (for intervals the largest);
  the derivative of det at a singular matrix is not evaluated there either;
* degree and coefficient-size bounds (:class:`~matcalc.fields.Degree`): from
  the rows, without elimination (:mod:`matcalc.degreebounds`).
"""

from __future__ import annotations

from fractions import Fraction
from operator import mul
from typing import Any

from . import limits
from ._lazy import np
from .budget import check_time
from .degreebounds import (array, degree_det, degree_dual_matmul, degree_inv, split_degree,
                           total)
from .fields import Dual, Iv, OutOfDomain, Unevaluated, base
from .residues import Mod

#: up to this many rows the plain forms are used (their cost grows faster than n^3)
SMALL = limits.MAX_SYMBOLIC_DIM
#: the kits whose rational values are fractions
_FRACTIONS = ("exact", "hybrid")


# ---------------------------------------------------------------------------
# The plain forms (small matrices)


def bird_det(a: Any) -> Any:
    """The determinant by Bird's division-free algorithm (Inf. Proc. Letters,
    2011): ``X <- mu(X) @ A`` n - 1 times, where ``mu(X)`` keeps the strict
    upper part of X and puts ``-(X[i+1, i+1] + ... + X[n-1, n-1])`` on the
    diagonal; then ``det(A) = (-1)**(n-1) X[0, 0]``. Valid at singular points
    too, where the derivative of det need not vanish."""
    n = a.shape[0]
    rows = [list(r) for r in a]
    x = rows
    for _ in range(n - 1):
        check_time()
        tails = [None] * n
        tail = 0
        for i in range(n - 1, -1, -1):
            tails[i] = -tail
            tail = tail + x[i][i]
        x = [[total((x[i][k] * rows[k][j] for k in range(i + 1, n)), tails[i] * rows[i][j])
              for j in range(n)] for i in range(n)]
    return x[0][0] if n % 2 == 1 else -x[0][0]


def gauss_jordan(a: Any, kit: Any) -> Any:
    """The inverse by Gauss-Jordan elimination, pivoting on entries the kit
    knows are non-zero (for intervals the largest one)."""
    n = a.shape[0]
    m = [list(a[i]) + [kit.const(Fraction(int(i == j))) for j in range(n)] for i in range(n)]
    for col in range(n):
        check_time()
        pivot = _pivot(m, col, kit)
        if pivot is None:
            raise OutOfDomain("inv of a matrix that is (or may be) singular")
        m[col], m[pivot] = m[pivot], m[col]
        scale = 1 / m[col][col]
        m[col] = [e * scale for e in m[col]]
        for r in range(n):
            if r != col:
                factor = m[r][col]
                m[r] = [e - factor * p for e, p in zip(m[r], m[col])]
    return array(n, n, lambda i, j: m[i][n + j])


def _pivot(m: list[list[Any]], col: int, kit: Any) -> int | None:
    rows = [r for r in range(col, len(m)) if not kit.is_zero(m[r][col])]
    if not rows:
        return None
    if kit.name == "interval":  # the widest margin from 0
        return max(rows, key=lambda r: abs(base(m[r][col]).x.mid.a))
    return rows[0]


# ---------------------------------------------------------------------------
# The forms every evaluator calls


def det(a: Any, kit: Any) -> Any:
    """``det(a)`` in ``kit`` (see the module docstring for the method by size)."""
    n = a.shape[0]
    if kit.name == "degree" and n > SMALL:
        return degree_det(a)
    if n <= SMALL:
        return bird_det(a)
    if kit.name == "modular":
        split = _split_mod(a)
        if split is not None:
            return _mod_det(*split)
    if kit.name in _FRACTIONS and all(isinstance(x, (int, Fraction)) for x in a.flat):
        return _fraction_free(a, want_inverse=False)
    return _eliminated_det(a, kit)


def inverse(a: Any, kit: Any) -> Any:
    """``inv(a)`` in ``kit``; OutOfDomain (ZeroDivisionError modulo p) where
    the matrix is singular."""
    n = a.shape[0]
    if n > SMALL and kit.name == "degree":
        return degree_inv(a)
    if n > SMALL and kit.name == "modular":
        split = _split_mod(a)
        if split is not None:
            return _mod_inv(*split)
    if n > SMALL and kit.name in _FRACTIONS and all(isinstance(x, (int, Fraction)) for x in a.flat):
        return _fraction_free(a, want_inverse=True)
    return gauss_jordan(a, kit)


def matmul(a: Any, b: Any, kit: Any) -> Any:
    """``a @ b`` in ``kit``: integers modulo p and degree bounds in bulk when
    large, the schoolbook product otherwise."""
    rows, inner, cols = a.shape[0], a.shape[1], b.shape[1]
    if rows * inner * cols > SMALL ** 3:
        if kit.name == "modular":
            left, right = _split_mod(a), _split_mod(b)
            if left is not None and right is not None and (
                    left[0] is None or right[0] is None or left[0:2] == right[0:2]):
                return _mod_matmul(left, right)
        if kit.name == "degree":
            left, right = split_degree(a), split_degree(b)
            if left is not None and right is not None and (
                    left[0] is None or right[0] is None or left[0:2] == right[0:2]):
                return degree_dual_matmul(left, right)
        if kit.name in _FRACTIONS and all(isinstance(x, (int, Fraction)) for x in a.flat) \
                and all(isinstance(x, (int, Fraction)) for x in b.flat):
            return _fraction_matmul(a, b)
    zero = kit.const(Fraction(0))
    out = np.empty((rows, cols), dtype=object)
    for i in range(rows):
        check_time()
        for j in range(cols):
            out[i, j] = total((a[i, k] * b[k, j] for k in range(inner)), zero)
    return out


# ---------------------------------------------------------------------------
# Elimination on the kit's values


def _eliminated_det(a: Any, kit: Any) -> Any:
    n = a.shape[0]
    m = [list(r) for r in a]
    result: Any = kit.const(Fraction(1))
    for col in range(n):
        check_time()
        pivot = _pivot(m, col, kit)
        if pivot is None:
            if any(isinstance(x, Dual) for x in a.flat):
                raise Unevaluated(f"the derivative of det at a singular matrix is only "
                                  f"evaluated up to n = {SMALL}")
            if kit.name == "interval" or any(isinstance(x, Iv) for x in a.flat):
                raise OutOfDomain("det of a matrix that may be singular")
            return kit.const(Fraction(0))  # singular: exactly 0
        if pivot != col:
            m[col], m[pivot] = m[pivot], m[col]
            result = -result
        head = m[col]
        result = result * head[col]
        inverse_pivot = 1 / head[col]
        for r in range(col + 1, n):
            factor = m[r][col] * inverse_pivot
            row = m[r]
            m[r] = row[:col + 1] + [e - factor * p for e, p in zip(row[col + 1:], head[col + 1:])]
    return result


# ---------------------------------------------------------------------------
# Fractions: fraction-free elimination on integers (Bareiss)


def _fraction_free(a: Any, want_inverse: bool) -> Any:
    """det(a), or inv(a), of a matrix of fractions: each row is scaled to
    integers, then Bareiss' fraction-free Gauss-Jordan elimination keeps every
    entry an integer (a minor of the augmented matrix), so that no fraction is
    reduced on the way. Its divisions are exact; a remainder (impossible) falls
    back to elimination on fractions."""
    n = a.shape[0]
    scales, m = [], []
    for i in range(n):
        row = [Fraction(x) for x in a[i]]
        scale = 1
        for x in row:
            scale = scale * x.denominator // _gcd(scale, x.denominator)
        scales.append(scale)
        m.append([int(x * scale) for x in row] + ([int(i == j) for j in range(n)]
                                                   if want_inverse else []))
    sign, previous = 1, 1
    for k in range(n):
        check_time()
        pivot = next((r for r in range(k, n) if m[r][k]), None)
        if pivot is None:
            if want_inverse:
                raise OutOfDomain("inv of a matrix that is (or may be) singular")
            return Fraction(0)
        if pivot != k:
            m[k], m[pivot] = m[pivot], m[k]
            sign = -sign
        head, p = m[k], m[k][k]
        for r in range(n) if want_inverse else range(k + 1, n):
            if r == k:
                continue
            row, factor = m[r], m[r][k]
            new = []
            for e, h in zip(row, head):
                q, rest = divmod(p * e - factor * h, previous)
                if rest:  # pragma: no cover - Bareiss' divisions are exact
                    return (gauss_jordan(a, _EXACT) if want_inverse
                            else _eliminated_det(a, _EXACT))
                new.append(q)
            m[r] = new
        previous = p
    total_scale = 1
    for scale in scales:
        total_scale *= scale
    determinant = Fraction(sign * m[n - 1][n - 1], total_scale)
    if not want_inverse:
        return determinant
    # now m = [D I | adj] up to the row swaps' sign, with D = m[n-1][n-1]: inv(M) = right / D,
    # and inv(a) = inv(M) diag(scales)
    last = m[n - 1][n - 1]
    return array(n, n, lambda i, j: Fraction(m[i][n + j] * scales[j], last))


def _integer_rows(rows: list[list[Fraction]]) -> tuple[list[list[int]], list[int]]:
    """Each row times the least common multiple of its denominators, and those."""
    out, scales = [], []
    for row in rows:
        scale = 1
        for x in row:
            scale = scale * x.denominator // _gcd(scale, x.denominator)
        out.append([int(x * scale) for x in row])
        scales.append(scale)
    return out, scales


def _fraction_matmul(a: Any, b: Any) -> Any:
    """``a @ b`` of fractions: rows of ``a`` and columns of ``b`` scaled to integers,
    so that each entry is one integer dot product and one fraction."""
    left, row_scales = _integer_rows([[Fraction(x) for x in row] for row in a])
    right, col_scales = _integer_rows([[Fraction(x) for x in col] for col in b.T])
    out = np.empty((len(left), len(right)), dtype=object)
    for i, row in enumerate(left):
        check_time()
        for j, col in enumerate(right):
            out[i, j] = Fraction(sum(map(mul, row, col)), row_scales[i] * col_scales[j])
    return out


class _ExactFallback:
    name = "exact"

    def const(self, value: Fraction) -> Fraction:
        return value

    def is_zero(self, x: Any) -> bool:
        return base(x) == 0


_EXACT = _ExactFallback()


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


# ---------------------------------------------------------------------------
# Integers modulo p: plain values and one level of duals


def _split_mod(a: Any) -> tuple[int | None, int, list[list[int]], list[list[list[int]]],
                                type[Mod]] | None:
    """``(tag, count, values, tangents, residues)`` as Python integers when every
    entry is a Mod or a dual of one tag over Mods (``tag`` None: no duals), else
    None; ``residues`` is the entries' class (its ``modulus`` the prime)."""
    tag, count = None, 0
    for x in a.flat:
        if isinstance(x, Dual):
            if tag is None:
                tag, count = x.tag, len(x.tan)
            if x.tag != tag or len(x.tan) != count or not isinstance(x.val, Mod) \
                    or not all(isinstance(t, Mod) for t in x.tan):
                return None
        elif not isinstance(x, Mod):
            return None
    rows, cols = a.shape
    values = [[base(a[i, j]).v for j in range(cols)] for i in range(rows)]
    tangents = [[[a[i, j].tan[k].v if isinstance(a[i, j], Dual) else 0 for j in range(cols)]
                 for i in range(rows)] for k in range(count)]
    return tag, count, values, tangents, type(base(a[0, 0]))


def _joined(residue: type[Mod], tag: int | None, value: int, tangents: list[int]) -> Any:
    if tag is None:
        return residue(value)
    return Dual(tag, residue(value), [residue(t) for t in tangents])


#: bits per limb of a residue in :func:`_int_product` (three limbs hold the 62 bits
#: of a residue modulo the test's prime)
_LIMB = 21


def _int_product(a: list[list[int]], b: list[list[int]], p: int) -> list[list[int]]:
    """``a @ b`` modulo p for residues (0 <= x < p < 2**63): each residue split into three
    21-bit limbs, the nine limb products by exact int64 matrix products (a sum of
    ``inner`` products below 2**42 stays below 2**63), recombined modulo p."""
    inner = len(b)
    if not a or not inner or not b[0] or inner >= 2 ** (63 - 2 * _LIMB):
        columns = list(zip(*b))  # pragma: no cover - empty or absurdly long products
        return [[sum(map(mul, row, col)) % p for col in columns] for row in a]
    check_time()
    mask = (1 << _LIMB) - 1
    left = np.array(a, dtype=object).reshape(len(a), inner)
    right = np.array(b, dtype=object).reshape(inner, len(b[0]))
    left_limbs = [((left >> (_LIMB * i)) & mask).astype(np.int64) for i in range(3)]
    right_limbs = [((right >> (_LIMB * j)) & mask).astype(np.int64) for j in range(3)]
    acc = np.zeros((len(a), len(b[0])), dtype=object)
    for i in range(3):
        for j in range(3):
            acc += (left_limbs[i] @ right_limbs[j]).astype(object) << (_LIMB * (i + j))
    return [[int(x) % p for x in row] for row in acc]


def _int_det_inv(a: list[list[int]], want_inverse: bool,
                 p: int) -> tuple[int, list[list[int]] | None]:
    """The determinant modulo p and (if wanted and it exists) the inverse, by
    Gaussian (Gauss-Jordan) elimination on integers. Each update subtracts a
    product of two reduced integers, so the entries grow additively and are only
    reduced where they are read (pivots, factors) and at the end."""
    n = len(a)
    m = np.zeros((n, 2 * n if want_inverse else n), dtype=object)
    m[:, :n] = np.array(a, dtype=object).reshape(n, n)
    if want_inverse:
        for i in range(n):
            m[i, n + i] = 1
    result = 1
    for col in range(n):
        check_time()
        column = m[col:, col] % p
        found = np.flatnonzero(column != 0)
        if not len(found):
            return 0, None
        pivot = col + int(found[0])
        if pivot != col:
            m[[col, pivot]] = m[[pivot, col]]
            result = -result
        head = m[col, col:] % p
        result = result * int(head[0]) % p
        head = head * pow(int(head[0]), p - 2, p) % p
        m[col, col:] = head
        start = 0 if want_inverse else col + 1
        factors = m[start:, col] % p
        if want_inverse:
            factors[col] = 0
        m[start:, col:] -= np.outer(factors, head)
    if not want_inverse:
        return result % p, None
    return result % p, [[int(x) % p for x in row[n:]] for row in m]


def _mod_det(tag: int | None, count: int, values: list[list[int]],
             tangents: list[list[list[int]]], residue: type[Mod]) -> Any:
    p = residue.modulus
    value, inv = _int_det_inv(values, want_inverse=tag is not None, p=p)
    if tag is None:
        return residue(value)
    if inv is None:  # singular at this point: the derivative needs more care
        if count > limits.MAX_EXACT_DIRECTIONS:  # pragma: no cover - directions are few here
            raise Unevaluated(f"the derivative of det at a singular matrix in more than "
                              f"{limits.MAX_EXACT_DIRECTIONS} directions")
        return _joined(residue, tag, 0, [_singular_slope(values, t, p) for t in tangents])
    n = len(values)
    # d det = det * tr(inv(A) dA) = det * sum_ij inv[j][i] dA[i][j]
    slopes = [value * sum(inv[j][i] * t[i][j] for i in range(n) for j in range(n)) % p
              for t in tangents]
    return _joined(residue, tag, value, slopes)


def _singular_slope(values: list[list[int]], tangent: list[list[int]], modulus: int) -> int:
    """The derivative of det at ``A`` (singular modulo the prime) along ``T``: the
    coefficient of e in det(A + e T) over the ring of ``a + b e`` with ``e**2 = 0``.
    Elimination pivots on units (``a != 0``) as over a field; a column whose
    remaining entries are all multiples of e gives det = e * det(that block with
    the column replaced by its e-parts, the rest by their values), computed
    modulo the prime. (``det(X - X.T)`` is 0 at every X of odd order, and so is its
    derivative: a check of this path.)"""
    n = len(values)
    va = [row[:] for row in values]
    vb = [row[:] for row in tangent]
    da, db = 1, 0  # the determinant so far, a + b e
    for col in range(n):
        check_time()
        pivot = next((r for r in range(col, n) if va[r][col] % modulus), None)
        if pivot is None:
            block = [[vb[r][col]] + va[r][col + 1:] for r in range(col, n)]
            rest, _ = _int_det_inv(block, want_inverse=False, p=modulus)
            return da * rest % modulus
        if pivot != col:
            va[col], va[pivot] = va[pivot], va[col]
            vb[col], vb[pivot] = vb[pivot], vb[col]
            da, db = -da, -db
        p, q = va[col][col] % modulus, vb[col][col] % modulus
        da, db = da * p % modulus, (da * q + db * p) % modulus
        inverse_p = pow(p, modulus - 2, modulus)
        for r in range(col + 1, n):
            a, b = va[r][col] % modulus, vb[r][col] % modulus
            if not (a or b):
                continue
            fa = a * inverse_p % modulus  # (a + b e) / (p + q e)
            fb = (b * p - a * q) * inverse_p * inverse_p % modulus
            head_a, head_b = va[col], vb[col]
            va[r] = [(x - fa * h) % modulus for x, h in zip(va[r], head_a)]
            vb[r] = [(y - fa * k - fb * h) % modulus for y, k, h in zip(vb[r], head_b, head_a)]
    return db % modulus


def _mod_inv(tag: int | None, count: int, values: list[list[int]],
             tangents: list[list[list[int]]], residue: type[Mod]) -> Any:
    p = residue.modulus
    _, inv = _int_det_inv(values, want_inverse=True, p=p)
    if inv is None:
        raise ZeroDivisionError("inv of a matrix singular modulo the prime")
    n = len(values)
    slopes = [_int_product(_int_product(inv, t, p), inv, p) for t in tangents]  # -inv dA inv
    return array(n, n, lambda i, j: _joined(residue, tag, inv[i][j],
                                            [-s[i][j] for s in slopes]))


def _mod_matmul(left: tuple, right: tuple) -> Any:
    tag = left[0] if left[0] is not None else right[0]
    count = max(left[1], right[1])
    a, b, residue = left[2], right[2], left[4]
    p = residue.modulus
    value = _int_product(a, b, p)
    slopes = []
    for k in range(count):  # d(AB) = dA B + A dB
        parts = []
        if left[0] is not None:
            parts.append(_int_product(left[3][k], b, p))
        if right[0] is not None:
            parts.append(_int_product(a, right[3][k], p))
        slopes.append([[sum(part[i][j] for part in parts) for j in range(len(b[0]))]
                       for i in range(len(a))])
    return array(len(a), len(b[0]), lambda i, j: _joined(residue, tag, value[i][j],
                                                        [s[i][j] for s in slopes]))
