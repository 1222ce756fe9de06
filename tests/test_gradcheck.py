"""check_gradient: the derivative of the user's own function.

The claims below are established by hand, independently of matcalc: for
``f(A, x) = tanh(A x)`` the numerator Jacobian is ``diag(1 - tanh(Ax)^2) A``;
for ``sum(x^2)`` the gradient is ``2x``; for ``sum(log(sigmoid(X w)))`` it is
``X^T (1 - sigmoid(X w))``; for ``logdet(X)`` (denominator layout) it is
``inv(X)^T``. The wrong claims plant one mistake each (a transpose, a dropped
factor 2, a sign).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import matcalc
from matcalc.errors import DeclarationError, MatcalcError, UnknownNameError

F64 = torch.float64


def tanh_layer(A: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return torch.tanh(A @ x)


def tanh_jacobian(A: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """By hand: d tanh(Ax)_i / d x_j = (1 - tanh(Ax)_i^2) A_ij (numerator layout)."""
    return (1 - torch.tanh(A @ x) ** 2)[:, None] * A


def inputs(m: int, n: int, seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {"A": torch.randn(m, n, generator=gen, dtype=F64),
            "x": torch.randn(n, generator=gen, dtype=F64)}


class SquareDropsTwo(torch.autograd.Function):
    """x ** 2 with a backward that forgets the factor 2."""

    @staticmethod
    def forward(ctx, x):  # noqa: ANN001, ANN205
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        (x,) = ctx.saved_tensors
        return grad * x


class Square(torch.autograd.Function):
    """x ** 2 with the right backward."""

    @staticmethod
    def forward(ctx, x):  # noqa: ANN001, ANN205
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        (x,) = ctx.saved_tensors
        return 2 * grad * x


# -- the acceptance cases


def test_the_right_numerator_jacobian_holds() -> None:
    verdict = matcalc.check_gradient(tanh_layer, tanh_jacobian, inputs(3, 4), "x",
                                     layout="numerator")
    assert verdict.status == "holds" and verdict
    assert verdict.numeric.engine.startswith("torch autograd")
    assert len(verdict.numeric.points) == 4  # the examples and three perturbations


@pytest.mark.parametrize(("m", "status"), [(4, "fails"), (3, "ill-formed")])
def test_its_transpose_is_named(m: int, status: str) -> None:
    verdict = matcalc.check_gradient(tanh_layer, lambda A, x: tanh_jacobian(A, x).T,
                                     inputs(m, 4), "x", layout="numerator")
    assert verdict.status == status
    kinds = {f.kind for f in verdict.diagnosis}
    assert {"layout", "transpose"} <= kinds
    layout_finding = next(f for f in verdict.diagnosis if f.kind == "layout")
    assert layout_finding.layout == "denominator"
    if status == "fails":
        ce = verdict.counterexample
        assert ce is not None and not ce.exact and set(ce.point) == {"A", "x"}


def test_a_backward_that_drops_a_factor_two() -> None:
    x = torch.tensor([0.5, -1.25, 2.0], dtype=F64)
    verdict = matcalc.check_gradient(lambda x: SquareDropsTwo.apply(x).sum(), None, {"x": x}, "x")
    assert verdict.status == "fails"
    assert [f.kind for f in verdict.diagnosis] == ["factor"]
    assert "factor of 2" in verdict.diagnosis[0].message
    assert verdict.numeric.engine.startswith("central differences")
    right = matcalc.check_gradient(lambda x: Square.apply(x).sum(), None, {"x": x}, "x")
    assert right.status == "holds"


# -- the truth: autograd, or central differences past a custom backward


def test_a_custom_backward_is_not_trusted_as_the_truth() -> None:
    x = torch.tensor([0.5, -1.25, 2.0], dtype=F64)
    # the claim 2x is right; the function's own backward is wrong
    verdict = matcalc.check_gradient(lambda x: SquareDropsTwo.apply(x).sum(), "2 * x",
                                     {"x": x}, "x")
    assert verdict.status == "holds"
    assert verdict.numeric.engine.startswith("central differences")
    wrong = matcalc.check_gradient(lambda x: SquareDropsTwo.apply(x).sum(), "x", {"x": x}, "x")
    assert wrong.status == "fails" and [f.kind for f in wrong.diagnosis] == ["factor"]


# -- claims as expressions, NumPy functions, shapes


def test_expression_claims_are_parsed_not_evaluated() -> None:
    verdict = matcalc.check_gradient(tanh_layer, "diag(1 - tanh(A @ x)**2) @ A", inputs(3, 4),
                                     "x", layout="numerator")
    assert verdict.status == "holds"
    flipped = matcalc.check_gradient(tanh_layer, "A.T @ diag(1 - tanh(A @ x)**2)",
                                     inputs(3, 4), "x", layout="numerator")
    assert flipped.status == "ill-formed"
    transpose = next(f for f in flipped.diagnosis if f.kind == "transpose")
    assert transpose.claim == "diag(1 - tanh(A @ x) ** 2) @ A"
    with pytest.raises(MatcalcError, match="__import__"):  # refused by the parser
        matcalc.check_gradient(tanh_layer, "__import__('os')", inputs(3, 4), "x")
    ill_typed = matcalc.check_gradient(tanh_layer, "x @ A", inputs(3, 4), "x")
    assert ill_typed.status == "ill-formed" and ill_typed.position is not None


def test_numpy_functions() -> None:
    rng = np.random.default_rng(1)
    X, w = rng.standard_normal((5, 3)), rng.standard_normal(3)

    def loglik(X: np.ndarray, w: np.ndarray) -> float:
        return float(np.sum(-np.log1p(np.exp(-(X @ w)))))

    def gradient(X: np.ndarray, w: np.ndarray) -> np.ndarray:
        return X.T @ (1 - 1 / (1 + np.exp(-(X @ w))))

    verdict = matcalc.check_gradient(loglik, gradient, {"X": X, "w": w}, "w")
    assert verdict.status == "holds"
    sign = matcalc.check_gradient(loglik, lambda X, w: -gradient(X, w), {"X": X, "w": w}, "w")
    assert sign.status == "fails" and [f.kind for f in sign.diagnosis] == ["sign"]
    assert matcalc.check_gradient(loglik, "X.T @ (1 - sigmoid(X @ w))", {"X": X, "w": w},
                                  "w").status == "holds"
    with pytest.raises(DeclarationError, match="backward"):
        matcalc.check_gradient(loglik, None, {"X": X, "w": w}, "w")


def test_matrix_variable_and_the_perturbed_points() -> None:
    gen = torch.Generator().manual_seed(2)
    B = torch.randn(3, 3, generator=gen, dtype=F64)

    def logdet(X: torch.Tensor) -> torch.Tensor:
        return torch.logdet(X)

    spd = B @ B.T + 3 * torch.eye(3, dtype=F64)  # symmetric: inv(X) = inv(X).T here only
    verdict = matcalc.check_gradient(logdet, "inv(X).T", {"X": spd}, "X")
    assert verdict.status == "holds"
    # the example alone cannot tell inv(X) from inv(X).T; the perturbed points can
    wrong = matcalc.check_gradient(logdet, "inv(X)", {"X": spd}, "X")
    assert wrong.status == "fails"
    assert {"layout", "transpose"} <= {f.kind for f in wrong.diagnosis}
    assert matcalc.check_gradient(logdet, "inv(X)", {"X": spd}, "X", points=1).status \
        == "holds"


def test_vector_results_may_be_one_dimensional() -> None:
    x = torch.tensor([0.3, -0.7], dtype=F64)
    for layout in ("numerator", "denominator"):
        assert matcalc.check_gradient(lambda x: (x ** 2).sum(), lambda x: 2 * x, {"x": x}, "x",
                                      layout=layout).status == "holds"
    row = matcalc.check_gradient(lambda x: (x ** 2).sum(), lambda x: 2 * x[None, :], {"x": x},
                                 "x", layout="numerator")
    assert row.status == "holds"
    column = matcalc.check_gradient(lambda x: (x ** 2).sum(), lambda x: 2 * x[None, :],
                                    {"x": x}, "x", layout="denominator")
    assert column.status == "ill-formed"
    assert any(f.kind == "layout" for f in column.diagnosis)


def test_tolerances() -> None:
    x = torch.tensor([0.3, -0.7], dtype=F64)
    close = lambda x: 2 * x * (1 + 1e-7)  # noqa: E731
    assert matcalc.check_gradient(lambda x: (x ** 2).sum(), close, {"x": x}, "x").status \
        == "fails"
    assert matcalc.check_gradient(lambda x: (x ** 2).sum(), close, {"x": x}, "x",
                                  rtol=1e-5).status == "holds"
    with pytest.raises(DeclarationError):
        matcalc.check_gradient(lambda x: (x ** 2).sum(), close, {"x": x}, "x", atol=-1.0)


def test_bad_input() -> None:
    with pytest.raises(UnknownNameError, match="'y'"):
        matcalc.check_gradient(tanh_layer, tanh_jacobian, inputs(3, 4), "y")
    with pytest.raises(UnknownNameError):
        matcalc.check_gradient(tanh_layer, tanh_jacobian, inputs(3, 4), "x", layout="numerater")
    with pytest.raises(DeclarationError):
        matcalc.check_gradient(tanh_layer, 42, inputs(3, 4), "x")
    with pytest.raises(DeclarationError, match="wrt"):
        matcalc.check_gradient(tanh_layer, tanh_jacobian, inputs(3, 4), ["x"])
    with pytest.raises(DeclarationError, match="points"):
        matcalc.check_gradient(tanh_layer, tanh_jacobian, inputs(3, 4), "x", points=0)
    with pytest.raises(DeclarationError):
        matcalc.check_gradient(tanh_layer, tanh_jacobian, {}, "x")
    with pytest.raises(DeclarationError, match="not finite"):
        matcalc.check_gradient(lambda x: torch.log(x).sum(), "1 / x",
                               {"x": torch.tensor([-1.0, 2.0], dtype=F64)}, "x")


def test_docstring_examples() -> None:
    import doctest

    import matcalc.gradcheck
    import matcalc.testing

    for module in (matcalc.gradcheck, matcalc.testing):
        failures, tried = doctest.testmod(module)
        assert tried > 0 and failures == 0, module.__name__


def test_expression_claims_get_the_tree_repairs() -> None:
    """By hand: d(x^T A x)/dx = (A + A^T) x; d sum(tanh(B^T A x))/dx = A^T B (1 - tanh(.)^2)."""
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(4, 4, generator=gen, dtype=F64)
    B = torch.randn(4, 3, generator=gen, dtype=F64)
    x = torch.randn(4, generator=gen, dtype=F64)
    quadratic = matcalc.check_gradient(lambda A, x: x @ A @ x, "2 * A @ x", {"A": A, "x": x}, "x")
    assert quadratic.status == "fails"
    assert [(f.kind, f.claim) for f in quadratic.diagnosis] == [("symmetrize", "(A + A.T) @ x")]

    def f(A: torch.Tensor, B: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.sum(torch.tanh(B.T @ A @ x))

    values = {"A": A, "B": B, "x": x}
    right = "A.T @ B @ (1 - tanh(B.T @ A @ x)**2)"
    assert matcalc.check_gradient(f, right, values, "x").status == "holds"
    wrong = matcalc.check_gradient(f, "A @ B @ (1 - tanh(B.T @ A @ x)**2)", values, "x")
    assert wrong.status == "fails"
    assert [f.kind for f in wrong.diagnosis] == ["transpose"]
    assert "missing on A" in wrong.diagnosis[0].message


def test_scalars_matrices_and_tensors() -> None:
    """By hand: d(s A)/ds = A; d sin(s)/ds = cos(s); d vec(A X)/d vec(X) = kron(I, A);
    D[p, q, j, i] = d(A X)[p, q] / dX[i, j] = A[p, i] delta(q, j) in numerator layout."""
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(3, 2, generator=gen, dtype=F64)
    X = torch.randn(2, 4, generator=gen, dtype=F64)
    s = torch.tensor(0.7, dtype=F64)
    check = matcalc.check_gradient
    assert check(lambda s, A: s * A, lambda s, A: A, {"s": s, "A": A}, "s",
                 layout="numerator").status == "holds"
    assert check(lambda s: torch.sin(s), "cos(s)", {"s": s}, "s").status == "holds"
    assert [f.kind for f in check(lambda s: torch.sin(s), "-cos(s)", {"s": s}, "s").diagnosis] \
        == ["sign"]
    values = {"A": A, "X": X}
    assert check(lambda A, X: A @ X, "kron(eye(4), A)", values, "X", layout="vec").status \
        == "holds"
    swapped = check(lambda A, X: A @ X, "kron(A, eye(4))", values, "X", layout="vec")
    assert [(f.kind, f.claim) for f in swapped.diagnosis] == [("kron-order", "kron(eye(4), A)")]

    def numerator(A: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
        return torch.einsum("pi,qj->pqji", A, torch.eye(4, dtype=F64))

    assert check(lambda A, X: A @ X, numerator, values, "X", layout="numerator").status \
        == "holds"
    other = check(lambda A, X: A @ X, numerator, values, "X", layout="denominator")
    assert other.status == "ill-formed" and [f.kind for f in other.diagnosis] == ["layout"]
    # a backward is arranged in the layout like the truth
    for layout in ("numerator", "denominator", "vec"):
        assert check(lambda A, X: (A @ X)[0], None, values, "A", layout=layout).status \
            == "holds"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_inputs_on_a_gpu() -> None:
    """The user's function runs where its inputs live; matcalc compares on the CPU."""
    values = {k: v.cuda() for k, v in inputs(3, 4).items()}
    holds = matcalc.check_gradient(tanh_layer, tanh_jacobian, values, "x", layout="numerator")
    assert holds.status == "holds"
    transposed = matcalc.check_gradient(tanh_layer, lambda A, x: tanh_jacobian(A, x).T, values,
                                        "x", layout="numerator")
    assert {"layout", "transpose"} <= {f.kind for f in transposed.diagnosis}
    assert matcalc.check_gradient(tanh_layer, "diag(1 - tanh(A @ x)**2) @ A", values, "x",
                                  layout="numerator").status == "holds"
    x = torch.tensor([0.5, -1.25, 2.0], dtype=F64, device="cuda")
    drops = matcalc.check_gradient(lambda x: SquareDropsTwo.apply(x).sum(), None, {"x": x}, "x")
    assert [f.kind for f in drops.diagnosis] == ["factor"]


