"""A derivative as Python source: a NumPy or a torch function to paste.

:func:`function_source` prints a closed form (an expression tree) as a plain
function, one keyword-only parameter per declared variable, in the NumPy
conventions people use: a column vector is a 1-d array ``(n,)``, a matrix a 2-d
one, a scalar a number; the result is 2-d for a matrix, 1-d for a row or a
column, and a float (NumPy) or a 0-d tensor (torch) for a scalar.

Inside the function every value is two-dimensional, exactly as in matcalc's
engines (a column is ``(n, 1)``), so each operation prints as the same
NumPy or torch call whatever its operands' orientation; the parameters are
reshaped on entry and the result on exit. Sub-expressions used more than once
are computed once, into ``t1``, ``t2``, ...

One printer class per target (:class:`NumpyPrinter`, :class:`TorchPrinter`),
each a table of operation spellings over a shared walk of the tree
(:class:`CodePrinter`, which dispatches on the node type).
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections import Counter
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from .. import expr as E
from ..errors import UndecidedError, UnknownNameError, did_you_mean
from ..parsing import parse_expression
from ..shapes import SCALAR, Dim, Shape, kind

TARGETS = ("numpy", "torch")

#: the operations whose result is a scalar computed as a 0-d value: reshaped to (1, 1)
_TO_SCALAR = {"trace", "det", "logdet", "norm", "norm1", "sum", "mean", "dot"}
_ELEMENTWISE = {"exp", "log", "sin", "cos", "tanh", "sqrt", "abs", "sign"}
_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@", "pow": "**"}
#: Python's binding strength of what a node prints as (atoms: 5)
_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "matmul": 2, "neg": 3, "pow": 4}
ATOM = 5


class CodePrinter:
    """The walk shared by every target: names, temporaries, operators, shapes."""

    module = ""
    #: operation -> format string over the printed operands: {0}, {1} as they
    #: print, {p0}, {p1} parenthesized where an operator would bind them wrongly
    calls: dict[str, str] = {}
    new_array = ""  # literal arrays: format over a nested list

    def __init__(self, dims: Mapping[str, str]) -> None:
        self.dims = dims  # dimension name -> the expression giving its size
        self.dims_used: dict[str, None] = {}
        self.lines: list[str] = []
        self.names: dict[E.Expr, str] = {}
        self.shared: set[E.Expr] = set()

    def temp(self, text: str) -> str:
        """A new temporary holding ``text``."""
        name = f"t{len(self.lines) + 1}"
        self.lines.append(f"{name} = {text}")
        return name

    # -- the walk

    def body(self, tree: E.Expr) -> str:
        """Statements for the shared sub-expressions (appended to ``lines``) and
        the expression of the result."""
        counts: Counter[E.Expr] = Counter()
        self._count(tree, counts)
        self.shared = {n for n, c in counts.items() if c > 1 and isinstance(n, E.Apply)
                       and n.op not in ("transpose", "neg")}
        return self.print(tree)

    def _count(self, node: E.Expr, counts: Counter[E.Expr]) -> None:
        counts[node] += 1
        if counts[node] == 1 or isinstance(node, E.Apply) and node.op in ("transpose", "neg"):
            for child in E.children(node):
                self._count(child, counts)

    def print(self, node: E.Expr) -> str:
        if node in self.names:
            return self.names[node]
        text = self.node(node)
        if node in self.shared:
            self.names[node] = self.temp(text)
            return self.names[node]
        return text

    @functools.singledispatchmethod
    def node(self, node: object) -> str:
        raise TypeError(f"no code for {type(node).__name__}")

    @node.register
    def _const(self, node: E.Const) -> str:
        return number(node.value)

    @node.register
    def _size(self, node: E.Size) -> str:
        return self.dim(node.dim)

    @node.register
    def _var(self, node: E.Var) -> str:
        return node.name

    @node.register
    def _array(self, node: E.Array) -> str:
        rows = ", ".join("[" + ", ".join(number(v) for v in row) + "]" for row in node.rows)
        return self.new_array.format(f"[{rows}]")

    @node.register
    def _derivative(self, node: E.Derivative) -> str:
        raise TypeError("a closed form has no d() left in it")

    @node.register
    def _apply(self, node: E.Apply) -> str:
        op, args = node.op, node.args
        if op in _INFIX:
            symbol = _INFIX[op]
            if op == "matmul" and any(a.shape == SCALAR for a in args):
                symbol = "*"  # a 1 x 1 factor scales: Python numbers do not take @
            p = _PREC[op]
            if op == "pow":  # right-associative
                return f"{self.operand(args[0], p + 1)} ** {self.operand(args[1], p - 1)}"
            return f"{self.operand(args[0], p)} {symbol} {self.operand(args[1], p + 1)}"
        if op == "neg":
            return f"-{self.operand(args[0], _PREC['neg'])}"
        if op == "transpose":
            return f"{self.operand(args[0], ATOM)}.T"
        if op in ("eye", "ones", "zeros"):
            sizes = [self.dim(d) for d in node.dims]
            if op != "eye" and len(sizes) == 1:
                sizes.append("1")
            return self.calls[op].format(", ".join(sizes))
        if op == "diag":
            which = "diag_of_vector" if kind(args[0].shape) in ("column", "row") else "diagonal"
            return self.calls[which].format(self.print(args[0]))
        if op in ("softmax", "softmax_rows", "logsumexp"):
            return getattr(self, op)(args[0])
        printed = [self.full(self.print(a)) if number_only(a) else self.print(a) for a in args]
        wrapped = {f"p{i}": self.operand(a, ATOM) for i, a in enumerate(args)}
        text = self.calls[op].format(*printed, **wrapped)
        if op in _TO_SCALAR:
            text = f"{self.module}.reshape({text}, (1, 1))"
        return text

    def operand(self, node: E.Expr, minimum: int) -> str:
        """The node printed where it must bind at least as tightly as ``minimum``
        (parenthesized otherwise); every call template prints as one atom."""
        text = self.print(node)
        return text if self.precedence(node, text) >= minimum else f"({text})"

    def precedence(self, node: E.Expr, text: str) -> int:
        if node in self.names:
            return ATOM
        if isinstance(node, E.Const):
            return _PREC["neg"] if node.value < 0 and node.value.denominator == 1 else ATOM
        if isinstance(node, E.Size):
            return ATOM if " " not in text else _PREC["mul"]
        if isinstance(node, E.Apply) and (node.op in _INFIX or node.op == "neg"):
            return _PREC[node.op]
        return ATOM

    def dim(self, d: Dim) -> str:
        parts = [str(d.coeff)] if d.coeff != 1 or not d.names else []
        for name in d.names:
            self.dims_used[name] = None
            parts.append(name)
        return " * ".join(parts)

    def softmax(self, arg: E.Expr) -> str:
        raise NotImplementedError

    def full(self, value: str) -> str:
        """A 1 x 1 array holding a number (the operand of a function call)."""
        raise NotImplementedError

    def as_array(self, value: str) -> str:
        """A number, or a 1 x 1 array, as a 1 x 1 array."""
        raise NotImplementedError

    def array_operand(self, arg: E.Expr) -> str:
        """The operand of softmax_rows or logsumexp, as an array even when it
        prints as a number."""
        return self.as_array(self.print(arg)) if number_only(arg) else self.operand(arg, ATOM)

    def softmax_rows(self, arg: E.Expr) -> str:
        raise NotImplementedError

    def logsumexp(self, arg: E.Expr) -> str:
        raise NotImplementedError


class NumpyPrinter(CodePrinter):
    module = "np"
    calls = {
        "trace": "np.trace({0})", "det": "np.linalg.det({0})", "inv": "np.linalg.inv({0})",
        "logdet": "np.linalg.slogdet({0})[1]", "norm": "np.linalg.norm({0})",
        "norm1": "np.sum(np.abs({0}))", "sum": "np.sum({0})", "mean": "np.mean({0})",
        "dot": "np.sum({p0} * {p1})", **{f: f"np.{f}({{0}})" for f in _ELEMENTWISE},
        "sigmoid": "(1 / (1 + np.exp(-{p0})))", "relu": "np.maximum({0}, 0)",
        "diag_of_vector": "np.diag(np.ravel({0}))", "diagonal": "np.reshape(np.diag({0}), (-1, 1))",
        "eye": "np.eye({0})", "ones": "np.ones(({0}))", "zeros": "np.zeros(({0}))",
        "vec": "np.reshape({p0}.T, (-1, 1))", "kron": "np.kron({0}, {1})",
        "outer": "(np.reshape({0}, (-1, 1)) @ np.reshape({1}, (1, -1)))", "detach": "{p0}",
    }
    new_array = "np.array({0}, dtype=float)"

    def full(self, value: str) -> str:
        return f"np.full((1, 1), {value}, dtype=float)"

    def as_array(self, value: str) -> str:
        return f"np.reshape(np.asarray({value}, dtype=float), (1, 1))"

    def softmax(self, arg: E.Expr) -> str:
        value = self.operand(arg, ATOM)
        shifted = self.temp(f"np.exp({value} - np.max({value}))")
        return f"({shifted} / np.sum({shifted}))"

    def softmax_rows(self, arg: E.Expr) -> str:
        value = self.array_operand(arg)
        shifted = self.temp(f"np.exp({value} - np.max({value}, axis=1, keepdims=True))")
        return f"({shifted} / np.sum({shifted}, axis=1, keepdims=True))"

    def logsumexp(self, arg: E.Expr) -> str:
        value = self.array_operand(arg)
        top = self.temp(f"np.max({value})")
        return f"np.reshape({top} + np.log(np.sum(np.exp({value} - {top}))), (1, 1))"


class TorchPrinter(CodePrinter):
    module = "torch"
    calls = {
        "trace": "torch.trace({0})", "det": "torch.linalg.det({0})",
        "inv": "torch.linalg.inv({0})", "logdet": "torch.logdet({0})",
        "norm": "torch.linalg.norm({0})", "norm1": "torch.sum(torch.abs({0}))",
        "sum": "torch.sum({0})", "mean": "torch.mean({0})", "dot": "torch.sum({p0} * {p1})",
        **{f: f"torch.{f}({{0}})" for f in _ELEMENTWISE},
        "sigmoid": "torch.sigmoid({0})", "relu": "torch.relu({0})",
        "diag_of_vector": "torch.diag(torch.ravel({0}))",
        "diagonal": "torch.reshape(torch.diagonal({0}), (-1, 1))",
        "eye": "torch.eye({0}, dtype=torch.float64, device=device)",
        "ones": "torch.ones(({0}), dtype=torch.float64, device=device)",
        "zeros": "torch.zeros(({0}), dtype=torch.float64, device=device)",
        "vec": "torch.reshape({p0}.T, (-1, 1))",
        # torch 2.13's kron refuses a transposed (non-contiguous) operand (adversary 4, J12)
        "kron": "torch.kron({p0}.contiguous(), {p1}.contiguous())",
        "outer": "(torch.reshape({0}, (-1, 1)) @ torch.reshape({1}, (1, -1)))",
        "detach": "{p0}.detach()",
    }
    new_array = "torch.tensor({0}, dtype=torch.float64, device=device)"

    def full(self, value: str) -> str:
        return f"torch.full((1, 1), {value}, dtype=torch.float64, device=device)"

    def as_array(self, value: str) -> str:
        return (f"torch.reshape(torch.as_tensor({value}, dtype=torch.float64, device=device), "
                "(1, 1))")

    def softmax(self, arg: E.Expr) -> str:
        value = self.operand(arg, ATOM)
        return f"torch.reshape(torch.softmax(torch.ravel({value}), 0), {value}.shape)"

    def softmax_rows(self, arg: E.Expr) -> str:
        return f"torch.softmax({self.array_operand(arg)}, 1)"

    def logsumexp(self, arg: E.Expr) -> str:
        return f"torch.reshape(torch.logsumexp(torch.ravel({self.array_operand(arg)}), 0), (1, 1))"


PRINTERS = {"numpy": NumpyPrinter, "torch": TorchPrinter}


def constant(node: E.Expr) -> bool:
    """Whether the node holds no variable and makes no array: its value may print
    as a plain Python number."""
    return not any(isinstance(n, (E.Var, E.Array)) or isinstance(n, E.Apply)
                   and n.op in ("eye", "ones", "zeros") for n in E.walk(node))


def number_only(node: E.Expr) -> bool:
    """Whether the node prints as a Python number: constants and sizes combined
    by operators only (a function call on one makes an array)."""
    return all(isinstance(n, (E.Const, E.Size)) or isinstance(n, E.Apply)
               and (n.op in _INFIX or n.op == "neg") for n in E.walk(node))


def number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"({value.numerator} / {value.denominator})"


def check_target(target: str) -> None:
    if target not in TARGETS:
        raise UnknownNameError(f"unknown code target '{target}'", token=str(target),
                               hint=did_you_mean(str(target), TARGETS)
                               or f"choose one of {', '.join(TARGETS)}")


def function_name(f_text: str, wrt: str) -> str:
    """``d_<f>_d_<wrt>`` with the function's text cut down to identifier characters."""
    slug = re.sub(r"[^0-9A-Za-z]+", "_", f_text).strip("_")[:40].rstrip("_") or "f"
    return f"d_{slug}_d_{wrt}"


