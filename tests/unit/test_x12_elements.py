"""X12 element values the hub cannot hold are refused at their element, not by the database.

Text: no element of the sets the hub reads is longer than 264 characters (MSG01, AN 1/264; an
invoice or PO number is 1/22), so a longer one is an :class:`X12DecodeError` (997 AK4 code 5,
too long): PostgreSQL cannot index an invoice number of 9,000 characters, and a storage error
would leave the interchange neither applied nor failed.

Numbers: amounts and quantities the canonical model cannot hold are refused at their element.

The canonical model keeps money and quantities exactly as NUMERIC(18, 4): four decimal places,
below 10^14 (as the FHIR, HL7 and CSV codecs hold them). An ``R`` or ``N2`` element beyond that
is an :class:`X12DecodeError` naming the segment and element (997 AK4 code 5, too long), not a
value the database refuses after the interchange is stored. Percentages are not stored, so
their precision is the sender's.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from suture.formats.x12 import Invoice810, X12DecodeError, decode_document


def document(set_id: str, functional_id: str, body: list[str]) -> bytes:
    segments = [
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*SUTURE         *250301*1200*U*"
        "00401*000000905*0*P*>",
        f"GS*{functional_id}*ACME*SUTURE*20250301*1200*905*X*004010",
        f"ST*{set_id}*0001",
        *body,
        f"SE*{len(body) + 2}*0001",
        "GE*1*905",
        "IEA*1*000000905",
    ]
    return ("~".join(segments) + "~").encode()


INVOICE = ["BIG*20250305*INV-501**PO-1001", "IT1*1*5*BX*12.50**IN*gauze", "TDS*6250"]
ORDER = ["BEG*00*SA*PO-1001**20250301", "PO1*1*5*BX*12.50**IN*gauze", "CTT*1"]
ACKNOWLEDGMENT = ["BAK*00*AC*PO-1001*20250227", "PO1*1*5*BX*12.50**IN*gauze", "ACK*IA*5*BX"]
NOTICE = ["BSN*00*SHIP-77*20250302*1200", "HL*1**S", "HL*2*1*O", "PRF*PO-1001", "HL*3*2*I",
          "LIN*1*IN*gauze", "SN1**5*BX"]  # fmt: skip
CATALOG = ["BCT*PC*GPO-2024", "LIN*1*VC*KNEE-100", "CTP*BG*C01*1200*1*EA"]


def refusal(set_id: str, functional_id: str, body: list[str]) -> X12DecodeError:
    with pytest.raises(X12DecodeError) as raised:
        decode_document(document(set_id, functional_id, body))
    return raised.value


@pytest.mark.parametrize(
    ("set_id", "functional_id", "body", "old", "new", "element"),
    [
        ("810", "IN", INVOICE, "*12.50*", "*12.50001*", "IT104"),
        ("810", "IN", INVOICE, "IT1*1*5*", "IT1*1*5.00001*", "IT102"),
        ("850", "PO", ORDER, "*12.50*", "*1.23456*", "PO104"),
        ("850", "PO", ORDER, "PO1*1*5*", "PO1*1*0.00005*", "PO102"),
        ("855", "PR", ACKNOWLEDGMENT, "*12.50*", "*12.500001*", "PO104"),
        ("855", "PR", ACKNOWLEDGMENT, "ACK*IA*5*", "ACK*IA*5.12345*", "ACK02"),
        ("856", "SH", NOTICE, "SN1**5*", "SN1**5.12345*", "SN102"),
        ("832", "SC", CATALOG, "*1200*", "*0.01234*", "CTP03"),
        ("832", "SC", CATALOG, "*1200*1*", "*1200*1.00001*", "CTP04"),
    ],
)
def test_a_decimal_with_more_than_4_places_is_refused_naming_its_element(  # noqa: PLR0917  (fixtures and parameters)
    set_id: str, functional_id: str, body: list[str], old: str, new: str, element: str
) -> None:
    changed = [segment.replace(old, new, 1) for segment in body]
    value = new.strip("*").rsplit("*", 1)[-1]

    error = refusal(set_id, functional_id, changed)

    assert (error.element, error.code, error.reason) == (
        element, "5", f"{value!r} has more than 4 decimal places",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "element", "value"),
    [
        ("*12.50*", "*123456789012345.5*", "IT104", "123456789012345.5"),
        ("IT1*1*5*", "IT1*1*100000000000000*", "IT102", "100000000000000"),
        ("TDS*6250", "TDS*10000000000000000", "TDS01", "10000000000000000"),
    ],
)
def test_a_decimal_of_10_to_the_14_or_more_is_refused_naming_its_element(
    old: str, new: str, element: str, value: str
) -> None:
    error = refusal("810", "IN", [segment.replace(old, new, 1) for segment in INVOICE])

    assert (error.element, error.code, error.reason) == (
        element, "5", f"{value!r} must be less than 10^14",
    )  # fmt: skip


def test_trailing_zeros_beyond_4_places_lose_nothing_and_are_read() -> None:
    body = [segment.replace("*12.50*", "*12.500000*") for segment in INVOICE]

    (invoice,) = decode_document(document("810", "IN", body)).records

    assert isinstance(invoice, Invoice810)
    assert invoice.lines[0].unit_price == Decimal("12.5")


def test_a_percentage_keeps_the_precision_the_sender_gave() -> None:
    body = [INVOICE[0], "ITD*01*3*2.12345**10**30", *INVOICE[1:]]

    (invoice,) = decode_document(document("810", "IN", body)).records

    assert isinstance(invoice, Invoice810)
    assert invoice.terms[0].discount_percent == Decimal("2.12345")


@pytest.mark.parametrize(
    ("set_id", "functional_id", "body", "old", "element"),
    [
        ("810", "IN", INVOICE, "INV-501", "BIG02"),
        ("810", "IN", INVOICE, "PO-1001", "BIG04"),
        ("810", "IN", INVOICE, "*gauze", "IT107"),
        ("855", "PR", ACKNOWLEDGMENT, "PO-1001", "BAK03"),
        ("856", "SH", NOTICE, "SHIP-77", "BSN02"),
        ("832", "SC", CATALOG, "KNEE-100", "LIN03"),
        ("850", "PO", ORDER, "PO-1001", "BEG03"),
    ],
)
def test_an_element_longer_than_264_characters_is_refused_naming_it(
    set_id: str, functional_id: str, body: list[str], old: str, element: str
) -> None:
    long = "*" + "A" * 265 if old.startswith("*") else "A" * 265
    changed = [segment.replace(old, long, 1) for segment in body]

    error = refusal(set_id, functional_id, changed)

    assert (error.element, error.code, error.reason) == (
        element, "5", "is 265 characters long; no element the hub reads is longer than 264",
    )  # fmt: skip


def test_an_element_of_264_characters_is_read() -> None:
    body = [segment.replace("INV-501", "I" * 264) for segment in INVOICE]

    (invoice,) = decode_document(document("810", "IN", body)).records

    assert isinstance(invoice, Invoice810)
    assert invoice.number == "I" * 264


@pytest.mark.parametrize(
    ("set_id", "functional_id", "body", "again", "where"),
    [
        ("810", "IN", INVOICE, "BIG*20250306*INV-502**PO-2002", "segment 5 (BIG)"),
        ("850", "PO", ORDER, "BEG*00*SA*PO-2**20250301", "segment 5 (BEG)"),
        ("855", "PR", ACKNOWLEDGMENT, "BAK*00*AC*PO-2*20250227", "segment 5 (BAK)"),
        ("856", "SH", NOTICE, "BSN*00*SHIP-78*20250302*1200", "segment 5 (BSN)"),
        ("832", "SC", CATALOG, "BCT*PC*OTHER", "segment 5 (BCT)"),
    ],
)
def test_a_second_beginning_segment_is_refused_as_two_documents_in_one_set(
    set_id: str, functional_id: str, body: list[str], again: str, where: str
) -> None:
    segment_id = again[:3]

    error = refusal(set_id, functional_id, [body[0], again, *body[1:]])

    assert str(error) == (
        f"{where}: a second {segment_id} in one {set_id} ({segment_id} is used once): two "
        "documents in one transaction set?"
    )


@pytest.mark.parametrize(
    ("set_id", "functional_id", "body", "after", "said"),
    [
        ("810", "IN", INVOICE, "IT1*2*1*BX*1.00**IN*gauze",
         "segment 7 (IT1): IT1 after the summary (TDS, segment 6)"),
        ("850", "PO", ORDER, "PO1*2*1*BX*1.00**IN*gauze",
         "segment 7 (PO1): PO1 after the summary (CTT, segment 6)"),
        ("855", "PR", [*ACKNOWLEDGMENT, "CTT*1"], "PO1*2*1*BX*1.00**IN*gauze",
         "segment 8 (PO1): PO1 after the summary (CTT, segment 7)"),
        ("856", "SH", [*NOTICE, "CTT*3"], "HL*4*2*I",
         "segment 12 (HL): HL after the summary (CTT, segment 11)"),
        ("832", "SC", [*CATALOG, "CTT*1"], "LIN*2*VC*KNEE-200",
         "segment 8 (LIN): LIN after the summary (CTT, segment 7)"),
    ],
)  # fmt: skip
def test_a_line_after_the_summary_is_refused_not_dropped(
    set_id: str, functional_id: str, body: list[str], after: str, said: str
) -> None:
    error = refusal(set_id, functional_id, [*body, after])

    assert str(error) == f"{said}: two documents in one transaction set?"


@pytest.mark.parametrize(("old", "element"), [("INV-501", "BIG02"), ("*gauze", "IT107")])
def test_an_element_with_a_nul_is_refused_naming_it(old: str, element: str) -> None:
    changed = [s.replace(old, old[:3] + "\x00" + old[3:], 1) for s in INVOICE]

    error = refusal("810", "IN", changed)

    assert (error.element, error.code, error.reason) == (
        element, "6", "holds a NUL character (U+0000), which X12 text never carries",
    )  # fmt: skip


def test_other_control_characters_may_be_a_partners_delimiters_and_are_read() -> None:
    body = [s.replace("*gauze", "*gau\x1fze") for s in INVOICE]  # e.g. US as ISA16

    (invoice,) = decode_document(document("810", "IN", body)).records

    assert isinstance(invoice, Invoice810)
    assert invoice.lines[0].product_ids == {"IN": "gau\x1fze"}
