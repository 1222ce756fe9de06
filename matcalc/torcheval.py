"""torch values and Jacobians of expression trees at one point (the numeric
stage's evaluator, :mod:`matcalc.numeric`).

``d(f)/d(x)`` is the Jacobian of ``f`` as a function of ``x`` (the other
variables held at the point), exact up to rounding, taken in the native order
``out.shape + x.shape`` and arranged into the layout by :mod:`matcalc.layout`.
The cheapest way for the shape is used (:mod:`matcalc.autodiff` takes them):

* reverse mode by default, for every point of the same sizes at once: plain
  backward passes for the smallest outputs, else one vectorized pass
  (``torch.func.vmap`` over ``torch.autograd.grad``, the machinery of
  ``torch.func.jacrev``); where the guarded evaluation of the point kept the
  function's graph, from that graph (the function is evaluated once per point);
* forward mode (``torch.func.jacfwd``) for a tall Jacobian with a large output
  (``x`` with far fewer entries than ``f``, see :func:`jacobian_mode`);
* inside another ``d()``, ``torch.autograd.functional.jacobian`` with
  ``create_graph=True``, so that the outer derivative differentiates through it.

With guards on, an evaluation rejects a point where an operation's domain
guard objects or a value overflows, underflows or saturates.
"""

from __future__ import annotations

import math
from functools import lru_cache
from collections.abc import Mapping, Sequence
from typing import Any

from . import expr as E
from . import limits
from ._lazy import torch
from .autodiff import (FORWARD_MIN_OUTPUT, FORWARD_RATIO, PLAIN_PASSES, batched_jacobians,
                       forward_jacobian, jacobians_of, numel)
from .layout import arrange, layout_plan
from .kinks import KINK_OPS
from .ops import REGISTRY
from .shapes import concrete

#: operations whose value is never exactly 0: a 0 there is an underflow
_POSITIVE_OPS = frozenset({"exp", "sigmoid", "softmax"})
#: below this a float64 value is near underflow
_F64_NEAR_UNDERFLOW = 1e-290
#: operations bounded by +-1, whose derivatives cancel (1 - p) near the bound ...
_SATURATING_OPS = frozenset({"sigmoid", "softmax", "tanh"})
#: ... kept at least this far from it: closer, float32 keeps only a few bits of
#: (1 - p) (or none, rounding p to 1 as float64 may too), its error no longer grows
#: in proportion to its unit roundoff, and the comparison's rounding estimate
#: (float32 against float64, :mod:`matcalc.agreement`) would be too small
SATURATION = 1e-5


class NumericUnsupported(Exception):
    """The identity is beyond the numeric stage (memory guard)."""


class Reject(Exception):
    """A guard refused the sampled point."""


