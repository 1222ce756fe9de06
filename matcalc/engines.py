"""The engine coordinator: both engines' sessions for one set of declarations.

An :class:`Engines` object holds the symbolic stage's (:mod:`matcalc.symbolic`)
and the numeric stage's (:mod:`matcalc.numeric`) sessions for one set of
declarations, so that several claims about the same function (both layouts of a
table entry, the candidate repairs of a diagnosis) derive the function once.
Its verdicts come from :mod:`matcalc.verdict`; ``verify`` itself lives in
:mod:`matcalc.api`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import assumptions as A
from . import expr as E
from . import limits
from ._lazy import load, sp, torch
from .budget import Timeout, time_budget
from .declarations import MAX_CRITICAL, MAX_REPLACEMENTS, Declarations
from .errors import MatcalcError, ShapeError, UndecidedError
from .evidence import NumericEvidence, SymbolicEvidence
from .parsing import Scope, Syntax, build, parse_expression
from .mismatch import shape_mismatch
from .shapes import concrete, fmt
from .symarrays import as_grid, map_array
from .surface import setting
from .verdict import Outcome, Verdict, combine, undecided_detail


@dataclass(frozen=True)
class ClosedForm:
    text: str | None  # the verified closed form, in matcalc's input language
    verdict: Verdict | None  # its verification
    method: str
    note: str


class Engines:
    """Both engines' sessions for one set of declarations."""

    def __init__(self, declarations: Declarations, method: str = "both", seed: int = 0,
                 timeout: float | None = None, rtol: float | None = None,
                 atol: float | None = None, derivative_text: bool = True) -> None:
        self.declarations = declarations
        self.method = method
        self.seed = seed
        #: whether exact evidence carries the derivative entry by entry, written out
        #: by SymPy for reports (``matcalc check`` shows no report of a claim that holds)
        self.derivative_text = derivative_text
        self.rtol, self.atol = rtol, atol  # None: the numeric stage's defaults
        self.timeout = limits.SYMBOLIC_TIME_BUDGET if timeout is None else timeout
        self._symbolic: dict[frozenset[str], Any] = {}
        self._numeric: Any = None
        self._sized = False  # the first claim judged has chosen its critical sizes
        self._judged: dict[tuple, Verdict] = {}  # (lhs, rhs, layout, guards) -> verdict

    def reseeded(self, seed: int) -> Engines:
        """The same engines at another seed: derivatives are shared, points are new."""
        other = Engines(self.declarations, self.method, seed, self.timeout, self.rtol, self.atol,
                        self.derivative_text)
        other._symbolic = self._symbolic
        return other

    # -- from text

    def verify_syntax(self, identity: str, lhs_syntax: Syntax, rhs_syntax: Syntax,
                      scope: Scope) -> Verdict:
        try:
            lhs = build(lhs_syntax, scope)
            rhs = build(rhs_syntax, scope)
        except ShapeError as error:
            return self.ill_formed(identity, scope.layout, error.message, error.position,
                                   (error.hint,) if error.hint else ())
        verdict = self.judge(identity, lhs, rhs, scope.layout)
        if isinstance(lhs, E.Derivative) and self.method == "both":
            found = self.closed_form(lhs)
            if found.text is not None and found.text != verdict.rhs:
                verdict = dataclasses.replace(verdict, closed_form=found.text)
        return verdict

    def closed_form(self, lhs: E.Derivative) -> ClosedForm:
        """The derivative in matrix notation, verified like any claim (a closed
        form that does not verify is reported, never returned)."""
        from .calculus import NoClosedForm
        from .closedform import closed_form
        from .simplify import Builder

        try:
            tree, method = closed_form(lhs.of, lhs.wrt, lhs.layout, Builder(self.symmetric()))
        except NoClosedForm as reason:
            return ClosedForm(None, None, "componentwise", f"no closed form: {reason}")
        except ZeroDivisionError:
            return ClosedForm(None, None, "componentwise",
                              "no closed form: the rules divide by an exact zero here")
        except MatcalcError as error:  # a bug in the rules must not cost the user a verdict
            return ClosedForm(None, None, "componentwise",
                              f"ENGINE ERROR in the closed-form rules ({error}); please report it")
        text = E.to_text(tree)
        claim = parse_expression(text, self.declarations.scope(lhs.layout))  # as pasted back
        try:
            verdict = self.judge(f"d({E.to_text(lhs.of)})/d({lhs.wrt.name}) = {text}", lhs,
                                 claim, lhs.layout)
        except UndecidedError as error:  # the claim's own verdict stands without it
            return ClosedForm(None, None, method, f"the closed form {text} is undecided "
                              f"({error.message})")
        if verdict.status != "holds":
            return ClosedForm(None, verdict, method,
                              f"ENGINE DISAGREEMENT: the closed form {text} did not verify "
                              f"({verdict.summary}); showing the componentwise derivative")
        return ClosedForm(text, verdict, method, "")

    def ill_formed(self, identity: str, layout: str, message: str, position: int | None,
                   hints: tuple[str, ...] = (), lhs: E.Expr | None = None,
                   rhs: E.Expr | None = None) -> Verdict:
        d = self.declarations
        return Verdict(
            identity=identity,
            status="ill-formed",
            layout=layout,
            summary=message,
            lhs=E.to_text(lhs) if lhs is not None else None,
            rhs=E.to_text(rhs) if rhs is not None else None,
            lhs_shape=fmt(lhs.shape) if lhs is not None else None,
            rhs_shape=fmt(rhs.shape) if rhs is not None else None,
            variables=d.describe(),
            assumptions=d.assumptions(),
            hints=hints,
            position=position,
        )

    # -- from trees

    def judge(self, identity: str, lhs: E.Expr, rhs: E.Expr, layout: str,
              guards: Sequence[E.Expr] = ()) -> Verdict:
        """The verdict on ``lhs = rhs``, both already built (shapes checked).

        ``guards`` are further expressions whose domains the numeric sampler
        must respect, because later claims on these engines will evaluate them.
        """
        if lhs.shape != rhs.shape:
            message, hints = shape_mismatch(lhs, rhs, layout)
            return self.ill_formed(identity, layout, message, rhs.pos, hints, lhs, rhs)
        if not self._sized:
            self._single_out_sizes(lhs, rhs)
        # one judgement per claim: the closed form pasted back is often the claim itself,
        # and a diagnosis may try one candidate twice
        key = (lhs, rhs, layout, tuple(guards))
        if key in self._judged:
            return dataclasses.replace(self._judged[key], identity=identity)
        verdict = self._judge(identity, lhs, rhs, layout, guards)
        self._judged[key] = verdict
        return verdict

    def _judge(self, identity: str, lhs: E.Expr, rhs: E.Expr, layout: str,
               guards: Sequence[E.Expr]) -> Verdict:
        symbolic = self.symbolic(lhs, rhs) if self.method in ("both", "symbolic") else None
        numeric = (self.numeric(lhs, rhs, guards) if self.method in ("both", "numeric")
                   else None)
        from .strength import assess, general_argument

        outcome, argument = combine(symbolic, numeric), None
        if outcome is None and numeric is not None and numeric.status == "agrees" and (
                symbolic is None or symbolic.status != "refuted"):
            # too few kink gaps or sides sampled for evidence; a proof at every size holds
            argument = general_argument(lhs, rhs, self.symmetric())
            outcome = Outcome("holds", "holds", None, None) if argument else None
        if outcome is None:
            raise UndecidedError(
                f"could not decide {E.to_text(lhs)} = {E.to_text(rhs)}: "
                f"{undecided_detail(symbolic, numeric)}",
                hint=f"try {setting('method', 'both')}" if self.method != "both" else None,
            )
        d = self.declarations
        strength = None
        if outcome.status == "holds":
            argument = argument or general_argument(lhs, rhs, self.symmetric())
            strength = assess(symbolic, numeric, (name for name, _ in d.pinned), argument)
            outcome = dataclasses.replace(outcome, summary=strength.summary(symbolic, numeric))
        return Verdict(
            identity=identity,
            status=outcome.status,
            layout=layout,
            summary=outcome.summary,
            lhs=E.to_text(lhs),
            rhs=E.to_text(rhs),
            lhs_shape=fmt(lhs.shape),
            rhs_shape=fmt(rhs.shape),
            variables=d.describe(),
            assumptions=d.assumptions(),
            symbolic=symbolic,
            numeric=numeric,
            counterexample=outcome.counterexample,
            disagreement=outcome.disagreement,
            strength=strength.strength if strength else None,
            exact_sizes=strength.exact_sizes if strength else (),
            numeric_sizes=strength.numeric_sizes if strength else (),
            argument=strength.argument if strength else None,
            parity_complete=strength.parity_complete if strength else True,
        )

    def _single_out_sizes(self, lhs: E.Expr, rhs: E.Expr) -> None:
        """Sizes where a kink whose argument depends on the sizes alone changes
        sign (``relu(n - 8) * x = 0 * x`` fails from n = 9 on), decided by both
        engines besides the usual ones (:func:`matcalc.sizekinks.size_kinks`)."""
        from .sizekinks import size_kinks, size_value_sizes

        self._sized = True
        d = self.declarations
        if self._numeric is not None or not d.dims():
            return
        critical = size_kinks([lhs, rhs], d.symbolic_sizes(), LARGEST_CRITICAL)
        for name, sizes in size_value_sizes([lhs, rhs], MAX_CRITICAL).items():
            if name not in dict(d.pinned):  # sizes as values (the kinks' sizes first)
                others = {v for other, v in d.symbolic_sizes().items() if other != name}
                sizes = [k for k in sizes if k not in others]  # a transpose cannot hide
                kinked = set(critical.get(name, []))
                room = MAX_CRITICAL - len(kinked)
                critical[name] = sorted(kinked | set([k for k in sizes if k not in kinked][:room]))
        if critical:
            self.declarations = d.with_critical(critical)

    def symmetric(self) -> set[str]:
        """Variables equal to their transpose (symmetric, spd, diagonal)."""
        return {name for name, tags in self.declarations.tags
                if tags & {"symmetric", "spd", "diagonal"}}

    # -- the engines

    def too_big(self, sizes: Mapping[str, int] | None = None,
                nodes: Sequence[E.Expr] = ()) -> str | None:
        """Why the exact stage cannot run at ``sizes`` (default: the first
        instantiation), or None. Beyond ``limits.MAX_SYMBOLIC_DIM`` only pinned
        sizes are decided: up to ``limits.MAX_EXACT_PINNED`` for identities
        without det, inv or logdet, and up to ``limits.MAX_EXACT_PINNED_LINALG``
        for those whose evaluation at a point costs O(n^3) (see limits.py)."""
        sizes = self.declarations.symbolic_sizes() if sizes is None else sizes
        pinned = dict(self.declarations.pinned)
        pinned.update((name, 0) for name, _ in self.declarations.critical)
        for name, shape in self.declarations.shapes:
            dims = concrete(shape, sizes)
            if max(dims) <= limits.MAX_SYMBOLIC_DIM:
                continue
            large = [d for d in shape if d.size(sizes) > limits.MAX_SYMBOLIC_DIM]
            beyond = (f"{name} is {fmt(shape)} = {dims}, beyond the exact stage's size "
                      f"limit ({limits.MAX_SYMBOLIC_DIM}")
            if not (nodes and all(set(d.names) <= set(pinned) for d in large)):
                return beyond + "; pinned sizes are decided further)"
            if max(dims) <= limits.MAX_EXACT_PINNED and not any(
                    isinstance(n, E.Apply) and n.op in _SWELLING
                    for node in nodes for n in E.walk(node)):
                continue
            if max(dims) > limits.MAX_EXACT_PINNED_LINALG:
                return beyond + f"; pinned sizes up to {limits.MAX_EXACT_PINNED_LINALG})"
            costly = _costly(nodes, sizes)
            if costly:
                return f"{name} is {fmt(shape)} = {dims} and {costly}"
        return None

    def exact_instantiations(self) -> list[tuple[dict[str, int], Any]]:
        """Every (sizes, variant) the exact stage decides first: each size
        instantiation once per combination of the variables' components
        (:func:`assumptions.component_count`); None for more than
        ``assumptions.MAX_VARIANTS`` of them (not decided there)."""
        return [run for sizes in self.declarations.exact_size_sets()
                for run in self._variants_at(sizes)]

    def _variants_at(self, sizes: dict[str, int]) -> list[tuple[dict[str, int], Any]]:
        """The (sizes, variant) runs of one size instantiation."""
        d = self.declarations
        counts = {name: A.component_count(tags, concrete(d.shape_map[name], sizes)[0])
                  for name, tags in d.tags if "orthogonal" in tags}
        found = A.variants({name: count for name, count in counts.items() if count > 1})
        return [(sizes, v) for v in found] if found is not None else [(sizes, None)]

    def session(self, wrt: frozenset[str], sizes: Mapping[str, int] | None = None,
                variant: frozenset[tuple[str, int]] = frozenset()) -> Any:
        """The symbolic session for these differentiated variables at these
        sizes (default: the first instantiation), created once."""
        from . import symbolic as S

        d = self.declarations
        sizes = d.symbolic_sizes() if sizes is None else dict(sizes)
        key = (wrt, tuple(sorted(sizes.items())), variant)
        session = self._symbolic.get(key)
        if session is None:
            session = S.SymbolicSession(d.shape_map, d.tag_map, set(wrt), sizes, variant)
            self._symbolic[key] = session
        return session

    def symbolic(self, lhs: E.Expr, rhs: E.Expr) -> SymbolicEvidence:
        """The exact stage at every instantiation (and replacements for those
        defined nowhere, :meth:`Declarations.replacement_sizes`): proved if
        every one decided was proved, refuted at the first refuting one."""
        from . import symbolic as S

        runs = self.exact_instantiations()
        wrt = frozenset(derivative_targets(lhs) | derivative_targets(rhs))
        load(sp)
        start = time.perf_counter()
        proved: list[tuple[dict[str, int], Any, SymbolicEvidence]] = []
        missed: list[str] = []
        incomplete: list[dict[str, int]] = []  # sizes with a component not proved
        findings: list[str | None] = []
        gaps_missed, current, d, pending = 0, runs[0][0], self.declarations, list(runs)
        tried = list(_unique([s for s, _ in runs]))
        limit, nowhere = len(tried) + MAX_REPLACEMENTS, False  # nowhere: no valid point
        try:
            with time_budget(self.timeout):
                while pending or nowhere:
                    if not pending:  # replace instantiations defined nowhere
                        extra = d.replacement_sizes(
                            [s for s, _, _ in proved if s not in incomplete], tried)
                        if extra is None or len(tried) >= limit:
                            break
                        tried.append(extra)
                        pending = self._variants_at(extra)
                    sizes, variant = pending.pop(0)
                    current = sizes
                    reason = self.too_big(sizes, (lhs, rhs))
                    if variant is None and not reason:
                        reason = (f"more than {A.MAX_VARIANTS} components of the assumptions "
                                  "(rotation or reflection, projector rank, sign pattern) "
                                  "to decide one by one")
                    if reason:
                        missed.append(f"skipped at {_sizes_text(sizes)}: {reason}")
                        incomplete.append(sizes)
                        continue
                    note = _variant_note(d, variant, sizes)
                    try:
                        found = self._decide(lhs, rhs, wrt, sizes, variant,
                                             first=not proved and sizes == runs[0][0])
                    except S.SymbolicUnsupported as error:
                        missed.append(f"skipped at {_sizes_text(sizes)}{note}: {error}")
                        incomplete.append(sizes)
                        continue
                    if found.status == "refuted":
                        decided = _unique([s for s, _, _ in proved if s not in incomplete]
                                          + [sizes])
                        return dataclasses.replace(
                            found, size_sets=decided, detail=found.detail + note,
                            seconds=time.perf_counter() - start)
                    if found.status == "proved":
                        proved.append((sizes, variant, found))
                    else:
                        missed.append(f"undecided at {_sizes_text(sizes)}{note}: "
                                      f"{found.detail}")
                        incomplete.append(sizes)
                        findings.append(found.finding)
                        gaps_missed += found.gaps_missed
                        nowhere = nowhere or found.finding == "no-valid-point"
        except Timeout:
            missed.append(f"gave up at {_sizes_text(current)} after {self.timeout:g} s")
            incomplete.append(current)
        except RecursionError:
            missed.append(f"skipped at {_sizes_text(current)}: the expression is too deep "
                          "for SymPy")
            incomplete.append(current)
        seconds = time.perf_counter() - start
        missed = list(dict.fromkeys(missed))
        # a size counts as proved only when every component of it was
        proved = [p for p in proved if p[0] not in incomplete]
        if not proved:
            detail = "; ".join(missed) if missed else "nothing to decide"
            if len(missed) == 1 and missed[0].startswith("gave up"):
                detail = f"symbolic stage gave up after {self.timeout:g} s"
            finding = ("vanishes" if "vanishes" in findings else
                       "no-valid-point" if "no-valid-point" in findings else None)
            return SymbolicEvidence("undecided", runs[0][0], detail, seconds=seconds,
                                    finding=finding, gaps_missed=gaps_missed)
        return _merge_proofs(d, proved, missed, seconds)

    def _decide(self, lhs: E.Expr, rhs: E.Expr, wrt: frozenset[str], sizes: dict[str, int],
                variant: frozenset[tuple[str, int]], first: bool) -> SymbolicEvidence:
        """One instantiation: evaluation at points first (:mod:`matcalc.pointtest`);
        SymPy (:mod:`matcalc.symbolic`) where that cannot decide, when small."""
        from .fields import Unevaluated
        from .jets import NoExactForm
        from .pointtest import PointTest

        d = self.declarations
        start = time.perf_counter()
        test = PointTest(lhs, rhs, d.shape_map, d.tag_map, sizes, variant, self.seed)
        entries = _entries(lhs, sizes)
        try:
            outcome = self._points(test)
        except NoExactForm:
            return self.session(wrt, sizes, variant).compare(lhs, rhs, self.seed)
        except Unevaluated as error:
            return SymbolicEvidence("undecided", dict(sizes), str(error), entries=entries,
                                    seconds=time.perf_counter() - start)
        if outcome.status == "proved" or (outcome.status == "refuted"
                                          and outcome.counterexample is not None):
            text = (self._derivative_text(lhs, wrt, sizes, variant)
                    if first and self.derivative_text else None)
            return SymbolicEvidence(
                outcome.status, dict(sizes), outcome.detail,
                proof=outcome.proof if outcome.status == "proved" else None,
                error_bound=outcome.error_bound, entries=entries,
                seconds=time.perf_counter() - start, counterexample=outcome.counterexample,
                derivative=text)
        # SymPy: a formal proof (cancel, simplify), or a counterexample the points missed
        small = max(sizes.values(), default=1) <= limits.MAX_SYMBOLIC_DIM
        if small and outcome.status != "no-point":  # a formal proof on an empty domain is void
            found = self.session(wrt, sizes, variant).compare(lhs, rhs, self.seed,
                                                                 points=outcome.detail)
            if found.status != "undecided":
                return found
            if outcome.status == "vanishes":
                return dataclasses.replace(found, finding="vanishes",
                                           gaps_missed=test.gaps_missed)
        if outcome.status == "refuted":  # certain, though no rational point showed it
            return SymbolicEvidence("refuted", dict(sizes), outcome.detail, entries=entries,
                                    seconds=time.perf_counter() - start)
        return SymbolicEvidence(
            "undecided", dict(sizes), outcome.detail, entries=entries,
            seconds=time.perf_counter() - start,
            finding={"no-point": "no-valid-point", "vanishes": "vanishes"}.get(outcome.status),
            gaps_missed=test.gaps_missed)

    @staticmethod
    def _points(test: Any) -> Any:
        """The point test's outcome: modular, then real points where needed."""
        outcome = test.modular()
        if outcome.status == "no-point":  # a pole at every point: defined nowhere here
            return outcome
        if outcome.status == "refuted":
            shown = test.counterexample()
            return shown if shown.status == "refuted" else outcome
        if outcome.status == "hard":
            return test.real_points()
        found = test.domain_point()
        return found if found.status == "no-point" else outcome  # void on an empty domain

    def _derivative_text(self, lhs: E.Expr, wrt: frozenset[str], sizes: dict[str, int],
                         variant: frozenset[tuple[str, int]]) -> Any:
        """The left side entry by entry for reports, when SymPy builds it quickly."""
        from . import symbolic as S

        if not isinstance(lhs, E.Derivative) or max(sizes.values(), default=1) > 3:
            return None
        try:
            with time_budget(DERIVATIVE_TEXT_SECONDS):
                return self.session(wrt, sizes, variant).derivative_text(lhs)
        except (Timeout, S.SymbolicUnsupported, RecursionError):
            return None

    def componentwise(self, node: E.Expr) -> Any:
        """``node`` entry by entry at the symbolic sizes (a Grid), or None."""
        from . import symbolic as S

        if self.too_big():
            return None
        try:
            with time_budget(self.timeout):
                session = self.session(frozenset(derivative_targets(node)))
                return as_grid(map_array(session.finalize, session.value(node)))
        except (Timeout, S.SymbolicUnsupported, RecursionError):
            return None

    def numeric(self, lhs: E.Expr, rhs: E.Expr,
                guard_exprs: Sequence[E.Expr] = ()) -> NumericEvidence:
        from . import numeric as N
        from . import torcheval as T

        if self._numeric is None:
            shapes, tags, size_sets = _numeric_setup(self.declarations)
            self._numeric = N.NumericSession(shapes, tags, size_sets, self.seed,
                                             rtol=self.rtol, atol=self.atol)
        load(torch)
        T.warm(N.outermost_derivatives(lhs) + N.outermost_derivatives(rhs),
               self._numeric.size_sets, self._numeric.shapes)
        start = time.perf_counter()
        try:
            with time_budget(limits.NUMERIC_TIME_BUDGET):
                if guard_exprs:
                    self._numeric.sample([lhs, rhs, *guard_exprs])
                return self._numeric.compare(lhs, rhs)
        except N.NumericUnsupported as error:
            return NumericEvidence("undecided", f"skipped: {error}")
        except Timeout:
            return NumericEvidence(
                "undecided", f"numeric stage gave up after {limits.NUMERIC_TIME_BUDGET:g} s",
                seconds=time.perf_counter() - start)


