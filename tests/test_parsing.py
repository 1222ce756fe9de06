"""The expression language (docs/design.md §2) and bad input (§4)."""

from __future__ import annotations

import builtins
import time
from fractions import Fraction

import pytest

from matcalc import expr as E
from matcalc.errors import (
    DeclarationError,
    LimitError,
    MatcalcError,
    ParseError,
    ShapeError,
    UnknownNameError,
)
from matcalc.parsing import (
    build,
    parse_expression,
    parse_identity,
    parse_shape,
    scope_from,
)
from matcalc.shapes import SCALAR, Dim

SCOPE = scope_from({
    "x": parse_shape("n"),
    "y": parse_shape("n"),
    "A": parse_shape("m n"),
    "X": parse_shape("n n"),
    "s": parse_shape(""),
})


def parse(text: str) -> E.Expr:
    return parse_expression(text, SCOPE)


@pytest.mark.parametrize("text", [
    "x.T @ A.T @ A @ x",
    "-x ** 2",
    "(-x) ** 2",
    "2 ** s",
    "x ** -1",
    "s * x + y / 2",
    "trace(X @ X.T) - det(inv(X)) + logdet(X)",
    "norm(x) + norm1(x) + sum(A) + mean(A) + dot(x, y)",
    "exp(x) + log(x) + sin(x) + cos(x) + tanh(x) + sqrt(x) + abs(x) + sign(x)",
    "sigmoid(x) + relu(x) + softmax(x) + detach(x)",
    "diag(x) + eye(n) + outer(x, y) + X",
    "ones(n) + zeros(n) + diag(X)",
    "kron(A, X) @ vec(X)",
    "vec(X.T)",
    "d(x.T @ X @ x)/d(x) @ x",
    "d(d(x.T @ X @ x)/d(x))/d(x)",
    "[[1, 2], [3, 4]] @ [1, -1/2]",
    "x.T @ x / n",
    "A.T.T",
])
def test_printing_round_trips(text: str) -> None:
    node = parse(text)
    assert parse(E.to_text(node)) == node


def test_precedence_follows_python() -> None:
    assert parse("-x ** 2") == E.apply("neg", E.apply("pow", parse("x"), E.const(2)))
    product = parse("s * x @ s")
    assert isinstance(product, E.Apply) and product.op == "matmul"  # left-assoc: (s*x) @ s
    assert parse("x ** 2 ** 3") == E.apply("pow", parse("x"), E.const(8))  # folded, right-assoc


def test_constants_fold_exactly() -> None:
    assert parse("1/3 + 1/6") == E.Const(Fraction(1, 2))
    assert parse("2 ** -2") == E.Const(Fraction(1, 4))
    assert parse("0.1") == E.Const(Fraction(1, 10))
    assert parse("1e-3") == E.Const(Fraction(1, 1000))


def test_literal_arrays() -> None:
    assert parse("[1, 2, 3]").shape == (Dim.of(3), Dim.of(1))
    assert parse("[[1, 2, 3]]").shape == (Dim.of(1), Dim.of(3))
    assert parse("[[1, 2], [3, 4]]").shape == (Dim.of(2), Dim.of(2))


def test_dimension_names_stand_for_sizes() -> None:
    node = parse("sum(x) / n")
    assert node.shape == SCALAR
    assert isinstance(node.args[1], E.Size)


def test_identity_accepts_single_and_double_equals() -> None:
    for text in ("d(x)/d(x) = eye(n)", "d(x)/d(x) == eye(n)"):
        lhs, rhs = parse_identity(text, SCOPE)
        assert build(lhs, SCOPE).shape == build(rhs, SCOPE).shape


@pytest.mark.parametrize("spec, shape", [
    ("", SCALAR), ("scalar", SCALAR), ("n", (Dim.of("n"), Dim.of(1))),
    ("m n", (Dim.of("m"), Dim.of("n"))), ("m,n", (Dim.of("m"), Dim.of("n"))),
    ("(m, n)", (Dim.of("m"), Dim.of("n"))), (3, (Dim.of(3), Dim.of(1))),
    (("m", 2), (Dim.of("m"), Dim.of(2))), ("1 n", (Dim.of(1), Dim.of("n"))),
])
def test_declared_shapes(spec: object, shape: tuple) -> None:
    assert parse_shape(spec) == shape


@pytest.mark.parametrize("spec, error", [
    ("m n k", DeclarationError), ("0", LimitError), ("n-1", DeclarationError),
    (2.5, DeclarationError), ("1000000000", LimitError),
])
def test_bad_shapes(spec: object, error: type) -> None:
    with pytest.raises(error):
        parse_shape(spec)


