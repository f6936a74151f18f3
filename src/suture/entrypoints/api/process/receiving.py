"""Process API: a dock receipt of a supplier's ship notice (``POST /api/v1/process/receipts``).

The receiving dock confirms an expected receipt (an X12 856 the supplier sent), in full or with
the quantity counted per ship-notice line; the hub records the receipt, adds the stock at the
receiving location in the item's base unit (consigned or owned), advances the PO to
``partially_received`` or ``received`` and publishes ``purchasing.receipt.recorded``
(:mod:`suture.services.receiving`). The answer lists the PO lines received beyond what was open
on them (``over_receipts``), which a ``quantity_variance`` exception item also holds. The
client must be allowed to write at the notice's facility; every attempt is recorded in the
audit trail.
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
from suture.domain.purchasing import OverReceipt
from suture.entrypoints.api.auditing import audited
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.security import check_record, require
from suture.entrypoints.api.system import schemas as s
from suture.services.receiving import Received

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


class OverReceiptPublic(BaseModel):
    """A PO line received beyond what was open on it, in the PO line's unit."""

    po_line_number: int
    item_id: str
    uom: str = Field(description="The PO line's unit.")
    ordered: Decimal
    received_before: Decimal = Field(description="Received on earlier receipts.")
    open: Decimal = Field(description="What was left to receive before this receipt.")
    received_now: Decimal
    excess: Decimal = Field(description="received_now - open: more than the PO left open.")

    @classmethod
    def of(cls, over: OverReceipt) -> OverReceiptPublic:
        """Quantities without the store's trailing zeros (``5``, not ``5.0000``), as counted."""
        return cls(
            po_line_number=over.line_number, item_id=over.item_id, uom=over.uom,
            ordered=_plain(over.ordered), received_before=_plain(over.received_before),
            open=_plain(over.open), received_now=_plain(over.received_now),
            excess=_plain(over.excess),
        )  # fmt: skip


class ReceiptConfirmationPublic(s.ReceiptPublic):
    """The receipt recorded, and what it received beyond the purchase order."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "rec-1",
                    "number": "RCV-SHIP-77",
                    "facility_id": "fac-1",
                    "location_id": "loc-1-central",
                    "received_at": "2026-11-22T09:30:00Z",
                    "purchase_order_id": "po-1",
                    "lines": [
                        {
                            "line_number": 1,
                            "item_id": "ITM-77B1",
                            "quantity": "7",
                            "uom": "BX",
                            "po_line_number": 1,
                            "lot": "L2611",
                            "serial": None,
                            "expiry": "2028-11-30",
                        }
                    ],
                    "source_system": "dock-client",
                    "over_receipts": [
                        {
                            "po_line_number": 1,
                            "item_id": "ITM-77B1",
                            "uom": "BX",
                            "ordered": "5",
                            "received_before": "0",
                            "open": "5",
                            "received_now": "7",
                            "excess": "2",
                        }
                    ],
                }
            ]
        },
    )

    over_receipts: list[OverReceiptPublic] = Field(
        description="PO lines received beyond what was open on them (more than ordered, than "
        "earlier receipts left, or anything on a rejected line); empty when none. The receipt "
        "is kept as counted, and one quantity_variance exception item names these lines."
    )


@router.post(
    "/receipts",
    tags=["receiving"],
    summary="Receive a ship notice at the dock",
    status_code=201,
    response_model=ReceiptConfirmationPublic,
    responses=responses(404),
)
async def receive_shipment(
    request: Request, principal: Operator, body: ReceiptCreate
) -> ReceiptConfirmationPublic:
    """Record the receipt of an expected receipt (in full, or with counted quantities), add
    the stock and advance its purchase order; report the lines received beyond the PO."""
    if principal.supplier_id is not None:
        raise AccessDeniedError("supplier_id", "receipts are recorded by the hospital")
    hub: Hub = request.app.state.hub

    def run() -> Received:
        expected = hub.receiving.expected(body.expected_receipt_id)
        check_record(principal, facility_id=expected.facility_id, write=True)
        _refuse_a_line_twice(body.lines)
        with request.app.state.ingest_lock:
            return hub.receiving.confirm(
                body.expected_receipt_id,
                quantities={line.line_number: line.quantity for line in body.lines},
                location_id=body.location_id,
                source_system=principal.client_id,
            )

    received = await run_in_threadpool(
        audited, hub, principal, Scope.PROCESS_EXECUTE, "receipt.record",
        target=("expected_receipt", body.expected_receipt_id), run=run,
        after=lambda done: f"receipt={done.receipt.id} lines={len(done.receipt.lines)}",
    )  # fmt: skip
    recorded = s.ReceiptPublic.model_validate(received.receipt, from_attributes=True)
    return ReceiptConfirmationPublic(
        **recorded.model_dump(),
        over_receipts=[OverReceiptPublic.of(over) for over in received.over_receipts],
    )


def _plain(quantity: Decimal) -> Decimal:
    """``5.0000`` as ``5``, ``2.5000`` as ``2.5``, never ``5E+1``."""
    normal = quantity.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


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
