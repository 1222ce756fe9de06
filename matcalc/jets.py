"""Exact evaluation of expressions and their derivatives at a point.

The exact engine's fast path: instead of building SymPy expressions that swell
with the size (the inverse of a 5 x 5 matrix), both sides of an identity are
*evaluated* at a point, in one of the number kits of :mod:`matcalc.fields`
(integers modulo a prime, fractions, intervals, degree bounds). ``d(f)/d(x)``
is forward-mode automatic differentiation: every entry of ``x`` is seeded with
its own tangent (:class:`~matcalc.fields.Dual`) and the Jacobian is read off
the tangents of ``f``, in the native order ``out.shape + x.shape`` that
:mod:`matcalc.layout` arranges. Nested derivatives nest duals.

``EXACT_FORMS`` is the exact form of every operation of the registry, one row
per operation (``tests/test_jets.py`` checks that every operation has one);
the rows use only ``+ - * /``, integer powers and the kit's functions, so the
same row serves every kit, and duals give each its derivative.

Points lie in the domain of every operation: a division by zero, a log or
sqrt of a value not > 0, a singular matrix where an inverse is taken, and a
kink (abs, sign, relu, norm1) at an argument of 0 raise
:class:`~matcalc.fields.OutOfDomain` or ZeroDivisionError. An argument that is
zero at every point (an off-diagonal entry of a diagonal matrix) is no kink:
:class:`Jets` records those in the modular pass (``kink_zeros``) and the
other kits take ``sign(0) = 0`` there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from . import assumptions as A
from . import expr as E
from ._lazy import np
from .budget import check_time
from .fields import Dual, ModKit, OutOfDomain, base, lift_unary
from .layout import arrange, layout_plan
from .linalg import SMALL, det, inverse, matmul
from .shapes import Shape, concrete


class NoExactForm(Exception):
    """An operation without an exact form: the exact stage falls back to SymPy."""


def array(rows: int, cols: int, entry: Callable[[int, int], Any]) -> Any:
    out = np.empty((rows, cols), dtype=object)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = entry(i, j)
    return out


def _map(fn: Callable[[Any], Any], a: Any) -> Any:
    out = np.empty(a.shape, dtype=object)
    for index in np.ndindex(a.shape):
        out[index] = fn(a[index])
    return out


# ---------------------------------------------------------------------------
# The evaluator


class Jets:
    """Values of expressions at one point in one kit (``env``: variable -> array)."""

    def __init__(self, kit: Any, env: Mapping[str, Any], sizes: Mapping[str, int],
                 kink_zeros: set | None = None, parent: Jets | None = None,
                 wrt: str | None = None, domain_only: bool = False) -> None:
        self.kit = kit
        #: evaluate for the domain checks only: derivatives come back as zeros
        self.domain_only = domain_only
        self.env = env
        self.sizes = sizes
        self.kink_zeros = set() if kink_zeros is None else kink_zeros
        self.parent, self.wrt = parent, wrt
        self.tag = parent.tag + 1 if parent is not None else 0
        self.memo: dict[E.Expr, Any] = {}
        self.functions = _functions(kit)
        #: (kink node, entry) -> the signs its argument took (exact and interval kits)
        self.signs_seen: dict[tuple, set[int]] = parent.signs_seen if parent else {}

    def value(self, node: E.Expr) -> Any:
        cached = self.memo.get(node)
        if cached is not None:
            return cached
        if self.parent is not None and self.wrt not in _names(node):
            result = self.parent.value(node)  # does not depend on the seeded variable
        else:
            check_time()
            result = self._compute(node)
        self.memo[node] = result
        return result

    def _compute(self, node: E.Expr) -> Any:
        kit = self.kit
        if isinstance(node, E.Const):
            return array(1, 1, lambda i, j: kit.const(node.value))
        if isinstance(node, E.Array):
            return array(len(node.rows), len(node.rows[0]),
                         lambda i, j: kit.const(node.rows[i][j]))
        if isinstance(node, E.Size):
            return array(1, 1, lambda i, j: kit.const(Fraction(node.dim.size(self.sizes))))
        if isinstance(node, E.Var):
            return self.env[node.name]
        if isinstance(node, E.Apply):
            form = EXACT_FORMS.get(node.op)
            if form is None:  # tests/test_jets.py keeps this from happening
                raise NoExactForm(node.op)
            return form(self, node)
        return self._derivative(node)

    def directional(self, node: E.Derivative, direction: list[Any]) -> list[Any]:
        """The derivative of ``node.of`` along ``direction`` (one value per entry
        of the variable, flat): the native Jacobian contracted with it, one
        entry per entry of ``node.of`` (flat), at the cost of one evaluation."""
        wrt = node.wrt.name
        point = self.value(node.wrt)
        tag = self.tag + 1
        seeded = np.empty(point.shape, dtype=object)
        for k, index in enumerate(np.ndindex(point.shape)):
            seeded[index] = Dual(tag, point[index], [direction[k]])
        inner = Jets(self.kit, {**self.env, wrt: seeded}, self.sizes, self.kink_zeros,
                     parent=self, wrt=wrt)
        zero = self.kit.const(Fraction(0))
        return [e.tan[0] if isinstance(e, Dual) and e.tag == tag else zero
                for e in inner.value(node.of).flat]

    def _derivative(self, node: E.Derivative) -> Any:
        wrt = node.wrt.name
        point = self.value(node.wrt)
        plan = layout_plan(node.of.shape, node.wrt.shape, node.layout)
        one, zero = self.kit.const(Fraction(1)), self.kit.const(Fraction(0))
        if self.domain_only:  # the domain of d(f)/d(x) is f's: no tangents needed
            self.value(node.of)
            shape = tuple(d.size(self.sizes) for d in plan.shape)
            return array(shape[0], shape[1], lambda i, j: zero)
        # degree bounds are the same along every direction: one tangent stands for all
        count = 1 if self.kit.name == "degree" else point.size
        tag = self.tag + 1
        flat = list(point.flat)
        seeded = np.empty(point.shape, dtype=object)
        for k, index in enumerate(np.ndindex(point.shape)):
            seeded[index] = Dual(tag, flat[k], [one if i == k else zero for i in range(count)])
        inner = Jets(self.kit, {**self.env, wrt: seeded}, self.sizes, self.kink_zeros,
                     parent=self, wrt=wrt)
        f = inner.value(node.of)
        jac = np.empty(f.shape + point.shape, dtype=object)
        for index in np.ndindex(f.shape):
            entry = f[index]
            tangents = entry.tan if isinstance(entry, Dual) and entry.tag == tag else None
            for k, windex in enumerate(np.ndindex(point.shape)):
                jac[index + windex] = (zero if tangents is None else
                                       tangents[k] if count > 1 else tangents[0])
        return arrange(jac, plan, self.sizes)

    # -- helpers for the forms

    def arg(self, node: E.Apply, i: int = 0) -> Any:
        return self.value(node.args[i])

    def const(self, value: int | Fraction) -> Any:
        return self.kit.const(Fraction(value))

    def require_nonzero(self, values: Any, why: str) -> None:
        """Every entry non-zero, else the point is outside the domain (``why``)."""
        for v in np.asarray(values).flat:
            if self.kit.is_zero(v):
                if isinstance(self.kit, ModKit):
                    raise ZeroDivisionError(why)
                raise OutOfDomain(why)

    def require_positive(self, values: Any, why: str) -> None:
        """Every entry > 0 (certainly, for intervals), else outside the domain."""
        for v in np.asarray(values).flat:
            positive = self.kit.positive(v)
            if positive is False or (positive is None and self.kit.name == "interval"):
                raise OutOfDomain(why)

    def kink_sign(self, node: E.Apply, index: tuple[int, ...], x: Any) -> Any:
        """sign(x) for the kink of ``node`` at entry ``index``."""
        value = base(x)
        key = (node, index)
        if isinstance(self.kit, ModKit):
            if value.v == 0:
                self.kink_zeros.add(key)
                return self.const(0)
            return self.kit.sign(value)
        if key in self.kink_zeros:
            return self.const(0)
        if self.kit.name == "exact" and value == 0:
            raise OutOfDomain(f"{node.op} needs {_text(node.args[0])} != 0 (its kink)")
        sign = self.kit.sign(value)
        if isinstance(sign, int):
            self.signs_seen.setdefault(key, set()).add(sign)
            return self.const(sign)
        return sign

    def signs(self, node: E.Apply, a: Any) -> Any:
        out = np.empty(a.shape, dtype=object)
        for index in np.ndindex(a.shape):
            out[index] = self.kink_sign(node, index, a[index])
        return out


_NAMES: dict[E.Expr, frozenset[str]] = {}


def _names(node: E.Expr) -> frozenset[str]:
    found = _NAMES.get(node)
    if found is None:
        found = frozenset(E.variables(node))
        if len(_NAMES) > 50_000:
            _NAMES.clear()
        _NAMES[node] = found
    return found


def _functions(kit: Any) -> dict[str, Callable[[Any], Any]]:
    """The kit's scalar functions lifted to duals, each with its derivative."""
    f: dict[str, Callable[[Any], Any]] = {}

    def kind(name: str) -> Callable[[Any], Any]:
        return lambda x: kit.function(name, x)

    f["exp"] = lift_unary(kind("exp"), lambda x, fx: fx)
    f["log"] = lift_unary(kind("log"), lambda x, fx: 1 / x)
    f["sin"] = lift_unary(kind("sin"), lambda x, fx: f["cos"](x))
    f["cos"] = lift_unary(kind("cos"), lambda x, fx: -f["sin"](x))
    f["tanh"] = lift_unary(kind("tanh"), lambda x, fx: 1 - fx * fx)
    f["sqrt"] = lift_unary(kind("sqrt"), lambda x, fx: 1 / (2 * fx))
    return f


