"""810 invoice (or the supplier API's invoice) → a canonical invoice and its event.

An :class:`~suture.domain.invoicing.Invoice` matched to its PO by BIG04, its lines to PO lines
by IT101 or item, stored with event ``purchasing.invoice.received``. Matching is not done here:
the three-way match subscribes to that event.
"""

from __future__ import annotations

from decimal import Decimal

from suture.domain.invoicing import Invoice, InvoiceLine
from suture.formats.x12 import Invoice810
from suture.services.messagebus import MessageBus
from suture.services.supplier_documents.common import (
    SUPPLIER_PART_QUALIFIERS,
    DocumentError,
    Provenance,
    facility_by_code_or_id,
    first_id,
    identify,
    party_facility,
    po_line_for,
    publish,
    stable_id,
)
from suture.services.unit_of_work import UnitOfWork

INVOICE_RECEIVED = "purchasing.invoice.received"
_FREIGHT_CODES = frozenset({"D240", "G830"})
_TAX_CODES = frozenset({"H850", "H750"})


def invoice_from_810(uow: UnitOfWork, document: Invoice810, origin: Provenance) -> Invoice:
    """The canonical invoice of an 810: facility from its PO (BIG04), else N1*ST/BT/BY, else
    the message's; lines matched to PO lines by IT101 or item."""
    po = uow.purchase_orders.by_number(document.po_number) if document.po_number else None
    facility_id = po.facility_id if po is not None else None
    facility_id = facility_id or party_facility(uow, document.parties)
    if facility_id is None and origin.facility_id is not None:
        edge = facility_by_code_or_id(uow, origin.facility_id)
        if edge is None:  # a typo at the edge would file the invoice where no one looks
            raise DocumentError(
                "BIG04",
                f"invoice {document.number}: PO {document.po_number or '(none)'} is not known, "
                "no N1*ST, BT or BY names a facility, and the facility the message came with, "
                f"{origin.facility_id!r}, is no facility's id or code",
            )
        facility_id = edge.id
    if facility_id is None:
        raise DocumentError(
            "BIG04",
            f"invoice {document.number}: PO {document.po_number or '(none)'} is not known and "
            "no N1*ST, BT or BY names a facility",
        )
    lines = []
    for index, line in enumerate(document.lines, start=1):
        po_line = po_line_for(po, line.line_id, line.product_ids) if po else None
        found = identify(uow, line.product_ids, origin.supplier.id, facility_id)
        item_id = found.id if found is not None else None
        if item_id is None and po is not None and po_line is not None:
            item_id = po.line(po_line).item_id
        if po_line is None and po is not None and item_id is not None:
            of_item = [pl.line_number for pl in po.lines if pl.item_id == item_id]
            po_line = of_item[0] if len(of_item) == 1 else None  # several: the match decides
        lines.append(
            InvoiceLine(
                line_number=index,
                item_id=item_id,
                quantity=line.quantity,
                uom=line.uom,
                unit_price=line.unit_price,
                po_line_number=po_line,
                supplier_part_number=first_id(line.product_ids, SUPPLIER_PART_QUALIFIERS),
            )
        )
    charges = [*document.allowances_charges]
    for line in document.lines:
        charges += line.allowances_charges
    return Invoice(
        id=stable_id("invoice", origin.supplier.id, origin.document_key),
        number=document.number,
        supplier_id=origin.supplier.id,
        facility_id=facility_id,
        invoice_date=document.invoice_date,
        purchase_order_number=document.po_number,
        lines=lines,
        freight=sum((c.signed_amount for c in charges if c.code in _FREIGHT_CODES), Decimal(0)),
        tax=sum((c.signed_amount for c in charges if c.code in _TAX_CODES), Decimal(0)),
        stated_total=document.stated_total,
        source_system=origin.source_system,
    )


def record_invoice(
    uow: UnitOfWork, bus: MessageBus, invoice: Invoice, origin: Provenance
) -> Invoice:
    """Store ``invoice`` and publish ``purchasing.invoice.received`` in the same transaction.

    The event occurs when the hub received the document (``origin.received_at``), not when it
    was applied: the three-way match takes it as the invoice's received time, where the invoice
    cycle time KPI starts, so days an 810 spent parked on an unknown sender count."""
    uow.invoices.add(invoice)
    amount = invoice.stated_total if invoice.stated_total is not None else invoice.computed_total
    payload = {
        "invoice_id": invoice.id,
        "invoice_number": invoice.number,
        "supplier_id": invoice.supplier_id,
        "facility_id": invoice.facility_id,
        "purchase_order_number": invoice.purchase_order_number,
        "amount": format(amount, "f"),
    }
    correlation = invoice.purchase_order_number or invoice.number
    publish(uow, bus, INVOICE_RECEIVED, payload, correlation, origin, invoice.facility_id,
            invoice.supplier_id, invoice.number, invoice.id,
            occurred_at=origin.received_at)  # fmt: skip
    return invoice
