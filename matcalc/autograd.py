"""Autograd computations, run by PyTorch and compared with claimed formulas.

An :class:`~matcalc.records.AutogradExample` is run at random float64 points,
at two sizes of opposite parity per dimension name: its leaves are drawn like
the numeric stage's variables (honouring the assumptions), ``.backward()`` is
called as the record says (or a built-in :data:`PROGRAMS` entry runs), and the
result — a leaf's ``.grad`` or an expression of the program's outputs — is
compared, entry by entry, with the claim evaluated at the same point by
:class:`matcalc.numeric.Evaluator`, as the numeric stage compares (error relative
to the larger of 1 and the values' magnitude, its tolerance). Nothing in a table is executed: the
expressions are parsed by :mod:`matcalc.parsing`, and the programs are
functions written here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import MatcalcError, ShapeError, TableError
from .evidence import sizes_text
from .parsing import parse_expression
from .declarations import declare
from .shapes import SCALAR, fmt

if TYPE_CHECKING:  # records imports this module for its programs
    from .records import AutogradExample

#: random points per size
POINTS = 5


@dataclass(frozen=True)
class Program:
    """A computation the expression language cannot write (Python control flow).

    ``outputs(shapes)`` names the program's results and their shape declarations,
    given the record's declared variables; ``run(leaves, f)`` computes them (and
    may call ``.backward()``, setting the leaves' ``.grad``); ``f`` is the
    record's parsed ``f`` and ``value(node, env)`` evaluates a tree."""

    description: str
    description_zh: str
    outputs: Callable[[Mapping[str, Any]], dict[str, str]]
    run: Callable[..., dict[str, Any]]


def _control_flow(leaves: dict[str, Any], f: Any, value: Callable) -> dict[str, Any]:
    """D2L §2.5.4's ``f(a)``: a while loop and an if, both depending on ``a``."""
    (a,) = leaves.values()
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    c = b if b.sum() > 0 else 100 * b
    d = c
    d.sum().backward()
    return {"d": d.detach()}


def _gradient_rate(leaves: dict[str, Any], f: Any, value: Callable) -> dict[str, Any]:
    """``g = x.grad`` of ``y = f(x)``, then autograd's slope of ``t ↦ f(x + t·g/‖g‖)``
    at ``t = 0``: the rate at which ``y`` changes along the gradient's direction."""
    import torch

    (name, x), = leaves.items()
    y = value(f, leaves)
    y.sum().backward()
    g = x.grad.detach().clone()
    t = torch.zeros((1, 1), dtype=torch.float64, requires_grad=True)
    moved = value(f, {name: x.detach() + t * g / g.norm()})
    (rate,) = torch.autograd.grad(moved.sum(), t)
    return {"g": g, "rate": rate}


def _ellipse_contour(leaves: dict[str, Any], f: Any, value: Callable) -> dict[str, Any]:
    """The notes' ``y = x₁² + 2x₂²`` on its contour ``x(t) = (r cos t, r sin t / √2)``
    (``y = r²`` all along it): the gradient ``g`` at ``x(t)``, by autograd, and the
    contour's tangent ``dx/dt``, by autograd."""
    import torch

    t, r = leaves["t"], leaves["r"]
    point = torch.cat([r * torch.cos(t), r * torch.sin(t) / math.sqrt(2)])  # (2, 1)
    tangent = torch.cat([torch.autograd.grad(point[i].sum(), t, retain_graph=True)[0]
                         for i in range(2)])
    x = point.detach().requires_grad_(True)
    y = (x[0] ** 2 + 2 * x[1] ** 2).reshape(1, 1)
    y.backward()
    return {"g": x.grad.detach(), "tangent": tangent.detach(),
            "level": (y.detach() - r.detach() ** 2)}


PROGRAMS: dict[str, Program] = {
    "d2l-control-flow": Program(
        "d = f(a), where f doubles b = 2a while ‖b‖ < 1000, then returns b if sum(b) > 0 "
        "and 100·b otherwise; d.backward()",
        "d = f(a)：b = 2a，当 ‖b‖ < 1000 时不断加倍，若 sum(b) > 0 返回 b，否则返回 100·b；"
        "然后 d.backward()",
        lambda shapes: {"d": "scalar"}, _control_flow),
    "gradient-rate": Program(
        "g = x.grad of y = f(x); rate = the slope of y(x + t·g/‖g‖) at t = 0, by autograd",
        "g 为 y = f(x) 的 x.grad；rate 为 y(x + t·g/‖g‖) 在 t = 0 处的斜率（自动微分求得）",
        lambda shapes: {"g": _spec(shapes["x"]), "rate": "scalar"}, _gradient_rate),
    "ellipse-contour": Program(
        "on the contour x(t) = (r cos t, r sin t/√2) of y = x₁² + 2x₂²: g = the gradient "
        "(x.grad) at x(t), tangent = dx/dt (both by autograd)",
        "在 y = x₁² + 2x₂² 的等高线 x(t) = (r cos t, r sin t/√2) 上：g 为 x(t) 处的梯度 "
        "(x.grad)，tangent = dx/dt（均由自动微分求得）",
        lambda shapes: {"g": "2", "tangent": "2", "level": "scalar"}, _ellipse_contour),
}


