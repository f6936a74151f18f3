"""Bundles of type ``batch`` and ``transaction``: every entry decoded and reported by index.

FHIR R4 http.html#transaction: a transaction succeeds or fails as a whole, a batch entry by
entry. Both are the edge's decision: the codec decodes every entry and reports each one's
issues with the entry in the FHIRPath (``Bundle.entry[2].resource.status``), so the edge can
answer a transaction with one OperationOutcome listing every problem, or a batch-response with
one outcome per entry.

Rules (R4 bundle.html, bdl-3): each entry needs a ``request``; this server takes ``POST``
(create) only, of the types of :data:`~.validation.SUPPORTED_TYPES`. Entries of other types
(a Patient, a Location) are reported as not supported, yet still resolve references: a
Procedure pointing at ``urn:uuid:…`` finds the Device entry with that ``fullUrl`` and its UDI,
and a reference to a Patient entry has its type checked and its identifier tokenized.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from suture.formats.fhir.decoder import Decoded, Decoding, decode_model
from suture.formats.fhir.errors import (
    BAD_REQUEST,
    FhirDecodeError,
    Issue,
    fail,
    http_status,
    operation_outcome,
)
from suture.formats.fhir.references import Resolver
from suture.formats.fhir.validation import load_json, model_class, pydantic_issue, validate_resource

#: Bundle types this server processes.
BUNDLE_TYPES = ("batch", "transaction")
_CREATED = 201


@dataclass(frozen=True, slots=True)
class _Value:
    value: str


@dataclass(frozen=True, slots=True)
class _Listed:
    """An entry the codec does not decode, kept so that references to it still resolve."""

    resource_type: str
    identifier: tuple[_Value, ...]
    id: str | None = None

    def get_resource_type(self) -> str:
        return self.resource_type


@dataclass(frozen=True, slots=True)
class BundleEntry:
    """One entry: what it asked for, its decoded record or its issues."""

    index: int
    full_url: str | None
    method: str | None
    decoded: Decoded | None
    issues: tuple[Issue, ...]

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def status(self) -> int:
        """201 for a decoded create, else 400/422 as for a lone resource."""
        return _CREATED if self.ok else http_status(self.issues)


@dataclass(frozen=True, slots=True)
class DecodedBundle:
    type: str
    entries: tuple[BundleEntry, ...]

    @property
    def ok(self) -> bool:
        return all(entry.ok for entry in self.entries)

    @property
    def issues(self) -> tuple[Issue, ...]:
        return tuple(issue for entry in self.entries for issue in entry.issues)

    @property
    def outcome(self) -> dict[str, Any]:
        """Every entry's issues in one OperationOutcome (a transaction's answer)."""
        return operation_outcome(self.issues)

    @property
    def http_status(self) -> int:
        """200 for a batch (its entries carry their own) and a clean transaction, else 400/422."""
        if self.type == "batch" or self.ok:
            return 200
        return http_status(self.issues)


def decode_bundle(body: bytes | str | Mapping[str, Any], decoding: Decoding) -> DecodedBundle:
    """Validate a batch/transaction Bundle and decode each entry; whole-Bundle faults raise."""
    data = body if isinstance(body, Mapping) else load_json(body)
    if data.get("resourceType") != "Bundle":
        raise fail("structure", "the body must be a Bundle", "Bundle.resourceType", BAD_REQUEST)
    raw_entries = data.get("entry") or []
    _validate_envelope(data, raw_entries)
    kind = str(data.get("type"))
    if kind not in BUNDLE_TYPES:
        reason = f"Bundle.type must be {' or '.join(BUNDLE_TYPES)} at this endpoint"
        raise fail("not-supported", reason, "Bundle.type")
    found: dict[int, tuple[Any, Mapping[str, Any]]] = {}
    issues: dict[int, list[Issue]] = {index: [] for index in range(len(raw_entries))}
    listed: dict[str, Any] = {}
    for index, entry in enumerate(raw_entries):
        full_url, resource = entry.get("fullUrl"), entry.get("resource")
        problem = _full_url_issue(full_url, index, listed) or _request_issue(entry, index)
        if isinstance(full_url, str) and isinstance(resource, Mapping):
            listed.setdefault(full_url, _listing(resource))
        if problem is not None:
            issues[index].append(problem)
            continue
        try:
            model = validate_resource(resource, path=f"Bundle.entry[{index}].resource")
        except FhirDecodeError as error:
            issues[index].extend(error.issues)
            continue
        found[index] = (model, resource)
        if isinstance(full_url, str):
            listed[full_url] = model
    resolver = Resolver(entries=listed, known=decoding.known_devices)
    decoded: dict[int, Decoded] = {}
    for index, (model, resource) in found.items():
        path = f"Bundle.entry[{index}].resource"
        try:
            decoded[index] = decode_model(model, resource, decoding, resolver=resolver, path=path)
        except FhirDecodeError as error:
            issues[index].extend(error.issues)
    entries = tuple(
        BundleEntry(
            index=index,
            full_url=entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None,
            method=_method(entry),
            decoded=decoded.get(index),
            issues=tuple(issues[index]),
        )
        for index, entry in enumerate(raw_entries)
    )
    return DecodedBundle(kind, entries)


def _validate_envelope(data: Mapping[str, Any], raw_entries: Any) -> None:
    """The Bundle without its entries' resources, through the R4B model (400 on a fault)."""
    if not isinstance(raw_entries, list) or not all(isinstance(e, Mapping) for e in raw_entries):
        raise fail(
            "structure", "Bundle.entry must be an array of objects", "Bundle.entry", BAD_REQUEST
        )
    envelope = dict(data)
    envelope["entry"] = [{k: v for k, v in e.items() if k != "resource"} for e in raw_entries]
    if not envelope["entry"]:
        envelope.pop("entry")
    try:
        Bundle.model_validate(envelope)
    except ValidationError as error:
        raise FhirDecodeError(
            [pydantic_issue(detail, "Bundle") for detail in error.errors(include_url=False)]
        ) from None
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        raise fail(
            "structure", "the Bundle could not be validated", "Bundle", BAD_REQUEST
        ) from None


