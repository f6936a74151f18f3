"""856 ship notice → one expected receipt per PO (docs/workflows.md).

The shipped items under each order level (PRF01) become an
:class:`~suture.domain.purchasing.ExpectedReceipt` of that PO, items identified by the buyer's
number (``IN``/``BP``), a GTIN (``UK``/``EN``/``UP``), the supplier's part number
(``VP``/``VN``/``MG``, through the item crosswalk of source system = the supplier id), else the
PO line LIN01 names. A PO the hub does not know opens ``not_on_po``; an item it cannot identify
opens ``missing_item_mapping``. Event ``purchasing.shipment.noticed``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal

from suture.domain.exceptions import ExceptionType
from suture.domain.purchasing import (
    ExpectedReceipt,
    ExpectedReceiptLine,
    ExpectedReceiptStatus,
    PurchaseOrder,
)
from suture.formats.x12 import ShipNotice856
from suture.formats.x12.ship_notice_856 import HierarchicalLevel, ShippedItem
from suture.services.exceptions import open_exception
from suture.services.messagebus import MessageBus
from suture.services.supplier_documents.common import (
    GTIN_QUALIFIERS,
    SUPPLIER_PART_QUALIFIERS,
    DocumentError,
    Provenance,
    first_id,
    identify,
    po_line_for,
    publish,
    stable_id,
    supplier_po,
)
from suture.services.unit_of_work import UnitOfWork

SHIPMENT_NOTICED = "purchasing.shipment.noticed"


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
        po = supplier_po(uow, po_number, origin, "PRF01", "ship notice")
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
        publish(uow, bus, SHIPMENT_NOTICED, payload, po.number, origin, po.facility_id,
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
        po_line_number = po_line_for(po, item.line_id, item.product_ids)
        found = identify(uow, item.product_ids, origin.supplier.id, po.facility_id)
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
                    supplier_part_number=first_id(item.product_ids, SUPPLIER_PART_QUALIFIERS),
                    gtin=first_id(item.product_ids, GTIN_QUALIFIERS),
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