# Bad input: (text, error class, position, token)
BAD = [
    ("__import__('os').system('touch /tmp/pwned') = x", UnknownNameError, 0, "__import__"),
    ("x.__class__ = x", ParseError, 1, ".__class__"),
    ("lambda: x = x", UnknownNameError, 0, "lambda"),
    ("[i for i in x] = x", UnknownNameError, 1, "i"),
    ("tarce(X) = 1", UnknownNameError, 0, "tarce"),
    ("d(z)/d(x) = x", UnknownNameError, 2, "z"),
    ("d(x)/d(x)", ParseError, 9, None),
    ("d(x)/d(x) = ", ParseError, 12, None),
    ("(x + y = x", ParseError, 0, "("),  # the parenthesis at fault, not the "=" it ran into
    ("x + y) = x", ParseError, 5, ")"),
    ("sum((x) = s", ParseError, None, None),
    ("x ** 10**100 = x", LimitError, 9, "100"),
    ("eye(1000000000) = X", LimitError, 4, "1000000000"),
    ("x = x = x", ParseError, 6, "="),
    ("x ^ 2 = x", ParseError, 2, "^"),
    ("x' = x", ParseError, 1, "'"),
    ("d(x)/d(x + y) = x", ParseError, 7, "x"),
    ("X(x) = x", ParseError, 0, "X"),
    ("trace = s", ParseError, 0, "trace"),
    ("eye(q) = X", UnknownNameError, 4, "q"),
    ("trace(X, X) = s", ParseError, 0, "trace"),
    ("1e99999 = s", LimitError, 0, "1e99999"),
    ("x / 0 = x", ParseError, 2, "/"),
    ("s = 1" + "0" * 60, LimitError, 4, None),
]


def test_small_and_precise_constants_are_ordinary_inputs() -> None:
    """1e-16, 1e-30 and 2.0000001e-10 read exactly; a constant beyond the bound on
    its exact value's digits (limits.MAX_CONSTANT) is refused with a message that
    says which bound it breaks (adversary G2: 1e-16 was called "too large")."""
    for text, value in (("1e-16", Fraction(1, 10**16)), ("1e-30", Fraction(1, 10**30)),
                        ("2.0000001e-10", Fraction(20000001, 10**17)),
                        ("1/300000000000000000000", Fraction(1, 3 * 10**20))):
        lhs, _ = parse_identity(f"{text} * s = s", SCOPE)
        assert lhs.args[0].value == value, text
    for text, words in (("(1e30 * 1e30 * 10)", "too large"),
                        ("(1e30 + 1e-30)", "too many significant digits"),
                        ("1e-30 ** 3", "too small or too precise")):
        with pytest.raises(LimitError) as info:
            parse_identity(f"s * {text} = s", SCOPE)
        assert words in str(info.value), str(info.value)
        assert info.value.token and info.value.position is not None


@pytest.mark.parametrize("text, shown", [
    ("2.000000002", "2.000000002"), ("1e-9", "1e-9"), ("-2.5e-7", "-2.5e-7"),
    ("0.0078125", "1/128"), ("123456.789", "123456.789"), ("-0.000123", "-0.000123"),
    ("2.0000001e-10", "2.0000001e-10"), ("3.14159", "3.14159"), ("0.5", "0.5"),
])
def test_constants_print_as_short_as_they_read(text: str, shown: str) -> None:
    """The shortest of a plain decimal, scientific notation and p/q that reads back
    to the same value (2.000000002 printed as 2.000000002e0 before; expected texts
    by hand)."""
    from matcalc import expr as E

    lhs, _ = parse_identity(f"{text} * s = s", SCOPE)
    assert E.to_text(E.const(lhs.args[0].value)) == shown
    assert parse_identity(f"{shown} * s = s", SCOPE)[0].args[0].value == lhs.args[0].value


@pytest.mark.parametrize("text, error, position, token", BAD, ids=[b[0][:30] for b in BAD])
def test_bad_input_names_token_and_position(text: str, error: type, position: int | None,
                                            token: str | None) -> None:
    with pytest.raises(error) as info:
        lhs, rhs = parse_identity(text, SCOPE)
        build(lhs, SCOPE), build(rhs, SCOPE)
    if position is not None:
        assert info.value.position == position
        assert f"at position {position}" in str(info.value)
    if token is not None:
        assert info.value.token == token


def test_unknown_function_suggests_the_close_name() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'trace'"):
        parse("tarce(X)")


