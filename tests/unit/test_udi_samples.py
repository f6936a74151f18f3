"""Every line of ../shared/samples/udi decodes to the UDI a person reading it expects, or is
refused with a clear error naming the part (issue 4, "Done means").

The corpora come from another project's tests (SOURCES.md, BRX): the TSV's expected values are
that project's, and where they disagree with ANSI/HIBC 2.6 the standard wins (noted per row).
The scan files are robustness corpora; the test classifies every line by the part its error
names, so a change in how any line is read shows up as a changed count.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from suture.domain.identifiers import HibcPrimary
from suture.formats.udi import Issuer, Udi, UdiDecodeError, parse_udi

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "udi"
TODAY = date(2026, 11, 25)


def lines(name: str) -> list[str]:
    """The file's lines without their line ends; a line's own spaces and tabs are kept."""
    return (SAMPLES / name).read_text(encoding="utf-8").split("\n")[:-1]


def outcome(text: str) -> str:
    """``decoded GS1`` / ``decoded HIBCC``, or the part a decode error names."""
    try:
        udi = parse_udi(text, today=TODAY)
    except UdiDecodeError as error:
        return error.field
    return f"decoded {udi.issuer}"


def error_of(text: str) -> str:
    with pytest.raises(UdiDecodeError) as caught:
        parse_udi(text, today=TODAY)
    return str(caught.value)


# --- hibc_documented_examples_brixion-bardecoder.tsv -------------------------------------------

DOCUMENTED = list(
    csv.DictReader(
        (SAMPLES / "hibc_documented_examples_brixion-bardecoder.tsv")
        .read_text(encoding="utf-8")
        .splitlines(),
        delimiter="\t",
    )
)


def optional_date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def expected_udi(row: dict[str, str], raw: str) -> Udi:
    """The row's expected values as a :class:`Udi` (empty cells are absent parts)."""
    serial = row["serial_number"] or None
    if row["barcode"] == "+A99912345/$$52001510X3/16D20111212/S77DEFG457":
        # The TSV's serial is '77DEFG457'; its last '7' is the check character (the row's own
        # invalid variant replaces exactly that character), so the serial is '77DEFG45'.
        serial = "77DEFG45"
    return Udi(
        issuer=Issuer.HIBCC,
        device_identifier=row["lic"] + row["product_code"] + row["packaging_index"],
        raw=raw,
        lot=row["lot"] or None,
        serial=serial,
        expiry=optional_date(row["expiry_date"]),
        manufacture_date=optional_date(row["date_of_manufacture"]),
        quantity=int(row["quantity"]) if row["quantity"] else None,
        hibc=HibcPrimary(row["lic"], row["product_code"], int(row["packaging_index"])),
    )


VALID_DOCUMENTED = [row for row in DOCUMENTED if not row["barcode"].endswith("/$4012R")]


def test_documented_examples_file_has_seven_rows() -> None:
    assert len(DOCUMENTED) == 7
    assert len(VALID_DOCUMENTED) == 6


@pytest.mark.parametrize("row", VALID_DOCUMENTED, ids=lambda row: row["barcode"])
def test_documented_example_decodes_to_the_expected_parts(row: dict[str, str]) -> None:
    assert parse_udi(row["barcode"], today=TODAY) == expected_udi(row, row["barcode"])


@pytest.mark.parametrize("row", VALID_DOCUMENTED, ids=lambda row: row["barcode"])
def test_documented_example_in_code_39_delimiters_decodes_the_same(row: dict[str, str]) -> None:
    raw = row["barcode_asterisk"]
    assert parse_udi(raw, today=TODAY) == expected_udi(row, raw)


@pytest.mark.parametrize("row", VALID_DOCUMENTED, ids=lambda row: row["barcode"])
def test_documented_example_with_a_wrong_check_character_is_refused(row: dict[str, str]) -> None:
    wrong = row["barcode_invalid"][-1]
    assert error_of(row["barcode_invalid"]) == (
        f"HIBC check character: is {wrong!r}, expected {row['check_character']!r}"
    )