def function_source(target: str, name: str, variables: Mapping[str, Shape], tree: E.Expr,
                    doc: str) -> str:
    """The source of ``def name(*, <variables>)`` returning ``tree``'s value."""
    check_target(target)
    dims: dict[str, str] = {}
    for var, shape in variables.items():
        for axis, d in enumerate(shape):
            if len(d.names) == 1 and d.coeff == 1 and d.names[0] not in dims:
                dims[d.names[0]] = f"{var}.shape[{axis}]"
    printer = PRINTERS[target](dims)
    result = printer.body(tree)
    if constant(tree):  # a constant derivative: still an array
        result = printer.as_array(result)
    module = printer.module
    lines = [f"import {'numpy as np' if target == 'numpy' else 'torch'}", "", "",
             f"def {name}(*, {', '.join(variables)}):", f'    """{doc}"""']
    for var, shape in variables.items():
        k = kind(shape)
        entry = {"scalar": "(1, 1)", "column": "(-1, 1)", "row": "(1, -1)"}.get(k)
        value = (f"np.asarray({var}, dtype=float)" if target == "numpy"
                 else f"torch.as_tensor({var}, dtype=torch.float64)")
        lines.append(f"    {var} = {module}.reshape({value}, {entry})" if entry
                     else f"    {var} = {value}")
    if "device=device" in result or any("device=device" in line for line in printer.lines):
        lines.append(f"    device = {next(iter(variables))}.device  # new arrays go there too")
    lines += [f"    {name} = {dims[name]}" for name in printer.dims_used]
    lines += [f"    {line}" for line in printer.lines]
    k = kind(tree.shape)
    lines.append(f"    result = {result}")
    if k == "scalar":
        lines.append("    return float(result[0, 0])" if target == "numpy"
                     else "    return torch.reshape(result, ())")
    elif k in ("column", "row"):
        lines.append(f"    return {module}.reshape(result, (-1,))")
    else:
        lines.append("    return result")
    return "\n".join(lines) + "\n"


