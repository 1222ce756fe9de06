"""The --json documents: versioned, valid against the published schema, numbers
as numbers, and the two counterexamples explained.

(Every document any test makes the command print is also validated on its way
out: see ``every_json_document_is_valid`` in conftest.py.)"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from schemacheck import errors

from matcalc.cli import main
from matcalc.rendering.jsondoc import SCHEMA_VERSION, schema
from matcalc.tables import table_text

QUADRATIC = ["verify", "d(x.T @ A @ x)/d(x) = 2 * x.T @ A", "--var", "x:n", "--var", "A:n,n",
             "--json"]


def document(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    out = capsys.readouterr().out
    value = json.loads(out)
    assert errors(value, schema()) == []
    return code, value


def test_every_kind_of_document_is_versioned(capsys: pytest.CaptureFixture,
                                             tmp_path: Path) -> None:
    seen = {}
    for argv in (["verify", "d(A @ x)/d(x) = A", "--var", "x:n", "--var", "A:m,n", "--json"],
                 QUADRATIC,
                 ["verify", "d(A @ x)/d(x) = A.T", "--var", "x:n", "--var", "A:m,n", "--json"],
                 ["verify", "d(x)/d(x) = tarce(x)", "--var", "x:n", "--json"],
                 ["verify", "d(logdet(X))/d(X) = inv(X)", "--var", "X:n,n", "--assume", "X:spd",
                  "--size", "n=5", "--timeout", "0", "--method", "symbolic", "--json"],
                 ["derive", "x.T @ A @ x", "--wrt", "x", "--var", "x:n", "--var", "A:n,n",
                  "--json"],
                 ["derive", "A @ X", "--wrt", "X", "--var", "A:m,n", "--var", "X:n,p", "--json"]):
        code, value = document(capsys, *argv)
        assert value["schema"] == SCHEMA_VERSION == 1
        seen.setdefault(value["kind"], []).append(code)
    path = tmp_path / "notes_3_2_vector_by_scalar.toml"
    path.write_text(table_text(path.name), encoding="utf-8")
    code, value = document(capsys, "check", str(path), "--jobs", "1", "--json")
    assert code == 0 and value["kind"] == "check" and value["summary"]["failures"] == 0
    assert seen == {"verdict": [0, 1, 1], "error": [2, 3], "derivation": [0, 1]}


def test_counterexample_values_are_numbers_with_exact_rationals_beside(
        capsys: pytest.CaptureFixture) -> None:
    code, value = document(capsys, *QUADRATIC)
    assert code == 1 and value["status"] == "fails"
    example = value["counterexample"]
    assert example["exact"] is True
    cells = [c for grid in (*example["point"].values(), example["lhs"], example["rhs"])
             for row in grid for c in row]
    assert cells and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in cells)
    exact = example["exact_values"]
    for got, text in ((example["lhs"], exact["lhs"]), (example["rhs"], exact["rhs"])):
        for row, text_row in zip(got, text):
            for number, rational in zip(row, text_row):
                assert Fraction(rational) == Fraction(number)
    # the claim visibly differs from the true value at the point
    assert example["lhs"] != example["rhs"]


def test_a_float_counterexample_has_no_exact_values(capsys: pytest.CaptureFixture) -> None:
    code, value = document(capsys, "verify", "d(exp(x))/d(x) = 2 * diag(exp(x))", "--var", "x:n",
                           "--method", "numeric", "--json")
    assert code == 1
    example = value["counterexample"]
    assert example["exact"] is False and example["exact_values"] is None
    assert all(isinstance(c, float) for row in example["lhs"] for c in row)


def test_the_two_counterexamples_are_explained(capsys: pytest.CaptureFixture) -> None:
    _, value = document(capsys, *QUADRATIC)
    top, own = value["counterexample"], value["symbolic"]["counterexample"]
    if top != own:  # the smallest one found, at smaller sizes than the exact stage used
        note = value["counterexample_note"]
        assert note and "the one the report shows" in note and "symbolic.counterexample" in note
        assert all(top["sizes"][d] <= own["sizes"][d] for d in top["sizes"])
    else:
        assert value["counterexample_note"] is None
    _, holds = document(capsys, "verify", "d(A @ x)/d(x) = A", "--var", "x:n", "--var", "A:m,n",
                        "--json")
    assert holds["counterexample"] is None and holds["counterexample_note"] is None


def test_the_validator_rejects_what_the_schema_forbids() -> None:
    published = schema()
    good = {"schema": 1, "kind": "error", "error": {"type": "ParseError", "message": "m",
                                                     "position": 3, "token": "x", "hint": None}}
    assert errors(good, published) == []
    for bad in ({**good, "schema": 2}, {**good, "kind": "verdict"}, {**good, "extra": 1},
                {k: v for k, v in good.items() if k != "schema"},
                {**good, "error": {**good["error"], "position": "3"}},
                {**good, "error": {**good["error"], "position": -1}},
                {**good, "error": {**good["error"], "position": True}}):
        assert errors(bad, published), bad
    with pytest.raises(ValueError, match="unsupported"):
        errors(1, {"pattern": "x"})


def test_the_schema_file_ships_in_the_package() -> None:
    import matcalc

    path = Path(matcalc.__file__).parent / "data" / "verdict.schema.json"
    assert json.loads(path.read_text(encoding="utf-8")) == schema()
    assert schema()["$defs"]["schema"]["const"] == SCHEMA_VERSION
