"""The ``--json`` documents: versioned, with numbers as numbers.

Every document the command prints with ``--json`` is an object with
``"schema": 1`` (this format's version; it changes only when a field changes
meaning or goes away) and ``"kind"``: ``"verdict"`` (verify), ``"derivation"``
(derive), ``"check"`` (check) or ``"error"`` (bad input, undecided). The JSON
Schema of all four is ``matcalc/data/verdict.schema.json`` (:func:`schema`).

A counterexample's values are numbers: integers where they are integers,
floats otherwise. An exact counterexample also carries ``exact_values``, the
same grids as exact rationals written ``"p/q"`` (a float cannot hold 1/3).
A value that is not a finite number (``exp(1)`` kept symbolic, an overflow) stays
a string.

Which counterexample is which: ``counterexample`` at the top is the one the
report shows, the smallest found (the diagnosis looks for one at the smallest
sizes first); ``symbolic.counterexample`` and ``numeric.counterexample`` are
where each engine refuted the claim at its own sizes. When the top one differs
from the engine's, ``counterexample_note`` says so.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from importlib import resources
from typing import Any

from ..evidence import sizes_text

SCHEMA_VERSION = 1
SCHEMA_RESOURCE = ("data", "verdict.schema.json")


def schema() -> dict[str, Any]:
    """The JSON Schema of the documents (shipped in the package)."""
    text = resources.files("matcalc").joinpath(*SCHEMA_RESOURCE).read_text(encoding="utf-8")
    return json.loads(text)


def document(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` (a ``to_dict()``) as a versioned document of ``kind``.

    >>> document("error", {"error": {"type": "ParseError"}})["schema"]
    1
    """
    out: dict[str, Any] = {"schema": SCHEMA_VERSION, "kind": kind}
    out.update(_finite(verdict_fields(body) if kind == "verdict" else
                       derivation_fields(body) if kind == "derivation" else body))
    return out


def derivation_fields(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    if out.get("verdict") is not None:
        out["verdict"] = verdict_fields(out["verdict"])
    return out


def verdict_fields(body: dict[str, Any]) -> dict[str, Any]:
    """A verdict's ``to_dict()`` with numeric counterexamples and the note."""
    out = dict(body)
    top = out.get("counterexample")
    notes = []
    for engine, whose in (("symbolic", "the exact stage's own, at its sizes"),
                          ("numeric", "the numeric stage's own, in float64")):
        evidence = out.get(engine)
        if evidence is None or evidence.get("counterexample") is None:
            continue
        own = evidence["counterexample"]
        if top is not None and own != top:
            notes.append(f"{engine}.counterexample ({_sizes(own)}) is {whose}")
        out[engine] = {**evidence, "counterexample": counterexample(own)}
    out["counterexample"] = counterexample(top) if top is not None else None
    out["counterexample_note"] = (
        f"counterexample ({_sizes(top)}) is the one the report shows, the smallest found "
        f"(the smallest sizes are searched first); " + "; ".join(notes)) if notes else None
    return out


def counterexample(plain: dict[str, Any]) -> dict[str, Any]:
    """A counterexample's grids as numbers (and as exact ``"p/q"`` text)."""
    out = dict(plain)
    exact = bool(plain.get("exact"))
    out["point"] = {name: _grid(grid, exact) for name, grid in plain["point"].items()}
    out["lhs"], out["rhs"] = _grid(plain["lhs"], exact), _grid(plain["rhs"], exact)
    out["exact_values"] = {
        "point": {name: _grid_text(grid) for name, grid in plain["point"].items()},
        "lhs": _grid_text(plain["lhs"]),
        "rhs": _grid_text(plain["rhs"]),
    } if plain.get("exact") else None
    return out


def _sizes(plain: dict[str, Any]) -> str:
    return sizes_text(plain.get("sizes", {}), "no dimensions")


def _grid(grid: Any, exact: bool) -> list[list[Any]]:
    return [[_number(cell, exact) for cell in row] for row in grid]


def _grid_text(grid: Any) -> list[list[str]]:
    return [[_rational_text(cell) for cell in row] for row in grid]


def _number(cell: Any, exact: bool = True) -> Any:
    """Exact values: ``"3"`` -> 3, ``"3/2"`` -> 1.5; float64 values (``exact`` false)
    are floats, ``"0"`` -> 0.0. Text that is no finite number stays text."""
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        cell = str(cell)
    text = str(cell).strip()
    if not exact:
        try:
            number = float(text)
        except ValueError:
            return text
        return number if math.isfinite(number) else text
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        try:
            number = float(text)
        except ValueError:
            return text
        return number if math.isfinite(number) else text
    if value.denominator == 1:
        return int(value)
    return float(value)


def _rational_text(cell: Any) -> str:
    text = str(cell).strip()
    try:
        return str(Fraction(text))
    except (ValueError, ZeroDivisionError):
        return text


def _finite(value: Any) -> Any:
    """Non-finite floats (not JSON) as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
