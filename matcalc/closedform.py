"""The closed form of a derivative, from the calculus rules.

:mod:`matcalc.calculus` gives the gradient, tangent or vec Jacobian of an
expression, dimension-generic, in matcalc's own input language;
:mod:`matcalc.simplify` puts it in the form people write. This module arranges
that result in the requested layout. The closed form is only a candidate: the
engine coordinator (:mod:`matcalc.engines`) verifies it like any claim before
it is shown.
"""

from __future__ import annotations

from . import expr as E
from .calculus import Calculus, NoClosedForm
from .layout import layout_plan
from .shapes import SCALAR, kind
from .simplify import Builder, Maybe, present
from .surface import setting


def closed_form(f: E.Expr, wrt: E.Var, layout: str, b: Builder,
                shown: bool = True) -> tuple[Maybe, str]:
    """The derivative in ``layout`` as an expression tree, and the mode used
    (``shown``: in the form people write, see :func:`matcalc.simplify.present`).

    ``f`` may itself be a derivative (a Hessian is ``d(d(f)/d(x))/d(x)``): its
    closed form is found first, then differentiated."""
    if isinstance(f, E.Derivative):
        inner, inner_method = closed_form(f.of, f.wrt, f.layout, b, shown=False)
        outer, method = closed_form(inner, wrt, layout, b, shown=False)
        return (present(outer) if shown else outer), f"{method} of the {inner_method}"
    calc = Calculus(wrt, b)
    # x - x is 0 before it is differentiated; but a structured variable keeps
    # its transposes here (``X.T`` is not ``X`` for the derivative, only for
    # values at the point), so the function is tidied without the structure
    plain = Builder(factoring=b.factoring)
    simplified = plain.tidy(plain.expand_identities(f))
    if simplified is None:
        zero = _zero_derivative(f, wrt, layout, b)
        return (present(zero) if shown else zero), "constant"
    f = simplified if simplified.shape == f.shape else f
    zero = b.tidy
    if f.shape == SCALAR:
        gradient = zero(calc.gradient(f))  # denominator layout: the shape of wrt
        result = _from_gradient(gradient, wrt, layout, b)
        method = "gradient (reverse mode)"
    elif wrt.shape == SCALAR:
        result = _from_tangent(zero(calc.tangent(f)), f, layout, b)
        method = "tangent (forward mode)"
    else:
        jac = zero(calc.jacobian(f))
        result = _from_jacobian(jac, f, wrt, layout, b)
        method = "vec Jacobian (forward mode)"
    result = b.tidy(result)
    if result is None:  # no dependence, or every term cancelled
        result = _zero_derivative(f, wrt, layout, b)
    return (present(result) if shown else result), method


def _zero_derivative(f: E.Expr, wrt: E.Var, layout: str, b: Builder) -> E.Expr:
    shape = layout_plan(f.shape, wrt.shape, layout).shape
    if len(shape) != 2:
        raise NoClosedForm("the derivative is a tensor in this layout "
                           f"(use {setting('layout', 'vec')})")
    return b.zero(shape)


def _from_gradient(g: Maybe, wrt: E.Var, layout: str, b: Builder) -> Maybe:
    if g is None:
        return None
    k = kind(wrt.shape)
    if k == "row":
        g = b.transpose(g)  # the gradient with respect to the vector wrt.T
    if layout == "vec":
        return b.transpose(b.vec(g))
    if layout in ("denominator", "mixed") or k == "scalar":
        return g
    return b.transpose(g)


def _from_tangent(t: Maybe, f: E.Expr, layout: str, b: Builder) -> Maybe:
    if t is None:
        return None
    k = kind(f.shape)
    if layout == "vec":
        return b.vec(t)
    numerator = b.transpose(t) if k == "row" else t
    if layout in ("numerator", "mixed"):
        return numerator
    return b.transpose(numerator)


def _from_jacobian(j: Maybe, f: E.Expr, wrt: E.Var, layout: str, b: Builder) -> Maybe:
    if layout == "vec":
        return j
    vectorish = ("scalar", "column", "row")
    if kind(f.shape) in vectorish and kind(wrt.shape) in vectorish:
        if j is None:
            return None
        return b.transpose(j) if layout == "denominator" else j
    raise NoClosedForm(
        f"the derivative is a {len(layout_plan(f.shape, wrt.shape, layout).shape)}-d tensor in "
        f"{layout} layout; its closed form exists in the vec layout "
        f"({setting('layout', 'vec')})")
