"""``check_gradient``: is the derivative of *your* function what you claim?

``torch.autograd.gradcheck`` answers "mismatch" and prints two Jacobians; this
check answers with a verdict, as :func:`matcalc.verify` does: ``holds``,
``fails`` (with a counterexample) or ``ill-formed`` (a claim of the wrong
shape), and names the mistake — the claim is the other layout's answer, is
transposed, has the wrong sign or is off by a constant factor — by trying the
whole-claim repairs of :mod:`matcalc.diagnosis` on the claimed arrays, each
repair shown only when it agrees with the truth at every point.

The truth is torch autograd's Jacobian of ``f`` where autograd differentiates
``f`` by its own rules; it is central differences in float64 (as ``gradcheck``
computes them) where ``f`` is NumPy code, where its graph goes through a
hand-written backward (a custom ``torch.autograd.Function``), and always when
``claimed`` is None — then the claim is ``f``'s own backward. Autograd itself
is cross-checked by central differences: at the examples entry by entry (up to
``CROSS_CHECK_ENTRIES`` entries of ``wrt``, along random directions beyond), and
along random directions at every other point. Where they differ (a detached
path, an extension op with a wrong backward) central differences are the truth
and the evidence says so. The points are the examples and random perturbations
of them (seeded).

Only the user's own callables are called; an expression claim is parsed by
matcalc's parser and evaluated by its numeric engine, never by Python.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from . import expr as E
from ._lazy import load, torch
from .diagnosis import ORDER, repair_message, whole_claim_repairs
from .errors import DeclarationError, ShapeError, UnknownNameError, did_you_mean
from .evidence import Counterexample, NumericEvidence, NumericPoint
from .layout import LAYOUTS, LayoutPlan, arrange, layout_plan, unarrange
from .numeric import check_tolerances
from .parsing import parse_expression, scope_from
from .shapes import Shape, concrete
from .userfunc import STEP, UserFunction, callable_name, to_tensor
from .verdict import Finding, Verdict

#: points checked: the examples and POINTS - 1 random perturbations of them
POINTS = 4
#: default tolerances against autograd (as verify's numeric stage) ...
RTOL = ATOL = 1e-8
#: ... and against central differences, whose own error is about STEP**2 * f''' + 1e-16 / STEP
FD_RTOL = FD_ATOL = 1e-6
#: autograd is cross-checked by central differences at the examples: the whole Jacobian
#: up to this many entries of wrt, beyond them along DIRECTIONS random directions
CROSS_CHECK_ENTRIES = 400
DIRECTIONS = 4
#: a jump between one-sided differences beyond this (and FD_RTOL of their size) is a kink:
#: a smooth f's differ by about STEP * f'' (1e-6 at unit curvature)
KINK_JUMP = 1e-3
#: with the default tolerances, a difference beyond this fraction of the magnitude must
#: also be within NOISE_SLACK times the rounding noise (as agreement.HIDDEN_FLOOR)
HIDDEN = 2.0 ** -43
#: the default atol accepts a difference of at most this many times the rounding noise
NOISE_SLACK = 2.0 ** 10

Claimed = Callable[..., Any] | str | None


def check_gradient(
    f: Callable[..., Any],
    claimed: Claimed,
    inputs: Mapping[str, Any],
    wrt: str,
    layout: str = "denominator",
    rtol: float | None = None,
    atol: float | None = None,
    points: int = POINTS,
    seed: int = 0,
    diagnose: bool = True,
) -> Verdict:
    """Check the derivative of ``f`` with respect to the input ``wrt``.

    >>> import torch
    >>> A, x = torch.randn(3, 4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    >>> f = lambda A, x: torch.tanh(A @ x)
    >>> jac = lambda A, x: (1 - torch.tanh(A @ x) ** 2)[:, None] * A
    >>> check_gradient(f, jac, {"A": A, "x": x}, "x", layout="numerator").status
    'holds'
    >>> check_gradient(f, "diag(1 - tanh(A @ x)**2) @ A", {"A": A, "x": x}, "x",
    ...                layout="numerator").status
    'holds'

    ``f`` takes keyword arguments named as in ``inputs``, a dict of example
    values (torch tensors, or NumPy arrays for a NumPy ``f``) that fixes the
    shapes: a 0-d value is a scalar, a 1-d one a column vector, a 2-d one a
    matrix. ``claimed`` is a callable with the same arguments returning the
    claimed derivative in ``layout``, an expression in matcalc's language over
    the input names, or None to check ``f``'s own backward. A vector-shaped
    derivative may be given 1-d and a scalar one 0-d (NumPy conventions).
    A point agrees when ``max |truth - claim| <= max(atol, rtol * max |truth|)``;
    the defaults are 1e-8 against autograd and 1e-6 against central
    differences. ``points`` counts the examples and ``points - 1`` random
    perturbations of them (``seed`` fixes them).
    """
    if layout not in LAYOUTS:
        raise UnknownNameError(f"unknown layout '{layout}'", token=str(layout),
                               hint=did_you_mean(str(layout), LAYOUTS)
                               or f"choose one of {', '.join(LAYOUTS)}")
    check_tolerances(rtol, atol)
    if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= 100:
        raise DeclarationError(f"points must be an integer from 1 to 100, not {points!r}",
                               token=repr(points))
    start = time.perf_counter()
    load(torch)
    fn = UserFunction(f, inputs)
    if not isinstance(wrt, str):
        raise DeclarationError(f"wrt must be the name of one input, not {wrt!r}",
                               token=repr(wrt)[:40])
    if wrt not in fn.examples:
        raise UnknownNameError(f"unknown input '{wrt}' to differentiate by", token=str(wrt),
                               hint=did_you_mean(str(wrt), fn.examples)
                               or f"the inputs are {', '.join(fn.examples)}")
    if wrt not in fn.floating:
        raise DeclarationError(f"input '{wrt}' is not a floating-point value", token=wrt)
    check = _Check(fn, wrt, layout, claimed)
    if check.ill_typed is not None:
        return check.ill_formed(check.ill_typed.message, check.ill_typed.position)
    check.truth_by_autograd = _autograd_is_truth(fn, wrt, claimed) and check.cross_check()
    default_rtol, default_atol = (RTOL, ATOL) if check.truth_by_autograd else (FD_RTOL, FD_ATOL)
    check.rtol = default_rtol if rtol is None else rtol
    check.atol = default_atol if atol is None else atol
    check.atol_given, check.rtol_given = atol is not None, rtol is not None
    check.run(fn.points(points, seed))
    return check.verdict(diagnose, time.perf_counter() - start)


def _autograd_is_truth(fn: UserFunction, wrt: str, claimed: Claimed) -> bool:
    if claimed is None:
        if fn.numpy:
            raise DeclarationError(
                "claimed=None checks the backward of a torch function, but the inputs are "
                "NumPy arrays", hint="pass the claimed derivative as a callable or expression")
        return False
    reaches, custom = fn.differentiable(fn.examples, wrt)
    return reaches and not custom


@dataclass
class _Point:
    env: dict[str, Any]
    native: Any  # the true derivative in native order (every value 2-d)
    truth: Any  # in the layout's shape
    raw: Any  # the claim as returned
    floor: float | None = None  # the rounding noise of truth and claim (_Check.noise)
    by_differences: bool = False  # the truth is central differences'


class _Check:
    def __init__(self, fn: UserFunction, wrt: str, layout: str, claimed: Claimed) -> None:
        self.fn, self.wrt, self.layout, self.claimed = fn, wrt, layout, claimed
        self.rtol = self.atol = 0.0
        self.atol_given = self.rtol_given = False
        self.skip_examples = False  # the examples lie on a kink: not judged
        self.truth_by_autograd = False
        self.points: list[_Point] = []
        self.rejected = 0
        example = fn(fn.examples).detach()
        if not bool(torch.isfinite(example).all()):
            raise DeclarationError(f"{fn.name} is not finite at the example inputs",
                                   token=fn.name)
        self.out_shape: Shape = fn.shape(example)
        self.wrt_shape: Shape = fn.shape(fn.examples[wrt])
        self.native = concrete(self.out_shape, fn.sizes) + concrete(self.wrt_shape, fn.sizes)
        self.plan = layout_plan(self.out_shape, self.wrt_shape, layout)
        self.target = concrete(self.plan.shape, fn.sizes)
        self.tree: E.Expr | None = None
        self.ill_typed: ShapeError | None = None
        self.note = ""
        if isinstance(claimed, str):
            scope = scope_from({n: fn.shape(fn.examples[n]) for n in fn.examples
                                if n in fn.floating}, layout)
            try:
                self.tree = parse_expression(claimed, scope)
            except ShapeError as error:
                self.ill_typed = error
            self.text = claimed.strip()
        elif claimed is None:
            self.text = f"backward({fn.name})"
        else:
            if not callable(claimed):
                raise DeclarationError("claimed must be a callable, an expression string or "
                                       f"None, not {type(claimed).__name__}")
            self.text = f"{callable_name(claimed, 'claimed')}({', '.join(fn.examples)})"
        self.truth_name = "autograd"

    # -- evaluation

    def evaluate(self, tree: E.Expr, env: dict[str, Any]) -> Any:
        """An expression's value at ``env``, by matcalc's numeric engine."""
        from .numeric import Evaluator

        matrices = {n: self.fn.matrix(v).cpu() for n, v in env.items() if n in self.fn.floating}
        with torch.no_grad():
            return Evaluator(matrices, self.fn.sizes).value(tree).detach()

    def claim(self, env: dict[str, Any]) -> Any:
        if self.tree is not None:
            return self.evaluate(self.tree, env)
        if self.claimed is None:  # f's backward, arranged in the layout like the truth
            native = self.fn.autograd(env, self.wrt).detach().reshape(self.native)
            return arrange(native, self.plan, self.fn.sizes)
        args = {k: (v.cpu().numpy() if self.fn.numpy else v) for k, v in env.items()}
        return to_tensor(self.claimed(**args), "the claimed derivative", max_dim=4).cpu()

    def cross_check(self) -> bool:
        """Whether autograd's Jacobian agrees with central differences at the
        examples (where ``wrt`` is small enough to afford it): a graph with a
        detached path, or an operation whose backward is wrong, makes autograd
        no truth, and central differences take its place."""
        example = self.fn.examples
        if example[self.wrt].numel() > CROSS_CHECK_ENTRIES:
            by_autograd, by_differences = self._along_directions(example)
        else:
            out_shape = tuple(self.fn(example).shape)
            by_autograd = self.fn.autograd(example, self.wrt).detach().reshape(self.native)
            by_differences = self.fn.central(example, self.wrt, out_shape).reshape(self.native)
        if not by_differences.numel():
            return True
        largest = float((by_autograd - by_differences).abs().max())
        scale = float(by_differences.abs().max())
        if largest <= max(FD_ATOL, FD_RTOL * scale):
            return True
        if self._skip_on_a_kink(example, ", and autograd is the truth at the points around them"):
            return True  # no derivative there to be the truth (adversary 4, J11: relu at 0)
        self.note = (f"autograd's derivative of {self.fn.name} differs from central differences "
                     f"at the examples (by {largest:.1e}: a detached path, or an operation with "
                     "a wrong backward?), so central differences are the truth")
        return False

    def _skip_on_a_kink(self, example: dict[str, Any], then: str) -> bool:
        """Whether the examples lie on a kink of ``f`` (forward and backward
        differences apart by more than central differences may err: relu or abs at
        0), which has no derivative there; if so they are not judged, and the
        evidence says so (``then``: what stands in for them)."""
        if example[self.wrt].numel() > CROSS_CHECK_ENTRIES:
            return False
        out_shape = tuple(self.fn(example).shape)
        forward, backward = self.fn.central(example, self.wrt, out_shape, sides=True)
        if not forward.numel():
            return False
        scale = float(torch.maximum(forward.abs(), backward.abs()).max())
        if float((forward - backward).abs().max()) <= max(KINK_JUMP, FD_RTOL * scale):
            return False
        self.skip_examples = True
        self.note = (f"the examples lie on a kink of {self.fn.name} (its one-sided "
                     f"differences differ there), where it has no derivative: they are not "
                     f"judged{then}")
        return True

    def _along_directions(self, example: dict[str, Any],
                          native: Any = None) -> tuple[Any, Any]:
        """Autograd's Jacobian times ``DIRECTIONS`` random unit directions, and the
        same directional derivatives by central differences (four calls of ``f``
        each): the cross-check at any size (adversary 4, J2: above 400 entries a
        detached path went unseen). Where they differ, the differences are taken
        at a step 8 times smaller, a step relative to the input's size: a wrong
        autograd differs by as much at both steps, while the differences' own
        error (an ill-conditioned f, logdet near a singular matrix) shrinks about
        64-fold; only a difference that stays counts (else the two agree here)."""
        point = example[self.wrt]
        if native is None:
            native = self.fn.autograd(example, self.wrt).detach()
        by_autograd = native.reshape(-1, point.numel()).to(torch.float64)
        gen = torch.Generator().manual_seed(0)
        directions = torch.randn(point.numel(), DIRECTIONS, generator=gen, dtype=torch.float64)
        directions /= directions.norm(dim=0)
        by_autograd = by_autograd @ directions

        def differences(step: float) -> Any:
            columns = []
            with torch.no_grad():
                for k in range(DIRECTIONS):
                    d = directions[:, k].reshape(point.shape).to(point.device, point.dtype)
                    plus = self.fn({**example, self.wrt: point + step * d}).detach()
                    minus = self.fn({**example, self.wrt: point - step * d}).detach()
                    columns.append(((plus - minus) / (2 * step)).cpu().reshape(-1))
            return torch.stack(columns, dim=-1)

        step = STEP * max(1.0, float(point.abs().max()))
        coarse = differences(step)
        gap = float((by_autograd - coarse).abs().max())
        if gap <= max(FD_ATOL, FD_RTOL * float(coarse.abs().max())):
            return by_autograd, coarse
        fine = differences(step / 8)
        if float((by_autograd - fine).abs().max()) < gap / 2:
            return by_autograd, by_autograd  # the differences' own error: no evidence
        return by_autograd, fine

    def truth(self, env: dict[str, Any], by_differences: bool | None = None) -> tuple[Any, bool]:
        """The true derivative at ``env`` in native order, every value 2-d, and
        whether central differences gave it. Autograd is cross-checked along
        random directions at every point (adversary 4, J14: Python control flow
        can detach a path at some inputs only); where it differs, central
        differences are the truth there. ``by_differences`` given: that source,
        without the cross-check (the noise estimate's second evaluation)."""
        if by_differences is None and self.truth_by_autograd:
            native = self.fn.autograd(env, self.wrt).detach()
            by_autograd, differences = self._along_directions(env, native)
            largest = float((by_autograd - differences).abs().max())
            if largest <= max(FD_ATOL, FD_RTOL * float(differences.abs().max())):
                return native.reshape(self.native), False
            self.note = (f"autograd's derivative of {self.fn.name} differs from central "
                         f"differences at a point around the examples (by {largest:.1e}: "
                         "a detached path?), so central differences are the truth there")
            by_differences = True
        if by_differences is None:
            by_differences = not self.truth_by_autograd
        native = (self.fn.central(env, self.wrt, tuple(self.fn(env).shape)) if by_differences
                  else self.fn.autograd(env, self.wrt).detach())
        return native.reshape(self.native), by_differences

    def run(self, envs: list[dict[str, Any]]) -> None:
        self.truth_name = "autograd" if self.truth_by_autograd else "central differences"
        for index, env in enumerate(envs):
            if index == 0 and (self.skip_examples or not self.truth_by_autograd
                               and self._skip_on_a_kink(env, "")):
                continue
            try:
                # f itself not finite (logdet of a matrix whose determinant went negative):
                # no derivative there, whatever autograd's graph gives (it gave 0)
                defined = bool(torch.isfinite(self.fn(env)).all()) or index == 0
                native, by_differences = self.truth(env) if defined else (None, False)
                raw = self.claim(env) if defined else None
                truth = arrange(native, self.plan, self.fn.sizes) if defined else None
            except Exception:  # the user's code refused a perturbed point: skip it
                if index == 0:
                    raise
                self.rejected += 1
                continue
            if truth is None or not bool(torch.isfinite(truth).all()):
                if index == 0:
                    raise DeclarationError(f"the derivative of {self.fn.name} by {self.wrt} is "
                                           "not finite at the example inputs", token=self.wrt)
                self.rejected += 1
                continue
            self.points.append(_Point(env, native, truth, raw, by_differences=by_differences))

    # -- comparison

    def fit(self, raw: Any, plan: LayoutPlan | None = None) -> Any:
        """``raw`` in the shape of ``plan`` (default: the layout's), or None; a
        vector may come 1-d and a scalar 0-d."""
        plan = plan or self.plan
        target = concrete(plan.shape, self.fn.sizes)
        squeezed = tuple(n for d, n in zip(plan.shape, target) if not d.is_unit)
        return raw.reshape(target) if tuple(raw.shape) in (target, squeezed) else None

    def agrees(self, truth: Any, claim: Any, point: _Point) -> tuple[float, bool]:
        """The error at ``point`` and whether it is within the tolerance: rtol of the
        truth's magnitude, or atol. The default atol is no more than NOISE_SLACK
        times the point's rounding noise (:meth:`noise`): an absolute 1e-8 would
        accept any claim, 0 included, of a derivative of magnitude 1e-9
        (adversary 4, J3), while noise of a derivative that cancels to 0 is
        accepted at any scale. With both tolerances left at their defaults and
        autograd the truth, a difference within them but beyond HIDDEN of the
        magnitude must be within that noise allowance too, as verify's comparison
        demands (adversary 4, J17: a claim off by a factor 1 + 3e-9 held)."""
        if claim is None:
            return float("inf"), False
        largest = float((truth - claim).abs().max()) if truth.numel() else 0.0
        scale = float(truth.abs().max()) if truth.numel() else 0.0
        ok = largest <= max(self.atol, self.rtol * scale)  # False for nan
        # (against central differences, whose own error the noise does not show, the
        # tolerances alone decide)
        strict = self.truth_by_autograd and not self.note and not (
            self.atol_given or self.rtol_given)
        floor = HIDDEN * scale if strict else self.rtol * scale
        if ok and not self.atol_given and largest > floor:
            ok = largest <= NOISE_SLACK * self.noise(point)
        return largest / max(1.0, scale), ok

    def noise(self, point: _Point) -> float:
        """The largest change of the truth or the claim when the floating inputs
        move by a relative 2**-40 at random: their rounding noise at this point
        (and a negligible 2**-40 of their sensitivity). Computed once per point."""
        if point.floor is None:
            gen = torch.Generator().manual_seed(7)
            moved = {}
            for name, value in point.env.items():
                if name in self.fn.floating and value.numel():
                    signs = torch.randint(0, 2, value.shape, generator=gen) * 2 - 1
                    value = value + value * (2.0 ** -40) * signs.to(value.device, value.dtype)
                moved[name] = value
            try:
                moved_truth = self.truth(moved, point.by_differences)[0]
                change = float((moved_truth - point.native).abs().max())
                change = max(change, float((self.claim(moved) - point.raw).abs().max()))
            except Exception:  # the user's code refused the moved point: no noise allowance
                change = 0.0
            point.floor = change if change == change else 0.0
        return point.floor

    def candidate(self, kind: str, detail: object, raw: Any) -> Any:
        if kind == "layout":
            other = layout_plan(self.out_shape, self.wrt_shape, str(detail))
            stated = self.fit(raw, other)
            if stated is None:
                return None
            return arrange(unarrange(stated, other, self.native), self.plan, self.fn.sizes)
        if kind == "transpose":
            return self.fit(raw.T) if raw.dim() == 2 else None
        fitted = self.fit(raw)
        return None if fitted is None else fitted * float(detail)  # type: ignore[arg-type]

    def repaired_text(self, kind: str, detail: object) -> str:
        if self.tree is not None:
            from .simplify import Builder, present

            b = Builder()
            tree = b.transpose(self.tree) if kind == "transpose" else (
                b.neg(self.tree) if detail == -1 else b.mul(E.const(Fraction(detail)), self.tree))
            return E.to_text(present(b.tidy(tree)))
        if kind == "transpose":
            return f"{self.text}.T"
        return f"-{self.text}" if detail == -1 else f"{Fraction(detail)} * {self.text}"

    def judge(self, tree: E.Expr, layout: str) -> bool:
        """Whether the expression ``tree`` is the derivative in ``layout`` at every point."""
        plan = layout_plan(self.out_shape, self.wrt_shape, layout)
        for point in self.points:
            try:
                claim = self.fit(self.evaluate(tree, point.env), plan)
            except RuntimeError:  # torch refused (a singular matrix in the candidate)
                return False
            if not self.agrees(arrange(point.native, plan, self.fn.sizes), claim, point)[1]:
                return False
        return True

    def diagnosis(self) -> tuple[Finding, ...]:
        """The repairs that agree with the truth at every point: the tree repairs
        of :mod:`matcalc.diagnosis` for an expression claim, the whole-claim ones
        applied to the arrays for a callable or a backward."""
        if self.tree is not None:
            from .declarations import declare, shape_spec
            from .diagnosis import judged_repairs
            from .engines import Engines

            inputs = {n: self.fn.shape(self.fn.examples[n]) for n in self.fn.floating}
            study = Engines(declare({n: shape_spec(s) for n, s in inputs.items()}))
            lhs = E.derivative(E.Var(self.fn.name, self.out_shape),
                               E.Var(self.wrt, self.wrt_shape), self.layout)
            return judged_repairs(study, lhs, self.tree, self.judge)
        findings = []
        for kind, detail in whole_claim_repairs(self.layout):
            if any(f.kind == kind for f in findings):
                continue
            if all(self.agrees(p.truth, self.candidate(kind, detail, p.raw), p)[1]
                   for p in self.points):
                derivative = None if kind == "layout" else self.repaired_text(kind, detail)
                layout = str(detail) if kind == "layout" else self.layout
                findings.append(Finding(kind, repair_message(kind, detail, self.layout,
                                                             derivative),
                                        derivative or self.text, layout))
        return tuple(sorted(findings, key=lambda f: ORDER.index(f.kind)))

    # -- the verdict

    def verdict(self, diagnose: bool, seconds: float) -> Verdict:
        from .numeric import shown_pair, tensor_grid

        if not self.points:
            raise DeclarationError("no point around the examples could be checked")
        example = self.points[0]
        if self.fit(example.raw) is None:
            message = (f"the claim {self.text} is {_show(tuple(example.raw.shape))}, but "
                       f"d({self.fn.name})/d({self.wrt}) in {self.layout} layout is "
                       f"{_show(self.target)}")
            return self.ill_formed(message, None, self.diagnosis() if diagnose else ())
        results, counterexample = [], None
        for point in self.points:
            claim = self.fit(point.raw)
            error, ok = self.agrees(point.truth, claim, point)
            results.append(NumericPoint({}, error, ok))
            if not ok and counterexample is None:
                shown = shown_pair(point.truth, point.raw if claim is None else claim)
                counterexample = Counterexample(
                    sizes={},
                    point={n: tensor_grid(self.fn.matrix(v)) for n, v in point.env.items()},
                    lhs=shown[0], rhs=shown[1], exact=False, source=self.truth_name)
        failed = sum(not r.ok for r in results)
        where = f"the examples and {len(results) - 1} random points around them"
        numeric = NumericEvidence(
            status="disagrees" if failed else "agrees",
            detail=(f"the claim and {self.truth_name} differ at {failed} of {len(results)} "
                    "points" if failed else f"the claim and {self.truth_name} agree at all "
                    f"{len(results)} points") + f" ({where})"
                   + (f"; {self.note}" if self.note else ""),
            engine=("torch autograd" if self.truth_by_autograd
                    else f"central differences (step {STEP:g})") + ", float64",
            points=tuple(results), max_error=max(r.error for r in results),
            tolerance=self.rtol, seconds=seconds, counterexample=counterexample,
            samples_rejected=self.rejected)
        if failed:
            summary = (f"the claim differs from the derivative of {self.fn.name} "
                       f"({self.truth_name}; a counterexample is below)")
        else:
            summary = (f"confirmed numerically against {self.truth_name} at {where} "
                       "(numeric evidence only)")
        return Verdict(
            identity=self.identity, status="fails" if failed else "holds", layout=self.layout,
            summary=summary, lhs=self.lhs, rhs=self.text, lhs_shape=_show(self.target),
            rhs_shape=_show(tuple(example.raw.shape)), variables=self.variables(),
            numeric=numeric, counterexample=counterexample,
            diagnosis=self.diagnosis() if failed and diagnose else (),
            strength=None if failed else "numeric")

    def ill_formed(self, message: str, position: int | None,
                   diagnosis: tuple[Finding, ...] = ()) -> Verdict:
        return Verdict(identity=self.identity, status="ill-formed", layout=self.layout,
                       summary=message, lhs=self.lhs, rhs=self.text, variables=self.variables(),
                       position=position, diagnosis=diagnosis)

    @property
    def lhs(self) -> str:
        return f"d({self.fn.name})/d({self.wrt})"

    @property
    def identity(self) -> str:
        return f"{self.lhs} = {self.text}"

    def variables(self) -> dict[str, str]:
        return {n: " ".join(str(s) for s in v.shape) or "scalar"
                for n, v in self.fn.examples.items()}


def _show(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))
