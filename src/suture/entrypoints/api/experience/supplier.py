"""Experience API: supplier self-service (DESIGN.md §6, "a supplier sees only its own POs and
invoices").

A client bound to a supplier (``suture clients create --supplier S --scopes
experience:supplier``) sees its purchase orders and its invoices with their match and payment
status (``received``, ``matched``, ``exception``, ``approved``, ``paid``). The supplier filter is
the token's and cannot be widened: there is no ``supplier_id`` parameter here. A client that is
not bound to a supplier is refused. ``/invoices/{id}/match`` adds the three-way match line
by line and a payment status (pending, on_hold, approved_for_payment, approved, paid).
Acknowledgments, ship notices and receipts join this view with the procure-to-pay workflow
(issue 5).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import Field

from suture.domain.access import AccessDeniedError, Principal, RecordFilter, Scope
from suture.domain.invoicing import InvoiceStatus
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.process.matching import InvoiceMatchPublic, payment_status, public
from suture.entrypoints.api.security import require
from suture.entrypoints.api.system import schemas as s
from suture.entrypoints.api.system.params import (
    Cursor,
    Limit,
    Number,
    RecordId,
    Since,
    Status,
    Until,
)
from suture.entrypoints.api.system.purchasing import INVOICES, PURCHASE_ORDERS
from suture.entrypoints.api.system.records import found, get_one, list_page

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
    status: Status = None,
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
    status: Status = None,
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
    status: Status = None,
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
