"""The expression tree: immutable nodes whose shapes are checked when built.

Nodes are frozen dataclasses, so they hash and compare by content (the source
position is carried along for messages but takes no part in equality). Build
them with :func:`const`, :func:`var`, :func:`apply` and :func:`derivative`;
those check shapes through the operation registry in :mod:`matcalc.ops` and
raise :class:`~matcalc.errors.ShapeError` for operands that do not fit.

:func:`to_text` prints a tree back in matcalc's input language, so anything
matcalc shows can be pasted back into ``verify``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

from . import limits
from . import ops as _ops
from .layout import layout_plan
from .shapes import SCALAR, Dim, Shape, fmt, kind


@dataclass(frozen=True)
class Const:
    """An exact scalar constant."""

    value: Fraction
    pos: int | None = field(default=None, compare=False, repr=False)

    @property
    def shape(self) -> Shape:
        return SCALAR


@dataclass(frozen=True)
class Array:
    """A literal array of exact constants: ``[1, 2]`` is a column, ``[[1, 2]]`` a row."""

    rows: tuple[tuple[Fraction, ...], ...]
    pos: int | None = field(default=None, compare=False, repr=False)

    @property
    def shape(self) -> Shape:
        return (Dim.of(len(self.rows)), Dim.of(len(self.rows[0])))


@dataclass(frozen=True)
class Size:
    """The size of a dimension, as a scalar: ``n`` in ``sum(x) / n``."""

    dim: Dim
    pos: int | None = field(default=None, compare=False, repr=False)

    @property
    def shape(self) -> Shape:
        return SCALAR


@dataclass(frozen=True)
class Var:
    """A declared variable."""

    name: str
    shape: Shape
    pos: int | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Apply:
    """An operation from the registry applied to operands (and dimensions)."""

    op: str
    args: tuple[Expr, ...]
    shape: Shape
    dims: tuple[Dim, ...] = ()
    pos: int | None = field(default=None, compare=False, repr=False)
    _hash: int = field(init=False, default=0, compare=False, repr=False)

    def __post_init__(self) -> None:
        # trees are used as dictionary keys everywhere: hash each node once
        object.__setattr__(self, "_hash", hash((self.op, self.args, self.shape, self.dims)))

    def __hash__(self) -> int:
        return self._hash


@dataclass(frozen=True)
class Derivative:
    """``d(of)/d(wrt)`` arranged in ``layout``."""

    of: Expr
    wrt: Var
    layout: str
    shape: Shape
    pos: int | None = field(default=None, compare=False, repr=False)
    _hash: int = field(init=False, default=0, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.of, self.wrt, self.layout, self.shape)))

    def __hash__(self) -> int:
        return self._hash


Expr = Const | Array | Size | Var | Apply | Derivative


def const(value: int | Fraction, pos: int | None = None) -> Const:
    return Const(Fraction(value), pos)


def apply(op: str, *args: Expr, dims: tuple[Dim, ...] = (), pos: int | None = None) -> Apply:
    """Apply a registered operation, checking the operands' shapes."""
    spec = _ops.REGISTRY[op]
    shape = spec.shape(
        tuple(a.shape for a in args), tuple(to_text(a) for a in args), dims, pos
    )
    return Apply(op, tuple(args), shape, tuple(dims), pos)


def derivative(of: Expr, wrt: Var, layout: str, pos: int | None = None) -> Derivative:
    """``d(of)/d(wrt)``; its shape is the layout's (see :mod:`matcalc.layout`)."""
    return Derivative(of, wrt, layout, layout_plan(of.shape, wrt.shape, layout).shape, pos)


# ---------------------------------------------------------------------------
# Traversal and printing


def children(node: Expr) -> tuple[Expr, ...]:
    if isinstance(node, Apply):
        return node.args
    if isinstance(node, Derivative):
        return (node.of, node.wrt)
    return ()


