"""Derivation.code and Derivation.latex: the generated functions are run (our own
output, never user text) and compared with torch autograd at random inputs.

The reference derivatives are torch's gradients of each function written directly
in torch in this file, independently of matcalc; sizes of both parities.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import matcalc
from matcalc.cli import main
from matcalc.errors import UndecidedError, UnknownNameError

F64 = torch.float64


def load(source: str, name: str):  # noqa: ANN201
    """The function defined by generated source (matcalc's output, not user text)."""
    namespace: dict = {}
    exec(compile(source, f"<matcalc {name}>", "exec"), namespace)  # noqa: S102
    functions = [v for k, v in namespace.items() if k.startswith("d_") and callable(v)]
    assert len(functions) == 1
    return functions[0]


def spd(n: int, gen: torch.Generator) -> torch.Tensor:
    B = torch.randn(n, n, generator=gen, dtype=F64)
    return B @ B.T + n * torch.eye(n, dtype=F64)


#: (function in matcalc's language, the same in torch, wrt, declarations, random inputs)
SCALAR_CASES = [
    ("x.T @ A @ x", lambda x, A: x @ A @ x, "x", {"x": "n", "A": "n n"},
     lambda n, g: {"x": torch.randn(n, generator=g, dtype=F64),
                   "A": torch.randn(n, n, generator=g, dtype=F64)}),
    ("norm(A @ x - b)**2", lambda x, A, b: torch.sum((A @ x - b) ** 2), "x",
     {"x": "n", "A": "m n", "b": "m"},
     lambda n, g: {"x": torch.randn(n, generator=g, dtype=F64),
                   "A": torch.randn(n + 2, n, generator=g, dtype=F64),
                   "b": torch.randn(n + 2, generator=g, dtype=F64)}),
    ("logdet(X)", lambda X: torch.logdet(X), "X", {"X": "n n"},
     lambda n, g: {"X": spd(n, g) + torch.triu(torch.randn(n, n, generator=g, dtype=F64), 1)}),
    ("trace(A @ X @ B)", lambda A, X, B: torch.trace(A @ X @ B), "X",
     {"A": "p n", "X": "n k", "B": "k p"},
     lambda n, g: {"A": torch.randn(n + 1, n, generator=g, dtype=F64),
                   "X": torch.randn(n, n + 2, generator=g, dtype=F64),
                   "B": torch.randn(n + 2, n + 1, generator=g, dtype=F64)}),
    ("sum(log(sigmoid(X @ w)))", lambda X, w: torch.sum(torch.log(torch.sigmoid(X @ w))), "w",
     {"X": "m n", "w": "n"},
     lambda n, g: {"X": torch.randn(n + 3, n, generator=g, dtype=F64),
                   "w": torch.randn(n, generator=g, dtype=F64)}),
    ("logsumexp(A @ x) * logsumexp(A)",
     lambda A, x: torch.logsumexp(A @ x, 0) * torch.logsumexp(torch.ravel(A), 0), "A",
     {"A": "m n", "x": "n"},
     lambda n, g: {"A": torch.randn(n + 1, n, generator=g, dtype=F64),
                   "x": torch.randn(n, generator=g, dtype=F64)}),
    ("sum(G * (softmax_rows(Q @ K.T) @ V))",
     lambda Q, K, V, G: torch.sum(G * (torch.softmax(Q @ K.T, 1) @ V)), "Q",
     {"Q": "N d", "K": "M d", "V": "M p", "G": "N p"},
     lambda n, g: {"Q": torch.randn(n + 1, n, generator=g, dtype=F64),
                   "K": torch.randn(n + 2, n, generator=g, dtype=F64),
                   "V": torch.randn(n + 2, 3, generator=g, dtype=F64),
                   "G": torch.randn(n + 1, 3, generator=g, dtype=F64)}),
]


def gradient(function, values: dict[str, torch.Tensor], wrt: str) -> torch.Tensor:  # noqa: ANN001
    leaf = values[wrt].clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(function(**{**values, wrt: leaf}), leaf)
    return grad


@pytest.mark.parametrize("case", SCALAR_CASES, ids=[c[0] for c in SCALAR_CASES])
@pytest.mark.parametrize("target", ["numpy", "torch"])
def test_generated_gradients_match_autograd(case: tuple, target: str) -> None:
    text, function, wrt, variables, draw = case
    d = matcalc.derive(text, wrt, vars=variables, layout="denominator")
    assert d.expr is not None
    generated = load(d.code(target), text)
    for n, seed in ((3, 0), (4, 1)):
        values = draw(n, torch.Generator().manual_seed(seed))
        truth = gradient(function, values, wrt)
        if target == "numpy":
            got = generated(**{k: v.numpy() for k, v in values.items()})
            assert isinstance(got, np.ndarray)
            got = torch.from_numpy(got)
        else:
            got = generated(**values)
        # the documented shapes: the gradient has the variable's shape (a vector 1-d)
        assert tuple(got.shape) == tuple(values[wrt].shape)
        assert torch.allclose(got, truth, rtol=1e-10, atol=1e-10), (text, n)


#: vector-valued functions: (f, torch f, wrt, declarations, inputs, layout)
JACOBIAN_CASES = [
    ("A @ x", lambda A, x: A @ x, "x", {"A": "m n", "x": "n"}, "numerator"),
    ("softmax(x)", lambda x: torch.softmax(x, 0), "x", {"x": "n"}, "denominator"),
    ("s * x", lambda s, x: s * x, "s", {"s": "", "x": "n"}, "numerator"),
    ("tanh(A @ x)", lambda A, x: torch.tanh(A @ x), "x", {"A": "m n", "x": "n"}, "denominator"),
]


@pytest.mark.parametrize("case", JACOBIAN_CASES, ids=[c[0] for c in JACOBIAN_CASES])
def test_generated_jacobians_match_autograd(case: tuple) -> None:
    text, function, wrt, variables, layout = case
    d = matcalc.derive(text, wrt, vars=variables, layout=layout)
    generated = load(d.code("numpy"), text)
    gen = torch.Generator().manual_seed(5)
    sizes = {"n": 3, "m": 4}
    values = {}
    for name, spec in variables.items():
        shape = tuple(sizes[p] for p in spec.split())
        values[name] = torch.randn(shape, generator=gen, dtype=F64)
    jac = torch.autograd.functional.jacobian(
        lambda w: function(**{**values, wrt: w}), values[wrt])  # numerator: (out, in)
    truth = jac.T if layout == "denominator" else jac
    if values[wrt].dim() == 0:  # by a scalar: a vector result, 1-d
        truth = jac
    got = torch.from_numpy(np.asarray(generated(**{k: v.numpy() for k, v in values.items()})))
    assert tuple(got.shape) == tuple(truth.shape)
    assert torch.allclose(got, truth, rtol=1e-10, atol=1e-10)


def test_scalar_results_are_floats() -> None:
    d = matcalc.derive("s**2 * sum(x)", "s", vars={"s": "", "x": "n"})
    numpy_f = load(d.code("numpy"), "s**2 * sum(x)")
    torch_f = load(d.code("torch"), "s**2 * sum(x)")
    x = np.array([1.0, 2.0, 3.5])
    value = numpy_f(s=1.5, x=x)
    assert isinstance(value, float) and value == pytest.approx(2 * 1.5 * 6.5)
    tensor = torch_f(s=torch.tensor(1.5, dtype=F64), x=torch.from_numpy(x))
    assert tensor.shape == () and float(tensor) == pytest.approx(2 * 1.5 * 6.5)
    constant = matcalc.derive("2 * s", "s", vars={"s": ""})
    assert load(constant.code("numpy"), "2 * s")(s=0.3) == 2.0


def test_shared_subexpressions_are_computed_once() -> None:
    d = matcalc.derive("a.T @ inv(X) @ b", "X", vars={"a": "n", "b": "n", "X": "n n"},
                       layout="denominator")
    source = d.code("numpy")
    assert source.count("np.linalg.inv(") == 1
    generated = load(source, "a.T inv(X) b")
    gen = torch.Generator().manual_seed(3)
    a, b = torch.randn(4, generator=gen, dtype=F64), torch.randn(4, generator=gen, dtype=F64)
    X = spd(4, gen)
    truth = gradient(lambda a, b, X: a @ torch.linalg.inv(X) @ b, {"a": a, "b": b, "X": X}, "X")
    got = generated(a=a.numpy(), b=b.numpy(), X=X.numpy())
    assert np.allclose(got, truth.numpy(), rtol=1e-10, atol=1e-12)


def test_latex_and_reprs() -> None:
    d = matcalc.derive("logdet(X)", "X", vars={"X": "n n"}, layout="denominator")
    assert isinstance(d.latex, str)
    assert d.latex.startswith(r"\frac{\partial}{\partial \mathbf{X}}")
    assert d.latex.endswith(r"= \mathbf{X}^{- \top}")
    assert d._repr_latex_() == f"$${d.latex}$$"
    assert repr(d) == "<Derivation d(logdet(X))/d(X) = inv(X).T [denominator]>"
    assert "<math" in d._repr_html_()


def test_bad_targets_and_missing_closed_forms() -> None:
    d = matcalc.derive("x.T @ A @ x", "x", vars={"x": "n", "A": "n n"})
    with pytest.raises(UnknownNameError, match="nunpy"):
        d.code("nunpy")
    tensor = matcalc.derive("A @ X", "X", vars={"A": "m n", "X": "n k"})  # a 4-d tensor
    assert tensor.expr is None
    with pytest.raises(UndecidedError):
        tensor.code("numpy")


def test_cli_formats(capsys: pytest.CaptureFixture) -> None:
    argv = ["derive", "logdet(X)", "--wrt", "X", "--var", "X:n,n", "--layout", "denominator"]
    assert main([*argv, "--format", "latex"]) == 0
    assert capsys.readouterr().out.strip().endswith(r"\mathbf{X}^{- \top}")
    assert main([*argv, "--format", "numpy"]) == 0
    source = capsys.readouterr().out
    X = spd(3, torch.Generator().manual_seed(0)).numpy()
    assert np.allclose(load(source, "logdet")(X=X), np.linalg.inv(X).T)
    assert main([*argv, "--format", "torch"]) == 0
    assert "import torch" in capsys.readouterr().out
    assert main(["derive", "A @ X", "--wrt", "X", "--var", "A:m,n", "--var", "X:n,k",
                 "--format", "numpy"]) == 1


def test_docstring_examples() -> None:
    import doctest

    import matcalc.rendering.latex

    failures, tried = doctest.testmod(matcalc.rendering.latex)
    assert tried > 0 and failures == 0


#: one expression per printed operation (and the node kinds: constants, sizes, literals)
PRINTED = [
    "X + Y", "X - 2 * Y", "X * Y", "X / (abs(Y) + 1)", "X @ Y.T", "abs(X) ** 3", "-X", "X.T",
    "trace(X)", "det(X)", "inv(X + 5 * eye(n))", "logdet(X @ X.T + eye(n))", "norm(X)",
    "norm(x)", "norm1(X)", "sum(X)", "mean(X)", "dot(x, y)", "exp(X)", "log(abs(X) + 1)",
    "sin(X)", "cos(X)", "tanh(X)", "sqrt(abs(X) + 1)", "abs(X)", "sign(X)", "sigmoid(X)",
    "relu(X)", "softmax(x)", "softmax(x.T)", "diag(x)", "diag(X)", "eye(n)", "ones(n)",
    "ones(n, n) - X", "zeros(n, n) + X", "vec(X)", "kron(X, Y)", "outer(x, y)", "detach(X)",
    "kron(X.T, Y)", "-kron(inv(X + 5 * eye(n)).T, Y.T)",
    "[[1, 2], [3, 4]] @ Z", "[1, -2] * z", "sum(x) / n", "s * X", "x.T @ X @ y", "s ** 2",
    "x.T", "-(X @ Y) - 1/2 * X", "trace(X) * X - s", "(x.T @ y) @ x.T", "X ** 2 - X ** 3 / 3",
    "exp(-s) * sigmoid(-x)",
]
VARIABLES = {"X": "n n", "Y": "n n", "x": "n", "y": "n", "s": "", "Z": "2 2", "z": "2"}


@pytest.mark.parametrize("target", ["numpy", "torch"])
def test_every_printed_operation_computes_what_the_engine_does(target: str) -> None:
    """Each expression printed as a function and run, against matcalc's numeric
    engine evaluating the same tree (sizes 3 and 4)."""
    from matcalc.declarations import declare
    from matcalc.numeric import Evaluator
    from matcalc.parsing import parse_expression
    from matcalc.rendering.code import function_source
    from matcalc.shapes import kind

    declarations = declare(VARIABLES)
    scope = declarations.scope("numerator")
    for n in (3, 4):
        gen = torch.Generator().manual_seed(n)
        shapes = {"X": (n, n), "Y": (n, n), "x": (n,), "y": (n,), "s": (), "Z": (2, 2),
                  "z": (2,)}
        values = {k: torch.randn(shape, generator=gen, dtype=F64) for k, shape in shapes.items()}
        env = {k: v.reshape(1, 1) if v.dim() == 0 else v.reshape(-1, 1) if v.dim() == 1 else v
               for k, v in values.items()}
        for text in PRINTED:
            tree = parse_expression(text, scope)
            source = function_source(target, "d_case", dict(scope.shapes), tree, "a case")
            function = load(source, text)
            got = function(**({k: v.numpy() for k, v in values.items()} if target == "numpy"
                              else values))
            want = Evaluator(env, {"n": n}).value(tree)
            k = kind(tree.shape)
            want = (want.reshape(()) if k == "scalar" else want.reshape(-1)
                    if k in ("row", "column") else want)
            if target == "numpy":
                assert isinstance(got, float if k == "scalar" else np.ndarray), text
                got = torch.as_tensor(np.array(got), dtype=F64)
            assert tuple(got.shape) == tuple(want.shape), (text, n, source)
            assert torch.allclose(got, want, rtol=1e-12, atol=1e-12), (text, n, source)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_generated_torch_code_on_a_gpu() -> None:
    """Arrays the code creates (eye, ones, literals) go to the inputs' device."""
    d = matcalc.derive("mean(x)**2 + sum(eye(n) @ x)", "x", vars={"x": "n"},
                       layout="denominator")
    generated = load(d.code("torch"), "mean ones")
    x = torch.randn(5, dtype=F64, device="cuda")
    got = generated(x=x)
    truth = gradient(lambda x: torch.mean(x) ** 2 + torch.sum(x), {"x": x}, "x")
    assert got.device.type == "cuda" and torch.allclose(got, truth, rtol=1e-12, atol=1e-12)


def test_random_expressions_print_to_code_that_computes_them() -> None:
    """Well-typed random expressions (tests/fuzzing.py), printed for both targets and
    run at points the numeric engine sampled inside every operation's domain."""
    import random

    from fuzzing import ASSUME, VARS, well_typed
    from matcalc.declarations import declare
    from matcalc.numeric import Evaluator, NumericSession
    from matcalc.parsing import parse_expression
    from matcalc.rendering.code import function_source
    from matcalc.shapes import kind

    declarations = declare(VARS, ASSUME)
    scope = declarations.scope("numerator")
    rng = random.Random(2024)
    checked = 0
    for index in range(150):
        text = well_typed(rng, rng.choice(["s", "n", "m", "nT", "nn", "mn", "nm"]), 3)
        tree = parse_expression(text, scope)
        session = NumericSession(declarations.shape_map, declarations.tag_map,
                                 [{"n": 3, "m": 2}], seed=index, points_per_size=1)
        points = session.sample([tree])
        if not points:
            continue  # no point inside the domain: nothing to compare
        point = points[0]
        want = Evaluator(point.env, point.sizes).value(tree).detach()
        if not bool(torch.isfinite(want).all()):
            continue
        k = kind(tree.shape)
        want = (want.reshape(()) if k == "scalar" else want.reshape(-1)
                if k in ("row", "column") else want)
        values = {name: (v.reshape(()) if kind(declarations.shape_map[name]) == "scalar"
                         else v.reshape(-1) if kind(declarations.shape_map[name]) == "column"
                         else v) for name, v in point.env.items()}
        for target in ("numpy", "torch"):
            source = function_source(target, "d_case", dict(scope.shapes), tree, text)
            function = load(source, text)
            got = function(**({k: v.numpy() for k, v in values.items()} if target == "numpy"
                              else values))
            got = torch.as_tensor(np.array(got) if target == "numpy" else got, dtype=F64)
            assert tuple(got.shape) == tuple(want.shape), (text, source)
            assert torch.allclose(got, want, rtol=1e-9, atol=1e-9), (text, source)
        checked += 1
    assert checked >= 100
