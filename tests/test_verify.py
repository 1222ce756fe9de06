"""verify(): the verdicts of docs/design.md §3 and the acceptance list of the core issue."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import pytest
import torch

import matcalc
from matcalc import ops
from matcalc.declarations import declare
from matcalc.engines import Engines
from matcalc.errors import DeclarationError, UndecidedError, UnknownNameError
from matcalc.parsing import parse_expression
from matcalc.verdict import combine

X_A = {"x": "n", "A": "m n"}
SQUARE = {"x": "n", "A": "n n"}


def status(identity: str, vars: dict, **kw: object) -> str:  # noqa: A002
    return matcalc.verify(identity, vars=vars, **kw).status


def test_linear_map() -> None:
    assert status("d(A @ x)/d(x) = A", X_A) == "holds"
    verdict = matcalc.verify("d(A @ x)/d(x) = A.T", vars=X_A)
    assert verdict.status == "ill-formed"
    assert "(n, m)" in verdict.summary and "(m, n)" in verdict.summary
    assert any(f.kind == "layout" and f.layout == "denominator" for f in verdict.diagnosis)
    bare = matcalc.verify("d(A @ x)/d(x) = A.T", vars=X_A, diagnose=False)
    assert any("denominator" in h for h in bare.hints)  # without diagnosis: shape hints
    assert status("d(A @ x)/d(x) = A.T", SQUARE) == "fails"


def test_notes_table_rows() -> None:
    assert status("d(x.T @ A)/d(x) = A.T", {"x": "m", "A": "m n"}) == "holds"
    assert status("d(norm(x)**2)/d(x) = 2 * x.T", {"x": "n"}) == "holds"
    assert status("d(norm(x)**2)/d(x) = 2 * x", {"x": "n"}) == "ill-formed"
    assert status("d(norm(x)**2)/d(x) = 2 * x", {"x": "n"}, layout="denominator") == "holds"
    assert status("d(sum(x))/d(x) = ones(n).T", {"x": "n"}) == "holds"
    assert status("d(s)/d(x) = zeros(1, n)", {"x": "n", "s": ""}) == "holds"


def test_quadratic_form_needs_symmetry() -> None:
    claim = "d(x.T @ A @ x)/d(x) = 2 * x.T @ A"
    assert status(claim, SQUARE) == "fails"
    assert status(claim, SQUARE, assume={"A": ["symmetric"]}) == "holds"
    assert status("d(x.T @ A @ x)/d(x) = x.T @ (A + A.T)", SQUARE) == "holds"


def test_trace_in_both_layouts() -> None:
    v = {"X": "n k", "A": "k n"}
    assert status("d(trace(A @ X))/d(X) = A", v) == "holds"
    assert status("d(trace(A @ X))/d(X) = A.T", v, layout="denominator") == "holds"
    assert status("d(trace(A @ X))/d(X) = A.T", v) == "ill-formed"


def test_determinants() -> None:
    v = {"X": "n n"}
    assert status("d(logdet(X))/d(X) = inv(X)", v, assume={"X": "spd"}) == "holds"
    assert status("d(det(X))/d(X) = det(X) * inv(X)", v, assume={"X": "invertible"}) == "holds"
    assert status("d(logdet(X))/d(X) = inv(X).T", v, assume={"X": "invertible"},
                  layout="denominator") == "holds"


def test_vec_layout_with_kron() -> None:
    v = {"A": "m n", "X": "n p", "B": "p q"}
    assert status("d(A @ X @ B)/d(X) = kron(B.T, A)", v, layout="vec") == "holds"
    # the factors swapped: same shape (m*q, n*p), wrong entries
    assert status("d(A @ X @ B)/d(X) = kron(A, B.T)", v, layout="vec") == "fails"
    assert status("d(A @ X @ B)/d(X) = kron(B, A)", v, layout="vec") == "ill-formed"


def test_hessian() -> None:
    assert status("d(d(x.T @ A @ x)/d(x))/d(x) = A + A.T", SQUARE) == "holds"
    assert status("d(d(x.T @ A @ x)/d(x))/d(x) = 2 * A", SQUARE) == "fails"


def test_softmax_jacobian() -> None:
    v = {"x": "n"}
    assert status("d(softmax(x))/d(x) = diag(softmax(x)) - softmax(x) @ softmax(x).T",
                  v) == "holds"
    verdict = matcalc.verify("d(softmax(x))/d(x) = diag(softmax(x))", vars=v)
    assert verdict.status == "fails"
    ce = verdict.counterexample
    assert ce is not None and ce.lhs != ce.rhs


def test_counterexample_is_exact_small_and_right() -> None:
    verdict = matcalc.verify("d(x.T @ A @ x)/d(x) = 2 * x.T @ A", vars=SQUARE)
    ce = verdict.counterexample
    assert ce.exact and ce.source == "symbolic"
    x = [Fraction(row[0]) for row in ce.point["x"]]
    a = [[Fraction(v) for v in row] for row in ce.point["A"]]
    assert all(abs(v) <= 3 for v in x) and all(abs(v) <= 3 for row in a for v in row)
    n = len(x)
    true = [sum(x[i] * (a[i][j] + a[j][i]) for i in range(n)) for j in range(n)]
    claim = [2 * sum(x[i] * a[i][j] for i in range(n)) for j in range(n)]
    assert [Fraction(v) for v in ce.lhs[0]] == true
    assert [Fraction(v) for v in ce.rhs[0]] == claim
    assert "counterexample (exact, n=" in str(verdict)


def test_evidence_of_both_engines_is_reported() -> None:
    verdict = matcalc.verify("d(logdet(X))/d(X) = inv(X)", vars={"X": "n n"},
                             assume={"X": "spd"})
    assert verdict.symbolic.status == "proved" and verdict.symbolic.proof
    assert verdict.symbolic.sizes == {"n": 3}
    assert verdict.numeric.status == "agrees"
    assert verdict.numeric.max_error <= verdict.numeric.tolerance
    assert [s["n"] for s in verdict.symbolic.size_sets] == [3, 2, 4]  # both parities
    assert {p.sizes["n"] for p in verdict.numeric.points} == {3, 6, 7}
    document = json.loads(json.dumps(verdict.to_dict()))
    assert document["status"] == "holds"
    assert document["symbolic"]["status"] == "proved"
    assert "holds" in verdict._repr_html_()


def test_a_size_dependent_identity_fails_without_an_engine_disagreement() -> None:
    # Cayley-Hamilton: the adjugate of a 3x3 matrix, true at n = 3 only
    claim = ("d(det(X))/d(X) = (trace(X)**2 - trace(X @ X)) / 2 * eye(n)"
             " - trace(X) * X + X @ X")
    verdict = matcalc.verify(claim, vars={"X": "n n"})
    assert verdict.status == "fails"
    # the exact stage proves it at n = 3 and refutes it at n = 2, its next size
    assert verdict.symbolic.status == "refuted" and verdict.symbolic.sizes == {"n": 2}
    assert verdict.symbolic.size_sets == ({"n": 3}, {"n": 2})
    assert verdict.disagreement is None
    # with the exact stage at n = 3 alone, the numeric stage finds the failure elsewhere
    study = Engines(declare({"X": "n n"}, None, {"n": 3}))
    scope = study.declarations.scope("numerator")
    lhs, rhs = (parse_expression(t, scope) for t in claim.split(" = "))
    alone = Engines(declare({"X": "n n"}), method="numeric").numeric(lhs, rhs)
    proved = study.symbolic(lhs, rhs)
    assert proved.status == "proved" and proved.size_sets == ({"n": 3},)
    outcome = combine(proved, alone)
    assert outcome.status == "fails" and outcome.disagreement is None
    assert "depends on the size" in outcome.summary


def test_an_engine_disagreement_is_loud(monkeypatch: pytest.MonkeyPatch) -> None:
    # plant a bug in the torch form of sin: right value, wrong derivative
    wrong = dataclasses.replace(
        ops.REGISTRY["sin"], num=lambda a: torch.sin(a.detach()) + 0.5 * (a - a.detach()))
    monkeypatch.setitem(ops.REGISTRY, "sin", wrong)
    verdict = matcalc.verify("d(sum(sin(x)))/d(x) = cos(x).T", vars={"x": "n"})
    assert verdict.disagreement and "ENGINE DISAGREEMENT" in verdict.disagreement
    assert verdict.status != "holds"
    assert str(verdict).startswith("!! ENGINE DISAGREEMENT")


def test_symbolic_time_limit_is_reported() -> None:
    verdict = matcalc.verify("d(logdet(X))/d(X) = inv(X)", vars={"X": "n n"},
                             assume={"X": "spd"}, sizes={"n": 5}, timeout=0.001)
    assert verdict.symbolic.status == "undecided"
    assert "gave up after 0.001 s" in verdict.symbolic.detail
    # the claim is the rules' derivative, so it is proved for every size; the
    # numeric stage agrees and the summary says that the exact stage gave none
    assert verdict.status == "holds" and verdict.strength == "general"
    assert verdict.exact_sizes == () and verdict.numeric_sizes == ({"n": 5},)
    assert "exactly" not in verdict.summary and "numerically at n = 5" in verdict.summary
    # a claim the rules do not reduce to (they have no rule for inv of a product):
    # numeric evidence only, and it says so
    other = matcalc.verify("d(logdet(X))/d(X) = inv(X @ X) @ X", vars={"X": "n n"},
                           assume={"X": "spd"}, sizes={"n": 5}, timeout=0.001)
    assert other.status == "holds" and other.strength == "numeric"
    assert "numerically at n = 5 only (no exact evidence" in other.summary
    assert str(other).startswith("HOLDS numerically at n = 5 (no exact evidence)")
    with pytest.raises(UndecidedError):
        matcalc.verify("d(logdet(X))/d(X) = inv(X)", vars={"X": "n n"}, assume={"X": "spd"},
                       sizes={"n": 5}, timeout=0.001, method="symbolic")


def test_large_sizes_skip_the_symbolic_stage() -> None:
    verdict = matcalc.verify("d(A @ x)/d(x) = A", vars=X_A, sizes={"n": 200})
    assert verdict.status == "holds"
    assert verdict.symbolic.status == "undecided" and "size limit" in verdict.symbolic.detail
    assert {p.sizes["n"] for p in verdict.numeric.points} == {200}


@pytest.mark.parametrize("method", ["symbolic", "numeric"])
def test_one_engine_at_a_time(method: str) -> None:
    verdict = matcalc.verify("d(x.T @ A @ x)/d(x) = 2 * x.T @ A", vars=SQUARE, method=method)
    assert verdict.status == "fails"
    assert (verdict.symbolic is None) == (method == "numeric")
    assert (verdict.numeric is None) == (method == "symbolic")


def test_the_seed_fixes_the_evidence() -> None:
    def run(seed: int) -> dict:
        d = matcalc.verify("d(softmax(x))/d(x) = diag(softmax(x))", vars={"x": "n"},
                           seed=seed).to_dict()
        for stage in ("symbolic", "numeric"):
            d[stage].pop("seconds")
        return d

    assert run(4) == run(4)
    assert run(4)["counterexample"] != run(5)["counterexample"]


def test_assumptions_shape_the_samples() -> None:
    v = {"X": "n n", "Q": "n n", "x": "n"}
    assert status("d(trace(Q.T @ X @ Q))/d(X) = eye(n)", v, assume={"Q": "orthogonal"}) == "holds"
    assert status("d(sum(log(x)))/d(x) = (1 / x).T", v, assume={"x": "positive"}) == "holds"
    assert status("d(x.T @ X @ x)/d(x) = 2 * x.T @ X", v, assume={"X": "diagonal"}) == "holds"


@pytest.mark.parametrize("kwargs, error", [
    ({"vars": {"x": "n"}, "assume": {"x": ["symmetric"]}}, DeclarationError),
    ({"vars": {"A": "n n"}, "assume": {"A": ["symetric"]}}, UnknownNameError),
    ({"vars": {"A": "n n"}, "assume": {"B": ["symmetric"]}}, UnknownNameError),
    ({"vars": {"A": "n n"}, "assume": {"A": ["orthogonal", "positive"]}}, DeclarationError),
    ({"vars": {"x": "n"}, "sizes": {"q": 3}}, UnknownNameError),
    ({"vars": {"x": "n"}, "sizes": {"n": 10**9}}, matcalc.LimitError),
    ({"vars": {"trace": "n"}}, DeclarationError),
    ({"vars": {"n": "n"}}, DeclarationError),
    ({"vars": {"x": "n"}, "layout": "numerator-ish"}, UnknownNameError),
    ({"vars": {"x": "n"}, "method": "guess"}, UnknownNameError),
])
def test_bad_declarations(kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        matcalc.verify("d(sum(x))/d(x) = ones(n).T", **kwargs)


def test_shape_errors_inside_an_expression_make_it_ill_formed() -> None:
    verdict = matcalc.verify("d(A @ A)/d(A) = A", vars=X_A)
    assert verdict.status == "ill-formed"
    assert "A @ A" in verdict.summary and verdict.position == 4  # the '@'
    assert verdict.hints == ("A.T @ A would fit",)


def test_an_identity_without_derivatives_is_checked_too() -> None:
    assert status("inv(X).T = inv(X.T)", {"X": "n n"}, assume={"X": "invertible"}) == "holds"
    assert status("inv(X) = X.T", {"X": "n n"}, assume={"X": "orthogonal"}) == "holds"


def test_resource_bounds_give_clear_messages() -> None:
    """Refused before anything of that size is built: the process's peak memory
    does not grow by even 1% of the smaller array (8e9 entries, 64 GB)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    with pytest.raises(UndecidedError, match="A would have 10,000,000,000 entries"):
        matcalc.verify("d(A @ x)/d(x) = A", vars=SQUARE, sizes={"n": 100_000})
    with pytest.raises(UndecidedError, match="eye\\(n\\) would have"):
        matcalc.verify("d(sum(eye(n)))/d(x) = zeros(1, n)", vars={"x": "n"},
                       sizes={"n": 90_000})
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 640_000


