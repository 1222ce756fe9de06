"""Kinks in the sizes: where an argument of the sizes alone changes sign as a
function of a dimension (``relu(n - 8) * x`` is 0 up to n = 8 only, ``log(n - 3)``
is defined from n = 4 on), and the sizes at which a claim that uses a size as a
value is decided (:func:`size_value_sizes`). Both engines decide a claim at these
sizes besides the usual ones (:meth:`matcalc.engines.Engines`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from . import expr as E
from .kinks import KINK_OPS


#: every size up to this is tried for a size-dependent kink, then powers of two
SIZE_SCAN = 64


def size_kinks(exprs: Iterable[E.Expr], base: Mapping[str, int],
               largest: int) -> dict[str, list[int]]:
    """For each dimension name, the sizes around which a kink argument that
    depends on the sizes alone (``relu(n - 8)``, ``abs(trace(eye(n)) - 2)``)
    changes sign or vanishes, as a function of that name with the others at
    ``base``: the sizes on both sides of every change, and 1. Likewise for the
    arguments of log, sqrt, exp, ..., divisors and powers' bases (``log(n - 3)``
    is defined from n = 4 on), where a change is found. Exact arithmetic
    (intervals for exp, log, ...); sizes up to ``SIZE_SCAN``, then powers of two
    up to ``largest``, with the changes between them found by bisection."""
    from .fields import ExactKit, IntervalKit, NotRational, OutOfDomain, base as plain
    from .jets import Jets

    def sign(argument: E.Expr, sizes: Mapping[str, int]) -> int:
        for kit in (ExactKit(), IntervalKit()):
            try:
                values = [plain(v) for v in Jets(kit, {}, sizes).value(argument).flat]
            except NotRational:
                continue
            except (OutOfDomain, ZeroDivisionError):
                return 0
            signs = {(v > 0) - (v < 0) if kit.name == "exact" else
                     1 if v.x.a > 0 else -1 if v.x.b < 0 else 0 for v in values}
            return signs.pop() if len(signs) == 1 else 2  # 2: entries of both signs
        return 0  # pragma: no cover - the interval kit evaluates everything

    found: dict[str, set[int]] = {}
    for argument, kinked in _size_arguments(exprs):
        for name in sorted(_size_names(argument)):
            if name not in base:
                continue
            tried = list(range(1, SIZE_SCAN + 1))
            k = SIZE_SCAN * 2
            # beyond SIZE_SCAN only where no value grows with the size (eye(n) would)
            scalar = all(not d.names for n in E.walk(argument) for d in n.shape)
            while scalar and k <= largest:
                tried.append(k)
                k *= 2
            signs = {k: sign(argument, {**base, name: k}) for k in tried}
            critical: set[int] = set()
            for low, high in zip(tried, tried[1:]):
                while signs[low] != signs[high] and high - low > 1:
                    middle = (low + high) // 2
                    signs[middle] = sign(argument, {**base, name: middle})
                    if signs[middle] != signs[low]:
                        high = middle
                    else:
                        low = middle
                if signs[low] != signs[high]:
                    critical |= {low, high}
            for k, s in signs.items():
                if s == 0:
                    critical |= {k - 1, k, k + 1} - {0}
            if kinked or critical:
                found.setdefault(name, set()).update(critical | {1})
    return {name: sorted(sizes) for name, sizes in found.items()}


#: the degree in a size assumed for a size-only subexpression that is no
#: polynomial in it (``2 ** n``, ``log(n)``): as many sizes as Declarations allows
UNBOUNDED_DEGREE = 64


def size_value_sizes(exprs: Iterable[E.Expr], largest: int) -> dict[str, list[int]]:
    """Sizes at which to decide a claim that uses a dimension's size as a value
    (a ``Size`` node: ``(n - 2) * (n - 3) * 1e-12 * x``), for each such name:
    ``1, 2, ..., D + 4`` (at most ``largest``), where ``D`` bounds the claim's
    degree in the size through those values (the sum over the maximal
    size-only subexpressions of their degrees). Through its shapes alone a
    claim is decided at the usual three sizes; a polynomial of degree ``D`` in
    the size that vanishes at ``D + 1`` further sizes vanishes at all, so
    ``x = (1 + (n-2)*(n-3)*(n-4)*1e-12) * x``, zero at the usual sizes 2, 3, 4,
    is refuted at n = 1 and 5. A claim without sizes as values gets none."""
    total: dict[str, int] = {}
    for expr in exprs:
        for sub in _size_only_maximal(expr):
            for name, degree in _size_degree(sub).items():
                total[name] = total.get(name, 0) + degree
    return {name: list(range(1, min(degree + 4, largest) + 1))
            for name, degree in total.items() if degree}


def _size_only_maximal(expr: E.Expr) -> list[E.Expr]:
    """The largest subexpressions made of constants and sizes only, with a size:
    a size itself, or one through a shape (``sum(ones(n))`` and ``trace(eye(n))``
    are n, adversary 4, J5)."""
    found: list[E.Expr] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (E.Size, E.Apply)) and _size_names(node) and not any(
                isinstance(n, (E.Var, E.Derivative)) for n in E.walk(node)):
            found.append(node)
        elif isinstance(node, E.Apply):
            stack.extend(node.args)
        elif isinstance(node, E.Derivative):
            stack.extend(E.children(node))
    return found


def _size_degree(node: E.Expr) -> dict[str, int]:
    """A bound on the degree in each size name of a size-only expression (a
    quotient counts numerator and denominator: p / q = r / s is p s = q r)."""
    if isinstance(node, E.Size):
        degree: dict[str, int] = {}
        for name in node.dim.names:
            degree[name] = degree.get(name, 0) + 1
        return degree
    if not isinstance(node, E.Apply):
        return {}
    if not node.args:  # ones(n), eye(n), zeros(m, n): entries 0 and 1 at every size
        return {}
    parts = [_size_degree(a) for a in node.args]
    names = {name for part in parts for name in part}
    if node.op in ("transpose", "diag", "vec"):
        return parts[0]
    if node.op in ("sum", "mean", "trace", "matmul", "dot", "outer", "kron"):
        # a sum over entries: each size it runs over adds at most 1
        return {name: sum(p.get(name, 0) for p in parts) + 1
                for name in names | _size_names(node)}
    if node.op in ("neg", "add", "sub"):
        return {name: max(p.get(name, 0) for p in parts) for name in names}
    if node.op in ("mul", "div"):
        return {name: sum(p.get(name, 0) for p in parts) for name in names}
    if node.op == "pow" and not parts[1] and isinstance(node.args[1], E.Const) \
            and node.args[1].value.denominator == 1 and 0 <= node.args[1].value <= 64:
        return {name: d * int(node.args[1].value) for name, d in parts[0].items()}
    base = node.args[0]
    while isinstance(base, E.Apply) and base.op == "neg":
        base = base.args[0]
    if node.op == "pow" and isinstance(base, E.Const) and abs(base.value) == 1 \
            and all(d <= 1 for d in parts[1].values()):
        return {}  # (-1)**n: periodic in n, its two parities decided as usual
    # anything else of the sizes (norm(ones(n)) = sqrt(n), det(2 * eye(n)) = 2**n):
    # no polynomial bound, in the sizes of its arguments' values and of their shapes
    return {name: UNBOUNDED_DEGREE for name in names | _size_names(node)}


def _size_arguments(exprs: Iterable[E.Expr]) -> list[tuple[E.Expr, bool]]:
    """Arguments that depend on the sizes alone where the sign matters: of the
    kinked operations (True), and of those whose domain or form depends on it
    (log, sqrt, a divisor, a power's base, exp, ...; False)."""
    from .ops import REGISTRY

    found: dict[E.Expr, bool] = {}
    for expr in exprs:
        for node in E.walk(expr):
            if not isinstance(node, E.Apply):
                continue
            spec = REGISTRY[node.op]
            kinked = node.op in KINK_OPS
            if not (kinked or not spec.rational or spec.guard is not None):
                continue
            args = node.args[1:] if node.op == "div" else node.args[:1]
            for a in args:
                if _size_names(a) and not any(isinstance(n, (E.Var, E.Derivative))
                                              for n in E.walk(a)):
                    found[a] = found.get(a, False) or kinked
    return list(found.items())


def _size_names(node: E.Expr) -> set[str]:
    names: set[str] = set()
    for sub in E.walk(node):
        if isinstance(sub, E.Size):
            names |= set(sub.dim.names)
        elif isinstance(sub, E.Apply):
            for d in sub.dims:
                names |= set(d.names)
    return names
