"""A supplier's documents applied to the canonical records: 855 → PO lines, 856 → expected
receipt, 810 (or the supplier API) → invoice (DESIGN.md §4, procure-to-pay).

Each ``apply_*`` runs inside the caller's unit of work (one transaction, or one savepoint of
it), writes the records and publishes the event, and opens the business exceptions the document
raises; the caller commits. What is wrong with the document itself (a line the PO does not
have, no facility to file an invoice under) raises :class:`DocumentError` naming the segment
and element, so the caller rolls the set back and fails it.

- **855** (:func:`apply_acknowledgment`): each PO1 line's first ACK01 code becomes a
  :class:`~suture.domain.purchasing.LineAcknowledgment`; the price is ACK's CTP, else PO104,
  so a price changed without saying so is caught too. A rejected or repriced line opens a
  ``po_acknowledgment_discrepancy`` item with the PO number, line and amounts. The PO is
  ``acknowledged``; event ``purchasing.order.acknowledged``.
- **856** (:func:`apply_ship_notice`): the shipped items under each order level (PRF01) become
  an :class:`~suture.domain.purchasing.ExpectedReceipt` of that PO, items identified by the
  buyer's number (``IN``/``BP``), a GTIN (``UK``/``EN``/``UP``), the supplier's part number
  (``VP``/``VN``/``MG``, through the item crosswalk of source system = the supplier id), else
  the PO line LIN01 names. A PO the hub does not know opens ``not_on_po``; an item it cannot
  identify opens ``missing_item_mapping``. Event ``purchasing.shipment.noticed``.
- **810** (:func:`invoice_from_810`, :func:`record_invoice`): an
  :class:`~suture.domain.invoicing.Invoice` matched to its PO by BIG04, its lines to PO lines
  by IT101 or item, stored with event ``purchasing.invoice.received``. Matching is not done
  here: the three-way match subscribes to that event.

PHI: supplier documents carry none; reasons name PO numbers, lines, codes and amounts only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from suture.domain.crosswalk import CrosswalkKind
from suture.domain.errors import SutureError
from suture.domain.exceptions import ExceptionType
from suture.domain.invoicing import Invoice, InvoiceLine
from suture.domain.masterdata import Facility, Item, Supplier
from suture.domain.purchasing import (
    ExpectedReceipt,
    ExpectedReceiptLine,
    ExpectedReceiptStatus,
    LineAcknowledgment,
    LineAnswer,
    PurchaseOrder,
)
from suture.eventlog.ids import idempotency_key
from suture.formats.x12 import Invoice810, PurchaseOrderAcknowledgment855, ShipNotice856
from suture.formats.x12.elements import Party
from suture.formats.x12.po_acknowledgment_855 import AcknowledgedLine
from suture.formats.x12.ship_notice_856 import HierarchicalLevel, ShippedItem
from suture.services.exceptions import open_exception
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork

ORDER_ACKNOWLEDGED = "purchasing.order.acknowledged"
SHIPMENT_NOTICED = "purchasing.shipment.noticed"
INVOICE_RECEIVED = "purchasing.invoice.received"

#: ACK01 line status codes (X12 element 668) in business terms; a code not listed is "changed".
ACK_CODES: dict[str, LineAcknowledgment] = {
    **dict.fromkeys(("IA", "AC", "AR", "DR", "SP"), LineAcknowledgment.ACCEPTED),
    **dict.fromkeys(("IB", "BP"), LineAcknowledgment.BACKORDERED),
    **dict.fromkeys(("IR", "ID", "R1", "R2", "R3", "R4"), LineAcknowledgment.REJECTED),
    "IP": LineAcknowledgment.PRICE_CHANGED,
    "IQ": LineAcknowledgment.QUANTITY_CHANGED,
    **dict.fromkeys(("IC", "IS"), LineAcknowledgment.CHANGED),
    **dict.fromkeys(("IF", "IH", "IW"), LineAcknowledgment.ON_HOLD),
}
#: BAK02 acknowledgment types that reject the whole PO when a line carries no ACK.
_REJECTING_TYPES = frozenset({"RD", "RJ", "RF", "RO"})
_GTIN_QUALIFIERS = ("UK", "EN", "UP")
_SUPPLIER_PART_QUALIFIERS = ("VP", "VN", "MG")
_BUYER_QUALIFIERS = ("IN", "BP")
_FACILITY_ENTITIES = ("ST", "BT", "BY")
_FREIGHT_CODES = frozenset({"D240", "G830"})
_TAX_CODES = frozenset({"H850", "H750"})
_NAMESPACE = uuid.UUID("6f1f7f5e-2b8c-4c55-9a49-3c0b1f2d7a10")


class DocumentError(SutureError):
    """A supplier document that cannot be applied: ``field`` is the segment element
    (``PO101``, ``BIG04``), ``reason`` says why, without patient data (there is none)."""


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a document came from: the stored message, its trace, the sender and the time."""

    message_id: str
    #: The natural key of the document: sender, ISA13, GS06 and ST02 for X12; the inbox
    #: message id for the supplier API. Record ids derive from it.
    document_key: str
    trace_id: str
    source_system: str
    supplier: Supplier
    at: datetime
    facility_id: str | None = None