def walk(node: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def variables(node: Expr) -> dict[str, Var]:
    """The variables a tree mentions, by name, in order of appearance."""
    found: dict[str, Var] = {}
    for n in walk(node):
        if isinstance(n, Var):
            found.setdefault(n.name, n)
    return found


def size(node: Expr) -> int:
    return sum(1 for _ in walk(node))


def _fraction_text(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    # a short exact decimal where there is one (0.5, 0.125), else p/q
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den == 1 and max(twos, fives) <= 6:
        digits = max(twos, fives)
        text = f"{float(value):.{digits}f}".rstrip("0")
        if Fraction(text) == value:
            return text
    fraction = f"{value.numerator}/{value.denominator}"
    if den == 1:  # the shorter of a plain decimal (2.000000002) and scientific notation
        # (1e-16, 2.0000001e-10), where shorter than p/q (not 7.8125e-3)
        scale = max(twos, fives)
        sign = "-" if value < 0 else ""
        mantissa = str(abs(value.numerator) * 10 ** scale // value.denominator)
        exponent = len(mantissa) - 1 - scale
        scientific = sign + mantissa[0] + (
            "." + mantissa[1:].rstrip("0") if mantissa[1:].rstrip("0") else "") + f"e{exponent}"
        digits = mantissa.rjust(scale + 1, "0")
        plain = sign + digits[:-scale] + "." + digits[-scale:]
        for text in sorted((plain, scientific), key=len):
            if len(text) < len(fraction) and len(text) <= limits.MAX_LITERAL_LENGTH \
                    and abs(exponent) <= limits.MAX_LITERAL_EXPONENT and Fraction(text) == value:
                return text
    return fraction


_ATOM = 100


def precedence(node: Expr) -> int:
    """How tightly ``node`` binds as it prints (an atom binds tightest)."""
    if isinstance(node, Const):
        text = _fraction_text(node.value)
        if text.startswith("-"):
            return _ops.PREC_UNARY
        return _ops.PREC_MUL if "/" in text else _ATOM
    if isinstance(node, Apply):
        return _ops.REGISTRY[node.op].precedence
    return _ATOM


def to_text(node: Expr) -> str:
    """The tree in matcalc's input language (parses back to an equal tree).

    An operation's text is kept on its node once written: every :func:`apply`
    writes its operands' texts (for the shape rules' messages), so without it
    building a tree bottom-up would write each subtree again at every level."""
    if isinstance(node, (Apply, Derivative)):
        known = node.__dict__.get("_text")
        if known is None:
            known = _text(node)
            object.__setattr__(node, "_text", known)
        return known
    return _text(node)


def _text(node: Expr) -> str:
    if isinstance(node, Const):
        return _fraction_text(node.value)
    if isinstance(node, Array):
        if kind(node.shape) == "column" or node.shape == SCALAR and len(node.rows) == 1:
            return "[" + ", ".join(_fraction_text(r[0]) for r in node.rows) + "]"
        return "[" + ", ".join(
            "[" + ", ".join(_fraction_text(v) for v in r) + "]" for r in node.rows
        ) + "]"
    if isinstance(node, Var):
        return node.name
    if isinstance(node, Size):
        return str(node.dim)
    if isinstance(node, Derivative):
        return f"d({to_text(node.of)})/d({node.wrt.name})"
    spec = _ops.REGISTRY[node.op]
    if spec.syntax == "call":
        inner = [to_text(a) for a in node.args] + [str(d) for d in node.dims]
        return f"{node.op}({', '.join(inner)})"
    prec = spec.precedence
    if spec.syntax == "postfix":
        return _wrap(node.args[0], prec + 1) + spec.symbol
    if spec.syntax == "prefix":
        return spec.symbol + _wrap(node.args[0], prec)
    left, right = node.args
    if node.op in ("mul", "matmul"):  # a Hadamard product next to @ is parenthesised
        return f"{_product_side(node, left, prec)} {spec.symbol} " \
               f"{_product_side(node, right, prec + 1)}"
    if spec.right_assoc:
        return f"{_wrap(left, prec + 1)} {spec.symbol} {_wrap(right, prec)}"
    return f"{_wrap(left, prec)} {spec.symbol} {_wrap(right, prec + 1)}"


def _hadamard(node: Expr) -> bool:
    return (isinstance(node, Apply) and node.op == "mul"
            and all(a.shape != SCALAR for a in node.args))


def _product_side(parent: Apply, side: Expr, min_prec: int) -> str:
    """``(a * b) @ c`` and ``a * (B @ c)``: ``*`` and ``@`` read left to right, but a
    reader should not have to count on it."""
    mixed = isinstance(side, Apply) and side.op in ("mul", "matmul") and side.op != parent.op
    if mixed and (_hadamard(parent) or _hadamard(side)):
        return f"({to_text(side)})"
    return _wrap(side, min_prec)


def _wrap(node: Expr, min_prec: int) -> str:
    text = to_text(node)
    return f"({text})" if precedence(node) < min_prec else text


def transposed_text(node: Expr) -> str:
    """The text of ``node.T``, without a double transpose."""
    if isinstance(node, Apply) and node.op == "transpose":
        return to_text(node.args[0])
    return _wrap(node, _ops.PREC_POSTFIX + 1) + ".T"


def describe(node: Expr) -> str:
    """``A @ x (m, 1)``: a node with its shape, for reports."""
    return f"{to_text(node)} {fmt(node.shape)}"