def test_the_numeric_stage_has_a_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from matcalc import limits

    monkeypatch.setattr(limits, "NUMERIC_TIME_BUDGET", 1e-4)
    verdict = matcalc.verify("d(logdet(X))/d(X) = inv(X)", vars={"X": "n n"},
                             assume={"X": "spd"})
    assert verdict.numeric.status == "undecided"
    assert "numeric stage gave up after" in verdict.numeric.detail
    assert verdict.status == "holds" and verdict.symbolic.status == "proved"


def test_a_singular_constant_is_no_crash() -> None:
    """Found by the long fuzz run: inv() of an exact zero used to escape as a torch error."""
    with pytest.raises(UndecidedError, match="no valid point"):
        matcalc.verify("d(inv(mean(zeros(n, n))) * x)/d(x) = eye(n)", vars={"x": "n"})


@pytest.mark.parametrize("f, variables, assume", [
    ("softmax(W @ x)", {"W": "m n", "x": "n"}, {}),
    ("logdet(X) * inv(X) @ x", {"X": "n n", "x": "n"}, {"X": "spd"}),
    ("relu(x) * detach(x * x)", {"x": "n"}, {}),
    ("d(x.T @ A @ x)/d(x) @ x", {"x": "n", "A": "n n"}, {}),
    ("trace(A)", {"x": "n", "A": "n n"}, {}),  # does not depend on x
])
def test_jacobians_of_all_points_at_once_match_one_at_a_time(
        f: str, variables: dict, assume: dict) -> None:
    """The numeric stage takes the reverse-mode Jacobians of all points of one
    size in one backward pass, and forward-mode ones point by point; each must
    equal the reverse-mode Jacobian taken at its point alone."""
    from matcalc import numeric as N
    from matcalc import torcheval as T
    from matcalc.parsing import parse_expression
    from matcalc.declarations import declare

    decl = declare(variables, assume=assume)
    wrt = "X" if "X" in variables else "x"
    derivative = parse_expression(f"d({f})/d({wrt})", decl.scope("numerator"))
    session = N.NumericSession(decl.shape_map, decl.tag_map, decl.numeric_size_sets(), seed=3)
    points = session.sample([derivative])
    assert len(points) >= len(decl.numeric_size_sets()) * N.POINTS_PER_SIZE
    T.prefill(points, [derivative])
    key = (derivative.of, wrt)
    for point in points:
        mode = T.jacobian_mode(derivative.of, wrt, point.env[wrt], point.sizes)
        assert (key in point.cache) == (mode == "reverse")
        together = point.cache.get(key)
        if together is None:  # forward mode
            together = N.Evaluator(point.env, point.sizes).jacobian(derivative.of, wrt)
        (alone,) = T.reverse_jacobians(derivative.of, wrt, [point.env], point.sizes)
        assert together.shape == alone.shape
        torch.testing.assert_close(together, alone, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("f", ["x", "x.T", "2 * x"])
def test_jacobians_from_the_kept_graphs_are_the_identity_and_share_no_memory(f: str) -> None:
    """The Jacobians prefill takes from the graphs the guarded evaluation kept
    (one batched pass for all points) are the exact ones (the identity, times 2),
    and no two points' Jacobians share memory (the Jacobian of the variable itself
    would otherwise be the cotangent, the same basis for every point)."""
    from matcalc import numeric as N
    from matcalc import torcheval as T

    decl = declare({"x": "n"}, sizes={"n": 5})
    derivative = parse_expression(f"d({f})/d(x)", decl.scope("numerator"))
    session = N.NumericSession(decl.shape_map, decl.tag_map, decl.numeric_size_sets())
    points = session.sample([derivative])
    assert all(p.env["x"].requires_grad for p in points)  # the graphs were kept
    T.prefill(points, [derivative])
    key = (derivative.of, "x")
    jacobians = [p.cache[key] for p in points]
    scale = 2.0 if f.startswith("2") else 1.0
    for jac in jacobians:
        torch.testing.assert_close(jac.reshape(5, 5), scale * torch.eye(5, dtype=torch.float64),
                                   rtol=0, atol=0)
    memory = {j.untyped_storage().data_ptr() for j in jacobians}
    assert len(memory) == len(jacobians) == 3


def test_small_batched_jacobians_match_jacrev_without_torch_dynamo() -> None:
    """A Jacobian of more than PLAIN_PASSES rows takes batched backward passes;
    at the sizes matcalc picks, through torch.autograd.grad's batched gradients,
    since torch.func's pullback imports torch._dynamo on first use (seconds, in
    every process). The rows must be torch.func.jacrev's."""
    import subprocess
    import sys

    from matcalc import torcheval as T

    decl = declare({"X": "n n"})
    of = parse_expression("inv(X) @ X.T", decl.scope("numerator"))
    gen = torch.Generator().manual_seed(5)
    envs = [{"X": torch.randn(5, 5, dtype=torch.float64, generator=gen) + 5 * torch.eye(5)}
            for _ in range(3)]
    got = T.reverse_jacobians(of, "X", envs, {"n": 5})
    assert got is not None
    for env, jac in zip(envs, got):
        want = torch.func.jacrev(lambda w: torch.linalg.inv(w) @ w.T)(env["X"])
        torch.testing.assert_close(jac, want, rtol=1e-12, atol=1e-12)
    script = ("import sys, matcalc\n"
              "v = matcalc.verify('d(X @ A)/d(X) = kron(A.T, eye(n))', "
              "vars={'X': 'n n', 'A': 'n n'}, layout='vec')\n"
              "assert v.status == 'holds', v\n"
              "assert 'torch._dynamo' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", script], check=True)


def test_d_is_a_variable_in_the_cookbooks_equation_82() -> None:
    # (B x + b)ᵀ C (D x + d): `d` is a vector here, and d(...)/d(x) still a derivative
    verdict = matcalc.verify(
        "d((B @ x + b).T @ C @ (D @ x + d))/d(x) = (D @ x + d).T @ C.T @ B + (B @ x + b).T @ C @ D",
        vars={"x": "n", "B": "m n", "b": "m", "C": "m k", "D": "k n", "d": "k"})
    assert verdict.status == "holds"
    wrong = matcalc.verify(
        "d((B @ x + b).T @ C @ (D @ x + d))/d(x) = (B @ x + b).T @ C @ D",
        vars={"x": "n", "B": "m n", "b": "m", "C": "m k", "D": "k n", "d": "k"}, diagnose=False)
    assert wrong.status == "fails"