def stable_id(*parts: str) -> str:
    """A record id derived from its natural keys, so a document applied again writes the same
    record instead of a second one."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


# --- 855 ---------------------------------------------------------------------------------------


def apply_acknowledgment(
    uow: UnitOfWork, bus: MessageBus, ack: PurchaseOrderAcknowledgment855, origin: Provenance
) -> PurchaseOrder | None:
    """Update the PO the 855 answers; None (and ``not_on_po``) when the hub has no such PO."""
    po = _supplier_po(uow, ack.po_number, origin, "BAK03", "acknowledgment")
    if po is None:
        return None
    answers = [_answer(po, line, ack.acknowledgment_type) for line in ack.lines]
    discrepancies = po.acknowledge(answers)
    uow.purchase_orders.add(po)
    for discrepancy in discrepancies:
        open_exception(
            uow,
            type=ExceptionType.PO_ACKNOWLEDGMENT_DISCREPANCY,
            facility_id=po.facility_id,
            reason=discrepancy.describe(po.number),
            at=origin.at,
            correlation_id=f"{po.number}/line {discrepancy.line_number}",
            trace_id=origin.trace_id,
        )
    counts = dict.fromkeys(("accepted", "changed", "backordered", "rejected"), 0)
    for answer in answers:
        counts[_bucket(answer.acknowledgment)] += 1
    payload = {
        "purchase_order_id": po.id,
        "purchase_order_number": po.number,
        "facility_id": po.facility_id,
        "supplier_id": po.supplier_id,
        **{f"{kind}_lines": count for kind, count in counts.items()},
    }
    _publish(uow, bus, ORDER_ACKNOWLEDGED, payload, po.number, origin, po.facility_id,
             po.id, origin.document_key)  # fmt: skip
    return po


def _bucket(acknowledgment: LineAcknowledgment) -> str:
    if acknowledgment is LineAcknowledgment.ACCEPTED:
        return "accepted"
    if acknowledgment is LineAcknowledgment.BACKORDERED:
        return "backordered"
    if acknowledgment is LineAcknowledgment.REJECTED:
        return "rejected"
    return "changed"


def _answer(po: PurchaseOrder, acknowledged: AcknowledgedLine, ack_type: str) -> LineAnswer:
    order_line = acknowledged.line
    line_number = _po_line_number(po, order_line.line_id, order_line.product_ids)
    if line_number is None:
        raise DocumentError(
            "PO101", f"PO {po.number} has no line {order_line.line_id or '(none)'} "
            f"(segment {order_line.position})",
        )  # fmt: skip
    if acknowledged.statuses:
        status = acknowledged.statuses[0]
        kind = ACK_CODES.get(status.code, LineAcknowledgment.CHANGED)
        price = status.unit_price if status.unit_price is not None else order_line.unit_price
        return LineAnswer(
            line_number=line_number,
            acknowledgment=kind,
            quantity=status.quantity,
            unit_price=price,
            expected_date=status.date,
        )
    kind = (
        LineAcknowledgment.REJECTED if ack_type in _REJECTING_TYPES else LineAcknowledgment.ACCEPTED
    )
    return LineAnswer(line_number=line_number, acknowledgment=kind,
                      quantity=order_line.quantity, unit_price=order_line.unit_price)  # fmt: skip


# --- 856 ---------------------------------------------------------------------------------------


def apply_ship_notice(
    uow: UnitOfWork, bus: MessageBus, notice: ShipNotice856, origin: Provenance
) -> list[ExpectedReceipt]:
    """One expected receipt per PO the notice ships against; the ids are stable per supplier,
    shipment and PO, so a notice sent again replaces its expected receipt (unless received)."""
    by_po: dict[str, list[ShippedItem]] = {}
    for po_number, item in _items_by_order(notice):
        by_po.setdefault(po_number, []).append(item)
    stored: list[ExpectedReceipt] = []
    for po_number, items in by_po.items():
        po = _supplier_po(uow, po_number, origin, "PRF01", "ship notice")
        if po is None:
            continue
        receipt_id = stable_id("asn", origin.supplier.id, notice.shipment_id, po.number)
        existing = uow.expected_receipts.get(receipt_id)
        if existing is not None and existing.status is not ExpectedReceiptStatus.EXPECTED:
            continue  # received already: the dock's count stands
        lines = _expected_lines(uow, po, items, origin)
        if not lines:
            continue
        expected = ExpectedReceipt(
            id=receipt_id,
            number=notice.shipment_id,
            facility_id=po.facility_id,
            supplier_id=origin.supplier.id,
            purchase_order_id=po.id,
            purchase_order_number=po.number,
            noticed_at=origin.at,
            shipped_on=notice.shipment_date,
            lines=lines,
            source_system=origin.source_system,
        )
        uow.expected_receipts.add(expected)
        payload = {
            "expected_receipt_id": expected.id,
            "shipment_id": notice.shipment_id,
            "purchase_order_id": po.id,
            "purchase_order_number": po.number,
            "facility_id": po.facility_id,
            "supplier_id": origin.supplier.id,
            "line_count": len(lines),
        }
        _publish(uow, bus, SHIPMENT_NOTICED, payload, po.number, origin, po.facility_id,
                 expected.id, origin.document_key)  # fmt: skip
        stored.append(expected)
    return stored


def _items_by_order(notice: ShipNotice856) -> Iterator[tuple[str, ShippedItem]]:
    """Each shipped item with the PO number of the nearest order level above it (or the only
    PO the notice names, for an item outside any order level)."""
    numbers = {level.purchase_order_number for level in notice.levels()}
    numbers.discard(None)
    only = next(iter(numbers)) if len(numbers) == 1 else None

    def walk(level: HierarchicalLevel, po_number: str | None) -> Iterator[tuple[str, ShippedItem]]:
        current = level.purchase_order_number or po_number
        if level.item is not None:
            chosen = current or only
            if chosen is None:
                raise DocumentError(
                    "PRF01", f"HL {level.id} ships an item under no order level naming a PO"
                )
            yield chosen, level.item
        for child in level.children:
            yield from walk(child, current)

    for root in notice.roots:
        yield from walk(root, None)


def _expected_lines(
    uow: UnitOfWork, po: PurchaseOrder, items: Sequence[ShippedItem], origin: Provenance
) -> list[ExpectedReceiptLine]:
    lines: list[ExpectedReceiptLine] = []
    for item in items:
        if item.quantity is None or item.quantity <= 0:
            raise DocumentError("SN102", f"PO {po.number}: a shipped item has no quantity")
        po_line_number = _po_line_number(po, item.line_id, item.product_ids)
        found = _identify(uow, item.product_ids, origin.supplier.id, po.facility_id)
        item_id = found.id if found is not None else None
        if item_id is None and po_line_number is not None:
            item_id = po.line(po_line_number).item_id
        if item_id is None:
            _missing_item(uow, po, item.product_ids, origin)
            continue
        if po_line_number is None:
            po_line_number = next(
                (line.line_number for line in po.lines if line.item_id == item_id), None
            )
        uom = item.uom or (po.line(po_line_number).uom if po_line_number is not None else "EA")
        serials = item.serials
        split = len(serials) > 1 and item.quantity == len(serials)
        for serial in serials if split else (serials[0] if serials else None,):
            lines.append(
                ExpectedReceiptLine(
                    line_number=len(lines) + 1,
                    item_id=item_id,
                    quantity=Decimal(1) if split else item.quantity,
                    uom=uom,
                    po_line_number=po_line_number,
                    supplier_part_number=_first(item.product_ids, _SUPPLIER_PART_QUALIFIERS),
                    gtin=_first(item.product_ids, _GTIN_QUALIFIERS),
                    lot=item.lot,
                    serial=serial,
                    expiry=item.expiry,
                )
            )
    return lines


def _missing_item(
    uow: UnitOfWork, po: PurchaseOrder, product_ids: dict[str, str], origin: Provenance
) -> None:
    shown = ", ".join(f"{q} {v}" for q, v in product_ids.items()) or "no product id"
    open_exception(
        uow,
        type=ExceptionType.MISSING_ITEM_MAPPING,
        facility_id=po.facility_id,
        reason=f"ship notice for PO {po.number}: no item is known for {shown} "
        f"of supplier {origin.supplier.id}",
        at=origin.at,
        correlation_id=f"{po.number}/{shown}",
        trace_id=origin.trace_id,
    )


# --- 810 and the supplier API ------------------------------------------------------------------


def invoice_from_810(uow: UnitOfWork, document: Invoice810, origin: Provenance) -> Invoice:
    """The canonical invoice of an 810: facility from its PO (BIG04), else N1*ST/BT/BY, else
    the message's; lines matched to PO lines by IT101 or item."""
    po = uow.purchase_orders.by_number(document.po_number) if document.po_number else None
    facility_id = po.facility_id if po is not None else None
    facility_id = facility_id or _party_facility(uow, document.parties) or origin.facility_id
    if facility_id is None:
        raise DocumentError(
            "BIG04",
            f"invoice {document.number}: PO {document.po_number or '(none)'} is not known and "
            "no N1*ST, BT or BY names a facility",
        )
    lines = []
    for index, line in enumerate(document.lines, start=1):
        po_line = _po_line_number(po, line.line_id, line.product_ids) if po else None
        found = _identify(uow, line.product_ids, origin.supplier.id, facility_id)
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
                supplier_part_number=_first(line.product_ids, _SUPPLIER_PART_QUALIFIERS),
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
    """Store ``invoice`` and publish ``purchasing.invoice.received`` in the same transaction."""
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
    _publish(uow, bus, INVOICE_RECEIVED, payload, correlation, origin, invoice.facility_id,
             invoice.supplier_id, invoice.number, invoice.id)  # fmt: skip
    return invoice