def derivation_code(d: Any, target: str) -> str:
    """The source of the function computing a derivation's closed form."""
    from ..declarations import declare

    check_target(target)
    if d.expr is None:
        raise UndecidedError(f"no verified closed form of d({d.f})/d({d.wrt}) to print as code",
                             hint="try another layout, or the vec layout for a tensor")
    declarations = declare(d.variables, d.assumptions)
    scope = declarations.scope(d.layout)
    tree = parse_expression(d.expr, scope)  # matcalc's own output, read by its own parser
    f = E.to_text(parse_expression(d.f, scope))
    shape = kind(tree.shape)
    array = "array" if target == "numpy" else "tensor"
    returned = {"scalar": "a float" if target == "numpy" else "a 0-d tensor",
                "row": f"a 1-d {array}", "column": f"a 1-d {array}"}.get(shape, f"a 2-d {array}")
    about = textwrap.fill(f"The closed form {d.expr}, verified by matcalc; vectors are "
                          f"1-d {array}s.", 88, initial_indent="    ", subsequent_indent="    ")
    doc = (f"d({f})/d({d.wrt}) in {d.layout} layout, shape {d.shape}, as {returned}.\n\n"
           f"{about}\n    ")
    return function_source(target, function_name(f, d.wrt), dict(scope.shapes), tree, doc)
