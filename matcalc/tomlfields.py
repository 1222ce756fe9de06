"""Reading the fields of the table files: each helper checks one TOML field's type.

Shared by the table loader (:mod:`matcalc.tables`) and the records it holds
(:mod:`matcalc.records`); every message names the file, the item and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import TableError, did_you_mean


def table_field(value: Any, where: str, label: str) -> dict[str, Any]:
    """``value`` if it is a TOML table, else a TableError."""
    if not isinstance(value, dict):
        raise TableError(f"{where}: {label} must be a table")
    return value


def list_field(value: Any, where: str, label: str, name: str) -> list[Any]:
    """``value`` if it is a list (the field ``name``), else a TableError."""
    if not isinstance(value, list):
        raise TableError(f"{where}: {label}: field '{name}' must be a list of tables")
    return value


def check_keys(raw: Mapping[str, Any], keys: set[str], where: str, label: str) -> None:
    """Refuse a field of ``raw`` that is not in ``keys``, suggesting the nearest."""
    unknown = set(raw) - keys
    if unknown:
        name = sorted(unknown)[0]
        hint = did_you_mean(name, keys)
        raise TableError(f"{where}: {label}: unknown field '{name}'" + (f"; {hint}" if hint else ""))


def text_field(raw: Mapping[str, Any], name: str, where: str, label: str,
          default: str | None = None) -> str:
    """The string field ``name`` of ``raw`` (``default`` when it is absent, if given)."""
    if name not in raw:
        if default is not None:
            return default
        raise TableError(f"{where}: {label}: missing field '{name}'")
    value = raw[name]
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise TableError(f"{where}: {label}: field '{name}' must be a non-empty string")
    return value


def text_mapping(value: Any, where: str, label: str, name: str) -> dict[str, str]:
    """A field mapping names to strings, as a dict."""
    if value is None:
        raise TableError(f"{where}: {label}: missing field '{name}'")
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise TableError(f"{where}: {label}: field '{name}' must map names to strings")
    return dict(value)


def assume_field(value: Any, where: str, label: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """An ``assume`` field: name -> tags (a single tag may be a string)."""
    if not isinstance(value, dict):
        raise TableError(f"{where}: {label}: field 'assume' must map names to lists of tags")
    out = []
    for name, tags in value.items():
        listed = [tags] if isinstance(tags, str) else tags
        if not isinstance(listed, list) or not all(isinstance(t, str) for t in listed):
            raise TableError(f"{where}: {label}: assume.{name} must be a list of tags")
        out.append((name, tuple(listed)))
    return tuple(out)
