"""Raw message ingest over HTTP: ``POST /api/v1/system/messages`` (DESIGN.md §3, §6).

The body is stored through the inbox, exactly as the bytes arrived, before the answer goes
out (store before acknowledge); ``202`` then carries the message id and the trace id to follow
it with ``suture trace`` or the exception queue. The format comes from the content type:

- ``application/hl7-v2`` or ``x-application/hl7-v2+er7`` (HL7 v2 ER7): stored, decoded and
  applied like a message from the MLLP listener; the answer adds the HL7 acknowledgment code
  the listener would have sent (``AA``, ``AE``, ``AR``);
- ``application/edi-x12`` (RFC 1767) and ``text/csv``: stored; their decoders take them from
  the inbox.

The same bytes posted twice on the same interface are recognised: the second answer names the
first message and says ``duplicate``. A client bound to some facilities must name the facility
(``facility_id``) for X12 and CSV bodies; for HL7 v2 the facility in MSH-4 must be one of its
own. Either way a sender is refused (``403``) before anything is stored.
"""

from __future__ import annotations

import threading
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, Scope
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.security import check_record, require

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


class MessageAccepted(BaseModel):
    """A stored message."""

    message_id: str = Field(description="The inbox id: `suture trace` and exceptions link it.")
    trace_id: str = Field(description="The trace the message's processing belongs to.")
    format: Literal["hl7v2", "x12", "csv"]
    duplicate: bool = Field(description="The same bytes were already stored on this interface.")
    status: str = Field(description="The inbox status after this request.")
    ack_code: Literal["AA", "AE", "AR"] | None = Field(
        default=None, description="HL7 v2 only: the acknowledgment code MLLP would send."
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
        _store, hub, request.app.state.ingest_lock, raw, format_, interface, principal, facility_id
    )
    return JSONResponse(accepted.model_dump(mode="json"), status_code=202)


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
            check_record(principal, facility_id=hub.hl7_ingest.sending_facility_id(raw), write=True)
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