def _text(node: E.Expr) -> str:
    text = E.to_text(node)
    return text if len(text) <= 40 else text[:37] + "..."


def constant_value(node: E.Expr, sizes: Mapping[str, int]) -> Fraction | None:
    """The value of a constant expression (folded), or None."""
    if isinstance(node, E.Const):
        return node.value
    if isinstance(node, E.Size):
        return Fraction(node.dim.size(sizes))
    if not isinstance(node, E.Apply):
        return None
    if node.op == "neg":
        inner = constant_value(node.args[0], sizes)
        return None if inner is None else -inner
    if node.op not in ("add", "sub", "mul", "div", "pow") or len(node.args) != 2:
        return None
    # arithmetic of constants and sizes (n / 2, n * (n - 1) / 2): a constant at each size
    a, b = (constant_value(arg, sizes) for arg in node.args)
    if a is None or b is None:
        return None
    if node.op == "add":
        return a + b
    if node.op == "sub":
        return a - b
    if node.op == "mul":
        return a * b
    if node.op == "div":
        return None if b == 0 else a / b
    if b.denominator != 1 or abs(b) > 64 or (a == 0 and b < 0):  # pow
        return None
    return a ** int(b)


# ---------------------------------------------------------------------------
# The exact forms: one row per operation


def _elementwise(name: str) -> Callable[[Jets, E.Apply], Any]:
    def form(ev: Jets, node: E.Apply) -> Any:
        a = ev.arg(node)
        if name in ("log", "sqrt"):
            ev.require_positive(a, f"{name} needs {_text(node.args[0])} > 0 in every entry")
        fn = ev.functions[name]
        return _map(fn, a)

    return form


