"""DFT^P03 → canonical charges (DESIGN.md §2): each FT1 field lands where it should, and every
bad value is refused at its position without echoing patient data (DESIGN.md §6)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suture.domain.revenue import ChargeType
from suture.formats.hl7v2 import DecodedCharges, ErrorCode, Hl7DecodeError, decode_message
from suture.formats.hl7v2.keys import ChargeIds

MRN, NAME, ACCOUNT, VISIT, BIRTH = (
    "MRN4471923",
    "SECRETNAME^GIVEN",
    "ACCT90817",
    "VIS55120",
    "19610203",
)


def ft1(**fields: str) -> str:
    """An FT1 with sensible defaults; keyword ``f10="2"`` sets FT1-10."""
    values = {
        1: "1",
        4: "20240315093000",
        6: "CG",
        7: "27800123^KNEE IMPLANT^CDM",
        10: "1",
        11: "4200.00",
        13: "OR^SURGERY",
        25: "C1776^^HCPCS",
    }
    values |= {int(key[1:]): value for key, value in fields.items()}
    return segment("FT1", values)


def segment(segment_id: str, fields: dict[int, str]) -> str:
    return "|".join([segment_id, *(fields.get(n, "") for n in range(1, max(fields) + 1))])


def dft(*ft1s: str, pv1: str | None = None, msh4: str = "MAIN") -> bytes:
    if pv1 is None:
        pv1 = segment("PV1", {1: "1", 2: "O", 3: "OR^01^A^MAINCAMPUS", 19: VISIT})
    pid = segment("PID", {1: "1", 3: f"{MRN}^^^H^MR", 5: NAME, 7: BIRTH, 8: "F", 18: ACCOUNT})
    segments = [
        f"MSH|^~\\&|EPIC|{msh4}|SUTURE|HUB|20240315100000||DFT^P03^DFT_P03|MSG1|P|2.5",
        "EVN|P03|20240315100000",
        pid,
        *([pv1] if pv1 else []),
        *(ft1s or (ft1(),)),
    ]
    return ("\r".join(segments) + "\r").encode()


def token(value: str) -> str:
    return f"tok({value})"


def decode(data: bytes) -> DecodedCharges:
    decoded = decode_message(data, tokenize=token, zone=ZoneInfo("America/New_York"))
    assert isinstance(decoded, DecodedCharges)
    return decoded


def refusal(data: bytes) -> Hl7DecodeError:
    with pytest.raises(Hl7DecodeError) as caught:
        decode(data)
    return caught.value


def test_each_ft1_becomes_one_charge_with_tokens_instead_of_identifiers() -> None:
    decoded = decode(dft(ft1(), ft1(f1="2", f6="CD", f7="27200456", f10="2", f11="-30.50")))

    assert (decoded.encounter_token, decoded.account_token) == (f"tok({VISIT})", f"tok({ACCOUNT})")
    assert (decoded.facility_code, decoded.location_facility) == ("MAIN", "MAINCAMPUS")
    assert [
        (c.cdm_code, c.transaction_type, c.quantity, c.amount, c.department_id, c.hcpcs)
        for c in decoded.charges
    ] == [
        ("27800123", ChargeType.CHARGE, Decimal(1), Decimal("4200.00"), "OR", "C1776"),
        ("27200456", ChargeType.CREDIT, Decimal(2), Decimal("-30.50"), "OR", "C1776"),
    ]
    assert {c.service_at for c in decoded.charges} == {datetime(2024, 3, 15, 13, 30, tzinfo=UTC)}


def test_charge_ids_are_stable_across_resends_and_distinct_per_ft1() -> None:
    first = [c.id for c in decode(dft(ft1(), ft1(f1="2"))).charges]
    again = [c.id for c in decode(dft(ft1(), ft1(f1="2"))).charges]

    assert first == again
    assert len(set(first)) == 2


def test_transaction_id_keys_the_charge_when_given() -> None:
    one = decode(dft(ft1(f2="TX1"))).charges[0].id
    other_message = decode(dft(ft1(f2="TX1")).replace(b"MSG1", b"MSG2")).charges[0].id

    assert one == other_message


def test_unit_amount_times_quantity_when_no_extended_amount() -> None:
    line = decode(dft(ft1(f10="3", f11="", f12="12.5"))).lines[0]

    assert (line.charge.amount, line.unit_amount, line.priced) == (
        Decimal("37.5"),
        Decimal("12.5"),
        True,
    )


@pytest.mark.parametrize(
    ("sent", "quantity"),
    [("0", Decimal(0)), ("00", Decimal(0)), ("0.0", Decimal("0.0")), ("150", Decimal(150))],
)
def test_a_quantity_of_zero_stays_zero(sent: str, quantity: Decimal) -> None:
    line = decode(dft(ft1(f10=sent, f11="", f12="12.5"))).lines[0]

    assert line.charge.quantity == quantity
    assert line.charge.amount == Decimal("12.5") * quantity


def test_unpriced_line_has_zero_amount_and_is_flagged() -> None:
    line = decode(dft(ft1(f10="", f11=""))).lines[0]

    assert (line.charge.quantity, line.charge.amount, line.priced) == (
        Decimal(1),
        Decimal(0),
        False,
    )


def test_modifiers_and_non_cpt_procedure_codes() -> None:
    lines = decode(dft(ft1(f25="0SRC0JZ^^I10P", f26="RT~59^^^~"), ft1(f25="", f26=""))).lines

    assert [
        (line.charge.hcpcs, line.procedure_code, line.procedure_system, line.modifiers)
        for line in lines
    ] == [
        (None, "0SRC0JZ", "I10P", ("RT", "59")),
        (None, "", "", ()),
    ]


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2024", datetime(2024, 1, 1, 5, tzinfo=UTC)),
        ("202403151230", datetime(2024, 3, 15, 16, 30, tzinfo=UTC)),
        ("20240315123045.12+0100", datetime(2024, 3, 15, 11, 30, 45, 120000, tzinfo=UTC)),
        ("20240315-0600", datetime(2024, 3, 15, 6, tzinfo=UTC)),
        ("20240315123045^S", datetime(2024, 3, 15, 16, 30, 45, tzinfo=UTC)),
    ],
)
def test_hl7_times_become_utc_with_the_interface_zone_as_default(
    stamp: str, expected: datetime
) -> None:
    assert decode(dft(ft1(f4=stamp))).charges[0].service_at == expected


def test_account_stands_for_the_encounter_without_pv1() -> None:
    decoded = decode(dft(pv1=""))

    assert (decoded.encounter_token, decoded.account_token) == (
        f"tok({ACCOUNT})",
        f"tok({ACCOUNT})",
    )


@pytest.mark.parametrize(
    ("data", "expected", "code"),
    [
        (dft(ft1(f10="x2")), "FT1 #1, FT1-10: quantity 'x2' is not a number", ErrorCode.DATA_TYPE),
        (
            dft(ft1(), ft1(f1="2", f11="1e5")),
            "FT1 #2, FT1-11: extended amount '1e5' is not a number",
            ErrorCode.DATA_TYPE,
        ),
        (
            dft(ft1(f10="2.00001")),
            "FT1 #1, FT1-10: quantity has more than 4 decimal places",
            ErrorCode.DATA_TYPE,
        ),
        (
            dft(ft1(f11="123456789012345")),
            "FT1 #1, FT1-11: extended amount must be less than 10^14",
            ErrorCode.DATA_TYPE,
        ),
        (
            dft(ft1(f6="PY")),
            "FT1 #1, FT1-6: transaction type 'PY' is not a charge (CG) or a credit (CD)",
            ErrorCode.TABLE_VALUE_NOT_FOUND,
        ),
        (
            dft(ft1(f7="")),
            "FT1 #1, FT1-7: transaction code (CDM) is empty",
            ErrorCode.REQUIRED_FIELD_MISSING,
        ),
        (
            dft(ft1(f4="")),
            "FT1 #1, FT1-4: transaction date is empty",
            ErrorCode.REQUIRED_FIELD_MISSING,
        ),
        (
            dft(ft1(f4="20241345")),
            "FT1 #1, FT1-4: not an HL7 time (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ])",
            ErrorCode.DATA_TYPE,
        ),
        (
            dft(ft1(f25="C17^^HCPCS")),
            "FT1 #1, FT1-25.1: procedure code 'C17' is not a CPT/HCPCS code "
            "(five letters or digits)",
            ErrorCode.DATA_TYPE,
        ),
        (
            dft(ft1()).replace(ACCOUNT.encode(), b"").replace(VISIT.encode(), b""),
            "PV1 #1, PV1-19: no visit number, and no PID-18 account number",
            ErrorCode.REQUIRED_FIELD_MISSING,
        ),
        (
            dft(ft1(), msh4="", pv1="PV1|1|O"),
            "MSH: no sending facility in MSH-4 and none in PV1-3.4",
            ErrorCode.SEGMENT_SEQUENCE,
        ),
    ],
)
def test_bad_content_is_an_error_naming_segment_field_and_reason(
    data: bytes, expected: str, code: ErrorCode
) -> None:
    error = refusal(data)

    assert (str(error), error.ack_code, error.code) == (expected, "AE", code)


def test_unit_amount_times_quantity_is_kept_to_four_places_half_up() -> None:
    (line,) = decode(dft(ft1(f10="2.5", f11="", f12="1.2345"))).lines

    assert (str(line.charge.quantity), str(line.charge.amount)) == ("2.5", "3.0863")


def test_trailing_zeros_beyond_four_places_are_the_same_number() -> None:
    (line,) = decode(dft(ft1(f11="4200.000000"))).lines

    assert line.charge.amount == Decimal(4200)


def test_a_dft_without_ft1_is_an_error() -> None:
    data = b"\r".join(line for line in dft().split(b"\r") if not line.startswith(b"FT1"))

    assert str(refusal(data)) == "FT1: a DFT^P03 needs at least one FT1 segment"


@pytest.mark.parametrize("segment_id", ["PID", "PV1"])
def test_a_second_patient_or_visit_in_one_dft_is_an_error_naming_it(segment_id: str) -> None:
    lines = dft().split(b"\r")
    again = next(line for line in lines if line.startswith(segment_id.encode()))
    other = again[:4] + again[4:].replace(b"1", b"2")  # another patient or visit
    data = b"\r".join([*lines[:-2], other, *lines[-2:]])

    error = refusal(data)

    assert (str(error), error.ack_code, error.code) == (
        f"{segment_id} #2: a DFT^P03 has one {segment_id} (one patient, one visit): the charges "
        "would go to the first; two messages in one?",
        "AE",
        ErrorCode.SEGMENT_SEQUENCE,
    )


def test_two_lines_with_one_transaction_id_are_an_error_not_one_charge() -> None:
    data = dft(ft1(f2="TX-9"), ft1(f1="2", f2="TX-9", f7="27800456^SCREW^CDM", f11="310.00"))

    error = refusal(data)

    assert (str(error), error.ack_code, error.code) == (
        "FT1 #2, FT1-2: the same transaction id as FT1 #1, both CG: each line needs its own, "
        "or one charge would replace the other",
        "AE",
        ErrorCode.DUPLICATE_KEY,
    )


def test_a_charge_and_its_credit_may_share_a_transaction_id() -> None:
    data = dft(ft1(f2="TX-9"), ft1(f1="2", f2="TX-9", f6="CD"))

    charges = decode(data).charges

    assert [c.transaction_type for c in charges] == [ChargeType.CHARGE, ChargeType.CREDIT]


PHI = [MRN, "SECRETNAME", ACCOUNT, VISIT, BIRTH, "20240315"]


@settings(max_examples=300)
@given(
    st.integers(1, 26),
    st.sampled_from(["x", "1e5", "", "ZZ", "99999999999", "2024", "\\F\\", "a^b", "-", "CG~CD"]),
)
def test_decode_errors_never_contain_patient_data(number: int, value: str) -> None:
    data = dft(ft1(**{f"f{number}": value}), pv1=segment("PV1", {19: f"{VISIT}^^^{MRN}"}))
    try:
        decode(data)
    except Hl7DecodeError as error:
        text = str(error)
    else:
        text = ""
    assert not [phi for phi in PHI if phi in text]


def test_line_ids_hash_facility_and_application_apart_even_when_escapes_join_them() -> None:
    def ids(application: str, facility: str) -> list[str]:
        line = ft1(f2="TX1")
        data = dft(line, msh4=facility).replace(b"|EPIC|", f"|{application}|".encode(), 1)
        return [line.charge.id for line in decode(data).lines]

    # "A|B" + "C" and "A" + "B|C" once unescaped: the same text joined, two senders
    first, second = ids("C", "A\\F\\B"), ids("B\\F\\C", "A")
    assert first == [ChargeIds("A|B", "C", "FT1-2")("TX1")]
    assert second == [ChargeIds("A", "B|C", "FT1-2")("TX1")]
    assert first != second
