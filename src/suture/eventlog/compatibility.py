"""Backward compatibility of event schemas, checked against the committed export (DESIGN.md §3).

Backward compatible means: a consumer of the current schema can read every payload that was
valid under the committed one (after upcasting, for an older version). So, for one (type,
version), every change that makes the current schema *accept less* is breaking: a removed
field, a changed type, a new required field, a narrowed enum, a tighter pattern or bound, extra
fields no longer allowed. Making it accept more (a new optional field, a widened type) is fine.
A new version is fine only when an upcaster leads to it from the version before.

The check reads JSON Schema as pydantic 2 writes it: ``$ref`` into ``$defs``, ``anyOf`` for
unions and optionals, ``enum`` / ``const`` for enums and literals.
"""

from __future__ import annotations

import json
import re
from typing import Any

from suture.eventlog.schemas import UPCAST_FROM

Schema = dict[str, Any]

_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_MAX_REF_DEPTH = 64  # a guard against reference cycles
_KEY = re.compile(r"(?P<type>.+)/v(?P<version>[0-9]+)")


def _resolve(schema: Schema, root: Schema) -> Schema:
    seen = 0
    while "$ref" in schema and seen < _MAX_REF_DEPTH:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        schema = root.get("$defs", {}).get(name, {})
        seen += 1
    return schema


def _branches(schema: Schema, root: Schema) -> list[Schema]:
    schema = _resolve(schema, root)
    union = schema.get("anyOf") or schema.get("oneOf")
    if not union:
        return [schema]
    return [branch for item in union for branch in _branches(item, root)]


def _kind(schema: Schema) -> str:
    if isinstance(schema.get("type"), str):
        return str(schema["type"])
    values = _allowed(schema)
    if values:
        kinds = {_JSON_TYPES.get(type(json.loads(value)), "any") for value in values}
        return kinds.pop() if len(kinds) == 1 else "any"
    return "any"


def _allowed(schema: Schema) -> set[str] | None:
    """The values a schema is restricted to (as JSON text), or None when it is not restricted."""
    if "const" in schema:
        return {json.dumps(schema["const"])}
    if "enum" in schema:
        return {json.dumps(value) for value in schema["enum"]}
    return None


def _label(path: str) -> str:
    return f"'{path}'" if path else "the payload"


def _compare(old: Schema, new: Schema, roots: tuple[Schema, Schema], path: str) -> list[str]:
    new_branches = _branches(new, roots[1])
    if any(_kind(branch) == "any" and not _allowed(branch) for branch in new_branches):
        return []
    problems: list[str] = []
    for old_branch in _branches(old, roots[0]):
        kind = _kind(old_branch)
        same = [
            branch
            for branch in new_branches
            if _kind(branch) == kind or (kind, _kind(branch)) == ("integer", "number")
        ]
        if not same:
            before = "/".join(sorted({_kind(branch) for branch in _branches(old, roots[0])}))
            after = "/".join(sorted({_kind(branch) for branch in new_branches}))
            return [f"changed type of {_label(path)} from {before} to {after}"]
        problems += _compare_branch(old_branch, same[0], roots, path)
    return problems


def _compare_branch(old: Schema, new: Schema, roots: tuple[Schema, Schema], path: str) -> list[str]:
    problems = _compare_constraints(old, new, path)
    if "properties" in old or "properties" in new:
        problems += _compare_objects(old, new, roots, path)
    if "items" in old and "items" in new:
        problems += _compare(old["items"], new["items"], roots, f"{path}[]")
    return problems


def _compare_constraints(old: Schema, new: Schema, path: str) -> list[str]:
    problems: list[str] = []
    old_values, new_values = _allowed(old), _allowed(new)
    if new_values is not None and old_values is None:
        problems.append(f"narrowed {_label(path)} to the values {', '.join(sorted(new_values))}")
    elif new_values is not None and old_values is not None and old_values - new_values:
        removed = ", ".join(sorted(old_values - new_values))
        problems.append(f"narrowed enum of {_label(path)}: removed {removed}")
    for keyword in ("pattern", "format"):
        if keyword in new and new[keyword] != old.get(keyword):
            problems.append(
                f"changed {keyword} of {_label(path)} from {old.get(keyword)!r} to {new[keyword]!r}"
            )
    for keyword in _LOWER_BOUNDS:
        if keyword in new and (keyword not in old or new[keyword] > old[keyword]):
            problems.append(f"raised {keyword} of {_label(path)} to {new[keyword]}")
    for keyword in _UPPER_BOUNDS:
        if keyword in new and (keyword not in old or new[keyword] < old[keyword]):
            problems.append(f"lowered {keyword} of {_label(path)} to {new[keyword]}")
    return problems


def _compare_objects(
    old: Schema, new: Schema, roots: tuple[Schema, Schema], path: str
) -> list[str]:
    problems: list[str] = []
    old_fields: Schema = old.get("properties", {})
    new_fields: Schema = new.get("properties", {})
    prefix = f"{path}." if path else ""
    for name, schema in old_fields.items():
        if name not in new_fields:
            problems.append(f"removed field '{prefix}{name}'")
        else:
            problems += _compare(schema, new_fields[name], roots, f"{prefix}{name}")
    old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
    for name in sorted(new_required - old_required):
        if name in old_fields:
            problems.append(f"field '{prefix}{name}' became required")
        else:
            problems.append(f"new required field '{prefix}{name}'")
    if (
        old.get("additionalProperties", True) is not False
        and new.get("additionalProperties") is False
    ):
        problems.append(f"{_label(path)} no longer accepts additional fields")
    return problems


def check_compatibility(old_schema: Schema, new_schema: Schema) -> list[str]:
    """Human-readable breaking changes from ``old_schema`` to ``new_schema``; empty if none."""
    return _compare(old_schema, new_schema, (old_schema, new_schema), "")


def _split(key: str) -> tuple[str, int]:
    match = _KEY.fullmatch(key)
    return (match["type"], int(match["version"])) if match else (key, 0)


def _new_version_problem(key: str, current: dict[str, Schema], committed: dict[str, Schema]) -> str:
    event_type, version = _split(key)
    previous = f"{event_type}/v{version - 1}"
    if version == 0:
        return f"{key}: not a 'type/vN' key"
    if version == 1:
        return ""
    if previous not in committed and previous not in current:
        return f"{key}: new version, but {previous} does not exist (versions must not skip)"
    if current[key].get(UPCAST_FROM) != version - 1:
        return f"{key}: new version without an upcaster from v{version - 1}"
    return ""


def registry_diff(committed: dict[str, Schema], current: dict[str, Schema]) -> list[str]:
    """Breaking differences between the committed export and the current one, each prefixed by
    its ``type/vN``; empty when the current registry may replace the committed one.

    A committed version must still exist and read what it read; a new version must follow the
    one before it and be reached by an upcaster. Non-breaking edits are not reported: refresh the
    committed file to record them.
    """
    problems: list[str] = []
    for key in sorted(committed):
        if key not in current:
            problems.append(f"{key}: removed (payloads of a committed version stay in the log)")
            continue
        problems += [
            f"{key}: {problem}" for problem in check_compatibility(committed[key], current[key])
        ]
    for key in sorted(current.keys() - committed.keys()):
        problem = _new_version_problem(key, current, committed)
        if problem:
            problems.append(problem)
    return problems