def _numeric_setup(d: Declarations) -> tuple[dict, dict, list[dict[str, int]]]:
    """The numeric session's shapes, tags and size sets for ``d``, worked out once
    per declarations (they are immutable) for the engines made for them."""
    entry = _SETUPS.get(id(d))
    if entry is None or entry[0] is not d:  # (an id is reused only once d is gone)
        if len(_SETUPS) >= 64:
            _SETUPS.clear()
        entry = _SETUPS[id(d)] = (d, (d.shape_map, d.tag_map, d.numeric_size_sets()))
    return entry[1]


#: id -> (declarations, their numeric set-up); each entry holds its declarations
_SETUPS: dict[int, tuple[Declarations, tuple]] = {}


#: the largest size singled out by a kink in the sizes (beyond it, none is found)
LARGEST_CRITICAL = 4096

#: seconds SymPy may take to write out a derivative for a report
DERIVATIVE_TEXT_SECONDS = 1.0


def _entries(node: E.Expr, sizes: Mapping[str, int]) -> int:
    total = 1
    for d in node.shape:
        total *= d.size(sizes)
    return total


#: operations whose exact entries swell with the size
_SWELLING = frozenset({"det", "inv", "logdet"})


def _costly(nodes: Sequence[E.Expr], sizes: Mapping[str, int]) -> str | None:
    """Why evaluating ``nodes`` (the two sides) at a point would cost more than
    O(n^3) at these sizes, or None (the rules are in limits.py)."""
    from .pointtest import directional, directional_derivative

    along = directional_derivative(*nodes) if len(nodes) == 2 else None
    for node in nodes:
        if _entries(node, sizes) > limits.MAX_EXACT_ENTRIES:
            return (f"{E.to_text(node)[:40]} has {_entries(node, sizes):,} entries (the exact "
                    f"stage's limit at large sizes is {limits.MAX_EXACT_ENTRIES:,})")
        for n in E.walk(node):
            if not isinstance(n, E.Derivative) or n is node and directional(n, along):
                continue
            inputs = _entries(n.wrt, sizes)
            if inputs > limits.MAX_EXACT_DIRECTIONS:
                return (f"d(...)/d({n.wrt.name}) inside the claim needs {inputs:,} "
                        f"directions (the exact stage's limit at large sizes is "
                        f"{limits.MAX_EXACT_DIRECTIONS})")
    return None


