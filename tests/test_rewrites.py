"""The rewrite rules of derive's simplifier: each does what it says, and each is
an identity at every size (checked by both engines at sizes of both parities)."""

from __future__ import annotations

import pytest

import matcalc
from matcalc import expr as E
from matcalc.parsing import parse_expression, parse_shape, scope_from
from matcalc.rewrites import RULES, tokens
from matcalc.simplify import Builder, present

CASES = [(rule, before, after) for rule in RULES for before, after in rule.examples]


def _dims(variables: dict[str, str]) -> list[str]:
    return sorted({d for shape in variables.values() for d in shape.split()})


@pytest.mark.parametrize("rule, before, after", CASES,
                         ids=[f"{r.name}: {b}" for r, b, _ in CASES])
def test_the_builder_makes_the_rewrite(rule, before: str, after: str) -> None:
    variables = dict(rule.vars)
    scope = scope_from({name: parse_shape(shape) for name, shape in variables.items()})
    tree = parse_expression(before, scope)
    assert E.to_text(present(Builder().tidy(tree))) == after


@pytest.mark.parametrize("rule, before, after", CASES,
                         ids=[f"{r.name}: {b}" for r, b, _ in CASES])
@pytest.mark.parametrize("parity", [0, 1])
def test_each_rewrite_is_an_identity_at_both_parities(rule, before: str, after: str,
                                                      parity: int) -> None:
    variables = dict(rule.vars)
    # distinct sizes per dimension (a transpose cannot hide), all even or all odd
    sizes = {d: 2 + parity + 2 * i for i, d in enumerate(_dims(variables))}
    verdict = matcalc.verify(f"{before} = {after}", vars=variables, sizes=sizes,
                             diagnose=False)
    assert verdict.status == "holds", verdict
    assert verdict.symbolic.status == "proved", verdict


def test_tokens_count_names_operators_and_transposes() -> None:
    assert tokens("-(x - mu).T @ inv(S)") == ["-", "(", "x", "-", "mu", ")", ".T", "@", "inv",
                                               "(", "S", ")"]
    assert tokens("x ** 2 / 0.5") == ["x", "**", "2", "/", "0.5"]
