"""Repositories of procurement records: requisitions, purchase orders and receipts, with lines.

Transactional tables hold ids only (no foreign keys, ``tables.py``): a receipt or an order may be
stored before the master data it names, and is reconciled later (DESIGN.md §3).
"""

from __future__ import annotations

from decimal import Decimal

from suture.adapters.db import tables as t
from suture.adapters.db.repositories.base import AggregateRepository, Lines, Row, Values
from suture.domain.purchasing import (
    LineAcknowledgment,
    PurchaseOrder,
    PurchaseOrderKind,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Receipt,
    ReceiptLine,
    Requisition,
    RequisitionLine,
    RequisitionStatus,
)


class RequisitionRepository(AggregateRepository[Requisition]):
    table = t.requisitions
    status_column = "status"
    date_column = "requested_at"
    number_column = "number"
    lines = (Lines(t.requisition_lines, "requisition_id"),)

    def to_row(self, obj: Requisition) -> Values:
        return {
            "id": obj.id,
            "number": obj.number,
            "facility_id": obj.facility_id,
            "department_id": obj.department_id,
            "location_id": obj.location_id,
            "requested_at": obj.requested_at,
            "status": obj.status.value,
            "source_system": obj.source_system,
        }

    def to_lines(self, obj: Requisition) -> tuple[list[Values], ...]:
        return (
            [
                {
                    "line_number": line.line_number,
                    "item_id": line.item_id,
                    "quantity": line.quantity,
                    "uom": line.uom,
                }
                for line in obj.lines
            ],
        )

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> Requisition:
        return Requisition(
            id=row.id,
            number=row.number,
            facility_id=row.facility_id,
            department_id=row.department_id,
            location_id=row.location_id,
            requested_at=row.requested_at,
            lines=[
                RequisitionLine(
                    line_number=line.line_number,
                    item_id=line.item_id,
                    quantity=line.quantity,
                    uom=line.uom,
                )
                for line in lines[0]
            ],
            status=RequisitionStatus(row.status),
            source_system=row.source_system,
        )


class PurchaseOrderRepository(AggregateRepository[PurchaseOrder]):
    table = t.purchase_orders
    supplier_column = "supplier_id"
    status_column = "status"
    date_column = "order_date"
    number_column = "number"
    lines = (Lines(t.purchase_order_lines, "purchase_order_id"),)

    def by_number(self, number: str) -> PurchaseOrder | None:
        return self._first(self.table.c.number == number)

    def to_row(self, obj: PurchaseOrder) -> Values:
        return {
            "id": obj.id,
            "number": obj.number,
            "facility_id": obj.facility_id,
            "supplier_id": obj.supplier_id,
            "order_date": obj.order_date,
            "kind": obj.kind.value,
            "status": obj.status.value,
            "requisition_id": obj.requisition_id,
            "department_id": obj.department_id,
            "source_system": obj.source_system,
        }

    def to_lines(self, obj: PurchaseOrder) -> tuple[list[Values], ...]:
        return (
            [
                {
                    "line_number": line.line_number,
                    "item_id": line.item_id,
                    "quantity": line.quantity,
                    "uom": line.uom,
                    "unit_price": line.unit_price,
                    "contract_id": line.contract_id,
                    "off_contract": line.off_contract,
                    "acknowledgment": (
                        line.acknowledgment.value if line.acknowledgment is not None else None
                    ),
                    "acknowledged_quantity": line.acknowledged_quantity,
                    "acknowledged_unit_price": line.acknowledged_unit_price,
                    "expected_date": line.expected_date,
                    "received_quantity": line.received_quantity or None,
                }
                for line in obj.lines
            ],
        )

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> PurchaseOrder:
        return PurchaseOrder(
            id=row.id,
            number=row.number,
            facility_id=row.facility_id,
            supplier_id=row.supplier_id,
            order_date=row.order_date,
            kind=PurchaseOrderKind(row.kind),
            status=PurchaseOrderStatus(row.status),
            requisition_id=row.requisition_id,
            department_id=row.department_id,
            lines=[
                PurchaseOrderLine(
                    line_number=line.line_number,
                    item_id=line.item_id,
                    quantity=line.quantity,
                    uom=line.uom,
                    unit_price=line.unit_price,
                    contract_id=line.contract_id,
                    off_contract=bool(line.off_contract),
                    acknowledgment=(
                        LineAcknowledgment(line.acknowledgment) if line.acknowledgment else None
                    ),
                    acknowledged_quantity=line.acknowledged_quantity,
                    acknowledged_unit_price=line.acknowledged_unit_price,
                    expected_date=line.expected_date,
                    received_quantity=line.received_quantity or Decimal(0),
                )
                for line in lines[0]
            ],
            source_system=row.source_system,
        )


class ReceiptRepository(AggregateRepository[Receipt]):
    table = t.receipts
    date_column = "received_at"
    number_column = "number"
    lines = (Lines(t.receipt_lines, "receipt_id"),)

    def to_row(self, obj: Receipt) -> Values:
        return {
            "id": obj.id,
            "number": obj.number,
            "facility_id": obj.facility_id,
            "location_id": obj.location_id,
            "received_at": obj.received_at,
            "purchase_order_id": obj.purchase_order_id,
            "source_system": obj.source_system,
        }

    def to_lines(self, obj: Receipt) -> tuple[list[Values], ...]:
        return (
            [
                {
                    "line_number": line.line_number,
                    "item_id": line.item_id,
                    "quantity": line.quantity,
                    "uom": line.uom,
                    "po_line_number": line.po_line_number,
                    "lot": line.lot,
                    "serial": line.serial,
                    "expiry": line.expiry,
                }
                for line in obj.lines
            ],
        )

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> Receipt:
        return Receipt(
            id=row.id,
            number=row.number,
            facility_id=row.facility_id,
            location_id=row.location_id,
            received_at=row.received_at,
            purchase_order_id=row.purchase_order_id,
            lines=[
                ReceiptLine(
                    line_number=line.line_number,
                    item_id=line.item_id,
                    quantity=line.quantity,
                    uom=line.uom,
                    po_line_number=line.po_line_number,
                    lot=line.lot,
                    serial=line.serial,
                    expiry=line.expiry,
                )
                for line in lines[0]
            ],
            source_system=row.source_system,
        )
