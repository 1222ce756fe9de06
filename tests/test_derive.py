"""derive(): closed forms in matrix notation, verified before they are shown."""

from __future__ import annotations

import pytest

import matcalc
from matcalc.cli import main
from matcalc.parallel import parallel_map
from matcalc.tables import load_tables
from tablehelpers import entry_derivations

V = {"x": "n", "a": "n", "b": "n", "A": "n n", "B": "n n", "C": "n n", "X": "n n", "s": "",
     "W": "m n", "y": "m", "M": "n k", "c": "k"}

EXPECTED = [
    ("x.T @ A @ x", "x", "numerator", {}, "x.T @ (A + A.T)"),
    ("x.T @ A @ x", "x", "denominator", {}, "(A + A.T) @ x"),
    ("x.T @ A @ x", "x", "numerator", {"A": ["symmetric"]}, "2 * x.T @ A"),
    ("logdet(X)", "X", "denominator", {"X": ["spd"]}, "inv(X)"),
    ("det(X)", "X", "numerator", {}, "det(X) * inv(X)"),
    ("a.T @ inv(X) @ b", "X", "denominator", {}, "-inv(X).T @ a @ b.T @ inv(X).T"),
    ("norm(W @ x - y)**2", "x", "denominator", {}, "2 * W.T @ (W @ x - y)"),
    ("sum(exp(A @ x))", "x", "numerator", {}, "exp(A @ x).T @ A"),
    ("softmax(x)", "x", "numerator", {}, "diag(softmax(x)) - softmax(x) @ softmax(x).T"),
    ("A @ X @ B", "X", "vec", {}, "kron(B.T, A)"),
    ("inv(A + s * B)", "s", "numerator", {}, "-inv(A + s * B) @ B @ inv(A + s * B)"),
    ("M @ c", "M", "vec", {}, "kron(c.T, eye(n))"),
    # a structured variable's transpose is kept while differentiating: the
    # derivative of the expression as written, at a structured point
    ("trace(A @ X.T)", "X", "numerator", {"X": ["symmetric"]}, "A.T"),
    ("trace(A @ X.T)", "X", "numerator", {"X": ["spd"]}, "A.T"),
    ("trace(A @ X.T)", "X", "numerator", {"X": ["diagonal"]}, "A.T"),
    ("trace(A @ X.T)", "X", "denominator", {"X": ["symmetric"]}, "A"),
]


@pytest.mark.parametrize("f, wrt, layout, assume, expected", EXPECTED,
                         ids=[f"{e[0]} [{e[2]}]" for e in EXPECTED])
def test_closed_forms_read_as_people_write_them(f: str, wrt: str, layout: str, assume: dict,
                                                expected: str) -> None:
    result = matcalc.derive(f, wrt, vars=V, assume=assume, layout=layout)
    assert result.expr == expected
    assert result.verdict.status == "holds"
    assert result.verdict.symbolic.status == "proved"


# SymPy 1.14's MatrixSymbol.diff gets these wrong (0, or unevaluated); matcalc must not.
SYMPY_FAILURES = [
    ("logdet(X)", "X", {"X": "n n"}, "inv(X).T"),
    ("log(det(X))", "X", {"X": "n n"}, "inv(X).T"),
    ("det(X)", "X", {"X": "n n"}, "det(X) * inv(X).T"),
    ("trace(E) + 1", "E", {"E": "n n"}, "eye(n)"),
    ("trace(A.T @ A) + trace(B.T @ B)", "A", {"A": "n m", "B": "n m"}, "2 * A"),
    ("trace(F.T @ F) - 3", "F", {"F": "n m"}, "2 * F"),
]


@pytest.mark.parametrize("f, wrt, vars_, expected", SYMPY_FAILURES,
                         ids=[s[0] for s in SYMPY_FAILURES])
def test_where_sympy_fails_matcalc_is_right(f: str, wrt: str, vars_: dict,
                                            expected: str) -> None:
    result = matcalc.derive(f, wrt, vars=vars_, layout="denominator")
    assert result.expr == expected
    check = matcalc.verify(f"d({f})/d({wrt}) = {expected}", vars=vars_, layout="denominator")
    assert check.status == "holds"