class Evaluator:
    """torch values of expressions at one point (``env``: variable -> tensor)."""

    def __init__(self, env: Mapping[str, Any], sizes: Mapping[str, int],
                 guards: bool = False, jacobians: dict | None = None,
                 nested: bool = False, memo: dict | None = None,
                 dtype: Any = None, kink_guards: bool = True,
                 zero_kinks: bool = False) -> None:
        self.env = env
        #: a kink at an argument exactly 0 is no kink to avoid (outside every
        #: derivative: abs, relu, sign and norm1 of a zero are 0, the value of an
        #: argument that is 0 by structure, like the off-diagonal of a diagonal matrix)
        self.zero_kinks = zero_kinks
        #: without kink guards the caller checks the kinks' signs itself
        #: (:func:`matcalc.numeric.certain_kinks`)
        self.kink_guards = kink_guards
        self.nested = nested
        self.sizes = sizes
        self.guards = guards
        self.memo: dict[E.Expr, Any] = {} if memo is None else memo
        self.sizes_key = tuple(sizes.items())  # (for the caches keyed by sizes)
        self.jacobians = jacobians
        self.dtype = torch.float64 if dtype is None else dtype

    def value(self, node: E.Expr) -> Any:
        cached = self.memo.get(node)
        if cached is not None:
            return cached
        if isinstance(node, E.Const):
            result = torch.tensor([[float(node.value)]], dtype=self.dtype)
        elif isinstance(node, E.Array):
            result = torch.tensor([[float(v) for v in row] for row in node.rows],
                                  dtype=self.dtype)
        elif isinstance(node, E.Size):
            result = torch.tensor([[float(node.dim.size(self.sizes))]], dtype=self.dtype)
        elif isinstance(node, E.Var):
            result = self.env[node.name]
        elif isinstance(node, E.Apply):
            if _node_entries(node, self.sizes_key) > limits.MAX_NUMERIC_NUMEL:
                check_size(node, self.sizes)  # (raises)
            spec = REGISTRY[node.op]
            args = [self.value(a) for a in node.args]
            if self.guards and spec.guard is not None and _varies(node) \
                    and (self.kink_guards or node.op not in KINK_OPS):
                guarded = args
                if self.zero_kinks and node.op in KINK_OPS:
                    guarded = [args[0][args[0] != 0].reshape(1, -1)]
                with torch.no_grad():
                    problem = spec.guard(*guarded) if guarded[0].numel() else None
                if problem:
                    raise Reject(problem)
            result = spec.num(*args, *[d.size(self.sizes) for d in node.dims])
            if result.dtype != self.dtype:
                result = result.to(self.dtype)
            if self.guards:
                problem = output_problem(node.op, result.detach())  # (no graph)
                if problem:
                    raise Reject(problem)
        else:
            plan = layout_plan(node.of.shape, node.wrt.shape, node.layout)
            result = arrange(self.jacobian(node.of, node.wrt.name), plan, self.sizes,
                             self.sizes_key)
        self.memo[node] = result
        return result

    def jacobian(self, of: E.Expr, wrt: str) -> Any:
        """Native ``J[out..., in...]`` (see the module's docstring for the mode)."""
        key = (of, wrt)
        if self.jacobians is not None and key in self.jacobians:
            return self.jacobians[key]
        check_jacobian_size(of, wrt, self.env[wrt], self.sizes)

        def function(w: Any) -> Any:
            return Evaluator({**self.env, wrt: w}, self.sizes, nested=True,
                             dtype=self.dtype).value(of)

        if self.nested:
            # inside another d(): one backward pass per output entry, with the graph kept
            # so that the outer derivative can differentiate through this one
            result = torch.autograd.functional.jacobian(function, self.env[wrt],
                                                        create_graph=True)
        else:
            result = None
            if jacobian_mode(of, wrt, self.env[wrt], self.sizes) == "forward":
                result = forward_jacobian(function, self.env[wrt])
            if result is None:
                results = reverse_jacobians(of, wrt, [self.env], self.sizes, self.dtype)
                if results is None:  # an operation without a batching rule
                    result = torch.autograd.functional.jacobian(function, self.env[wrt])
                else:
                    (result,) = results
        if self.jacobians is not None:
            self.jacobians[key] = result
        return result


@lru_cache(maxsize=4096)
def _varies(node: E.Expr) -> bool:
    """Whether ``node`` depends on a variable: a constant's kinks and poles do not
    matter to any derivative (its value, if not finite, is caught all the same)."""
    return any(isinstance(n, (E.Var, E.Derivative)) for n in E.walk(node))


def output_problem(op: str, result: Any) -> str | None:
    """Why a guarded evaluation must not use this value: it overflowed, it
    underflowed (then a claim could agree with the truth by both being 0), or it
    saturated (then its derivative is rounding noise in both precisions)."""
    magnitude = result.abs()
    smallest, largest = (float(m) for m in torch.aminmax(magnitude))
    if not math.isfinite(largest):  # nan propagates through aminmax
        return f"{op} is not finite here"
    # (the rest is decided by the two extremes, but for a 0 beside tiny entries)
    if smallest < _F64_NEAR_UNDERFLOW and (smallest > 0 or bool(
            ((magnitude > 0) & (magnitude < _F64_NEAR_UNDERFLOW)).any())):
        return f"{op} is near float64 underflow here"
    if op in _POSITIVE_OPS and smallest == 0:
        return f"{op} underflows to 0 here"
    if op in _SATURATING_OPS and largest > 1 - SATURATION and not (
            op == "softmax" and result.numel() == 1):  # the constant 1, derivative exactly 0
        return f"{op} saturates here"
    return None


@lru_cache(maxsize=4096)
def _entries(shape: tuple, sizes: tuple[tuple[str, int], ...]) -> int:
    """The number of entries of ``shape`` at ``sizes`` (given as items)."""
    return numel(concrete(shape, dict(sizes)))


@lru_cache(maxsize=4096)
def _node_entries(node: E.Expr, sizes: tuple[tuple[str, int], ...]) -> int:
    """The number of entries of ``node``'s value (keyed by the node, whose hash is kept)."""
    return _entries(node.shape, sizes)


@lru_cache(maxsize=4096)
def _nests(node: E.Expr) -> bool:
    """Whether ``node`` has a d() inside."""
    return any(isinstance(n, E.Derivative) for n in E.walk(node))


def check_jacobian_size(of: E.Expr, wrt: str, point: Any, sizes: Mapping[str, int]) -> None:
    entries = numel(concrete(of.shape, sizes)) * point.numel()
    if entries > limits.MAX_NUMERIC_NUMEL:
        raise NumericUnsupported(
            f"the Jacobian d({E.to_text(of)})/d({wrt}) would have {entries:,} entries at "
            f"{', '.join(f'{k}={v}' for k, v in sizes.items())} "
            f"(limit {limits.MAX_NUMERIC_NUMEL:,})"
        )