# --- shared ------------------------------------------------------------------------------------


def _supplier_po(
    uow: UnitOfWork, number: str, origin: Provenance, element: str, document: str
) -> PurchaseOrder | None:
    """The PO of that number sent to this supplier; else a ``not_on_po`` item and None."""
    po = uow.purchase_orders.by_number(number)
    if po is not None and po.supplier_id == origin.supplier.id:
        return po
    why = "is not known" if po is None else "was not sent to this supplier"
    open_exception(
        uow,
        type=ExceptionType.NOT_ON_PO,
        facility_id=po.facility_id if po is not None else origin.facility_id,
        reason=f"{document} from supplier {origin.supplier.id}: PO {number} ({element}) {why}",
        at=origin.at,
        correlation_id=f"{number}/{origin.supplier.id}/{document}",
        trace_id=origin.trace_id,
    )
    return None


def _po_line_number(
    po: PurchaseOrder | None, line_id: str | None, product_ids: dict[str, str]
) -> int | None:
    """The PO line an inbound line answers: its line id when the PO has that line, else the
    only line of the item the buyer's number names."""
    if po is None:
        return None
    if line_id and line_id.strip().isdigit():
        number = int(line_id)
        if any(line.line_number == number for line in po.lines):
            return number
    buyer = _first(product_ids, _BUYER_QUALIFIERS)
    matches = [line.line_number for line in po.lines if buyer and line.item_id == buyer]
    return matches[0] if len(matches) == 1 else None


