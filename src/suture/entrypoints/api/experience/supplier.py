"""Experience API: supplier self-service (DESIGN.md §6, "a supplier sees only its own POs and
invoices").

A client bound to a supplier (``suture clients create --supplier S --scopes
experience:supplier``) sees its purchase orders and its invoices with their match and payment
status (``received``, ``matched``, ``exception``, ``approved``, ``paid``). The supplier filter is
the token's and cannot be widened: there is no ``supplier_id`` parameter here. A client that is
not bound to a supplier is refused. ``/invoices/{id}/match`` adds the three-way match line
by line and a payment status (pending, on_hold, approved_for_payment, approved, paid);
``/invoices/{id}/payment`` the ERP's own payment state and amount to pay, read from the ERP.

Procure-to-pay (issue 5): a supplier **submits an invoice** as JSON (``POST .../invoices``),
which is stored raw and filed by the same path as an X12 810
(:mod:`suture.services.supplier_invoices`), and sees its **acknowledgments** (each PO line's
answer as the hub recorded it from the 855) and its **receipts** (each ship notice, ``expected``
or ``received`` at the dock with the receipt's id).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, RecordFilter, Scope
from suture.domain.invoicing import InvoiceStatus
from suture.entrypoints.api.auditing import audited
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.process.matching import InvoiceMatchPublic, payment_status, public
from suture.entrypoints.api.security import require
from suture.entrypoints.api.system import schemas as s
from suture.entrypoints.api.system.params import (
    Cursor,
    ExpectedReceiptStatusFilter,
    InvoiceStatusFilter,
    Limit,
    Number,
    PurchaseOrderStatusFilter,
    RecordId,
    Since,
    Until,
)
from suture.entrypoints.api.system.purchasing import (
    EXPECTED_RECEIPTS,
    INVOICES,
    PURCHASE_ORDERS,
    erp_payment,
)
from suture.entrypoints.api.system.records import Resource, found, get_one, list_page
from suture.entrypoints.api.system.schemas import PublicModel
from suture.services.supplier_invoices import InvoiceFiled, SubmittedInvoice, SubmittedLine

router = APIRouter(
    prefix="/api/v1/experience/supplier",
    tags=["supplier self-service"],
    responses=responses(401, 403, 422, 429),
)

SupplierUser = Annotated[Principal, require(Scope.EXPERIENCE_SUPPLIER)]


def own(principal: Principal) -> RecordFilter:
    """The records a supplier's client may see: its supplier's, in its facilities."""
    if principal.supplier_id is None:
        raise AccessDeniedError("supplier_id", "this client is not bound to a supplier")
    return principal.record_filter()


@router.get(
    "/purchase-orders",
    summary="List our purchase orders",
    response_model=s.Page[s.PurchaseOrderPublic],
)
def list_our_purchase_orders(
    request: Request,
    principal: SupplierUser,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
    status: PurchaseOrderStatusFilter = None,
    since: Since = None,
    until: Until = None,
    number: Number = None,
) -> s.Page[s.PurchaseOrderPublic]:
    """The purchase orders the hospitals sent this supplier, by order date filters."""
    return list_page(
        request.app.state.hub, PURCHASE_ORDERS, own(principal), cursor=cursor, limit=limit,
        status=status, since=since, until=until, number=number,
    )  # fmt: skip


@router.get(
    "/purchase-orders/{record_id}",
    summary="Get one of our purchase orders",
    response_model=s.PurchaseOrderPublic,
    responses=responses(404),
)
def get_our_purchase_order(
    request: Request, principal: SupplierUser, record_id: RecordId
) -> s.PurchaseOrderPublic:
    """One purchase order of this supplier; another supplier's is refused."""
    own(principal)
    record = get_one(request.app.state.hub, PURCHASE_ORDERS, principal, record_id)
    return found(record, "purchase order", record_id)


@router.get("/invoices", summary="List our invoices", response_model=s.Page[s.InvoicePublic])
def list_our_invoices(
    request: Request,
    principal: SupplierUser,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
    status: InvoiceStatusFilter = None,
    since: Since = None,
    until: Until = None,
    number: Number = None,
) -> s.Page[s.InvoicePublic]:
    """This supplier's invoices with their match and payment status."""
    return list_page(
        request.app.state.hub, INVOICES, own(principal), cursor=cursor, limit=limit,
        status=status, since=since, until=until, number=number,
    )  # fmt: skip


@router.get(
    "/invoices/{record_id}",
    summary="Get one of our invoices",
    response_model=s.InvoicePublic,
    responses=responses(404),
)
def get_our_invoice(
    request: Request, principal: SupplierUser, record_id: RecordId
) -> s.InvoicePublic:
    """One invoice of this supplier, with its match and payment status."""
    own(principal)
    record = get_one(request.app.state.hub, INVOICES, principal, record_id)
    return found(record, "invoice", record_id)