def test_autograd_is_cross_checked() -> None:
    """x * x.detach() has derivative 2x (by hand), but autograd sees only x."""
    x = torch.tensor([0.5, -1.25, 2.0], dtype=F64)

    def f(x: torch.Tensor) -> torch.Tensor:
        return torch.sum(x * x.detach())

    verdict = matcalc.check_gradient(f, "2 * x", {"x": x}, "x")
    assert verdict.status == "holds"
    assert verdict.numeric.engine.startswith("central differences")
    assert "differs from central differences" in verdict.numeric.detail
    assert matcalc.check_gradient(f, "x", {"x": x}, "x").status == "fails"


@pytest.mark.parametrize("n", [401, 1500])
def test_autograd_is_cross_checked_at_any_size(n: int) -> None:
    """Adversary 4, J2: beyond CROSS_CHECK_ENTRIES entries autograd was the truth
    unchecked. x * x.detach() sums to sum(x**2), whose gradient is 2x (by hand);
    autograd sees x. Random directions find the difference at any size."""
    x = torch.randn(n, dtype=F64, generator=torch.Generator().manual_seed(3))

    def f(x: torch.Tensor) -> torch.Tensor:
        return torch.sum(x * x.detach())

    assert matcalc.check_gradient(f, lambda x: x, {"x": x}, "x").status == "fails"
    verdict = matcalc.check_gradient(f, lambda x: 2 * x, {"x": x}, "x")
    assert verdict.status == "holds" and "differs from central differences" in verdict.numeric.detail