def _method(entry: Mapping[str, Any]) -> str | None:
    request = entry.get("request")
    method = request.get("method") if isinstance(request, Mapping) else None
    return method if isinstance(method, str) else None


def _request_issue(entry: Mapping[str, Any], index: int) -> Issue | None:
    where = f"Bundle.entry[{index}]"
    method = _method(entry)
    if method is None:
        reason = f"{where}.request is required in a batch or transaction (bdl-3)"
        return Issue("required", reason, f"{where}.request", status=BAD_REQUEST)
    if method != "POST":
        reason = f"{where}.request.method: this server takes POST (create) only"
        return Issue("not-supported", reason, f"{where}.request.method")
    resource = entry.get("resource")
    if not isinstance(resource, Mapping):
        reason = f"{where}.resource is required for a POST"
        return Issue("required", reason, f"{where}.resource", status=BAD_REQUEST)
    url = entry["request"].get("url")
    kind = resource.get("resourceType")
    if isinstance(url, str) and isinstance(kind, str):
        named = url.partition("?")[0].rstrip("/").rsplit("/", 1)[-1]
        if named.startswith("$"):
            reason = f"{where}.request.url: this server takes no operations, only creates"
            return Issue("not-supported", reason, f"{where}.request.url")
        if named != kind:
            reason = f"{where}.request.url must name the type of the resource it creates"
            return Issue("structure", reason, f"{where}.request.url", status=BAD_REQUEST)
    return None


def _full_url_issue(full_url: Any, index: int, listed: Mapping[str, Any]) -> Issue | None:
    """bdl-7: two entries may not share a fullUrl (a reference to it would be ambiguous)."""
    if isinstance(full_url, str) and full_url in listed:
        where = f"Bundle.entry[{index}].fullUrl"
        reason = f"{where} repeats the fullUrl of an earlier entry (bdl-7)"
        return Issue("structure", reason, where, status=BAD_REQUEST)
    return None


def _listing(resource: Mapping[str, Any]) -> _Listed | None:
    kind = resource.get("resourceType")
    if not isinstance(kind, str) or model_class(kind) is None:
        return None
    values = []
    for identifier in resource.get("identifier") or []:
        if isinstance(identifier, Mapping) and isinstance(identifier.get("value"), str):
            values.append(_Value(identifier["value"]))
    rid = resource.get("id")
    return _Listed(kind, tuple(values), rid if isinstance(rid, str) else None)
