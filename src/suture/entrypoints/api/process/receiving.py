"""Process API: a dock receipt of a supplier's ship notice (``POST /api/v1/process/receipts``).

The receiving dock confirms an expected receipt (an X12 856 the supplier sent), in full or with
the quantity counted per ship-notice line; the hub records the receipt, adds the stock at the
receiving location in the item's base unit (consigned or owned), advances the PO to
``partially_received`` or ``received`` and publishes ``purchasing.receipt.recorded``
(:mod:`suture.services.receiving`). The client must be allowed to write at the notice's
facility; every attempt is recorded in the audit trail.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, Scope
from suture.domain.errors import DomainError
from suture.domain.purchasing import Receipt
from suture.entrypoints.api.auditing import audited
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.security import check_record, require
from suture.entrypoints.api.system import schemas as s

router = APIRouter(prefix="/api/v1/process", responses=responses(400, 401, 403, 422, 429))

Operator = Annotated[Principal, require(Scope.PROCESS_EXECUTE)]


class ReceiptLineCount(BaseModel):
    """The quantity counted on one ship-notice line, in that line's unit (0: not received)."""

    model_config = ConfigDict(extra="forbid")

    line_number: int = Field(ge=1, description="The ship-notice (expected receipt) line.")
    quantity: Decimal = Field(ge=0, max_digits=18, decimal_places=4)


class ReceiptCreate(BaseModel):
    """A dock receipt of one expected receipt; lines not listed are received in full."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "expected_receipt_id": "0b6c5f0e-8f57-5a8e-9d3c-2f1d8b7e4a11",
                    "location_id": "loc-central",
                    "lines": [{"line_number": 2, "quantity": "1"}],
                }
            ]
        },
    )

    expected_receipt_id: str = Field(min_length=1, description="From the ship notice.")
    location_id: str | None = Field(
        default=None, description="Where the goods go; default: the facility's central supply."
    )
    lines: list[ReceiptLineCount] = Field(default_factory=list)


@router.post(
    "/receipts",
    tags=["receiving"],
    summary="Receive a ship notice at the dock",
    status_code=201,
    response_model=s.ReceiptPublic,
    responses=responses(404),
)
async def receive_shipment(
    request: Request, principal: Operator, body: ReceiptCreate
) -> s.ReceiptPublic:
    """Record the receipt of an expected receipt (in full, or with counted quantities), add
    the stock and advance its purchase order."""
    if principal.supplier_id is not None:
        raise AccessDeniedError("supplier_id", "receipts are recorded by the hospital")
    hub: Hub = request.app.state.hub

    def run() -> Receipt:
        expected = hub.receiving.expected(body.expected_receipt_id)
        check_record(principal, facility_id=expected.facility_id, write=True)
        _refuse_a_line_twice(body.lines)
        with request.app.state.ingest_lock:
            return hub.receiving.receive(
                body.expected_receipt_id,
                quantities={line.line_number: line.quantity for line in body.lines},
                location_id=body.location_id,
                source_system=principal.client_id,
            )

    receipt = await run_in_threadpool(
        audited, hub, principal, Scope.PROCESS_EXECUTE, "receipt.record",
        target=("expected_receipt", body.expected_receipt_id), run=run,
        after=lambda done: f"receipt={done.id} lines={len(done.lines)}",
    )  # fmt: skip
    return s.ReceiptPublic.model_validate(receipt, from_attributes=True)


def _refuse_a_line_twice(lines: list[ReceiptLineCount]) -> None:
    """A line counted twice is refused: keeping the last count lost the first (two pallets
    counted apart are one count, added up by the clerk)."""
    seen: set[int] = set()
    for index, line in enumerate(lines):
        if line.line_number in seen:
            raise DomainError(
                f"lines[{index}].line_number",
                f"line {line.line_number} is counted twice; give it once",
            )
        seen.add(line.line_number)
