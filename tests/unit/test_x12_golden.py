"""Healthcare documents the public samples lack: 855 line statuses, implant ASN with lot,
serial and expiry, a GPO catalog mixing good and bad identifiers, an 810 whose total is off.

``tests/golden/x12/`` holds them; each is a real-shaped partner file written for these tests.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from suture.formats.x12 import (
    Invoice810,
    PriceCatalog832,
    PurchaseOrderAcknowledgment855,
    ShipNotice856,
    X12Record,
    decode_document,
)

GOLDEN = Path(__file__).parent.parent / "golden" / "x12"


def record(name: str) -> X12Record:
    (only,) = decode_document((GOLDEN / name).read_bytes()).records
    return only


def test_855_line_statuses_say_accepted_backordered_rejected_and_price_changed() -> None:
    ack = record("855_line_status_codes.x12")
    assert isinstance(ack, PurchaseOrderAcknowledgment855)
    statuses = [[(s.code, s.quantity) for s in line.statuses] for line in ack.lines]
    assert statuses == [
        [("IA", Decimal(10))],
        [("IB", Decimal(3)), ("IA", Decimal(2))],
        [("IR", Decimal(1))],
        [("IP", Decimal(4))],
    ]
    backorder = ack.lines[1].statuses[0]
    assert (backorder.meaning, backorder.date) == ("backordered", date(2024, 1, 20))
    assert ack.lines[2].statuses[0].rejected
    assert ack.lines[3].statuses[0].unit_price == Decimal("14.25")


def test_implant_asn_carries_sscc_lot_serials_and_expiry_per_item() -> None:
    notice = record("856_implants_lot_serial_expiry.x12")
    assert isinstance(notice, ShipNotice856)
    pack = notice.roots[0].children[0].children[0]
    assert (pack.level, pack.sscc) == ("P", "006141411234567890")
    items = [(i.line_id, i.lot, i.serials, i.expiry) for i in notice.items()]
    assert items == [
        ("1", "LOT-A1", ("SER-0001", "SER-0002"), date(2027, 1, 31)),
        ("2", "LOT-B7", (), date(2026, 6, 30)),
        ("3", None, ("SER-9",), None),
    ]
    assert notice.items()[1].product_ids["HI"] == "+H123SCREW61C"


def test_gpo_catalog_keeps_valid_lines_and_rejects_each_bad_identifier() -> None:
    catalog = record("832_gpo_catalog_mixed_lines.x12")
    assert isinstance(catalog, PriceCatalog832)
    assert [(e.segment, e.element, e.reason) for e in catalog.line_errors] == [
        ("SLN", "SLN10", "GTIN (UK) 50387698433522: check digit is 2, expected 1"),
        ("LIN", "LIN03", "GTIN (UK) 10387698433529: check digit is 9, expected 3"),
        ("LIN", "LIN05", "HIBC +H123SCREW61X: check character is 'X', expected 'C'"),
    ]
    knee, screw = catalog.items
    assert (knee.gtin, knee.hibc) == ("10387698433523", "+H123SCREW61C")
    assert [(level.uom, level.gtin) for level in knee.packaging] == [("EA", "00387698433526")]
    assert [(p.price_code, p.unit_price) for p in knee.prices] == [
        ("C01", Decimal(1200)),
        ("C02", Decimal(1150)),
    ]
    assert (screw.line_id, screw.product_ids, screw.hibc) == ("3", {"VC": "SCREW-6"}, None)


def test_invoice_total_mismatch_is_a_finding_naming_both_figures() -> None:
    invoice = record("810_total_mismatch.x12")
    assert isinstance(invoice, Invoice810)
    assert invoice.computed_total == Decimal("456.50")  # 425 + 24 - 5 allowance + 12.50 freight
    assert [(f.element, f.reason) for f in invoice.findings] == [
        (
            "TDS01",
            "stated total 500.00 differs from the computed 456.50 "
            "(lines 449.00, allowances and charges 7.50)",
        )
    ]
    assert invoice.allowances_charges[0].code == "D240"
    assert (invoice.terms[0].discount_percent, invoice.terms[0].net_days) == (Decimal(2), 30)
