"""Declarations: variables, assumptions and pinned sizes, validated together.

``vars`` maps names to shapes as on the command line (``{"x": "n",
"A": "m n", "s": ""}``), ``assume`` maps names to assumption tags
(``{"A": ["symmetric"]}``) and ``sizes`` pins dimension sizes (``{"n": 500}``).
Everything that can be wrong with them is reported here, as a
:class:`~matcalc.errors.DeclarationError` (or another MatcalcError), before any
expression is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import assumptions as A
from . import limits
from .errors import DeclarationError, LimitError, UnknownNameError, did_you_mean
from .parsing import Scope, parse_shape, variable_name
from .shapes import Shape, dim_names, kind
from .surface import assume_hint, on_command_line, option, var_hint

#: sizes the symbolic stage gives to dimension names, in order (square ones first)
SYMBOLIC_SIZES = (3, 2, 4, 5, 6)
#: sizes of the numeric stage's second instantiation
NUMERIC_SIZES = (5, 4, 6, 7, 8, 9)


@dataclass(frozen=True)
class Declarations:
    shapes: tuple[tuple[str, Shape], ...]
    tags: tuple[tuple[str, frozenset[str]], ...]
    pinned: tuple[tuple[str, int], ...]

    @property
    def shape_map(self) -> dict[str, Shape]:
        return dict(self.shapes)

    @property
    def tag_map(self) -> dict[str, frozenset[str]]:
        return dict(self.tags)

    def scope(self, layout: str, macros: Mapping[str, Any] | None = None) -> Scope:
        return Scope(self.shapes, layout, tuple((macros or {}).items()))

    def describe(self) -> dict[str, str]:
        return {name: shape_spec(shape) for name, shape in self.shapes}

    def assumptions(self) -> dict[str, list[str]]:
        return {name: sorted(tags) for name, tags in self.tags if tags}

    # -- sizes

    def dims(self) -> list[str]:
        """Dimension names, those of square matrices first."""
        names = dim_names(shape for _, shape in self.shapes)
        square = [s[0].names[0] for _, s in self.shapes
                  if kind(s) == "matrix" and s[0] == s[1] and len(s[0].names) == 1]
        ordered = [n for n in names if n in square] + [n for n in names if n not in square]
        return ordered

    def symbolic_sizes(self) -> dict[str, int]:
        pinned = dict(self.pinned)
        sizes = {}
        free = iter(s for s in SYMBOLIC_SIZES if s not in pinned.values())
        for name in self.dims():
            sizes[name] = pinned[name] if name in pinned else next(free, SYMBOLIC_SIZES[-1])
        return sizes

    def numeric_size_sets(self) -> list[dict[str, int]]:
        pinned = dict(self.pinned)
        first = self.symbolic_sizes()
        free = iter(s for s in NUMERIC_SIZES if s not in pinned.values())
        second = {n: pinned[n] if n in pinned else next(free, NUMERIC_SIZES[-1])
                  for n in self.dims()}
        return [first] if second == first else [first, second]


def shape_spec(shape: Shape) -> str:
    """A shape as a declaration: ``scalar``, ``n``, ``m n``."""
    k = kind(shape)
    if k == "scalar":
        return "scalar"
    if k == "column":
        return str(shape[0])
    return " ".join(str(d) for d in shape)


def _mapping(value: Any, name: str, what: str, example: str) -> Mapping[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise DeclarationError(f"{option(name)} must map {what}, not {value!r}",
                               token=repr(value)[:40],
                               hint=f"e.g. {name}={example}" if not on_command_line() else None)
    return value


def _tags(name: Any, given: Any) -> list[str]:
    """Assumption tags as given: a string (tags separated by commas or spaces)
    or a list of such strings."""
    listed = [given] if isinstance(given, str) else given
    if not isinstance(listed, (list, tuple, set, frozenset)) \
            or not all(isinstance(item, str) for item in listed):
        raise DeclarationError(
            f"the assumptions of '{name}' must be tags (a string or a list of strings), "
            f"not {given!r}", token=str(name), hint=f"e.g. {assume_hint(str(name), ['symmetric'])}")
    return [tag for item in listed for tag in re.split(r"[\s,]+", item) if tag]


def declare(variables: Mapping[str, Any] | None = None,
            assume: Mapping[str, Any] | None = None,
            sizes: Mapping[str, Any] | None = None) -> Declarations:
    """Validate declarations as given to :func:`matcalc.verify`."""
    variables = dict(_mapping(variables, "vars", "names to shapes", '{"x": "n"}'))
    shapes = {variable_name(name): parse_shape(spec, f"variable '{name}'")
              for name, spec in variables.items()}
    tags: dict[str, frozenset[str]] = {}
    for name, given in _mapping(assume, "assume", "variable names to assumption tags",
                                '{"A": ["symmetric"]}').items():
        if name not in shapes:
            raise UnknownNameError(
                f"assumption for undeclared variable '{name}'",
                token=str(name),
                hint=did_you_mean(str(name), shapes) or f"declare it first, e.g. "
                f"{var_hint(str(name), 'n n')}",
            )
        tags[name] = A.normalize(name, shapes[name], _tags(name, given))
    dims = set(dim_names(shapes.values()))
    both = sorted(dims & set(shapes))
    if both:
        raise DeclarationError(
            f"'{both[0]}' is both a variable and a dimension name; rename one of them",
            token=both[0],
        )
    pinned = {}
    for dim, value in _mapping(sizes, "sizes", "dimension names to sizes", '{"n": 500}').items():
        if dim not in dims:
            raise UnknownNameError(
                f"size given for unknown dimension '{dim}'",
                token=str(dim),
                hint=did_you_mean(str(dim), dims) or "dimensions are the names in the shapes",
            )
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise DeclarationError(f"size of '{dim}' must be an integer, not {value!r}")
        if not 1 <= value <= limits.MAX_DIM:
            raise LimitError(
                f"size {dim}={value} is out of range (1 to {limits.MAX_DIM:,})", token=str(value)
            )
        pinned[dim] = value
    return Declarations(
        tuple(shapes.items()),
        tuple((name, tags.get(name, frozenset())) for name in shapes),
        tuple(sorted(pinned.items())),
    )