def test_documented_example_with_dollar_supplemental_field_fails_its_own_check() -> None:
    # The source copied the '/S4012R' row with '/$4012' and kept the check character 'R'; the
    # mod-43 sum of the new data gives ' '. So none of the row's three variants is valid, and
    # its expected serial '012R' (with supplemental identifier '$4') is not read.
    (row,) = [row for row in DOCUMENTED if row["barcode"].endswith("/$4012R")]
    expected = "HIBC check character: is 'R', expected ' '"
    assert error_of(row["barcode"]) == expected
    assert error_of(row["barcode_asterisk"]) == expected
    assert error_of(row["barcode_invalid"]) == "HIBC check character: is 'Z', expected ' '"


# --- gs1_scans_brixion-bardecoder.txt ------------------------------------------------------------

GS1_OUTCOMES = {
    "decoded GS1": 4890,
    # 1,655 raw scans without GS whose final lot ends in (17) or (11) and a valid YYMMDD, and
    # 201 whose lot is followed by more data without GS: the scanner dropped FNC1. Three end
    # with an empty (10).
    "(10) lot": 1859,
    "(01) GTIN": 28,
    "(17) expiry": 8,
    "(30) quantity": 6,
    "scan": 5,
    "GS1 element string": 3,
}


def test_every_gs1_scan_decodes_or_names_the_part_that_is_wrong() -> None:
    found = Counter(outcome(line) for line in lines("gs1_scans_brixion-bardecoder.txt"))
    assert dict(found) == GS1_OUTCOMES


@pytest.mark.parametrize(
    ("scan", "expected"),
    [
        (
            "(01)10841396117517(17)240731(10)21-1197(240)29951",
            Udi(
                issuer=Issuer.GS1,
                device_identifier="10841396117517",
                raw="(01)10841396117517(17)240731(10)21-1197(240)29951",
                lot="21-1197",
                expiry=date(2024, 7, 31),
                other=(("240", "29951"),),
            ),
        ),
        (
            "(01)30605861068780 (11)191215 (10)059799",
            Udi(
                issuer=Issuer.GS1,
                device_identifier="30605861068780",
                raw="(01)30605861068780 (11)191215 (10)059799",
                lot="059799",
                manufacture_date=date(2019, 12, 15),
            ),
        ),
        (
            "010019506205060217241130108709641",
            Udi(
                issuer=Issuer.GS1,
                device_identifier="00195062050602",
                raw="010019506205060217241130108709641",
                lot="8709641",
                expiry=date(2024, 11, 30),
            ),
        ),
        (
            "01036098211228221121040121215537108",
            Udi(
                issuer=Issuer.GS1,
                device_identifier="03609821122822",
                raw="01036098211228221121040121215537108",
                serial="215537108",
                manufacture_date=date(2021, 4, 1),
            ),
        ),
        (
            "0100858466005059",
            Udi(issuer=Issuer.GS1, device_identifier="00858466005059", raw="0100858466005059"),
        ),
    ],
)
def test_gs1_scan_decodes_to_its_parts(scan: str, expected: Udi) -> None:
    assert scan in lines("gs1_scans_brixion-bardecoder.txt")
    assert parse_udi(scan, today=TODAY) == expected


