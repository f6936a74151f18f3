"""Every file in ../shared/samples/x12 decodes to the records a person reading it expects, or is
refused with the expected clear error (issue 4, "Done means").

Decision on ISA12: ``00040`` (Walmart 810, both HIBCC 832s) names no X12 version. The
interchange is accepted with a finding on ISA12, because GS08 states each group's version
(``004010``) and that is what the decoders use; rejecting would lose real partner traffic over
a header field nothing downstream reads.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest

from suture.formats.x12 import (
    Invoice810,
    PriceCatalog832,
    PurchaseOrder850,
    PurchaseOrderAcknowledgment855,
    ShipNotice856,
    X12DecodeError,
    X12Document,
    decode_document,
    read_interchange,
)

T = TypeVar("T")
SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "x12"


def decode(name: str) -> X12Document:
    return decode_document((SAMPLES / name).read_bytes())


def only(document: X12Document, kind: type[T]) -> T:
    (record,) = document.records
    assert isinstance(record, kind)
    return record


COVERED = [
    "810_4010_2011110815164104_oopfactory.txt",
    "810_4010_californiaiso_oopfactory.txt",
    "810_4010_walmart_oopfactory.txt",
    "810_4030_multiinvoice_oopfactory.txt",
    "832_4010_hibcc_example1_oopfactory.txt",
    "832_4010_hibcc_example2_oopfactory.txt",
    "835_5010_example1_oopfactory.txt",
    "837I_5010_spec_3.1.1_oopfactory.txt",
    "850_4010_adobe_clp_oopfactory.txt",
    "850_4010_adobe_shrinkwrapped_oopfactory.txt",
    "850_4010_aojuk_oopfactory.txt",
    "850_4010_pgwglass_oopfactory.txt",
    "855_4010_adobe_oopfactory.txt",
    "855_4010_ssimmons_oopfactory.txt",
    "856_4010_example1_oopfactory.txt",
    "856_4010_example3_oopfactory.txt",
    "856_4010_example4_oopfactory.txt",
    "856_4010vics_gregarican_oopfactory.txt",
    "ta1_00401_technicalack_sample1_oopfactory.txt",
]


def test_every_sample_file_is_covered_by_a_test_here() -> None:
    assert {path.name for path in SAMPLES.iterdir()} == set(COVERED)


# --- 810 -----------------------------------------------------------------------------------


def test_partner_feed_810_has_seven_lines_whose_total_matches_tds() -> None:
    invoice = only(decode("810_4010_2011110815164104_oopfactory.txt"), Invoice810)
    assert (invoice.number, invoice.po_number, invoice.invoice_date) == (
        "3323399",
        "981903",
        date(2011, 10, 31),
    )
    assert len(invoice.lines) == 7
    first = invoice.lines[0]
    assert (first.quantity, first.uom, first.unit_price) == (Decimal(11), "EA", Decimal(1305))
    assert first.product_ids == {"SK": "10190150", "VC": "10190150"}
    assert invoice.stated_total == invoice.computed_total == Decimal("56358.00")
    assert invoice.findings == ()


def test_california_iso_810_reads_negative_prices_terms_and_descriptions() -> None:
    invoice = only(decode("810_4010_californiaiso_oopfactory.txt"), Invoice810)
    assert len(invoice.lines) == 16
    assert invoice.lines[4].unit_price == Decimal("-497.1")
    assert invoice.lines[0].description == "Day-Ahead Spinning Reserve due ISO"
    assert invoice.terms[0].net_due_date == date(1999, 1, 7)
    assert [party.entity for party in invoice.parties] == ["BT", "RE"]
    assert invoice.stated_total == invoice.computed_total == Decimal("213516.63")


def test_walmart_810_is_crlf_terminated_with_a_bad_isa12_and_a_line_allowance() -> None:
    document = decode("810_4010_walmart_oopfactory.txt")
    invoice = only(document, Invoice810)
    assert document.interchange.delimiters.segment == "\r"
    assert [finding.element for finding in document.interchange.findings] == ["ISA12"]
    (line,) = invoice.lines
    assert line.product_ids["UK"] == "00221089552284"  # the trailing space before CR is gone
    assert line.allowances_charges[0].signed_amount == Decimal("-23.50")
    assert invoice.stated_total == invoice.computed_total == Decimal("3875.30")
    assert invoice.terms[0].net_days == 45


def test_multi_invoice_810_gives_two_invoices_with_gst_charges() -> None:
    document = decode("810_4030_multiinvoice_oopfactory.txt")
    first, second = document.records
    assert isinstance(first, Invoice810)
    assert isinstance(second, Invoice810)
    assert document.interchange.delimiters.repetition == "^"
    assert document.interchange.groups[0].version == "004030"
    assert (first.number, len(first.lines), first.stated_total) == (
        "465266",
        4,
        Decimal("8432.02"),
    )
    assert (second.number, len(second.lines), second.stated_total) == (
        "465267",
        1,
        Decimal("1129.92"),
    )
    assert first.findings == second.findings == ()
    assert first.terms[0].discount_percent == Decimal(1)


# --- 832 -----------------------------------------------------------------------------------


def test_hibcc_832_example1_rejects_both_lines_carrying_the_bad_case_gtin() -> None:
    document = decode("832_4010_hibcc_example1_oopfactory.txt")
    catalog = only(document, PriceCatalog832)
    assert [finding.element for finding in document.interchange.findings] == ["ISA12"]
    assert [(e.segment, e.element, e.reason) for e in catalog.line_errors] == [
        ("LIN", "LIN05", "GTIN (UK) 50387698433528: check digit is 8, expected 1"),
        ("PKL", "PKL02", "GTIN (UK) 50387698433528: check digit is 8, expected 1"),
    ]
    (item,) = catalog.items
    assert (item.gtin, item.product_ids) == (None, {"MG": "1000"})
    assert [(level.uom, level.gtin) for level in item.packaging] == [("BX", "30387698433527")]
    assert [(p.price_code, p.unit_price, p.uom) for p in item.prices] == [
        ("CAT", Decimal("66.50"), "CA"),
        ("SLP", Decimal("88.50"), None),
    ]
    assert [party.entity for party in catalog.parties] == ["MF", "DS"]


def test_hibcc_832_example2_reports_three_gtin_failures_with_exact_reasons() -> None:
    catalog = only(decode("832_4010_hibcc_example2_oopfactory.txt"), PriceCatalog832)
    assert [(e.position, e.element, e.reason) for e in catalog.line_errors] == [
        (11, "LIN05", "GTIN (UK) 50387698433528: check digit is 8, expected 1"),
        (21, "SLN12", "GTIN (UK) 50387698433522: check digit is 2, expected 1"),
        (23, "SLN12", "GTIN (UK) 00387698433521: check digit is 1, expected 6"),
    ]
    (item,) = catalog.items
    assert item.product_ids == {"VC": "1000"}
    assert [(level.uom, level.quantity, level.gtin) for level in item.packaging] == [
        ("BX", Decimal(4), "30387698433527")
    ]
    prices = item.contract_prices("item-1")
    assert [(p.tier, p.unit_price, p.uom, p.effective_from) for p in prices] == [
        ("C01", Decimal(65), "CA", date(2000, 3, 1)),
        ("C02", Decimal("62.20"), "CA", date(2000, 3, 1)),
        ("C03", Decimal("58.75"), "CA", date(2000, 3, 1)),
    ]
    gpo = catalog.party("BG")
    assert gpo is not None
    assert (gpo.name, gpo.id_qualifier, gpo.id) == ("HC GROUP ORG", "21", "8Y67JSD66")


# --- unsupported sets ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "set_id"),
    [("835_5010_example1_oopfactory.txt", "835"), ("837I_5010_spec_3.1.1_oopfactory.txt", "837")],
)
def test_claims_and_remittances_are_refused_as_unsupported_sets(name: str, set_id: str) -> None:
    with pytest.raises(X12DecodeError) as caught:
        decode(name)
    assert (caught.value.segment, caught.value.element, caught.value.position) == ("ST", "ST01", 3)
    assert caught.value.reason.startswith(f"unsupported transaction set {set_id}")


def test_unsupported_sets_still_have_a_valid_envelope() -> None:
    interchange = read_interchange((SAMPLES / "837I_5010_spec_3.1.1_oopfactory.txt").read_bytes())
    ((group, transaction_set),) = interchange.transaction_sets()
    assert (group.version, transaction_set.version) == ("005010X222", "005010X223")


# --- 850 -----------------------------------------------------------------------------------


def test_adobe_clp_850_with_swapped_delimiters_reads_lines_and_parties() -> None:
    document = decode("850_4010_adobe_clp_oopfactory.txt")
    order = only(document, PurchaseOrder850)
    assert (document.interchange.delimiters.element, document.interchange.delimiters.segment) == (
        "~",
        "*",
    )
    assert document.interchange.version == "00300"
    assert (order.number, order.order_date, order.currency) == (
        "ANSI-X12-CLP",
        date(2010, 6, 14),
        "USD",
    )
    assert [line.unit_price for line in order.lines] == [Decimal("157.50"), Decimal(160)]
    assert order.lines[0].product_ids == {"BP": "1733880", "MG": "64017422AB10A12"}
    assert [party.entity for party in order.lines[0].parties] == ["IA", "ST"]
    reseller = order.party("DU")
    assert reseller is not None
    assert reseller.references[0].description == "DEPARTMENT 100"


def test_space_terminated_850_keeps_spaces_inside_names() -> None:
    document = decode("850_4010_adobe_shrinkwrapped_oopfactory.txt")
    order = only(document, PurchaseOrder850)
    assert document.interchange.delimiters.segment == " \r\n"
    sold_to = order.party("BY")
    assert sold_to is not None
    assert sold_to.name == "SOLD TO Org Name"
    (line,) = order.lines
    assert (line.quantity, line.unit_price) == (Decimal(11), Decimal("1499.95"))
    # AMT*TT*12 is not the order's value (11 x 1499.95): kept as a finding, not trusted.
    assert [(f.element, f.reason) for f in order.findings] == [
        ("AMT02", "total 12 differs from the lines' 16499.45")
    ]


def test_aojuk_850_reads_vendor_parts_and_descriptions() -> None:
    order = only(decode("850_4010_aojuk_oopfactory.txt"), PurchaseOrder850)
    assert [(ln.line_id, ln.uom, ln.product_ids) for ln in order.lines] == [
        ("6917", "PK", {"VP": "123456"}),
        ("6915", "EA", {"VP": "654321"}),
    ]
    assert order.lines[0].description == "DESCRIPTION 1"
    assert order.stated_total == order.computed_total == Decimal("229.98")
    assert order.findings == ()


def test_pipe_terminated_850_with_tilde_components_totals_884_06() -> None:
    document = decode("850_4010_pgwglass_oopfactory.txt")
    order = only(document, PurchaseOrder850)
    assert (document.interchange.delimiters.component, document.interchange.delimiters.segment) == (
        "~",
        "|",
    )
    assert len(order.lines) == 4
    assert order.lines[1].description == "LAMP, MAXLITE 35873, 200W,"
    assert order.lines[0].dates[0].date == date(2010, 8, 20)
    assert order.stated_total == order.computed_total == Decimal("884.06")


# --- 855 -----------------------------------------------------------------------------------


def test_crlf_terminated_adobe_855_reads_its_one_line() -> None:
    ack = only(decode("855_4010_adobe_oopfactory.txt"), PurchaseOrderAcknowledgment855)
    assert (ack.acknowledgment_type, ack.po_number, ack.po_date) == (
        "AD",
        "0132710645",
        date(2009, 6, 12),
    )
    assert len(ack.parties) == 7
    (line,) = ack.lines
    assert (line.line.line_id, line.line.unit_price, line.statuses) == ("000010", Decimal(369), ())


def test_ssimmons_gives_two_acknowledgments_with_line_level_parties() -> None:
    first, second = decode("855_4010_ssimmons_oopfactory.txt").records
    assert isinstance(first, PurchaseOrderAcknowledgment855)
    assert isinstance(second, PurchaseOrderAcknowledgment855)
    assert (first.po_number, first.seller_order_number, len(first.lines)) == ("7542", "83517234", 2)
    assert (second.po_number, len(second.lines)) == ("99035", 1)
    assert first.lines[0].line.product_ids == {"CB": "4620451B", "VC": "64620451"}
    assert first.lines[0].line.parties[0].name == "OJEDA, ROSA"


# --- 856 -----------------------------------------------------------------------------------


def test_856_example1_builds_the_shipment_order_item_tree() -> None:
    notice = only(decode("856_4010_example1_oopfactory.txt"), ShipNotice856)
    (shipment,) = notice.roots
    (order,) = shipment.children
    assert (shipment.level, order.level, order.purchase_order_number) == ("S", "O", "123456")
    assert [(i.line_id, i.quantity, i.uom) for i in notice.items()] == [
        ("001", Decimal(16), "PC"),
        ("002", Decimal(23), "LB"),
        ("004", Decimal(16), "PC"),
    ]


def test_856_with_an_ellipsis_terminator_reads_three_items() -> None:
    document = decode("856_4010_example3_oopfactory.txt")
    notice = only(document, ShipNotice856)
    assert document.interchange.delimiters.segment == "…"
    assert [item.product_ids["VN"] for item in notice.items()] == ["abc123", "ZZZ123", "XXX123"]
    assert notice.items()[0].product_ids["BP"] == "000 260 056 524"
    assert sum(item.quantity or 0 for item in notice.items()) == 4188  # CTT02 hash total


def test_856_without_parent_ids_attaches_levels_by_rank_with_findings() -> None:
    notice = only(decode("856_4010_example4_oopfactory.txt"), ShipNotice856)
    (shipment,) = notice.roots
    (order,) = shipment.children
    assert len(order.children) == 7
    assert len(notice.findings) == 8
    assert all(finding.element == "HL02" for finding in notice.findings)
    assert notice.items()[-1].product_ids == {"SK": "100014546", "VN": "25555150"}


def test_vics_856_reads_the_pack_level_sscc() -> None:
    notice = only(decode("856_4010vics_gregarican_oopfactory.txt"), ShipNotice856)
    levels = list(notice.levels())
    assert [level.level for level in levels] == ["S", "O", "P", "I"]
    assert levels[2].sscc == "007121610006156802"
    assert levels[3].item is not None
    assert levels[3].item.product_ids["UP"] == "883932284904"


# --- TA1 -----------------------------------------------------------------------------------


def test_ta1_only_interchange_has_acknowledgments_and_no_groups() -> None:
    document = decode("ta1_00401_technicalack_sample1_oopfactory.txt")
    assert (document.records, document.interchange.groups) == ((), ())
    assert [(ta1.control_number, ta1.code) for ta1 in document.interchange.acknowledgments] == [
        ("0659", "A"),
        ("0660", "A"),
    ]
