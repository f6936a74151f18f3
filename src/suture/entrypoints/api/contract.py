"""Breaking changes between two OpenAPI documents: the committed contract and the code's.

DESIGN.md §6 promises consistent contracts; ``schemas/openapi.json`` is the one published, and
CI compares it with what the code serves (``suture api check``). A change is breaking when a
client written against the committed document could fail against the new service:

- a removed operation (path and method);
- a new required input: a required parameter or request body that was not required, a request
  field newly required, or an input that accepts less (narrowed type, enum, bound, pattern) —
  the same rules as event schemas (:func:`suture.eventlog.compatibility.check_compatibility`);
- in a success response: a removed or retyped field, or a field that may now be absent.

Adding operations, optional inputs and response fields is not breaking. A breaking change is
allowed only with a new major ``info.version`` (docs/api.md).
"""

from __future__ import annotations

from typing import Any

from suture.eventlog.compatibility import Schema, check_compatibility

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_MAX_DEPTH = 32


def major(document: Schema) -> int:
    version = str(document.get("info", {}).get("version", "0"))
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


def _defs(document: Schema) -> Schema:
    """The document's component schemas in the ``$defs`` shape the schema checks resolve."""
    return {"$defs": document.get("components", {}).get("schemas", {})}


def _resolve(schema: Schema, root: Schema) -> Schema:
    depth = 0
    while "$ref" in schema and depth < _MAX_DEPTH:
        schema = root["$defs"].get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
        depth += 1
    return schema


def _with_root(schema: Schema, root: Schema) -> Schema:
    return {**schema, "$defs": root["$defs"]}


def _kinds(schema: Schema, root: Schema) -> set[str]:
    schema = _resolve(schema, root)
    union = schema.get("anyOf") or schema.get("oneOf")
    if union:
        return set().union(*(_kinds(branch, root) for branch in union))
    if "type" in schema:
        return {str(schema["type"])}
    if "properties" in schema:
        return {"object"}
    return {"any"}


def _response_problems(
    old: Schema, new: Schema, roots: tuple[Schema, Schema], path: str
) -> list[str]:
    """What an old client reading the new response could trip on."""
    old_kinds, new_kinds = _kinds(old, roots[0]), _kinds(new, roots[1])
    label = f"'{path}'" if path else "the body"
    if "any" not in old_kinds and not new_kinds <= old_kinds:
        before, after = "/".join(sorted(old_kinds)), "/".join(sorted(new_kinds))
        return [f"changed type of {label} from {before} to {after}"]
    old_s, new_s = _object_or_array(old, roots[0]), _object_or_array(new, roots[1])
    problems: list[str] = []
    old_props, new_props = old_s.get("properties", {}), new_s.get("properties", {})
    prefix = f"{path}." if path else ""
    for name, schema in old_props.items():
        if name not in new_props:
            problems.append(f"removed field '{prefix}{name}'")
            continue
        if name in old_s.get("required", ()) and name not in new_s.get("required", ()):
            problems.append(f"field '{prefix}{name}' may now be absent")
        problems += _response_problems(schema, new_props[name], roots, f"{prefix}{name}")
    if "items" in old_s and "items" in new_s:
        problems += _response_problems(old_s["items"], new_s["items"], roots, f"{path}[]")
    return problems


def _object_or_array(schema: Schema, root: Schema) -> Schema:
    schema = _resolve(schema, root)
    for branch in schema.get("anyOf") or schema.get("oneOf") or ():
        resolved = _resolve(branch, root)
        if "properties" in resolved or "items" in resolved:
            return resolved
    return schema


def _parameters(operation: Schema) -> dict[tuple[str, str], Schema]:
    return {(p["in"], p["name"]): p for p in operation.get("parameters", ())}


def _json_schema(content: Schema | None) -> Schema | None:
    if not content:
        return None
    for media_type, entry in content.items():
        if media_type.endswith("json") and "schema" in entry:
            return dict(entry["schema"])
    return None


def _operation_problems(
    label: str, old: Schema, new: Schema, roots: tuple[Schema, Schema]
) -> list[str]:
    problems: list[str] = []
    old_params, new_params = _parameters(old), _parameters(new)
    for key, param in new_params.items():
        before = old_params.get(key)
        name = f"{key[0]} parameter '{key[1]}'"
        if param.get("required") and not (before and before.get("required")):
            problems.append(f"{label}: new required {name}")
        if before is not None:
            problems += [
                f"{label}: {name}: {problem}"
                for problem in check_compatibility(
                    _with_root(before.get("schema", {}), roots[0]),
                    _with_root(param.get("schema", {}), roots[1]),
                )
            ]
    old_body, new_body = old.get("requestBody", {}), new.get("requestBody", {})
    if new_body.get("required") and not old_body.get("required"):
        problems.append(f"{label}: the request body became required")
    old_in, new_in = _json_schema(old_body.get("content")), _json_schema(new_body.get("content"))
    if old_in is not None and new_in is not None:
        problems += [
            f"{label}: request body: {problem}"
            for problem in check_compatibility(
                _with_root(old_in, roots[0]), _with_root(new_in, roots[1])
            )
        ]
    for status, response in old.get("responses", {}).items():
        if not str(status).startswith("2"):
            continue
        after = new.get("responses", {}).get(status)
        if after is None:
            problems.append(f"{label}: no longer answers {status}")
            continue
        old_out, new_out = _json_schema(response.get("content")), _json_schema(after.get("content"))
        if old_out is not None and new_out is not None:
            problems += [
                f"{label}: {status} response: {problem}"
                for problem in _response_problems(old_out, new_out, roots, "")
            ]
    return problems


def openapi_diff(committed: Schema, current: Schema) -> list[str]:
    """Breaking changes from ``committed`` to ``current``; empty when compatible or when the
    major version was raised (a new major version may break)."""
    if major(current) > major(committed):
        return []
    roots = (_defs(committed), _defs(current))
    problems: list[str] = []
    new_paths: dict[str, Any] = current.get("paths", {})
    for path, item in sorted(committed.get("paths", {}).items()):
        for method in METHODS:
            if method not in item:
                continue
            label = f"{method.upper()} {path}"
            after = new_paths.get(path, {}).get(method)
            if after is None:
                problems.append(f"{label}: removed")
                continue
            problems += _operation_problems(label, item[method], after, roots)
    return problems
