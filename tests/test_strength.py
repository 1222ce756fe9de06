"""How strong the evidence for a ``holds`` is: general, exact or numeric.

The general argument rests on two sets of rules, each of which must hold at every
size: the rules of matrix calculus (``matcalc/calculus.py``, one row per operation
and mode) and the rewrite rules that put both sides in normal form
(``matcalc/simplify.py`` and ``matcalc/strength.py``). Each rule is checked here at
sizes 2, 3, 4 and 5 (both parities); the rules of ``strength.py`` against torch
directly, the calculus rows and the normal forms through examples that use every
row, compared with torch autograd (the numeric engine, which does not use them).
"""

from __future__ import annotations

import json

import pytest
import torch

import matcalc
from matcalc import expr as E
from matcalc.calculus import JACOBIAN, REVERSE, TANGENT
from matcalc.cli import main
from matcalc.closedform import closed_form
from matcalc.declarations import declare
from matcalc.shapes import SCALAR
from matcalc.simplify import Builder
from matcalc.strength import Strength, assess, both_parities, normal_form, rewrite

SIZES = (2, 3, 4, 5)


# ---------------------------------------------------------------------------
# acceptance


def test_a_rule_of_calculus_is_general() -> None:
    v = matcalc.verify("d(A @ x)/d(x) = A", vars={"x": "n", "A": "m n"})
    assert v.status == "holds" and v.strength == "general" and v.argument
    assert str(v).startswith("HOLDS for every size")
    assert "<strong>for every size</strong>" in v._repr_html_()
    document = v.to_dict()
    assert document["strength"] == "general"
    assert document["exact_sizes"] and document["numeric_sizes"]


def test_det_of_minus_x_is_general() -> None:
    v = matcalc.verify("det(-X) = (-1)**n * det(X)", vars={"X": "n n"})
    assert v.status == "holds" and v.strength == "general"
    assert {sizes["n"] % 2 for sizes in v.exact_sizes} == {0, 1}  # and exact at both parities


def test_exact_evidence_at_both_parities_of_every_dimension() -> None:
    # true, but not in the rules' normal form (the transposes are not folded back)
    v = matcalc.verify("trace(A @ B) = sum(A * B.T)", vars={"A": "n m", "B": "m n"})
    assert v.status == "holds" and v.strength == "exact" and v.parity_complete
    for name in ("n", "m"):
        assert {sizes[name] % 2 for sizes in v.exact_sizes} == {0, 1}
    assert v.meets("exact") and not v.meets("general")
    assert str(v).startswith("HOLDS exactly at (n, m) = ")


def test_the_wrong_sign_rule_is_not_general() -> None:
    v = matcalc.verify("det(-X) = -det(X)", vars={"X": "n n"}, sizes={"n": 3})
    assert v.status == "holds" and v.strength == "exact"  # true at n = 3 only
    assert v.exact_sizes == ({"n": 3},)
    assert str(v).startswith("HOLDS exactly at n = 3 and numerically at n = 3")


def test_pinned_size_beyond_the_exact_stage_is_numeric() -> None:
    v = matcalc.verify("det(-X) = det(X)", vars={"X": "n n"}, sizes={"n": 200})
    assert v.status == "holds" and v.strength == "numeric" and v.exact_sizes == ()
    assert v.numeric_sizes == ({"n": 200},)
    assert str(v).startswith("HOLDS numerically at n = 200 (no exact evidence)")
    with pytest.raises(matcalc.errors.UndecidedError):
        matcalc.verify("det(-X) = det(X)", vars={"X": "n n"}, sizes={"n": 200},
                       require="exact")


def test_a_large_pinned_size_is_decided_exactly_at_that_size_only() -> None:
    v = matcalc.verify("det(-X) = det(X)", vars={"X": "n n"}, sizes={"n": 60}, require="exact")
    assert v.status == "holds" and v.strength == "exact" and v.exact_sizes == ({"n": 60},)
    assert str(v).startswith("HOLDS exactly at n = 60")


