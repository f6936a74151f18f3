"""The usage workflow's pure rules: stock moves, reorders, consignment POs, cost and charge."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from suture.domain.contracts import PriceQuote
from suture.domain.costing import (
    PriceSource,
    UnitCost,
    amount,
    expected_charge,
    unit_cost,
    usage_journal,
)
from suture.domain.errors import DomainError
from suture.domain.inventory import StockMove, StockPosition, consume
from suture.domain.masterdata import Item, ParLevel
from suture.domain.purchasing import PurchaseOrderKind
from suture.domain.replenishment import Reorder, consignment_orders, reorder_for
from suture.domain.units import Packaging, PackagingLevel

AT = datetime(2025, 3, 3, 14, tzinfo=UTC)
BOXED = Packaging.of([PackagingLevel("EA", 1), PackagingLevel("BX", 10), PackagingLevel("CS", 50)])
GLOVES = Item(
    id="gloves",
    description="Gloves",
    manufacturer="Acme",
    catalog_number="G",
    packaging=BOXED,
    purchase_uom="CS",
    list_price=Decimal("40.00"),
)
KNEE = Item(
    id="knee",
    description="Knee",
    manufacturer="Ortho",
    catalog_number="K",
    packaging=Packaging.of([PackagingLevel("EA", 1)]),
    purchase_uom="EA",
    supplier_id="ortho",
    is_implant=True,
    is_consignment=True,
    is_chargeable=True,
    cdm_code="CDM-KNEE",
    hcpcs="C1776",
    revenue_code="0278",
)
PAR = ParLevel(
    id="par",
    facility_id="f",
    location_id="or",
    item_id="gloves",
    reorder_point=Decimal(2),
    par=Decimal(10),
    uom="BX",
)


def position(owned: int, consigned: int = 0) -> StockPosition:
    return StockPosition(
        facility_id="f",
        location_id="or",
        item_id="gloves",
        on_hand=Decimal(owned),
        consigned_on_hand=Decimal(consigned),
        updated_at=AT,
    )


def take(
    current: StockPosition | None, eaches: int, *, consigned: bool = False
) -> tuple[StockPosition, StockMove]:
    return consume(
        current,
        facility_id="f",
        location_id="or",
        item_id="gloves",
        eaches=Decimal(eaches),
        consigned=consigned,
        at=AT,
    )


def test_owned_usage_leaves_consigned_stock_alone_and_the_other_way_round() -> None:
    owned, _ = take(position(5, 3), 2)
    consigned, _ = take(position(5, 3), 2, consigned=True)
    assert (
        (owned.on_hand, owned.consigned_on_hand),
        (consigned.on_hand, consigned.consigned_on_hand),
    ) == ((3, 3), (5, 1))


@pytest.mark.parametrize(("on_hand", "stockout"), [(2, False), (1, True), (0, True)])
def test_a_stockout_is_usage_the_stock_could_not_cover(on_hand: int, stockout: bool) -> None:
    assert take(position(on_hand), 2)[1].stockout is stockout


def test_usage_at_a_location_without_a_position_starts_one_below_zero() -> None:
    moved, move = take(None, 1)
    assert (moved.on_hand, move) == (
        -1,
        StockMove(before=Decimal(0), after=Decimal(-1), consigned=False, stockout=True),
    )


def test_usage_must_be_positive() -> None:
    with pytest.raises(DomainError, match="quantity"):
        take(position(5), 0)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (25, 15, Reorder(Decimal(2), "CS")),  # 100 - 15 = 85 eaches: two cases of 50
        (20, 19, Reorder(Decimal(2), "CS")),  # at the point counts as above it
        (40, 20, None),  # not below the point yet
        (15, 10, Reorder(Decimal(2), "CS")),  # below already, nothing under way: 90 eaches
        (21, -30, Reorder(Decimal(3), "CS")),  # a shortfall is covered too: 130 eaches
    ],
)
def test_a_usage_leaving_stock_below_the_reorder_point_asks_for_par_minus_position(
    before: int, after: int, expected: Reorder | None
) -> None:
    move = StockMove(before=Decimal(before), after=Decimal(after), consigned=False, stockout=False)
    assert reorder_for(GLOVES, PAR, move, under_way=False) == expected


@pytest.mark.parametrize(("before", "after"), [(25, 15), (15, 10)])
def test_nothing_more_is_asked_while_a_replenishment_is_under_way(before: int, after: int) -> None:
    move = StockMove(before=Decimal(before), after=Decimal(after), consigned=False, stockout=False)
    assert reorder_for(GLOVES, PAR, move, under_way=True) is None


def test_consigned_stock_is_not_replenished_by_par() -> None:
    move = StockMove(before=Decimal(25), after=Decimal(15), consigned=True, stockout=False)
    assert reorder_for(GLOVES, PAR, move, under_way=False) is None


def test_a_consigned_implant_raises_a_bill_only_po_at_cost_and_a_no_charge_restock_po() -> None:
    cost = UnitCost(Decimal("2500.00"), PriceSource.CONTRACT, "c-1")
    bill_only, restock = consignment_orders(
        "u1",
        item=KNEE,
        facility_id="f",
        department_id="or",
        eaches=Decimal(1),
        cost=cost,
        on_date=date(2025, 3, 3),
    )
    assert [
        (o.number, o.kind, o.supplier_id, o.total, o.lines[0].contract_id)
        for o in (bill_only, restock)
    ] == [
        ("BO-u1", PurchaseOrderKind.BILL_ONLY, "ortho", Decimal("2500.00"), "c-1"),
        ("RP-u1", PurchaseOrderKind.REPLENISHMENT, "ortho", Decimal(0), "c-1"),
    ]


def test_a_consigned_item_without_a_vendor_is_refused() -> None:
    vendorless = Item(
        id="x",
        description="x",
        manufacturer="x",
        catalog_number="x",
        packaging=KNEE.packaging,
        purchase_uom="EA",
    )
    with pytest.raises(DomainError, match="supplier_id"):
        consignment_orders(
            "u1",
            item=vendorless,
            facility_id="f",
            department_id=None,
            eaches=Decimal(1),
            cost=UnitCost(Decimal(1), PriceSource.LIST),
            on_date=date(2025, 3, 3),
        )


def test_the_unit_cost_prefers_the_contract_then_the_last_price_paid_then_the_list_price() -> None:
    quote = PriceQuote("c-1", "C-1", "A", "EA", Decimal("1.25"))
    assert [
        unit_cost(GLOVES, quote, Decimal(3)),
        unit_cost(GLOVES, None, Decimal(3)),
        unit_cost(GLOVES, None, None),
    ] == [
        UnitCost(Decimal("1.25"), PriceSource.CONTRACT, "c-1"),
        UnitCost(Decimal(3), PriceSource.LAST_PAID),
        UnitCost(Decimal("0.8"), PriceSource.LIST),  # 40.00 a case of 50
    ]


def test_a_unit_cost_is_kept_to_four_places_and_an_amount_to_the_cent() -> None:
    cost = unit_cost(GLOVES, None, Decimal(100) / Decimal(3))
    assert (cost.unit_price, amount(cost, Decimal(3))) == (Decimal("33.3333"), Decimal("100.00"))


def test_an_amount_is_the_exact_price_times_the_quantity_not_the_rounded_price_per_each() -> None:
    # 10.00 a box of 12 is 0.8333… an each: 24 boxes cost 240.00, not 288 x 0.8333 = 239.99.
    dozen = Packaging.of([PackagingLevel("EA", 1), PackagingLevel("BX", 12)])
    gauze = Item(id="gauze", description="Gauze", manufacturer="Acme", catalog_number="G",
                 packaging=dozen, purchase_uom="BX", list_price=Decimal("10.00"))  # fmt: skip
    quote = PriceQuote("c-1", "C-1", "A", "EA", dozen.convert_price(Decimal(10), "BX", "EA"))
    costs = [unit_cost(gauze, quote, None), unit_cost(gauze, None, quote.unit_price),
             unit_cost(gauze, None, None)]  # fmt: skip

    assert [(c.unit_price, amount(c, Decimal(288))) for c in costs] == [
        (Decimal("0.8333"), Decimal("240.00"))
    ] * 3


def test_a_consigned_implants_accrual_rounds_half_up_like_its_bill_only_po_and_voucher() -> None:
    # The accrual (GL-2100) is cleared by the bill-only PO's invoice, which the match and the AP
    # voucher round half up: 10.125 accrued as 10.12 would leave a cent in accrued receipts.
    cost = UnitCost(Decimal("10.125"), PriceSource.CONTRACT, "c-1")
    bill_only, _ = consignment_orders(
        "u1", item=KNEE, facility_id="f", department_id=None, eaches=Decimal(1), cost=cost,
        on_date=date(2025, 3, 3),
    )  # fmt: skip
    total = amount(cost, Decimal(1))
    journal = usage_journal("u1", item=KNEE, facility_id="f", cost_center_id="cc",
                            total=Decimal("10.125"), consigned=True,
                            posting_date=date(2025, 3, 3))  # fmt: skip

    assert (total, [line.credit for line in journal.lines]) == (
        Decimal("10.13"),
        [Decimal(0), Decimal("10.13")],
    )
    assert total == bill_only.total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_a_bill_only_po_for_a_pack_that_does_not_divide_totals_the_accrual_to_the_cent() -> None:
    # 10.00 a box of 3 is 3.3333… an each: 53 eaches accrue 176.67, but 53 x 3.3333 = 176.66
    # would leave a cent in accrued receipts when the bill-only PO's invoice is matched.
    triple = Packaging.of([PackagingLevel("EA", 1), PackagingLevel("BX", 3)])
    screws = Item(id="screw", description="Screw", manufacturer="Ortho", catalog_number="S",
                  packaging=triple, purchase_uom="BX", supplier_id="ortho", is_implant=True,
                  is_consignment=True)  # fmt: skip
    quote = PriceQuote("c-1", "C-1", "A", "EA", triple.convert_price(Decimal(10), "BX", "EA"))
    cost = unit_cost(screws, quote, None)
    bill_only, _ = consignment_orders(
        "u1", item=screws, facility_id="f", department_id=None, eaches=Decimal(53), cost=cost,
        on_date=date(2025, 3, 3),
    )  # fmt: skip
    line = bill_only.lines[0]

    assert (amount(cost, Decimal(53)), line.unit_price, line.extended_amount) == (
        Decimal("176.67"),
        Decimal("3.3334"),
        Decimal("176.6702"),
    )


@pytest.mark.parametrize("eaches", [1, 2, 3, 7, 50, 53, 99, 100])
@pytest.mark.parametrize("pack_price", ["10.00", "10.01", "0.05", "2499.99"])
def test_a_bill_only_line_rounds_half_up_to_the_accrual_up_to_a_hundred_eaches(
    pack_price: str, eaches: int
) -> None:
    triple = Packaging.of([PackagingLevel("EA", 1), PackagingLevel("BX", 3)])
    exact = triple.convert_price(Decimal(pack_price), "BX", "EA")
    cost = UnitCost(exact.quantize(Decimal("0.0001")), PriceSource.CONTRACT, "c-1", exact=exact)
    bill_only, _ = consignment_orders(
        "u1", item=KNEE, facility_id="f", department_id=None, eaches=Decimal(eaches), cost=cost,
        on_date=date(2025, 3, 3),
    )  # fmt: skip
    line = bill_only.lines[0]

    assert (
        line.extended_amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        abs(line.unit_price - cost.unit_price) <= Decimal("0.0001"),
    ) == (amount(cost, Decimal(eaches)), True)


def test_an_item_without_any_price_costs_nothing_and_is_flagged() -> None:
    knee = unit_cost(KNEE, None, None)
    assert (knee.unit_price, knee.source, knee.off_contract) == (0, PriceSource.NONE, True)


def test_an_owned_supply_is_expensed_against_inventory_a_consigned_implant_against_accruals() -> (
    None
):
    owned = usage_journal(
        "u1",
        item=GLOVES,
        facility_id="f",
        cost_center_id="cc",
        total=Decimal(5),
        consigned=False,
        posting_date=date(2025, 3, 3),
    )
    consigned = usage_journal(
        "u2",
        item=KNEE,
        facility_id="f",
        cost_center_id="cc",
        total=Decimal(5),
        consigned=True,
        posting_date=date(2025, 3, 3),
    )
    assert [
        [(line.gl_account_id, line.cost_center_id) for line in j.lines] for j in (owned, consigned)
    ] == [
        [("GL-5100", "cc"), ("GL-1400", None)],
        [("GL-5110", "cc"), ("GL-2100", None)],
    ]


def test_only_a_chargeable_item_with_a_cdm_code_expects_a_charge() -> None:
    def expect(item: Item) -> str | None:
        charge = expected_charge(
            "u1",
            item=item,
            facility_id="f",
            encounter_token="t",
            eaches=Decimal(1),
            cost=Decimal(1),
            used_at=AT,
            department_id=None,
            at=AT,
        )
        return None if charge is None else charge.cdm_code

    assert [expect(KNEE), expect(GLOVES)] == ["CDM-KNEE", None]