def _pow(ev: Jets, node: E.Apply) -> Any:
    a = ev.arg(node)
    exponent = constant_value(node.args[1], ev.sizes)
    if exponent is not None and exponent.denominator == 1:
        k = int(exponent)
        if k < 0:
            ev.require_nonzero(a, f"a negative power needs {_text(node.args[0])} != 0")
        return _map(lambda x: x ** k, a)
    if exponent is not None:
        at = "" if isinstance(node.args[1], E.Const) else (
            f" ({_text(node.args[1])} is {exponent} here)")
        ev.require_positive(a, f"a fractional power{at} needs {_text(node.args[0])} > 0")
        c = exponent
        power = lift_unary(lambda x: ev.kit.power(x, c), lambda x, fx: ev.const(c) * fx / x)
        return _map(power, a)
    ev.require_positive(a, f"a variable power needs {_text(node.args[0])} > 0")
    b = ev.arg(node, 1)[0, 0]
    return _map(lambda x: ev.functions["exp"](b * ev.functions["log"](x)), a)


def _div(ev: Jets, node: E.Apply) -> Any:
    a, b = ev.arg(node), ev.arg(node, 1)
    ev.require_nonzero(b, f"a division needs {_text(node.args[1])} != 0 in every entry")
    return a / b


def _det(ev: Jets, node: E.Apply) -> Any:
    return array(1, 1, lambda i, j: det(ev.arg(node), ev.kit))