def _identify(
    uow: UnitOfWork, product_ids: dict[str, str], supplier_id: str, facility_id: str
) -> Item | None:
    """The item the product ids name: buyer's number, GTIN, then supplier part crosswalk."""
    for qualifier in _BUYER_QUALIFIERS:
        value = product_ids.get(qualifier)
        if value and (item := uow.items.get(value)) is not None:
            return item
    for qualifier in _GTIN_QUALIFIERS:
        value = product_ids.get(qualifier)
        gtin = value.zfill(14) if value and value.isdigit() and len(value) <= 14 else None
        if gtin is not None and (item := uow.items.by_gtin(gtin)) is not None:
            return item
    for qualifier in _SUPPLIER_PART_QUALIFIERS:
        value = product_ids.get(qualifier)
        if not value:
            continue
        entries = uow.crosswalks.candidates(supplier_id, CrosswalkKind.ITEM, value, facility_id)
        if entries and (item := uow.items.get(entries[0].canonical_id)) is not None:
            return item
    return None


def _party_facility(uow: UnitOfWork, parties: Sequence[Party]) -> str | None:
    for party in parties:
        if party.entity in _FACILITY_ENTITIES and party.id:
            found = facility_by_code_or_id(uow, party.id)
            if found is not None:
                return found.id
    return None


