"""The operation registry: complete, one row per operation, engines in step."""

from __future__ import annotations

import random

import pytest
import torch

from matcalc import ops
from matcalc.numeric import Evaluator
from matcalc.parsing import parse_expression, parse_shape, scope_from
from matcalc.symbolic import SymbolicSession

LANGUAGE_FUNCTIONS = (
    "trace det inv logdet norm sum mean dot exp log sin cos tanh sqrt abs sign sigmoid relu "
    "softmax diag eye ones zeros vec kron outer detach norm1"
).split()
LANGUAGE_OPERATORS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "@": "matmul"}


def test_every_language_operation_is_registered() -> None:
    assert set(LANGUAGE_FUNCTIONS) <= ops.FUNCTIONS
    assert ops.INFIX == LANGUAGE_OPERATORS
    assert {"neg", "transpose"} <= set(ops.REGISTRY)




def test_an_operation_cannot_be_registered_twice() -> None:
    with pytest.raises(RuntimeError, match="registered twice"):
        ops.register(ops.REGISTRY["exp"])


VARS = {"x": "n", "y": "n", "p": "n", "A": "m n", "S": "n n", "s": ""}
TAGS = {"p": frozenset({"positive"}), "S": frozenset({"spd", "symmetric", "invertible"})}
SIZES = {"n": 3, "m": 2}

# one expression per registered operation, exercising it
CASES = {
    "add": "x + y + s", "sub": "x - y - s", "mul": "x * y * s", "div": "x / p / s",
    "matmul": "A @ x", "pow": "p ** 3 + p ** 0.5 + x ** -2", "neg": "-x", "transpose": "A.T",
    "trace": "trace(S)", "det": "det(S)", "inv": "inv(S)", "logdet": "logdet(S)",
    "norm": "norm(A) + norm(x)", "norm1": "norm1(A)", "sum": "sum(A)", "mean": "mean(A)",
    "dot": "dot(x, y.T)", "exp": "exp(x)", "log": "log(p)", "sin": "sin(x)", "cos": "cos(x)",
    "tanh": "tanh(x)", "sqrt": "sqrt(p)", "abs": "abs(x)", "sign": "sign(x)",
    "sigmoid": "sigmoid(x)", "relu": "relu(x)", "softmax": "softmax(x) + softmax(y.T).T",
    "softmax_rows": "softmax_rows(A)", "logsumexp": "logsumexp(x) + logsumexp(A)",
    "diag": "diag(x) @ diag(S)", "eye": "kron(eye(2), eye(n)) @ vec(x @ ones(2).T)", "ones": "ones(m, n) @ ones(n)",
    "zeros": "zeros(m, n) @ zeros(n)", "vec": "vec(A)", "kron": "kron(A, S)",
    "outer": "outer(x, y.T)", "detach": "detach(x)",
}


def test_every_operation_has_an_agreement_case() -> None:
    assert set(CASES) == set(ops.REGISTRY)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_operation_has_every_form(name: str) -> None:
    """Each form of the operation's row works on a small input: its shape rule gives
    the shape of the node that uses it, its SymPy and torch forms give values of that
    shape at concrete sizes, and its domain guard accepts a point inside the domain."""
    from matcalc import expr as E
    from matcalc.shapes import concrete

    op = ops.REGISTRY[name]
    assert op.name == name and op.doc
    assert op.syntax in ("call", "infix", "prefix", "postfix")
    shapes = {k: parse_shape(v) for k, v in VARS.items()}
    tree = parse_expression(CASES[name], scope_from(shapes))
    node = next(n for n in E.walk(tree) if getattr(n, "op", None) == name)
    texts = tuple(E.to_text(a) for a in node.args)
    assert op.shape(tuple(a.shape for a in node.args), texts, node.dims, None) == node.shape
    session = SymbolicSession(shapes, TAGS, set(), SIZES)
    point = session.point(random.Random(7), "domain")
    env = {
        v: torch.tensor([[float(e.xreplace(point)) for e in row] for row in value.entries],
                        dtype=torch.float64)
        for v, value in session.variables.items()
    }
    evaluator = Evaluator(env, SIZES)
    dims = [d.size(SIZES) for d in node.dims]
    size = concrete(node.shape, SIZES)
    exact = op.sym(*[session.value(a) for a in node.args], *dims)
    numeric = op.num(*[evaluator.value(a) for a in node.args], *dims)
    assert exact.shape == size and tuple(numeric.shape) == size
    if op.guard is not None:
        assert op.guard(*[evaluator.value(a) for a in node.args]) is None


@pytest.mark.parametrize("op", sorted(CASES))
def test_sympy_and_torch_forms_agree(op: str) -> None:
    shapes = {k: parse_shape(v) for k, v in VARS.items()}
    node = parse_expression(CASES[op], scope_from(shapes))
    assert any(getattr(n, "op", None) == op for n in _walk(node))
    session = SymbolicSession(shapes, TAGS, set(), SIZES)
    point = session.point(random.Random(7), "domain")
    exact = session.value(node)
    env = {
        name: torch.tensor([[float(e.xreplace(point)) for e in row] for row in v.entries],
                           dtype=torch.float64)
        for name, v in session.variables.items()
    }
    numeric = Evaluator(env, SIZES).value(node)
    expected = torch.tensor([[float(session.finalize(e).xreplace(point)) for e in row]
                             for row in exact],
                            dtype=torch.float64)
    assert numeric.shape == expected.shape
    assert torch.allclose(numeric, expected, rtol=1e-10, atol=1e-12), (op, numeric, expected)


def _walk(node):  # noqa: ANN001, ANN202
    from matcalc.expr import walk

    return walk(node)
