"""Item-master rows: every bad cell is named by its column, all of a row's problems at once.

Rows are read through the built-in item profile, as a legacy materials system exports them.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.masterdata import Item
from suture.domain.units import Packaging, PackagingLevel
from suture.formats.csv import (
    ColumnProfile,
    ImportKind,
    ItemLine,
    Row,
    RowError,
    decode_item,
    default_profile,
    item_id_for,
    load_profile,
)

PROFILE = default_profile(ImportKind.ITEMS)

VICRYL = {
    "Item Number": "100234",
    "Description": "VICRYL SUTURE 3-0 SH 27IN UNDYED",
    "Mfr Name": "Ethicon",
    "Mfr Catalog No": "J416H",
    "Vendor Number": "V1002",
    "UOM": "BX",
    "Each Per BX": "36",
    "Each Per CS": "144",
    "GTIN EA": "",
    "GTIN BX": "10705031000018",
    "GTIN CS": "",
    "HIBC": "+H123J416H1Q",
    "UNSPSC": "42312201",
    "Implant Y/N": "N",
    "Consignment Y/N": "N",
    "Chargeable Y/N": "N",
    "CDM": "",
    "HCPCS": "",
    "Rev Code": "",
    "List Price": "$245.00",
    "Active Y/N": "Y",
}


def row(changes: dict[str, str] | None = None) -> Row:
    """Line 7 of an item master: the Vicryl suture, with cells changed by header."""
    return Row(7, {**VICRYL, **(changes or {})})


def item_of(decoded: Row, profile: ColumnProfile = PROFILE) -> Item:
    return decode_item(decoded, profile).item


def problems(decoded: Row, profile: ColumnProfile = PROFILE) -> list[tuple[int, str, str]]:
    with pytest.raises(RowError) as caught:
        decode_item(decoded, profile)
    return [(error.line, error.column, error.reason) for error in caught.value.errors]


def test_a_good_row_becomes_the_item_with_its_packaging_smallest_first() -> None:
    assert decode_item(row(), PROFILE) == ItemLine(
        Item(
            id="100234",
            description="VICRYL SUTURE 3-0 SH 27IN UNDYED",
            manufacturer="Ethicon",
            catalog_number="J416H",
            packaging=Packaging(
                (
                    PackagingLevel("EA", 1),
                    PackagingLevel("BX", 36, "10705031000018"),
                    PackagingLevel("CS", 144),
                )
            ),
            purchase_uom="BX",
            hibc="+H123J416H1Q",
            unspsc="42312201",
            list_price=Decimal("245.00"),
            source_system="materials",
        ),
        vendor_number="V1002",
    )


def test_an_implant_billed_under_a_cdm_code_keeps_its_charge_crosswalk() -> None:
    hip_stem = {
        "UOM": "EA", "Each Per BX": "", "Each Per CS": "", "GTIN BX": "",
        "GTIN EA": "00881304123455", "Implant Y/N": "Y", "Consignment Y/N": "y",
        "Chargeable Y/N": "YES", "CDM": "27800123", "HCPCS": "c1776", "Rev Code": "278",
        "List Price": "4,250.00",
    }  # fmt: skip
    item = item_of(row(hip_stem), PROFILE)

    assert (
        item.packaging,
        item.is_implant,
        item.is_consignment,
        item.is_chargeable,
        item.cdm_code,
        item.hcpcs,
        item.revenue_code,
        item.list_price,
    ) == (
        Packaging((PackagingLevel("EA", 1, "00881304123455"),)),
        True,
        True,
        True,
        "27800123",
        "C1776",
        "0278",
        Decimal("4250.00"),
    )


def test_a_gtin_12_is_stored_in_its_gtin_14_form() -> None:
    assert item_of(row({"GTIN EA": "881304123455"}), PROFILE).gtins == (
        "00881304123455",
        "10705031000018",
    )


def test_an_item_master_without_an_id_column_derives_a_stable_id() -> None:
    profile = load_profile(
        "kind: items\ncolumns: {description: Description, manufacturer: Mfr Name, "
        "catalog_number: Mfr Catalog No, purchase_uom: UOM}\n"
        "packaging: [{uom: EA, each_per_unit: 1}, {uom: BX, each_per_unit_column: Each Per BX}]\n",
        "no-id.yaml",
    )

    first = item_of(row(), profile)
    respelled = item_of(row({"Mfr Name": " ethicon ", "Mfr Catalog No": "j416h"}), profile)

    assert (first.id, respelled.id) == (item_id_for("Ethicon", "J416H"), first.id)


def test_item_ids_differ_by_manufacturer_and_catalog_number() -> None:
    ids = {
        item_id_for("Ethicon", "J416H"),
        item_id_for("Ethicon", "J417H"),
        item_id_for("Covidien", "J416H"),
    }

    assert len(ids) == 3


def test_a_blank_cell_takes_the_profile_default() -> None:
    assert item_of(row({"Active Y/N": ""}), PROFILE).active is True


def test_an_optional_level_with_blank_cells_is_absent() -> None:
    item = item_of(row({"Each Per CS": ""}), PROFILE)

    assert [level.uom for level in item.packaging.levels] == ["EA", "BX"]


def test_units_are_read_through_the_profile_aliases() -> None:
    assert item_of(row({"UOM": "Box"}), PROFILE).purchase_uom == "BX"


def test_a_unit_read_from_a_column_may_repeat_the_base_level() -> None:
    profile = load_profile(
        "kind: items\ncolumns: {description: Description, manufacturer: Mfr Name, "
        "catalog_number: Mfr Catalog No, purchase_uom: UOM}\n"
        "packaging:\n  - {uom: EA, each_per_unit: 1}\n"
        "  - {uom_column: UOM, each_per_unit_column: Each Per BX, gtin_column: GTIN BX}\n",
        "one-level.yaml",
    )

    item = item_of(row({"UOM": "EA", "Each Per BX": "1"}), profile)

    assert item.packaging == Packaging((PackagingLevel("EA", 1, "10705031000018"),))


# Refusals: one per bad cell, each naming the column as the file spells it


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        ({"Description": " "}, "Description", "is required but empty"),
        ({"Item Number": ""}, "Item Number", "is required but empty"),
        (
            {"UOM": "BAG"},
            "UOM",
            "unknown unit of measure 'BAG'; known: BG, BX, CA, CS, CT, DZ, EA, KT, PK, PR, RL, ST",
        ),
        ({"UOM": "PK"}, "UOM", "PK is not a packaging level of the item (EA, BX, CS)"),
        ({"GTIN BX": "10705031000019"}, "GTIN BX", "check digit is 9, expected 8"),
        (
            {"GTIN BX": "10705031000"},
            "GTIN BX",
            "must be 8, 12, 13 or 14 digits, got 11 characters",
        ),
        ({"HIBC": "+H123J416H1X"}, "HIBC", "check character is 'X', expected 'Q'"),
        ({"UNSPSC": "4231220"}, "UNSPSC", "must be 8 digits, got 7 characters"),
        (
            {"Implant Y/N": "Maybe"},
            "Implant Y/N",
            "'Maybe' is not a yes/no value; expected one of 0, 1, N, NO, X, Y, YES",
        ),
        ({"Chargeable Y/N": "Y"}, "CDM", "is required for a chargeable item"),
        ({"HCPCS": "C177"}, "HCPCS", "'C177' is not a HCPCS code like C1776 or a CPT code"),
        ({"Rev Code": "27"}, "Rev Code", "'27' is not a UB-04 revenue code like 0278"),
        (
            {"List Price": "12,34.5"},
            "List Price",
            "'12,34.5' is not an amount like 1234.56 or 1,234.56",
        ),
        ({"List Price": "-3.00"}, "List Price", "must not be negative, got '-3.00'"),
        ({"List Price": "0.12345"}, "List Price", "'0.12345' has more than 4 decimal places"),
        (
            {"Each Per BX": "36.5"},
            "Each Per BX",
            "must be a whole number of at least 1, got '36.5'",
        ),
        ({"Each Per BX": "0"}, "Each Per BX", "must be a whole number of at least 1, got '0'"),
        ({"Each Per BX": ""}, "Each Per BX", "is empty; how many eaches does one BX hold?"),
        (
            {"Each Per CS": "", "GTIN CS": "30613809000013"},
            "Each Per CS",
            "is empty; how many eaches does one CS hold?",
        ),
        (
            {"GTIN CS": "10705031000018"},
            "GTIN CS",
            "10705031000018 is also the GTIN of the BX level",
        ),
        (
            {"Description": "SUTURE \udce9"},
            "Description",
            "has bytes that are not utf-8-sig; set encoding: in the profile",
        ),
        (
            {"Mfr Name": "Eth\x00icon"},
            "Mfr Name",
            "contains a NUL character; is the file in another encoding?",
        ),
    ],
)
def test_a_bad_cell_is_refused_with_its_column_and_reason(
    changes: dict[str, str], column: str, reason: str
) -> None:
    assert problems(row(changes)) == [(7, column, reason)]


@pytest.mark.parametrize(
    ("column", "length", "reason"),
    [
        ("Item Number", 257, "is 257 characters long; a code or identifier is at most 256"),
        ("Mfr Name", 257, "is 257 characters long; a code or identifier is at most 256"),
        ("Mfr Catalog No", 300, "is 300 characters long; a code or identifier is at most 256"),
        ("Description", 1001, "is 1001 characters long; a text is at most 1000"),
    ],
)
def test_a_cell_too_long_to_be_a_code_or_a_text_is_refused_without_quoting_it(
    column: str, length: int, reason: str
) -> None:
    assert problems(row({column: "X" * length})) == [(7, column, reason)]


def test_a_code_of_256_characters_and_a_text_of_1000_are_read() -> None:
    item = item_of(row({"Mfr Catalog No": "C" * 256, "Description": "D" * 1000}))

    assert (item.catalog_number, item.description) == ("C" * 256, "D" * 1000)


def test_every_problem_of_a_row_is_reported_together_in_column_order() -> None:
    bad = row({"List Price": "free", "Description": "", "GTIN BX": "123", "Implant Y/N": "?"})

    assert problems(bad) == [
        (7, "Description", "is required but empty"),
        (7, "GTIN BX", "must be 8, 12, 13 or 14 digits, got 3 characters"),
        (7, "Implant Y/N", "'?' is not a yes/no value; expected one of 0, 1, N, NO, X, Y, YES"),
        (7, "List Price", "'free' is not an amount like 1234.56 or 1,234.56"),
    ]


def test_a_row_wider_than_the_header_is_refused_as_a_whole() -> None:
    shifted = Row(7, VICRYL, overflow=(" 4x4",))

    assert problems(shifted) == [
        (
            7,
            "",
            "more cells than the header has (extra ' 4x4'); "
            "is a delimiter inside a value not quoted?",
        )
    ]


def test_decimal_comma_profiles_read_european_amounts() -> None:
    profile = load_profile(
        "kind: items\ndecimal_comma: true\ncolumns: {description: Description, "
        "manufacturer: Mfr Name, catalog_number: Mfr Catalog No, purchase_uom: UOM, "
        "list_price: List Price}\npackaging: [{uom: BX, each_per_unit: 1}]\n",
        "eu.yaml",
    )

    assert item_of(row({"List Price": "1.234,50"}), profile).list_price == Decimal("1234.50")


@given(header=st.sampled_from(sorted(VICRYL)), text=st.text(max_size=40))
def test_any_text_in_any_cell_is_an_item_or_a_row_error(header: str, text: str) -> None:
    with contextlib.suppress(RowError):
        decode_item(Row(7, {**VICRYL, header: text}), PROFILE)