@pytest.mark.parametrize(
    ("scan", "expected"),
    [
        # GTINs of 8 digits, truncated from 14, whose check digit does not verify either way.
        (
            "(01)51105002(10)20190820(11)190329",
            "(01) GTIN: '51105002' does not match the AI's format N2+N14: 14 digits are "
            "needed, got 8, and as a GTIN-8 its check digit is 2, expected 6",
        ),
        (
            "0102387418",
            "(01) GTIN: '02387418' at position 1 does not match the AI's format N2+N14: 14 "
            "digits are needed, got 8, and as a GTIN-8 its check digit is 8, expected 3",
        ),
        (
            "(01)3701475304521(11)210430(10)12433",
            "(01) GTIN: '3701475304521' does not match the AI's format N2+N14: 14 digits are "
            "needed, got 13; it is a valid GTIN-13, which (01) carries zero-padded to 14",
        ),
        ("012000000000001410B8TRN", "(01) GTIN: check digit is 4, expected 1"),
        (
            "0130605861032217012000000000161310058469",
            "(01) GTIN: appears twice with different values '30605861032217' and "
            "'20000000001613' (two scans run together?)",
        ),
        (
            "010406223411375410K0101021120030317230122+J014660049650/$$3230122K010102/16D2020"
            "0303/14D20230122M",
            None,
        ),
        (
            "(01)00841396198953(10)8117117(17)2023-03-01",
            "(17) expiry: '2023-03-01' does not match the AI's format N2+N6 (a date is YYMMDD)",
        ),
        (
            "013060586101548710NE5624017240616",
            "(10) lot: 'NE5624017240616' ends with '17240616', which reads as (17) expiry "
            "240616; the scan has no GS (FNC1) separator, so the end of the field cannot be "
            "told from a following date, and neither reading is guessed",
        ),
        (
            "01040350770038721067580541120030421978003074217",
            "(10) lot: variable-length field '67580541120030421978' is followed by more data "
            "at position 39 without a GS (FNC1) separator, so where it ends is unknown; the "
            "scanner did not transmit the separators",
        ),
        (
            "0110817417020265BNSGSIQA0023G",
            "GS1 element string: no GS1 application identifier starts at position 17 ('BNSGSI')",
        ),
    ],
)
def test_gs1_scan_is_refused_with_its_exact_reason(scan: str, expected: str | None) -> None:
    corpus = lines("gs1_scans_brixion-bardecoder.txt")
    if expected is None:  # the two-scans case: find its line by prefix, it is long
        (scan,) = [line for line in corpus if line.startswith(scan[:60])]
        assert error_of(scan).startswith(
            "scan: two scans run together: GS1 element strings, then what looks like an HIBC "
            "code from position 42 ('+J014660'…)"
        )
        return
    assert scan in corpus
    assert error_of(scan) == expected


# --- hibc_scans_brixion-bardecoder.txt -----------------------------------------------------------

HIBC_OUTCOMES = {
    # Not UDIs at all: 'E#…' packaging codes, '$$…' without '+', text and JSON junk, tabs.
    "scan": 1550,
    "decoded HIBCC": 1309,
    # Digit-first lines are read as GS1 raw data: most are catalogue or lot numbers.
    "(01) GTIN": 192,
    "GS1 element string": 164,
    "decoded GS1": 120,
    "HIBC primary": 74,  # 73 secondary-only scans, one '++' labeler
    "HIBC": 58,  # lower-case scans and characters outside the 43
    "(20) VARIANT": 47,
    "(10) lot": 15,
    "(17) expiry": 8,
    "HIBC check character": 6,
    "HIBC secondary: check character": 4,
    "(16) SELL BY": 4,
    "(22) CPV": 4,
    "HIBC secondary: expiry": 3,
    "(11) manufacture date": 3,
    "(12) DUE DATE": 3,
    "(402) GSIN": 3,
    "(7020) REFURB LOT": 3,
    "(15) BEST BEFORE or BEST BY": 2,
    "HIBC secondary: link character": 1,
    "HIBC secondary: date format": 1,
    "(426) COUNTRY - FULL PROCESS": 1,
    "(37) COUNT": 1,
}


def test_every_hibc_scan_decodes_or_names_the_part_that_is_wrong() -> None:
    found = Counter(outcome(line) for line in lines("hibc_scans_brixion-bardecoder.txt"))
    assert dict(found) == HIBC_OUTCOMES