def _inv(ev: Jets, node: E.Apply) -> Any:
    a = ev.arg(node)
    why = f"inv needs {_text(node.args[0])} invertible"
    if a.shape[0] > SMALL:  # elimination finds a singular matrix itself
        try:
            return inverse(a, ev.kit)
        except OutOfDomain:
            raise OutOfDomain(why) from None
        except ZeroDivisionError:
            raise ZeroDivisionError(why) from None
    ev.require_nonzero(det(_map(base, a), ev.kit), why)
    return inverse(a, ev.kit)


def _logdet(ev: Jets, node: E.Apply) -> Any:
    a = ev.arg(node)
    ev.require_positive(det(_map(base, a), ev.kit),
                        f"logdet needs det({_text(node.args[0])}) > 0")
    d = det(a, ev.kit)
    return array(1, 1, lambda i, j: ev.functions["log"](d))


def _total(values: Any, start: Any) -> Any:
    total = start
    for v in values:
        total = total + v
    return total


def _sum(ev: Jets, node: E.Apply) -> Any:
    return array(1, 1, lambda i, j: _total(ev.arg(node).flat, ev.const(0)))


def _mean(ev: Jets, node: E.Apply) -> Any:
    a = ev.arg(node)
    return array(1, 1, lambda i, j: _total(a.flat, ev.const(0)) * ev.const(Fraction(1, a.size)))


def _norm(ev: Jets, node: E.Apply) -> Any:
    a = ev.arg(node)
    squares = _total((x * x for x in a.flat), ev.const(0))
    key = (node, ())
    if isinstance(ev.kit, ModKit) and base(squares).v == 0:
        ev.kink_zeros.add(key)  # the norm of a zero at every point: 0, derivative 0
    if key in ev.kink_zeros:
        return array(1, 1, lambda i, j: ev.const(0))
    ev.require_positive(squares, f"norm needs {_text(node.args[0])} != 0")
    return array(1, 1, lambda i, j: ev.functions["sqrt"](squares))


def _abs(ev: Jets, node: E.Apply) -> Any:
    a = ev.arg(node)
    return a * ev.signs(node, a)


def _relu(ev: Jets, node: E.Apply) -> Any:
    a = ev.arg(node)
    half = ev.const(Fraction(1, 2))
    return a * (ev.signs(node, a) + ev.const(1)) * half


def _norm1(ev: Jets, node: E.Apply) -> Any:
    a = ev.arg(node)
    return array(1, 1, lambda i, j: _total((a * ev.signs(node, a)).flat, ev.const(0)))


def _sigmoid(ev: Jets, node: E.Apply) -> Any:
    exp = ev.functions["exp"]
    one = ev.const(1)
    return _map(lambda x: one / (one + exp(-x)), ev.arg(node))


