"""The cheat sheet as data: blocks (headings, paragraphs, tables) whose cells
hold text and formula trees, written out by the Markdown and HTML writers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import expr as E
from ..declarations import declare, shape_spec
from ..errors import ShapeError
from ..parsing import parse_expression
from .notation import arrays_named, latex, mathml

# ---------------------------------------------------------------------------
# The document: blocks of cells, each cell a list of parts


@dataclass
class Cell:
    """``parts``: ("text", str), ("math", tree), ("small", str), ("strong", str), ("br", "")."""

    parts: list[tuple[str, Any]] = field(default_factory=list)
    cls: str = ""

    def text(self, value: str, kind: str = "text") -> Cell:
        if value:
            if self.parts:
                self.parts.append(("br", ""))
            self.parts.append((kind, value))
        return self

    def math(self, tree: E.Expr, before: str = "", after: str = "") -> Cell:
        if self.parts:
            self.parts.append(("br", ""))
        if before:
            self.parts.append(("text", before + " "))
        self.parts.append(("math", tree))
        if after:
            self.parts.append(("text", " " + after))
        return self


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[str, list[Cell]]]
    cls: str = ""


Block = tuple  # ("title", text) ("h2", id, text) ("p", cls, text) ("ul", [..]) ("toc", [(id, text)]) ("table", Table)



def display_tree(entry: Any, layout: str, text: str, variables: dict[str, str] | None = None,
                 instance: Any = None) -> E.Expr:
    """Parse for display: a rule's placeholders u, v become variables shaped like
    their first instance; an expression that does not type-check is parsed with
    every variable a scalar and typeset with the arrays bold."""
    variables = dict(variables if variables is not None else entry.vars)
    instances = getattr(entry, "instances", ())
    first = instance or (instances[0] if instances else None)
    if first is not None:
        scope = declare({**variables, **dict(first.vars)}).scope(layout)
        variables.update(first.vars)
        for name, macro in first.macros:
            variables[name] = shape_spec(parse_expression(macro, scope).shape)
    try:
        return parse_expression(text, declare(variables).scope(layout))
    except ShapeError:
        arrays = frozenset(name for name, spec in variables.items()
                           if spec.strip() not in ("", "scalar"))
        loose = parse_expression(text, declare({k: "" for k in variables}).scope(layout))
        return _Loose(loose, arrays)  # type: ignore[return-value]


@dataclass(frozen=True)
class _Loose:
    """An ill-typed expression for display: the tree parsed with scalars, and the
    names to set bold."""

    tree: E.Expr
    arrays: frozenset[str]


@dataclass(frozen=True)
class Equation:
    """``lhs = rhs`` for display (both sides already parsed)."""

    lhs: Any
    rhs: Any


def math_latex(node: Any) -> str:
    if isinstance(node, Equation):
        return f"{math_latex(node.lhs)} = {math_latex(node.rhs)}"
    if isinstance(node, _Loose):
        with arrays_named(node.arrays):
            return latex(node.tree)
    return latex(node)


def math_mathml(node: Any, wrap: int | None = None) -> str:
    if isinstance(node, Equation):
        return f"{math_mathml(node.lhs, wrap)} = {math_mathml(node.rhs, wrap)}"
    if isinstance(node, _Loose):
        with arrays_named(node.arrays):
            return mathml(node.tree, display=True, wrap=wrap)
    return mathml(node, display=True, wrap=wrap)
