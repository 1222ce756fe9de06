"""The symbolic stage's own machinery: differentiation, exact evaluation, budgets."""

from __future__ import annotations

import random
import time
from fractions import Fraction

import pytest
import sympy as sp

from matcalc.budget import Timeout, check_time, time_budget
from matcalc.zerotest import Approx, Exact
from matcalc.ops import sgn_function
from matcalc.symbolic import differentiate

x, y, z = sp.symbols("x y z", real=True)
sign = sgn_function()

EXPRESSIONS = [
    x**3 * y + sp.exp(x * y) / (1 + z**2),
    sp.log(1 + x**2) * sp.sin(y) - sp.cos(x * z),
    sp.sqrt(x**2 + y**2 + 1) * sp.tanh(z),
    (x + y) ** -2 * sign(x - y) * (x - y),
    sp.Add(*[(x * y + k) ** k for k in range(1, 5)]),
    sp.exp(-x) / (1 + sp.exp(-x)) ** 2,
]


@pytest.mark.parametrize("e", EXPRESSIONS, ids=str)
def test_memoized_differentiation_agrees_with_sympy(e: sp.Expr) -> None:
    rng = random.Random(3)
    for s in (x, y, z):
        ours, reference = differentiate(e, s, {}), e.diff(s)
        for _ in range(3):
            point = {v: Fraction(rng.randint(1, 9), rng.randint(1, 5)) for v in (x, y, z)}
            assert abs(Approx(point)(ours - reference)) < 1e-25


def test_exact_evaluation_is_exact() -> None:
    point = {x: Fraction(1, 3), y: Fraction(-2), z: Fraction(5, 7)}
    e = (x + y) ** 2 / z - x * y ** -1
    assert Exact(point, None)(e) == (Fraction(1, 3) - 2) ** 2 / Fraction(5, 7) + Fraction(1, 6)
    with pytest.raises(ZeroDivisionError):
        Exact({x: Fraction(0), y: Fraction(1), z: Fraction(1)}, None)(1 / x)


def test_budgets_interrupt_and_nest() -> None:
    start = time.perf_counter()
    with pytest.raises(Timeout):
        with time_budget(0.05):
            while True:
                check_time()
    assert time.perf_counter() - start < 1.0
    with time_budget(5.0):
        with pytest.raises(Timeout):
            with time_budget(0.01):
                time.sleep(0.05)
                check_time()
        check_time()  # the outer budget is still running and not spent


def test_no_simplify_ofhuge_constants() -> None:
    """Adversary 4, J7: simplify of tanh(s) + exp(-400) - (2 sigmoid(2 s) - 1)
    factored polynomials with 174-digit coefficients for minutes, out of reach of
    the time budget. Such an entry is not simplified: no formal proof is tried,
    and the claim (false by exp(-400), by hand) is not proved."""
    from matcalc.zerotest import huge_constant

    s = sp.Symbol("s", real=True)
    assert huge_constant(sp.tanh(s) + sp.exp(-400))
    assert huge_constant(s * sp.Rational(3 ** 90, 7))
    assert not huge_constant(sp.tanh(s) + sp.exp(-40) + sp.Rational(1, 3))
    import matcalc

    with pytest.raises(matcalc.UndecidedError):
        matcalc.verify("tanh(s) + exp(-400) = 2 * sigmoid(2 * s) - 1", vars={"s": ""},
                       method="symbolic", diagnose=False)