def test_require_on_the_command_line(capsys: pytest.CaptureFixture) -> None:
    base = ["verify", "det(-X) = det(X)", "--var", "X:n,n", "--size", "n=200"]
    assert main(base) == 0
    assert main([*base, "--require", "numeric"]) == 0
    capsys.readouterr()
    assert main([*base, "--require", "exact"]) == 3
    captured = capsys.readouterr()
    assert captured.out.startswith("HOLDS numerically at n = 200")
    assert "--require exact" in captured.err
    # as JSON an undecided run is an error document (the newcomer's: it said "holds")
    assert main([*base, "--require", "exact", "--json"]) == 3
    undecided = json.loads(capsys.readouterr().out)
    assert undecided["kind"] == "error" and undecided["error"]["type"] == "UndecidedError"
    general = ["verify", "d(A @ x)/d(x) = A", "--var", "x:n", "--var", "A:m,n"]
    assert main([*general, "--require", "general", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["strength"] == "general"
    assert set(document) >= {"strength", "exact_sizes", "numeric_sizes", "argument"}


def test_a_failure_has_no_strength() -> None:
    v = matcalc.verify("d(A @ x)/d(x) = A.T", vars={"x": "n", "A": "n n"})
    assert v.status == "fails" and v.strength is None and not v.meets("numeric")


# ---------------------------------------------------------------------------
# the strength of a set of evidence


def test_parity_of_every_free_dimension() -> None:
    assert both_parities([{"n": 2, "m": 3}, {"n": 3, "m": 4}], ())
    assert not both_parities([{"n": 3, "m": 2}, {"n": 5, "m": 4}], ())
    assert both_parities([{"n": 3, "m": 2}, {"n": 3, "m": 5}], ("n",))  # n is pinned
    assert both_parities([{}], ())


def test_exact_at_one_parity_is_not_exact_evidence() -> None:
    partial = Strength("exact", ({"n": 3},), (), None, parity_complete=False)
    assert not partial.meets("exact") and partial.meets("numeric")
    assert "not at sizes of both parities" in partial.scope()
    full = Strength("exact", ({"n": 2}, {"n": 3}), ({"n": 7},), None)
    assert full.meets("exact") and not full.meets("general")
    assert full.scope() == "exactly at n = 2, 3 and numerically at n = 7"
    assert Strength("exact", ({"n": 2, "m": 3},), (), None).scope() == \
        "exactly at (n, m) = (2, 3)"


def test_assess_prefers_numeric_over_partial_exact() -> None:
    from matcalc.evidence import NumericEvidence, NumericPoint, SymbolicEvidence

    symbolic = SymbolicEvidence("proved", {"n": 3}, "simplifies to 0")
    numeric = NumericEvidence("agrees", "agree", points=(
        NumericPoint({"n": 3}, 0.0, True), NumericPoint({"n": 5}, 0.0, True)))
    assert assess(symbolic, numeric, (), None).strength == "numeric"
    assert assess(symbolic, None, (), None).strength == "exact"
    assert assess(symbolic, numeric, ("n",), None).strength == "exact"
    assert assess(symbolic, numeric, (), "an argument").strength == "general"


# ---------------------------------------------------------------------------
# the rules of strength.py, against torch at sizes of both parities


@pytest.mark.parametrize("n", SIZES)
def test_the_rules_hold_at_both_parities(n: int) -> None:
    gen = torch.Generator().manual_seed(n)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    a, b_, c = rand(n, n), rand(n, n), 1.7
    p, q = rand(n, n + 2), rand(n + 2, n)  # rectangular factors of a square product
    det, inv, tr = torch.linalg.det, torch.linalg.inv, torch.trace

    def close(x: torch.Tensor, y: torch.Tensor) -> bool:
        return torch.allclose(torch.as_tensor(x), torch.as_tensor(y), rtol=1e-10, atol=1e-12)

    assert close(det(-a), (-1) ** n * det(a))
    assert close(det(c * a), c ** n * det(a))
    assert close(det(a.T), det(a))
    assert close(det(inv(a)), 1 / det(a))
    assert close(det(a @ b_), det(a) * det(b_))
    assert close(inv(-a), -inv(a))
    assert close(tr(a.T), tr(a))
    assert close(tr(a + b_), tr(a) + tr(b_)) and close(tr(a - b_), tr(a) - tr(b_))
    assert close(tr(c * a), c * tr(a))
    assert close(tr(p @ q), tr(q @ p)) and close(tr(p @ q @ a), tr(a @ p @ q))
    assert close(tr(p @ q), tr(q.T @ p.T))
    eye = torch.eye(n, dtype=torch.float64)
    assert close(inv(a) @ a, eye) and close(a @ inv(a), eye)


def test_the_rules_rewrite_as_documented() -> None:
    scope = declare({"X": "n n", "Y": "n n", "P": "n m", "Q": "m n", "s": ""}).scope("numerator")
    b = Builder()

    def rewritten(text: str) -> str:
        return E.to_text(rewrite(matcalc.parsing.parse_expression(text, scope), b))

    assert rewritten("det(-X)") == "(-1) ** n * det(X)"
    assert rewritten("det(s * X)") == "s ** n * det(X)"
    assert rewritten("det(X.T)") == "det(X)"
    assert rewritten("det(inv(X))") == "1 / det(X)"
    assert rewritten("det(X @ Y)") == "det(X) * det(Y)"
    assert rewritten("det(P @ Q)") == "det(P @ Q)"  # P, Q not square: no rule
    assert rewritten("inv(-X)") == "-inv(X)"
    assert rewritten("trace(X.T)") == "trace(X)"
    assert rewritten("trace(X - Y)") == "trace(X) - trace(Y)"
    assert rewritten("trace(s * X)") == "s * trace(X)"
    assert rewritten("trace(Q @ P)") == rewritten("trace(P @ Q)") == "trace(P @ Q)"
    assert rewritten("trace(Q.T @ P.T)") == "trace(P @ Q)"
    scope_tree = matcalc.parsing.parse_expression
    assert E.to_text(normal_form(scope_tree("inv(X) @ X @ P", scope), b)) == "P"
    assert E.to_text(normal_form(scope_tree("Q @ Y @ inv(Y)", scope), b)) == "Q"


def test_more_general_arguments() -> None:
    general = [
        ("det(X.T @ Y) = det(X) * det(Y)", {"X": "n n", "Y": "n n"}),
        ("trace(A @ B @ C) = trace(C @ A @ B)", {"A": "n m", "B": "m k", "C": "k n"}),
        ("trace(A @ B.T) = trace(B @ A.T)", {"A": "n m", "B": "n m"}),
        ("inv(X) @ X @ y = y", {"X": "n n", "y": "n"}),
        ("d(trace(A @ X @ B))/d(X) = B @ A", {"A": "k n", "X": "n m", "B": "m k"}),
    ]
    for identity, variables in general:
        v = matcalc.verify(identity, vars=variables)
        assert v.status == "holds" and v.strength == "general", identity


# ---------------------------------------------------------------------------
# every row of the calculus, and the normal forms, at sizes 2..5

V = {"x": "n", "y": "n", "A": "n n", "X": "n n", "S": "n n", "s": "", "r": "1 n"}
ASSUME = {"S": ["spd"]}

EXAMPLES = [  # (function, variable, layout)
    # reverse mode (scalar functions)
    ("sum(exp(A @ x) - sin(x) + cos(x) * tanh(x))", "x", "numerator"),
    ("-(x.T @ A @ x) / (1 + x.T @ x)", "x", "numerator"),
    ("norm(x) ** 3 + norm1(x) + mean(sigmoid(x))", "x", "denominator"),
    ("trace(A @ X) * det(X) + sum(inv(X) @ A)", "X", "numerator"),
    ("logdet(S) + trace(S @ A)", "S", "denominator"),
    ("dot(x, softmax(A @ x)) + sum(diag(x) @ A) + sum(outer(x, y) * A)", "x", "numerator"),
    ("sum(sqrt(exp(x)) + log(exp(x) + 1) + abs(x) + relu(x) + sign(x) * x) + dot(detach(x), x)",
     "x", "numerator"),
    ("logsumexp(A @ x) + logsumexp(outer(x, y)) + sum(softmax_rows(outer(x, y)) * A)", "x",
     "denominator"),
    # forward mode, scalar variable
    ("inv(A + s * X) @ x + -(s * x)", "s", "numerator"),
    ("exp(s * x) - sin(s) * x / (1 + s ** 2) + cos(s * x) * tanh(s * x)", "s", "numerator"),
    ("kron(s * A, X) + kron(eye(n), (s * A).T)", "s", "numerator"),
    ("diag(s * x) + outer(s * x, y)", "s", "denominator"),
    ("softmax(s * x) * (trace(s * A) + det(s * X) + sum(s * x) + mean(s * x) + norm(s * x) "
     "+ norm1(s * x) + dot(s * x, y) + logdet(S + s ** 2 * S))", "s", "numerator"),
    ("vec(s * A) + vec(detach(s) * X)", "s", "numerator"),
    ("softmax_rows(s * A) * logsumexp(s * x)", "s", "numerator"),
    ("sqrt(s ** 2 + 1) * x + log(s ** 2 + 1) * x + sigmoid(s) * x + relu(s * x) + abs(s * x) "
     "+ sign(s * x) * s", "s", "numerator"),
    # forward mode, vec Jacobians
    ("softmax(A @ x) + exp(x) * sin(x) - x / (1 + x * x) + (x.T @ A).T + x ** 3", "x",
     "numerator"),
    ("vec(inv(X))", "X", "vec"),
    ("vec(softmax_rows(outer(x, y))) * logsumexp(x)", "x", "vec"),
    ("outer(x, y) @ A", "x", "vec"),
    ("x * (sum(x) + mean(x) + norm(x) + norm1(x) + dot(x, y) + trace(outer(x, y)) "
     "+ det(A + outer(x, x)) + logdet(S + outer(x, x)))", "x", "numerator"),
    ("sqrt(exp(x)) + log(1 + exp(x)) + abs(x) + relu(x) + sign(x) + sigmoid(x) + tanh(x) "
     "+ cos(x) + detach(x) * x - (-x)", "x", "denominator"),
    # the mixed layout in each mode, and a row-vector variable
    ("sum(exp(A @ x))", "x", "mixed"),
    ("exp(s * x)", "s", "mixed"),
    ("softmax(A @ x)", "x", "mixed"),
    ("r @ A @ r.T", "r", "numerator"),
    ("(r @ A).T", "r", "denominator"),
]


def _mode(f: E.Expr, wrt: E.Var) -> str:
    if f.shape == SCALAR:
        return "reverse"
    if wrt.shape == SCALAR:
        return "tangent"
    return "jacobian"


def _closed(f_text: str, wrt: str, layout: str) -> tuple[E.Expr, E.Expr]:
    decl = declare(V, ASSUME)
    scope = decl.scope(layout)
    f = matcalc.parsing.parse_expression(f_text, scope)
    variable = E.Var(wrt, decl.shape_map[wrt])
    tree, _ = closed_form(f, variable, layout, Builder({"S"}))
    return f, tree


def test_the_examples_use_every_row_of_every_mode() -> None:
    used: dict[str, set[str]] = {"reverse": set(), "tangent": set(), "jacobian": set()}
    for f_text, wrt, layout in EXAMPLES:
        f, _ = _closed(f_text, wrt, layout)
        variable = E.Var(wrt, declare(V, ASSUME).shape_map[wrt])
        ops = {n.op for n in E.walk(f) if isinstance(n, E.Apply)}
        used[_mode(f, variable)] |= ops
    assert set(REVERSE) <= used["reverse"], set(REVERSE) - used["reverse"]
    assert set(TANGENT) <= used["tangent"], set(TANGENT) - used["tangent"]
    assert set(JACOBIAN) <= used["jacobian"], set(JACOBIAN) - used["jacobian"]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("f_text, wrt, layout", EXAMPLES, ids=[e[0][:40] for e in EXAMPLES])
def test_calculus_rules_and_normal_forms_at_both_parities(f_text: str, wrt: str, layout: str,
                                                          n: int) -> None:
    f, tree = _closed(f_text, wrt, layout)
    text = E.to_text(tree)
    claim = f"d({E.to_text(f)})/d({wrt}) = {text}"
    verdict = matcalc.verify(claim, vars=V, assume=ASSUME, layout=layout, sizes={"n": n},
                             method="numeric", diagnose=False)
    assert verdict.status == "holds", (claim, str(verdict))
    normal = normal_form(tree, Builder({"S"}))
    assert normal is not None
    same = matcalc.verify(f"{text} = {E.to_text(normal)}", vars=V, assume=ASSUME, layout=layout,
                          sizes={"n": n}, method="numeric", diagnose=False)
    assert same.status == "holds", str(same)