def test_no_closed_form_is_honest() -> None:
    result = matcalc.derive("X @ X", "X", vars={"X": "n n"})  # a 4-d tensor in numerator
    assert result.expr is None and "vec" in result.note
    assert result.componentwise is not None and len(result.componentwise) == 3
    assert matcalc.derive("X @ X", "X", vars={"X": "n n"}, layout="vec").expr == \
        "kron(eye(n), X) + kron(X.T, eye(n))"


def test_a_closed_form_that_does_not_verify_is_never_shown(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from matcalc import calculus

    # plant a wrong rule: d exp(a) = 2 exp(a)
    monkeypatch.setitem(calculus.ELEMENTWISE, "exp",
                        lambda b, a, y: b.mul(b.const(2), y))
    result = matcalc.derive("sum(exp(x))", "x", vars={"x": "n"})
    assert result.expr is None
    assert "ENGINE DISAGREEMENT" in result.note
    assert result.componentwise is not None


def test_verdicts_carry_the_closed_form() -> None:
    verdict = matcalc.verify("d(x.T @ A @ x)/d(x) = 2 * x.T @ A", vars={"x": "n", "A": "n n"})
    assert verdict.status == "fails"
    assert verdict.closed_form == "x.T @ (A + A.T)"
    assert "derivative in numerator layout (verified): x.T @ (A + A.T)" in str(verdict)


def test_cli_derive(capsys: pytest.CaptureFixture) -> None:
    code = main(["derive", "logdet(X)", "--wrt", "X", "--var", "X:n,n", "--assume", "X:spd",
                 "--layout", "denominator"])
    out = capsys.readouterr().out
    assert code == 0 and "= inv(X)\n" in out
    assert main(["derive", "X @ X", "--wrt", "X", "--var", "X:n,n"]) == 1
    assert main(["derive", "x", "--wrt", "q", "--var", "x:n"]) == 2


@pytest.mark.slow
def test_every_table_function_round_trips() -> None:
    """derive's closed form for every table entry, in every layout the entry
    states, verifies (derive checks it with both engines before returning it)."""
    entries = load_tables().identities()
    results = parallel_map(entry_derivations, entries)
    missing = [(e.key, d.layout, d.note) for e, ds in zip(entries, results) for d in ds
               if d.expr is None]
    assert not missing
    total = sum(len(ds) for ds in results)
    assert total >= 300
    assert all(d.verdict.status == "holds" for ds in results for d in ds)


@pytest.mark.parametrize("f, wrt, expected", [
    ("(s - s)**3", "s", "0"),
    ("x.T @ X @ x * norm(x - x)", "x", "zeros(1, n)"),
    ("softmax(softmax(x - x))", "x", "zeros(n, n)"),
    ("norm1(C @ u - C @ u)", "u", "zeros(1, m)"),
])
def test_derivatives_that_cancel_to_zero(f: str, wrt: str, expected: str) -> None:
    """Found by the long fuzz run: terms that cancel exactly used to crash derive."""
    variables = {"s": "", "x": "n", "u": "m", "X": "n n", "C": "n m"}
    result = matcalc.derive(f, wrt, vars=variables)
    assert result.expr == expected
    assert result.verdict.status == "holds"


def test_the_transpose_of_a_zero_matrix() -> None:
    """Found by the long fuzz run: zeros(n, m).T kept the shape (n, m)."""
    result = matcalc.derive("(A @ zeros(n, m) / 2).T", "s",
                            vars={"A": "n n", "s": "", "B": "m n"})
    assert result.expr == "zeros(m, n)" and result.verdict.holds


# Issue 15: the forms a person writes, Hessians, logsumexp and softmax_rows.

PERSON = [
    ("sum(log(sigmoid(y * (X @ w))))", "w", {"X": "m n", "w": "n", "y": "m"}, "denominator",
     "X.T @ (y * (1 - sigmoid(y * (X @ w))))"),
    ("log(sum(exp(x)))", "x", {"x": "n"}, "numerator", "softmax(x).T"),
    ("log(sum(exp(x)))", "x", {"x": "n"}, "denominator", "softmax(x)"),
    ("log(x) + x * (1 / x)", "x", {"x": "n"}, "numerator", "diag(1 / x)"),
    ("sum(ones(k, N) @ ones(N) * a)", "a", {"a": "k", "B": "N"}, "denominator", "N * ones(k)"),
    ("s * x.T @ x * s", "x", {"x": "n", "s": ""}, "denominator", "2 * s ** 2 * x"),
    ("exp(-s * x.T @ x)", "x", {"x": "n", "s": ""}, "denominator",
     "-2 * s * exp(-s * x.T @ x) * x"),
    ("trace(X)", "X", {"X": "k k"}, "numerator", "eye(k)"),
    ("trace(X) * s", "s", {"X": "k k", "s": ""}, "numerator", "trace(X)"),
    ("logsumexp(x)", "x", {"x": "n"}, "numerator", "softmax(x).T"),
    ("-sum(y * log(sigmoid(X @ w)) + (1 - y) * log(1 - sigmoid(X @ w)))", "w",
     {"X": "m n", "w": "n", "y": "m"}, "denominator", "X.T @ (sigmoid(X @ w) - y)"),
]


@pytest.mark.parametrize("f, wrt, variables, layout, expected", PERSON,
                         ids=[f"{p[0]} [{p[3]}]" for p in PERSON])
def test_derive_reaches_the_form_a_person_writes(f: str, wrt: str, variables: dict,
                                                 layout: str, expected: str) -> None:
    result = matcalc.derive(f, wrt, vars=variables, layout=layout)
    assert result.expr == expected
    assert result.verdict.status == "holds"


def test_hessian_of_a_quadratic_form() -> None:
    v = {"x": "n", "A": "n n"}
    result = matcalc.derive("x.T @ A @ x", "x", vars=v, order=2)
    assert result.expr == "A + A.T" and result.order == 2
    assert result.verdict.status == "holds" and result.verdict.symbolic.status == "proved"
    # independently of derive: the expression verifies as the Hessian, in both layouts
    for layout in ("numerator", "denominator"):
        check = matcalc.verify(f"d(d(x.T @ A @ x)/d(x))/d(x) = {result.expr}", vars=v,
                               layout=layout)
        assert check.status == "holds"


def test_hessian_of_logistic_regression_names_its_subexpression() -> None:
    result = matcalc.derive("sum(log(1 + exp(X @ w)))", "w", vars={"X": "m n", "w": "n"},
                            order=2)
    assert result.expr == "X.T @ diag(sigmoid(X @ w) * (1 - sigmoid(X @ w))) @ X"
    assert result.named == "X.T @ diag(t0 * (1 - t0)) @ X"
    assert result.where == (("t0", "sigmoid(X @ w)"),)
    assert r"\text{where }" in result.latex and r"\sigma" in result.latex
    text = str(result)
    assert "= X.T @ diag(t0 * (1 - t0)) @ X\n    where t0 = sigmoid(X @ w)" in text
    assert "written out: X.T @ diag(sigmoid(X @ w)" in text


def test_an_order_other_than_1_or_2_is_bad_input() -> None:
    with pytest.raises(matcalc.MatcalcError, match="order"):
        matcalc.derive("x.T @ x", "x", vars={"x": "n"}, order=3)


def test_cli_derive_order_2(capsys: pytest.CaptureFixture) -> None:
    code = main(["derive", "x.T @ A @ x", "--wrt", "x", "--var", "x:n", "--var", "A:n,n",
                 "--order", "2"])
    out = capsys.readouterr().out
    assert code == 0 and "d(d(x.T @ A @ x)/d(x))/d(x)" in out and "= A + A.T\n" in out


def test_logsumexp_derivative_is_softmax() -> None:
    assert matcalc.verify("d(logsumexp(x))/d(x) = softmax(x).T", vars={"x": "n"}).status == \
        "holds"
    assert matcalc.verify("d(logsumexp(x))/d(x) = softmax(x)", vars={"x": "n"},
                          layout="denominator").status == "holds"


def test_row_softmax_attention_gradients_verify() -> None:
    v = {"Q": "N d", "K": "M d", "V": "M p", "G": "N p"}
    for wrt in ("Q", "K", "V"):
        result = matcalc.derive("sum(G * (softmax_rows(Q @ K.T) @ V))", wrt, vars=v,
                                layout="denominator")
        assert result.expr is not None and result.verdict.status == "holds", result
    jac = matcalc.derive("softmax_rows(A)", "A", vars={"A": "m n"}, layout="vec")
    assert jac.expr is not None and jac.verdict.status == "holds"
