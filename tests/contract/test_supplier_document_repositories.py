"""The supplier-document repositories hold the same promises on SQLite and PostgreSQL: expected
receipts and acknowledged PO lines read back whole, an interchange is recorded once per sender
and ISA13, control numbers increase per partner."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from suture.domain.purchasing import (
    ExpectedReceipt,
    ExpectedReceiptLine,
    ExpectedReceiptStatus,
    LineAcknowledgment,
    PurchaseOrder,
    PurchaseOrderLine,
)
from suture.services.unit_of_work import UnitOfWork

AT = datetime(2025, 3, 3, 14, tzinfo=UTC)
UowFactory = Callable[[], UnitOfWork]


def test_an_expected_receipt_reads_back_whole_and_by_supplier(uow: UowFactory) -> None:
    run = uuid.uuid4().hex
    expected = ExpectedReceipt(
        id=f"asn-{run}", number="SHIP-1", facility_id=f"fac-{run}", supplier_id=f"sup-{run}",
        purchase_order_id="po-1", purchase_order_number="PO-1", noticed_at=AT,
        shipped_on=date(2025, 3, 2), status=ExpectedReceiptStatus.RECEIVED, receipt_id="r-1",
        lines=[
            ExpectedReceiptLine(line_number=1, item_id="i-1", quantity=Decimal("2.5"), uom="BX",
                                po_line_number=3, supplier_part_number="VP-1",
                                gtin="00614141000012", lot="L1", serial="S1",
                                expiry=date(2027, 1, 1)),
            ExpectedReceiptLine(line_number=2, item_id="i-2", quantity=Decimal(1), uom="EA"),
        ],
    )  # fmt: skip
    with uow() as unit:
        unit.expected_receipts.add(expected)
        unit.commit()
    with uow() as unit:
        stored = unit.expected_receipts.get(expected.id)
        by_facility = unit.expected_receipts.list(facility_id=f"fac-{run}")

    assert stored == expected
    assert by_facility == [expected]


def test_acknowledged_and_received_po_lines_read_back_whole(uow: UowFactory) -> None:
    run = uuid.uuid4().hex
    po = PurchaseOrder(
        id=f"po-{run}", number=f"PO-{run}", facility_id="fac", supplier_id="sup",
        order_date=date(2025, 3, 1),
        lines=[
            PurchaseOrderLine(line_number=1, item_id="i", quantity=Decimal(4), uom="EA",
                              unit_price=Decimal("2.50"),
                              acknowledgment=LineAcknowledgment.BACKORDERED,
                              acknowledged_quantity=Decimal(4),
                              acknowledged_unit_price=Decimal("2.75"),
                              expected_date=date(2025, 3, 20), received_quantity=Decimal(1)),
            PurchaseOrderLine(line_number=2, item_id="j", quantity=Decimal(1), uom="EA",
                              unit_price=Decimal(1)),
        ],
    )  # fmt: skip
    with uow() as unit:
        unit.purchase_orders.add(po)
        unit.commit()
    with uow() as unit:
        stored = unit.purchase_orders.get(po.id)

    assert stored == po


def test_an_interchange_is_recorded_once_per_sender_and_control_number(uow: UowFactory) -> None:
    sender = f"ZZ:{uuid.uuid4().hex[:12]}"
    with uow() as unit:
        first = unit.x12_interchanges.record(sender, "000000905", "m-1", AT)
        again = unit.x12_interchanges.record(sender, "000000905", "m-2", AT)
        other = unit.x12_interchanges.record(sender, "000000906", "m-3", AT)
        unit.x12_interchanges.take_over(sender, "000000905", "m-4")
        after = unit.x12_interchanges.record(sender, "000000905", "m-5", AT)
        unit.commit()

    assert (first, again, other, after) == (None, "m-1", None, "m-4")


def test_control_numbers_increase_per_partner_from_one(uow: UowFactory) -> None:
    run = uuid.uuid4().hex
    with uow() as unit:
        numbers = [unit.x12_interchanges.next_control_number(f"x12:a-{run}") for _ in range(3)]
        other = unit.x12_interchanges.next_control_number(f"x12:b-{run}")
        unit.commit()
    with uow() as unit:
        later = unit.x12_interchanges.next_control_number(f"x12:a-{run}")

    assert (numbers, other, later) == ([1, 2, 3], 1, 4)
