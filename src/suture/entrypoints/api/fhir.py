"""The FHIR R4 endpoint: ``POST /fhir/R4/{type}``, ``POST /fhir/R4`` (Bundles) and
``GET /fhir/R4/metadata`` (FHIR R4 http.html; DESIGN.md §6; docs/fhir.md, "HTTP").

Thin, like every route (STYLE.md habit 8): authentication and the ``system:write`` scope are
dependencies, the facility is decided here, and :class:`~suture.services.fhir_ingest.FhirIngest`
stores the raw body before anything else, decodes, applies and says what to answer.

- Bodies are ``application/fhir+json`` or ``application/json`` (FHIR R4 http.html#mime-type);
  answers are ``application/fhir+json``: an OperationOutcome (what the resource became, or every
  issue with its FHIRPath, 400/422 as the codec decides), or a ``batch-response`` /
  ``transaction-response`` Bundle. Created resources are ``201`` with ``Location:
  /fhir/R4/{type}/{id}``; the same bytes again are ``200`` with the first Location.
- Authentication, scope, throttling and query-parameter errors (401, 403, 429, 422 on
  ``facility_id``) stay ``application/problem+json`` from the shared handlers: they happen
  before the FHIR layer, OAuth2 clients read RFC 6750 challenges from them, and every route of
  the hub refuses alike (the authorization matrix checks one shape).
- **Facility.** The facility of the records is the ``facility_id`` query parameter, or the
  token's only facility when the client is bound to exactly one. FHIR resources carry no
  dependable facility (a ChargeItem has no such element; organisation and location references
  are the sender's codes), while the token is what the hub trusts. A facility outside the token
  is ``403`` before anything is stored.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, Scope
from suture.domain.masterdata import Facility
from suture.entrypoints.api.auditing import audited
from suture.entrypoints.api.security import check_record, require
from suture.formats.fhir import capability_statement
from suture.services.fhir_ingest import FhirReply

PREFIX = "/fhir/R4"
FHIR_JSON = "application/fhir+json"
MEDIA_TYPES = (FHIR_JSON, "application/json")
#: The largest body accepted (bytes), as for raw messages; a larger one is ``413``.
MAX_BODY = 16 * 1024 * 1024
#: When this CapabilityStatement was last changed (its ``date``).
PUBLISHED = "2026-11-26"
SOFTWARE_VERSION = "0.1.0"

router = APIRouter(prefix=PREFIX, tags=["fhir"])
Writer = Annotated[Principal, require(Scope.SYSTEM_WRITE)]
#: The types created at ``POST /fhir/R4/{type}``: the codec's (tests check they agree).
RESOURCE_TYPES = ("ChargeItem", "SupplyDelivery", "Procedure", "Device", "Invoice", "SupplyRequest")


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON


class OutcomeIssue(BaseModel):
    """OperationOutcome.issue: severity, code, diagnostics and the FHIRPath ``expression``."""

    model_config = ConfigDict(extra="allow")
    severity: Literal["fatal", "error", "warning", "information"]
    code: str
    diagnostics: str | None = None
    expression: list[str] | None = None


class OperationOutcome(BaseModel):
    """A FHIR R4 OperationOutcome (operationoutcome.html)."""

    model_config = ConfigDict(extra="allow")
    resourceType: Literal["OperationOutcome"]  # noqa: N815  (FHIR's element name)
    issue: list[OutcomeIssue]


class EntryResponse(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: str = Field(description="`201 Created`, `400 Bad Request`, `422 ...`.")
    location: str | None = None
    outcome: OperationOutcome | None = None


class ResponseEntry(BaseModel):
    model_config = ConfigDict(extra="allow")
    response: EntryResponse


class ResponseBundle(BaseModel):
    """A ``batch-response`` or ``transaction-response`` Bundle, one entry per request entry."""

    model_config = ConfigDict(extra="allow")
    resourceType: Literal["Bundle"]  # noqa: N815
    type: Literal["batch-response", "transaction-response"]
    entry: list[ResponseEntry] = Field(default_factory=list)


class CapabilityStatement(BaseModel):
    model_config = ConfigDict(extra="allow")
    resourceType: Literal["CapabilityStatement"]  # noqa: N815


def _fhir(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"model": model, "description": description}


def _problem(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": description, "content": {"application/problem+json": {"schema": schema}}}


#: One example body per operation (synthetic identifiers; no real patient).
_VISIT = {"reference": "Encounter/e1", "identifier": {"value": "V-20261120-0042"}}
_EXAMPLES: dict[str, dict[str, Any]] = {
    "ChargeItem": {
        "resourceType": "ChargeItem", "status": "billable",
        "identifier": [{"system": "urn:rcm:charge-line", "value": "TX-555"}],
        "code": {"coding": [{"system": "urn:cdm", "code": "27800123"}]},
        "subject": {"identifier": {"value": "MRN-SYNTH-1"}}, "context": _VISIT,
        "quantity": {"value": 1}, "priceOverride": {"value": 9800.00, "currency": "USD"},
        "occurrenceDateTime": "2026-11-20T15:42:00Z",
    },
    "SupplyDelivery": {
        "resourceType": "SupplyDelivery", "status": "completed",
        "suppliedItem": {"quantity": {"value": 2, "code": "EA"},
                         "itemCodeableConcept": {"coding": [{"code": "00614141000012"}]}},
        "occurrenceDateTime": "2026-11-20T15:10:00Z",
        "destination": {"identifier": {"value": "OR-CORE"}},
    },
    "Procedure": {
        "resourceType": "Procedure", "status": "completed",
        "subject": {"identifier": {"value": "MRN-SYNTH-1"}}, "encounter": _VISIT,
        "performedDateTime": "2026-11-20T15:10:00Z",
        "location": {"identifier": {"value": "OR-CORE"}},
        "focalDevice": [{"manipulated": {"reference": "#implant"}}],
        "usedCode": [{"coding": [{"code": "ITM-77B1"}]}],
        "contained": [{"resourceType": "Device", "id": "implant", "udiCarrier": [
            {"carrierHRF": "(01)00614141000012(17)290630(10)L123456(21)SN00012345"}]}],
    },
    "Device": {
        "resourceType": "Device", "id": "dev-1",
        "udiCarrier": [{"carrierHRF": "(01)00614141000012(17)290630(10)L123456(21)SN00012345"}],
    },
    "Invoice": {
        "resourceType": "Invoice", "status": "issued", "identifier": [{"value": "INV-77"}],
        "issuer": {"identifier": {"value": "0614141000005"}}, "date": "2026-11-20",
        "lineItem": [{
            "sequence": 1, "chargeItemCodeableConcept": {"coding": [{"code": "ITM-77B1"}]},
            "priceComponent": [{"type": "base", "factor": 2,
                                "amount": {"value": 50, "currency": "USD"}}],
        }],
    },
    "SupplyRequest": {
        "resourceType": "SupplyRequest", "status": "active",
        "identifier": [{"value": "SR-1001"}], "quantity": {"value": 4, "code": "BX"},
        "itemCodeableConcept": {"coding": [{"code": "ITM-77B1"}]},
        "authoredOn": "2026-11-20T09:00:00Z", "deliverTo": {"identifier": {"value": "OR-CORE"}},
    },
}  # fmt: skip
_EXAMPLES["Bundle"] = {
    "resourceType": "Bundle", "type": "batch",
    "entry": [{
        "resource": _EXAMPLES["ChargeItem"], "request": {"method": "POST", "url": "ChargeItem"},
    }],
}  # fmt: skip


def _body(kind: str) -> dict[str, Any]:
    """The request body of a create of ``kind`` (any FHIR resource: the codec validates it)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                media: {
                    "schema": {
                        "type": "object",
                        "required": ["resourceType"],
                        "properties": {"resourceType": {"type": "string"}},
                    },
                    "example": _EXAMPLES[kind],
                }
                for media in MEDIA_TYPES
            },
        }
    }


