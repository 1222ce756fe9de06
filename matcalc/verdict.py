"""The verdict on one identity (docs/design.md §3), and how the two engines' findings
combine into it.

``status`` is exactly one of ``holds``, ``fails`` or ``ill-formed``. The
evidence of both engines is carried along; when they disagree (at the sizes both
examined) the verdict says so in ``disagreement`` and never resolves it quietly:
that is a bug in one of the engines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .evidence import Counterexample, NumericEvidence, SymbolicEvidence, sizes_text, to_plain

#: how a verdict's summary names the sizes when no dimension is free
DECLARED = "the declared sizes"

STATUSES = ("holds", "fails", "ill-formed")


@dataclass(frozen=True)
class Finding:
    """A verified repair of a wrong claim (see :mod:`matcalc.diagnosis`)."""

    kind: str
    message: str
    claim: str
    layout: str
    assume: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """The verdict on one identity, with both engines' evidence.

    A verdict is true exactly when its status is ``holds`` (``bool(verdict)``),
    so ``assert matcalc.verify(...)`` fails on ``fails`` and ``ill-formed``;
    :func:`matcalc.testing.assert_identity` fails a test with the whole report.
    ``repr`` is one line; ``str`` is the report.
    """

    identity: str
    status: str
    layout: str
    summary: str
    lhs: str | None = None
    rhs: str | None = None
    lhs_shape: str | None = None
    rhs_shape: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    assumptions: dict[str, list[str]] = field(default_factory=dict)
    symbolic: SymbolicEvidence | None = None
    numeric: NumericEvidence | None = None
    counterexample: Counterexample | None = None
    disagreement: str | None = None
    hints: tuple[str, ...] = ()
    position: int | None = None
    diagnosis: tuple[Finding, ...] = ()
    closed_form: str | None = None  # the derivative in matrix notation, verified
    # how strong the evidence for a holds is (None unless it holds), see matcalc.strength
    strength: str | None = None  # "general" | "exact" | "numeric"
    exact_sizes: tuple[dict[str, int], ...] = ()  # decided exactly at these sizes
    numeric_sizes: tuple[dict[str, int], ...] = ()  # confirmed in float64 at these sizes
    argument: str | None = None  # why it holds at every size (strength "general")
    parity_complete: bool = True  # every free dimension decided exactly at both parities

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")

    @property
    def holds(self) -> bool:
        return self.status == "holds"

    @property
    def scope(self) -> str:
        """Where the ``holds`` was established: ``for every size``, ``exactly at
        n = 2, 3 and numerically at n = 5, 7``, ... (empty unless it holds)."""
        return self._strength().scope() if self.strength else ""

    def meets(self, required: str) -> bool:
        """Whether this is a ``holds`` at least as strong as ``required``
        (``"general"``, ``"exact"`` or ``"numeric"``)."""
        from .strength import RANK

        if required not in RANK:
            raise ValueError(f"required strength must be one of {tuple(RANK)}, not {required!r}")
        return self.strength is not None and self._strength().meets(required)

    def _strength(self) -> Any:
        from .strength import Strength

        return Strength(self.strength or "numeric", self.exact_sizes, self.numeric_sizes,
                        self.argument, self.parity_complete)

    def __bool__(self) -> bool:
        """True exactly when the status is ``holds``: ``assert verify(...)`` means it."""
        return self.status == "holds"

    def __repr__(self) -> str:
        return f"<Verdict {self.status}: {self.identity.strip()} [{self.layout}]>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "status": self.status,
            "layout": self.layout,
            "summary": self.summary,
            "lhs": self.lhs,
            "rhs": self.rhs,
            "lhs_shape": self.lhs_shape,
            "rhs_shape": self.rhs_shape,
            "variables": self.variables,
            "assumptions": self.assumptions,
            "disagreement": self.disagreement,
            "hints": list(self.hints),
            "position": self.position,
            "diagnosis": [to_plain(f) for f in self.diagnosis],
            "closed_form": self.closed_form,
            "strength": self.strength,
            "exact_sizes": [dict(s) for s in self.exact_sizes],
            "numeric_sizes": [dict(s) for s in self.numeric_sizes],
            "argument": self.argument,
            "symbolic": to_plain(self.symbolic),
            "numeric": to_plain(self.numeric),
            "counterexample": to_plain(self.counterexample),
        }

    def __str__(self) -> str:
        from .rendering.text import render_text

        return render_text(self)

    def _repr_html_(self) -> str:
        from .rendering.text import render_html

        return render_html(self)

    def _repr_latex_(self) -> str:
        from .rendering.latex import verdict_latex

        return rf"$${verdict_latex(self)} \quad \text{{({self.status}, {self.layout} layout)}}$$"


@dataclass(frozen=True)
class Outcome:
    status: str
    summary: str
    counterexample: Counterexample | None
    disagreement: str | None


#: why numeric agreement alone does not make a claim with kinks hold. Random points
#: are evidence for an analytic difference: unless it is identically 0 it vanishes
#: only on a set of measure 0, which random points miss. A piecewise difference is
#: one such formula on each combination of its kinks' signs, so every combination
#: must be visited (:func:`matcalc.kinks.combinations`): one never visited can hold
#: the only difference, in a region no random point or search line enters although
#: every kink is seen on both sides (relu(sum(sign(x)) - 5.5 + t) * relu(-t) is
#: nonzero only for t < 0 and x in one orthant of 2**n).
KINKED = ("agreement at random points is no proof for a claim with kinks (abs, relu, "
          "sign, norm1) unless it visited every combination of their signs: it may "
          "differ only on one never visited, such as one orthant of 2**n; a proof "
          "decides it (the exact stage, or the general argument)")


def undecided_detail(symbolic: SymbolicEvidence | None, numeric: NumericEvidence | None) -> str:
    """Why :func:`combine` decided nothing, from the evidence of the engines that ran."""
    details = [e.detail for e in (symbolic, numeric) if e is not None]
    if numeric is not None and numeric.status == "agrees" and numeric.combinations_missed:
        details.append(KINKED)
    return "; ".join(details)


def combine(symbolic: SymbolicEvidence | None, numeric: NumericEvidence | None) -> Outcome | None:
    """The status the evidence supports, or None if neither engine decided."""
    sym = {"proved": True, "refuted": False}.get(symbolic.status) if symbolic else None
    num = {"agrees": True, "disagrees": False}.get(numeric.status) if numeric else None
    # compare like with like: numeric points at the sizes the symbolic stage used. Only
    # a proof against a numeric difference beyond the estimated rounding error is a
    # disagreement: numeric points that agree with a refuted claim may all lie where the
    # claim happens to hold, or within the tolerance (a sampling or tolerance limit)
    same_size = None
    if symbolic is not None and numeric is not None:
        # a proof covers every instantiation in size_sets; a refutation its own sizes
        decided = (symbolic.size_sets or (symbolic.sizes,)) if sym else (symbolic.sizes,)
        at_sizes = [p.ok for p in numeric.points if p.sizes in decided and not p.inconclusive]
        same_size = all(at_sizes) if at_sizes else None
    disagreement = None
    if sym is False and same_size and _loosened(numeric):
        # the claim is refuted exactly, and differs by less than the tolerance the user set
        return Outcome("fails", "the claim differs from the true value (a counterexample is "
                       "below), by less than the numeric tolerance set", symbolic.counterexample,
                       None)
    if sym is True and same_size is False:
        disagreement = (
            f"ENGINE DISAGREEMENT: the symbolic stage {symbolic.status} the identity at "
            f"{sizes_text(symbolic.sizes, DECLARED)} but torch's Jacobian "
            f"{'agrees' if same_size else 'disagrees'} there. This is a bug in matcalc; "
            "do not rely on this verdict, and please report it."
        )
    counterexample = None
    if symbolic is not None and symbolic.counterexample is not None:
        counterexample = symbolic.counterexample
    elif numeric is not None and numeric.counterexample is not None:
        counterexample = numeric.counterexample

    if disagreement:
        return Outcome("fails", "the engines disagree (see below)", counterexample, disagreement)
    if sym is False or num is False:
        if sym is True and num is False:
            failing = sorted({sizes_text(p.sizes, DECLARED) for p in numeric.points if not p.ok})
            proved_at = "; ".join(sizes_text(s, DECLARED)
                                  for s in symbolic.size_sets or (symbolic.sizes,))
            summary = (f"holds at {proved_at} (proved) but fails at "
                       f"{', '.join(failing)}: the identity depends on the size")
        elif sym is False:
            summary = "the claim differs from the true value " + (
                "(a counterexample is below)" if counterexample is not None else
                "(refuted exactly; no counterexample is shown at this size)")
        else:
            summary = "the claim differs from torch's Jacobian (numeric evidence only: " + (
                symbolic.detail if symbolic else "symbolic stage not run") + ")"
        return Outcome("fails", summary, counterexample, None)
    exact_missed = symbolic is not None and (symbolic.finding != "vanishes"
                                             or symbolic.gaps_missed > 0)
    if num is True and sym is not True and (
            (numeric.gaps_missed or numeric.gaps_merged) and (symbolic is None or exact_missed)):
        # float64 did not visit every gap between kink roots (those narrower than its
        # resolution it cannot: roots of two entries it takes as one may be apart),
        # nor did the exact stage: the claim may be wrong there
        return None
    if num is True and sym is not True and (numeric.kinks_one_sided
                                            or numeric.kinks and numeric.combinations_missed):
        # a kink seen on one side only (its other side, if any, was never evaluated by
        # either engine: their points and search lines are alike), or a combination of
        # the kinks' signs never visited: see KINKED. Only a proof holds
        return None
    if sym is True or num is True:  # the summary states the strength (matcalc.strength)
        return Outcome("holds", "holds", None, None)
    return None


def _loosened(numeric: NumericEvidence) -> bool:
    """Whether the numeric stage ran with tolerances looser than its defaults."""
    from .numeric import ATOL, RTOL

    return numeric.tolerance > RTOL or numeric.atol > ATOL


