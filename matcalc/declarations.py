"""Declarations: variables, assumptions and pinned sizes, validated together.

``vars`` maps names to shapes as on the command line (``{"x": "n",
"A": "m n", "s": ""}``), ``assume`` maps names to assumption tags
(``{"A": ["symmetric"]}``) and ``sizes`` pins dimension sizes (``{"n": 500}``).
Everything that can be wrong with them is reported here, as a
:class:`~matcalc.errors.DeclarationError` (or another MatcalcError), before any
expression is read.
"""

from __future__ import annotations

import dataclasses
import itertools
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

#: sizes the exact stage gives to dimension names, rotated across its
#: instantiations (see :meth:`Declarations.exact_size_sets`); 3 first, so that
#: the first instantiation (the one reports show) is the familiar one
EXACT_SIZES = (3, 2, 4, 5, 6, 7)
#: instantiations of the exact stage: each dimension name meets this many sizes
EXACT_SETS = 3
#: the larger sizes the numeric stage adds, in two instantiations
NUMERIC_SIZES = (6, 7, 8, 9, 10, 11, 12, 13)
#: sizes singled out by a claim (:meth:`Declarations.with_critical`) per name
MAX_CRITICAL = 12
#: replacement instantiations the exact stage tries, at most, when some of its
#: instantiations are defined nowhere (:meth:`Declarations.replacement_sizes`)
MAX_REPLACEMENTS = 8


def _rotated(names: list[str], pinned: Mapping[str, int], base: tuple[int, ...],
             count: int) -> list[dict[str, int]]:
    """``count`` instantiations of ``names``: the free names take consecutive
    entries of ``base`` (without the pinned values), rotated by one per
    instantiation, so every free name meets ``count`` different sizes and
    sizes stay distinct across names within an instantiation. A free name
    that would meet sizes of one parity only (possible when pinned values
    leave gaps in ``base``) gets its last size replaced by the smallest unused
    size of the other parity."""
    free_names = [n for n in names if n not in pinned]
    pool = [s for s in base if s not in pinned.values()]
    pool = pool[:max(len(free_names) + count - 1, 1)]
    sets = [{name: pinned[name] if name in pinned
             else pool[(free_names.index(name) + shift) % len(pool)] for name in names}
            for shift in range(count)]
    if count >= 2:
        for name in free_names:
            if len({sizes[name] % 2 for sizes in sets}) == 1:
                last = sets[-1]
                wanted = 1 - last[name] % 2
                used = set(last.values())
                last[name] = next(s for s in range(2 + wanted, 1000, 2) if s not in used)
    unique: list[dict[str, int]] = []
    for sizes in sets:
        if sizes not in unique:
            unique.append(sizes)
    return unique


