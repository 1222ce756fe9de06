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
    mod = kit.Mod
    x = mod(3) / mod(7)
    assert x * 7 == mod(3)
    assert kit.function("exp", mod(5)) == kit.function("exp", mod(5))
    assert kit.function("exp", mod(5)) != kit.function("exp", mod(6))
    assert isinstance(x, Mod) and x.modulus == kit.p


def test_the_hybrid_kit_keeps_fractions_until_a_transcendental_value() -> None:
    from matcalc.fields import HybridKit, Iv

    kit = HybridKit()
    assert kit.const(Fraction(1, 3)) * 3 == 1  # fractions stay exact
    log2 = kit.function("log", Fraction(2))
    assert isinstance(log2, Iv) and kit.positive(log2) and not kit.is_zero(log2)
    assert kit.positive(kit.function("log", Fraction(1, 2))) is False
    assert kit.positive(log2 - log2) is False  # an interval around 0 is not positive


def test_large_pinned_sizes_decide_det_inv_and_their_derivatives() -> None:
    """Beyond the small sizes (matcalc.linalg): elimination modulo a prime, and a
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


# ---------------------------------------------------------------------------
# matcalc.linalg beyond the small sizes against the plain forms (Bird's
# division-free determinant, Gauss-Jordan on fractions, the schoolbook product)


def _fractions(n: int, rng: random.Random, rank: int | None = None) -> object:
    if rank is None:
        return array(n, n, lambda i, j: Fraction(rng.randint(-9, 9), rng.randint(1, 4)))
    u = [[rng.randint(-3, 3) for _ in range(rank)] for _ in range(n)]
    v = [[rng.randint(-3, 3) for _ in range(n)] for _ in range(rank)]
    return array(n, n, lambda i, j: Fraction(sum(u[i][k] * v[k][j] for k in range(rank))))


@pytest.mark.parametrize("n", [8, 9, 12])
def test_large_determinants_and_inverses_in_every_kit(n: int) -> None:
    from matcalc.linalg import det as large_det
    from matcalc.linalg import inverse as large_inverse
    from matcalc.linalg import matmul

    rng = random.Random(n)
    exact, kit = ExactKit(), ModKit(0)
    lift = kit.Mod.lift
    for rank in (None, n - 1, n - 3):
        a = _fractions(n, rng, rank)
        reference = det(a)  # Bird's, on fractions
        assert large_det(a, exact) == reference
        as_mod = array(n, n, lambda i, j: lift(a[i, j]))
        assert large_det(as_mod, kit) == lift(reference)
        if reference != 0:
            inv = large_inverse(a, exact)
            assert (inv == inverse(a, exact)).all()
            assert (large_inverse(as_mod, kit) == _map_lift(inv, lift)).all()
            b = _fractions(n, rng)
            assert (matmul(a, b, exact) == a.dot(b)).all()
            assert (matmul(as_mod, _map_lift(b, lift), kit) == _map_lift(a.dot(b), lift)).all()


def _map_lift(a: object, lift: object) -> object:
    return array(a.shape[0], a.shape[1], lambda i, j: lift(a[i, j]))


@pytest.mark.parametrize("rank", [8, 7, 6, 4])
def test_large_determinant_derivatives_at_regular_and_singular_points(rank: int) -> None:
    """d det along a direction, modulo the test's prime, against Bird's division-free algorithm on
    duals (valid at singular points); rank 8 of 8 is regular, the others singular."""
    from matcalc.linalg import det as large_det

    n, rng = 8, random.Random(rank)
    a = _fractions(n, rng, rank)
    kit = ModKit(0)
    t = [[rng.randrange(kit.p) for _ in range(n)] for _ in range(n)]
    duals = array(n, n, lambda i, j: Dual(1, kit.Mod.lift(a[i, j]), [kit.Mod(t[i][j])]))
    ours, reference = large_det(duals, kit), det(duals)
    assert ours.val == reference.val and ours.tan[0] == reference.tan[0]
