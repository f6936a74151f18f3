"""The procure-to-pay rules of the domain: a supplier's acknowledgment, a dock receipt, restock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from suture.domain.errors import DomainError
from suture.domain.inventory import StockPosition, restock
from suture.domain.purchasing import (
    Discrepancy,
    LineAcknowledgment,
    LineAnswer,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)

AT = datetime(2025, 3, 1, 12, tzinfo=UTC)
A = LineAcknowledgment


def order(status: PurchaseOrderStatus = PurchaseOrderStatus.SENT) -> PurchaseOrder:
    return PurchaseOrder(
        id="po-1", number="PO-1", facility_id="f", supplier_id="s", order_date=date(2025, 3, 1),
        status=status,
        lines=[
            PurchaseOrderLine(line_number=n, item_id=f"i{n}", quantity=Decimal(q), uom="EA",
                              unit_price=Decimal("10.00"))
            for n, q in ((1, 5), (2, 2))
        ],
    )  # fmt: skip


def test_an_acknowledged_po_records_each_answer_and_is_acknowledged() -> None:
    po = order()
    po.acknowledge([
        LineAnswer(line_number=1, acknowledgment=A.ACCEPTED, unit_price=Decimal("10.00")),
        LineAnswer(line_number=2, acknowledgment=A.BACKORDERED, quantity=Decimal(2),
                   expected_date=date(2025, 4, 1)),
    ])  # fmt: skip

    assert po.status is PurchaseOrderStatus.ACKNOWLEDGED
    assert [(line.acknowledgment, line.expected_date) for line in po.lines] == [
        (A.ACCEPTED, None), (A.BACKORDERED, date(2025, 4, 1)),
    ]  # fmt: skip


def test_rejected_and_repriced_lines_are_the_discrepancies_whatever_their_code_says() -> None:
    po = order()
    found = po.acknowledge([
        LineAnswer(line_number=1, acknowledgment=A.ACCEPTED, unit_price=Decimal("11.00")),
        LineAnswer(line_number=2, acknowledgment=A.REJECTED),
    ])  # fmt: skip

    assert found == [
        Discrepancy(line_number=1, acknowledgment=A.ACCEPTED, ordered_quantity=Decimal(5),
                    ordered_unit_price=Decimal("10.00"), quantity=None,
                    unit_price=Decimal("11.00")),
        Discrepancy(line_number=2, acknowledgment=A.REJECTED, ordered_quantity=Decimal(2),
                    ordered_unit_price=Decimal("10.00"), quantity=None, unit_price=None),
    ]  # fmt: skip
    assert [d.describe("PO-1") for d in found] == [
        "PO PO-1 line 1: accepted: unit price 10.00 -> 11.00",
        "PO PO-1 line 2: rejected (ordered 2 at 10.00)",
    ]


def test_an_acknowledgment_after_receiving_began_keeps_the_receiving_status() -> None:
    po = order(PurchaseOrderStatus.PARTIALLY_RECEIVED)
    po.acknowledge([LineAnswer(line_number=1, acknowledgment=A.ACCEPTED)])
    assert po.status is PurchaseOrderStatus.PARTIALLY_RECEIVED


def test_an_answer_for_a_line_the_po_does_not_have_is_refused() -> None:
    with pytest.raises(DomainError, match="PO PO-1 has no line 7"):
        order().acknowledge([LineAnswer(line_number=7, acknowledgment=A.ACCEPTED)])


def test_receiving_part_then_the_rest_moves_the_po_to_partially_received_then_received() -> None:
    po = order()
    po.receive({1: Decimal(3)})
    assert (po.status, po.lines[0].open_quantity) == (
        PurchaseOrderStatus.PARTIALLY_RECEIVED, Decimal(2),
    )  # fmt: skip
    po.receive({1: Decimal(2), 2: Decimal(2)})
    assert po.status is PurchaseOrderStatus.RECEIVED


def test_a_rejected_line_is_not_waited_for() -> None:
    po = order()
    po.acknowledge([LineAnswer(line_number=2, acknowledgment=A.REJECTED)])
    po.receive({1: Decimal(5)})
    assert po.status is PurchaseOrderStatus.RECEIVED


def test_receiving_against_a_cancelled_po_or_a_non_positive_quantity_is_refused() -> None:
    with pytest.raises(DomainError, match="is cancelled"):
        order(PurchaseOrderStatus.CANCELLED).receive({1: Decimal(1)})
    with pytest.raises(DomainError, match="must be positive"):
        order().receive({1: Decimal(0)})


def test_restock_adds_owned_and_consigned_stock_apart() -> None:
    owned = restock(None, facility_id="f", location_id="l", item_id="i", eaches=Decimal(10),
                    consigned=False, at=AT)  # fmt: skip
    both = restock(owned, facility_id="f", location_id="l", item_id="i", eaches=Decimal(3),
                   consigned=True, at=AT)  # fmt: skip
    assert both == StockPosition(
        facility_id="f", location_id="l", item_id="i", on_hand=Decimal(10),
        consigned_on_hand=Decimal(3), updated_at=AT,
    )  # fmt: skip
    with pytest.raises(DomainError, match="must be positive"):
        restock(both, facility_id="f", location_id="l", item_id="i", eaches=Decimal(0),
                consigned=False, at=AT)  # fmt: skip