def _softmax(ev: Jets, node: E.Apply) -> Any:
    exps = _map(ev.functions["exp"], ev.arg(node))
    total = _total(exps.flat, ev.const(0))
    return _map(lambda e: e / total, exps)


def _softmax_rows(ev: Jets, node: E.Apply) -> Any:
    exps = _map(ev.functions["exp"], ev.arg(node))
    totals = [_total(exps[i].flat, ev.const(0)) for i in range(exps.shape[0])]
    return array(exps.shape[0], exps.shape[1], lambda i, j: exps[i, j] / totals[i])


def _logsumexp(ev: Jets, node: E.Apply) -> Any:
    total = _total(_map(ev.functions["exp"], ev.arg(node)).flat, ev.const(0))
    return array(1, 1, lambda i, j: ev.functions["log"](total))


def _diag(ev: Jets, node: E.Apply) -> Any:
    a = ev.arg(node)
    if a.shape[0] == 1 or a.shape[1] == 1:
        flat = a.reshape(-1)
        n = flat.shape[0]
        return array(n, n, lambda i, j: flat[i] if i == j else ev.const(0))
    return array(a.shape[0], 1, lambda i, j: a[i, i])


def _dims(ev: Jets, node: E.Apply) -> list[int]:
    return [d.size(ev.sizes) for d in node.dims]


def _full(value: int) -> Callable[[Jets, E.Apply], Any]:
    def form(ev: Jets, node: E.Apply) -> Any:
        dims = _dims(ev, node)
        rows, cols = (dims[0], dims[1]) if len(dims) == 2 else (dims[0], 1)
        return array(rows, cols, lambda i, j: ev.const(value))

    return form


