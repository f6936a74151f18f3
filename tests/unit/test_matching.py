"""Three-way match rules (``domain/matching.py``): PO line ↔ receipt ↔ invoice line.

The world: gloves sold EA / BX of 10 / CS of 50; the PO orders 100 EA at 1.00 each (line 1)
and 20 BX of sutures at 30.00 a box (line 2).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.errors import DomainError
from suture.domain.invoicing import Invoice, InvoiceLine
from suture.domain.matching import (
    Finding,
    InvoiceSummary,
    MatchStatus,
    Tolerance,
    ToleranceRule,
    match_invoice,
    tolerance_for,
)
from suture.domain.purchasing import (
    PurchaseOrder,
    PurchaseOrderKind,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
)
from suture.domain.units import Packaging, PackagingLevel

AT = datetime(2025, 4, 1, 9, tzinfo=UTC)
D = Decimal
PACK = {
    "GLOVE": Packaging.of([PackagingLevel("EA", 1), PackagingLevel("BX", 10),
                           PackagingLevel("CS", 50)]),
    "SUTURE": Packaging.of([PackagingLevel("EA", 1), PackagingLevel("BX", 10)]),
    "GAUZE": Packaging.of([PackagingLevel("EA", 1), PackagingLevel("BX", 3)]),
}  # fmt: skip
NONE = Tolerance()


def po(kind: PurchaseOrderKind = PurchaseOrderKind.STANDARD) -> PurchaseOrder:
    return PurchaseOrder(
        id="po-1", number="PO-1", facility_id="F1", supplier_id="S1", order_date=date(2025, 3, 1),
        kind=kind,
        lines=[
            PurchaseOrderLine(line_number=1, item_id="GLOVE", quantity=D(100), uom="EA",
                              unit_price=D("1.00")),
            PurchaseOrderLine(line_number=2, item_id="SUTURE", quantity=D(20), uom="BX",
                              unit_price=D("30.00")),
        ],
    )  # fmt: skip


def receipt(*lines: tuple[int, str, str, str], number: str = "R1") -> Receipt:
    return Receipt(
        id=number, number=number, facility_id="F1", location_id=None, received_at=AT,
        purchase_order_id="po-1",
        lines=[ReceiptLine(line_number=i, item_id=item, quantity=D(qty), uom=uom,
                           po_line_number=po_line)
               for i, (po_line, item, qty, uom) in enumerate(lines, 1)],
    )  # fmt: skip


def line(
    n: int, item: str | None, qty: str, uom: str, price: str, *, po_line: int | None = None
) -> InvoiceLine:
    return InvoiceLine(line_number=n, item_id=item, quantity=D(qty), uom=uom,
                       unit_price=D(price), po_line_number=po_line)  # fmt: skip


def invoice(*lines: InvoiceLine, number: str = "INV-1", **changes: object) -> Invoice:
    values: dict[str, object] = {
        "id": f"id-{number}", "number": number, "supplier_id": "S1", "facility_id": "F1",
        "invoice_date": date(2025, 3, 20), "purchase_order_number": "PO-1", "lines": list(lines),
    }  # fmt: skip
    return Invoice(**(values | changes))  # type: ignore[arg-type]


def run(
    inv: Invoice,
    *receipts: Receipt,
    order: PurchaseOrder | None = None,
    tolerance: Tolerance = NONE,
    before: dict[int, Decimal] | None = None,
    others: tuple[InvoiceSummary, ...] = (),
    no_po: bool = False,
):  # type: ignore[no-untyped-def]
    return match_invoice(
        inv, purchase_order=None if no_po else (order or po()), receipts=receipts,
        previously_invoiced=before or {}, others=others, packaging=PACK, tolerance=tolerance,
        received_at=AT,
    )  # fmt: skip


FULL = receipt((1, "GLOVE", "100", "EA"), (2, "SUTURE", "20", "BX"))


# --- matched --------------------------------------------------------------------------------------


def test_an_invoice_equal_to_po_and_receipt_is_matched_for_its_total() -> None:
    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.00", po_line=1)), FULL)

    assert (outcome.status, outcome.issues, outcome.matched_amount, outcome.variance_amount) == (
        MatchStatus.MATCHED, (), D("100.00"), D("0.00"),
    )  # fmt: skip


def test_an_invoice_in_cases_matches_a_po_in_eaches_through_the_items_packaging() -> None:
    outcome = run(invoice(line(1, "GLOVE", "2", "CS", "50.00")), FULL)

    assert outcome.status is MatchStatus.MATCHED
    assert (outcome.lines[0].invoiced_eaches, outcome.lines[0].invoice_price_each) == (
        D(100), D("1.0000"),
    )  # fmt: skip


def test_a_receipt_in_boxes_counts_in_eaches_against_an_invoice_in_eaches() -> None:
    outcome = run(invoice(line(1, "SUTURE", "200", "EA", "3.00", po_line=2)),
                  receipt((2, "SUTURE", "20", "BX")))  # fmt: skip

    assert outcome.status is MatchStatus.MATCHED


def test_partial_receipts_add_up() -> None:
    first = receipt((1, "GLOVE", "60", "EA"), number="R1")
    second = receipt((1, "GLOVE", "4", "BX"), number="R2")

    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.00")), first, second)

    assert (outcome.status, outcome.lines[0].received_eaches) == (MatchStatus.MATCHED, D(100))


def test_a_partial_invoice_for_less_than_received_is_matched() -> None:
    outcome = run(invoice(line(1, "GLOVE", "40", "EA", "1.00")), FULL)

    assert (outcome.status, outcome.matched_amount) == (MatchStatus.MATCHED, D("40.00"))


def test_a_lower_price_is_accepted() -> None:
    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "0.90")), FULL)

    assert (outcome.status, outcome.matched_amount) == (MatchStatus.MATCHED, D("90.00"))


def test_bill_only_po_lines_count_as_received_without_a_receipt() -> None:
    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.00")),
                  order=po(PurchaseOrderKind.BILL_ONLY))  # fmt: skip

    assert (outcome.status, outcome.lines[0].received_eaches) == (MatchStatus.MATCHED, D(100))


def test_freight_and_tax_are_paid_as_billed() -> None:
    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.00"), freight=D("7.50"),
                          tax=D("2.50"), stated_total=D("110.00")), FULL)  # fmt: skip

    assert (outcome.status, outcome.invoice_amount) == (MatchStatus.MATCHED, D("110.00"))


# --- price ----------------------------------------------------------------------------------------


def test_a_price_over_the_po_is_a_price_variance_of_the_extended_difference() -> None:
    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.10")), FULL)

    assert outcome.status is MatchStatus.EXCEPTION
    assert [(i.finding, i.amount) for i in outcome.issues] == [(Finding.PRICE_VARIANCE, D("10.00"))]
    assert outcome.matched_amount == D("0.00")


def test_a_price_within_both_percent_and_amount_tolerance_is_matched() -> None:
    tolerance = Tolerance(price_percent=D(10), price_amount=D(10))

    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.10")), FULL, tolerance=tolerance)

    assert outcome.status is MatchStatus.MATCHED


@pytest.mark.parametrize(
    "tolerance",
    [
        Tolerance(price_percent=D(10), price_amount=D("9.99")),  # amount fails
        Tolerance(price_percent=D("9.9"), price_amount=D(100)),  # percent fails
    ],
)
def test_a_price_variance_must_be_within_both_the_percent_and_the_amount(
    tolerance: Tolerance,
) -> None:
    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.10")), FULL, tolerance=tolerance)

    assert outcome.findings == {Finding.PRICE_VARIANCE}


@pytest.mark.parametrize(
    ("price", "tolerance"),
    [
        ("1.02", Tolerance(price_percent=D(2), price_amount=D(100))),  # exactly 2 %
        ("1.25", Tolerance(price_percent=D(100), price_amount=D("0.25"))),  # exactly 0.25
    ],
)
def test_a_price_exactly_at_the_tolerance_passes_when_a_box_divides_into_thirds(
    price: str, tolerance: Tolerance
) -> None:
    """A box of 3 at 1.00 is 0.333… per each: the limit holds exactly, not to 28 digits."""
    order = PurchaseOrder(
        id="po-1", number="PO-1", facility_id="F1", supplier_id="S1", order_date=date(2025, 3, 1),
        lines=[PurchaseOrderLine(line_number=1, item_id="GAUZE", quantity=D(1), uom="BX",
                                 unit_price=D("1.00"))],
    )  # fmt: skip

    outcome = run(invoice(line(1, "GAUZE", "1", "BX", price)), receipt((1, "GAUZE", "1", "BX")),
                  order=order, tolerance=tolerance)  # fmt: skip

    assert (outcome.status, outcome.issues) == (MatchStatus.MATCHED, ())


def test_a_stated_total_that_differs_from_the_lines_is_a_header_price_variance() -> None:
    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.00"), stated_total=D("120.00")), FULL)

    assert [(i.finding, i.amount) for i in outcome.issues] == [(Finding.PRICE_VARIANCE, D("20.00"))]
    assert outcome.lines[-1].line_number is None


# --- quantity -------------------------------------------------------------------------------------


def test_billing_more_than_received_is_a_quantity_variance_of_the_excess() -> None:
    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.00")), receipt((1, "GLOVE", "60", "EA")))

    assert [(i.finding, i.amount) for i in outcome.issues] == [
        (Finding.QUANTITY_VARIANCE, D("40.00"))
    ]
    assert outcome.lines[0].quantity_variance_eaches == D(40)


def test_billing_more_than_ordered_is_a_quantity_variance_even_if_more_arrived() -> None:
    overshipped = receipt((1, "GLOVE", "150", "EA"))

    outcome = run(invoice(line(1, "GLOVE", "150", "EA", "1.00")), overshipped)

    assert [(i.finding, i.amount) for i in outcome.issues] == [
        (Finding.QUANTITY_VARIANCE, D("50.00"))
    ]


def test_a_quantity_excess_within_tolerance_is_matched() -> None:
    tolerance = Tolerance(quantity_percent=D(5), quantity_amount=D(3))

    outcome = run(invoice(line(1, "GLOVE", "63", "EA", "1.00")),
                  receipt((1, "GLOVE", "60", "EA")), tolerance=tolerance)  # fmt: skip

    assert outcome.status is MatchStatus.MATCHED


def test_earlier_matched_invoices_count_against_what_was_received() -> None:
    outcome = run(invoice(line(1, "GLOVE", "50", "EA", "1.00")),
                  receipt((1, "GLOVE", "80", "EA")), before={1: D(40)})  # fmt: skip

    assert [(i.finding, i.amount) for i in outcome.issues] == [
        (Finding.QUANTITY_VARIANCE, D("10.00"))
    ]
    assert outcome.lines[0].previously_invoiced_eaches == D(40)


def test_two_lines_of_one_invoice_on_one_po_line_share_what_was_received() -> None:
    two = invoice(line(1, "GLOVE", "60", "EA", "1.00"), line(2, "GLOVE", "60", "EA", "1.00"))

    outcome = run(two, receipt((1, "GLOVE", "100", "EA")))

    assert [(m.line_number, m.finding) for m in outcome.lines] == [
        (1, Finding.MATCHED), (2, Finding.QUANTITY_VARIANCE),
    ]  # fmt: skip


def test_a_line_with_nothing_received_is_an_invoice_without_receipt() -> None:
    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.00")))

    assert [(i.finding, i.amount) for i in outcome.issues] == [
        (Finding.INVOICE_WITHOUT_RECEIPT, D("100.00"))
    ]


def test_a_credit_line_is_checked_on_price_only() -> None:
    credited = invoice(line(1, "GLOVE", "100", "EA", "1.00"), line(2, "GLOVE", "-10", "EA", "1.00"))

    outcome = run(credited, FULL)

    assert (outcome.status, outcome.matched_amount) == (MatchStatus.MATCHED, D("90.00"))


def test_a_credit_above_the_po_price_gives_back_more_and_is_matched() -> None:
    credited = invoice(line(1, "GLOVE", "100", "EA", "1.00"), line(2, "GLOVE", "-10", "EA", "1.20"))

    outcome = run(credited, FULL)

    assert (outcome.status, outcome.issues, outcome.matched_amount) == (
        MatchStatus.MATCHED, (), D("88.00"),
    )  # fmt: skip


def test_a_credit_below_the_po_price_is_a_price_variance_of_what_it_does_not_give_back() -> None:
    """10 charged at 1.00 and credited at 0.70: 3.00 the supplier keeps."""
    credited = invoice(line(1, "GLOVE", "100", "EA", "1.00"), line(2, "GLOVE", "-10", "EA", "0.70"))

    outcome = run(credited, FULL)

    assert [(i.finding, i.amount) for i in outcome.issues] == [(Finding.PRICE_VARIANCE, D("3.00"))]
    assert [(m.line_number, m.finding, m.variance_amount) for m in outcome.lines] == [
        (1, Finding.MATCHED, D("0.00")), (2, Finding.PRICE_VARIANCE, D("3.00")),
    ]  # fmt: skip


def test_a_credit_below_the_po_price_within_the_price_tolerance_is_matched() -> None:
    credited = invoice(line(1, "GLOVE", "100", "EA", "1.00"), line(2, "GLOVE", "-10", "EA", "0.98"))
    tolerance = Tolerance(price_percent=D(2), price_amount=D("0.20"))

    outcome = run(credited, FULL, tolerance=tolerance)

    assert (outcome.status, outcome.matched_amount) == (MatchStatus.MATCHED, D("90.20"))


# --- not on PO, units -----------------------------------------------------------------------------


def test_an_item_not_on_the_po_is_not_on_po() -> None:
    gown = invoice(line(1, "GLOVE", "100", "EA", "1.00"), line(2, "GOWN", "5", "EA", "4.00"))

    outcome = run(gown, FULL)

    assert [(i.finding, i.amount) for i in outcome.issues] == [(Finding.NOT_ON_PO, D("20.00"))]


def test_an_invoice_whose_po_is_unknown_is_not_on_po_for_every_line() -> None:
    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.00"), purchase_order_number="PO-9"),
                  no_po=True)  # fmt: skip

    assert outcome.findings == {Finding.NOT_ON_PO}
    assert "PO PO-9 not found" in outcome.issues[0].detail


def test_a_po_of_another_supplier_is_not_on_po() -> None:
    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.00"), supplier_id="S2"), FULL)

    assert outcome.findings == {Finding.NOT_ON_PO}


def test_a_unit_the_item_does_not_know_is_a_uom_mismatch() -> None:
    outcome = run(invoice(line(1, "GLOVE", "1", "PL", "100.00")), FULL)

    assert outcome.findings == {Finding.UOM_MISMATCH}


# --- duplicates -----------------------------------------------------------------------------------


def summary(
    number: str, *, at: datetime = AT, amount: str = "100.00", **changes: object
) -> InvoiceSummary:
    values: dict[str, object] = {
        "invoice_id": f"id-{number}", "number": number, "supplier_id": "S1",
        "purchase_order_number": "PO-1", "amount": D(amount), "invoice_date": date(2025, 3, 20),
        "received_at": at.replace(hour=8),
    }  # fmt: skip
    return InvoiceSummary(**(values | changes))  # type: ignore[arg-type]


def test_the_same_supplier_and_number_received_earlier_makes_a_duplicate() -> None:
    earlier = summary("INV-1", invoice_id="id-first", amount="5.00")

    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.00")), FULL, others=(earlier,))

    assert (outcome.status, outcome.duplicate_of) == (MatchStatus.EXCEPTION, "id-first")
    assert outcome.findings == {Finding.DUPLICATE_INVOICE}


def test_same_po_amount_and_date_under_another_number_is_a_suspected_duplicate() -> None:
    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.00")), FULL,
                  others=(summary("INV-0"),))  # fmt: skip

    assert outcome.findings == {Finding.DUPLICATE_INVOICE}
    assert "suspected" in outcome.issues[0].detail


def test_a_duplicate_of_a_billed_invoice_raises_only_the_duplicate_for_the_whole_bill() -> None:
    earlier = summary("INV-1", invoice_id="id-first")

    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.00")), FULL, before={1: D(100)},
                  others=(earlier,))  # fmt: skip

    assert [(i.finding, i.amount) for i in outcome.issues] == [
        (Finding.DUPLICATE_INVOICE, D("100.00"))
    ]
    assert outcome.lines[0].finding is Finding.QUANTITY_VARIANCE  # kept on the line


@pytest.mark.parametrize(
    "other",
    [
        summary("INV-0", amount="99.00"),
        summary("INV-0", invoice_date=date(2025, 3, 21)),
        summary("INV-1", supplier_id="S2"),
        summary("INV-1", received_at=datetime(2025, 4, 2, tzinfo=UTC)),  # the later one
    ],
)
def test_other_invoices_that_differ_or_came_later_are_not_duplicates(other: InvoiceSummary) -> None:
    outcome = run(invoice(line(1, "GLOVE", "100", "EA", "1.00")), FULL, others=(other,))

    assert outcome.status is MatchStatus.MATCHED


# --- tolerances -----------------------------------------------------------------------------------


def test_the_most_specific_tolerance_rule_wins() -> None:
    default = Tolerance()
    rules = [
        ToleranceRule(facility_id="F1", tolerance=Tolerance(price_percent=D(1))),
        ToleranceRule(supplier_id="S1", tolerance=Tolerance(price_percent=D(2))),
        ToleranceRule(facility_id="F1", supplier_id="S1", tolerance=Tolerance(price_percent=D(3))),
    ]

    chosen = [
        tolerance_for(rules, "F1", "S1", default).price_percent,
        tolerance_for(rules[:2], "F1", "S1", default).price_percent,
        tolerance_for(rules[:1], "F1", "S1", default).price_percent,
        tolerance_for(rules, "F2", "S2", default).price_percent,
    ]

    assert chosen == [D(3), D(2), D(1), D(0)]


@pytest.mark.parametrize(
    "name", ["price_percent", "price_amount", "quantity_percent", "quantity_amount"]
)
def test_a_negative_tolerance_is_refused_naming_the_field(name: str) -> None:
    with pytest.raises(DomainError) as refused:
        Tolerance(**{name: D(-1)})  # type: ignore[arg-type]

    assert refused.value.field == name


# --- properties -----------------------------------------------------------------------------------

quantities = st.integers(min_value=1, max_value=200)
prices = st.decimals(min_value=D("0.01"), max_value=D("50"), places=2)


@given(
    lines=st.lists(
        st.tuples(st.sampled_from(["GLOVE", "SUTURE", "GOWN"]), quantities, prices),
        min_size=1,
        max_size=6,
    ),
    received=quantities,
    order=st.randoms(use_true_random=False),
)
def test_matching_does_not_depend_on_the_order_lines_arrive_in(
    lines: list[tuple[str, int, Decimal]], received: int, order: object
) -> None:
    built = [
        line(n, item, str(qty), "EA", str(price)) for n, (item, qty, price) in enumerate(lines, 1)
    ]
    shuffled = list(built)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    receipts = (receipt((1, "GLOVE", str(received), "EA"), (2, "SUTURE", str(received), "EA")),)

    assert run(invoice(*built), *receipts) == run(invoice(*shuffled), *receipts)


@given(cases=st.integers(min_value=1, max_value=2), price_each=prices)
def test_equal_quantities_in_different_units_match_alike(cases: int, price_each: Decimal) -> None:
    order = replace(po(), lines=[PurchaseOrderLine(line_number=1, item_id="GLOVE",
                                                   quantity=D(50 * cases), uom="EA",
                                                   unit_price=price_each)])  # fmt: skip
    received = receipt((1, "GLOVE", str(5 * cases), "BX"))
    in_eaches = invoice(line(1, "GLOVE", str(50 * cases), "EA", str(price_each)))
    in_cases = invoice(line(1, "GLOVE", str(cases), "CS", str(price_each * 50)))

    outcomes = [run(inv, received, order=order) for inv in (in_eaches, in_cases)]

    assert [o.status for o in outcomes] == [MatchStatus.MATCHED, MatchStatus.MATCHED]
    assert outcomes[0].matched_amount == outcomes[1].matched_amount


@given(billed=quantities, received=quantities)
def test_an_invoice_is_matched_exactly_when_it_bills_no_more_than_received(
    billed: int, received: int
) -> None:
    outcome = run(invoice(line(1, "GLOVE", str(billed), "EA", "1.00")),
                  receipt((1, "GLOVE", str(received), "EA")))  # fmt: skip

    assert (outcome.status is MatchStatus.MATCHED) == (billed <= min(received, 100))


def test_a_line_naming_a_po_line_of_another_item_is_matched_by_its_item() -> None:
    outcome = run(invoice(line(1, "SUTURE", "20", "BX", "30.00", po_line=1)), FULL)

    assert (outcome.status, outcome.lines[0].po_line_number) == (MatchStatus.MATCHED, 2)