@pytest.mark.parametrize("text", [
    "(" * 10_000 + "x" + ")" * 10_000,
    "-" * 10_000 + "x",
    " + ".join(["x"] * 400),
    "x" * 1_000_000,
    "x ** 2 ** 2 ** 2 ** 2 ** 2 ** 2",
])
def test_absurd_input_is_refused_quickly(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises(LimitError):
        parse_identity(text + " = x", SCOPE)
    assert time.perf_counter() - start < 2.0


def test_shape_errors_name_both_operands() -> None:
    with pytest.raises(ShapeError) as info:
        parse("A @ A")
    message = str(info.value)
    assert "A is (m, n)" in message and "inner dimensions n and m differ" in message
    with pytest.raises(ShapeError, match="'\\*' is elementwise; for the matrix product"):
        parse("A * x")
    with pytest.raises(ShapeError, match="not square"):
        parse("trace(A)")
    with pytest.raises(ShapeError, match="matrix powers are written with '@'"):
        parse("x ** x")


#: exceptions the package defines that are not MatcalcErrors: each is raised and
#: caught inside matcalc (the test checks that some ``except`` names it), never shown
INTERNAL_EXCEPTIONS = {
    "matcalc.budget.Timeout": "a stage's time budget ran out; the verdict says it gave up",
    "matcalc.calculus.NoClosedForm": "no rule applies; derive falls back to componentwise",
    "matcalc.symbolic.SymbolicUnsupported": "beyond the exact engine; its evidence is undecided",
    "matcalc.torcheval.NumericUnsupported": "beyond the numeric engine; its evidence is undecided",
    "matcalc.torcheval.Reject": "a sampled point outside a domain guard; another is drawn",
    "matcalc.zerotest._Atom": "a non-rational atom met by exact evaluation",
    "matcalc.rewrites._TooMany": "an expansion past its term limit; the expression is kept",
    "matcalc.fields.NotRational": "exact evaluation met exp, log, ...; intervals take over",
    "matcalc.fields.OutOfDomain": "a point outside an operation's domain; another is drawn",
    "matcalc.fields.Unevaluated": "a value the exact evaluator does not compute at this size; "
                                  "the exact stage is undecided there",
    "matcalc.jets.NoExactForm": "an operation without an exact form; SymPy decides instead",
}


def test_every_error_is_a_matcalc_error() -> None:
    """Every exception class the package defines is a MatcalcError (exported from
    ``matcalc``), or an internal one that the package itself catches."""
    import ast
    import importlib
    import inspect
    from pathlib import Path

    import matcalc

    package = Path(matcalc.__file__).parent
    sources = {p: p.read_text(encoding="utf-8") for p in package.rglob("*.py")}
    caught = set()
    for text in sources.values():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                caught.update(n.attr if isinstance(n, ast.Attribute) else n.id
                              for n in ast.walk(node.type)
                              if isinstance(n, (ast.Name, ast.Attribute)))
    found = {}
    for path in sources:
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if parts[-1] == "__main__":  # running it is the command line
            continue
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == name:
                found[f"{name}.{cls_name}"] = cls
    assert "matcalc.errors.ShapeError" in found  # the discovery works
    public = {k for k, cls in found.items() if issubclass(cls, MatcalcError)}
    assert {found[k].__name__ for k in public} <= set(matcalc.__all__)
    assert sorted(set(found) - public) == sorted(INTERNAL_EXCEPTIONS)
    assert [k for k in INTERNAL_EXCEPTIONS if k.rsplit(".", 1)[1] not in caught] == []
    for _, error, _, _ in BAD:
        assert issubclass(error, MatcalcError)


def test_parsing_executes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    monkeypatch.setattr(builtins, "eval", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(builtins, "exec", lambda *a, **k: calls.append(a))
    for text, _, _, _ in BAD:
        with pytest.raises(MatcalcError):
            lhs, rhs = parse_identity(text, SCOPE)
            build(lhs, SCOPE), build(rhs, SCOPE)
    parse_identity("d(x.T @ X @ x)/d(x) = x.T @ (X + X.T)", SCOPE)
    assert calls == []


# ---------------------------------------------------------------------------
# `d` is a derivative only when followed by `(`; anywhere else it is a name


D_SCOPE = scope_from({
    "x": parse_shape("n"),
    "D": parse_shape("k n"),
    "d": parse_shape("k"),
    "y": parse_shape("m"),
})


def test_d_is_a_variable_when_not_called() -> None:
    tree = parse_expression("D @ x + d", D_SCOPE)
    assert tree.shape == parse_shape("k")
    assert any(isinstance(n, E.Var) and n.name == "d" for n in E.walk(tree))


def test_d_can_be_differentiated_by_and_appears_in_a_derivative() -> None:
    lhs, _ = parse_identity("d(d.T @ (D @ x + d))/d(d) = 2 * d.T + x.T @ D.T", D_SCOPE)
    built = build(lhs, D_SCOPE)
    assert isinstance(built, E.Derivative) and built.wrt.name == "d"


def test_d_as_a_dimension_name() -> None:
    scope = scope_from({"z": parse_shape("d")})
    assert parse_expression("z.T @ ones(d)", scope).shape == SCALAR
    assert parse_expression("d * z", scope).shape == parse_shape("d")


def test_undeclared_d_names_the_derivative_syntax() -> None:
    with pytest.raises(UnknownNameError) as caught:
        parse("x + d")
    assert caught.value.token == "d" and caught.value.position == 4
    assert "d(f)/d(x)" in str(caught.value)
