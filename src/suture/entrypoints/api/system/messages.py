"""Raw message ingest over HTTP: ``POST /api/v1/system/messages`` (DESIGN.md §3, §6).

The body is stored through the inbox, exactly as the bytes arrived, before the answer goes
out (store before acknowledge); ``202`` then carries the message id and the trace id to follow
it with ``suture trace`` or the exception queue. The format comes from the content type:

- ``application/hl7-v2`` or ``x-application/hl7-v2+er7`` (HL7 v2 ER7): stored, decoded and
  applied like a message from the MLLP listener; the answer adds the HL7 acknowledgment code
  the listener would have sent (``AA``, ``AE``, ``AR``);
- ``application/edi-x12`` (RFC 1767): stored, then applied like ``suture ingest x12`` (855
  acknowledgments, 856 ship notices, 810 invoices; a 997 per group queued to the supplier); the
  answer's ``status`` says what became of it (``processed``, ``failed``, ``parked`` on an
  unknown sender) and ``acknowledgments`` how many 997s were queued;
- ``text/csv``: stored with a ``message.received`` event; the CSV feed configured for the
  interface (``SUTURE_CSV_FEEDS``, docs/csv-feeds.md) reads it and applies its rows.

The same bytes posted twice on the same interface are recognised: the second answer names the
first message and says ``duplicate``. A client bound to some facilities must name the facility
(``facility_id``) for X12 and CSV bodies; for HL7 v2 the facility in MSH-4 must be one of its
own. Either way a sender is refused (``403``) before anything is stored.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, Scope
from suture.domain.audit import RAW_READ, Actor, Outcome
from suture.domain.errors import SutureError
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.security import check_record, require
from suture.entrypoints.api.system.params import RecordId

router = APIRouter(prefix="/api/v1/system", tags=["ingest"])

#: Media type -> inbox format.
FORMATS = {
    "application/hl7-v2": "hl7v2",
    "x-application/hl7-v2+er7": "hl7v2",
    "application/edi-x12": "x12",
    "text/csv": "csv",
}
#: The largest body accepted (bytes); a larger one is ``413``.
MAX_BODY = 16 * 1024 * 1024

Writer = Annotated[Principal, require(Scope.SYSTEM_WRITE)]
Reader = Annotated[Principal, require(Scope.SYSTEM_READ)]
PhiReader = Annotated[Principal, require(Scope.PHI_READ)]

#: What each kind of raw message looks like (synthetic; no real patient), for the contract.
_RAW_EXAMPLES: dict[str, object] = {
    "x-application/hl7-v2+er7": "MSH|^~\\&|EPIC|STM|SUTURE|STM|20261120154200||DFT^P03|C1|P\r...",
    "application/edi-x12": "ISA*00*          *00*          *ZZ*ACME           *ZZ*SUTURE  ...~",
    "text/csv": "Facility,Account Number,Encounter Number,Service Date,Txn Type,CDM Code,...\n",
    "application/fhir+json": {"resourceType": "ChargeItem", "status": "billable"},
}

#: Inbox format -> the media type its raw bytes are served with.
MEDIA_TYPES = {
    "hl7v2": "x-application/hl7-v2+er7",
    "x12": "application/edi-x12",
    "csv": "text/csv",
    "fhir": "application/fhir+json",
}


def actor(principal: Principal, scope: Scope) -> Actor:
    """An API caller as the audit trail names it: the client, and the scope the route used."""
    return Actor(name=principal.client_id, client_id=principal.client_id, scope=str(scope))


class MessageAccepted(BaseModel):
    """A stored message."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "message_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b",
                    "trace_id": "0193a1b27c3d7e4f8a9b0c1d2e3f4a5b",
                    "format": "hl7v2",
                    "duplicate": False,
                    "status": "processed",
                    "ack_code": "AA",
                }
            ]
        }
    )

    message_id: str = Field(description="The inbox id: `suture trace` and exceptions link it.")
    trace_id: str = Field(description="The trace the message's processing belongs to.")
    format: Literal["hl7v2", "x12", "csv"]
    duplicate: bool = Field(description="The same bytes were already stored on this interface.")
    status: str = Field(description="The inbox status after this request.")
    ack_code: Literal["AA", "AE", "AR"] | None = Field(
        default=None, description="HL7 v2 only: the acknowledgment code MLLP would send."
    )
    acknowledgments: int | None = Field(
        default=None, description="X12 only: the 997 functional acknowledgments queued."
    )
    status_reason: str | None = Field(
        default=None, description="X12 only: why it failed or is parked; never content."
    )