def test_scalar_by_scalar_by_central_differences() -> None:
    s = np.array(0.3)
    assert matcalc.check_gradient(lambda s: np.sin(s), "cos(s)", {"s": s}, "s").status == "holds"
    assert matcalc.check_gradient(lambda s: np.sin(s), lambda s: np.cos(s) / 2, {"s": s},
                                  "s").diagnosis[0].kind == "factor"


@pytest.mark.parametrize("scale", [1.0, 1e4, 1e8])
def test_central_differences_step_with_the_input(scale: float) -> None:
    """Adversary 4, J4: d/dx sum(x**2) = 2x (by hand) at every scale, but an
    absolute step of 1e-6 at |x| = 1e8 is below x's rounding and gave noise as
    the truth, refuting the right claim. 2.001x stays wrong at every scale."""
    x = scale * np.random.default_rng(0).standard_normal(5)

    def f(x: np.ndarray) -> float:
        return float(np.sum(x ** 2))

    assert matcalc.check_gradient(f, lambda x: 2 * x, {"x": x}, "x").status == "holds"
    assert matcalc.check_gradient(f, lambda x: 2.001 * x, {"x": x}, "x").status == "fails"


def test_the_default_tolerance_is_scale_free() -> None:
    """Adversary 4, J3, by hand: d/dx sum(x**2) = 2x, d/dx 1e-9 sum(x**2) = 2e-9 x.
    At derivatives of magnitude 1e-9 an absolute atol of 1e-8 accepted the claim 0,
    half the derivative, and false repairs; the default atol now stays within the
    rounding noise of the point. A derivative that cancels to 0 (x.T (A - A.T) x is 0
    for every x) is still accepted with its noise, from either side."""
    tiny = torch.tensor([3e-9, -1e-9, 2e-9], dtype=F64)
    assert matcalc.check_gradient(lambda x: (x ** 2).sum(), "0 * x", {"x": tiny}, "x").status \
        == "fails"
    assert matcalc.check_gradient(lambda x: (x ** 2).sum(), "2 * x", {"x": tiny}, "x").status \
        == "holds"
    wrong = matcalc.check_gradient(lambda x: (x ** 2).sum(), lambda x: -x, {"x": tiny}, "x")
    assert [f.kind for f in wrong.diagnosis] == ["factor"], wrong.diagnosis
    assert "factor of -2" in wrong.diagnosis[0].message, wrong.diagnosis
    x = torch.randn(5, dtype=F64, generator=torch.Generator().manual_seed(0))
    small = lambda x: 1e-9 * (x ** 2).sum()  # noqa: E731
    assert matcalc.check_gradient(small, lambda x: 0 * x, {"x": x}, "x").status == "fails"
    assert matcalc.check_gradient(small, lambda x: 1e-9 * x, {"x": x}, "x").status == "fails"
    assert matcalc.check_gradient(small, lambda x: 2e-9 * x, {"x": x}, "x").status == "holds"
    by_numpy = lambda x: float(np.sum(x ** 2)) * 1e-7  # noqa: E731
    assert matcalc.check_gradient(by_numpy, lambda x: 0 * x, {"x": x.numpy()}, "x").status \
        == "fails"
    a = torch.randn(4, 4, dtype=F64, generator=torch.Generator().manual_seed(1))
    b = a - a.T
    zero = lambda x: x @ b @ x  # noqa: E731
    y = torch.randn(4, dtype=F64, generator=torch.Generator().manual_seed(2))
    assert matcalc.check_gradient(zero, lambda x: 0 * x, {"x": y}, "x").status == "holds"
    assert matcalc.check_gradient(zero, lambda x: b @ x + b.T @ x, {"x": y}, "x").status \
        == "holds"


