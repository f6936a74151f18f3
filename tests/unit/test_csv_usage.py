"""Usage feed rows: typed values and item references, tokens for patient identifiers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources

import pytest

from suture.domain.inventory import UsageRecord
from suture.formats.csv import (
    ImportKind,
    Row,
    RowError,
    UsageItemRef,
    UsageLine,
    decode_usage,
    default_profile,
    load_profile,
)

PROFILE = default_profile(ImportKind.USAGE)
MRN = "MRN004417731"

HIP = {
    "Case Number": "OR24-000101",
    "Visit Number": "V7000101",
    "MRN": MRN,
    "Procedure Date": "03/04/2024 07:42",
    "Facility": "GENHOSP",
    "Location": "OR-3",
    "Department": "SURG",
    "Item Number": "100234",
    "GTIN": "10885074123452",
    "UDI": "",
    "Qty": "1",
    "UOM": "Each",
    "Lot": "L2231",
    "Serial": "SN0042",
    "Expiry": "12/31/2026",
}


def tokenize(value: str) -> str:
    return f"tok:{value[::-1]}"


def row(changes: dict[str, str] | None = None, *, line: int = 7) -> Row:
    return Row(line, {**HIP, **(changes or {})})


def decode(changes: dict[str, str] | None = None) -> UsageLine:
    return decode_usage(row(changes), PROFILE, tokenize=tokenize)


def problems(changes: dict[str, str]) -> list[tuple[int, str, str]]:
    with pytest.raises(RowError) as caught:
        decode(changes)
    return [(error.line, error.column, error.reason) for error in caught.value.errors]


def test_a_good_row_becomes_a_usage_line_with_tokens_in_utc() -> None:
    line = decode()
    assert line == UsageLine(
        id=line.id,
        facility="GENHOSP",
        location="OR-3",
        item=UsageItemRef(item_number="100234", gtin="10885074123452"),
        quantity=Decimal(1),
        uom="EA",
        used_at=datetime(2024, 3, 4, 13, 42, tzinfo=UTC),
        encounter_token="tok:1010007V",
        case_token="tok:101000-42RO",
        patient_token=f"tok:{MRN[::-1]}",
        department="SURG",
        lot="L2231",
        serial="SN0042",
        expiry=date(2026, 12, 31),
        source_system="clinical",
    )


def test_no_field_of_the_line_holds_an_identifier() -> None:
    assert all(MRN not in repr(value) for value in vars_of(decode()))


def vars_of(line: UsageLine) -> list[object]:
    return [getattr(line, name) for name in UsageLine.__slots__]


def test_the_id_is_the_same_on_a_re_read_and_differs_by_line() -> None:
    assert decode().id == decode().id
    assert decode_usage(row(line=8), PROFILE, tokenize=tokenize).id != decode().id


def test_with_a_line_id_the_id_follows_the_exporting_systems_line_not_the_file() -> None:
    text = default_yaml().replace("columns:", "columns:\n  line_id: Usage ID")
    profile = load_profile(text, "usage-with-id.yaml")
    first = decode_usage(Row(3, {**HIP, "Usage ID": "U-1"}), profile, tokenize=tokenize)
    moved = decode_usage(Row(90, {**HIP, "Usage ID": "U-1"}), profile, tokenize=tokenize)
    assert (first.id, first.line_id) == (moved.id, "U-1")


def default_yaml() -> str:
    return (
        resources.files("suture.formats.csv").joinpath("profiles", "usage.yaml").read_text("utf-8")
    )


def test_a_summer_time_is_converted_with_daylight_saving() -> None:
    assert decode({"Procedure Date": "07/04/2024 07:42"}).used_at == datetime(
        2024, 7, 4, 12, 42, tzinfo=UTC
    )


def test_a_date_without_a_time_is_the_start_of_that_day_in_the_zone() -> None:
    assert decode({"Procedure Date": "03/04/2024"}).used_at == datetime(
        2024, 3, 4, 6, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("2", Decimal(2)), ("0.5", Decimal("0.5")), ("1,000", Decimal(1000))],
)
def test_quantities_are_exact_decimals(cell: str, expected: Decimal) -> None:
    assert decode({"Qty": cell}).quantity == expected


@pytest.mark.parametrize("cell", ["0", "-1", "(1)"])
def test_a_quantity_that_is_not_positive_is_refused(cell: str) -> None:
    assert problems({"Qty": cell}) == [(7, "Qty", "must be more than 0")]


def test_a_udi_alone_names_the_item_and_is_kept_as_scanned() -> None:
    udi = "01108850741234521727013110LOT77\x1d21SN0042"  # GS1 with a GS separator
    line = decode({"Item Number": "", "GTIN": "", "UDI": udi})
    assert line.item == UsageItemRef(udi=udi)


def test_a_row_naming_no_item_says_which_columns_could() -> None:
    assert problems({"Item Number": "", "GTIN": ""}) == [
        (7, "Item Number", "the item is missing: give one of Item Number, GTIN, UDI")
    ]


@pytest.mark.parametrize("column", ["Item Number", "Lot", "Serial", "Visit Number"])
def test_a_cell_longer_than_any_code_is_refused_without_quoting_it(column: str) -> None:
    assert problems({column: "X" * 9000}) == [
        (7, column, "is 9000 characters long; a code or identifier is at most 256")
    ]


def test_every_bad_cell_of_a_row_is_reported_at_once_in_column_order() -> None:
    found = problems({"Procedure Date": "yesterday", "Location": "", "UOM": "BAG", "GTIN": "1"})
    assert [(column, reason) for _, column, reason in found] == [
        ("Procedure Date", "is not a date and time like '01/31/2024 13:45' (or a date alone)"),
        ("Location", "is required but empty"),
        ("GTIN", "is not a GTIN: must be 8, 12, 13 or 14 digits, got 1 characters"),
        (
            "UOM",
            "is not a known unit of measure; known: BG, BX, CA, CS, CT, DZ, EA, KT, PK, PR, RL, ST",
        ),
    ]


def test_a_facility_from_the_profiles_defaults_fills_a_blank_cell() -> None:
    text = default_yaml().replace("  facility: Facility\n", "") + "defaults:\n  facility: GENHOSP\n"
    profile = load_profile(text, "one-facility.yaml")
    values = {key: value for key, value in HIP.items() if key != "Facility"}
    assert decode_usage(Row(2, values), profile, tokenize=tokenize).facility == "GENHOSP"


def test_the_line_becomes_a_usage_record_once_references_are_resolved() -> None:
    line = decode({"UDI": "(01)10885074123452(10)L2231"})
    record = line.to_record(facility_id="FAC-1", location_id="LOC-OR3", item_id="ITM-1")
    assert record == UsageRecord(
        id=line.id,
        facility_id="FAC-1",
        location_id="LOC-OR3",
        item_id="ITM-1",
        quantity=Decimal(1),
        uom="EA",
        used_at=datetime(2024, 3, 4, 13, 42, tzinfo=UTC),
        encounter_token="tok:1010007V",
        lot="L2231",
        serial="SN0042",
        expiry=date(2026, 12, 31),
        udi="(01)10885074123452(10)L2231",
        source_system="clinical",
    )


class TestPatientIdentifiersNeverReachAnError:
    """DESIGN.md §6: the MRN, visit and case numbers are PHI."""

    def test_an_error_in_a_row_with_an_mrn_does_not_contain_it(self) -> None:
        with pytest.raises(RowError) as caught:
            decode({"Qty": "x", "UOM": "?", "Expiry": "never"})
        assert [e for e in caught.value.errors if MRN in str(e)] == []

    def test_an_mrn_shifted_into_another_column_is_not_quoted(self) -> None:
        shifted = {"Qty": MRN, "Expiry": MRN, "UOM": MRN, "Procedure Date": MRN, "GTIN": MRN}
        with pytest.raises(RowError) as caught:
            decode(shifted)
        assert len(caught.value.errors) == 5
        assert [e for e in caught.value.errors if MRN in str(e)] == []

    def test_an_mrn_in_cells_past_the_header_is_counted_not_quoted(self) -> None:
        with pytest.raises(RowError) as caught:
            decode_usage(Row(4, HIP, (MRN, "")), PROFILE, tokenize=tokenize)
        assert [str(e) for e in caught.value.errors] == [
            "line 4: 1 more non-empty cell than the header has; "
            "is a delimiter inside a value not quoted?"
        ]

    def test_an_identifier_a_reason_happened_to_contain_is_redacted(self) -> None:
        # the second guard: "EA" is in a reason (the list of units) and is now the MRN
        with pytest.raises(RowError) as caught:
            decode({"MRN": "EA", "UOM": "BAG"})
        assert "EA" not in caught.value.reason
        assert "[identifier]" in caught.value.reason
