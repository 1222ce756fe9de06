"""The public entry points: ``verify`` a claim and ``derive`` a derivative.

Both parse the user's text against the declarations
(:mod:`matcalc.declarations`, :mod:`matcalc.parsing`) and hand the trees to the
engine coordinator (:mod:`matcalc.engines`). ``verify`` adds the diagnosis
(:mod:`matcalc.diagnosis`) of a claim that does not hold; ``derive`` returns a
:class:`~matcalc.derivation.Derivation` whose closed form has been verified.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from . import expr as E
from .declarations import declare
from .derivation import Derivation
from .engines import Engines
from .errors import ShapeError, UndecidedError, UnknownNameError, did_you_mean
from .layout import LAYOUTS, layout_plan
from .numeric import check_tolerances
from .parsing import build, parse_expression, parse_identity
from .options import METHODS, STRENGTHS, check_flag, check_seed, check_timeout
from .shapes import fmt
from .subexpressions import name_common
from .surface import option, var_hint
from .verdict import Verdict


def verify(
    identity: str,
    vars: Mapping[str, Any] | None = None,  # noqa: A002 - the documented name
    assume: Mapping[str, Any] | None = None,
    layout: str = "numerator",
    sizes: Mapping[str, int] | None = None,
    method: str = "both",
    seed: int = 0,
    timeout: float | None = None,
    diagnose: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    require: str | None = None,
) -> Verdict:
    """Verify a matrix-calculus identity such as ``d(A @ x)/d(x) = A``.

    >>> v = verify("d(A @ x)/d(x) = A", vars={"x": "n", "A": "m n"})
    >>> v.status
    'holds'
    >>> verify("d(norm(x)**2)/d(x) = 2 * x", vars={"x": "n"}).status
    'ill-formed'
    >>> verify("d(norm(x)**2)/d(x) = 2 * x", vars={"x": "n"}, layout="denominator").status
    'holds'

    ``vars`` maps names to shapes (``"n"`` a column vector, ``"m n"`` a
    matrix, ``""`` a scalar); ``assume`` maps names to assumption tags;
    ``sizes`` pins dimension sizes; ``method`` is ``"both"``, ``"symbolic"``
    or ``"numeric"``; ``seed`` fixes every random choice; ``timeout`` bounds the
    symbolic stage (seconds). ``rtol`` and ``atol`` are the numeric stage's
    tolerances, entry by entry: an entry agrees when ``|lhs - rhs| <= rtol *
    max(|lhs|, |rhs|) + atol`` or, failing that, when the difference is within
    the estimated rounding error of its computation (defaults ``numeric.RTOL``
    = 1e-8 and ``numeric.ATOL`` = 0, see :mod:`matcalc.agreement`; the exact
    stage needs none). With ``diagnose`` (and both engines) a claim that
    does not hold comes with its verified repairs in ``verdict.diagnosis``.
    A ``holds`` says how strong its evidence is (``verdict.strength``:
    ``"general"``, ``"exact"`` or ``"numeric"``); with ``require`` set to one of
    those, weaker evidence for a ``holds`` raises
    :class:`~matcalc.errors.UndecidedError`. Bad input raises a
    :class:`~matcalc.errors.MatcalcError`.
    """
    _check_choice("layout", layout, LAYOUTS)
    _check_choice("method", method, METHODS)
    if require is not None:
        _check_choice("required strength", require, STRENGTHS)
    seed, timeout = check_seed(seed), check_timeout(timeout)
    check_flag("diagnose", diagnose)
    check_tolerances(rtol, atol)
    declarations = declare(vars, assume, sizes)
    scope = declarations.scope(layout)
    lhs_syntax, rhs_syntax = parse_identity(identity, scope)
    engines = Engines(declarations, method=method, seed=seed, timeout=timeout, rtol=rtol, atol=atol)
    verdict = engines.verify_syntax(identity, lhs_syntax, rhs_syntax, scope)
    if diagnose and method == "both" and verdict.status != "holds":
        from .diagnosis import diagnose as find_repairs
        from .diagnosis import diagnose_ill_typed

        try:
            lhs = build(lhs_syntax, scope)
        except ShapeError:
            return verdict
        try:
            rhs = build(rhs_syntax, scope)
        except ShapeError:
            return diagnose_ill_typed(verdict, engines, lhs, rhs_syntax, scope)
        verdict = find_repairs(verdict, engines, lhs, rhs)
    if require is not None and verdict.status == "holds" and not verdict.meets(require):
        raise UndecidedError(f"{identity.strip()} holds {verdict.scope}: weaker evidence than "
                             f"the required '{require}'",
                             hint="see verdict.strength; 'general' > 'exact' > 'numeric'")
    return verdict


def _check_choice(what: str, value: str, choices: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise UnknownNameError(
            f"unknown {what} {value!r}" if not isinstance(value, str) else
            f"unknown {what} '{value}'",
            token=str(value),
            hint=did_you_mean(str(value), choices)
            or f"{option(what)} is one of {', '.join(choices)}",
        )


def derive(
    expr: str,
    wrt: str,
    vars: Mapping[str, Any] | None = None,  # noqa: A002 - the documented name
    assume: Mapping[str, Any] | None = None,
    layout: str = "numerator",
    sizes: Mapping[str, int] | None = None,
    seed: int = 0,
    timeout: float | None = None,
    order: int = 1,
) -> Derivation:
    """The derivative of ``expr`` with respect to the variable ``wrt``.

    >>> derive("x.T @ A @ x", "x", vars={"x": "n", "A": "n n"}).expr
    'x.T @ (A + A.T)'
    >>> derive("logdet(X)", "X", vars={"X": "n n"}, assume={"X": ["spd"]},
    ...        layout="denominator").expr
    'inv(X)'

    With ``order=2``, the Hessian: the derivative of the derivative,
    ``d(d(f)/d(wrt))/d(wrt)`` in ``layout`` (for a scalar ``f`` and a vector
    ``wrt``, the numerator-layout Jacobian of the gradient), verified like every
    closed form:

    >>> derive("x.T @ A @ x", "x", vars={"x": "n", "A": "n n"}, order=2).expr
    'A + A.T'

    A subexpression that repeats in the closed form is named in ``named`` and
    ``where`` (see :mod:`matcalc.subexpressions`).
    """
    start = time.perf_counter()
    _check_choice("layout", layout, LAYOUTS)
    seed, timeout = check_seed(seed), check_timeout(timeout)
    declarations = declare(vars, assume, sizes)
    if not isinstance(wrt, str):
        raise UnknownNameError(f"{option('wrt')} must name a declared variable, not {wrt!r}",
                               token=str(wrt))
    if wrt not in declarations.shape_map:
        raise UnknownNameError(f"unknown variable '{wrt}' to differentiate by", token=wrt,
                               hint=did_you_mean(wrt, declarations.shape_map)
                               or f"declare it, e.g. {var_hint(str(wrt), 'n')}")
    scope = declarations.scope(layout)
    f = parse_expression(expr, scope)
    variable = E.Var(wrt, declarations.shape_map[wrt])
    if order not in (1, 2):
        raise UnknownNameError(f"unknown order {order!r} of derivative", token=str(order),
                               hint="choose 1 (the derivative) or 2 (the Hessian)")
    lhs = E.derivative(f, variable, layout)
    if order == 2:
        lhs = E.derivative(lhs, variable, layout)
    target = lhs.shape
    engines = Engines(declarations, seed=seed, timeout=timeout)
    found = engines.closed_form(lhs)
    componentwise = None
    if found.verdict is not None and found.verdict.symbolic is not None:
        componentwise = found.verdict.symbolic.derivative
    if componentwise is None:
        componentwise = engines.componentwise(lhs)
    named, where = _named(found.text, scope, declarations.shape_map)
    return Derivation(f=expr, wrt=wrt, layout=layout, shape=fmt(target), expr=found.text,
                      order=order, named=named, where=where, method=found.method, verdict=found.verdict, componentwise=componentwise,
                      sizes=declarations.symbolic_sizes(), note=found.note,
                      seconds=time.perf_counter() - start, variables=declarations.describe(),
                      assumptions=declarations.assumptions())


def _named(text: str | None, scope: Any, taken: Mapping[str, Any]
           ) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The closed form with its repeated subexpressions named, and the names."""
    if text is None:
        return None, ()
    body, names = name_common(parse_expression(text, scope), taken)
    if not names:
        return None, ()
    return E.to_text(body), tuple((n, E.to_text(t)) for n, t in names)
