"""The exact evaluator (matcalc.jets): every operation has its exact form, and
the forms agree with SymPy's.

The reference values come from SymPy (differentiating the SymPy forms of the
registry at rational points), independent of the forward-mode rules here.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import sympy as sp

from matcalc.declarations import declare
from matcalc.fields import Dual, ExactKit, Mod, ModKit
from matcalc.jets import EXACT_FORMS, Jets, array, environment, parameter_counts
from matcalc.linalg import bird_det as det
from matcalc.linalg import gauss_jordan as inverse
from matcalc.ops import REGISTRY
from matcalc.parsing import parse_expression


def test_every_operation_has_exactly_one_exact_form() -> None:
    assert set(EXACT_FORMS) == set(REGISTRY)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_the_division_free_determinant_and_the_inverse(n: int) -> None:
    rng = random.Random(n)
    a = array(n, n, lambda i, j: Fraction(rng.randint(-9, 9), rng.randint(1, 4)))
    reference = sp.Matrix(n, n, lambda i, j: sp.Rational(a[i, j].numerator, a[i, j].denominator))
    assert det(a) == Fraction(str(reference.det()))
    if reference.det() != 0:
        inv = inverse(a, ExactKit())
        assert all(inv[i, j] == Fraction(str(reference.inv()[i, j]))
                   for i in range(n) for j in range(n))


def test_the_determinant_differentiates_at_a_singular_point() -> None:
    # d det(S)/dS at a singular skew 3x3 S is adj(S).T, which is not zero
    s = [[0, 1, 2], [-1, 0, 3], [-2, -3, 0]]
    x = array(3, 3, lambda i, j: Dual(1, Fraction(s[i][j]),
                                       [Fraction(int(k == 3 * i + j)) for k in range(9)]))
    d = det(x)
    adjugate = sp.Matrix(s).adjugate()
    assert d.val == 0
    assert [d.tan[3 * i + j] for i in range(3) for j in range(3)] == \
        [Fraction(int(adjugate[j, i])) for i in range(3) for j in range(3)]


CLAIMS = [
    ("d(x.T @ A @ x)/d(x)", {"x": "n", "A": "n n"}),
    ("d(inv(X))/d(X)", {"X": "n n"}),
    ("d(det(X))/d(X)", {"X": "n n"}),
    ("d(d(x.T @ A @ x)/d(x))/d(x)", {"x": "n", "A": "n n"}),
    ("d(kron(X, X))/d(X)", {"X": "n n"}),
    ("d(outer(x, x) * diag(x))/d(x)", {"x": "n"}),
    ("d(sum(mean(x) * x - dot(x, x)))/d(x)", {"x": "n"}),
    ("d(trace(inv(X) @ X.T) / 3)/d(X)", {"X": "n n"}),
    ("d(vec(X.T @ X) ** 3)/d(X)", {"X": "n n"}),
]


@pytest.mark.parametrize("text, variables", CLAIMS)
def test_forward_mode_agrees_with_sympy(text: str, variables: dict) -> None:
    """At a rational point, the exact kit's derivative equals SymPy's."""
    from matcalc.symbolic import SymbolicSession

    decl = declare(variables)
    sizes = decl.symbolic_sizes()
    node = parse_expression(text, decl.scope("numerator"))
    rng = random.Random(7)
    counts = parameter_counts(decl.shape_map, decl.tag_map, sizes)
    params = {name: [Fraction(rng.randint(-5, 5), rng.randint(1, 3)) for _ in range(c)]
              for name, c in counts.items()}
    env = environment(ExactKit(), decl.shape_map, decl.tag_map, sizes, params)
    ours = Jets(ExactKit(), env, sizes).value(node)
    session = SymbolicSession(decl.shape_map, decl.tag_map, {"x", "X"} & set(variables), sizes)
    theirs = session.value(node)
    point = {}
    for name, v in session.variables.items():
        point.update(zip(v.params, [sp.Rational(p.numerator, p.denominator)
                                    for p in params[name]]))
        point.update({e: point[f] for e, f in zip(v.entries.flat, v.structured.flat)
                      if f in point})
    assert ours.shape == theirs.shape
    for a, b in zip(ours.flat, theirs.flat):
        assert Fraction(str(sp.nsimplify(b.xreplace(point)))) == a


def test_modular_values_are_field_elements() -> None:
    kit = ModKit(0)
    x = Mod(3) / Mod(7)
    assert x * 7 == Mod(3)
    assert kit.function("exp", Mod(5)) == kit.function("exp", Mod(5))
    assert kit.function("exp", Mod(5)) != kit.function("exp", Mod(6))


def test_the_hybrid_kit_keeps_fractions_until_a_transcendental_value() -> None:
    from matcalc.fields import HybridKit, Iv

    kit = HybridKit()
    assert kit.const(Fraction(1, 3)) * 3 == 1  # fractions stay exact
    log2 = kit.function("log", Fraction(2))
    assert isinstance(log2, Iv) and kit.positive(log2) and not kit.is_zero(log2)
    assert kit.positive(kit.function("log", Fraction(1, 2))) is False
    assert kit.positive(log2 - log2) is False  # an interval around 0 is not positive


def test_large_pinned_sizes_decide_det_inv_and_their_derivatives() -> None:
    """Beyond the small sizes (matcalc.linalg): elimination modulo P, and a
    derivative compared along a random direction."""
    import matcalc

    cases = [("d(logdet(X))/d(X) = inv(X)", {"X": ["spd"]}, 30, "holds"),
             ("d(trace(A @ inv(X)))/d(X) = -inv(X) @ A @ inv(X)", {}, 40, "holds"),
             ("d(trace(A @ inv(X)))/d(X) = -inv(X) @ A.T @ inv(X)", {}, 40, "fails")]
    for text, assume, n, status in cases:
        verdict = matcalc.verify(text, vars={"X": "n n", "A": "n n"}, assume=assume,
                                 sizes={"n": n}, method="symbolic", diagnose=False)
        assert verdict.status == status, str(verdict)
        assert verdict.symbolic.status == ("proved" if status == "holds" else "refuted")
