"""System API routes for purchasing and payables: requisitions, purchase orders, receipts, invoices.

Thin by design (STYLE.md habit 8): authentication, the ``system:read`` scope and the facility
and supplier scope are dependencies; :mod:`~suture.entrypoints.api.system.records` pages and
checks. A list answers a :class:`~suture.entrypoints.api.system.schemas.Page`; a lookup answers
the record, ``403`` outside the caller's facilities or supplier, or ``404``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from suture.bootstrap import Hub
from suture.domain.access import Principal
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.security import RecordScope
from suture.entrypoints.api.system import schemas as s
from suture.entrypoints.api.system.params import (
    Cursor,
    ExpectedReceiptStatusFilter,
    InvoiceStatusFilter,
    Limit,
    Number,
    PurchaseOrderStatusFilter,
    RecordId,
    RequisitionStatusFilter,
    Since,
    Until,
)
from suture.entrypoints.api.system.records import Reader, Resource, found, get_one, list_page
from suture.services.erp import ErpUnsupportedError

router = APIRouter(prefix="/api/v1/system", responses=responses(401, 403, 422, 429))

REQUISITIONS = Resource("requisitions", s.RequisitionPublic)
PURCHASE_ORDERS = Resource(
    "purchase_orders", s.PurchaseOrderPublic, supplier_of=lambda r: r.supplier_id
)
RECEIPTS = Resource("receipts", s.ReceiptPublic)
EXPECTED_RECEIPTS = Resource(
    "expected_receipts", s.ExpectedReceiptPublic, supplier_of=lambda r: r.supplier_id
)
INVOICES = Resource("invoices", s.InvoicePublic, supplier_of=lambda r: r.supplier_id)


@router.get(
    "/requisitions",
    tags=["purchasing"],
    summary="List requisitions",
    response_model=s.Page[s.RequisitionPublic],
)
def list_requisitions(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
    status: RequisitionStatusFilter = None,
    since: Since = None,
    until: Until = None,
    number: Number = None,
) -> s.Page[s.RequisitionPublic]:
    """Requests for supplies; dates filter `requested_at`."""
    return list_page(
        request.app.state.hub,
        REQUISITIONS,
        scope,
        cursor=cursor,
        limit=limit,
        status=status,
        since=since,
        until=until,
        number=number,
    )


@router.get(
    "/requisitions/{record_id}",
    tags=["purchasing"],
    summary="Get one requisition",
    response_model=s.RequisitionPublic,
    responses=responses(404),
)
def get_requisitions_record(
    request: Request, principal: Reader, record_id: RecordId
) -> s.RequisitionPublic:
    """One requisition by its canonical id."""
    record = get_one(request.app.state.hub, REQUISITIONS, principal, record_id)
    return found(record, "requisition", record_id)


@router.get(
    "/purchase-orders",
    tags=["purchasing"],
    summary="List purchase orders",
    response_model=s.Page[s.PurchaseOrderPublic],
)
def list_purchase_orders(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
    status: PurchaseOrderStatusFilter = None,
    since: Since = None,
    until: Until = None,
    number: Number = None,
) -> s.Page[s.PurchaseOrderPublic]:
    """Purchase orders to suppliers; dates filter `order_date`."""
    return list_page(
        request.app.state.hub,
        PURCHASE_ORDERS,
        scope,
        cursor=cursor,
        limit=limit,
        status=status,
        since=since,
        until=until,
        number=number,
    )


@router.get(
    "/purchase-orders/{record_id}",
    tags=["purchasing"],
    summary="Get one purchase order",
    response_model=s.PurchaseOrderPublic,
    responses=responses(404),
)
def get_purchase_orders_record(
    request: Request, principal: Reader, record_id: RecordId
) -> s.PurchaseOrderPublic:
    """One purchase order by its canonical id."""
    record = get_one(request.app.state.hub, PURCHASE_ORDERS, principal, record_id)
    return found(record, "purchase order", record_id)


@router.get(
    "/receipts",
    tags=["purchasing"],
    summary="List receipts",
    response_model=s.Page[s.ReceiptPublic],
)
def list_receipts(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
    since: Since = None,
    until: Until = None,
    number: Number = None,
) -> s.Page[s.ReceiptPublic]:
    """Goods received at a facility, with lot, serial and expiry; dates filter `received_at`."""
    return list_page(
        request.app.state.hub,
        RECEIPTS,
        scope,
        cursor=cursor,
        limit=limit,
        since=since,
        until=until,
        number=number,
    )


@router.get(
    "/receipts/{record_id}",
    tags=["purchasing"],
    summary="Get one receipt",
    response_model=s.ReceiptPublic,
    responses=responses(404),
)
def get_receipts_record(
    request: Request, principal: Reader, record_id: RecordId
) -> s.ReceiptPublic:
    """One receipt by its canonical id."""
    record = get_one(request.app.state.hub, RECEIPTS, principal, record_id)
    return found(record, "receipt", record_id)


@router.get(
    "/expected-receipts",
    tags=["purchasing"],
    summary="List expected receipts (ship notices)",
    response_model=s.Page[s.ExpectedReceiptPublic],
)
def list_expected_receipts(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
    status: ExpectedReceiptStatusFilter = None,
    since: Since = None,
    until: Until = None,
    number: Number = None,
) -> s.Page[s.ExpectedReceiptPublic]:
    """What suppliers' 856 ship notices announced, per PO, `expected` until the dock receives
    it (`POST /api/v1/process/receipts`); dates filter `noticed_at`, `number` the shipment id."""
    return list_page(
        request.app.state.hub, EXPECTED_RECEIPTS, scope, cursor=cursor, limit=limit,
        status=status, since=since, until=until, number=number,
    )  # fmt: skip


@router.get(
    "/expected-receipts/{record_id}",
    tags=["purchasing"],
    summary="Get one expected receipt",
    response_model=s.ExpectedReceiptPublic,
    responses=responses(404),
)
def get_expected_receipt(
    request: Request, principal: Reader, record_id: RecordId
) -> s.ExpectedReceiptPublic:
    """One ship notice's expected receipt by its id."""
    record = get_one(request.app.state.hub, EXPECTED_RECEIPTS, principal, record_id)
    return found(record, "expected receipt", record_id)