def _sizes_text(sizes: Mapping[str, int]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in sizes.items()) or "the declared sizes"


def _unique(sets: Sequence[Mapping[str, int]]) -> tuple[dict[str, int], ...]:
    return tuple(dict(s) for i, s in enumerate(sets)
                 if dict(s) not in [dict(t) for t in sets[:i]])


def _variant_note(d: Declarations, variant: Any, sizes: Mapping[str, int]) -> str:
    """The components of a variant in words, e.g. `` (with Q a reflection, det = -1)``."""
    if not variant:
        return ""
    tags = d.tag_map
    parts = [A.component_text(name, tags[name], concrete(d.shape_map[name], sizes)[0], k)
             for name, k in sorted(variant)]
    return f" (with {'; '.join(parts)})"


def _components_text(d: Declarations) -> str:
    """How the components of the declared assumptions were covered, or ''."""
    kinds = {A.structure(tags) for _, tags in d.tags}
    said = [text for struct, text in (
        ("orthogonal", "orthogonal variables as rotations and as reflections"),
        ("involution", "symmetric orthogonal ones I - 2P at every rank of P"),
        ("signs", "diagonal orthogonal ones at every sign pattern")) if struct in kinds]
    return "; " + ", ".join(said) if said else ""


def _merge_proofs(d: Declarations,
                  proved: list[tuple[dict[str, int], Any, SymbolicEvidence]],
                  missed: list[str], seconds: float) -> SymbolicEvidence:
    """One record for the instantiations proved (and those not decided)."""
    first = proved[0][2]
    sets = _unique([s for s, _, _ in proved])
    kinds = list(dict.fromkeys(e.proof for _, _, e in proved if e.proof))
    bounds = [e.error_bound for _, _, e in proved if e.error_bound is not None]
    components = _components_text(d) if any(v for _, v, _ in proved) else ""
    where = "; ".join(_sizes_text(s) for s in sets)
    detail = first.detail if len(proved) == 1 else (
        f"{first.detail} (likewise at each instantiation: {where}{components})")
    if missed:
        detail += "; not decided: " + "; ".join(missed)
    return dataclasses.replace(
        first, detail=detail, proof=" and ".join(kinds) or None,
        error_bound=sum(bounds) if bounds else None,
        entries=sum(e.entries for _, _, e in proved), seconds=seconds, size_sets=sets)


def derivative_targets(node: E.Expr) -> set[str]:
    return {n.wrt.name for n in E.walk(node) if isinstance(n, E.Derivative)}