def _kron(ev: Jets, node: E.Apply) -> Any:
    a, b = ev.arg(node), ev.arg(node, 1)
    p, q = b.shape
    return array(a.shape[0] * p, a.shape[1] * q,
                 lambda i, j: a[i // p, j // q] * b[i % p, j % q])


def _outer(ev: Jets, node: E.Apply) -> Any:
    u, v = ev.arg(node).reshape(-1), ev.arg(node, 1).reshape(-1)
    return array(u.shape[0], v.shape[0], lambda i, j: u[i] * v[j])


def _dot(ev: Jets, node: E.Apply) -> Any:
    a, b = ev.arg(node), ev.arg(node, 1)
    return array(1, 1, lambda i, j: _total((x * y for x, y in zip(a.flat, b.flat)),
                                           ev.const(0)))


def _matmul(ev: Jets, node: E.Apply) -> Any:
    return matmul(ev.arg(node), ev.arg(node, 1), ev.kit)


#: operation -> its exact form (one row per operation of ops.REGISTRY)
EXACT_FORMS: dict[str, Callable[[Jets, E.Apply], Any]] = {
    "add": lambda ev, n: ev.arg(n) + ev.arg(n, 1),
    "sub": lambda ev, n: ev.arg(n) - ev.arg(n, 1),
    "mul": lambda ev, n: ev.arg(n) * ev.arg(n, 1),
    "div": _div,
    "matmul": _matmul,
    "pow": _pow,
    "neg": lambda ev, n: -ev.arg(n),
    "transpose": lambda ev, n: ev.arg(n).T,
    "trace": lambda ev, n: array(1, 1, lambda i, j: _total(
        (ev.arg(n)[k, k] for k in range(ev.arg(n).shape[0])), ev.const(0))),
    "det": _det,
    "inv": _inv,
    "logdet": _logdet,
    "norm": _norm,
    "norm1": _norm1,
    "sum": _sum,
    "mean": _mean,
    "dot": _dot,
    "exp": _elementwise("exp"),
    "log": _elementwise("log"),
    "sin": _elementwise("sin"),
    "cos": _elementwise("cos"),
    "tanh": _elementwise("tanh"),
    "sqrt": _elementwise("sqrt"),
    "abs": _abs,
    "sign": lambda ev, n: ev.signs(n, ev.arg(n)),
    "sigmoid": _sigmoid,
    "relu": _relu,
    "softmax": _softmax,
    "softmax_rows": _softmax_rows,
    "logsumexp": _logsumexp,
    "diag": _diag,
    "eye": lambda ev, n: array(_dims(ev, n)[0], _dims(ev, n)[0],
                               lambda i, j: ev.const(int(i == j))),
    "ones": _full(1),
    "zeros": _full(0),
    "vec": lambda ev, n: ev.arg(n).T.reshape(-1, 1),
    "kron": _kron,
    "outer": _outer,
    "detach": lambda ev, n: _map(base, ev.arg(n)),
}


# ---------------------------------------------------------------------------
# Points: variables with their structure, in a kit


def instantiate(kit: Any, shape: tuple[int, int], tags: frozenset[str], params: list[Any],
                component: int = 0) -> Any:
    """A variable's value from its free parameters (:func:`assumptions.free_positions`
    order), with the structure its assumptions give it, in ``component``
    (:func:`assumptions.component_count`: a reflection, a projector's rank, a
    sign pattern)."""
    rows, cols = shape
    struct = A.structure(tags)
    positions = A.free_positions(shape, struct)
    zero, one = kit.const(Fraction(0)), kit.const(Fraction(1))
    eye = array(rows, rows, lambda i, j: one if i == j else zero)
    if struct == "orthogonal":
        skew = array(rows, rows, lambda i, j: zero)
        for (i, j), p in zip(positions, params):
            skew[i, j], skew[j, i] = p, -p
        q = matmul(eye - skew, inverse(eye + skew, kit), kit)
        if component:
            q[0, :] = -q[0, :]
        return q
    if struct == "involution":
        return _involution(kit, rows, component, params, eye)
    if struct == "signs":
        minus = kit.const(Fraction(-1))
        pattern = A.signs(rows, component)
        return array(rows, rows, lambda i, j: (one if pattern[i] > 0 else minus) if i == j
                     else zero)
    if struct == "identity":
        return eye
    lookup = dict(zip(positions, params))
    if struct == "symmetric":
        return array(rows, cols, lambda i, j: lookup[(min(i, j), max(i, j))])
    if struct == "diagonal":
        return array(rows, cols, lambda i, j: lookup[(i, i)] if i == j else zero)
    return array(rows, cols, lambda i, j: lookup[(i, j)])


def _involution(kit: Any, n: int, rank: int, params: list[Any], eye: Any) -> Any:
    """``I - 2P``, P the orthogonal projector onto the columns of ``V = [I_k; W]``:
    ``P = V (V.T V)^-1 V.T`` with ``V.T V = I + W.T W`` (never singular); W is
    (n - k) x k, the first of ``params``. Dense among the involutions of rank k."""
    if rank == 0:
        return eye
    if rank == n:
        return -eye
    w = array(n - rank, rank, lambda i, j: params[i * rank + j])
    v = array(n, rank, lambda i, j: eye[i, j] if i < rank else w[i - rank, j])
    gram = matmul(v.T, v, kit)
    p = matmul(matmul(v, inverse(gram, kit), kit), v.T, kit)
    return eye - p - p


def environment(kit: Any, shapes: Mapping[str, Shape], tags: Mapping[str, frozenset[str]],
                sizes: Mapping[str, int], params: Mapping[str, list[Any]],
                variant: frozenset[tuple[str, int]] = frozenset()) -> dict[str, Any]:
    """Every variable's value at a point given by its parameters, each in its
    component of ``variant`` (:func:`assumptions.component`)."""
    return {name: instantiate(kit, concrete(shape, sizes), tags.get(name, frozenset()),
                              params[name], A.component(variant, name))
            for name, shape in shapes.items()}


def parameter_counts(shapes: Mapping[str, Shape], tags: Mapping[str, frozenset[str]],
                     sizes: Mapping[str, int]) -> dict[str, int]:
    return {name: len(A.free_positions(concrete(shape, sizes),
                                       A.structure(tags.get(name, frozenset()))))
            for name, shape in shapes.items()}


