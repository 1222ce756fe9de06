"""Checking table entries: every claim, every layout, both engines.

:func:`check_entry` turns one :class:`~matcalc.tables.Entry` into an
:class:`EntryResult`, a list of :class:`Check` outcomes (one per claimed layout,
per rule instance, per shape rule, kink and pitfall). :func:`check_all` runs many
entries, in worker processes when more than one core is free.
"""

from __future__ import annotations

import itertools
import re
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from . import expr as E
from .declarations import declare
from .engines import Engines
from .errors import MatcalcError, ShapeError, TableError
from .evidence import sizes_text
from .layout import layout_plan
from .options import check_jobs, check_seed, check_timeout
from .parallel import parallel_map
from .parsing import Scope, parse_expression
from .shapes import Dim, Shape, fmt
from .records import AutogradExample, ClaimEvidence, Erratum, JacobianEvidence
from .tables import Entry, Instance, Pitfall, table_error
from .verdict import Verdict


@dataclass(frozen=True)
class Check:
    label: str
    ok: bool
    detail: str
    verdict: Verdict | None = None


@dataclass(frozen=True)
class EntryResult:
    key: str
    source: str
    status: str  # holds | fails
    checks: tuple[Check, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status == "holds"

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.key,
            "source": self.source,
            "status": self.status,
            "seconds": round(self.seconds, 4),
            "checks": [{"label": c.label, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }


def check_entry(entry: Entry | AutogradExample | Erratum, seed: int = 0,
                timeout: float | None = None, studies: dict[Any, Engines] | None = None,
                method: str = "both") -> EntryResult:
    """Every check of one table record. ``studies`` keeps the engines' sessions
    between calls (another seed then reuses the derivatives). The verdicts carry
    no derivative written out entry by entry (a report nobody reads here, and
    SymPy's costliest part of the exact stage's work on a table)."""
    start = time.perf_counter()
    checks: list[Check] = []
    studies = {} if studies is None else studies

    def study(key: Any, decl: Any) -> Engines:
        if key not in studies:
            studies[key] = Engines(decl, method=method, seed=seed, timeout=timeout,
                                   derivative_text=False)
        return studies[key].reseeded(seed)

    try:
        if isinstance(entry, AutogradExample):
            checks.append(_check_autograd(entry, seed))
        elif isinstance(entry, Erratum):
            checks.extend(_check_erratum(entry, seed, study))
        else:
            checks.extend(_check_identity_entry(entry, seed, study))
    except MatcalcError as error:
        checks.append(Check("table", False, str(error)))
    status = "holds" if checks and all(c.ok for c in checks) else "fails"
    return EntryResult(entry.key, entry.source, status, tuple(checks),
                       time.perf_counter() - start)


def _check_identity_entry(entry: Entry, seed: int, study: Callable[[Any, Any], Engines]
                          ) -> list[Check]:
    checks: list[Check] = []
    for index, instance in enumerate(entry.instances or (None,)):
        decl = entry_declarations(entry, instance)
        checks.extend(_check_claims(entry, instance, study(("claims", index), decl)))
    if entry.shape:
        checks.extend(_check_shape_rule(entry, seed))
    if entry.kink:
        checks.append(_check_kink(entry, seed))
    for index, pitfall in enumerate(entry.pitfalls):
        decl = entry_declarations(entry, None, pitfall.assume or None)
        checks.append(_check_pitfall(entry, pitfall, study(("pitfall", index), decl)))
        if pitfall.correct:
            checks.append(_check_pitfall_correction(entry, pitfall,
                                                    study(("pitfall", index), decl)))
    if entry.accumulation:
        checks.extend(_check_accumulation(entry, study(("claims", 0),
                                                       entry_declarations(entry, None))))
    return checks


# ---------------------------------------------------------------------------


def entry_declarations(entry: Entry, instance: Instance | None,
                  replace_assume: Iterable | None = None):  # noqa: ANN202
    """The entry's declarations (an instance adds to them; a pitfall's own
    assumptions, when it states any, replace the entry's)."""
    variables = dict(entry.vars)
    assume = {k: list(v) for k, v in (replace_assume or entry.assume)}
    if instance is not None:
        variables.update(instance.vars)
        for k, v in instance.assume:
            assume.setdefault(k, []).extend(v)
    try:
        return declare(variables, assume)
    except MatcalcError as error:
        raise table_error(entry, "vars", error) from None


def _parse(entry: Entry, field_name: str, text: str, scope: Scope) -> E.Expr:
    """Parse a table expression; shape errors propagate (they make a claim ill-formed)."""
    try:
        return parse_expression(text, scope)
    except ShapeError:
        raise
    except MatcalcError as error:
        raise table_error(entry, field_name, error) from None


def entry_scope(entry: Entry, instance: Instance | None, decl: Any, layout: str) -> Scope:
    """The scope in which the entry's expressions are read: its declarations in
    ``layout``, plus an instance's macros."""
    macros = {}
    if instance is not None:
        base = decl.scope(layout)
        for name, text in instance.macros:
            try:
                macros[name] = parse_expression(text, base)
            except MatcalcError as error:
                raise table_error(entry, f"instance {name}", error) from None
    return decl.scope(layout, macros)


def _check_claims(entry: Entry, instance: Instance | None, study: Engines) -> list[Check]:
    decl = study.declarations
    prefix = f"{instance.label()} · " if instance else ""
    trees: dict[str, tuple[E.Expr, E.Expr] | ShapeError] = {}
    for layout, claim in entry.claims:
        scope = entry_scope(entry, instance, decl, layout)
        try:
            lhs = _parse(entry, "f", f"d({entry.f})/d({entry.wrt})", scope)
            trees[layout] = (lhs, _parse(entry, layout, claim, scope))
        except ShapeError as error:
            trees[layout] = error
    guards = [t[1] for t in trees.values() if isinstance(t, tuple)]
    checks = []
    for layout, claim in entry.claims:
        identity = entry.identity(layout) + (f"   with {instance.label()}" if instance else "")
        tree = trees[layout]
        if isinstance(tree, ShapeError):
            verdict = study.ill_formed(identity, layout, tree.message, tree.position)
        else:
            verdict = study.judge(identity, *tree, layout, guards=guards)
        checks.append(Check(prefix + layout, verdict.holds, _verdict_line(verdict), verdict))
    return checks


def _verdict_line(v: Verdict) -> str:
    parts = [v.status]
    if v.symbolic is not None:
        proof = f", {v.symbolic.proof}" if v.symbolic.proof else ""
        parts.append(f"symbolic {v.symbolic.status}{proof} at "
                     + (", ".join(f"{k}={n}" for k, n in v.symbolic.sizes.items())
                        or "fixed sizes"))
    if v.numeric is not None and v.numeric.points:
        parts.append(f"numeric max error {v.numeric.max_error:.1e} "
                     f"at {len(v.numeric.points)} points")
    if v.status != "holds":
        parts.append(v.summary)
    return "; ".join(parts)


def parse_dims(text: str) -> Shape:
    return tuple(Dim.of(int(t)) if t.isdigit() else Dim.of(t)
                 for t in text.replace(",", " ").split())


def _check_shape_rule(entry: Entry, seed: int) -> list[Check]:
    """The layout's shape, and its entries indexed by the notes' rule against
    torch's own Jacobian (``J[out..., in...]``): numerator layout puts the
    output's indices first and the input's reversed after them."""
    import torch

    from .assumptions import sample_tensor
    from .numeric import Evaluator
    from .shapes import axes, concrete

    decl = entry_declarations(entry, None)
    checks = []
    scope = decl.scope("numerator")
    f = _parse(entry, "f", entry.f, scope)
    wrt = decl.shape_map[entry.wrt]
    for layout, text in entry.shape:
        got = layout_plan(f.shape, wrt, layout).shape
        expected = parse_dims(text)
        checks.append(Check(f"shape {layout}", got == expected,
                            f"{layout} layout gives {fmt(got)}; the notes' rule says "
                            f"{fmt(expected)}"))
    sizes = decl.symbolic_sizes()
    gen = torch.Generator().manual_seed(seed)
    env = {name: sample_tensor(decl.tag_map.get(name, frozenset()), concrete(shape, sizes), gen)
           for name, shape in decl.shapes}
    derivative = _parse(entry, "f", f"d({entry.f})/d({entry.wrt})", scope)
    ours = Evaluator(env, sizes).value(derivative)

    def function(value: Any) -> Any:
        return Evaluator({**env, entry.wrt: value}, sizes).value(f)

    jac = torch.autograd.functional.jacobian(function, env[entry.wrt])
    out_axes, in_axes = axes(f.shape), tuple(2 + i for i in axes(wrt))
    worst = 0.0
    for index in itertools.product(*(range(n) for n in jac.shape)):
        position = [index[i] for i in out_axes] + [index[i] for i in reversed(in_axes)]
        mine = ours.reshape(-1)[position[0]] if ours.dim() == 2 and len(position) == 1 else (
            ours[tuple(position)] if position else ours.reshape(-1)[0])
        worst = max(worst, abs(float(mine - jac[index])))
    checks.append(Check("shape entries", worst < 1e-10,
                        f"numerator entries match torch's Jacobian by the index rule "
                        f"(max difference {worst:.1e})"))
    return checks


def _check_kink(entry: Entry, seed: int) -> Check:
    import torch

    from .assumptions import sample_tensor
    from .numeric import Evaluator
    from .shapes import concrete

    kink = entry.kink
    decl = entry_declarations(entry, None)
    sizes = decl.symbolic_sizes()
    gen = torch.Generator().manual_seed(seed)
    env = {name: sample_tensor(decl.tag_map.get(name, frozenset()), concrete(shape, sizes), gen)
           for name, shape in decl.shapes}
    for name, value in kink.at:
        env[name] = torch.full_like(env[name], float(value))
    node = _parse(entry, "f", f"d({entry.f})/d({entry.wrt})", decl.scope("numerator"))
    value = Evaluator(env, sizes).value(node).detach()
    low, high = float(kink.low), float(kink.high)
    if kink.values == "diagonal":
        picked = torch.diagonal(value)
        off = value - torch.diag(picked)
        ok = bool(off.abs().max() == 0) if off.numel() else True
    else:
        picked, ok = value.reshape(-1), True
    ok = ok and bool(((picked >= low) & (picked <= high)).all())
    where = ", ".join(f"{k} = {v}" for k, v in kink.at)
    chosen = sorted({f"{v:g}" for v in picked.tolist()})
    return Check("kink", ok, f"at {where} autograd picks {', '.join(chosen)}, "
                             f"{'inside' if ok else 'OUTSIDE'} the subdifferential "
                             f"[{kink.low}, {kink.high}]")


def _check_pitfall(entry: Entry, pitfall: Pitfall, study: Engines) -> Check:
    scope = study.declarations.scope(pitfall.layout)
    identity = f"d({entry.f})/d({entry.wrt}) = {pitfall.claim}"
    try:
        lhs = _parse(entry, "f", f"d({entry.f})/d({entry.wrt})", scope)
        rhs = _parse(entry, "pitfall claim", pitfall.claim, scope)
        verdict = study.judge(identity, lhs, rhs, pitfall.layout)
    except ShapeError as error:
        verdict = study.ill_formed(identity, pitfall.layout, error.message, error.position)
    ok = verdict.status != "holds"
    detail = (f"the published form {'is ' + verdict.status if ok else 'HOLDS'} "
              f"in {pitfall.layout} layout: {verdict.summary}")
    return Check(f"pitfall ({pitfall.layout})", ok, detail, verdict)


def _check_pitfall_correction(entry: Entry, pitfall: Pitfall, study: Engines) -> Check:
    """The correct form a pitfall states must hold under the pitfall's assumptions."""
    scope = study.declarations.scope(pitfall.layout)
    identity = f"d({entry.f})/d({entry.wrt}) = {pitfall.correct}"
    try:
        lhs = _parse(entry, "f", f"d({entry.f})/d({entry.wrt})", scope)
        verdict = study.judge(identity, lhs, _parse(entry, "pitfall correct", pitfall.correct,
                                                    scope), pitfall.layout)
    except ShapeError as error:
        verdict = study.ill_formed(identity, pitfall.layout, error.message, error.position)
    return Check(f"pitfall correct ({pitfall.layout})", verdict.holds, _verdict_line(verdict),
                 verdict)


def _check_accumulation(entry: Entry, study: Engines) -> list[Check]:
    """The two association orders of the chain rule's product of Jacobians: each
    must be the derivative (numerator layout); the sheet shows their costs."""
    scope = study.declarations.scope("numerator")
    lhs = _parse(entry, "f", f"d({entry.f})/d({entry.wrt})", scope)
    checks = []
    for order, claim in entry.accumulation:
        identity = f"d({entry.f})/d({entry.wrt}) = {claim}"
        try:
            verdict = study.judge(identity, lhs, _parse(entry, f"accumulation.{order}", claim,
                                                        scope), "numerator")
        except ShapeError as error:
            verdict = study.ill_formed(identity, "numerator", error.message, error.position)
        checks.append(Check(f"{order} accumulation", verdict.holds, _verdict_line(verdict),
                            verdict))
    return checks


def _check_autograd(example: AutogradExample, seed: int, label: str = "autograd") -> Check:
    from .autograd import run_example

    outcome = run_example(example, seed)
    ok = outcome.status == example.expect
    expected = "" if example.expect == "holds" else f" (as expected: {example.expect})"
    return Check(label, ok, f"{outcome.status}{expected}: {outcome.detail}")


def _check_erratum(erratum: Erratum, seed: int, study: Callable[[Any, Any], Engines]
                   ) -> list[Check]:
    """The evidence of an erratum, computed now: every verdict must be the one
    the erratum states (the slip does not hold, the correction does)."""
    checks = []
    for index, item in enumerate(erratum.claims):
        try:
            decl = declare(dict(item.vars), {k: list(v) for k, v in item.assume})
        except MatcalcError as error:
            raise TableError(f"{erratum.file}: entry '{erratum.id}': claim #{index + 1}: "
                             f"field 'vars': {error}") from None
        verdict = _claim_verdict(erratum, item, study(("erratum", index), decl))
        ok = verdict.status == item.expect
        checks.append(Check(f"claim ({item.layout})", ok,
                            f"expected {item.expect}, found {_verdict_line(verdict)}", verdict))
    for index, example in enumerate(erratum.autograd):
        checks.append(_check_autograd(example, seed, f"autograd #{index + 1}"))
    for item in erratum.jacobians:
        checks.append(_check_jacobian(erratum, item, seed))
    return checks


def _claim_verdict(erratum: Erratum, item: ClaimEvidence, study: Engines) -> Verdict:
    scope = study.declarations.scope(item.layout)
    identity = item.identity()
    try:
        lhs = parse_expression(f"d({item.f})/d({item.wrt})", scope)
        rhs = parse_expression(item.claim, scope)
    except ShapeError as error:
        return study.ill_formed(identity, item.layout, error.message, error.position)
    except MatcalcError as error:
        raise TableError(f"{erratum.file}: entry '{erratum.id}': claim {identity}: {error}") \
            from None
    return study.judge(identity, lhs, rhs, item.layout)


def _check_jacobian(erratum: Erratum, item: JacobianEvidence, seed: int) -> Check:
    """torch's own Jacobian of ``f`` (vectors as columns, as matcalc evaluates them)."""
    import torch

    from .assumptions import sample_tensor
    from .numeric import Evaluator
    from .shapes import concrete

    try:
        decl = declare(dict(item.vars))
        f = parse_expression(item.f, decl.scope("numerator"))
    except MatcalcError as error:
        raise TableError(f"{erratum.file}: entry '{erratum.id}': jacobian of {item.f}: "
                         f"{error}") from None
    sizes = decl.symbolic_sizes()
    gen = torch.Generator().manual_seed(seed)
    env = {name: sample_tensor(frozenset(), concrete(shape, sizes), gen)
           for name, shape in decl.shapes}

    def function(value: Any) -> Any:
        return Evaluator({**env, item.wrt: value}, sizes).value(f)

    got = tuple(torch.autograd.functional.jacobian(function, env[item.wrt]).shape)
    dims = parse_dims(item.shape)
    expected = tuple(d.size(sizes) for d in dims)
    where = sizes_text(sizes, "")
    return Check("torch jacobian", got == expected,
                 f"torch's Jacobian of {item.f} with respect to {item.wrt} has shape {got} "
                 f"({where}); the erratum says {fmt(dims)}")


# ---------------------------------------------------------------------------
# Many entries


def _run(args: tuple[Entry, int, float | None]) -> EntryResult:
    return check_entry(*args)


def check_all(entries: Sequence[Entry], jobs: int | None = None, seed: int = 0,
              timeout: float | None = None,
              progress: Callable[[int, int, EntryResult], None] | None = None
              ) -> list[EntryResult]:
    """Check every entry (in worker processes); results in the order of ``entries``.

    The entries likely to take longest are handed out first, so that the
    workers finish together rather than one of them running a long entry
    alone at the end (every entry is checked whatever the order)."""
    seed, timeout, jobs = check_seed(seed), check_timeout(timeout), check_jobs(jobs)
    order = sorted(range(len(entries)), key=lambda i: -expected_cost(entries[i]))
    done = parallel_map(_run, [(entries[i], seed, timeout) for i in order], jobs, progress)
    results: list[EntryResult] = [None] * len(entries)  # type: ignore[list-item]
    for i, result in zip(order, done):
        results[i] = result
    return results


#: operations whose exact evaluation costs most (determinants, by elimination)
_COSTLY_CALL = re.compile(r"\b(?:det|inv|logdet)\(")
_TOKEN = re.compile(r"[A-Za-z_]\w*|[-+*/@]")
_NAME = re.compile(r"[A-Za-z_]\w*")


def expected_cost(entry: Entry | AutogradExample | Erratum) -> float:
    """A rough guess at the relative time an entry's checks take, from its text
    alone (claims judged x their length x inverses and determinants x dimension
    names): good enough to hand out the long entries first."""
    if not isinstance(entry, Entry):
        return 1.0
    texts = ([entry.f] + [c for _, c in entry.claims] + [c for _, c in entry.accumulation]
             + [t for p in entry.pitfalls for t in (p.claim, p.correct) if t]
             + [t for instance in entry.instances for _, t in instance.macros])
    text = " ".join(texts)
    judged = (len(entry.claims) * max(1, len(entry.instances)) + len(entry.accumulation)
              + sum(1 + bool(p.correct) for p in entry.pitfalls))
    dims = {d for _, shape in entry.vars for d in _NAME.findall(shape)}
    return (judged * len(_TOKEN.findall(text)) * (1 + 2 * len(_COSTLY_CALL.findall(text)))
            * (1 + len(dims)))


@dataclass(frozen=True)
class Summary:
    entries: int
    holds: int
    failures: int
    checks: int
    seconds: float
    median: float

    def to_dict(self) -> dict[str, Any]:
        return {"entries": self.entries, "holds": self.holds, "failures": self.failures,
                "checks": self.checks, "seconds": round(self.seconds, 3),
                "median_seconds_per_entry": round(self.median, 4)}


def summarize(results: Sequence[EntryResult], seconds: float) -> Summary:
    holds = sum(r.ok for r in results)
    return Summary(len(results), holds, len(results) - holds,
                   sum(len(r.checks) for r in results), seconds,
                   statistics.median(r.seconds for r in results) if results else 0.0)
