"""Exact Jacobians from torch graphs (the numeric stage's differentiation,
for :mod:`matcalc.torcheval`): given each point's output, already evaluated
with its graph, and the leaf it was evaluated at, the Jacobian in the native
order ``out.shape + x.shape``.

* one plain backward pass per output entry for the smallest outputs
  (``PLAIN_PASSES``; the whole gradient of a scalar function takes one);
* otherwise ``torch.func.vmap`` over ``torch.autograd.grad`` (the machinery
  of ``torch.func.jacrev``), in chunks of basis vectors that bound its memory;
* both for every point of the same sizes at once: a cotangent that is the same
  basis vector for every point yields every point's Jacobian row, since a
  point's output depends on its own leaf only, so torch's per-call overhead,
  which dominates small Jacobians, is paid once rather than once per point;
* forward mode (``torch.func.jacfwd``) of a function, for the tall Jacobians
  :func:`matcalc.torcheval.jacobian_mode` picks it for.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from . import limits
from ._lazy import torch

#: Jacobians with at most this many output entries take one plain backward pass
#: per entry (for all points at once), others one batched pass (whose fixed cost,
#: ``torch.func.vmap``'s, is about that of two or three plain passes)
PLAIN_PASSES = 2
#: batched passes stack the points of one size up to this many Jacobian entries in
#: all (torch's per-call overhead, paid once); larger ones take a pass per point
STACK_MAX_ENTRIES = 1 << 16
#: forward mode for Jacobians with at least this many output entries ...
FORWARD_MIN_OUTPUT = 4096
#: ... and at least this many times as many as input entries
FORWARD_RATIO = 8


def numel(shape: Sequence[int]) -> int:
    count = 1
    for d in shape:
        count *= d
    return count


def forward_jacobian(function: Any, point: Any) -> Any:
    """The Jacobian by forward mode, or None when an operation has no forward rule."""
    try:
        with torch.enable_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.func's notes on slow batching fallbacks
            return torch.func.jacfwd(function)(point)
    except (RuntimeError, NotImplementedError):
        return None


def jacobians_of(outs: Sequence[Any], leaves: Sequence[Any], out_shape: tuple[int, ...],
                 dtype: Any, keep: bool = False) -> list[Any] | None:
    """The Jacobians of each ``outs[i]`` (already evaluated, with its graph) by
    its ``leaves[i]``: plain backward passes up to ``PLAIN_PASSES`` output
    entries, else ``torch.func.vmap`` over ``torch.autograd.grad``
    (:func:`batched_jacobians`); None when an operation has no batching rule.

    A cotangent that is the same basis vector for every point yields every
    point's Jacobian row at once, since a point's output depends on its own
    leaf only. torch's per-call overhead, which dominates small Jacobians, is
    then paid once rather than once per point (large Jacobians take a pass per
    point: see :func:`batched_jacobians`). ``keep`` keeps the graphs."""
    if numel(out_shape) <= PLAIN_PASSES:
        return plain_jacobians(outs, leaves, out_shape, dtype, keep)
    return batched_jacobians(outs, leaves, out_shape, dtype)


def plain_jacobians(outs: Sequence[Any], leaves: Sequence[Any], out_shape: tuple[int, ...],
                    dtype: Any, keep: bool = False) -> list[Any]:
    """The Jacobians of each ``outs[i]`` by its ``leaves[i]``: one plain
    backward pass per output entry, for all points at once."""
    out_numel, shape = numel(out_shape), tuple(leaves[0].shape)
    # an output that does not require grad does not depend on the variable there
    live = [i for i, out in enumerate(outs) if out.requires_grad]
    results = [None if i in live else torch.zeros(*out_shape, *shape, dtype=dtype)
               for i in range(len(outs))]
    if not live:
        return results
    with torch.enable_grad():
        flat = torch.stack([outs[i] for i in live]).reshape(len(live), out_numel)
        rows_of: list[list[Any]] = [[] for _ in live]
        for k in range(out_numel):  # one plain pass per output entry, for all points at once
            grads = torch.autograd.grad(flat[:, k].sum(), [leaves[i] for i in live],
                                        allow_unused=True,
                                        retain_graph=keep or k + 1 < out_numel)
            for rows, grad in zip(rows_of, grads):
                rows.append(torch.zeros(*shape, dtype=dtype) if grad is None else grad)
    for i, rows in zip(live, rows_of):  # (one row, the gradient of a scalar: no copy)
        whole = rows[0].unsqueeze(0) if len(rows) == 1 else torch.stack(rows)
        results[i] = whole.reshape(*out_shape, *shape)
    return results


def batched_jacobians(outs: Sequence[Any], leaves: Sequence[Any],
                      out_shape: tuple[int, ...], dtype: Any) -> list[Any] | None:
    """Every row of every point's Jacobian by ``torch.func.vmap`` over the
    pullback of the points' outputs (:func:`_pull_rows`), in chunks of basis
    vectors that bound the memory of one pass; None when an operation has no
    batching rule. Small Jacobians take one pass for all points; from
    ``STACK_MAX_ENTRIES`` entries each point takes its own pass, as
    ``torch.func.jacrev`` does."""
    points, shape = len(outs), tuple(leaves[0].shape)
    together = points * numel(out_shape) * leaves[0].numel() <= STACK_MAX_ENTRIES
    groups = [list(range(points))] if together else [[i] for i in range(points)]
    results: list[Any] = [None] * points
    try:
        with torch.enable_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.func's notes on slow batching fallbacks
            for group in groups:
                rows = _pull_rows([outs[i] for i in group], [leaves[i] for i in group],
                                  out_shape, dtype)
                for i, whole in zip(group, rows):
                    results[i] = whole.reshape(*out_shape, *shape)
    except (RuntimeError, NotImplementedError):
        return None
    return results


def _pull_rows(outs: Sequence[Any], leaves: Sequence[Any], out_shape: tuple[int, ...],
               dtype: Any) -> list[Any]:
    """The Jacobians (rows first) of ``outs[i]`` by ``leaves[i]``, the rows of
    all points in one batched pullback per chunk of basis vectors:
    ``torch.func.vmap`` over ``torch.autograd.grad``. (Not the legacy
    ``is_grads_batched``, whose vmap falls back to a loop over the rows for a
    matrix-vector product: 7 times slower at n = 100 and 15 times at 500, and
    3 times slower for ``inv`` at n = 10; and not ``torch.func.vjp``'s pullback,
    whose first use imports ``torch._dynamo``, about 1.2 s of CPU per process.)"""
    out_numel = numel(out_shape)
    live = [i for i, out in enumerate(outs) if out.requires_grad]
    if not live:  # no dependence on the variable
        return [torch.zeros(out_numel, *w.shape, dtype=dtype) for w in leaves]
    sources, ends = [outs[i] for i in live], list(leaves)

    def one(cotangent: Any) -> tuple[Any, ...]:
        grads = torch.autograd.grad(sources, ends, [cotangent] * len(sources),
                                    retain_graph=True, allow_unused=True)
        return tuple(torch.zeros_like(w) if g is None else g for w, g in zip(ends, grads))

    chunk = max(1, limits.MAX_NUMERIC_NUMEL // (len(outs) * max(out_numel,
                                                                leaves[0].numel())))
    parts: list[list[Any]] = [[] for _ in outs]
    for first in range(0, out_numel, chunk):
        rows = min(chunk, out_numel - first)
        if rows == out_numel:
            basis = torch.eye(out_numel, dtype=dtype)
        else:
            basis = torch.zeros(rows, out_numel, dtype=dtype)
            basis[torch.arange(rows), torch.arange(first, first + rows)] = 1.0
        low = basis.data_ptr()
        high = low + basis.numel() * basis.element_size()
        for part, grad in zip(parts, torch.func.vmap(one)(basis.reshape(rows, *out_shape))):
            # the Jacobian of the variable itself (or of a view of it) is the cotangent:
            # a copy, so that no two points' Jacobians share their memory
            part.append(grad.clone() if low <= grad.data_ptr() < high else grad)
    return [part[0] if len(part) == 1 else torch.cat(part) for part in parts]
