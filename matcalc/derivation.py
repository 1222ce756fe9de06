"""``derive``: the derivative in matrix notation, verified before it is shown.

:mod:`matcalc.calculus` gives a closed form, dimension-generic, in matcalc's own
input language; :mod:`matcalc.simplify` puts it in the form people write. The
closed form is then checked like any claim, ``d(f)/d(w) = <closed form>``,
symbolically and numerically (:mod:`matcalc.pipeline`). A closed form that
fails that check is never returned as the answer: the result reports an engine
disagreement and falls back to the componentwise derivative.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import expr as E
from .calculus import Calculus, NoClosedForm
from .errors import UnknownNameError, did_you_mean
from .evidence import Grid
from .layout import LAYOUTS, layout_plan
from .parsing import parse_expression
from .pipeline import Study, _check_choice
from .problem import declare, shape_spec
from .shapes import SCALAR, fmt, kind
from .simplify import Builder, Maybe, present
from .verdict import Verdict


@dataclass(frozen=True)
class Derivation:
    """The derivative of ``f`` with respect to ``wrt`` in ``layout``.

    ``expr`` is a closed form in matcalc's input language (it parses back into
    ``verify``), or None when none was found or it did not verify; ``verdict``
    is the verification of ``d(f)/d(wrt) = expr``; ``componentwise`` is the
    derivative entry by entry at the symbolic stage's sizes.
    """

    f: str
    wrt: str
    layout: str
    shape: str
    expr: str | None
    method: str
    verdict: Verdict | None = None
    componentwise: Grid | None = None
    sizes: dict[str, int] = field(default_factory=dict)
    note: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "f": self.f, "wrt": self.wrt, "layout": self.layout, "shape": self.shape,
            "expr": self.expr, "method": self.method, "note": self.note,
            "sizes": self.sizes,
            "componentwise": [list(r) for r in self.componentwise] if self.componentwise else None,
            "verdict": self.verdict.to_dict() if self.verdict is not None else None,
            "seconds": round(self.seconds, 4),
        }

    def __str__(self) -> str:
        from .report import derivation_text

        return derivation_text(self)

    def _repr_html_(self) -> str:
        from .report import derivation_html

        return derivation_html(self)


def derive(
    expr: str,
    wrt: str,
    vars: Mapping[str, Any] | None = None,  # noqa: A002 - the documented name
    assume: Mapping[str, Any] | None = None,
    layout: str = "numerator",
    sizes: Mapping[str, int] | None = None,
    seed: int = 0,
    timeout: float | None = None,
) -> Derivation:
    """The derivative of ``expr`` with respect to the variable ``wrt``.

    >>> derive("x.T @ A @ x", "x", vars={"x": "n", "A": "n n"}).expr
    'x.T @ (A + A.T)'
    >>> derive("logdet(X)", "X", vars={"X": "n n"}, assume={"X": ["spd"]},
    ...        layout="denominator").expr
    'inv(X)'
    """
    start = time.perf_counter()
    _check_choice("layout", layout, LAYOUTS)
    declarations = declare(vars, assume, sizes)
    if wrt not in declarations.shape_map:
        raise UnknownNameError(f"unknown variable '{wrt}' to differentiate by", token=wrt,
                               hint=did_you_mean(wrt, declarations.shape_map)
                               or f"declare it, e.g. --var {wrt}:n")
    scope = declarations.scope(layout)
    f = parse_expression(expr, scope)
    variable = E.Var(wrt, declarations.shape_map[wrt])
    target = layout_plan(f.shape, variable.shape, layout).shape
    study = Study(declarations, seed=seed, timeout=timeout)
    lhs = E.derivative(f, variable, layout)
    found = study.closed_form(lhs)
    componentwise = None
    if found.verdict is not None and found.verdict.symbolic is not None:
        componentwise = found.verdict.symbolic.derivative
    if componentwise is None:
        componentwise = study.componentwise(lhs)
    return Derivation(f=expr, wrt=wrt, layout=layout, shape=fmt(target), expr=found.text,
                      method=found.method, verdict=found.verdict, componentwise=componentwise,
                      sizes=declarations.symbolic_sizes(), note=found.note,
                      seconds=time.perf_counter() - start)


def closed_form(f: E.Expr, wrt: E.Var, layout: str, b: Builder) -> tuple[Maybe, str]:
    """The derivative in ``layout`` as an expression tree, and the mode used."""
    calc = Calculus(wrt, b)
    # x - x is 0 before it is differentiated; but a structured variable keeps
    # its transposes here (``X.T`` is not ``X`` for the derivative, only for
    # values at the point), so the function is tidied without the structure
    plain = Builder(factoring=b.factoring)
    simplified = plain.tidy(plain.expand_identities(f))
    if simplified is None:
        return present(_zero_derivative(f, wrt, layout, b)), "constant"
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
    return present(result), method


def _zero_derivative(f: E.Expr, wrt: E.Var, layout: str, b: Builder) -> E.Expr:
    shape = layout_plan(f.shape, wrt.shape, layout).shape
    if len(shape) != 2:
        raise NoClosedForm("the derivative is a tensor in this layout (use --layout vec)")
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
        f"{layout} layout; its closed form exists in the vec layout (--layout vec)")


def entry_derivations(entry: Any) -> list[Derivation]:
    """``derive`` for a table entry's function, in every layout the entry states
    (once per instance for a rule). A module-level function so that it can run
    in worker processes."""
    from .checking import _declarations, _scope

    out = []
    for instance in entry.instances or (None,):
        decl = _declarations(entry, instance)
        variables = {name: shape_spec(shape) for name, shape in decl.shapes}
        assume = {name: sorted(tags) for name, tags in decl.tags if tags}
        for layout, _ in entry.claims:
            f = parse_expression(entry.f, _scope(entry, instance, decl, layout))
            out.append(derive(E.to_text(f), entry.wrt, vars=variables, assume=assume,
                              layout=layout))
    return out