def test_outputs_and_inputs_of_size_one_read_as_in_the_language() -> None:
    """Adversary 4, J6: a 1 x 1 output is a scalar, (m, 1) a column, (1, m) a row
    (differentiated as a vector), a (1,) loss a scalar, and an (n, 1) input a
    column. By hand: d(x.T x)/dx = 2 x.T and d(A x)/dx = A in numerator layout,
    d(sum(x * x))/dx = 2 x in denominator layout."""
    gen = torch.Generator().manual_seed(4)
    a = torch.randn(3, 4, dtype=F64, generator=gen)
    x = torch.randn(4, dtype=F64, generator=gen)
    assert matcalc.check_gradient(lambda a, x: x.T @ x, "2 * x.T", {"a": a, "x": x.reshape(4, 1)},
                                  "x", layout="numerator").status == "holds"
    for out in (lambda a, x: (a @ x)[None, :], lambda a, x: (a @ x)[:, None]):
        assert matcalc.check_gradient(out, "a", {"a": a, "x": x}, "x",
                                      layout="numerator").status == "holds"
    assert matcalc.check_gradient(lambda a, x: (a @ x)[:, None], "a.T", {"a": a, "x": x}, "x",
                                  layout="numerator").status == "ill-formed"
    assert matcalc.check_gradient(lambda x: (x * x).sum().reshape(1), lambda x: 2 * x, {"x": x},
                                  "x", layout="denominator").status == "holds"


