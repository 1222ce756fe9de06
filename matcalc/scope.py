"""What the names in an expression mean: declared shapes, the layout of ``d()``, macros.

:class:`Scope` is what the parser (:mod:`matcalc.parsing`) reads names
against; :func:`parse_shape` and :func:`variable_name` check what a user
declares (:mod:`matcalc.declarations` builds scopes from them).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import expr as E
from . import limits
from .errors import DeclarationError, LimitError, UnknownNameError, did_you_mean
from .layout import LAYOUTS
from .ops import FUNCTIONS
from .shapes import SCALAR, Dim, Shape, column

#: names that cannot be variables; ``d`` can (``d(`` starts a derivative, a bare
#: ``d`` is an ordinary name, as in the Matrix Cookbook's ``(B x + b)ᵀ C (D x + d)``)
RESERVED = frozenset(FUNCTIONS) | {"T"}



# ---------------------------------------------------------------------------
# Scope: what the names in an expression mean


@dataclass(frozen=True)
class Scope:
    """Declared variables (name -> shape), the layout of ``d()``, and macros.

    Macros stand for whole expressions; the tables use them to state rules
    such as ``d(a*u)/d(x) = a*d(u)/d(x)`` once and check them on instances.
    """

    variables: tuple[tuple[str, Shape], ...] = ()
    layout: str = "numerator"
    macros: tuple[tuple[str, E.Expr], ...] = ()

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise UnknownNameError(
                f"unknown layout '{self.layout}'",
                token=self.layout,
                hint=did_you_mean(self.layout, LAYOUTS) or f"choose one of {', '.join(LAYOUTS)}",
            )

    @functools.cached_property
    def shapes(self) -> dict[str, Shape]:
        return dict(self.variables)

    @functools.cached_property
    def macro_map(self) -> dict[str, E.Expr]:
        return dict(self.macros)

    @functools.cached_property
    def dims(self) -> frozenset[str]:
        names = set()
        shapes = list(self.shapes.values()) + [m.shape for m in self.macro_map.values()]
        for shape in shapes:
            for d in shape:
                names.update(d.names)
        return frozenset(names)

    def with_layout(self, layout: str) -> Scope:
        return Scope(self.variables, layout, self.macros)


def _check_identifier(name: Any, what: str) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise DeclarationError(f"{what} {name!r} is not a valid name", token=str(name))
    return name


def variable_name(name: Any) -> str:
    _check_identifier(name, "variable")
    if name in RESERVED:
        raise DeclarationError(
            f"'{name}' cannot be a variable name: it is reserved"
            + (" for a function" if name in FUNCTIONS else ""),
            token=name,
        )
    return name


def _dim(value: Any, owner: str) -> Dim:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise DeclarationError(f"dimension {value!r} of {owner} is not a name or an integer")
    if isinstance(value, int):
        if not 1 <= value <= limits.MAX_DIM:
            raise LimitError(
                f"dimension {value} of {owner} is out of range (1 to {limits.MAX_DIM:,})",
                token=str(value),
            )
        return Dim.of(value)
    return Dim.of(_check_identifier(value.strip(), f"dimension of {owner}"))


def parse_shape(spec: Any, owner: str = "a variable") -> Shape:
    """A declared shape: ``""``/``"scalar"``, ``"n"``, ``"m n"``, ``"m,n"``, ``(3, "n")``."""
    if isinstance(spec, int) and not isinstance(spec, bool):
        parts: Sequence[Any] = [spec]
    elif isinstance(spec, str):
        text = spec.strip().strip("()").strip()
        parts = [] if text in ("", "scalar") else [p for p in re.split(r"[\s,×]+", text) if p]
    elif isinstance(spec, Sequence):
        parts = list(spec)
    else:
        raise DeclarationError(f"the shape of {owner} must be a string like 'm n', not {spec!r}")
    dims = [_dim(p, owner) for p in parts]
    if len(dims) > 2:
        raise DeclarationError(
            f"{owner} has {len(dims)} dimensions; variables are scalars, vectors or matrices"
        )
    if not dims:
        return SCALAR
    if len(dims) == 1:
        return column(dims[0])
    return (dims[0], dims[1])


def scope_from(variables: Mapping[str, Shape], layout: str = "numerator",
               macros: Mapping[str, E.Expr] | None = None) -> Scope:
    return Scope(tuple(variables.items()), layout, tuple((macros or {}).items()))