@dataclass(frozen=True)
class Declarations:
    shapes: tuple[tuple[str, Shape], ...]
    tags: tuple[tuple[str, frozenset[str]], ...]
    pinned: tuple[tuple[str, int], ...]
    #: sizes a claim singles out for a free dimension name (``relu(n - 8)`` changes
    #: at n = 8, 9): both engines decide them too (:meth:`with_critical`)
    critical: tuple[tuple[str, tuple[int, ...]], ...] = ()

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

    def with_tags(self, name: str, *tags: str) -> Declarations:
        """The same declarations with ``tags`` added to the variable ``name``,
        checked as :func:`declare` checks them."""
        assume = self.assumptions()
        assume[name] = sorted(set(assume.get(name, [])) | set(tags))
        return declare(self.describe(), assume, dict(self.pinned))

    def with_sizes(self, pinned: Mapping[str, int]) -> Declarations:
        """The same variables and assumptions with ``pinned`` as the pinned sizes."""
        return declare(self.describe(), self.assumptions(), pinned)

    def with_critical(self, critical: Mapping[str, Any]) -> Declarations:
        """The same declarations, with these sizes of free dimension names (at
        most ``MAX_CRITICAL`` each, the smallest kept) decided as well: sizes
        where a claim's value changes its form, found by the caller
        (:func:`matcalc.sizekinks.size_kinks`)."""
        pinned = dict(self.pinned)
        extra = tuple((name, tuple(sorted(set(sizes))[:MAX_CRITICAL]))
                      for name, sizes in sorted(critical.items())
                      if name not in pinned and sizes)
        return dataclasses.replace(self, critical=extra)

    def _critical_sets(self, first: Mapping[str, int]) -> list[dict[str, int]]:
        """One instantiation per critical size: ``first`` with that size."""
        return [{**first, name: size} for name, sizes in self.critical for size in sizes]

    # -- sizes

    def dims(self) -> list[str]:
        """Dimension names, those of square matrices first."""
        names = dim_names(shape for _, shape in self.shapes)
        square = [s[0].names[0] for _, s in self.shapes
                  if kind(s) == "matrix" and s[0] == s[1] and len(s[0].names) == 1]
        ordered = [n for n in names if n in square] + [n for n in names if n not in square]
        return ordered

    def exact_size_sets(self) -> list[dict[str, int]]:
        """The instantiations the exact stage decides, in order.

        Every free dimension name meets ``EXACT_SETS`` sizes, an even and an
        odd one among them (``det(-X) = -det(X)`` holds at odd sizes only);
        within one instantiation distinct names get distinct sizes (so a
        transposed claim cannot pass by a coincidence of shapes). With two or
        more free names, one more instantiation has all of them odd. A pinned
        name keeps its size in every instantiation.
        """
        pinned = dict(self.pinned)
        sets = _rotated(self.dims(), pinned, EXACT_SIZES, EXACT_SETS)
        # and every free name odd at once (det(kron(X, -Y)) depends on m * n)
        free = [n for n in self.dims() if n not in pinned]
        odd = iter(s for s in EXACT_SIZES if s % 2 and s not in pinned.values())
        if len(free) > 1:
            sizes = {n: pinned[n] if n in pinned else next(odd, 0) for n in self.dims()}
            if 0 not in sizes.values() and sizes not in sets:
                sets.append(sizes)
        for sizes in self._critical_sets(sets[0]):
            if sizes not in sets:
                sets.append(sizes)
        return sets

    def _missing(self, decided: list[dict[str, int]]) -> set[tuple[str, int]]:
        """What ``decided`` lacks of the coverage :meth:`exact_size_sets` aims
        at: (name, parity) for each free name not yet at that parity, and
        ("", 1) when two or more free names never were all odd at once."""
        pinned = dict(self.pinned)
        free = [n for n in self.dims() if n not in pinned]
        missing = {(name, parity) for name in free for parity in (0, 1)
                   if all(sizes.get(name, parity + 1) % 2 != parity for sizes in decided)}
        if len(free) > 1 and not any(all(sizes.get(n, 0) % 2 for n in free)
                                     for sizes in decided):
            missing.add(("", 1))
        return missing

    def replacement_sizes(self, decided: list[dict[str, int]],
                          tried: list[dict[str, int]]) -> dict[str, int] | None:
        """The next instantiation to decide in place of some that were defined
        nowhere (a pole at every point: ``inv(X.T @ A @ X)`` for X n x k with
        k > n), or None once ``decided`` covers every free name at an even and
        an odd size (and all free names odd at once, as
        :meth:`exact_size_sets` has it) or nothing small is left.

        Candidates take the sizes of ``EXACT_SIZES``, distinct across names
        and from the pinned ones; of those not ``tried`` before, the one that
        adds the most coverage still missing comes first, then the smallest. The caller
        bounds the tries (``MAX_REPLACEMENTS``)."""
        missing = self._missing(decided)
        if not missing:
            return None
        pinned = dict(self.pinned)
        free = [n for n in self.dims() if n not in pinned]
        pool = sorted(s for s in EXACT_SIZES if s not in pinned.values())
        candidates = [dict(zip(free, combo)) for combo in
                      itertools.permutations(pool, len(free))]
        candidates.sort(key=lambda c: (max(c.values(), default=0), sum(c.values())))
        best, gain = None, 0
        for sizes in candidates:  # the one adding the most coverage, smallest first
            full = {n: pinned[n] if n in pinned else sizes[n] for n in self.dims()}
            added = len(missing - self._missing(decided + [full]))
            if added > gain and full not in tried and full not in decided:
                best, gain = full, added
        return best

    def symbolic_sizes(self) -> dict[str, int]:
        """The first exact instantiation (the one reports show)."""
        return self.exact_size_sets()[0]

    def numeric_size_sets(self) -> list[dict[str, int]]:
        """The numeric stage's instantiations: the first exact one (where the
        engines are compared) and two with larger sizes, each free name at an
        even and an odd one."""
        pinned = dict(self.pinned)
        sets = [self.symbolic_sizes()]
        for sizes in _rotated(self.dims(), pinned, NUMERIC_SIZES, 2):
            if sizes not in sets:
                sets.append(sizes)
        for sizes in self._critical_sets(sets[0]):
            if sizes not in sets:
                sets.append(sizes)
        return sets


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
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            value = int(value)  # a signed integer is an integer (-3 is out of range)
        if isinstance(value, bool) or not isinstance(value, int):
            raise DeclarationError(f"size of '{dim}' must be an integer, not {value!r}")
        if not 1 <= value <= limits.MAX_DIM:
            raise LimitError(
                f"size {dim}={value} is out of range (1 to {limits.MAX_DIM:,})", token=str(value)
            )
        pinned[dim] = value
    for name, tagged in tags.items():
        A.refuse_empty(name, shapes[name], tagged, pinned)
    return Declarations(
        tuple(shapes.items()),
        tuple((name, tags.get(name, frozenset())) for name in shapes),
        tuple(sorted(pinned.items())),
    )