def test_autograd_is_cross_checked_at_every_point() -> None:
    """Adversary 4, J14: f is sum(x**2) on both branches (derivative 2x, by hand),
    but the branch taken at most perturbed points detaches a factor, so autograd
    gives x there while it is right at the example: the cross-check must run at
    every point judged, not only at the examples."""
    def f(x: torch.Tensor) -> torch.Tensor:
        if x[0] < 0.5:
            return (x * x).sum()
        return (x * x.detach()).sum()

    x = torch.tensor([0.45, 1.0, -2.0, 0.7, 1.5], dtype=F64)
    verdict = matcalc.check_gradient(f, lambda x: 2 * x, {"x": x}, "x")
    assert verdict.status == "holds", str(verdict)
    assert "at a point around the examples" in verdict.numeric.detail
    wrong = matcalc.check_gradient(f, lambda x: 2 * x if x[0] < 0.5 else x, {"x": x}, "x")
    assert wrong.status == "fails", str(wrong)


def test_examples_on_a_kink_are_not_judged() -> None:
    """Adversary 4, J11 (and the newcomer's report): relu and abs have no
    derivative at 0, where central differences straddle the kink (0.5 for relu).
    Zero-initialised examples are not judged and autograd is not blamed; the
    points around them are. By hand: d sum(relu(x))/dx = (x > 0) away from 0,
    d sum(abs(x))/dx = sign(x); ones(3) is wrong wherever an entry is negative."""
    x = torch.tensor([0.0, 1.0, -1.0], dtype=F64)
    relu = lambda x: torch.relu(x).sum()  # noqa: E731
    verdict = matcalc.check_gradient(relu, lambda x: (x > 0).double(), {"x": x}, "x")
    assert verdict.status == "holds" and "lie on a kink" in verdict.numeric.detail, str(verdict)
    assert matcalc.check_gradient(relu, lambda x: torch.ones_like(x), {"x": x}, "x").status \
        == "fails"
    zeros = torch.zeros(3, dtype=F64)
    assert matcalc.check_gradient(relu, None, {"x": zeros}, "x").status == "holds"
    assert matcalc.check_gradient(lambda x: x.abs().sum(), "sign(x)", {"x": zeros}, "x").status \
        == "holds"


