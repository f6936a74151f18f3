"""GS1 element strings read as UDI: spellings, separators, symbology identifiers, check digits
and dates (GS1 General Specifications §7.8, §7.9, §7.12)."""

from __future__ import annotations

from datetime import date

import pytest

from suture.formats.udi import Issuer, Udi, UdiDecodeError, parse_udi

TODAY = date(2026, 11, 25)
GTIN = "09506000134352"  # GS1's own example GTIN: check digit 2 verifies


def parse(text: str) -> Udi:
    return parse_udi(text, today=TODAY)


def error_of(text: str) -> tuple[str, str]:
    with pytest.raises(UdiDecodeError) as caught:
        parse(text)
    return caught.value.field, caught.value.reason


def gs1(raw: str, **parts: object) -> Udi:
    return Udi(issuer=Issuer.GS1, device_identifier=GTIN, raw=raw, **parts)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        f"(01){GTIN}(17)281231(10)ABC123(21)SN-1",
        f"(01){GTIN} (17)281231 (10)ABC123 (21)SN-1",
        f"01{GTIN}17281231" + "10ABC123\x1d21SN-1",
        f"]d201{GTIN}17281231" + "10ABC123\x1d21SN-1",
        f"]C1\x1d01{GTIN}17281231" + "10ABC123\x1d21SN-1",
        f"]Q301{GTIN}17281231" + "10ABC123\x1d21SN-1",
        f"]e001{GTIN}17281231" + "10ABC123\x1d21SN-1",
        f"01{GTIN}(17)281231(10)ABC123(21)SN-1",
        f"(01){GTIN}(17)281231(10)ABC123(21)SN-1\r\n",
    ],
)
def test_every_spelling_of_one_element_string_decodes_alike(text: str) -> None:
    assert parse(text) == gs1(text, lot="ABC123", serial="SN-1", expiry=date(2028, 12, 31))


def test_day_zero_is_the_last_day_of_the_month() -> None:
    assert parse(f"(01){GTIN}(17)280200").expiry == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("yymmdd", "expected"),
    [("760101", date(2076, 1, 1)), ("770101", date(1977, 1, 1)), ("991231", date(1999, 12, 31))],
)
def test_two_digit_years_fall_in_the_window_around_today(yymmdd: str, expected: date) -> None:
    assert parse(f"(01){GTIN}(11){yymmdd}").manufacture_date == expected


def test_quantity_and_unmodelled_ais_are_kept() -> None:
    udi = parse(f"(01){GTIN}(30)12(240)REF-9(7003)2801011230")
    assert (udi.quantity, udi.other) == (12, (("240", "REF-9"), ("7003", "2801011230")))


def test_an_ai_repeated_with_the_same_value_is_read_once() -> None:
    assert parse(f"(01){GTIN}(10)A1(10)A1").lot == "A1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"(01){GTIN[:-1]}7(10)A1", ("(01) GTIN", "check digit is 7, expected 2")),
        (f"01{GTIN[:-1]}7" + "10A1", ("(01) GTIN", "check digit is 7, expected 2")),
        (
            "(10)A1(17)281231",
            ("(01) GTIN", "missing: a GS1 UDI's device identifier is the GTIN of AI (01)"),
        ),
        (
            f"(01){GTIN}(17)281331",
            ("(17) expiry", "'281331' is not a valid date (YYMMDD, day 00 for the month's end)"),
        ),
        (
            f"(01){GTIN}(11)280230",
            (
                "(11) manufacture date",
                "'280230' is not a valid date (YYMMDD, day 00 for the month's end)",
            ),
        ),
        (
            f"(01){GTIN}(17)2812",
            ("(17) expiry", "'2812' does not match the AI's format N2+N6 (a date is YYMMDD)"),
        ),
        (f"(01){GTIN}(99)", ("(99) INTERNAL", "no data follows the AI")),
        (f"(01){GTIN}(23)X", ("(23)", "at position 19 is not a GS1 application identifier")),
        (
            f"(01){GTIN}junk(10)A",
            ("(01) GTIN", f"'{GTIN}junk' does not match the AI's format N2+N14"),
        ),
        (
            f"(01){GTIN}(10)A)",
            ("GS1 element string", "')' at position 24 is not an '(AI)value' element string"),
        ),
        (
            f"(01){GTIN}(10)A1(10)B2",
            (
                "(10) lot",
                "appears twice with different values 'A1' and 'B2' (two scans run together?)",
            ),
        ),
        ("]X9abc", ("symbology identifier", "']X9' is not a symbology UDIs are printed in")),
    ],
)
def test_a_bad_element_string_names_the_ai_and_the_reason(
    text: str, expected: tuple[str, str]
) -> None:
    assert error_of(text) == expected


def test_a_variable_length_field_cut_at_its_maximum_with_data_after_it_is_refused() -> None:
    lot = "L" * 20
    assert error_of(f"01{GTIN}10{lot}17281231") == (
        "(10) lot",
        f"variable-length field {lot!r} is followed by more data at position 39 without a GS "
        "(FNC1) separator, so where it ends is unknown; the scanner did not transmit the "
        "separators",
    )


def test_a_final_lot_whose_tail_reads_as_a_date_is_refused_without_gs() -> None:
    assert error_of(f"01{GTIN}10ABC17281231") == (
        "(10) lot",
        "'ABC17281231' ends with '17281231', which reads as (17) expiry 281231; the scan has "
        "no GS (FNC1) separator, so the end of the field cannot be told from a following "
        "date, and neither reading is guessed",
    )


def test_the_same_lot_after_a_gs_separated_field_is_read_by_the_letter() -> None:
    text = f"01{GTIN}21SN1\x1d10ABC17281231"
    assert parse(text) == gs1(text, lot="ABC17281231", serial="SN1")


def test_a_lot_without_gs_whose_tail_is_no_valid_date_is_read_to_the_end() -> None:
    text = f"01{GTIN}10ABC17281341"
    assert parse(text) == gs1(text, lot="ABC17281341")
