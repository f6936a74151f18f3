"""Charge batch rows from legacy billing: the canonical charge the HL7 decoder also produces."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from suture.domain.revenue import Charge, ChargeType
from suture.formats.csv import (
    ChargeLine,
    Decoded,
    ImportKind,
    Row,
    RowError,
    decode_charge,
    decode_charge_rows,
    default_profile,
    read_rows,
)

PROFILE = default_profile(ImportKind.CHARGES)
ACCOUNT, ENCOUNTER = "A99001234", "E5550001"

IMPLANT = {
    "Facility": "GENHOSP",
    "Account Number": ACCOUNT,
    "Encounter Number": ENCOUNTER,
    "Service Date": "03/04/2024 07:42",
    "Txn Type": "CG",
    "CDM Code": "27800123",
    "Qty": "1",
    "Amount": "$4,250.00",
    "Dept": "SURG",
    "HCPCS": "c1776",
    "Rev Code": "278",
}


def tokenize(value: str) -> str:
    return f"tok:{value[::-1]}"


def decode(changes: dict[str, str] | None = None, *, line: int = 5) -> ChargeLine:
    return decode_charge(Row(line, {**IMPLANT, **(changes or {})}), PROFILE, tokenize=tokenize)


def problems(changes: dict[str, str]) -> list[tuple[str, str]]:
    with pytest.raises(RowError) as caught:
        decode(changes)
    return [(error.column, error.reason) for error in caught.value.errors]


def test_a_file_cut_short_inside_its_last_row_refuses_that_row_not_a_smaller_amount() -> None:
    header = ",".join(IMPLANT)
    whole = ",".join({**IMPLANT, "Amount": "4250.00"}.values())
    cut = whole[: whole.index("4250.00") + 2]  # the transfer stopped after "42"
    stream = io.StringIO(f"{header}\n{whole}\n{cut}", newline="")

    results = list(decode_charge_rows(read_rows(stream, PROFILE), PROFILE, tokenize=tokenize))

    assert isinstance(results[0], Decoded)
    assert isinstance(results[1], RowError)
    assert [(e.line, e.column, e.reason) for e in results[1].errors] == [
        (3, "", "the file ends inside this row, after 8 of the header's 11 cells and without a "
                "line break: was the file cut short?"),
    ]  # fmt: skip


def test_a_good_row_becomes_a_canonical_charge_with_tokens() -> None:
    line = decode()
    assert line == ChargeLine(
        charge=Charge(
            id=line.charge.id,
            facility_id="GENHOSP",
            encounter_token="tok:1000555E",
            cdm_code="27800123",
            quantity=Decimal(1),
            amount=Decimal("4250.00"),
            service_at=datetime(2024, 3, 4, 13, 42, tzinfo=UTC),
            transaction_type=ChargeType.CHARGE,
            account_token="tok:43210099A",
            department_id="SURG",
            hcpcs="C1776",
            revenue_code="0278",
            source_system="rcm",
        ),
        priced=True,
    )
    assert line.charge.id.startswith("CHG-")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("(4250.00)", "-4250.00"), ("4250.00-", "-4250.00"), ("-4,250", "-4250"), ("+12", "12")],
)
def test_negative_amounts_are_read_in_every_way_billing_writes_them(
    amount: str, expected: str
) -> None:
    assert decode({"Amount": amount}).charge.amount == Decimal(expected)


def test_without_a_type_a_negative_amount_is_a_credit() -> None:
    assert decode({"Txn Type": "", "Amount": "(10.00)"}).charge.transaction_type is (
        ChargeType.CREDIT
    )


def test_a_credit_keeps_the_sign_it_was_written_with() -> None:
    charge = decode({"Txn Type": "cd", "Amount": "4250.00"}).charge
    assert (charge.transaction_type, charge.amount) == (ChargeType.CREDIT, Decimal("4250.00"))


def test_an_unpriced_line_has_amount_zero_for_the_service_to_price() -> None:
    line = decode({"Amount": "", "Qty": ""})
    assert (line.priced, line.charge.amount, line.charge.quantity) == (False, 0, 1)


def test_the_account_stands_for_a_missing_encounter() -> None:
    charge = decode({"Encounter Number": ""}).charge
    assert charge.encounter_token == charge.account_token == "tok:43210099A"


def test_a_row_with_neither_encounter_nor_account_is_refused() -> None:
    assert problems({"Encounter Number": "", "Account Number": ""}) == [
        ("Encounter Number", "is required (or an account number) but empty")
    ]


def test_every_bad_cell_is_named_and_none_is_quoted() -> None:
    found = problems(
        {
            "Service Date": "2024-03-04",
            "Txn Type": "PY",
            "Qty": "two",
            "Amount": "12.00001",
            "HCPCS": "C17",
            "Rev Code": "27A",
        }
    )
    assert found == [
        ("Service Date", "is not a date and time like '01/31/2024 13:45' (or a date alone)"),
        ("Txn Type", "is not CG (charge) or CD (credit)"),
        ("Qty", "is not a number like 1234.56 or 1,234.56"),
        ("Amount", "has more than 4 decimal places"),
        ("HCPCS", "is not a HCPCS code like C1776 or a CPT code like 27447"),
        ("Rev Code", "is not a UB-04 revenue code like 0278"),
    ]


def test_the_id_is_stable_across_re_reads_of_the_same_line() -> None:
    assert decode().charge.id == decode().charge.id != decode(line=6).charge.id


def test_an_error_for_a_row_never_contains_its_account_or_encounter_number() -> None:
    with pytest.raises(RowError) as caught:
        decode({"Qty": ENCOUNTER, "Amount": ACCOUNT, "CDM Code": ""})
    text = " ".join(str(error) for error in caught.value.errors)
    assert (ACCOUNT in text, ENCOUNTER in text, len(caught.value.errors)) == (False, False, 3)
