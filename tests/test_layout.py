"""Layouts (docs/design.md §1): shapes, and entries against torch's own Jacobian.

The entry checks index torch's Jacobian ``J[p, q, i, j] = dY[p, q]/dX[i, j]``
by the layout rules of docs/design.md §1, written out here, independently of matcalc.layout.
"""

from __future__ import annotations

import itertools

import pytest
import torch

from matcalc.layout import LAYOUTS, layout_plan
from matcalc.numeric import Evaluator
from matcalc.parsing import parse_expression, parse_shape, scope_from
from matcalc.shapes import fmt, numel

# output decl, input decl, numerator shape, denominator shape (docs/design.md §1)
LAYOUT_TABLE = [
    ("", "", "(1, 1)", "(1, 1)"),
    ("", "n", "(1, n)", "(n, 1)"),
    ("", "n k", "(k, n)", "(n, k)"),
    ("m", "", "(m, 1)", "(1, m)"),
    ("m", "n", "(m, n)", "(n, m)"),
    ("m", "n k", "(m, k, n)", "(n, k, m)"),
    ("m l", "", "(m, l)", "(l, m)"),
    ("m l", "n", "(m, l, n)", "(n, l, m)"),
    ("m l", "n k", "(m, l, k, n)", "(n, k, l, m)"),
]


@pytest.mark.parametrize("out, wrt, numerator, denominator", LAYOUT_TABLE)
def test_layout_shapes_follow_the_spec_table(out: str, wrt: str, numerator: str,
                                             denominator: str) -> None:
    o, w = parse_shape(out), parse_shape(wrt)
    assert fmt(layout_plan(o, w, "numerator").shape) == numerator
    assert fmt(layout_plan(o, w, "denominator").shape) == denominator
    mixed = denominator if out == "" else numerator
    assert fmt(layout_plan(o, w, "mixed").shape) == mixed
    assert layout_plan(o, w, "vec").shape == (numel(o), numel(w))


def test_a_row_vector_output_is_differentiated_as_a_vector() -> None:
    row = parse_shape("1 m")
    assert fmt(layout_plan(row, parse_shape("n"), "numerator").shape) == "(m, n)"


SIZES = {"m": 4, "l": 5, "n": 3, "k": 2}
VARS = {"s": "", "x": "n", "X": "n k", "c": "k", "v": "m", "A": "m n", "B": "m l",
        "C": "m l", "P": "m n", "Q": "k l"}

# (expression, wrt, the same function in raw torch)
FUNCTIONS = [
    ("s ** 3", "s", lambda e: e["s"] ** 3),
    ("sum(exp(A @ x))", "x", lambda e: torch.exp(e["A"] @ e["x"]).sum()),
    ("sum(sin(X @ c))", "X", lambda e: torch.sin(e["X"] @ e["c"]).sum()),
    ("exp(s * v)", "s", lambda e: torch.exp(e["s"] * e["v"])),
    ("tanh(A @ x)", "x", lambda e: torch.tanh(e["A"] @ e["x"])),
    ("P @ X @ c", "X", lambda e: e["P"] @ e["X"] @ e["c"]),
    ("s * B + s ** 2 * C", "s", lambda e: e["s"] * e["B"] + e["s"] ** 2 * e["C"]),
    ("outer(A @ x, x) @ P.T @ B", "x",
     lambda e: (e["A"] @ e["x"]) @ e["x"].T @ e["P"].T @ e["B"]),
    ("P @ X @ Q", "X", lambda e: e["P"] @ e["X"] @ e["Q"]),
]


def _point() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    env = {}
    for name, spec in VARS.items():
        shape = tuple(d.size(SIZES) for d in parse_shape(spec))
        env[name] = torch.randn(*shape, generator=gen, dtype=torch.float64)
    return env


def _matcalc(expr: str, wrt: str, layout: str, env: dict) -> torch.Tensor:
    scope = scope_from({k: parse_shape(v) for k, v in VARS.items()}, layout)
    node = parse_expression(f"d({expr})/d({wrt})", scope)
    return Evaluator(env, SIZES).value(node)


def _axes(t: torch.Tensor) -> list[range]:
    return [range(d) for d in t.shape]


@pytest.mark.parametrize("expr, wrt, raw", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_layout_entries_against_torch_jacobian(expr: str, wrt: str, raw: object) -> None:
    env = _point()

    def f(value: torch.Tensor) -> torch.Tensor:
        result = raw({**env, wrt: value})
        return result.reshape(1, 1) if result.dim() == 0 else result

    jac = torch.autograd.functional.jacobian(f, env[wrt])
    out_rows, out_cols = jac.shape[:2]
    in_rows, in_cols = jac.shape[2:]
    num = _matcalc(expr, wrt, "numerator", env)
    den = _matcalc(expr, wrt, "denominator", env)
    vec = _matcalc(expr, wrt, "vec", env)
    out_vector = out_cols == 1 and not (out_rows == 1)
    for p, q, i, j in itertools.product(range(out_rows), range(out_cols), range(in_rows),
                                        range(in_cols)):
        true = jac[p, q, i, j]
        # numerator: output indices first, then the input's indices reversed
        out_index = [] if out_rows == out_cols == 1 else ([p] if out_vector else [p, q])
        in_index = ([] if in_rows == in_cols == 1 else [i] if in_cols == 1 else [j, i])
        index = out_index + in_index
        if len(index) == 0:
            n_entry = num[0, 0]
        elif len(index) == 1:
            n_entry = num.reshape(-1)[index[0]]
        else:
            n_entry = num[tuple(index)]
        assert torch.isclose(n_entry, true, rtol=1e-12, atol=1e-12)
        # denominator: every axis of the numerator result reversed
        d_entry = den.reshape(-1)[index[0]] if len(index) == 1 else (
            den[0, 0] if not index else den[tuple(reversed(index))])
        assert torch.isclose(d_entry, true, rtol=1e-12, atol=1e-12)
        # vec: column-major vec of both sides
        a, b = p + out_rows * q, i + in_rows * j
        assert torch.isclose(vec[a, b], true, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_symbolic_and_numeric_layouts_have_the_plans_shape(layout: str) -> None:
    import numpy as np

    from matcalc.symbolic import SymbolicSession

    scope = scope_from({k: parse_shape(v) for k, v in VARS.items()}, layout)
    shapes = {k: parse_shape(v) for k, v in VARS.items()}
    node = parse_expression("d(P @ X @ Q)/d(X)", scope)
    expected = tuple(d.size(SIZES) for d in node.shape)
    session = SymbolicSession(shapes, {}, {"X"}, SIZES)
    assert np.shape(session.value(node)) == expected
    assert tuple(Evaluator(_point(), SIZES).value(node).shape) == expected