def facility_by_code_or_id(uow: UnitOfWork, code: str) -> Facility | None:
    """The facility whose id, or else code, is ``code``."""
    found = uow.facilities.get(code)
    if found is not None:
        return found
    after: str | None = None
    while True:
        page = uow.facilities.list(after=after, limit=500)
        for facility in page:
            if facility.code == code:
                return facility
        if len(page) < 500:
            return None
        after = page[-1].id


def _first(product_ids: dict[str, str], qualifiers: Sequence[str]) -> str | None:
    return next((product_ids[q] for q in qualifiers if product_ids.get(q)), None)


def _publish(  # noqa: PLR0917  (an event's parts)
    uow: UnitOfWork,
    bus: MessageBus,
    event_type: str,
    payload: Mapping[str, object],
    correlation_id: str,
    origin: Provenance,
    facility_id: str,
    *natural_keys: str,
) -> None:
    envelope = bus.envelope(
        event_type,
        dict(payload),
        idempotency_key=idempotency_key(event_type, *natural_keys),
        correlation_id=correlation_id,
        trace_id=origin.trace_id,
        causation_id=uuid.UUID(origin.message_id) if _is_uuid(origin.message_id) else None,
        occurred_at=origin.at,
        source_system=origin.source_system,
        source_facility=facility_id,
    )
    bus.publish(uow, envelope)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


__all__ = [
    "ACK_CODES",
    "INVOICE_RECEIVED",
    "ORDER_ACKNOWLEDGED",
    "SHIPMENT_NOTICED",
    "DocumentError",
    "Provenance",
    "apply_acknowledgment",
    "apply_ship_notice",
    "facility_by_code_or_id",
    "invoice_from_810",
    "record_invoice",
    "stable_id",
]
