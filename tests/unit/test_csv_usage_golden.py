"""The golden usage and charge batches decode as a person reading them would expect.

``tests/golden/feeds/`` holds one export of each feed in the built-in profile's layout: a
Windows export (CRLF, a blank line, a fully quoted row) with deliberately bad rows. The codec
must keep the good rows, name the line and column of every bad cell, and never put a patient
identifier of the file in an error.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from suture.domain.revenue import ChargeType
from suture.formats.csv import (
    ChargeLine,
    Decoded,
    ImportKind,
    RowError,
    UsageItemRef,
    UsageLine,
    decode_charge_rows,
    decode_usage_rows,
    default_profile,
    read_rows,
)

GOLDEN = Path(__file__).parent.parent / "golden" / "feeds"
# MRN, visit, case, account and encounter numbers as the golden files write them
IDENTIFIER = re.compile(r"MRN[0-9]+|V7[0-9]{6}|OR24-[0-9]+|A99[0-9]+|E555[0-9]+")


def tokenize(value: str) -> str:
    return f"tok({len(value)})"


def usage() -> tuple[dict[int, UsageLine], list[RowError]]:
    profile = default_profile(ImportKind.USAGE)
    good: dict[int, UsageLine] = {}
    bad: list[RowError] = []
    with (GOLDEN / "usage.csv").open(encoding="utf-8-sig", newline="") as stream:
        for result in decode_usage_rows(read_rows(stream, profile), profile, tokenize=tokenize):
            if isinstance(result, Decoded):
                good[result.line] = result.value
            else:
                bad += result.errors
    return good, bad


def charges() -> tuple[dict[int, ChargeLine], list[RowError]]:
    profile = default_profile(ImportKind.CHARGES)
    good: dict[int, ChargeLine] = {}
    bad: list[RowError] = []
    with (GOLDEN / "charges.csv").open(encoding="utf-8-sig", newline="") as stream:
        for result in decode_charge_rows(read_rows(stream, profile), profile, tokenize=tokenize):
            if isinstance(result, Decoded):
                good[result.line] = result.value
            else:
                bad += result.errors
    return good, bad


def test_usage_golden_keeps_the_good_rows_and_names_every_bad_cell() -> None:
    good, bad = usage()
    assert sorted(good) == [2, 3, 4, 8, 12]
    assert [(error.line, error.column) for error in bad] == [
        (5, "GTIN"),
        (7, "Qty"),
        (9, "Procedure Date"),
        (10, "Item Number"),
        (11, "UOM"),
        (11, "Expiry"),
        (13, "GTIN"),
        (13, "Qty"),
        (13, "UOM"),
        (14, "Facility"),
    ]


def test_usage_golden_rows_carry_typed_values_and_references() -> None:
    good, _ = usage()
    by_gtin, by_udi, date_only = good[3], good[4], good[8]
    assert (by_gtin.item, by_gtin.uom, by_gtin.lot, by_gtin.expiry) == (
        UsageItemRef(gtin="00885074123455"),
        "BX",
        "L2231",
        date(2026, 12, 31),
    )
    assert by_udi.item == UsageItemRef(udi="(01)10885074123452(17)270131(10)LOT77(21)SN0042")
    assert (by_udi.serial, by_udi.expiry) == ("SN0042", date(2027, 1, 31))
    assert by_gtin.used_at == datetime(2024, 3, 4, 13, 42, tzinfo=UTC)  # CST is UTC-6
    assert date_only.used_at == datetime(2024, 3, 10, 6, 0, tzinfo=UTC)
    assert good[12].quantity == Decimal(3)


def test_usage_golden_errors_never_quote_a_patient_identifier() -> None:
    _, bad = usage()
    assert [str(error) for error in bad if IDENTIFIER.search(str(error))] == []


def test_charges_golden_keeps_the_good_rows_and_names_every_bad_cell() -> None:
    good, bad = charges()
    assert sorted(good) == [2, 3, 4, 5]
    assert [(error.line, error.column) for error in bad] == [
        (6, "Encounter Number"),
        (7, "Service Date"),
        (7, "Txn Type"),
        (7, "Qty"),
        (7, "Amount"),
        (7, "HCPCS"),
        (7, "Rev Code"),
        (8, "CDM Code"),
        (9, ""),
    ]


def test_charges_golden_signs_types_and_prices_are_read_as_billing_writes_them() -> None:
    good, _ = charges()
    summary = [
        (line.charge.transaction_type, line.charge.amount, line.priced, line.charge.revenue_code)
        for line in (good[2], good[3], good[4], good[5])
    ]
    assert summary == [
        (ChargeType.CHARGE, Decimal("4250.00"), True, "0278"),
        (ChargeType.CREDIT, Decimal("-4250.00"), True, "0278"),
        (ChargeType.CREDIT, Decimal("-35.10"), True, "0272"),
        (ChargeType.CHARGE, Decimal(0), False, "0272"),
    ]
    assert good[4].charge.encounter_token == good[4].charge.account_token == "tok(9)"


def test_charges_golden_errors_never_quote_a_patient_identifier() -> None:
    _, bad = charges()
    assert [str(error) for error in bad if IDENTIFIER.search(str(error))] == []
