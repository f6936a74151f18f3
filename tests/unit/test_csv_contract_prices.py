"""Contract-price rows: the contract header on every row, plus a membership or a price line."""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.contracts import Contract, ContractMembership
from suture.formats.csv import (
    ContractLine,
    ImportKind,
    ItemRef,
    PriceLine,
    Row,
    RowError,
    contract_id_for,
    decode_contract_price,
    default_profile,
)

PROFILE = default_profile(ImportKind.CONTRACT_PRICES)

HEADER = {
    "Contract Number": "VZ-2024-001",
    "Contract Name": "Vizient Wound Closure",
    "Vendor Number": "V1002",
    "GPO": "Vizient",
    "Contract Start": "01/01/2024",
    "Contract End": "12/31/2026",
    "Tier": "T1",
}
EMPTY_LINE = dict.fromkeys(
    (
        "Facility", "Member From", "Member To", "Item Number", "GTIN", "Mfr Name",
        "Mfr Catalog No", "UOM", "Contract Price", "Price Start", "Price End",
    ),
    "",
)  # fmt: skip
MEMBERSHIP = {**HEADER, **EMPTY_LINE, "Facility": "FAC-MAIN"}
PRICE = {**HEADER, **EMPTY_LINE, "Item Number": "100234", "UOM": "BX", "Contract Price": "212.40"}

CONTRACT = Contract(
    id=contract_id_for("VZ-2024-001"),
    number="VZ-2024-001",
    supplier_id="",
    name="Vizient Wound Closure",
    effective_from=date(2024, 1, 1),
    effective_to=date(2026, 12, 31),
    gpo="Vizient",
    source_system="materials",
)


def decode(values: dict[str, str]) -> ContractLine:
    return decode_contract_price(Row(4, values), PROFILE)


def problems(values: dict[str, str]) -> list[tuple[str, str]]:
    with pytest.raises(RowError) as caught:
        decode(values)
    return [(error.column, error.reason) for error in caught.value.errors]


def test_a_membership_row_starts_with_the_contract_unless_it_says_otherwise() -> None:
    assert decode(MEMBERSHIP) == ContractLine(
        contract=CONTRACT,
        vendor_number="V1002",
        membership=ContractMembership(
            facility_id="FAC-MAIN", tier="T1", effective_from=date(2024, 1, 1)
        ),
    )


def test_a_price_row_names_its_item_as_the_file_knows_it() -> None:
    assert decode({**PRICE, "Price Start": "07/01/2024"}) == ContractLine(
        contract=CONTRACT,
        vendor_number="V1002",
        price=PriceLine(
            item=ItemRef(item_id="100234"),
            tier="T1",
            uom="BX",
            unit_price=Decimal("212.40"),
            effective_from=date(2024, 7, 1),
        ),
    )


def test_a_price_line_may_name_its_item_by_gtin_or_catalog_number() -> None:
    by_gtin = decode({**PRICE, "Item Number": "", "GTIN": "00881304123455"})
    by_catalog = decode(
        {**PRICE, "Item Number": "", "Mfr Name": "Ethicon", "Mfr Catalog No": "J416H"}
    )

    assert (by_gtin.price and by_gtin.price.item, by_catalog.price and by_catalog.price.item) == (
        ItemRef(gtin="00881304123455"),
        ItemRef(manufacturer="Ethicon", catalog_number="J416H"),
    )


def test_a_row_may_be_a_membership_and_a_price_line_at_once() -> None:
    line = decode({**PRICE, "Facility": "FAC-NORTH"})

    assert (line.membership is not None, line.price is not None) == (True, True)


def test_an_open_ended_contract_has_no_end() -> None:
    assert decode({**MEMBERSHIP, "Contract End": ""}).contract.effective_to is None


@pytest.mark.parametrize(
    ("values", "column", "reason"),
    [
        (
            {**HEADER, **EMPTY_LINE},
            "",
            "has neither a facility (a membership) nor an item and price (a price line)",
        ),
        ({**MEMBERSHIP, "Contract Name": ""}, "Contract Name", "is required but empty"),
        ({**MEMBERSHIP, "Tier": ""}, "Tier", "is required but empty"),
        (
            {**MEMBERSHIP, "Contract Start": "2024-01-01"},
            "Contract Start",
            "'2024-01-01' is not a date in the format %m/%d/%Y",
        ),
        (
            {**MEMBERSHIP, "Contract End": "12/31/2023"},
            "Contract End",
            "2023-12-31 is before the start 2024-01-01",
        ),
        (
            {**MEMBERSHIP, "Member From": "07/01/2024", "Member To": "06/30/2024"},
            "Member To",
            "2024-06-30 is before the start 2024-07-01",
        ),
        ({**PRICE, "Contract Price": ""}, "Contract Price", "is required but empty"),
        (
            {**PRICE, "Contract Price": "-4.00"},
            "Contract Price",
            "must not be negative, got '-4.00'",
        ),
        (
            {**PRICE, "UOM": "PALLET"},
            "UOM",
            "unknown unit of measure 'PALLET'; known: BG, BX, CA, CS, CT, DZ, EA, KT, PK, PR, "
            "RL, ST",
        ),
        (
            {**PRICE, "Item Number": ""},
            "Item Number",
            "a price line needs its item: id, GTIN or catalog no",
        ),
        (
            {**PRICE, "Item Number": "", "Mfr Name": "Ethicon"},
            "Mfr Catalog No",
            "is required to find the item by catalog number",
        ),
        ({**PRICE, "GTIN": "00881304123456"}, "GTIN", "check digit is 6, expected 5"),
        (
            {**PRICE, "Price Start": "03/01/2025", "Price End": "02/28/2025"},
            "Price End",
            "2025-02-28 is before the start 2025-03-01",
        ),
    ],
)
def test_a_bad_cell_is_refused_with_its_column_and_reason(
    values: dict[str, str], column: str, reason: str
) -> None:
    assert problems(values) == [(column, reason)]


@given(
    st.dictionaries(st.sampled_from(sorted(PRICE)), st.text(max_size=30), min_size=1, max_size=5)
)
def test_any_text_in_any_cells_is_a_contract_line_or_a_row_error(changes: dict[str, str]) -> None:
    with contextlib.suppress(RowError):
        decode({**PRICE, "Facility": "FAC-MAIN", **changes})


def test_a_bad_cell_read_twice_is_reported_once() -> None:
    assert problems({**PRICE, "Item Number": "", "GTIN": "0\x00"}) == [
        ("Item Number", "a price line needs its item: id, GTIN or catalog no"),
        ("GTIN", "contains a NUL character; is the file in another encoding?"),
    ]
