"""GTIN, GLN, HIBC and UNSPSC identifiers: what is accepted, what is refused, and why.

Real-world values come from GS1's published examples and from barcode scans collected by the
``brixion/bardecoder`` project (``hibc_documented_examples`` and ``hibc_scans``), copied here so
that the tests stand alone.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.errors import InvalidIdentifierError
from suture.domain.identifiers import (
    HIBC_CHARSET,
    HibcPrimary,
    gs1_check_digit,
    hibc_check_character,
    is_valid_gtin,
    make_gln,
    make_gtin,
    make_hibc_primary,
    parse_hibc_primary,
    validate_gln,
    validate_gtin,
    validate_unspsc,
)


def rejection(check: Callable[..., object], *args: object) -> tuple[str, str]:
    """The (field, reason) with which ``check`` refuses ``args``."""
    with pytest.raises(InvalidIdentifierError) as caught:
        check(*args)
    return caught.value.field, caught.value.reason


digits = "0123456789"
gtin_bodies = st.sampled_from([7, 11, 12, 13]).flatmap(
    lambda size: st.text(alphabet=digits, min_size=size, max_size=size)
)
labelers = st.from_regex(r"[A-Z][A-Z0-9]{3}", fullmatch=True)
products = st.from_regex(r"[A-Z0-9]{1,18}", fullmatch=True)
units_of_measure = st.integers(min_value=0, max_value=9)


# GS1 mod-10 check digit


@pytest.mark.parametrize(
    ("body", "check_digit"),
    [
        ("400638133393", "1"),  # GTIN-13 4006381333931
        ("03600029145", "2"),  # GTIN-12 036000291452
        ("061414100000", "5"),  # GLN 0614141000005
        ("9638507", "4"),  # GTIN-8 96385074
        ("0061537500396", "1"),  # GTIN-14 00615375003961, scanned UDI
    ],
)
def test_gs1_check_digit_matches_published_codes(body: str, check_digit: str) -> None:
    assert gs1_check_digit(body) == check_digit


def test_gs1_check_digit_of_body_with_letter_names_character_and_position() -> None:
    assert rejection(gs1_check_digit, "40063813339O") == (
        "gs1",
        "must contain only digits 0-9, got 'O' at position 12",
    )


def test_gs1_check_digit_of_empty_body_is_refused() -> None:
    assert rejection(gs1_check_digit, "") == ("gs1", "body must not be empty")


# GTIN


@pytest.mark.parametrize(
    ("code", "gtin14"),
    [
        ("4006381333931", "04006381333931"),  # GTIN-13
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
        ("00615375003961", "00615375003961"),  # GTIN-14 from a scanned UDI
        ("10841396117517", "10841396117517"),  # GTIN-14 with packaging indicator 1
        ("17310230007640", "17310230007640"),  # GTIN-14 from a scanned UDI
    ],
)
def test_valid_gtin_is_normalised_to_fourteen_digits(code: str, gtin14: str) -> None:
    assert validate_gtin(code) == gtin14


def test_gtin8_is_left_padded_with_six_zeros() -> None:
    assert validate_gtin("96385074") == "00000096385074"


def test_gtin_surrounded_by_whitespace_is_accepted() -> None:
    assert validate_gtin(" \t4006381333931\r\n") == "04006381333931"


def test_gtin_with_wrong_check_digit_names_expected_digit() -> None:
    assert rejection(validate_gtin, "4006381333932") == ("gtin", "check digit is 2, expected 1")


def test_gtin_of_eleven_characters_names_allowed_lengths() -> None:
    assert rejection(validate_gtin, "40063813339") == (
        "gtin",
        "must be 8, 12, 13 or 14 digits, got 11 characters",
    )


def test_gtin_with_letter_names_character_and_position() -> None:
    assert rejection(validate_gtin, "40063813339A1") == (
        "gtin",
        "must contain only digits 0-9, got 'A' at position 12",
    )


def test_gtin_with_inner_space_is_refused() -> None:
    assert rejection(validate_gtin, "4006381 33393") == (
        "gtin",
        "must contain only digits 0-9, got ' ' at position 8",
    )


def test_gtin_in_non_ascii_digits_is_refused() -> None:
    # Arabic-Indic digits for 4006381333931: str.isdigit() would accept them.
    assert rejection(validate_gtin, "٤٠٠٦٣٨١٣٣٣٩٣١") == (
        "gtin",
        "must contain only digits 0-9, got '٤' at position 1",
    )


def test_empty_gtin_is_refused() -> None:
    assert rejection(validate_gtin, "   ") == ("gtin", "must not be empty")


def test_gtin_rejection_names_the_callers_field() -> None:
    assert rejection(validate_gtin, "4006381333932", "lines[3].gtin") == (
        "lines[3].gtin",
        "check digit is 2, expected 1",
    )


def test_is_valid_gtin_answers_without_raising() -> None:
    assert [is_valid_gtin(code) for code in ("4006381333931", "4006381333932", "x")] == [
        True,
        False,
        False,
    ]


def test_make_gtin_appends_check_digit() -> None:
    assert make_gtin("400638133393") == "4006381333931"


def test_make_gtin_from_body_of_wrong_length_names_allowed_lengths() -> None:
    assert rejection(make_gtin, "4006381333") == (
        "gtin",
        "body must be 7, 11, 12 or 13 digits, got 10 characters",
    )


@given(gtin_bodies)
def test_made_gtin_always_validates(body: str) -> None:
    assert validate_gtin(make_gtin(body)) == make_gtin(body).zfill(14)


@given(gtin_bodies, st.data())
def test_any_single_digit_change_of_a_valid_gtin_fails_validation(
    body: str, data: st.DataObject
) -> None:
    gtin = make_gtin(body)
    position = data.draw(st.integers(min_value=0, max_value=len(gtin) - 1))
    replacement = data.draw(st.sampled_from(digits.replace(gtin[position], "")))
    assert not is_valid_gtin(gtin[:position] + replacement + gtin[position + 1 :])


# GLN


@pytest.mark.parametrize("code", ["0614141000005", "5412345000013", "4000001000005"])
def test_valid_gln_is_returned_unchanged(code: str) -> None:
    assert validate_gln(code) == code


def test_gln_with_wrong_check_digit_names_expected_digit() -> None:
    assert rejection(validate_gln, "0614141000006") == ("gln", "check digit is 6, expected 5")


def test_gln_of_fourteen_digits_is_refused() -> None:
    assert rejection(validate_gln, "00614141000005") == (
        "gln",
        "must be 13 digits, got 14 characters",
    )


def test_gln_with_letter_names_character_and_position() -> None:
    assert rejection(validate_gln, "06141410O0005") == (
        "gln",
        "must contain only digits 0-9, got 'O' at position 9",
    )


def test_make_gln_appends_check_digit() -> None:
    assert make_gln("061414100000") == "0614141000005"


def test_make_gln_from_thirteen_digit_body_is_refused() -> None:
    assert rejection(make_gln, "0614141000005") == (
        "gln",
        "body must be 12 digits, got 13 characters",
    )


# HIBC check character


@pytest.mark.parametrize(
    ("data", "check_character"),
    [
        ("+D6582503211", "1"),  # documented example
        ("+EKUR003152EU1", "G"),  # documented example
        ("+A99912345/$$52001510X3/16D20111212/S77DEFG45", "7"),  # documented primary/secondary
        ("+D661PF171451", "/"),  # scanned: the check character can be '/'
    ],
)
def test_hibc_check_character_matches_documented_codes(data: str, check_character: str) -> None:
    assert hibc_check_character(data) == check_character


def test_hibc_check_character_refuses_lower_case_naming_character_and_position() -> None:
    assert rejection(hibc_check_character, "+j010332511") == (
        "hibc",
        "character 'j' at position 2 is not in the HIBC character set"
        " (HIBC letters are upper case)",
    )


def test_hibc_check_character_refuses_character_outside_the_set() -> None:
    assert rejection(hibc_check_character, "+A999#1") == (
        "hibc",
        "character '#' at position 6 is not in the HIBC character set",
    )


def test_hibc_charset_has_43_distinct_characters() -> None:
    assert len(set(HIBC_CHARSET)) == 43


# HIBC primary: real data


@pytest.mark.parametrize(
    ("code", "primary"),
    [
        # hibc_documented_examples: barcode and barcode_asterisk columns
        ("+D65825032111", HibcPrimary("D658", "250321", 1)),
        ("*+D65825032111*", HibcPrimary("D658", "250321", 1)),
        ("+EKUR003152EU1G", HibcPrimary("EKUR", "003152EU", 1)),
        ("*+EKUR003152EU1G*", HibcPrimary("EKUR", "003152EU", 1)),
        # hibc_scans: whole primary-only scans
        ("*+E276143413808*", HibcPrimary("E276", "1434138", 0)),
        ("+J017B027I0K", HibcPrimary("J017", "B027I", 0)),
        ("+J017B36002", HibcPrimary("J017", "B360", 0)),
        ("+J017G027C0J", HibcPrimary("J017", "G027C", 0)),
        ("+J0228903781E", HibcPrimary("J022", "890378", 1)),
        # hibc_scans: primary codes scanned straight after another code on one line
        ("+EKUR003124EU1F", HibcPrimary("EKUR", "003124EU", 1)),
        ("+DVIV615217WW16", HibcPrimary("DVIV", "615217WW", 1)),
        ("+D661PF171451/", HibcPrimary("D661", "PF17145", 1)),
    ],
)
def test_scanned_primary_hibc_parses_into_its_parts(code: str, primary: HibcPrimary) -> None:
    assert parse_hibc_primary(code) == primary


def test_hibc_with_slash_check_character_is_not_mistaken_for_secondary_data() -> None:
    assert parse_hibc_primary("+D661PF171451/").code == "+D661PF171451/"


def test_hibc_with_space_check_character_keeps_it() -> None:
    assert parse_hibc_primary("+J01712343 ") == HibcPrimary("J017", "1234", 3)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        # hibc_documented_examples: barcode_invalid column
        ("+D6582503211Z", "check character is 'Z', expected '1'"),
        ("+EKUR003152EU1Z", "check character is 'Z', expected 'G'"),
        # hibc_scans: a misread scan of a real product
        ("+J02289038018", "check character is '8', expected '7'"),
    ],
)
def test_hibc_with_bad_check_character_names_expected_character(code: str, reason: str) -> None:
    assert rejection(parse_hibc_primary, code) == ("hibc", reason)


def test_hibc_with_check_character_outside_the_set_is_refused() -> None:
    assert rejection(parse_hibc_primary, "+D6582503211#") == (
        "hibc",
        "check character '#' is not in the HIBC character set",
    )


def test_lower_case_hibc_scan_is_refused_with_a_case_hint() -> None:
    # hibc_scans: a keyboard-wedge scanner with caps lock on; upper-cased it would be valid.
    assert rejection(parse_hibc_primary, "+j010332511x") == (
        "hibc",
        "labeler identification code must contain only A-Z and 0-9, got 'j' at position 1"
        " (HIBC letters are upper case)",
    )


def test_documented_primary_and_secondary_hibc_is_refused_as_unsupported() -> None:
    code = "+A99912345/$$52001510X3/16D20111212/S77DEFG457"
    assert rejection(parse_hibc_primary, code) == (
        "hibc",
        "has secondary data after '/' at position 11; combined primary and secondary codes are "
        "not supported here",
    )


def test_secondary_only_hibc_is_refused() -> None:
    assert rejection(parse_hibc_primary, "+$$3230228000031JX") == (
        "hibc",
        "is secondary data only ('+$'); a primary code starts with '+' and a labeler",
    )


# HIBC primary: structure


def test_hibc_without_leading_plus_is_refused() -> None:
    assert rejection(parse_hibc_primary, "D65825032111") == (
        "hibc",
        "must start with '+', got 'D'",
    )


def test_hibc_with_delimiter_at_one_end_only_is_refused() -> None:
    assert rejection(parse_hibc_primary, "*+D65825032111") == (
        "hibc",
        "has a '*' barcode delimiter at one end only; expected both or neither",
    )


def test_hibc_too_short_for_every_part_is_refused() -> None:
    assert rejection(parse_hibc_primary, "+D6581X") == (
        "hibc",
        "must be at least 8 characters ('+', labeler, product, unit of measure, "
        "check character), got 7",
    )


def test_hibc_labeler_starting_with_digit_is_refused() -> None:
    code = make_hibc_primary("D658", "250321", 1).replace("D658", "8658")
    assert rejection(parse_hibc_primary, code) == (
        "hibc",
        "labeler identification code must start with a letter, got '8'",
    )


def test_hibc_with_non_digit_unit_of_measure_is_refused() -> None:
    data = "+D658250321A"
    assert rejection(parse_hibc_primary, data + hibc_check_character(data)) == (
        "hibc",
        "unit of measure must be a digit 0-9, got 'A'",
    )


def test_hibc_product_code_of_19_characters_is_refused() -> None:
    data = "+D658" + "1" * 19 + "1"
    assert rejection(parse_hibc_primary, data + hibc_check_character(data)) == (
        "hibc",
        "product code must be 1 to 18 characters, got 19",
    )


def test_hibc_rejection_names_the_callers_field() -> None:
    assert rejection(parse_hibc_primary, "+D6582503211Z", "scan") == (
        "scan",
        "check character is 'Z', expected '1'",
    )


def test_make_hibc_primary_builds_documented_code() -> None:
    assert make_hibc_primary("EKUR", "003152EU", 1) == "+EKUR003152EU1G"


@pytest.mark.parametrize(
    ("labeler", "reason"),
    [
        ("D65", "labeler identification code must be 4 characters, got 3"),
        ("1658", "labeler identification code must start with a letter, got '1'"),
        (
            "D6-8",
            "labeler identification code must contain only A-Z and 0-9, got '-' at position 3",
        ),
    ],
)
def test_make_hibc_primary_with_bad_labeler_names_the_problem(labeler: str, reason: str) -> None:
    assert rejection(make_hibc_primary, labeler, "250321", 1) == ("hibc", reason)


def test_make_hibc_primary_with_empty_product_is_refused() -> None:
    assert rejection(make_hibc_primary, "D658", "", 1) == (
        "hibc",
        "product code must be 1 to 18 characters, got 0",
    )


def test_make_hibc_primary_with_two_digit_unit_of_measure_is_refused() -> None:
    assert rejection(make_hibc_primary, "D658", "250321", 10) == (
        "hibc",
        "unit of measure must be a digit 0-9, got 10",
    )


def test_hibc_primary_cannot_be_built_with_invalid_parts() -> None:
    assert rejection(HibcPrimary, "d658", "250321", 1) == (
        "hibc",
        "labeler identification code must contain only A-Z and 0-9, got 'd' at position 1"
        " (HIBC letters are upper case)",
    )


@given(labelers, products, units_of_measure)
def test_made_hibc_primary_parses_back_into_its_parts(
    labeler: str, product: str, unit_of_measure: int
) -> None:
    code = make_hibc_primary(labeler, product, unit_of_measure)
    assert parse_hibc_primary(code) == HibcPrimary(labeler, product, unit_of_measure)


@given(labelers, products, units_of_measure)
def test_hibc_primary_code_round_trips_through_parse(
    labeler: str, product: str, unit_of_measure: int
) -> None:
    primary = HibcPrimary(labeler, product, unit_of_measure)
    assert parse_hibc_primary(primary.code) == primary


@given(labelers, products, units_of_measure, st.data())
def test_any_single_character_change_of_a_valid_hibc_primary_is_refused(
    labeler: str, product: str, unit_of_measure: int, data: st.DataObject
) -> None:
    code = make_hibc_primary(labeler, product, unit_of_measure)
    position = data.draw(st.integers(min_value=0, max_value=len(code) - 1))
    replacement = data.draw(st.sampled_from(HIBC_CHARSET.replace(code[position], "")))
    with pytest.raises(InvalidIdentifierError):
        parse_hibc_primary(code[:position] + replacement + code[position + 1 :])


# UNSPSC


@pytest.mark.parametrize("code", ["42295119", "10101501", "95121503"])
def test_valid_unspsc_is_returned_unchanged(code: str) -> None:
    assert validate_unspsc(code) == code


def test_unspsc_surrounded_by_whitespace_is_accepted() -> None:
    assert validate_unspsc(" 42295119 ") == "42295119"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("422951", "must be 8 digits, got 6 characters"),
        ("4229511900", "must be 8 digits, got 10 characters"),
        ("4229511X", "must contain only digits 0-9, got 'X' at position 8"),
        ("09101501", "segment (first two digits) must be between 10 and 95, got 09"),
        ("96101501", "segment (first two digits) must be between 10 and 95, got 96"),
    ],
)
def test_invalid_unspsc_names_the_problem(code: str, reason: str) -> None:
    assert rejection(validate_unspsc, code) == ("unspsc", reason)
