"""Pricing a requisition's lines and grouping them into one PO per supplier."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from suture.domain.contracts import Contract, ContractMembership, ContractPrice
from suture.domain.costing import PriceSource
from suture.domain.errors import DomainError
from suture.domain.masterdata import Item
from suture.domain.ordering import PricedLine, price_line, purchase_orders_for, total
from suture.domain.purchasing import (
    PurchaseOrderKind,
    PurchaseOrderLine,
    Requisition,
    RequisitionLine,
)
from suture.domain.units import Packaging, PackagingLevel

BOXED = Packaging.of([PackagingLevel("EA", 1), PackagingLevel("BX", 10), PackagingLevel("CS", 50)])
GLOVES = Item(
    id="gloves", description="Gloves", manufacturer="Acme", catalog_number="G1",
    packaging=BOXED, purchase_uom="CS", supplier_id="sup-b", list_price=Decimal("70.00"),
)  # fmt: skip
GAUZE = Item(
    id="gauze", description="Gauze", manufacturer="Acme", catalog_number="Z1",
    packaging=BOXED, purchase_uom="BX", supplier_id="sup-a",
)  # fmt: skip
CONTRACT = Contract(
    id="con-1", number="CON-1", supplier_id="sup-b", name="GPO",
    effective_from=date(2025, 1, 1), effective_to=date(2025, 12, 31),
    memberships=[ContractMembership(facility_id="fac-1", tier="A",
                                    effective_from=date(2025, 1, 1))],
    prices=[
        ContractPrice(item_id="gloves", tier="A", uom="BX", unit_price=Decimal("12.50")),
        ContractPrice(item_id="gloves", tier="A", uom="CS", unit_price=Decimal("60.00"),
                      effective_from=date(2025, 6, 1)),
    ],
)  # fmt: skip


def line(item: str, quantity: str, uom: str, number: int = 1) -> RequisitionLine:
    return RequisitionLine(line_number=number, item_id=item, quantity=Decimal(quantity), uom=uom)


def test_a_line_is_ordered_in_whole_purchasing_units_at_the_contract_price_of_the_day() -> None:
    before = price_line(line("gloves", "85", "EA"), GLOVES, [CONTRACT], facility_id="fac-1",
                        on_date=date(2025, 3, 1))  # fmt: skip
    after = price_line(line("gloves", "85", "EA"), GLOVES, [CONTRACT], facility_id="fac-1",
                       on_date=date(2025, 7, 1))  # fmt: skip

    assert before == PricedLine(1, GLOVES, Decimal(2), "CS", Decimal("62.5000"),
                                PriceSource.CONTRACT, "con-1")  # fmt: skip
    assert after.unit_price == Decimal("60.0000")  # the lower case price, effective from June


@pytest.mark.parametrize(
    ("on_date", "facility", "last_paid", "expected"),
    [
        (date(2026, 1, 5), "fac-1", None, (Decimal("70.0000"), PriceSource.LIST)),
        (date(2025, 3, 1), "fac-2", (Decimal("1.40"), "EA"),
         (Decimal("70.0000"), PriceSource.LAST_PAID)),
        (date(2025, 3, 1), "fac-2", (Decimal("13"), "BX"),
         (Decimal("65.0000"), PriceSource.LAST_PAID)),
    ],
)  # fmt: skip
def test_without_a_contract_price_a_line_is_priced_at_last_paid_else_list_and_flagged(
    on_date: date,
    facility: str,
    last_paid: tuple[Decimal, str] | None,
    expected: tuple[Decimal, PriceSource],
) -> None:
    priced = price_line(line("gloves", "1", "CS"), GLOVES, [CONTRACT], facility_id=facility,
                        on_date=on_date, last_paid=last_paid)  # fmt: skip

    assert ((priced.unit_price, priced.source), priced.off_contract) == (expected, True)


def test_amounts_and_unit_prices_round_half_up_like_the_match_and_the_voucher() -> None:
    """At a .xx5 boundary with an even digit before it, half-even would round down."""
    listed = replace(GLOVES, list_price=Decimal("10.12345"))
    priced = price_line(line("gloves", "1", "CS"), listed, [], facility_id="fac-1",
                        on_date=date(2025, 3, 1))  # fmt: skip
    boundary = PricedLine(1, GLOVES, Decimal(1), "CS", Decimal("10.1250"), PriceSource.LIST)

    assert (priced.unit_price, boundary.amount, total([boundary, boundary])) == (
        Decimal("10.1235"), Decimal("10.13"), Decimal("20.26"),
    )  # fmt: skip


def test_an_item_without_contract_last_price_or_list_price_is_priced_at_zero_and_flagged() -> None:
    priced = price_line(line("gauze", "3", "BX"), GAUZE, [], facility_id="fac-1",
                        on_date=date(2025, 3, 1))  # fmt: skip
    assert (priced.unit_price, priced.source, priced.amount) == (
        Decimal("0.0000"),
        PriceSource.NONE,
        Decimal("0.00"),
    )


def test_lines_are_grouped_into_one_po_per_supplier_numbered_after_the_requisition() -> None:
    requisition = Requisition(
        id="REQ-7", number="REQ-7", facility_id="fac-1", department_id="dept-or",
        location_id="loc-1", requested_at=datetime(2025, 3, 1, tzinfo=UTC),
        lines=[line("gloves", "1", "CS", 1), line("gauze", "2", "BX", 2)],
    )  # fmt: skip
    on = date(2025, 3, 2)
    priced = [
        price_line(requisition.lines[0], GLOVES, [CONTRACT], facility_id="fac-1", on_date=on),
        price_line(requisition.lines[1], GAUZE, [], facility_id="fac-1", on_date=on),
    ]

    orders = purchase_orders_for(requisition, priced, order_date=on)

    assert [(o.number, o.supplier_id, o.kind, o.requisition_id, o.department_id, o.lines)
            for o in orders] == [
        ("PO-REQ-7-1", "sup-a", PurchaseOrderKind.STANDARD, "REQ-7", "dept-or",
         [PurchaseOrderLine(line_number=1, item_id="gauze", quantity=Decimal(2), uom="BX",
                            unit_price=Decimal("0.0000"), off_contract=True)]),
        ("PO-REQ-7-2", "sup-b", PurchaseOrderKind.STANDARD, "REQ-7", "dept-or",
         [PurchaseOrderLine(line_number=1, item_id="gloves", quantity=Decimal(1), uom="CS",
                            unit_price=Decimal("62.5000"), contract_id="con-1")]),
    ]  # fmt: skip
    assert total(priced) == Decimal("62.50")


def test_an_item_without_a_supplier_cannot_be_ordered() -> None:
    orphan = Item(id="orphan", description="x", manufacturer="x", catalog_number="x",
                  packaging=BOXED, purchase_uom="EA")  # fmt: skip
    requisition = Requisition(
        id="R", number="R", facility_id="fac-1", department_id=None, location_id=None,
        requested_at=datetime(2025, 3, 1, tzinfo=UTC), lines=[line("orphan", "1", "EA")],
    )  # fmt: skip
    priced = [price_line(requisition.lines[0], orphan, [], facility_id="fac-1",
                         on_date=date(2025, 3, 1))]  # fmt: skip

    with pytest.raises(DomainError, match="supplier_id: item orphan names no supplier"):
        purchase_orders_for(requisition, priced, order_date=date(2025, 3, 1))