class InvoiceMatchStatus(s.PublicModel):
    """An invoice's match and payment status as its supplier sees it."""

    invoice_id: str
    invoice_number: str
    invoice_status: InvoiceStatus = Field(
        description="received, matched, exception, approved or paid."
    )
    payment_status: str = Field(
        description="pending, on_hold (held on an exception), approved_for_payment, approved, paid."
    )
    match: InvoiceMatchPublic | None = Field(
        description="The three-way match, line by line; null before the first run."
    )


@router.get(
    "/invoices/{record_id}/match",
    summary="Get the match and payment status of one of our invoices",
    response_model=InvoiceMatchStatus,
    responses=responses(404),
)
def get_our_invoice_match(
    request: Request, principal: SupplierUser, record_id: RecordId
) -> InvoiceMatchStatus:
    """Whether the invoice is approved for payment or held, on which exception types, with the
    amounts and the lines; another supplier's invoice is refused."""
    own(principal)
    hub = request.app.state.hub
    invoice = found(get_one(hub, INVOICES, principal, record_id), "invoice", record_id)
    view = hub.matching.show(invoice.id)
    status = InvoiceStatus(invoice.status)
    return InvoiceMatchStatus(
        invoice_id=invoice.id, invoice_number=invoice.number, invoice_status=status,
        payment_status=payment_status(status),
        match=None if view.match is None else public(view.match),
    )  # fmt: skip


@router.get(
    "/invoices/{record_id}/payment",
    summary="Get the ERP's payment of one of our invoices",
    response_model=s.InvoicePaymentPublic,
    responses=responses(404, 503),
)
def get_our_invoice_payment(
    request: Request, principal: SupplierUser, record_id: RecordId
) -> s.InvoicePaymentPublic:
    """Whether the hospital's ERP has paid the invoice and what it still has to pay, read from
    the ERP now; another supplier's invoice is refused; 503 while the ERP cannot be reached."""
    own(principal)
    return erp_payment(request.app.state.hub, principal, record_id)


@router.get(
    "/invoice-status",
    summary="List our invoices with their match and payment status",
    response_model=s.Page[InvoiceMatchStatus],
)
def list_our_invoice_status(
    request: Request,
    principal: SupplierUser,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
    status: InvoiceStatusFilter = None,
    since: Since = None,
    until: Until = None,
    number: Number = None,
) -> s.Page[InvoiceMatchStatus]:
    """Each of this supplier's invoices (filters as for `/invoices`): approved for payment or
    held, on which exception types, with the amounts and the lines."""
    hub = request.app.state.hub
    page = list_page(
        hub, INVOICES, own(principal), cursor=cursor, limit=limit, status=status, since=since,
        until=until, number=number,
    )  # fmt: skip
    with hub.read_uow_factory() as uow:
        ids = [invoice.id for invoice in page.items]
        matches = {m.invoice_id: m for m in uow.invoice_matches.list(invoice_ids=ids, limit=limit)}
    items = []
    for invoice in page.items:
        current = InvoiceStatus(invoice.status)
        found = matches.get(invoice.id)
        items.append(InvoiceMatchStatus(
            invoice_id=invoice.id, invoice_number=invoice.number, invoice_status=current,
            payment_status=payment_status(current),
            match=None if found is None else public(found),
        ))  # fmt: skip
    return s.Page[InvoiceMatchStatus](items=items, next_cursor=page.next_cursor)


# --- procure-to-pay: invoices in, acknowledgments and receipts out -----------------------------

_Money = Annotated[Decimal, Field(max_digits=18, decimal_places=4)]


class InvoiceLineCreate(BaseModel):
    """One invoiced line: the PO line it bills, or the item (ours or your part number)."""

    model_config = ConfigDict(extra="forbid")

    po_line_number: int | None = Field(default=None, ge=1)
    item_id: str | None = Field(default=None, description="The hospital's item id, if known.")
    supplier_part_number: str | None = Field(default=None, description="Your part number.")
    quantity: _Money = Field(description="In `uom`; negative for a credit line.")
    uom: str = Field(pattern=r"^[A-Z0-9]{2,3}$")
    unit_price: _Money = Field(ge=0)


