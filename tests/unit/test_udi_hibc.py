"""HIBC LIC codes read as UDI (ANSI/HIBC 2.6): primary, combined and separate secondary data,
link and check characters, every date format flag, quantities and supplemental fields."""

from __future__ import annotations

from datetime import date

import pytest

from suture.domain.identifiers import HibcPrimary, hibc_check_character
from suture.formats.udi import Issuer, Udi, UdiDecodeError, parse_udi

TODAY = date(2026, 11, 25)
PRIMARY = HibcPrimary("A999", "1234", 5)  # '+A999123457'


def parse(text: str) -> Udi:
    return parse_udi(text, today=TODAY)


def error_of(text: str) -> tuple[str, str]:
    with pytest.raises(UdiDecodeError) as caught:
        parse(text)
    return caught.value.field, caught.value.reason


def combined(secondary: str) -> str:
    data = f"+A99912345/{secondary}"
    return data + hibc_check_character(data)


def separate(secondary: str, link: str = "7") -> str:
    data = f"+{secondary}{link}"
    return data + hibc_check_character(data)


def udi(raw: str, **parts: object) -> Udi:
    return Udi(
        issuer=Issuer.HIBCC,
        device_identifier="A99912345",
        raw=raw,
        hibc=PRIMARY,
        **parts,  # type: ignore[arg-type]
    )


def test_primary_alone_is_the_device_identifier() -> None:
    assert parse("+A999123457") == udi("+A999123457")


@pytest.mark.parametrize("symbology", ["]A0", "]C0", "]d1", "]Q1"])
def test_a_symbology_identifier_in_front_of_hibc_is_dropped(symbology: str) -> None:
    assert parse(symbology + "+A999123457").device_identifier == "A99912345"


@pytest.mark.parametrize(
    ("secondary", "expiry"),
    [
        ("$$0928LOT1", date(2028, 9, 30)),  # MMYY, no flag
        ("$$1228LOT1", date(2028, 12, 31)),
        ("$$2093028LOT1", date(2028, 9, 30)),  # MMDDYY
        ("$$3280930LOT1", date(2028, 9, 30)),  # YYMMDD
        ("$$428093023LOT1", date(2028, 9, 30)),  # YYMMDDHH
        ("$$528274LOT1", date(2028, 9, 30)),  # YYJJJ (2028 is a leap year)
        ("$$62827423LOT1", date(2028, 9, 30)),  # YYJJJHH
        ("$$7LOT1", None),
    ],
)
def test_every_date_format_flag_gives_the_expiry(secondary: str, expiry: date | None) -> None:
    text = combined(secondary)
    assert parse(text) == udi(text, lot="LOT1", expiry=expiry)


@pytest.mark.parametrize(
    ("secondary", "quantity"),
    [("$$8050928LOT1", 5), ("$$9001200928LOT1", 120), ("$$+8050928LOT1", 5)],
)
def test_quantity_flags_come_before_the_date(secondary: str, quantity: int) -> None:
    parsed = parse(combined(secondary))
    assert (parsed.quantity, parsed.expiry) == (quantity, date(2028, 9, 30))


def test_dollar_dollar_plus_carries_a_serial_instead_of_a_lot() -> None:
    text = combined("$$+3280930SN77")
    assert parse(text) == udi(text, serial="SN77", expiry=date(2028, 9, 30))


def test_dollar_plus_carries_a_serial_without_a_date() -> None:
    text = combined("$+SN77")
    assert parse(text) == udi(text, serial="SN77")


def test_the_original_julian_format_gives_expiry_and_lot() -> None:
    text = separate("28274LOT1") + "+A999123457"
    assert parse(text) == udi(text, lot="LOT1", expiry=date(2028, 9, 30))


def test_supplemental_fields_add_serial_dates_and_quantity() -> None:
    text = combined("$LOT1/S9/16D20250102/14D20300405/Q12")
    assert parse(text) == udi(
        text,
        lot="LOT1",
        serial="9",
        manufacture_date=date(2025, 1, 2),
        expiry=date(2030, 4, 5),
        quantity=12,
    )


@pytest.mark.parametrize("order", ["primary first", "secondary first"])
def test_a_separate_secondary_is_linked_by_the_primarys_check_character(order: str) -> None:
    secondary = separate("$$3280930LOT1")
    text = "+A999123457" + secondary if order == "primary first" else secondary + "+A999123457"
    assert parse(text) == udi(text, lot="LOT1", expiry=date(2028, 9, 30))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "+A999123457" + separate("$$3280930LOT1", link="8"),
            (
                "HIBC secondary: link character",
                "is '8', but the primary's check character is '7': the two barcodes are not "
                "from the same label",
            ),
        ),
        ("+A999123458", ("HIBC check character", "is '8', expected '7'")),
        (
            separate("$$3280930LOT1")[:-1] + "Z",
            (
                "HIBC secondary: check character",
                f"is 'Z', expected {separate('$$3280930LOT1')[-1]!r}",
            ),
        ),
        (
            separate("$$3280930LOT1"),
            (
                "HIBC primary",
                "missing: this is secondary data only, which does not identify the device; "
                "scan it together with its primary barcode (whose check character is '7')",
            ),
        ),
        (
            combined("$$3281330LOT1"),
            ("HIBC secondary: expiry", "'281330' is not a valid YYMMDD date"),
        ),
        (
            combined("$$528367LOT1"),
            ("HIBC secondary: expiry", "'28367' is not a valid YYJJJ date"),
        ),
        (
            combined("$$428093024LOT1"),
            ("HIBC secondary: expiry", "'28093024' is not a valid YYMMDDHH date"),
        ),
        (combined("$$3280"), ("HIBC secondary: expiry", "YYMMDD needs 6 digits, got '280'")),
        (
            combined("$$8A0928"),
            ("HIBC secondary: quantity", "flag '8' needs 2 digits, got 'A0'"),
        ),
        (
            combined("$LOT1/X9"),
            (
                "HIBC secondary: supplemental data",
                "'X9' does not start with a known data identifier (S, Q, 14D, 16D)",
            ),
        ),
        (
            combined("$$3280930LOT1/14D20290101"),
            (
                "HIBC secondary: expiry",
                "given twice with different values '2028-09-30' and '2029-01-01'",
            ),
        ),
        (
            combined("$" + "L" * 19),
            ("HIBC secondary: lot", "must be at most 18 characters, got 19"),
        ),
        (
            combined("$LOT-1"),
            ("HIBC secondary: lot", "'LOT-1' has '-'; only A-Z and 0-9 are allowed"),
        ),
        (
            combined("LOT1"),
            ("HIBC secondary", "must start with '$', '$$' or a Julian date YYJJJ, got 'LOT'"),
        ),
        (
            "+a999123457",
            (
                "HIBC",
                "character 'a' at position 2 is not in the HIBC character set; HIBC has no "
                "lower case (a scanner in Code 39 full-ASCII mode or with caps lock changes it)",
            ),
        ),
        ("+9999123457", ("HIBC secondary: check character", "is '7', expected '6'")),
        (separate("99999LOT1"), ("HIBC secondary: expiry", "'99999' is not a valid YYJJJ date")),
        (
            "*+A999123457",
            ("HIBC", "starts with the '*' barcode delimiter but does not end with one"),
        ),
        ("+A99", ("HIBC", "is 4 characters, too short to be a UDI")),
    ],
)
def test_a_bad_hibc_code_names_the_part_and_the_reason(
    text: str, expected: tuple[str, str]
) -> None:
    assert error_of(text) == expected
