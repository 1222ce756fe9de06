"""The numeric stage: torch autograd at random float64 points (docs/design.md §3).

Both sides of the identity are evaluated through the torch forms of the
operation registry; ``d(f)/d(x)`` is the Jacobian of ``f`` as a function of
``x`` (the other variables held at the point) by torch's reverse mode: one
batched backward pass (``torch.autograd.grad(..., is_grads_batched=True)``)
covers every output entry at every point of the same sizes. It is taken in the
native order ``out.shape + x.shape`` and arranged into the layout by
:mod:`matcalc.layout`. Nested derivatives differentiate through the inner
Jacobian (``torch.autograd.functional.jacobian`` with ``create_graph=True``);
Jacobians above ``PROBE_ENTRIES`` entries are compared along random directions
by forward mode.

Points are drawn from a seeded generator (the seed fixes every sample), satisfy
every assumption (:mod:`matcalc.assumptions`) and are rejected when an
operation's domain guard objects: near a pole, a kink of ``abs``/``relu``, a
badly conditioned matrix, a ``logdet`` of a matrix with negative determinant.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import assumptions as A
from . import expr as E
from . import limits
from ._lazy import torch
from .budget import check_time
from .errors import DeclarationError
from .evidence import Counterexample, Grid, NumericEvidence, NumericPoint, sizes_text
from .layout import arrange, layout_plan, unarrange
from .ops import REGISTRY
from .shapes import Shape, concrete

#: random points per size instantiation
POINTS_PER_SIZE = 3
#: largest |lhs - rhs| allowed, relative to max(1, max |lhs|)
TOLERANCE = 1e-8
#: the default tolerances: a point agrees when max |lhs - rhs| <= max(ATOL, RTOL * max |lhs|)
RTOL = ATOL = TOLERANCE
#: draws before giving up on finding a point inside the domain
MAX_DRAWS = 60
#: Jacobians with more entries than this are compared along random directions
PROBE_ENTRIES = 100_000
#: how many random directions
PROBES = 4


class NumericUnsupported(Exception):
    """The identity is beyond the numeric stage (memory guard)."""


class _Reject(Exception):
    """A guard refused the sampled point."""


@dataclass
class _Point:
    sizes: dict[str, int]
    env: dict[str, Any]
    cache: dict[Any, Any]  # native Jacobians at this point
    memo: dict[Any, Any]  # values at this point (from the guarded evaluation)


class Evaluator:
    """torch values of expressions at one point (``env``: variable -> tensor)."""

    def __init__(self, env: Mapping[str, Any], sizes: Mapping[str, int],
                 guards: bool = False, jacobians: dict | None = None,
                 nested: bool = False, memo: dict | None = None) -> None:
        self.env = env
        self.nested = nested
        self.sizes = sizes
        self.guards = guards
        self.memo: dict[E.Expr, Any] = {} if memo is None else memo
        self.jacobians = jacobians

    def value(self, node: E.Expr) -> Any:
        cached = self.memo.get(node)
        if cached is not None:
            return cached
        if isinstance(node, E.Const):
            result = torch.tensor([[float(node.value)]], dtype=torch.float64)
        elif isinstance(node, E.Array):
            result = torch.tensor([[float(v) for v in row] for row in node.rows],
                                  dtype=torch.float64)
        elif isinstance(node, E.Size):
            result = torch.tensor([[float(node.dim.size(self.sizes))]], dtype=torch.float64)
        elif isinstance(node, E.Var):
            result = self.env[node.name]
        elif isinstance(node, E.Apply):
            _check_size(node, self.sizes)
            spec = REGISTRY[node.op]
            args = [self.value(a) for a in node.args]
            if self.guards and spec.guard is not None:
                problem = spec.guard(*args)
                if problem:
                    raise _Reject(problem)
            result = spec.num(*args, *[d.size(self.sizes) for d in node.dims])
        else:
            plan = layout_plan(node.of.shape, node.wrt.shape, node.layout)
            result = arrange(self.jacobian(node.of, node.wrt.name), plan, self.sizes)
        self.memo[node] = result
        return result

    def jacobian(self, of: E.Expr, wrt: str) -> Any:
        """Native ``J[out..., in...]``, by torch's reverse mode (batched over the
        output's entries; inside another d(), ``torch.autograd.functional.jacobian``
        with ``create_graph``)."""
        key = (of, wrt)
        if self.jacobians is not None and key in self.jacobians:
            return self.jacobians[key]
        _check_jacobian_size(of, wrt, self.env[wrt], self.sizes)

        def function(w: Any) -> Any:
            return Evaluator({**self.env, wrt: w}, self.sizes, nested=True).value(of)

        if self.nested:
            # inside another d(): one backward pass per output entry, with the graph kept
            # so that the outer derivative can differentiate through this one
            result = torch.autograd.functional.jacobian(function, self.env[wrt],
                                                        create_graph=True)
        else:
            results = _reverse_jacobians(of, wrt, [self.env], self.sizes)
            if results is None:  # an operation without a batching rule: one pass per output
                result = torch.autograd.functional.jacobian(function, self.env[wrt])
            else:
                (result,) = results
        if self.jacobians is not None:
            self.jacobians[key] = result
        return result


def _check_jacobian_size(of: E.Expr, wrt: str, point: Any, sizes: Mapping[str, int]) -> None:
    out_numel = 1
    for d in concrete(of.shape, sizes):
        out_numel *= d
    if out_numel * point.numel() > limits.MAX_JACOBIAN_NUMEL:
        raise NumericUnsupported(
            f"the Jacobian d({E.to_text(of)})/d({wrt}) would have "
            f"{out_numel * point.numel():,} entries (limit {limits.MAX_JACOBIAN_NUMEL:,})"
        )


@functools.lru_cache(maxsize=32)
def _identity(n: int) -> Any:
    return torch.eye(n, dtype=torch.float64)


def _reverse_jacobians(of: E.Expr, wrt: str, envs: Sequence[Mapping[str, Any]],
                       sizes: Mapping[str, int]) -> list[Any] | None:
    """The native Jacobians ``out.shape + x.shape`` of ``of`` at each point
    (all of the same sizes), by one batched backward pass for all of them
    (``torch.autograd.grad(..., is_grads_batched=True)``); None when an
    operation has no batching rule.

    Each point's function is evaluated on a leaf of its own and the outputs
    are stacked; a cotangent that is the same basis vector in every block
    yields every point's Jacobian row at once, since a block depends on its
    own leaf only. torch's per-call overhead, which dominates small Jacobians,
    is then paid once rather than once per point.
    """
    leaves = [env[wrt].detach().requires_grad_(True) for env in envs]
    with torch.enable_grad():
        outs = [Evaluator({**env, wrt: w}, sizes, nested=True).value(of)
                for env, w in zip(envs, leaves)]
    out_shape, shape = tuple(outs[0].shape), tuple(leaves[0].shape)
    results = [torch.zeros(*out_shape, *shape, dtype=torch.float64) for _ in envs]
    # an output that does not require grad does not depend on the variable there
    live = [i for i, out in enumerate(outs) if out.requires_grad]
    if not live:
        return results
    out_numel = outs[0].numel()
    cotangents = _identity(out_numel).reshape(out_numel, 1, *out_shape)
    try:
        grads = torch.autograd.grad(
            torch.stack([outs[i] for i in live]), [leaves[i] for i in live],
            grad_outputs=cotangents.expand(out_numel, len(live), *out_shape),
            is_grads_batched=True, allow_unused=True)
    except RuntimeError:
        return None
    for i, grad in zip(live, grads):
        if grad is not None:
            results[i] = grad.reshape(*out_shape, *shape)
    return results


def _outermost_derivatives(node: E.Expr) -> list[E.Derivative]:
    """The d() nodes not inside another d()'s function: the ones an
    evaluation at the point differentiates directly."""
    found, stack = [], [node]
    while stack:
        current = stack.pop()
        if isinstance(current, E.Derivative):
            found.append(current)
        else:
            stack.extend(E.children(current))
    return found


def prefill_jacobians(points: Sequence[_Point], derivatives: Sequence[E.Derivative]) -> None:
    """Fill the points' Jacobian caches for ``derivatives`` with one backward
    pass for all points of the same sizes (:func:`_reverse_jacobians`).
    Whatever fails here (an error at one of the points, an operation without a
    batching rule) is left to each point's own :meth:`Evaluator.jacobian`,
    which rejects just the point that caused it."""
    groups: dict[tuple, list[_Point]] = {}
    for point in points:
        groups.setdefault(tuple(point.sizes.items()), []).append(point)
    for derivative in dict.fromkeys(derivatives):
        of, wrt = derivative.of, derivative.wrt.name
        for group in groups.values():
            todo = [p for p in group if (of, wrt) not in p.cache]
            if len(todo) < 2:
                continue
            try:
                _check_jacobian_size(of, wrt, todo[0].env[wrt], todo[0].sizes)
                results = _reverse_jacobians(of, wrt, [p.env for p in todo], todo[0].sizes)
            except (RuntimeError, NumericUnsupported):
                continue
            for point, result in zip(todo, results or ()):
                point.cache[(of, wrt)] = result


class NumericSession:
    """Sampled points (per size instantiation) shared by every claim checked."""

    def __init__(self, shapes: Mapping[str, Shape], tags: Mapping[str, frozenset[str]],
                 size_sets: Sequence[Mapping[str, int]], seed: int = 0,
                 points_per_size: int = POINTS_PER_SIZE, rtol: float | None = None,
                 atol: float | None = None) -> None:
        self.rtol = RTOL if rtol is None else rtol
        self.atol = ATOL if atol is None else atol
        self.shapes = dict(shapes)
        self.tags = dict(tags)
        self.size_sets = [dict(s) for s in size_sets]
        self.seed = seed
        self.points_per_size = points_per_size
        self.points: list[_Point] | None = None
        self.rejected = 0
        self.reasons: dict[str, int] = {}

    def sample(self, exprs: Sequence[E.Expr]) -> list[_Point]:
        """Points valid for every expression in ``exprs`` (drawn once, then reused)."""
        if self.points is not None:
            return self.points
        points = []
        for index, sizes in enumerate(self.size_sets):
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
            found = 0
            for name, shape in self.shapes.items():
                _check_size(E.Var(name, shape), sizes)
            for _ in range(MAX_DRAWS):
                check_time()
                if found == self.points_per_size:
                    break
                env = {
                    name: A.sample_tensor(self.tags.get(name, frozenset()),
                                          concrete(shape, sizes), gen)
                    for name, shape in self.shapes.items()
                }
                cache: dict[Any, Any] = {}
                try:
                    with torch.no_grad():
                        evaluator = Evaluator(env, sizes, guards=True, jacobians=cache)
                        for e in exprs:
                            _guard_tree(evaluator, e)
                except (_Reject, RuntimeError) as reject:  # torch errors: a singular matrix
                    self.rejected += 1
                    reason = str(reject).splitlines()[0][:80]
                    self.reasons[reason] = self.reasons.get(reason, 0) + 1
                    continue
                points.append(_Point(sizes, env, cache, evaluator.memo))
                found += 1
        self.points = points
        return points

    def compare(self, lhs: E.Expr, rhs: E.Expr) -> NumericEvidence:
        start = time.perf_counter()
        points = self.sample([lhs, rhs])
        if not points:
            common = max(self.reasons, key=self.reasons.get) if self.reasons else "no reason"
            return NumericEvidence(
                "undecided",
                f"no valid point in {MAX_DRAWS} draws per size (most often: {common})",
                samples_rejected=self.rejected,
                sizes_tried=tuple(self.size_sets),
                seconds=time.perf_counter() - start,
            )
        probing = [_probing(lhs, rhs, p.sizes) for p in points]
        prefill_jacobians([p for p, probe in zip(points, probing) if not probe],
                 _outermost_derivatives(lhs) + _outermost_derivatives(rhs))
        results = []
        worst = 0.0
        counterexample = None
        probed = 0
        for index, point in enumerate(points):
            check_time()
            evaluator = Evaluator(point.env, point.sizes, jacobians=point.cache, memo=point.memo)
            try:
                if probing[index]:
                    left, right = _probe(evaluator, lhs, rhs, self.seed * 7919 + index)
                    probed += 1
                else:
                    left = evaluator.value(lhs).detach()
                    right = evaluator.value(rhs).detach()
            except RuntimeError:  # torch refused (a singular matrix in the claim): skip
                self.rejected += 1
                continue
            largest = (left - right).abs().max().item()  # nan if either side has one
            if not math.isfinite(largest):  # a non-finite side
                self.rejected += 1
                continue
            scale = left.abs().max().item()
            error = largest / max(1.0, scale)
            ok = largest <= max(self.atol, self.rtol * scale)
            results.append(NumericPoint(dict(point.sizes), error, ok))
            worst = max(worst, error)
            if not ok and counterexample is None:
                counterexample = Counterexample(
                    sizes=dict(point.sizes),
                    point={name: tensor_grid(v) for name, v in point.env.items()},
                    lhs=tensor_grid(left),
                    rhs=tensor_grid(right),
                    exact=False,
                    source="numeric" if not probed else
                    f"numeric, the Jacobian applied to {PROBES} random directions",
                )
        seconds = time.perf_counter() - start
        if not results:
            return NumericEvidence("undecided", "both sides were non-finite at every point",
                                   samples_rejected=self.rejected, seconds=seconds)
        failed = sum(1 for r in results if not r.ok)
        status = "disagrees" if failed else "agrees"
        detail = (f"lhs and rhs agree at all {len(results)} points" if not failed else
                  f"lhs and rhs differ at {failed} of {len(results)} points")
        if probed:
            detail += (f" (the Jacobian has over {PROBE_ENTRIES:,} entries: compared along "
                       f"{PROBES} random directions at each point, as gradcheck's fast mode does)")
        return NumericEvidence(
            status=status,
            detail=detail,
            points=tuple(results),
            max_error=worst,
            tolerance=self.rtol,
            seconds=seconds,
            counterexample=counterexample,
            samples_rejected=self.rejected,
            sizes_tried=tuple(self.size_sets),
        )


def _check_size(node: E.Expr, sizes: Mapping[str, int]) -> None:
    """Refuse, before allocating it, a value larger than the numeric stage allows."""
    count = 1
    for d in concrete(node.shape, sizes):
        count *= d
    if count > limits.MAX_NUMERIC_NUMEL:
        raise NumericUnsupported(
            f"{E.to_text(node)} would have {count:,} entries at "
            f"{sizes_text(sizes, '')} "
            f"(limit {limits.MAX_NUMERIC_NUMEL:,})"
        )


def _guard_tree(evaluator: Evaluator, node: E.Expr) -> None:
    """Evaluate with guards on: every differentiated function, and every part
    of the tree that does not need a derivative (those are computed later,
    perhaps only along random directions)."""
    derivatives = [sub for sub in E.walk(node) if isinstance(sub, E.Derivative)]
    for sub in derivatives:
        evaluator.value(sub.of)
    if not derivatives:
        evaluator.value(node)


def _probing(lhs: E.Expr, rhs: E.Expr, sizes: Mapping[str, int]) -> bool:
    """Whether to compare ``d(f)/d(x) = claim`` along random directions rather
    than entry by entry: the Jacobian is large and the claim has no d() of its own."""
    if not isinstance(lhs, E.Derivative) or any(isinstance(n, E.Derivative)
                                                 for n in E.walk(rhs)):
        return False
    entries = 1
    for d in concrete(lhs.of.shape, sizes) + concrete(lhs.wrt.shape, sizes):
        entries *= d
    return entries > PROBE_ENTRIES


def _probe(evaluator: Evaluator, lhs: E.Derivative, rhs: E.Expr, seed: int) -> tuple[Any, Any]:
    """``J v`` by forward mode, and the claim's ``C v``, for random directions ``v``."""
    import torch.autograd.forward_ad as fwad

    wrt = lhs.wrt.name
    point = evaluator.env[wrt]
    gen = torch.Generator().manual_seed(seed)
    directions = torch.randn(PROBES, *point.shape, generator=gen, dtype=torch.float64)
    native_shape = tuple(concrete(lhs.of.shape, evaluator.sizes)) + tuple(point.shape)
    claim = unarrange(evaluator.value(rhs).detach(),
                      layout_plan(lhs.of.shape, lhs.wrt.shape, lhs.layout), native_shape)
    true, claimed = [], []
    for v in directions:
        with fwad.dual_level():
            dual = fwad.make_dual(point, v)
            out = Evaluator({**evaluator.env, wrt: dual}, evaluator.sizes,
                            nested=True).value(lhs.of)
            true.append(fwad.unpack_dual(out).tangent.detach())
        claimed.append(torch.tensordot(claim, v, dims=v.dim()))
    return torch.stack(true), torch.stack(claimed)


def tensor_grid(t: Any) -> Grid:
    """A tensor's values as text (6 significant digits), for records and reports."""
    t = t.detach()
    if t.dim() != 2:
        t = t.reshape(t.shape[0], -1) if t.dim() > 2 else t.reshape(1, -1)
    return tuple(tuple(f"{v:.6g}" for v in row) for row in t.tolist())


def check_tolerances(rtol: float | None, atol: float | None) -> None:
    """Refuse a tolerance that is not a finite number >= 0 (None: the default)."""
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not 0 <= value < float("inf"):
            raise DeclarationError(f"{name} must be a finite number >= 0, not {value!r}",
                                   token=repr(value), hint=f"e.g. {name}=1e-6")
