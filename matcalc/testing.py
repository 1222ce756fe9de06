"""Checking matrix calculus from a test suite.

:func:`assert_identity` is :func:`matcalc.verify` for tests: it returns quietly
when the identity holds and otherwise raises :class:`AssertionError` whose
message is the verdict's report (the diagnosis, the counterexample), so that
pytest shows why the claim is wrong. :func:`assert_gradient` is the same for
:func:`matcalc.check_gradient`, on the user's own function.

>>> from matcalc.testing import assert_gradient, assert_identity
>>> assert_identity("d(A @ x)/d(x) = A", vars={"x": "n", "A": "m n"})
>>> import torch
>>> x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
>>> assert_gradient(lambda x: torch.sum(x ** 3), "3 * x ** 2", {"x": x}, "x")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import UndecidedError


def assert_identity(
    identity: str,
    vars: Mapping[str, Any] | None = None,  # noqa: A002 - the documented name
    assume: Mapping[str, Any] | None = None,
    layout: str = "numerator",
    **options: Any,
) -> None:
    """Raise :class:`AssertionError` with the report unless ``identity`` holds.

    ``options`` are :func:`matcalc.verify`'s (``sizes``, ``method``, ``seed``,
    ``timeout``, ``rtol``, ``atol``, ...). An identity neither engine could
    decide fails too (the message says why); bad input (a parse error, an
    unknown name) raises its :class:`~matcalc.errors.MatcalcError` as usual,
    since it is a mistake in the test rather than in the mathematics.
    """
    __tracebackhide__ = True  # pytest shows the caller's line
    from .api import verify

    try:
        verdict = verify(identity, vars=vars, assume=assume, layout=layout, **options)
    except UndecidedError as error:
        raise AssertionError(f"UNDECIDED  {identity.strip()}   [{layout} layout]\n"
                             f"  {error}") from error
    if not verdict:
        raise AssertionError(str(verdict))


def assert_gradient(f: Callable[..., Any], claimed: Any, inputs: Mapping[str, Any], wrt: str,
                    layout: str = "denominator", **options: Any) -> None:
    """Raise :class:`AssertionError` with the report unless the derivative of
    ``f`` is ``claimed`` (the arguments of :func:`matcalc.check_gradient`)."""
    __tracebackhide__ = True  # pytest shows the caller's line
    from .gradcheck import check_gradient

    verdict = check_gradient(f, claimed, inputs, wrt, layout=layout, **options)
    if not verdict:
        raise AssertionError(str(verdict))
