"""Naming the mistake in a wrong claim, and proving the fix.

For a ``fails`` or ``ill-formed`` verdict on ``d(f)/d(x) = claim``, a set of
candidate repairs is generated from the mistakes people make — the other
layout's answer, a transpose (of the whole claim or of one factor), a constant
factor or a sign, a symmetry assumed but not stated, ``2Ax`` for ``(A + Aᵀ)x``,
Kronecker factors swapped, a dropped product-rule term, ``diag`` on the wrong
side, softmax treated as elementwise — and every candidate is verified like any
claim (both engines). Only verified repairs become :class:`Finding` s, so a
diagnosis never names a fix that does not hold.

A smaller counterexample is also looked for: the smallest sizes (from 1 up)
and small integer entries at which the claim fails.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Iterator
from fractions import Fraction

from . import expr as E
from .declarations import Declarations
from .engines import Engines
from .errors import MatcalcError
from .layout import LAYOUTS, layout_plan
from .parsing import Scope, parse_expression
from .shapes import kind
from .simplify import Builder, present
from .surface import assume_hint
from .verdict import Finding, Verdict

#: the kinds of mistake, in the order findings are shown (most actionable first)
ORDER = ("layout", "assumption", "symmetrize", "transpose", "sign", "factor", "kron-order",
         "missing-term", "softmax", "diag-side", "inner-vs-outer")
#: the diagnosis stops looking after this many seconds
BUDGET = 20.0
#: simple constant factors tried (the sign, -1, is its own kind)
FACTORS = (2, Fraction(1, 2), 3, Fraction(1, 3), 4, Fraction(1, 4), -2, Fraction(-1, 2))
#: assumptions tried on square matrices that do not have them
TRIED_ASSUMPTIONS = ("symmetric", "diagonal", "orthogonal")


def diagnose(verdict: Verdict, study: Engines, lhs: E.Expr, rhs: E.Expr) -> Verdict:
    """The verdict with its verified repairs (and the smallest counterexample)."""
    if not isinstance(lhs, E.Derivative):
        return verdict
    search = _RepairSearch(study, lhs, rhs)
    findings = sorted(search.run(), key=lambda f: ORDER.index(f.kind))
    counterexample = verdict.counterexample
    if verdict.status == "fails":
        counterexample = smallest_counterexample(study.declarations, lhs, rhs,
                                                 seed=study.seed) or counterexample
    # verified findings replace the unverified shape hints
    hints = () if findings else verdict.hints
    return dataclasses.replace(verdict, diagnosis=tuple(findings), counterexample=counterexample,
                               hints=hints)


def diagnose_ill_typed(verdict: Verdict, study: Engines, lhs: E.Expr, rhs_syntax: object,
                       scope: Scope) -> Verdict:
    """Repairs for a claim that does not even type-check: ``uᵀ @ v`` with vectors of
    different lengths, where the outer product ``v uᵀ`` or ``u vᵀ`` was meant."""
    from .parsing import build

    if not isinstance(lhs, E.Derivative) or getattr(rhs_syntax, "kind", "") != "binop" \
            or rhs_syntax.value != "@":
        return verdict
    try:
        left, right = (build(part, scope) for part in rhs_syntax.args)
    except MatcalcError:
        return verdict
    if kind(left.shape) != "row" or kind(right.shape) != "column":
        return verdict
    search = _RepairSearch(study, lhs, left)  # rhs is not needed by inner_for_outer's candidates
    b = search.builder
    u, v = b.transpose(left), right
    for candidate in (b.matmul(v, b.transpose(u)), b.matmul(u, b.transpose(v))):
        claim = search.holds(candidate)
        if claim:
            search.add("inner-vs-outer", f"{E.to_text(left)} @ {E.to_text(right)} multiplies "
                       f"vectors of different lengths; the derivative by a matrix is the outer "
                       f"product {claim}.", claim)
            break
    return dataclasses.replace(verdict, diagnosis=tuple(search.findings), hints=())


def judged_repairs(study: Engines, lhs: E.Derivative, rhs: E.Expr,
                   judge: Callable[[E.Expr, str], bool]) -> tuple[Finding, ...]:
    """The repairs of a claim about a function that is no matcalc expression (the
    user's own code, :mod:`matcalc.gradcheck`): ``lhs.of`` stands for it, and each
    candidate is judged by ``judge(candidate, layout)`` instead of the engines.
    The kinds that need the function's formula (a dropped term, softmax, an
    assumption on an input) are not tried."""
    search = _RepairSearch(study, lhs, rhs, judge)
    search._closed = None
    return tuple(sorted(search.run(), key=lambda f: ORDER.index(f.kind)))


class _RepairSearch:
    """The candidate repairs of one claim ``d(f)/d(x) = rhs``, each verified on the
    same engines before it becomes a finding."""

    def __init__(self, study: Engines, lhs: E.Derivative, rhs: E.Expr,
                 judge: Callable[[E.Expr, str], bool] | None = None) -> None:
        self.study = study
        self.judge = judge
        self.lhs, self.rhs = lhs, rhs
        self.layout = lhs.layout
        decl = study.declarations
        self.builder = Builder(name for name, tags in decl.tags
                               if tags & {"symmetric", "spd", "diagonal"})
        self.deadline = time.monotonic() + BUDGET
        self.findings: list[Finding] = []
        self.tried: dict[tuple[str, str, str], str | None] = {}
        self._closed: str | None | bool = False

    # -- verification of a candidate

    def holds(self, claim: E.Expr | Callable[[], E.Expr], layout: str | None = None,
              study: Engines | None = None, label: str = "") -> str | None:
        """The candidate's text if ``d(f)/d(x) = candidate`` holds (under the
        assumptions of ``study``, named by ``label``), else None. ``claim`` may
        be a function building the candidate; one that does not type-check is
        no candidate."""
        layout = layout or self.layout
        if time.monotonic() > self.deadline:
            return None
        try:
            tree = claim() if callable(claim) else claim
            if tree is None:  # the builder made the candidate an exact zero of unknown shape
                return None
            # a candidate that simplifies to zero (e.g. ``0 * x.T``) is spelled as zeros
            text = E.to_text(self.builder.zero_or(present(self.builder.tidy(tree)), tree.shape))
        except MatcalcError:
            return None
        key = (layout, text, label)
        if key not in self.tried:
            self.tried[key] = self._verify(text, layout, study or self.study)
        return self.tried[key]

    def _verify(self, text: str, layout: str, study: Engines) -> str | None:
        lhs = E.derivative(self.lhs.of, self.lhs.wrt, layout)
        try:
            tree = parse_expression(text, study.declarations.scope(layout))
        except MatcalcError:
            return None
        if self.judge is not None:  # it compares concrete shapes
            return text if self.judge(tree, layout) else None
        if tree.shape != lhs.shape:
            return None
        try:
            verdict = study.judge(text, lhs, tree, layout)
        except MatcalcError:
            return None
        return text if verdict.holds and verdict.disagreement is None else None

    def add(self, kind_: str, message: str, claim: str, layout: str | None = None,
            assume: dict[str, list[str]] | None = None) -> None:
        self.findings.append(Finding(kind_, message, claim, layout or self.layout, assume or {}))

    def closed(self) -> str | None:
        """The verified closed form of the derivative in this layout (cached)."""
        if self._closed is False:
            self._closed = self.study.closed_form(self.lhs).text
        return self._closed  # type: ignore[return-value]

    # -- the kinds of mistake

    def run(self) -> list[Finding]:
        for step in (self.layouts, self.transposes, self.factors, self.symmetrize,
                     self.kron_order, self.diag_side, self.missing_term, self.softmax,
                     self.inner_for_outer, self.assumptions):
            if self.judge is not None and step in (self.missing_term, self.softmax,
                                                   self.assumptions):
                continue
            if time.monotonic() > self.deadline:
                break
            step()
        return self.findings

    def layouts(self) -> None:
        for other in other_layouts(self.layout):
            target = layout_plan(self.lhs.of.shape, self.lhs.wrt.shape, other).shape
            if target != self.rhs.shape:
                continue
            claim = self.holds(self.rhs, other)
            if claim:
                self.add("layout", repair_message("layout", other, self.layout, self.closed()),
                         claim, other)
                return

    def transposes(self) -> None:
        b = self.builder
        whole = self.holds(lambda: b.transpose(self.rhs))
        if whole:
            self.add("transpose", repair_message("transpose", None, self.layout, whole), whole)
            return
        for factor, replaced in _replacements(self.rhs, _transposable, b.transpose):
            claim = self.holds(replaced)
            if claim:
                self.add("transpose", f"A transpose is missing on {E.to_text(factor)}: the "
                         f"derivative is {claim}.", claim)
                return
        factors = {n for n in E.walk(self.rhs) if _transposable(n)}
        for factor in sorted(factors, key=E.to_text):
            claim = self.holds(lambda: _substitute(self.rhs, factor, b.transpose(factor)))
            if claim:
                self.add("transpose", f"Every {E.to_text(factor)} needs a transpose: the "
                         f"derivative is {claim}.", claim)
                return

    def factors(self) -> None:
        b = self.builder
        for kind_, c in scalings():
            claim = self.holds(lambda c=c: b.neg(self.rhs) if c == -1
                               else b.mul(E.const(c), self.rhs))
            if claim:
                self.add(kind_, repair_message(kind_, c, self.layout, claim), claim)
                return

    def symmetrize(self) -> None:
        """``2Ax`` where ``(A + Aᵀ)x`` is meant: A replaced by (A + Aᵀ)/2."""
        b = self.builder
        for name, shape in self.study.declarations.shapes:
            if kind(shape) != "matrix" or shape[0] != shape[1] or name in b.symmetric:
                continue
            var = E.Var(name, shape)
            if var not in set(E.walk(self.rhs)):
                continue
            half = b.div(b.add(var, b.transpose(var)), E.const(2))  # noqa: B023 - used at once
            claim = self.holds(lambda: _substitute(self.rhs, var, half))
            if claim:
                self.add("symmetrize", f"This form assumes {name} is symmetric; for a general "
                         f"{name} the derivative is {claim}.", claim)
                return

    def kron_order(self) -> None:
        b = self.builder
        swaps = [
            ("swapped", lambda n: b.kron(n.args[1], n.args[0])),
            ("transposed", lambda n: b.kron(b.transpose(n.args[0]), b.transpose(n.args[1]))),
            ("swapped and transposed",
             lambda n: b.kron(b.transpose(n.args[1]), b.transpose(n.args[0]))),
        ]
        for label, change in swaps:
            for node, replaced in _replacements(self.rhs, lambda n: _is(n, "kron"), change):
                claim = self.holds(replaced)
                if claim:
                    self.add("kron-order", f"The Kronecker factors of {E.to_text(node)} need "
                             f"to be {label}: the derivative is {claim}.", claim)
                    return

    def diag_side(self) -> None:
        """``A @ diag(g)`` where ``diag(g) @ A`` is meant (and vice versa)."""

        def has_diag(n: E.Expr) -> bool:
            return _is(n, "matmul") and any(_is(a, "diag") for a in n.args)

        def swap(n: E.Apply) -> E.Expr:
            return E.apply("matmul", n.args[1], n.args[0])

        for node, replaced in _replacements(self.rhs, has_diag, swap):
            claim = self.holds(replaced)
            if claim:
                self.add("diag-side", f"diag(...) belongs on the other side of "
                         f"{E.to_text(node)}: the derivative is {claim}.", claim)
                return

    def missing_term(self) -> None:
        """A dropped term of the product rule: claim + (one term of the true derivative)."""
        from .calculus import NoClosedForm
        from .closedform import closed_form
        from .simplify import sum_terms

        if self.rhs.shape != self.lhs.shape:
            return
        unfactored = Builder(self.builder.symmetric, factoring=False)
        try:
            truth, _ = closed_form(self.lhs.of, self.lhs.wrt, self.layout, unfactored)
        except NoClosedForm:
            return
        terms = sum_terms(truth)
        if len(terms) < 2:
            return
        b = self.builder
        for coef, term in terms:
            claim = self.holds(lambda: b.add(self.rhs, b.mul(E.const(coef), term)))
            if claim:
                missing = E.to_text(present(b.tidy(b.mul(E.const(coef), term))))
                self.add("missing-term", f"A term is missing (the product rule gives "
                         f"{len(terms)}): add {missing}; the derivative is {claim}.", claim)
                return

    def softmax(self) -> None:
        """softmax treated as elementwise: the Jacobian has a coupling term."""
        if not any(_is(n, "softmax") for n in E.walk(self.lhs.of)):
            return
        if any(f.kind == "missing-term" for f in self.findings):
            self.findings = [dataclasses.replace(
                f, kind="softmax", message="softmax is not elementwise: every output depends "
                f"on every input, so the Jacobian has a coupling term; the derivative is "
                f"{f.claim}.") if f.kind == "missing-term" else f for f in self.findings]
            return
        closed = self.closed()
        if closed and _diagonal_only(self.rhs):
            self.add("softmax", f"softmax is not elementwise: its Jacobian couples all "
                     f"entries (diag(s) − s sᵀ); the derivative is {closed}.", closed)

    def inner_for_outer(self) -> None:
        """A scalar uᵀv where the derivative is a matrix: the outer product is meant."""
        rhs = self.rhs
        if not (_is(rhs, "matmul") and kind(rhs.shape) == "scalar"
                and kind(self.lhs.shape) == "matrix"):
            return
        b = self.builder
        u, v = b.transpose(rhs.args[0]), rhs.args[1]
        for candidate in (b.matmul(u, b.transpose(v)), b.matmul(v, b.transpose(u))):
            try:
                claim = self.holds(candidate)
            except MatcalcError:
                continue
            if claim:
                self.add("inner-vs-outer", f"{E.to_text(rhs)} is a scalar (an inner product) "
                         f"but the derivative by a matrix is a matrix: the outer product "
                         f"{claim}.", claim)
                return

    def assumptions(self) -> None:
        decl = self.study.declarations
        for name, shape in decl.shapes:
            if kind(shape) != "matrix" or shape[0] != shape[1]:
                continue
            have = decl.tag_map.get(name, frozenset())
            for tag in TRIED_ASSUMPTIONS:
                if tag in have or (tag == "symmetric" and "diagonal" in have):
                    continue
                if time.monotonic() > self.deadline:
                    return
                study = _with(decl, name, tag, self.study)
                if study is None:
                    continue
                claim = self.holds(self.rhs, study=study, label=f"{name}:{tag}")
                if claim:
                    self.add("assumption", f"This holds only if {name} is {tag}: add "
                             f"{assume_hint(name, [tag])}.", claim, assume={name: [tag]})
                    break  # one assumption per variable: the first that works


# ---------------------------------------------------------------------------
# the mistakes about a claim as a whole: shared with the check of a user's own
# function (matcalc.gradcheck), which applies them to arrays rather than trees


def other_layouts(layout: str) -> tuple[str, ...]:
    """The layouts a claim stated in ``layout`` may really have been written in."""
    return tuple(other for other in LAYOUTS if other != layout)


def scalings() -> Iterator[tuple[str, Fraction]]:
    """The constant multiples tried on a whole claim, as ``(kind, c)`` for the
    candidate ``c * claim``: the sign first, then :data:`FACTORS`."""
    yield "sign", Fraction(-1)
    for c in FACTORS:
        yield "factor", Fraction(c)


def whole_claim_repairs(layout: str) -> Iterator[tuple[str, object]]:
    """Every whole-claim mistake, as ``(kind, detail)``: the claim was written in
    another layout (detail: that layout), transposed (detail: None), or off by a
    constant (detail: the constant ``c`` with ``c * claim`` the derivative)."""
    for other in other_layouts(layout):
        yield "layout", other
    yield "transpose", None
    yield from scalings()


def repair_message(kind_: str, detail: object, layout: str, derivative: str | None) -> str:
    """The sentence naming a whole-claim mistake, given the verified derivative
    (for ``layout``: the derivative in ``layout``, if known)."""
    if kind_ == "layout":
        tail = f"; in {layout} layout the derivative is {derivative}" if derivative else ""
        return f"This is the {detail}-layout answer{tail}."
    if kind_ == "transpose":
        return f"The claim holds transposed: the derivative is {derivative}."
    if kind_ == "sign":
        return f"The sign is wrong: the derivative is {derivative}."
    return (f"The claim is off by a factor of {_show(detail)}: the derivative is "
            f"{derivative}.")


# ---------------------------------------------------------------------------
# tree helpers


def _is(node: E.Expr, op: str) -> bool:
    return isinstance(node, E.Apply) and node.op == op


def _show(c: Fraction | int) -> str:
    c = Fraction(c)
    return str(c.numerator) if c.denominator == 1 else f"{c.numerator}/{c.denominator}"


def _transposable(node: E.Expr) -> bool:
    """Factors whose missing transpose is a common slip: variables and inverses."""
    return (isinstance(node, E.Var) or _is(node, "inv")) and kind(node.shape) == "matrix"


def _replacements(root: E.Expr, pick: object, change: object) -> Iterator[tuple[E.Expr, E.Expr]]:
    """For each subtree ``n`` with ``pick(n)``, the tree with that one occurrence
    replaced by ``change(n)`` (shapes permitting)."""
    positions = [path for path, node in _paths(root) if pick(node)]
    for path in positions[:12]:
        node = _at(root, path)
        try:
            yield node, _rebuild_at(root, path, change(node))
        except MatcalcError:
            continue


def _paths(node: E.Expr, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], E.Expr]]:
    yield path, node
    if isinstance(node, E.Apply):
        for i, arg in enumerate(node.args):
            yield from _paths(arg, path + (i,))


def _at(node: E.Expr, path: tuple[int, ...]) -> E.Expr:
    for i in path:
        node = node.args[i]
    return node


def _rebuild_at(node: E.Expr, path: tuple[int, ...], new: E.Expr) -> E.Expr:
    if not path:
        return new
    args = list(node.args)
    args[path[0]] = _rebuild_at(args[path[0]], path[1:], new)
    return E.apply(node.op, *args, dims=node.dims)


def _substitute(node: E.Expr, old: E.Expr, new: E.Expr) -> E.Expr:
    if node == old:
        return new
    if isinstance(node, E.Apply):
        return E.apply(node.op, *(_substitute(a, old, new) for a in node.args), dims=node.dims)
    return node


def _diagonal_only(node: E.Expr) -> bool:
    return any(_is(n, "diag") for n in E.walk(node)) and not any(
        _is(n, "outer") or (_is(n, "matmul") and kind(n.args[0].shape) == "column")
        for n in E.walk(node))


def _with(decl: Declarations, name: str, tag: str, base: Engines) -> Engines | None:
    try:
        new = decl.with_tags(name, tag)
    except MatcalcError:
        return None
    return Engines(new, seed=base.seed, timeout=base.timeout, rtol=base.rtol, atol=base.atol)


# ---------------------------------------------------------------------------
# the smallest counterexample


def smallest_counterexample(decl: Declarations, lhs: E.Derivative, rhs: E.Expr,
                            seed: int = 0, budget: float = 5.0):  # noqa: ANN201
    """A counterexample at the smallest sizes that show the failure (each
    dimension from 1 up, smaller totals first), with small integer entries."""
    dims = decl.dims()
    if not dims or decl.pinned:
        return None
    deadline = time.monotonic() + budget
    default = decl.symbolic_sizes()
    choices = sorted(itertools.product((1, 2, 3), repeat=len(dims)),
                     key=lambda sizes: (sum(sizes), sizes))
    for sizes in choices[:16]:
        pinned = dict(zip(dims, sizes))
        if sum(sizes) >= sum(default.values()) or time.monotonic() > deadline:
            break
        try:
            study = Engines(decl.with_sizes(pinned), method="symbolic", seed=seed,
                          timeout=min(2.0, max(0.1, deadline - time.monotonic())))
            scope: Scope = study.declarations.scope(lhs.layout)
            left = parse_expression(E.to_text(lhs), scope)
            right = parse_expression(E.to_text(rhs), scope)
            evidence = study.symbolic(left, right)
        except MatcalcError:
            continue
        if evidence.status == "refuted" and evidence.counterexample is not None:
            return evidence.counterexample
    return None