@router.post(
    "/messages",
    summary="Ingest a raw message",
    status_code=202,
    response_model=MessageAccepted,
    responses=responses(401, 403, 413, 415, 422, 429),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": {"type": "string", "format": "binary", "minLength": 1}}
                for media in FORMATS
            },
        }
    },
)
async def ingest_message(
    request: Request,
    principal: Writer,
    interface: Annotated[
        str,
        Query(min_length=1, max_length=64, description="The interface name stored with it."),
    ] = "api",
    facility_id: Annotated[
        str | None, Query(description="The facility of an X12 or CSV body.")
    ] = None,
) -> JSONResponse:
    """Store a raw HL7 v2, X12 or CSV message before answering, then decode it."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    format_ = FORMATS.get(media)
    if format_ is None:
        raise HTTPException(
            415, f"content type {media or '(none)'} is not one of {sorted(FORMATS)}"
        )
    raw = await request.body()
    if not raw:
        raise HTTPException(422, "the body is empty")
    if len(raw) > MAX_BODY:
        raise HTTPException(413, f"the body is larger than {MAX_BODY} bytes")
    hub: Hub = request.app.state.hub
    accepted = await run_in_threadpool(
        _audited_store,
        hub,
        request.app.state.ingest_lock,
        raw,
        format_,
        interface,
        principal,
        facility_id,
    )
    return JSONResponse(accepted.model_dump(mode="json"), status_code=202)


def _audited_store(  # noqa: PLR0917  (one request's parts, passed to a worker thread)
    hub: Hub,
    lock: threading.Lock,
    raw: bytes,
    format_: str,
    interface: str,
    principal: Principal,
    facility_id: str | None,
) -> MessageAccepted:
    """:func:`_store`, recorded in the audit trail whatever the outcome (the ingest commits on
    its own, so the record is a transaction of its own, after it)."""
    who = actor(principal, Scope.SYSTEM_WRITE)
    try:
        accepted = _store(hub, lock, raw, format_, interface, principal, facility_id)
    except AccessDeniedError as error:
        _denied(hub, who, f"{error.field}: {error.reason}")
        raise
    except HTTPException as error:
        if error.status_code == 403:
            _denied(hub, who, str(error.detail))
        raise
    except SutureError as error:
        hub.audit.record_alone(
            who, "message.ingest", target_type="inbound_message", outcome=Outcome.FAILED,
            reason=f"{error.field}: {error.reason}",
        )  # fmt: skip
        raise
    hub.audit.record_alone(
        who, "message.ingest", target_type="inbound_message", target_id=accepted.message_id,
        after=f"format={accepted.format} status={accepted.status} duplicate={accepted.duplicate}",
    )  # fmt: skip
    return accepted


def _denied(hub: Hub, who: Actor, reason: str) -> None:
    hub.audit.record_alone(
        who, "message.ingest", target_type="inbound_message", outcome=Outcome.DENIED, reason=reason
    )


def _store(  # noqa: PLR0917  (one request's parts, passed to a worker thread)
    hub: Hub,
    lock: threading.Lock,
    raw: bytes,
    format_: str,
    interface: str,
    principal: Principal,
    facility_id: str | None,
) -> MessageAccepted:
    source = principal.client_id
    if format_ == "hl7v2":
        if not principal.all_facilities:
            sending = hub.hl7_ingest.sending_facility_id(raw)
            if sending is None:  # else a facility-bound sender reads "may not write system-wide"
                raise AccessDeniedError("MSH-4", "names no facility of this hub")
            check_record(principal, facility_id=sending, write=True)
        with lock:  # Hl7Ingest serves one caller at a time (its facility cache)
            reply = hub.hl7_ingest.handle(raw, interface, source)
        message = hub.inbox.get(reply.message_id)
        return MessageAccepted(
            message_id=message.id,
            trace_id=message.trace_id,
            format="hl7v2",
            duplicate=reply.is_duplicate,
            status=str(message.status),
            ack_code=str(reply.code),  # type: ignore[arg-type]
        )
    if facility_id is None and not principal.all_facilities:
        raise AccessDeniedError("facility_id", "name the facility of the message")
    check_record(principal, facility_id=facility_id, write=facility_id is not None)
    if format_ == "x12":
        with lock:  # one writer at a time, like the HL7 path
            applied = hub.x12_ingest.receive(
                raw, interface=interface, source_system=source, facility_id=facility_id
            )
        return MessageAccepted(
            message_id=applied.message_id,
            trace_id=applied.trace_id,
            format="x12",
            duplicate=applied.is_duplicate,
            status=str(applied.status),
            acknowledgments=applied.acknowledgments,
            status_reason=applied.reason,
        )
    if format_ == "csv":  # stored with the event its feed's decoder runs on (csv-feeds.md)
        stored, duplicate = hub.csv_ingest.receive(
            raw, interface=interface, source_system=source, facility_id=facility_id
        )
    else:
        stored, duplicate = hub.inbox.receive(
            raw,
            format=format_,
            interface=interface,
            source_system=source,
            received_at=hub.clock(),
            facility_id=facility_id,
        )
    return MessageAccepted(
        message_id=stored.id,
        trace_id=stored.trace_id,
        format=format_,  # type: ignore[arg-type]
        duplicate=duplicate,
        status=str(stored.status),
    )


class MessagePublic(BaseModel):
    """A stored inbound message without its content (which may hold patient identifiers)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b",
                    "format": "hl7v2",
                    "interface": "mllp",
                    "source_system": "rcm",
                    "facility_id": "fac-1",
                    "received_at": "2026-11-20T15:42:05Z",
                    "size": 812,
                    "checksum": "9f2c000000000000000000000000000000000000000000000000000000000000",
                    "trace_id": "0193a1b27c3d7e4f8a9b0c1d2e3f4a5b",
                    "correlation_id": "tok_3f9c0e1b2a4d5c6e7f8091a2b3c4d5e6",
                    "status": "processed",
                    "status_reason": None,
                    "attempts": 0,
                }
            ]
        }
    )

    id: str
    format: str
    interface: str
    source_system: str
    facility_id: str | None
    received_at: datetime
    size: int = Field(description="Bytes of the raw message.")
    checksum: str = Field(description="SHA-256 of the raw bytes.")
    trace_id: str
    correlation_id: str | None = Field(description="The business key decoding learnt.")
    status: str = Field(description="received, decoded, processed, parked, failed, dead_lettered.")
    status_reason: str | None = Field(description="Why it is parked or failed; never content.")
    attempts: int