_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: _fhir(OperationOutcome, "Not a FHIR resource, or fails structural validation"),
    401: _problem("Unauthorized"),
    403: _problem("Forbidden"),
    413: _fhir(OperationOutcome, "The body is larger than 16 MiB"),
    415: _fhir(OperationOutcome, "Not application/fhir+json or application/json"),
    422: {
        **_fhir(OperationOutcome, "A rule of this server, or an unknown item/supplier/location"),
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    },
    429: _problem("Too Many Requests"),
}
FacilityParam = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=64,
        description="The facility the records belong to; default: the token's only facility.",
    ),
]


@router.get(
    "/metadata",
    summary="The CapabilityStatement",
    response_class=FhirResponse,
    response_model=CapabilityStatement,
    responses={
        200: {
            "content": {
                FHIR_JSON: {
                    "example": {
                        "resourceType": "CapabilityStatement",
                        "status": "active",
                        "kind": "instance",
                        "fhirVersion": "4.0.1",
                        "format": ["application/fhir+json"],
                        "rest": [
                            {
                                "mode": "server",
                                "resource": [
                                    {"type": "ChargeItem", "interaction": [{"code": "create"}]}
                                ],
                            }
                        ],
                    }
                }
            }
        }
    },
)
def metadata(request: Request) -> FhirResponse:
    """What this endpoint supports: creates of six types, and batch/transaction Bundles."""
    base = str(request.base_url).rstrip("/") + PREFIX
    statement = capability_statement(
        base_url=base, date=PUBLISHED, software_version=SOFTWARE_VERSION
    )
    return FhirResponse(statement)