@router.get(
    "/invoices", tags=["payables"], summary="List invoices", response_model=s.Page[s.InvoicePublic]
)
def list_invoices(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
    status: InvoiceStatusFilter = None,
    since: Since = None,
    until: Until = None,
    number: Number = None,
) -> s.Page[s.InvoicePublic]:
    """Supplier invoices and their match status; dates filter `invoice_date`."""
    return list_page(
        request.app.state.hub,
        INVOICES,
        scope,
        cursor=cursor,
        limit=limit,
        status=status,
        since=since,
        until=until,
        number=number,
    )


@router.get(
    "/invoices/{record_id}",
    tags=["payables"],
    summary="Get one invoice",
    response_model=s.InvoicePublic,
    responses=responses(404),
)
def get_invoices_record(
    request: Request, principal: Reader, record_id: RecordId
) -> s.InvoicePublic:
    """One invoice by its canonical id."""
    record = get_one(request.app.state.hub, INVOICES, principal, record_id)
    return found(record, "invoice", record_id)


@router.get(
    "/invoices/{record_id}/payment",
    tags=["payables"],
    summary="Get an invoice's payment status in the ERP",
    response_model=s.InvoicePaymentPublic,
    responses=responses(404, 503),
)
def get_invoice_payment(
    request: Request, principal: Reader, record_id: RecordId
) -> s.InvoicePaymentPublic:
    """The ERP's payment state of the invoice and its amount to pay, read from the ERP now
    (SUTURE_ERP_KIND=tryton), beside Suture's status; a safe read (the scheduled payment sync
    marks an invoice the ERP paid as paid); 503 while the ERP cannot be reached, 422 for an ERP
    interface that cannot be read back (files)."""
    return erp_payment(request.app.state.hub, principal, record_id)


def erp_payment(hub: Hub, principal: Principal, record_id: str) -> s.InvoicePaymentPublic:
    """The invoice as ``principal`` may see it (facility and supplier checked first), then its
    payment as the ERP reports it (``ErpPayments.show``: a read; the scheduled sync marks an
    invoice the ERP paid ``paid``)."""
    invoice = found(get_one(hub, INVOICES, principal, record_id), "invoice", record_id)
    if hub.erp_payments is None:
        raise ErpUnsupportedError("operation", "this hub has no ERP to read payments from")
    shown = hub.erp_payments.show(invoice.id)
    return s.InvoicePaymentPublic(
        invoice_id=shown.invoice_id, invoice_number=shown.invoice_number,
        supplier_id=shown.supplier_id, invoice_status=shown.status.value,
        erp_state=shown.erp.state.value, amount_to_pay=shown.erp.amount_to_pay, note=shown.note,
    )  # fmt: skip
