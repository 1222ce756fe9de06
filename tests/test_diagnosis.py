"""Diagnosis: name the mistake, prove the fix, show a small counterexample."""

from __future__ import annotations

import json
import tomllib
from fractions import Fraction
from pathlib import Path

import pytest

import matcalc
from matcalc.cli import main
from matcalc.parallel import parallel_map

CORPUS = tomllib.loads((Path(__file__).parent / "data" / "mistakes.toml").read_text())["mistake"]


def kinds(verdict: matcalc.Verdict) -> list[str]:
    return [f.kind for f in verdict.diagnosis]


def test_quadratic_form_without_symmetry() -> None:
    v = matcalc.verify("d(x.T @ A @ x)/d(x) = 2 * x.T @ A", vars={"x": "n", "A": "n n"})
    assert v.status == "fails"
    assert {"assumption", "symmetrize"} <= set(kinds(v))
    found = {f.kind: f for f in v.diagnosis}
    assert found["assumption"].assume == {"A": ["symmetric"]}
    assert 'add assume={"A": ["symmetric"]}' in found["assumption"].message  # Python's spelling
    assert found["symmetrize"].claim == "x.T @ (A + A.T)"


def test_the_other_layouts_answer() -> None:
    v = matcalc.verify("d(trace(X @ X))/d(X) = 2 * X.T", vars={"X": "n n"})
    assert v.status == "fails"
    layout = next(f for f in v.diagnosis if f.kind == "layout")
    assert layout.layout == "denominator" and layout.claim == "2 * X.T"
    assert "in numerator layout the derivative is 2 * X" in layout.message


def test_a_missing_factor_of_two() -> None:
    v = matcalc.verify("d(norm(x)**2)/d(x) = x.T", vars={"x": "n"})
    assert v.status == "fails"
    factor = next(f for f in v.diagnosis if f.kind == "factor")
    assert "factor of 2" in factor.message and factor.claim == "2 * x.T"


def test_a_wrong_sign() -> None:
    v = matcalc.verify("d(a.T @ inv(X) @ b)/d(X) = inv(X) @ b @ a.T @ inv(X)",
                       vars={"a": "n", "b": "n", "X": "n n"}, assume={"X": ["invertible"]})
    assert v.status == "fails"
    assert "sign" in kinds(v)


def test_an_ill_formed_claim_is_diagnosed_too() -> None:
    v = matcalc.verify("d(norm(x)**2)/d(x) = 2 * x", vars={"x": "n"})
    assert v.status == "ill-formed"
    assert {"layout", "transpose"} <= set(kinds(v))


def test_counterexamples_are_small_enough_to_check_by_hand() -> None:
    v = matcalc.verify("d(softmax(x))/d(x) = diag(softmax(x))", vars={"x": "n"})
    assert v.counterexample.sizes == {"n": 1}  # softmax of one entry is 1: derivative 0
    assert v.counterexample.rhs == (("1",),) and v.counterexample.lhs == (("0",),)
    v = matcalc.verify("d(x.T @ A @ x)/d(x) = 2 * A @ x", vars={"x": "n", "A": "n n"},
                       layout="denominator")
    ce = v.counterexample
    assert ce.exact and ce.sizes == {"n": 2}
    assert all(abs(Fraction(e)) <= 3 for grid in ce.point.values() for row in grid for e in row)


def test_a_claim_that_holds_has_no_diagnosis() -> None:
    v = matcalc.verify("d(A @ x)/d(x) = A", vars={"x": "n", "A": "m n"})
    assert v.holds and v.diagnosis == ()


def test_cli_shows_the_diagnosis_first(capsys: pytest.CaptureFixture) -> None:
    code = main(["verify", "d(x.T @ A @ x)/d(x) = 2 * x.T @ A", "--var", "x:n",
                 "--var", "A:n,n"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0].startswith("FAILS")
    assert any("add --assume A:symmetric" in line for line in out[1:4])
    main(["verify", "d(x.T @ A @ x)/d(x) = 2 * x.T @ A", "--var", "x:n", "--var", "A:n,n",
          "--json"])
    document = json.loads(capsys.readouterr().out)
    assert {"assumption", "symmetrize"} <= {f["kind"] for f in document["diagnosis"]}


def check_mistake(mistake: dict) -> dict:
    """Diagnose one planted mistake and re-verify every finding independently."""
    layout = mistake.get("layout", "numerator")
    verdict = matcalc.verify(mistake["identity"], vars=mistake["vars"],
                             assume=mistake.get("assume"), layout=layout)
    lhs = mistake["identity"].split("=")[0].strip()
    rechecked = []
    for finding in verdict.diagnosis:
        assume = {k: list(v) for k, v in (mistake.get("assume") or {}).items()}
        for name, tags in finding.assume.items():
            assume.setdefault(name, []).extend(tags)
        check = matcalc.verify(f"{lhs} = {finding.claim}", vars=mistake["vars"], assume=assume,
                               layout=finding.layout, diagnose=False)
        rechecked.append((finding.kind, finding.claim, check.status))
    return {"status": verdict.status, "kinds": kinds(verdict), "rechecked": rechecked}


@pytest.fixture(scope="module")
def corpus_results() -> list[dict]:
    return parallel_map(check_mistake, CORPUS)


def test_the_corpus_is_large_and_varied() -> None:
    assert len(CORPUS) >= 40
    assert len({m["kind"] for m in CORPUS}) >= 10


def test_every_finding_verifies(corpus_results: list[dict]) -> None:
    for mistake, result in zip(CORPUS, corpus_results):
        assert result["status"] != "holds", mistake["identity"]
        for kind, claim, status in result["rechecked"]:
            assert status == "holds", (mistake["identity"], kind, claim)


def test_most_planted_mistakes_are_named(corpus_results: list[dict]) -> None:
    named = sum(m["kind"] in r["kinds"] for m, r in zip(CORPUS, corpus_results))
    share = named / len(CORPUS)
    print(f"\n{named} of {len(CORPUS)} planted mistakes named with the right kind ({share:.0%})")
    assert share >= 0.8


@pytest.mark.parametrize("identity, vars_", [
    ("d(x.T @ x)/d(x) = 0 * x.T", {"x": "n"}),
    ("d(exp(s - 40))/d(s) = 0", {"s": ""}),
])
def test_a_claim_that_simplifies_to_zero_is_diagnosed_not_crashed(identity, vars_) -> None:
    # found by the adversarial run: the builder returns "no tree" for an exact zero;
    # the truth (2 x.T, exp(s - 40)) is non-zero, so the claim fails
    assert matcalc.verify(identity, vars=vars_).status == "fails"