# FHIR clients commonly post a Bundle to the base with a slash (``[base]/``): answered as the
# base, not redirected, as every write is (``trailing_slash.py``).
@router.post(
    "",
    summary="A batch or transaction Bundle of creates",
    response_class=FhirResponse,
    response_model=ResponseBundle,
    responses=_REFUSALS,
    openapi_extra=_body("Bundle"),
)
async def post_bundle(
    request: Request, principal: Writer, facility_id: FacilityParam = None
) -> FhirResponse:
    """Store the Bundle, then apply a batch entry by entry or a transaction all or nothing."""
    return await _post(request, principal, facility_id, None)


def _create(resource_type: str) -> Callable[..., Awaitable[FhirResponse]]:
    async def create(
        request: Request, principal: Writer, facility_id: FacilityParam = None
    ) -> FhirResponse:
        return await _post(request, principal, facility_id, resource_type)

    create.__doc__ = f"Store a {resource_type}, then decode and apply it; 201 with its Location."
    return create


# One operation per type rather than a path parameter: the contract names exactly what is
# supported, and other paths (``POST /fhir/R4/metadata``) are 404/405, not a validation error.
for _kind in RESOURCE_TYPES:
    router.add_api_route(
        f"/{_kind}",
        _create(_kind),
        methods=["POST"],
        name=f"create_{_kind}",
        summary=f"Create a {_kind}",
        status_code=201,
        response_class=FhirResponse,
        response_model=OperationOutcome,
        responses={
            200: _fhir(OperationOutcome, "The same bytes were received before"),
            **_REFUSALS,
        },
        openapi_extra=_body(_kind),
    )


async def _post(
    request: Request, principal: Principal, facility_id: str | None, resource_type: str | None
) -> FhirResponse:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in MEDIA_TYPES:
        return _refuse(415, "not-supported", f"the content type must be one of {list(MEDIA_TYPES)}")
    facility_id = _facility_of(principal, facility_id)
    raw = await request.body()
    if not raw.strip():
        return _refuse(400, "required", "the body is empty")
    if len(raw) > MAX_BODY:
        return _refuse(413, "too-costly", f"the body is larger than {MAX_BODY} bytes")
    hub: Hub = request.app.state.hub
    facility = await run_in_threadpool(hub.fhir_ingest.facility, facility_id)
    if facility is None:
        return _refuse(422, "not-found", "facility_id names no facility of this hub")
    lock: threading.Lock = request.app.state.ingest_lock
    reply = await run_in_threadpool(_submit, hub, lock, raw, facility, principal, resource_type)
    return _answer(reply)


def _facility_of(principal: Principal, asked: str | None) -> str:
    """The facility of the request, checked against the token (403 before anything is stored)."""
    if asked is None and not principal.all_facilities and len(principal.facility_ids) == 1:
        (asked,) = principal.facility_ids
    if asked is None:
        raise AccessDeniedError("facility_id", "name the facility of the records (facility_id)")
    check_record(principal, facility_id=asked, write=True)
    return asked


def _submit(  # noqa: PLR0917  (one request's parts, passed to a worker thread)
    hub: Hub,
    lock: threading.Lock,
    raw: bytes,
    facility: Facility,
    principal: Principal,
    resource_type: str | None,
) -> FhirReply:
    def run() -> FhirReply:
        with lock:  # one writer at a time, as for HL7 v2 ingest
            if resource_type is None:
                return hub.fhir_ingest.submit_bundle(
                    raw, facility=facility, source_system=principal.client_id
                )
            return hub.fhir_ingest.submit(
                raw,
                resource_type=resource_type,
                facility=facility,
                source_system=principal.client_id,
            )

    # Recorded like every API ingest: the message id, the answer's status, the outcome.
    return audited(
        hub, principal, Scope.SYSTEM_WRITE, "message.ingest",
        target=("inbound_message", None), run=run,
        after=lambda reply: (
            f"message_id={reply.message_id} format=fhir status={reply.status} "
            f"duplicate={reply.is_duplicate}"
        ),
    )  # fmt: skip


def _answer(reply: FhirReply) -> FhirResponse:
    if reply.bundle_type is None:
        headers = {"Location": f"{PREFIX}/{reply.location}"} if reply.location else None
        return FhirResponse(reply.outcome, status_code=reply.status, headers=headers)
    entries = []
    for entry in reply.entries:
        response: dict[str, Any] = {"status": f"{entry.status} {HTTPStatus(entry.status).phrase}"}
        if entry.location is not None:
            response["location"] = entry.location
        response["outcome"] = entry.outcome
        entries.append({"response": response})
    bundle = {"resourceType": "Bundle", "type": reply.bundle_type, "entry": entries}
    return FhirResponse(bundle, status_code=reply.status)


def _refuse(status: int, code: str, diagnostics: str) -> FhirResponse:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }
    return FhirResponse(outcome, status_code=status)
