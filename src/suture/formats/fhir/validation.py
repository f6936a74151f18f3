"""JSON bytes → a validated fhir.resources R4B model, or every issue found, with its FHIRPath.

Three layers, each adding what the one before cannot see:

1. JSON: the body parses (decimals kept exact, as FHIR decimals are) and is an object with a
   ``resourceType`` this server knows (400 otherwise); no string holds a control character
   but tab, CR and LF (FHIR R4 datatypes.html#string; PostgreSQL cannot store a NUL either);
2. the R4B model (``fhir.resources.R4B``): types, cardinalities, unknown elements, primitive
   formats; each pydantic error becomes an issue at its FHIRPath (400);
3. this server's rules: no ``null`` members, which the models would read as absent (400);
   required bindings (:mod:`.bindings`) and modifier extensions, which a receiver that does
   not understand them must refuse (FHIR R4 extensibility.html#modifierExtension) (422).

fhir.resources resolves a ``contained`` resource by its ``resourceType`` and raises a bare
``KeyError`` for a type it does not know; the codec checks those types first, and maps any other
exception the library lets escape to a ``structure`` issue, so no input ends in a crash.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError

from suture.formats.fhir.bindings import check_required_codes
from suture.formats.fhir.errors import BAD_REQUEST, FhirDecodeError, Issue, fail
from suture.formats.fhir.paths import choice_stem, fhirpath

#: Resource types the codec maps to canonical records (and the endpoint accepts).
SUPPORTED_TYPES = (
    "ChargeItem",
    "Device",
    "Invoice",
    "Procedure",
    "SupplyDelivery",
    "SupplyRequest",
)

_MAX_DEPTH_ERROR = "the JSON nests too deeply"
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_ESCAPED_CONTROL = "\\u00"  # JSON text carries control characters only as \u00XX escapes


def load_json(body: bytes | str) -> dict[str, Any]:
    """The JSON object of a request body; 400 ``invalid``/``structure`` otherwise."""
    try:
        data = json.loads(body, parse_float=Decimal)
    except RecursionError:
        raise fail("invalid", _MAX_DEPTH_ERROR, "", BAD_REQUEST) from None
    except UnicodeDecodeError:
        raise fail("invalid", "the body is not UTF-8", "", BAD_REQUEST) from None
    except json.JSONDecodeError as error:  # the message gives a position, never content
        reason = f"the body is not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        raise fail("invalid", reason, "", BAD_REQUEST) from None
    except ValueError:  # an integer past Python's conversion limit (sys.int_info)
        digits = sys.get_int_max_str_digits()
        reason = f"the body is not JSON this server reads: a number of more than {digits} digits"
        raise fail("invalid", reason, "", BAD_REQUEST) from None
    if not isinstance(data, dict):
        raise fail("structure", "a FHIR resource is a JSON object", "", BAD_REQUEST)
    if isinstance(body, bytes):
        escaped = _ESCAPED_CONTROL.encode() in body
    else:
        escaped = _ESCAPED_CONTROL in body
    if escaped:
        _refuse_control_characters(data, str(data.get("resourceType") or "resource"))
    return data


def _refuse_control_characters(node: Any, path: str) -> None:
    """400 ``value`` at the first string holding a control character (see the module
    docstring); the walk runs only for bodies with a ``\\u00`` escape."""
    if isinstance(node, str):
        found = _CONTROL.search(node)
        if found is not None:
            reason = (
                f"{path} holds the control character U+{ord(found.group()):04X}; FHIR strings "
                "have none but tab, carriage return and line feed"
            )
            raise fail("value", reason, path, BAD_REQUEST)
    elif isinstance(node, dict):
        for key, value in node.items():
            _refuse_control_characters(value, f"{path}.{str(key).lstrip('_')}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _refuse_control_characters(item, f"{path}[{index}]")


@cache
def model_class(resource_type: str) -> type[FHIRAbstractModel] | None:
    """The R4B model of a resource type, or None when FHIR R4B has no such resource."""
    if not resource_type.isascii() or not resource_type.isalpha():
        return None
    try:
        found = get_fhir_model_class(resource_type)
    except ValueError:
        return None
    return found if found.has_resource_base() else None


def resource_type_of(data: Mapping[str, Any], path: str) -> str:
    """``resourceType``, present and a FHIR R4B resource name; 400 otherwise."""
    resource_type = data.get("resourceType")
    if resource_type is None:
        raise fail("required", f"{path}.resourceType is required", path, BAD_REQUEST)
    if not isinstance(resource_type, str) or model_class(resource_type) is None:
        reason = f"{path}.resourceType is not a FHIR R4 resource type"
        raise fail("structure", reason, f"{path}.resourceType", BAD_REQUEST)
    return resource_type


def validate_resource(
    data: Mapping[str, Any],
    *,
    path: str = "",
    expected: str | None = None,
    supported: Sequence[str] = SUPPORTED_TYPES,
) -> FHIRAbstractModel:
    """The validated model of ``data``; :class:`FhirDecodeError` with every issue otherwise.

    ``path`` is where the resource sits (``Bundle.entry[2].resource``; the resource type when
    empty); ``expected`` the type the endpoint's URL names (a mismatch is 400, as FHIR R4
    http.html#create says).
    """
    resource_type = resource_type_of(data, path or "resource")
    root = path or resource_type
    if expected is not None and resource_type != expected:
        reason = f"{root} is a {resource_type}, and this endpoint takes a {expected}"
        raise fail("structure", reason, f"{root}.resourceType", BAD_REQUEST)
    if resource_type not in supported:
        reason = f"{resource_type} is not supported; this server takes {', '.join(supported)}"
        raise fail("not-supported", reason, f"{root}.resourceType")
    issues: list[Issue] = []
    modifiers: list[Issue] = []
    _scan(data, root, issues, modifiers)
    issues.extend(_contained_types(data, root))
    if issues:
        raise FhirDecodeError(issues)
    cls = model_class(resource_type)
    assert cls is not None  # resource_type_of checked it
    try:
        model = cls.model_validate(data)
    except ValidationError as error:
        issues = [pydantic_issue(detail, root) for detail in error.errors(include_url=False)]
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        issues = [Issue("structure", f"{root} could not be validated", root, status=BAD_REQUEST)]
    else:
        issues = []
    if issues:
        raise FhirDecodeError(issues)
    issues = [
        issue.under(root, resource_type) for issue in check_required_codes(resource_type, data)
    ]
    issues.extend(modifiers)
    if issues:
        raise FhirDecodeError(issues)
    return model


def _contained_types(data: Mapping[str, Any], root: str) -> Iterator[Issue]:
    contained = data.get("contained")
    if not isinstance(contained, list):
        return
    for index, item in enumerate(contained):
        if not isinstance(item, Mapping):
            continue  # the model reports the wrong type with its path
        kind = item.get("resourceType")
        if not isinstance(kind, str) or model_class(kind) is None:
            where = f"{root}.contained[{index}].resourceType"
            reason = f"{where} is missing or not a FHIR R4 resource type"
            yield Issue("structure", reason, where, status=BAD_REQUEST)


def _scan(node: Any, path: str, nulls: list[Issue], modifiers: list[Issue]) -> None:
    """One walk for two rules: ``"element": null`` is not FHIR JSON (R4 json.html: an absent
    element is left out), and a modifier extension must be understood to be accepted.

    The input comes from ``json.loads``, so plain ``dict`` and ``list`` are all there is; paths
    are formatted only on the way down and where an issue is found (this walk is on the
    measured path of ``benchmarks/fhir_decode.py``)."""
    if type(node) is dict:
        for key, value in node.items():
            if value is None:
                where = f"{path}.{str(key).lstrip('_')}"
                reason = f"{where} is null; FHIR JSON leaves an absent element out"
                nulls.append(Issue("structure", reason, where, status=BAD_REQUEST))
            elif key == "modifierExtension" and value:
                where = f"{path}.modifierExtension"
                reason = f"{where}: this server does not understand modifier extensions"
                modifiers.append(Issue("not-supported", reason, where))
            elif type(value) is dict or type(value) is list:
                _scan(value, f"{path}.{str(key).lstrip('_')}", nulls, modifiers)
    elif type(node) is list:
        for index, item in enumerate(node):
            if type(item) is dict or type(item) is list:
                _scan(item, f"{path}[{index}]", nulls, modifiers)


_REQUIRED = frozenset({"missing", "model_field_validation.missing"})
_STRUCTURE_TEXT = {
    "extra_forbidden": "is not an element of this resource (FHIR R4B)",
    "json_invalid": "must be a JSON object (a FHIR complex type)",
    "dict_type": "must be a JSON object (a FHIR complex type)",
    "model_type": "must be a JSON object (a FHIR complex type)",
    "list_type": "must be a JSON array (the element repeats)",
    "fhir-validation-wrong-resource-type": "has the wrong resourceType",
}


def pydantic_issue(detail: Mapping[str, Any], root: str) -> Issue:
    kind = str(detail.get("type", ""))
    message = str(detail.get("msg", ""))
    where = fhirpath(root, detail.get("loc", ()))
    if kind in _REQUIRED:
        return Issue("required", f"{where} is required", where, status=BAD_REQUEST)
    if kind == "value_error" and "one field value" in message:
        stem = choice_stem(message)
        where = f"{where}.{stem}" if stem else where
        return Issue("structure", f"{where}[x] takes exactly one type", where, status=BAD_REQUEST)
    text = _STRUCTURE_TEXT.get(kind)
    if text is None:
        text = _safe(message.removeprefix("Value error, ").strip(), detail.get("input"))
        return Issue("value", f"{where}: {text}", where, status=BAD_REQUEST)
    return Issue("structure", f"{where} {text}", where, status=BAD_REQUEST)


def _safe(message: str, value: Any) -> str:
    """The library's message, unless it quotes the value (which may be PHI)."""
    if (
        isinstance(value, str | int | Decimal | float)
        and len(str(value)) >= 3
        and str(value) in message
    ):
        return "is not a valid value for this element"
    return message or "is not a valid value for this element"