def jacobian_mode(of: E.Expr, wrt: str, point: Any, sizes: Mapping[str, int]) -> str:
    """``reverse`` (one pass per output entry, batched) or ``forward`` (one per
    input entry): forward only for a tall Jacobian with a large output, where the
    batched reverse passes would have to be chunked; torch's forward mode compiles
    its TorchScript decompositions on first use (about 0.6 s), which is paid only
    where it saves more."""
    return _mode(_entries(of.shape, tuple(sizes.items())), point.numel())


def _mode(out: int, inp: int) -> str:
    return "forward" if out >= FORWARD_MIN_OUTPUT and inp * FORWARD_RATIO <= out else "reverse"


def warm(derivatives: Sequence[E.Derivative], size_sets: Sequence[Mapping[str, int]],
         shapes: Mapping[str, Any]) -> None:
    """Run, on tiny inputs, the parts of torch that the Jacobians of
    ``derivatives`` will use, so that their one-time set-up (lazy imports, the
    first autograd pass, vmap's machinery, forward mode's decompositions) is not
    counted in the stage's time: called before the stage's clock starts."""
    plans = {"plain"}
    for d in derivatives:
        for sizes in size_sets:
            out = numel(concrete(d.of.shape, sizes))
            inp = numel(concrete(shapes[d.wrt.name], sizes))
            plans.add("forward" if _mode(out, inp) == "forward" else "plain"
                      if out <= PLAIN_PASSES else "batched")
    for plan in sorted(plans - _WARMED):  # once per process
        x = torch.ones(2, 1, dtype=torch.float64, requires_grad=True)
        if plan == "plain":
            torch.autograd.grad((x.T @ x).sum(), [x])
        elif plan == "batched":
            batched_jacobians([x * 2.0], [x], (2, 1), torch.float64)
        else:
            forward_jacobian(lambda w: w * 2.0, x.detach())
        _WARMED.add(plan)


#: the plans :func:`warm` has run in this process
_WARMED: set[str] = set()


def reverse_jacobians(of: E.Expr, wrt: str, envs: Sequence[Mapping[str, Any]],
                       sizes: Mapping[str, int], dtype: Any = None) -> list[Any] | None:
    """The native Jacobians ``out.shape + x.shape`` of ``of`` at each point
    (all of the same sizes), each point's function evaluated on a leaf of its
    own (:func:`jacobians_of`); None when an operation has no batching rule."""
    dtype = torch.float64 if dtype is None else dtype
    leaves = [env[wrt].detach().requires_grad_(True) for env in envs]
    out_shape = tuple(concrete(of.shape, sizes))
    with torch.enable_grad():  # also under an outer no_grad (the guarded evaluation)
        outs = [Evaluator({**env, wrt: w}, sizes, nested=True, dtype=dtype).value(of)
                for env, w in zip(envs, leaves)]
        return jacobians_of(outs, leaves, out_shape, dtype)


def outermost_derivatives(node: E.Expr) -> list[E.Derivative]:
    """The d() nodes not inside another d()'s function: the ones an
    evaluation at the point differentiates directly."""
    return list(_outermost(node))


@lru_cache(maxsize=4096)
def _outermost(node: E.Expr) -> tuple[E.Derivative, ...]:
    found, stack = [], [node]
    while stack:
        current = stack.pop()
        if isinstance(current, E.Derivative):
            found.append(current)
        else:
            stack.extend(E.children(current))
    return tuple(found)


def prefill(points: Sequence[Any], derivatives: Sequence[E.Derivative]) -> None:
    """Fill the points' Jacobian caches for ``derivatives`` taken in reverse
    mode with one batched pass for all points of the same sizes: from the graphs
    their guarded evaluation kept (:func:`differentiated`), else by evaluating
    the functions again (:func:`reverse_jacobians`). Whatever fails here (an error at one of the
    points, an operation without a batching rule) is left to each point's own
    :meth:`Evaluator.jacobian`, which rejects just the point that caused it."""
    groups: dict[tuple, list[Any]] = {}
    for point in points:
        groups.setdefault(tuple(point.sizes.items()), []).append(point)
    for derivative in dict.fromkeys(derivatives):
        of, wrt = derivative.of, derivative.wrt.name
        for group in groups.values():
            todo = [p for p in group if (of, wrt) not in p.cache]
            if todo and _reuse(todo, of, wrt):
                continue
            if len(todo) < 2 or jacobian_mode(of, wrt, todo[0].env[wrt], todo[0].sizes) != "reverse":
                continue
            try:
                check_jacobian_size(of, wrt, todo[0].env[wrt], todo[0].sizes)
                if len(todo) * numel(concrete(of.shape, todo[0].sizes)) \
                        * todo[0].env[wrt].numel() > limits.MAX_NUMERIC_NUMEL:
                    continue  # all of them at once would not fit: one point at a time
                results = reverse_jacobians(of, wrt, [p.env for p in todo], todo[0].sizes)
            except (RuntimeError, NumericUnsupported):
                continue
            for point, result in zip(todo, results or ()):
                point.cache[(of, wrt)] = result


