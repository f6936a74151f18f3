"""Vendor-master rows: the ERP's vendor number becomes a stable supplier id."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.masterdata import Address, Supplier
from suture.formats.csv import (
    ImportKind,
    Row,
    RowError,
    decode_supplier,
    default_profile,
    supplier_id_for,
)

PROFILE = default_profile(ImportKind.SUPPLIERS)

OWENS = {
    "Vendor Number": "V1002",
    "Vendor Name": "Owens & Minor Distribution Inc",
    "GLN": "0300000000018",
    "HIN": "",
    "Remit Address": "PO Box 742632",
    "Remit City": "Atlanta",
    "Remit State": "ga",
    "Remit Zip": "30374-2632",
    "Remit Country": "",
    "Terms": "NET45",
    "Active Y/N": "Y",
}


def row(changes: dict[str, str] | None = None) -> Row:
    return Row(3, {**OWENS, **(changes or {})})


def problems(changes: dict[str, str]) -> list[tuple[int, str, str]]:
    with pytest.raises(RowError) as caught:
        decode_supplier(row(changes), PROFILE)
    return [(error.line, error.column, error.reason) for error in caught.value.errors]


def test_a_good_row_becomes_the_supplier_with_its_remit_to_address() -> None:
    assert decode_supplier(row(), PROFILE) == Supplier(
        id=supplier_id_for("V1002"),
        name="Owens & Minor Distribution Inc",
        erp_vendor_id="V1002",
        gln="0300000000018",
        remit_to=Address(
            line1="PO Box 742632",
            city="Atlanta",
            state="GA",
            postal_code="30374-2632",
            country="US",
        ),
        payment_terms="NET45",
        source_system="erp",
    )


def test_a_vendor_without_an_address_or_terms_takes_the_defaults() -> None:
    blank = dict.fromkeys(
        ("Remit Address", "Remit City", "Remit State", "Remit Zip", "Terms", "Active Y/N"), ""
    )
    supplier = decode_supplier(row(blank), PROFILE)

    assert (supplier.remit_to, supplier.payment_terms, supplier.active) == (None, "NET30", True)


def test_the_supplier_id_does_not_depend_on_how_the_vendor_number_is_spelled() -> None:
    assert supplier_id_for("v1002 ") == supplier_id_for("V1002") != supplier_id_for("V1003")


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        ({"Vendor Number": ""}, "Vendor Number", "is required but empty"),
        ({"GLN": "0300000000019"}, "GLN", "check digit is 9, expected 8"),
        ({"HIN": "AB-123"}, "HIN", "'AB-123' is not a HIN (7 letters or digits, plus 2 optional)"),
        ({"Remit City": ""}, "Remit City", "is required but empty"),
        ({"Remit Country": "USA"}, "Remit Country", "'USA' is not a two-letter country code"),
        (
            {"Active Y/N": "Retired"},
            "Active Y/N",
            "'Retired' is not a yes/no value; expected one of 0, 1, N, NO, Y, YES",
        ),
        (
            {"Remit Zip": "2115"},
            "Remit Zip",
            "'2115' is not a US ZIP code (12345 or 12345-6789); "
            "a spreadsheet may have dropped its leading zeros",
        ),
    ],
)
def test_a_bad_cell_is_refused_with_its_column_and_reason(
    changes: dict[str, str], column: str, reason: str
) -> None:
    assert problems(changes) == [(3, column, reason)]


def test_a_postal_code_outside_the_us_is_not_checked_as_a_zip_code() -> None:
    supplier = decode_supplier(row({"Remit Zip": "K1A 0B1", "Remit Country": "ca"}), PROFILE)

    assert supplier.remit_to is not None
    assert (supplier.remit_to.postal_code, supplier.remit_to.country) == ("K1A 0B1", "CA")


@given(
    st.dictionaries(st.sampled_from(sorted(OWENS)), st.text(max_size=30), min_size=1, max_size=4)
)
def test_any_text_in_any_cells_is_a_supplier_or_a_row_error(changes: dict[str, str]) -> None:
    with contextlib.suppress(RowError):
        decode_supplier(row(changes), PROFILE)