def hibc(labeler: str, product: str, unit: int, raw: str, **parts: object) -> Udi:
    return Udi(
        issuer=Issuer.HIBCC,
        device_identifier=f"{labeler}{product}{unit}",
        raw=raw,
        hibc=HibcPrimary(labeler, product, unit),
        **parts,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("scan", "expected"),
    [
        # Secondary then primary in one string; the link 'D' is the primary's check character.
        (
            "+$$3211122XL3075D++DVIV590852WW1D",
            hibc(
                "DVIV",
                "590852WW",
                1,
                "+$$3211122XL3075D++DVIV590852WW1D",
                lot="XL3075",
                expiry=date(2021, 11, 22),
            ),
        ),
        (
            "+$Z00FKMLL+DVIV559321AN1L",
            hibc("DVIV", "559321AN", 1, "+$Z00FKMLL+DVIV559321AN1L", lot="Z00FKM"),
        ),
        (
            "+J00644100/$$0424K72934X",
            hibc(
                "J006",
                "4410",
                0,
                "+J00644100/$$0424K72934X",
                lot="K72934",
                expiry=date(2024, 4, 30),
            ),
        ),
        (
            "+J0068380/$$206192413836X",
            hibc(
                "J006", "838", 0, "+J0068380/$$206192413836X", lot="13836", expiry=date(2024, 6, 19)
            ),
        ),
        (
            "+J00716006800011/$$+721G0091R",
            hibc("J007", "1600680001", 1, "+J00716006800011/$$+721G0091R", serial="21G0091"),
        ),
        (
            "+J014500573049/$$8011220S55",
            hibc(
                "J014",
                "50057304",
                9,
                "+J014500573049/$$8011220S55",
                lot="S5",
                expiry=date(2020, 12, 31),
                quantity=1,
            ),
        ),
        (
            "+J015201200061/$$796179842/S961798420042/16D20201119/Q061",
            hibc(
                "J015",
                "20120006",
                1,
                "+J015201200061/$$796179842/S961798420042/16D20201119/Q061",
                lot="96179842",
                serial="961798420042",
                manufacture_date=date(2020, 11, 19),
                quantity=6,
            ),
        ),
        (
            "+J014660391630/$448002/16D20200727/14D20300727B",
            hibc(
                "J014",
                "66039163",
                0,
                "+J014660391630/$448002/16D20200727/14D20300727B",
                lot="448002",
                expiry=date(2030, 7, 27),
                manufacture_date=date(2020, 7, 27),
            ),
        ),
        ("*+E276143413808*", hibc("E276", "1434138", 0, "*+E276143413808*")),
    ],
)
def test_hibc_scan_decodes_to_its_parts(scan: str, expected: Udi) -> None:
    assert scan in lines("hibc_scans_brixion-bardecoder.txt")
    assert parse_udi(scan, today=TODAY) == expected


@pytest.mark.parametrize(
    ("scan", "expected"),
    [
        (
            "+j003b00pggpf000f11/$$32211108046811aa",
            "HIBC: character 'j' at position 2 is not in the HIBC character set; HIBC has no "
            "lower case (a scanner in Code 39 full-ASCII mode or with caps lock changes it)",
        ),
        (
            "+$$02231162074ZA",
            "HIBC primary: missing: this is secondary data only, which does not identify the "
            "device; scan it together with its primary barcode (whose check character is 'Z')",
        ),
        (
            "+$$7J891775+D661PF16160Z",
            "HIBC secondary: link character: is '7', but the primary's check character is "
            "'Z': the two barcodes are not from the same label",
        ),
        ("+$A5913377", "HIBC secondary: check character: is '7', expected 'W'"),
        ("+J02289038018", "HIBC check character: is '8', expected '7'"),
        ("+$$161222795595416", "HIBC secondary: expiry: '1612' is not a valid MMYY date"),
        (
            "+J021026945009/$$820B",
            "HIBC secondary: date format: date format flag missing after '$$' (and its quantity)",
        ),
        (
            "$$7I77032-T",
            "scan: is neither GS1 nor HIBC: it starts with '$' (an HIBC code starts with '+'; "
            "a GS1 one with a digit or '(')",
        ),
        (
            "+J014652092680/$$3231022K010025/16D20201026Y010406223410865110K0100251120102617231022",
            "scan: two scans run together: an HIBC code, then what looks like a GS1 GTIN from "
            "position 45 ('01040622'…); scan one barcode at a time (HIBC part: HIBC check "
            "character: is '2', expected '/')",
        ),
    ],
)
def test_hibc_scan_is_refused_with_its_exact_reason(scan: str, expected: str) -> None:
    assert scan in lines("hibc_scans_brixion-bardecoder.txt")
    assert error_of(scan) == expected


@pytest.mark.parametrize(
    "name",
    ["gs1_scans_brixion-bardecoder.txt", "hibc_scans_brixion-bardecoder.txt"],
)
def test_no_scan_raises_anything_but_a_decode_error(name: str) -> None:
    unexpected: list[tuple[str, str]] = []
    for line in lines(name):
        try:
            parse_udi(line, today=TODAY)
        except UdiDecodeError:
            pass
        except Exception as error:  # the point is to collect anything else
            unexpected.append((line, repr(error)))
    assert unexpected == []