def test_a_difference_hidden_by_the_tolerance_is_found() -> None:
    """Adversary 4, J17: d/dx sum(x**2) = 2x (by hand); 2(1 + 3e-9)x is within the
    tolerance 1e-8 but far beyond the rounding noise of either side, as verify
    would refute it. d logdet(X)/dX = inv(X).T in denominator layout (by hand):
    it holds though the points around an spd example are not symmetric, some
    not even of positive determinant (logdet is nan there: no derivative, not
    judged), and some ill-conditioned (where central differences err: autograd
    stays the truth unless the difference persists at a step 8 times smaller)."""
    x = torch.randn(5, dtype=F64, generator=torch.Generator().manual_seed(0))
    square = lambda x: (x ** 2).sum()  # noqa: E731
    assert matcalc.check_gradient(square, lambda x: 2 * (1 + 3e-9) * x, {"x": x}, "x").status \
        == "fails"
    assert matcalc.check_gradient(square, lambda x: 2 * x, {"x": x}, "x").status == "holds"
    a = torch.randn(6, 6, dtype=F64, generator=torch.Generator().manual_seed(1))
    spd = a @ a.T + torch.eye(6, dtype=F64)
    logdet = lambda X: torch.logdet(X)  # noqa: E731
    verdict = matcalc.check_gradient(logdet, "inv(X).T", {"X": spd}, "X", layout="denominator")
    assert verdict.status == "holds", str(verdict)
    assert matcalc.check_gradient(logdet, "inv(X)", {"X": spd}, "X",
                                  layout="denominator").status == "fails"
