"""Mathematical notation for expression trees: LaTeX (Markdown) and MathML (HTML).

The tree is first laid out as *boxes* (identifiers, operators, fractions,
superscripts, fences) by :func:`layout_boxes`, in the notes' conventions:
vectors and matrices bold, ``x.T`` as xᵀ, ``inv(X)`` as X⁻¹, ``@`` as
juxtaposition, ``*`` between arrays as ⊙, ``d(f)/d(x)`` as ∂f/∂x. Two small
serializers turn boxes into LaTeX (:func:`latex`) or presentation MathML
(:func:`mathml`), so both formats always show the same formula.

>>> from matcalc.parsing import parse_expression, parse_shape, scope_from
>>> scope = scope_from({"x": parse_shape("n"), "A": parse_shape("n n")})
>>> latex(parse_expression("d(x.T @ A @ x)/d(x)", scope))
'\\\\frac{\\\\partial}{\\\\partial \\\\mathbf{x}}\\\\left(\\\\mathbf{x}^{\\\\top} \\\\mathbf{A} \\\\mathbf{x}\\\\right)'
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from fractions import Fraction

from .. import expr as E
from ..ops import PREC_ADD, PREC_MUL, PREC_POSTFIX, PREC_UNARY, REGISTRY
from ..shapes import kind

# ---------------------------------------------------------------------------
# Boxes


@dataclass(frozen=True)
class Ident:
    name: str
    bold: bool = False
    upright: bool = False


@dataclass(frozen=True)
class Num:
    text: str


@dataclass(frozen=True)
class Glyph:
    """An operator's sign in a formula (``−``, ``⊙``, ``∂``); the operation itself is
    a :class:`matcalc.ops.Op`."""

    symbol: str


@dataclass(frozen=True)
class Row:
    items: tuple


@dataclass(frozen=True)
class Frac:
    num: object
    den: object


@dataclass(frozen=True)
class Sup:
    base: object
    exp: object


@dataclass(frozen=True)
class Sub:
    base: object
    sub: object


@dataclass(frozen=True)
class Fence:
    open: str
    close: str
    body: object


@dataclass(frozen=True)
class Sqrt:
    body: object


@dataclass(frozen=True)
class Matrix:
    rows: tuple


_FUNCTION_NAMES = {"trace": "tr", "logdet": "ln det", "sigmoid": "σ"}

#: variable names written as Greek letters (``lam`` is λ, not l·a·m)
GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "eps": "ε", "epsilon": "ε",
         "zeta": "ζ", "eta": "η", "theta": "θ", "kappa": "κ", "lam": "λ", "lambda_": "λ",
         "lmbda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "rho": "ρ", "sigma": "σ", "tau": "τ",
         "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω"}
_LATEX_GREEK = {v: "\\" + ("lambda" if k in ("lam", "lmbda", "lambda_") else
                             "epsilon" if k == "eps" else k) for k, v in GREEK.items()}

#: names shown bold whatever their parsed shape (set by :func:`arrays_named`)
_ARRAYS: ContextVar[frozenset[str] | None] = ContextVar("arrays", default=None)


@contextlib.contextmanager
def arrays_named(names: frozenset[str]) -> Iterator[None]:
    """Typeset these variables as arrays (bold): for an expression that was parsed
    with every variable a scalar because it does not type-check as written."""
    token = _ARRAYS.set(names)
    try:
        yield
    finally:
        _ARRAYS.reset(token)


def _name_box(name: str, bold: bool) -> object:
    """A variable's name: ``lam`` as λ, ``x1`` and ``w_0`` with subscripts, any
    other multi-letter name as one upright word."""
    match = re.fullmatch(r"([A-Za-z]+?)_?(\d+)", name)
    if match and match.group(1) in GREEK or match and len(match.group(1)) == 1:
        return Sub(_name_box(match.group(1), bold), Num(match.group(2)))
    if name in GREEK:
        return Ident(GREEK[name], bold=bold)
    return Ident(name, bold=bold, upright=len(name) > 1)
_STANDARD = {"det", "exp", "log", "sin", "cos", "tanh", "ln det", "ln"}


def _paren(box: object) -> Fence:
    return Fence("(", ")", box)


def _number(value: Fraction) -> object:
    if value < 0:
        return Row((Glyph("−"), _number(-value)))
    if value.denominator == 1:
        return Num(str(value.numerator))
    return Frac(Num(str(value.numerator)), Num(str(value.denominator)))


def _prec(node: E.Expr) -> int:
    if isinstance(node, E.Const):
        return PREC_UNARY if node.value < 0 else (PREC_MUL if node.value.denominator > 1 else 100)
    if isinstance(node, E.Apply):
        if node.op == "matmul" or node.op == "mul":
            return PREC_MUL
        return REGISTRY[node.op].precedence
    return 100


def _wrapped(node: E.Expr, minimum: int) -> object:
    box = layout_boxes(node)
    return _paren(box) if _prec(node) < minimum else box


def _is_array(node: E.Expr) -> bool:
    return len(node.shape) != 2 or kind(node.shape) != "scalar"


def _call(name: str, *args: E.Expr) -> object:
    shown = _FUNCTION_NAMES.get(name, name)
    inner = layout_boxes(args[0]) if len(args) == 1 else Row(
        tuple(item for i, a in enumerate(args) for item in ((Glyph(","),) if i else ()) +
              (layout_boxes(a),)))
    if name == "softmax_rows":  # softmax with a subscript: row by row
        head: object = Sub(Ident("softmax", upright=True), Ident("rows", upright=True))
    else:
        head = Ident(shown, upright=shown != "σ")
    return Row((head, Fence("(", ")", inner)))


def _superscript(node: E.Expr, exponent: object) -> object:
    return Sup(_wrapped(node, PREC_POSTFIX + 1), exponent)


def layout_boxes(node: E.Expr) -> object:
    """The tree as boxes."""
    if isinstance(node, E.Const):
        return _number(node.value)
    if isinstance(node, E.Size):
        return Ident(str(node.dim))
    if isinstance(node, E.Var):
        arrays = _ARRAYS.get()
        return _name_box(node.name, node.name in arrays if arrays is not None
                         else _is_array(node))
    if isinstance(node, E.Array):
        return Fence("[", "]", Matrix(tuple(tuple(_number(v) for v in row) for row in node.rows)))
    if isinstance(node, E.Derivative):
        wrt = Row((Glyph("∂"), layout_boxes(node.wrt)))
        if isinstance(node.of, (E.Var, E.Const, E.Size)):
            return Frac(Row((Glyph("∂"), layout_boxes(node.of))), wrt)
        return Row((Frac(Glyph("∂"), wrt), Fence("(", ")", layout_boxes(node.of))))
    op, args = node.op, node.args
    if op in ("add", "sub"):
        symbol = "+" if op == "add" else "−"
        return Row((_wrapped(args[0], PREC_ADD), Glyph(symbol), _wrapped(args[1], PREC_ADD + 1)))
    if op == "neg":
        return Row((Glyph("−"), _wrapped(args[0], PREC_UNARY)))
    if op == "mul":
        left, right = args
        if _is_array(left) and _is_array(right):
            return Row((_wrapped(left, PREC_MUL), Glyph("⊙"), _wrapped(right, PREC_MUL + 1)))
        joiner = (Glyph("·"),) if isinstance(right, (E.Const, E.Array)) else ()
        return Row((_wrapped(left, PREC_MUL), *joiner, _wrapped(right, PREC_MUL + 1)))
    if op == "matmul":
        return Row((_wrapped(args[0], PREC_MUL), _wrapped(args[1], PREC_MUL + 1)))
    if op == "div":
        return Frac(layout_boxes(args[0]), layout_boxes(args[1]))
    if op == "pow":
        base, exponent = args
        shown = layout_boxes(exponent)
        if _is_array(base):
            shown = Row((Glyph("∘"), shown))
        return _superscript(base, shown)
    if op == "transpose":
        inner = args[0]
        if isinstance(inner, E.Apply) and inner.op == "inv":
            return _superscript(inner.args[0], Row((Glyph("−"), Glyph("⊤"))))
        return _superscript(inner, Glyph("⊤"))
    if op == "inv":
        return _superscript(args[0], Row((Glyph("−"), Num("1"))))
    if op == "norm":
        body = Fence("‖", "‖", layout_boxes(args[0]))
        return Sub(body, Ident("F", upright=True)) if kind(args[0].shape) == "matrix" else body
    if op == "norm1":
        return Sub(Fence("‖", "‖", layout_boxes(args[0])), Num("1"))
    if op == "abs":
        return Fence("|", "|", layout_boxes(args[0]))
    if op == "sqrt":
        return Sqrt(layout_boxes(args[0]))
    if op == "dot":
        return Fence("⟨", "⟩", Row((layout_boxes(args[0]), Glyph(","), layout_boxes(args[1]))))
    if op == "kron":
        return Row((_wrapped(args[0], PREC_MUL), Glyph("⊗"), _wrapped(args[1], PREC_MUL + 1)))
    if op == "outer":
        return Row((_wrapped(args[0], PREC_MUL), _superscript(args[1], Glyph("⊤"))))
    if op in ("eye", "ones", "zeros"):
        symbol = {"eye": "I", "ones": "1", "zeros": "0"}[op]
        dims = [Ident(str(d)) for d in node.dims]
        sub = dims[0] if len(dims) == 1 else Row((dims[0], Glyph("×"), dims[1]))
        return Sub(Ident(symbol, bold=True), sub)
    return _call(op, *args)


# ---------------------------------------------------------------------------
# LaTeX

_LATEX_OPS = {"−": "-", "⊙": r"\odot", "⊗": r"\otimes", "⊤": r"\top", "∂": r"\partial",
              "·": r"\cdot", "∘": r"\circ", "×": r"\times", ",": ",\\,", "+": "+"}
_LATEX_FENCES = {"(": ("(", ")"), "[": ("[", "]"), "‖": (r"\lVert ", r"\rVert"),
                 "|": (r"\lvert ", r"\rvert"), "⟨": (r"\langle ", r"\rangle")}


def _latex_ident(box: Ident) -> str:
    if box.name in _LATEX_GREEK:
        greek = _LATEX_GREEK[box.name]
        return rf"\boldsymbol{{{greek}}}" if box.bold else greek
    if box.name == "σ":
        return r"\sigma"
    if box.name in _STANDARD:
        return "".join("\\" + part for part in box.name.split())
    if box.bold:
        return rf"\mathbf{{{box.name}}}"
    if box.upright:
        return rf"\mathrm{{{box.name}}}"
    return box.name


def _latex(box: object) -> str:
    if isinstance(box, Ident):
        return _latex_ident(box)
    if isinstance(box, Num):
        return box.text
    if isinstance(box, Glyph):
        return _LATEX_OPS.get(box.symbol, box.symbol)
    if isinstance(box, Row):
        out = ""
        for item in box.items:
            text = _latex(item)
            if out and (out[-1].isalpha() or out.endswith("}")) and text[:1].isalpha():
                out += " "
            elif out and text.startswith("\\") and not text.startswith(("\\left", "\\,")):
                out += " "
            out += text
        return out
    if isinstance(box, Frac):
        return rf"\frac{{{_latex(box.num)}}}{{{_latex(box.den)}}}"
    if isinstance(box, Sup):
        return f"{_latex(box.base)}^{{{_latex(box.exp)}}}"
    if isinstance(box, Sub):
        return f"{_latex(box.base)}_{{{_latex(box.sub)}}}"
    if isinstance(box, Sqrt):
        return rf"\sqrt{{{_latex(box.body)}}}"
    if isinstance(box, Fence):
        left, right = _LATEX_FENCES[box.open]
        return rf"\left{left}{_latex(box.body)}\right{right}"
    if isinstance(box, Matrix):
        rows = r" \\ ".join(" & ".join(_latex(v) for v in row) for row in box.rows)
        return rf"\begin{{matrix}}{rows}\end{{matrix}}"
    raise TypeError(box)


def latex(node: E.Expr) -> str:
    return _latex(layout_boxes(node))


# ---------------------------------------------------------------------------
# MathML (presentation), as Chromium renders it natively

_BOLD_UPPER, _BOLD_LOWER, _BOLD_DIGIT = 0x1D400, 0x1D41A, 0x1D7CE


def _bold(text: str) -> str:
    out = []
    for ch in text:
        if "α" <= ch <= "ω":
            out.append(chr(0x1D6C2 + ord(ch) - ord("α")))
            continue
        if "A" <= ch <= "Z":
            out.append(chr(_BOLD_UPPER + ord(ch) - ord("A")))
        elif "a" <= ch <= "z":
            out.append(chr(_BOLD_LOWER + ord(ch) - ord("a")))
        elif "0" <= ch <= "9":
            out.append(chr(_BOLD_DIGIT + ord(ch) - ord("0")))
        else:
            out.append(ch)
    return "".join(out)


def _mathml(box: object) -> str:
    e = html.escape
    if isinstance(box, Ident):
        if box.bold:
            return f'<mi mathvariant="normal">{e(_bold(box.name))}</mi>'
        if box.upright and len(box.name) == 1:
            return f'<mi mathvariant="normal">{e(box.name)}</mi>'
        if " " in box.name:
            return '<mspace width="0.17em"/>'.join(f"<mi>{e(part)}</mi><mo>&#x2061;</mo>"
                                                   for part in box.name.split())
        return f"<mi>{e(box.name)}</mi>"
    if isinstance(box, Num):
        return f"<mn>{e(box.text)}</mn>"
    if isinstance(box, Glyph):
        return f"<mo>{e(box.symbol)}</mo>"
    if isinstance(box, Row):
        return "<mrow>" + "".join(_mathml(item) for item in box.items) + "</mrow>"
    if isinstance(box, Frac):
        return f"<mfrac>{_mathml(box.num)}{_mathml(box.den)}</mfrac>"
    if isinstance(box, Sup):
        if isinstance(box.base, Sub):  # x_n^T as one msubsup
            base = box.base
            return f"<msubsup>{_mathml(base.base)}{_mathml(base.sub)}{_mathml(box.exp)}</msubsup>"
        return f"<msup>{_mathml(box.base)}{_mathml(box.exp)}</msup>"
    if isinstance(box, Sub):
        return f"<msub>{_mathml(box.base)}{_mathml(box.sub)}</msub>"
    if isinstance(box, Sqrt):
        return f"<msqrt>{_mathml(box.body)}</msqrt>"
    if isinstance(box, Fence):
        return (f'<mrow><mo fence="true">{e(box.open)}</mo>{_mathml(box.body)}'
                f'<mo fence="true">{e(box.close)}</mo></mrow>')
    if isinstance(box, Matrix):
        rows = "".join("<mtr>" + "".join(f"<mtd>{_mathml(v)}</mtd>" for v in row) + "</mtr>"
                       for row in box.rows)
        return f"<mtable>{rows}</mtable>"
    raise TypeError(box)


def mathml(node: E.Expr, display: bool = False, wrap: int | None = None) -> str:
    """``<math>`` for the tree; ``display`` sets full-size fractions (displaystyle).
    A sum longer than ``wrap`` characters (as text) is set one term per line (also
    inside a negation or a transpose: −(…) and (…)ᵀ)."""
    mode = ' displaystyle="true"' if display else ""
    long = wrap is not None and _width(node) > wrap
    opening, closing, inner = "", "", node
    if long and isinstance(node, E.Apply) and node.op in ("neg", "transpose") \
            and len(_terms(node.args[0])) > 1:
        inner = node.args[0]
        opening = "<mo>−</mo><mo>(</mo>" if node.op == "neg" else "<mo>(</mo>"
        closing = ("<mo>)</mo>" if node.op == "neg"
                   else "<msup><mo>)</mo><mo>⊤</mo></msup>")
    terms = _terms(inner) if long else []
    if len(terms) < 2:
        return f"<math{mode}>{_mathml(layout_boxes(node))}</math>"
    rows = []
    for index, (sign, term) in enumerate(terms):
        shown = _mathml(_wrapped(term, PREC_ADD + 1) if sign or index else layout_boxes(term))
        lead = opening if index == 0 else f"<mo>{sign}</mo>"
        tail = closing if index == len(terms) - 1 else ""
        rows.append(f'<mtr><mtd columnalign="left"{mode}>{lead}{shown}{tail}</mtd></mtr>')
    return f'<math{mode}><mtable columnalign="left">{"".join(rows)}</mtable></math>'


def _width(node: E.Expr) -> int:
    """About how many characters wide ``node`` is typeset: its text, less the
    ``d(…)/d(…)`` spelling of a derivative (set as a narrow fraction)."""
    derivatives = sum(isinstance(sub, E.Derivative) for sub in E.walk(node))
    return len(E.to_text(node)) - 7 * derivatives


def _terms(node: E.Expr) -> list[tuple[str, E.Expr]]:
    """The top-level terms of a sum, with the sign that joins each to the previous."""
    if isinstance(node, E.Apply) and node.op in ("add", "sub"):
        left, right = node.args
        return [*_terms(left), ("+" if node.op == "add" else "−", right)]
    return [("", node)]


def mathml_equation(lhs: E.Expr, rhs: E.Expr | None, display: bool = True) -> str:
    """``<math>`` for ``lhs = rhs`` (``lhs`` alone when ``rhs`` is None), set as a
    block formula when ``display``."""
    boxes = layout_boxes(lhs) if rhs is None else Row((layout_boxes(lhs), Glyph("="),
                                                       layout_boxes(rhs)))
    mode = ' display="block"' if display else ""
    return f"<math{mode}>{_mathml(boxes)}</math>"