class InvoiceCreate(BaseModel):
    """An invoice as a supplier submits it; the X12 810 it stands for is documented in
    docs/x12.md."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "number": "INV-501",
                    "invoice_date": "2025-03-05",
                    "purchase_order_number": "PO-1001",
                    "lines": [
                        {"po_line_number": 1, "quantity": "5", "uom": "BX", "unit_price": "12.50"}
                    ],
                    "freight": "10.00",
                }
            ]
        },
    )

    number: str = Field(min_length=1, max_length=22, description="Your invoice number.")
    invoice_date: date
    purchase_order_number: str | None = Field(default=None, min_length=1)
    facility_id: str | None = Field(
        default=None, description="Needed only when the invoice names no PO of ours."
    )
    lines: list[InvoiceLineCreate] = Field(min_length=1)
    freight: _Money = Field(default=Decimal(0), ge=0)
    tax: _Money = Field(default=Decimal(0), ge=0)
    stated_total: _Money | None = None


class InvoiceAccepted(BaseModel):
    invoice_id: str
    message_id: str = Field(description="The stored submission (inbox id).")
    duplicate: bool = Field(description="The same body was submitted before.")


class AcknowledgedLinePublic(PublicModel):
    line_number: int
    item_id: str
    quantity: Decimal
    uom: str
    unit_price: Decimal
    acknowledgment: str | None = Field(
        description="accepted, backordered, rejected, price_changed, quantity_changed, changed, "
        "on_hold; null: not acknowledged yet."
    )
    acknowledged_quantity: Decimal | None
    acknowledged_unit_price: Decimal | None
    expected_date: date | None
    received_quantity: Decimal


class AcknowledgmentPublic(PublicModel):
    """A purchase order as your acknowledgment (855) left it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "po-1",
                    "number": "PO-1001",
                    "facility_id": "fac-1",
                    "order_date": "2026-11-20",
                    "status": "acknowledged",
                    "lines": [
                        {
                            "line_number": 1,
                            "item_id": "ITM-77B1",
                            "quantity": "4",
                            "uom": "BX",
                            "unit_price": "42.5000",
                            "acknowledgment": "price_changed",
                            "acknowledged_quantity": "4",
                            "acknowledged_unit_price": "45.9000",
                            "expected_date": None,
                            "received_quantity": "0",
                        }
                    ],
                }
            ]
        }
    )

    id: str
    number: str
    facility_id: str
    order_date: date
    status: str
    lines: list[AcknowledgedLinePublic]


ACKNOWLEDGMENTS = Resource(
    "purchase_orders", AcknowledgmentPublic, supplier_of=lambda r: r.supplier_id
)


@router.post(
    "/invoices",
    summary="Submit an invoice",
    status_code=201,
    response_model=InvoiceAccepted,
    responses=responses(400),
)
async def submit_invoice(
    request: Request, principal: SupplierUser, body: InvoiceCreate
) -> InvoiceAccepted:
    """File an invoice for this supplier, as an X12 810 would be: stored raw first, matched to
    the PO by number, and announced to the three-way match."""
    own(principal)
    hub: Hub = request.app.state.hub
    raw = await request.body()
    submitted = SubmittedInvoice(
        number=body.number,
        invoice_date=body.invoice_date,
        purchase_order_number=body.purchase_order_number,
        facility_id=body.facility_id,
        freight=body.freight,
        tax=body.tax,
        stated_total=body.stated_total,
        lines=[
            SubmittedLine(
                quantity=line.quantity, uom=line.uom, unit_price=line.unit_price,
                po_line_number=line.po_line_number, item_id=line.item_id,
                supplier_part_number=line.supplier_part_number,
            )
            for line in body.lines
        ],
    )  # fmt: skip

    def run() -> InvoiceFiled:
        with request.app.state.ingest_lock:
            return hub.supplier_invoices.submit(raw, submitted, principal=principal)

    filed = await run_in_threadpool(
        audited, hub, principal, Scope.EXPERIENCE_SUPPLIER, "invoice.submit",
        target=("invoice", None), run=run,
        after=lambda done: f"invoice={done.invoice_id} duplicate={done.duplicate}",
    )  # fmt: skip
    return InvoiceAccepted(
        invoice_id=filed.invoice_id, message_id=filed.message_id, duplicate=filed.duplicate
    )


@router.get(
    "/acknowledgments",
    summary="List our acknowledgments",
    response_model=s.Page[AcknowledgmentPublic],
)
def list_our_acknowledgments(
    request: Request,
    principal: SupplierUser,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
    status: PurchaseOrderStatusFilter = None,
    since: Since = None,
    until: Until = None,
    number: Number = None,
) -> s.Page[AcknowledgmentPublic]:
    """Our purchase orders with each line's acknowledgment as recorded from the 855."""
    return list_page(
        request.app.state.hub, ACKNOWLEDGMENTS, own(principal), cursor=cursor, limit=limit,
        status=status, since=since, until=until, number=number,
    )  # fmt: skip


@router.get(
    "/receipts",
    summary="List our ship notices and their receipts",
    response_model=s.Page[s.ExpectedReceiptPublic],
)
def list_our_receipts(
    request: Request,
    principal: SupplierUser,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
    status: ExpectedReceiptStatusFilter = None,
    since: Since = None,
    until: Until = None,
    number: Number = None,
) -> s.Page[s.ExpectedReceiptPublic]:
    """Each ship notice we sent, `expected` or `received` (then with the receipt's id)."""
    return list_page(
        request.app.state.hub, EXPECTED_RECEIPTS, own(principal), cursor=cursor, limit=limit,
        status=status, since=since, until=until, number=number,
    )  # fmt: skip
