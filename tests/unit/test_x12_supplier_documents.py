"""The supplier-side writers (855, 856, 810) read back through Suture's own decoders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.formats.x12 import (
    ControlNumbers,
    Invoice810,
    PurchaseOrderAcknowledgment855,
    ShipNotice856,
    TradingPartnerProfile,
    X12EncodeError,
    decode_document,
)
from suture.formats.x12.supplier_documents import (
    AcknowledgedLineOut,
    AcknowledgmentOut,
    InvoicedLineOut,
    InvoiceOut,
    ShipmentOut,
    ShippedLineOut,
    write_810,
    write_855,
    write_856,
)

SUPPLIER = TradingPartnerProfile(
    sender_qualifier="ZZ", sender_id="MEDLINE", receiver_qualifier="ZZ", receiver_id="SUTURE"
)
NUMBERS = ControlNumbers(interchange=41, group=41)
AT = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


def test_855_reads_back_line_statuses_dates_and_changed_prices() -> None:
    ack = AcknowledgmentOut(
        po_number="PO-1001",
        po_date=date(2026, 11, 1),
        acknowledged_on=date(2026, 11, 2),
        acknowledgment_type="AC",
        seller_order_number="SO-77",
        lines=(
            AcknowledgedLineOut(
                line_id="1", quantity=Decimal(10), uom="BX", unit_price=Decimal("42.50"),
                status="IA", product_ids={"IN": "ITEM-1", "VC": "CAT-9"},
            ),
            AcknowledgedLineOut(
                line_id="2", quantity=Decimal(4), uom="EA", unit_price=Decimal("900"),
                status="IB", ship_date=date(2026, 11, 20),
            ),
            AcknowledgedLineOut(
                line_id="3", quantity=Decimal(2), uom="EA", unit_price=Decimal("10"),
                status="IP", changed_price=Decimal("11.25"),
            ),
        ),
    )  # fmt: skip
    record = decode_document(write_855(ack, SUPPLIER, NUMBERS, AT)).records[0]
    assert isinstance(record, PurchaseOrderAcknowledgment855)
    assert (record.po_number, record.po_date, record.acknowledgment_type) == (
        "PO-1001", date(2026, 11, 1), "AC",
    )  # fmt: skip
    assert record.seller_order_number == "SO-77"
    assert record.acknowledgment_date == date(2026, 11, 2)
    assert record.findings == ()
    first, second, third = record.lines
    assert first.line.product_ids == {"IN": "ITEM-1", "VC": "CAT-9"}
    assert first.line.unit_price == Decimal("42.50")
    assert [s.code for s in first.statuses] == ["IA"]
    assert second.statuses[0].date == date(2026, 11, 20)
    assert second.statuses[0].quantity == Decimal(4)
    assert third.statuses[0].unit_price == Decimal("11.25")


def test_856_reads_back_po_items_lots_serials_and_expiry() -> None:
    shipment = ShipmentOut(
        shipment_id="ASN-5",
        shipped_on=date(2026, 11, 3),
        po_number="PO-1001",
        lines=(
            ShippedLineOut(
                line_id="1", quantity=Decimal(8), uom="BX", product_ids={"IN": "ITEM-1"},
                lot="LOT-A", expiry=date(2028, 1, 31),
            ),
            ShippedLineOut(
                line_id="2", quantity=Decimal(2), uom="EA", product_ids={"IN": "ITEM-2"},
                serials=("SN-1", "SN-2"),
            ),
        ),
    )  # fmt: skip
    record = decode_document(write_856(shipment, SUPPLIER, NUMBERS, AT)).records[0]
    assert isinstance(record, ShipNotice856)
    assert (record.shipment_id, record.shipment_date) == ("ASN-5", date(2026, 11, 3))
    orders = [level for level in record.levels() if level.level == "O"]
    assert [order.purchase_order_number for order in orders] == ["PO-1001"]
    items = record.items()
    assert [(i.line_id, i.quantity, i.uom) for i in items] == [
        ("1", Decimal(8), "BX"), ("2", Decimal(2), "EA"),
    ]  # fmt: skip
    assert (items[0].lot, items[0].expiry, items[0].serials) == ("LOT-A", date(2028, 1, 31), ())
    assert items[1].serials == ("SN-1", "SN-2")
    assert record.findings == ()


def test_810_reads_back_lines_terms_freight_and_a_consistent_total() -> None:
    invoice = InvoiceOut(
        number="INV-9",
        invoice_date=date(2026, 11, 5),
        po_number="PO-1001",
        po_date=date(2026, 11, 1),
        freight=Decimal("12.40"),
        net_days=45,
        lines=(
            InvoicedLineOut(
                line_id="1", quantity=Decimal(8), uom="BX", unit_price=Decimal("42.50"),
                product_ids={"IN": "ITEM-1"},
            ),
        ),
    )  # fmt: skip
    record = decode_document(write_810(invoice, SUPPLIER, NUMBERS, AT)).records[0]
    assert isinstance(record, Invoice810)
    assert (record.number, record.po_number, record.po_date) == (
        "INV-9", "PO-1001", date(2026, 11, 1),
    )  # fmt: skip
    assert record.stated_total == invoice.total == Decimal("352.40")
    assert record.computed_total == invoice.total
    assert record.findings == ()
    assert record.terms[0].net_days == 45
    assert record.lines[0].product_ids == {"IN": "ITEM-1"}


def test_810_refuses_fractions_of_a_cent_naming_the_element() -> None:
    invoice = InvoiceOut(
        number="INV-1", invoice_date=date(2026, 11, 5), po_number="PO-1",
        lines=(InvoicedLineOut(line_id="1", quantity=Decimal(3), uom="EA",
                               unit_price=Decimal("0.333")),),
    )  # fmt: skip
    with pytest.raises(X12EncodeError) as raised:
        write_810(invoice, SUPPLIER, NUMBERS, AT)
    assert raised.value.field == "TDS01"


_MONEY = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(99999), places=2)
_QTY = st.integers(min_value=1, max_value=5000).map(Decimal)


@given(st.lists(st.tuples(_QTY, _MONEY), min_size=1, max_size=20))
def test_810_total_always_matches_what_the_decoder_computes(
    lines: list[tuple[Decimal, Decimal]],
) -> None:
    invoice = InvoiceOut(
        number="INV-P", invoice_date=date(2026, 11, 5), po_number="PO-P",
        lines=tuple(
            InvoicedLineOut(line_id=str(n), quantity=q, uom="EA", unit_price=p)
            for n, (q, p) in enumerate(lines, start=1)
        ),
    )  # fmt: skip
    record = decode_document(write_810(invoice, SUPPLIER, NUMBERS, AT)).records[0]
    assert isinstance(record, Invoice810)
    assert record.findings == ()
    assert [(ln.quantity, ln.unit_price) for ln in record.lines] == lines
