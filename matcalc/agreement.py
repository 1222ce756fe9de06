"""When two float64 arrays agree: entry by entry, relative to the magnitude of
the computation that produced them (the numeric stage's comparison).

An entry of the true value ``L`` and of the claim ``R`` agrees when

    |L - R| <= rtol * max(|L|, |R|) + atol                          (1)

with ``rtol = 1e-8`` and ``atol = 0`` by default: no entry is compared against
a fixed absolute scale, so ``1e-10 * x`` is not ``2e-10 * x`` and a gradient of
size ``1e-100`` is not zero.

Test (1) alone would refute true identities whose entries cancel to rounding
noise (``2 sin(s) cos(s) - 2 cos(s) sin(s)``, a zero diagonal computed as
``a - a``, ``logdet(Q @ Q.T)`` for an orthogonal ``Q``, a small entry of an
inverse): there ``L`` and ``R`` are tiny next to the terms they were computed
from. Entries failing (1) are therefore judged a second time against an
estimate of the float64 rounding error of that very computation: both sides
are evaluated again in float32, whose rounding error is ``2**29`` times
float64's, so ``|L32 - L| * 2**-29`` estimates the float64 error of ``L`` entry
by entry (the same for ``R``); an entry agrees when

    |L - R| <= ROUNDING_SLACK * 2**-29 * (|L32 - L| + |R32 - R|).   (2)

One float32 evaluation can agree with float64 by luck (float32's ``log`` of a
determinant that rounds to nearly 1 gave 2e-14 where float64 gave 3e-16 and
its own rounding error was 1e-7), which would make a rounding difference look
like a counterexample. So an entry beyond (2) is estimated again, up to
``ROUNDING_RUNS`` times in all: in float32 from inputs moved to a random
neighbouring float32 value (a perturbation of the order of float32's rounding,
with a new pattern of rounding errors), and last in float64 from inputs moved by
a relative 2**-24 at random, whose change is the computation's sensitivity to
perturbations of float32's size without float32's arithmetic (a float32 sum of
many terms is quantized to the unit roundoff of its partial sums, and can land
near the exact value by luck at one entry of thousands, again for a neighbouring
input). (2) takes the largest estimate: an entry disagrees only if it is beyond
every one of them. Where no float32 run gave an estimate (float32 came out
exactly 0 there, or overflowed), the float64 run counts only where it explains
the difference, never as grounds for a counterexample: a function identically 0
near the point (``x.T @ (A - A.T) @ x``) has no sensitivity at all, yet float64
leaves rounding noise in it, so its estimate there would be far too small. A false
claim is unaffected: its error is the size of the entry itself, while every
estimate stays near float32's rounding error of the computation (``1e-10 * x``
is not ``2e-10 * x`` at any scale).

An estimate is only used where float32 computed something meaningful: an
entry whose float32 value is not finite, or zero or subnormal while its float64
value is not zero, has no estimate from that evaluation, and an entry that
needs one (it fails (1), or, with a tolerance no looser than the default,
differs by more than ``HIDDEN_FLOOR``, below) but has none is *inconclusive*
at that point: it neither agrees nor disagrees (``exp(100)`` overflows float32,
so ``2.000000002 * exp(100) * x`` against ``2 * exp(100) * x`` is no agreement). A point *disagrees* only with an entry beyond both (1)
and (2), that is beyond the estimated rounding error; that is also the only
kind of point that can make the engines disagree.

The default tolerance is only a margin for rounding, so an entry *within* (1)
can still be a real difference: ``inv(X).T + 1e-9 * eye(n)`` is within 1e-8 of
``inv(X).T`` for a well-conditioned ``X``, and ``(1 + 2.4e-11) * x`` is within
it of ``x``. With a tolerance no looser than the default (``rtol <= 1e-8``,
``atol <= 0``), every entry whose difference exceeds ``HIDDEN_FLOOR`` of its
magnitude is estimated as well, and one beyond (2) is a difference the
tolerance would hide: the point disagrees (``Judgement.hidden`` counts such
entries). The safety factor is (2)'s own, ``ROUNDING_SLACK = 2**10``, about
1e3 times the estimate; an ill-conditioned true identity (logdet or inv of a
nearly singular matrix, exp of large arguments) is kept, because float32
re-evaluation grows with the conditioning as float64's error does. An entry
within ``HIDDEN_FLOOR`` (2**-43, 1024 units in the last place of float64) of
its magnitude is accepted without an estimate: that is the smallest relative
difference the comparison sees. A tolerance the user loosens (``rtol=1e-6``)
says that differences within it are acceptable, and they are accepted.

One side first. Where every entry passes (1) and only the entries beyond
``HIDDEN_FLOOR`` need an estimate, the side that is cheaper to evaluate again
(the closed form, not the derivative taken by autograd) is re-evaluated in
float32 first, alone. If its own estimate already explains every such entry,

    |L - R| <= ROUNDING_SLACK * 2**-29 * |R32 - R|,                   (2')

the point agrees without evaluating the other side: (2') is (2) without the
other side's term, so it accepts no entry that (2) would refuse at an entry
where both float32 values are usable. (Where the other side's float32 value
would be unusable, (2) would look for more estimates; (2') stands on the one
side's estimate alone, still a rounding error of that very computation.)
Otherwise both sides are evaluated as before, the first one's float32 value
reused. For ``trace(A @ X @ B)`` at n = 500 the closed form ``B @ A`` alone
explains every entry at every point, which spares three of the four float32
matrix products of the derivative; for ``logdet`` a few entries need both.
Entries beyond (1) always get the whole estimate (2).

The work. A first pass reads both arrays once (a large array in blocks) for
the largest quotient of (1); most points end there. Past it, the entries of a
large array that may be suspect (a quotient above half the smaller threshold:
no other entry can fail (1) or exceed ``HIDDEN_FLOOR``) are gathered with their
positions into small arrays, and the rest of the comparison, float32 values
included (read at those positions alone), works on them: the same decisions as
over every entry (``tests/test_agreement_equivalence.py`` holds them to a plain
implementation over whole arrays) for a fraction of the work.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ._lazy import torch

#: default relative tolerance of test (1)
DEFAULT_RTOL = 1e-8
#: default absolute tolerance of test (1): none
DEFAULT_ATOL = 0.0
#: float64's unit roundoff divided by float32's (2**-53 / 2**-24)
F64_PER_F32 = 2.0 ** -29
#: how far beyond the rounding estimate an entry may still be noise: the
#: float64 error of one evaluation can exceed the float32-based estimate by a
#: modest factor; 2**10 keeps the accepted error near 1e-13 of the magnitude
#: of the terms
ROUNDING_SLACK = 2.0 ** 10
#: evaluations at most for the estimate (float32 from the inputs rounded to
#: nearest, float32 from neighbouring float32 inputs, float64 from inputs moved
#: by float32's unit roundoff: matcalc.numeric._low_precision)
ROUNDING_RUNS = 3
#: a largest quotient diff / scale below rtol times this passes test (1) for sure
_CLEARLY = 1 - 2.0 ** -40
#: entries per block of the comparison's first pass
_BLOCK = 1 << 16
#: arrays of at most this many entries are compared whole, their suspect
#: entries marked rather than gathered (gathering costs more than it saves)
_SMALL = 1 << 12
#: with a tolerance no looser than the default, an entry whose difference exceeds
#: this fraction of its magnitude is checked against the rounding estimate even
#: inside the tolerance (1024 units in the last place of float64: at most
#: ROUNDING_SLACK times float64's own rounding of the entry)
HIDDEN_FLOOR = 2.0 ** -43
#: smallest normal float32
F32_TINY = 1.1754943508222875e-38


@dataclass(frozen=True)
class Judgement:
    status: str  # "agrees" | "disagrees" | "inconclusive"
    #: largest |L - R| / max(|L|, |R|) over the entries not explained by the
    #: rounding estimate (0 where both are 0)
    error: float
    #: entries outside test (1) that the rounding estimate explains
    by_rounding: int = 0
    #: for "inconclusive": why float32 gave no estimate (NO_ESTIMATE's values)
    why: str = ""
    #: for "disagrees": entries within the tolerance but beyond the rounding
    #: estimate (a real difference the tolerance hides); 0 when some entry is
    #: beyond both
    hidden: int = 0


#: why an entry has no rounding estimate
NO_ESTIMATE = {
    "overflow": "float32 overflowed",
    "digits": "float32 kept no digit of the result: 0 or subnormal where float64's is "
              "not, an underflow or terms far larger than the result cancelling",
}


def judge(left: Any, right: Any, rtol: float, atol: float,
          low_precision: Callable[[int], tuple[Any, Any] | None],
          one_side: tuple[bool, Callable[[], Any]] | None = None) -> Judgement | None:
    """Compare ``left`` (the truth) and ``right`` (the claim), float64 arrays of
    one shape. ``low_precision(k)`` evaluates both again in float32 (float
    arrays of that shape, float32 or float64, or None when that failed), ``k = 0``
    from the inputs rounded to nearest, ``k > 0`` from neighbouring float32
    inputs; it is only called while some entry fails test (1), or (with a
    tolerance no looser than the default) differs by more than ``HIDDEN_FLOOR``,
    beyond the estimates so far. ``one_side``, when given, is ``(is_left,
    evaluate)``: ``evaluate()`` is that side alone as ``low_precision(0)``
    computes it (or None), tried first where only hidden differences are in
    question (test (2') of the module's docstring). None when either side has a
    non-finite entry."""
    strict = rtol <= DEFAULT_RTOL and atol <= DEFAULT_ATOL
    # the common case: every diff / scale is clearly within rtol (the margin covers
    # the rounding of the quotient), so every entry passes test (1), and (strict)
    # clearly within HIDDEN_FLOOR, so none hides a difference
    clear = (HIDDEN_FLOOR if strict else rtol) * _CLEARLY
    scanned = _scan(left, right, rtol, strict, atol >= 0, clear)
    if scanned is None:  # a non-finite entry (nan propagates; inf - inf is nan)
        return None
    error, e = scanned
    if error <= clear or e is None:
        return Judgement("agrees", error)
    bad = e.diff > e.scale * rtol + atol
    suspect = bad | (e.diff > e.scale * HIDDEN_FLOOR) if strict else bad
    if not bool(suspect.any()):
        return Judgement("agrees", error)
    if one_side is not None and not bool(bad.any()) and _one_side_explains(
            e, suspect, *one_side):
        return Judgement("agrees", error)
    slack = ROUNDING_SLACK * F64_PER_F32
    estimate = torch.zeros_like(e.diff)
    estimated = torch.zeros_like(bad)
    for run in range(ROUNDING_RUNS):
        lows = low_precision(run)
        if lows is None:
            continue
        left32, right32 = e.pick(lows[0]), e.pick(lows[1])
        usable = ~(_no_estimate(left32, e.left) | _no_estimate(right32, e.right))
        here = (left32 - e.left).abs() + (right32 - e.right).abs()
        if run == ROUNDING_RUNS - 1:  # the sensitivity run: see the module's docstring
            usable &= estimated | (e.diff <= here * slack)
        estimate = torch.where(usable, torch.maximum(estimate, here), estimate)
        estimated |= usable
        if not bool((suspect & (e.diff > estimate * slack)).any()):
            break  # every suspect entry is within an estimate
    beyond = suspect & estimated & (e.diff > estimate * slack)
    if bool((beyond & bad).any()):
        return Judgement("disagrees", _relative(e.diff, e.scale, beyond & bad))
    if bool(beyond.any()):  # within the tolerance, beyond rounding: a real difference
        return Judgement("disagrees", _relative(e.diff, e.scale, beyond),
                         hidden=int(beyond.sum()))
    # an entry in question that no float32 evaluation could estimate (overflow,
    # underflow) is neither agreement nor a counterexample: beyond test (1), or (strict)
    # a possible hidden difference alike (adversary 3, H6: exp(100) * x.T off by 1e-9)
    unexplained = suspect & ~estimated
    if bool(unexplained.any()):
        lows = low_precision(0)
        overflow = lows is not None and bool((unexplained & ~(
            torch.isfinite(e.pick(lows[0])) & torch.isfinite(e.pick(lows[1])))).any())
        return Judgement("inconclusive", _relative(e.diff, e.scale, unexplained),
                         why=NO_ESTIMATE["overflow" if overflow else "digits"])
    if not bool(bad.any()):
        return Judgement("agrees", error)  # the largest over every entry
    within = _relative(e.diff, e.scale, ~bad)
    if e.index is not None:  # and over the entries the first pass left out
        within = max(within, _largest_outside(left, right, e.index))
    return Judgement("agrees", within, int(bad.sum()))


@dataclass(frozen=True)
class _Entries:
    """The entries the comparison looks at after its first pass: the whole
    arrays (``index`` None), or, gathered into 1-D arrays, the entries that may
    be suspect (``index``: their positions in the arrays read row by row)."""
    index: Any
    left: Any
    right: Any
    diff: Any  # |left - right|
    scale: Any  # max(|left|, |right|)

    def pick(self, low: Any) -> Any:
        """A float32 evaluation's values at these entries. (Differences with
        float64 values are taken in float64: float32 values are float64 values.)"""
        return low if self.index is None else torch.take(low, self.index).to(torch.float64)


def _one_side_explains(e: _Entries, suspect: Any, is_left: bool,
                       evaluate: Callable[[], Any]) -> bool:
    """Whether one side's own float32 estimate explains every ``suspect`` entry
    (test (2') of the module's docstring)."""
    low = evaluate()
    if low is None:
        return False
    high = e.left if is_left else e.right
    low = e.pick(low)
    usable = ~_no_estimate(low, high)
    explained = usable & (e.diff <= (low - high).abs_().mul_(ROUNDING_SLACK * F64_PER_F32))
    return not bool((suspect & ~explained).any())


def _no_estimate(low: Any, high: Any) -> Any:
    """Entries where the float32 value says nothing about float64's rounding."""
    return ~torch.isfinite(low) | ((low.abs() < F32_TINY) & (high != 0))


def _relative(diff: Any, scale: Any, where: Any = None) -> float:
    """The largest ``diff / scale`` (0 where both are 0; ``diff <= 2 scale``)."""
    ratio = diff / scale
    if where is not None:
        ratio = torch.where(where, ratio, 0.0)
    return _largest(ratio)


def _largest(ratio: Any) -> float:
    """The largest entry of ``ratio`` (overwritten), a nan (0 / 0) read as 0."""
    return float(ratio.nan_to_num_(0.0).max()) if ratio.numel() else 0.0


def _scan(left: Any, right: Any, rtol: float, strict: bool, positive: bool,
          clear: float) -> tuple[float, _Entries | None] | None:
    """The first pass: the largest ``|L - R| / max(|L|, |R|)`` (None if an entry
    of either is not finite) and the entries for the rest of the comparison:
    the whole arrays when they are small, else those that may be suspect
    (failing test (1) or, strict, beyond ``HIDDEN_FLOOR``), None when none can be.

    Large arrays are read in blocks of about ``_BLOCK`` entries: the temporaries
    of a whole large array would each cost page faults (the allocator returns
    them to the system between points), which made this comparison slower than
    forming the Jacobian it checks. The entries kept are those whose quotient
    exceeds half the smaller tolerance: no other entry can be suspect, for a
    tolerance ``t >= 2**-60`` and ``atol >= 0`` (``positive``): the quotient's
    rounding is far within that margin, and a product ``scale * t`` rounded
    down into the subnormals still exceeds a ``diff`` that is below it in the
    reals, both being on the subnormals' grid. Otherwise every entry is kept.
    (None is kept from an array in one block whose largest quotient is at most
    ``clear``: the comparison ends with the first pass.)"""
    rows = left.shape[0] if left.dim() else 1
    if rows == 0:
        return 0.0, None
    if left.numel() <= _SMALL or not left.dim():  # compared whole: too small to gather
        block = _block(left, right)
        if block is None:
            return None
        diff, scale, _, most = block
        return most, _Entries(None, left, right, diff, scale)
    gate = (min(rtol, HIDDEN_FLOOR) if strict else rtol) / 2
    everything = not (rtol >= 2.0 ** -60 and positive)
    single = _step(left) >= rows
    worst, found = 0.0, []
    for offset, lo, hi in _blocks(left, right):
        block = _block(lo, hi)
        if block is None:
            return None
        diff, scale, ratio, most = block
        worst = max(worst, most)
        if (everything or most > gate) and not (single and most <= clear):
            at = (ratio > gate if not everything else torch.ones_like(diff, dtype=torch.bool))
            at = at.reshape(-1).nonzero().squeeze(1)
            if at.numel():
                found.append([at + offset] + [torch.take(t, at) for t in (lo, hi, diff, scale)])
    if not found:
        return worst, None
    return worst, _Entries(*(torch.cat(parts) for parts in zip(*found)))


def _step(left: Any) -> int:
    """Rows (along the first axis) per block of about ``_BLOCK`` entries."""
    return max(1, _BLOCK // max(1, left.numel() // left.shape[0]))


def _blocks(left: Any, right: Any) -> Iterator[tuple[int, Any, Any]]:
    """Both arrays in blocks of rows, with the position of each block's first
    entry (row by row), in one memory layout (operations on two are slow)."""
    step, width = _step(left), left.numel() // left.shape[0]
    for first in range(0, left.shape[0], step):
        lo, hi = left[first:first + step], right[first:first + step]
        if lo.stride() != hi.stride():
            lo, hi = lo.contiguous(), hi.contiguous()
        yield first * width, lo, hi


def _block(lo: Any, hi: Any) -> tuple[Any, Any, Any, float] | None:
    """``|lo - hi|``, ``max(|lo|, |hi|)``, their quotient (0 where both are 0)
    and its largest entry, or None if an entry of either is not finite."""
    diff = (lo - hi).abs_()
    scale = lo.abs()
    torch.maximum(scale, hi.abs(), out=scale)
    ratio = diff / scale
    most = float(ratio.max()) if ratio.numel() else 0.0
    if not math.isfinite(most):  # 0 / 0 where both are 0, or a non-finite entry
        if not math.isfinite(float(diff.max())):
            return None
        most = _largest(ratio)
    return diff, scale, ratio, most


def _largest_outside(left: Any, right: Any, index: Any) -> float:
    """The largest ``|L - R| / max(|L|, |R|)`` over the entries not at ``index``
    (increasing positions, row by row), in blocks."""
    worst = 0.0
    for offset, lo, hi in _blocks(left, right):
        ratio = (lo - hi).abs_().div_(torch.maximum(lo.abs(), hi.abs())).reshape(-1)
        start, stop = torch.searchsorted(index, torch.tensor([offset, offset + ratio.numel()]))
        worst = max(worst, _largest(ratio.index_fill_(0, index[start:stop] - offset, 0.0)))
    return worst