def _spec(shape: Any) -> str:
    from .declarations import shape_spec

    return shape_spec(shape)


@dataclass(frozen=True)
class ExampleOutcome:
    status: str  # holds | fails | ill-formed
    detail: str
    points: int = 0
    max_error: float = 0.0


def run_example(example: AutogradExample, seed: int = 0) -> ExampleOutcome:
    """Run ``example`` at random points and compare its result with its claim."""
    import torch

    from .assumptions import sample_tensor
    from .numeric import TOLERANCE, Evaluator
    from .shapes import concrete

    base = dict(example.vars)
    assume = {k: list(v) for k, v in example.assume}
    decl = _declare(example, base, assume)
    program = PROGRAMS[example.program] if example.program else None
    outputs = program.outputs(decl.shape_map) if program else {}
    full = _declare(example, {**base, **outputs}, assume)
    scope = full.scope("numerator")
    f = _parse(example, "f", example.f, scope) if example.f else None
    steps = [_parse(example, "backward", text, scope) for text in example.backward]
    for text, node in zip(example.backward, steps):
        if node.shape != SCALAR:
            raise TableError(f"{example.file}: entry '{example.id}': field 'backward': "
                             f"{text} has shape {fmt(node.shape)}; .backward() here needs "
                             "a scalar")
    if example.grad:
        if example.grad not in base:
            raise TableError(f"{example.file}: entry '{example.id}': field 'grad': "
                             f"'{example.grad}' is not one of the variables")
        value_shape, value_node = decl.shape_map[example.grad], None
        shown = f"{example.grad}.grad"
    else:
        value_node = _parse(example, "value", example.value, scope)
        value_shape, shown = value_node.shape, example.value
    try:
        claim = parse_expression(example.claim, scope)
    except ShapeError as error:
        return ExampleOutcome("ill-formed", f"the claim {example.claim} is ill-formed: {error}")
    except MatcalcError as error:
        raise TableError(f"{example.file}: entry '{example.id}': field 'claim': {error}") \
            from None
    if claim.shape != value_shape:
        return ExampleOutcome("ill-formed", f"{shown} has shape {fmt(value_shape)}, the claim "
                                     f"{example.claim} has shape {fmt(claim.shape)}")

    def evaluate(node: Any, env: Mapping[str, Any]) -> Any:
        return Evaluator(dict(env), sizes).value(node)

    first = decl.symbolic_sizes()
    size_sets = [first, {k: v + 1 for k, v in first.items()}] if first else [{}]
    gen = torch.Generator().manual_seed(seed)
    worst, count = 0.0, 0
    for sizes in size_sets:
        for point in range(POINTS):
            scale = 10.0 ** ((point - POINTS // 2) / 2)  # from 0.1 to 10
            env = {}
            for name, shape in decl.shapes:
                tags = decl.tag_map.get(name, frozenset())
                drawn = sample_tensor(tags, concrete(shape, sizes), gen)
                sign = -1.0 if point % 2 and not tags else 1.0  # both signs, for branches
                env[name] = drawn * scale * sign if tags <= {"positive"} else drawn
            leaves = {name: t.clone().requires_grad_(True) for name, t in env.items()}
            results = program.run(leaves, f, evaluate) if program else {}
            for node in steps:
                evaluate(node, leaves).sum().backward()
            known = {**env, **results}
            got = (leaves[example.grad].grad if example.grad
                   else evaluate(value_node, known)).detach()
            want = evaluate(claim, known).detach()
            error = float((got - want).abs().max()) / max(1.0, float(want.abs().max()),
                                                          float(got.abs().max()))
            count += 1
            worst = max(worst, error)
            if not error <= TOLERANCE:
                where = sizes_text(sizes)
                return ExampleOutcome("fails", f"{shown} = {_show(got)} but the claim gives "
                                        f"{_show(want)} ({where}, point {count})", count, error)
    where = "; ".join(sizes_text(s) for s in size_sets if s)
    return ExampleOutcome("holds", f"{shown} equals the claim at {count} random float64 points"
                            + (f" ({where})" if where else "")
                            + f", relative error ≤ {max(worst, 1e-16):.0e}", count, worst)


def _declare(example: AutogradExample, variables: dict[str, str], assume: dict) -> Any:
    try:
        return declare(variables, assume)
    except MatcalcError as error:
        raise TableError(f"{example.file}: entry '{example.id}': field 'vars': {error}") \
            from None


def _parse(example: AutogradExample, field_name: str, text: str, scope: Any) -> Any:
    try:
        return parse_expression(text, scope)
    except MatcalcError as error:
        raise TableError(f"{example.file}: entry '{example.id}': field '{field_name}': "
                         f"{error}") from None


def _show(tensor: Any) -> str:
    values = [f"{v:.4g}" for v in tensor.reshape(-1).tolist()[:4]]
    return "[" + ", ".join(values) + (", …]" if tensor.numel() > 4 else "]")