@router.get(
    "/messages/{message_id}",
    summary="Get a stored message's metadata",
    response_model=MessagePublic,
    responses=responses(401, 403, 404, 422, 429),
)
def get_message(request: Request, principal: Reader, message_id: RecordId) -> MessagePublic:
    """Where a message came from and what became of it; the content needs `phi:read`."""
    hub: Hub = request.app.state.hub
    message = hub.inbox.get(message_id)
    check_record(principal, facility_id=message.facility_id)
    return MessagePublic.model_validate(message, from_attributes=True)


@router.get(
    "/messages/{message_id}/raw",
    summary="Get a stored message's raw bytes (PHI)",
    response_class=Response,
    responses={
        200: {
            "description": "The bytes exactly as received.",
            # JSON media types (FHIR) are any JSON document; the others are bytes.
            "content": {media: {"schema": {} if media.endswith("json") else
                                {"type": "string", "format": "binary"},
                                "example": _RAW_EXAMPLES[media]}
                        for media in sorted(set(MEDIA_TYPES.values()))},
        },
        **responses(401, 403, 404, 422, 429),
    },
)  # fmt: skip
def get_message_raw(request: Request, principal: PhiReader, message_id: RecordId) -> Response:
    """The message exactly as it arrived. It may hold patient identifiers: it needs the
    `phi:read` scope, and every read is recorded in the audit trail."""
    hub: Hub = request.app.state.hub
    message = hub.inbox.get(message_id, with_raw=True)
    who = actor(principal, Scope.PHI_READ)
    try:
        check_record(principal, facility_id=message.facility_id)
    except HTTPException:
        hub.audit.record_alone(
            who, RAW_READ, target_type="inbound_message", target_id=message_id,
            outcome=Outcome.DENIED, reason="facility_id: outside the client's facilities",
        )  # fmt: skip
        raise
    hub.audit.record_alone(who, RAW_READ, target_type="inbound_message", target_id=message_id)
    return Response(
        message.raw or b"", media_type=MEDIA_TYPES.get(message.format, "application/octet-stream")
    )
