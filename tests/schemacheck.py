"""A validator for the part of JSON Schema (draft 2020-12) that
``matcalc/data/verdict.schema.json`` uses: ``type``, ``enum``, ``const``,
``properties``, ``required``, ``additionalProperties``, ``items``, ``minimum``,
``oneOf``, ``anyOf`` and local ``$ref``. A keyword it does not know is an error,
so the schema cannot silently use more than is checked.
"""

from __future__ import annotations

import math
from typing import Any

KNOWN = {"type", "enum", "const", "properties", "required", "additionalProperties", "items",
         "minimum", "oneOf", "anyOf", "$ref", "description", "title", "$schema", "$id", "$defs"}

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    and math.isfinite(v),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
}


def errors(instance: Any, schema: dict[str, Any], root: dict[str, Any] | None = None,
           path: str = "$") -> list[str]:
    """Every way ``instance`` breaks ``schema`` (empty: it is valid)."""
    root = schema if root is None else root
    unknown = set(schema) - KNOWN
    if unknown:
        raise ValueError(f"{path}: unsupported schema keyword(s) {sorted(unknown)}")
    found: list[str] = []
    if "$ref" in schema:
        found += errors(instance, _resolve(root, schema["$ref"]), root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](instance) for t in types):
            return found + [f"{path}: {instance!r} is not of type {'/'.join(types)}"]
    if "enum" in schema and not any(_same(instance, v) for v in schema["enum"]):
        found.append(f"{path}: {instance!r} is not one of {schema['enum']}")
    if "const" in schema and not _same(instance, schema["const"]):
        found.append(f"{path}: {instance!r} is not {schema['const']!r}")
    if "minimum" in schema and _TYPES["number"](instance) and instance < schema["minimum"]:
        found.append(f"{path}: {instance!r} is below {schema['minimum']}")
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in instance:
                found.append(f"{path}: missing {name!r}")
        for name, value in instance.items():
            if name in properties:
                found += errors(value, properties[name], root, f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{path}: unexpected {name!r}")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += errors(value, schema["additionalProperties"], root, f"{path}.{name}")
    if isinstance(instance, list) and "items" in schema:
        for index, value in enumerate(instance):
            found += errors(value, schema["items"], root, f"{path}[{index}]")
    if "oneOf" in schema:
        passing = [s for s in schema["oneOf"] if not errors(instance, s, root, path)]
        if len(passing) != 1:
            found.append(f"{path}: matches {len(passing)} of oneOf's {len(schema['oneOf'])} "
                         "schemas, not exactly one" + _closest(instance, schema["oneOf"], root,
                                                                path))
    if "anyOf" in schema and not any(not errors(instance, s, root, path)
                                     for s in schema["anyOf"]):
        found.append(f"{path}: matches none of anyOf")
    return found


def _closest(instance: Any, options: list[dict[str, Any]], root: dict[str, Any],
             path: str) -> str:
    reasons = sorted((errors(instance, s, root, path) for s in options), key=len)
    return f" (closest: {'; '.join(reasons[0][:3])})" if reasons and reasons[0] else ""


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b or (
        _TYPES["number"](a) and _TYPES["number"](b) and a == b)


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, not {ref}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node