def differentiated(exprs: Sequence[E.Expr], sizes: Mapping[str, int]) -> set[str]:
    """The variables whose Jacobians in ``exprs`` are taken in reverse mode: a
    guarded evaluation keeps its graph for them (see :func:`prefill`)."""
    return set(_differentiated(tuple(exprs), tuple(sizes.items())))


@lru_cache(maxsize=1024)
def _differentiated(exprs: tuple[E.Expr, ...], sizes: tuple[tuple[str, int], ...]) -> frozenset:
    return frozenset(
        d.wrt.name for e in exprs for d in _outermost(e)
        if _mode(_entries(d.of.shape, sizes), _entries(d.wrt.shape, sizes)) == "reverse"
        # an inner d() is taken on a leaf of its own: no graph back to the variable
        and not _nests(d.of))


def _reuse(points: Sequence[Any], of: E.Expr, wrt: str) -> bool:
    """Take the Jacobians from the graphs the guarded evaluation kept (the
    function is then evaluated once per point, not twice), where it did."""
    if _nests(of):
        return False
    outs = [p.memo.get(of) for p in points]
    leaves = [p.env[wrt] for p in points]
    if any(o is None or not o.requires_grad for o in outs) or \
            not all(leaf.requires_grad and leaf.is_leaf for leaf in leaves):
        return False
    sizes = points[0].sizes
    if jacobian_mode(of, wrt, leaves[0], sizes) != "reverse":
        return False
    out_shape = tuple(concrete(of.shape, sizes))
    try:
        check_jacobian_size(of, wrt, leaves[0], sizes)
    except NumericUnsupported:  # refused by each point's own evaluation
        return False
    if len(points) * numel(out_shape) * leaves[0].numel() > limits.MAX_NUMERIC_NUMEL:
        return False  # all of them at once would not fit: one point at a time
    try:
        results = jacobians_of(outs, leaves, out_shape, leaves[0].dtype, keep=True)
    except RuntimeError:
        return False
    if results is None:
        return False
    for point, result in zip(points, results):
        point.cache[(of, wrt)] = result
    return True


def strategy(derivatives: Sequence[E.Derivative], points: Sequence[Any]) -> str:
    """How the Jacobians were taken, in words."""
    if not derivatives or not points:
        return ""
    modes = sorted({jacobian_mode(d.of, d.wrt.name, p.env[d.wrt.name], p.sizes)
                    for d in derivatives for p in points})
    return " and ".join(modes) + " mode, exact Jacobians"


def check_size(node: E.Expr, sizes: Mapping[str, int]) -> None:
    """Refuse, before allocating it, a value larger than the numeric stage allows."""
    count = 1
    for d in concrete(node.shape, sizes):
        count *= d
    if count > limits.MAX_NUMERIC_NUMEL:
        raise NumericUnsupported(
            f"{E.to_text(node)} would have {count:,} entries at "
            f"{', '.join(f'{k}={v}' for k, v in sizes.items())} "
            f"(limit {limits.MAX_NUMERIC_NUMEL:,})"
        )


def guard_tree(evaluator: Evaluator, node: E.Expr) -> None:
    """Evaluate with guards on: every differentiated function, and every part
    of the tree that does not need a derivative (those are computed later,
    perhaps only along random directions)."""
    derivatives, kinked = _parts(node)
    for sub in derivatives:
        evaluator.value(sub.of)
    if not derivatives:  # no derivative is taken through a kink: zeros are no kinks
        if not kinked:
            evaluator.value(node)  # no kink: the same guards, and the values kept
            return
        Evaluator(evaluator.env, evaluator.sizes, guards=True, dtype=evaluator.dtype,
                  kink_guards=evaluator.kink_guards, zero_kinks=True).value(node)


@lru_cache(maxsize=4096)
def _parts(node: E.Expr) -> tuple[tuple[E.Derivative, ...], bool]:
    """The d() nodes in ``node`` (nested ones too), and whether it has a kink."""
    return (tuple(sub for sub in E.walk(node) if isinstance(sub, E.Derivative)),
            any(isinstance(n, E.Apply) and n.op in KINK_OPS for n in E.walk(node)))


