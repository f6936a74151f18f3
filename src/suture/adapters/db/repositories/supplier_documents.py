"""Repositories of the supplier's inbound documents: expected receipts (856), applied X12
interchanges and the control numbers of the 997s we send (``supplier_document_tables.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from suture.adapters.db.errors import storage_errors
from suture.adapters.db.repositories.base import AggregateRepository, Lines, Row, Values
from suture.adapters.db.supplier_document_tables import (
    expected_receipt_lines,
    expected_receipts,
    x12_control_numbers,
    x12_interchanges,
)
from suture.domain.purchasing import ExpectedReceipt, ExpectedReceiptLine, ExpectedReceiptStatus


class ExpectedReceiptRepository(AggregateRepository[ExpectedReceipt]):
    table = expected_receipts
    supplier_column = "supplier_id"
    status_column = "status"
    date_column = "noticed_at"
    number_column = "number"
    lines = (Lines(expected_receipt_lines, "expected_receipt_id"),)

    def to_row(self, obj: ExpectedReceipt) -> Values:
        return {
            "id": obj.id,
            "number": obj.number,
            "facility_id": obj.facility_id,
            "supplier_id": obj.supplier_id,
            "purchase_order_id": obj.purchase_order_id,
            "purchase_order_number": obj.purchase_order_number,
            "noticed_at": obj.noticed_at,
            "shipped_on": obj.shipped_on,
            "status": obj.status.value,
            "receipt_id": obj.receipt_id,
            "source_system": obj.source_system,
        }

    def to_lines(self, obj: ExpectedReceipt) -> tuple[list[Values], ...]:
        return (
            [
                {
                    "line_number": line.line_number,
                    "item_id": line.item_id,
                    "quantity": line.quantity,
                    "uom": line.uom,
                    "po_line_number": line.po_line_number,
                    "supplier_part_number": line.supplier_part_number,
                    "gtin": line.gtin,
                    "lot": line.lot,
                    "serial": line.serial,
                    "expiry": line.expiry,
                }
                for line in obj.lines
            ],
        )

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> ExpectedReceipt:
        return ExpectedReceipt(
            id=row.id,
            number=row.number,
            facility_id=row.facility_id,
            supplier_id=row.supplier_id,
            purchase_order_id=row.purchase_order_id,
            purchase_order_number=row.purchase_order_number,
            noticed_at=row.noticed_at,
            shipped_on=row.shipped_on,
            status=ExpectedReceiptStatus(row.status),
            receipt_id=row.receipt_id,
            lines=[
                ExpectedReceiptLine(
                    line_number=line.line_number,
                    item_id=line.item_id,
                    quantity=line.quantity,
                    uom=line.uom,
                    po_line_number=line.po_line_number,
                    supplier_part_number=line.supplier_part_number,
                    gtin=line.gtin,
                    lot=line.lot,
                    serial=line.serial,
                    expiry=line.expiry,
                )
                for line in lines[0]
            ],
            source_system=row.source_system,
        )


def _insert(connection: sa.Connection, table: sa.Table) -> Any:
    return sqlite.insert(table) if connection.dialect.name == "sqlite" else postgresql.insert(table)


class X12InterchangeRepository:
    """Applied interchanges, one per sender and ISA13, and our control numbers per partner."""

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def record(self, sender: str, control_number: str, message_id: str, at: datetime) -> str | None:
        """Record the interchange as applied by ``message_id``; None when this call stored it,
        else the id of the message that did (correct when two transactions race: one row)."""
        table = x12_interchanges
        statement = (
            _insert(self._connection, table)
            .on_conflict_do_nothing(index_elements=["sender", "control_number"])
            .returning(table.c.message_id)
        )
        row = {
            "sender": sender,
            "control_number": control_number,
            "message_id": message_id,
            "received_at": at,
        }
        with storage_errors(table.name):
            if self._connection.execute(statement, row).first() is not None:
                return None
            query = sa.select(table.c.message_id).where(
                (table.c.sender == sender) & (table.c.control_number == control_number)
            )
            return str(self._connection.execute(query).scalar_one())

    def take_over(self, sender: str, control_number: str, message_id: str) -> None:
        """Make ``message_id`` the message that applies the interchange (the first one failed)."""
        table = x12_interchanges
        statement = (
            table.update()
            .where((table.c.sender == sender) & (table.c.control_number == control_number))
            .values(message_id=message_id)
        )
        with storage_errors(table.name):
            self._connection.execute(statement)

    def next_control_number(self, partner: str) -> int:
        """The next interchange control number towards ``partner`` (1 to 999,999,999, then 1
        again), held until commit so two senders never use the same number."""
        table = x12_control_numbers
        upsert = _insert(self._connection, table).values(partner=partner, last=1)
        statement = upsert.on_conflict_do_update(
            index_elements=["partner"],
            set_={"last": sa.case((table.c["last"] >= 999_999_999, 1), else_=table.c["last"] + 1)},
        ).returning(table.c["last"])
        with storage_errors(table.name):
            return int(self._connection.execute(statement).scalar_one())
