"""Header checks, dispatch by message type, the ADT/BAR and MFN decoders, and the ACK."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from suture.formats.hl7v2 import (
    CdmEntry,
    CdmPrice,
    ChargeMaster,
    EncounterContext,
    ErrorCode,
    Hl7DecodeError,
    build_ack,
    decode_message,
    peek_header,
)

NOW = datetime(2024, 6, 1, 8, 30, tzinfo=UTC)


def msh(message_type: str = "ADT^A01", processing: str = "P", version: str = "2.5") -> str:
    return (
        f"MSH|^~\\&|ADT1|FAC1|HUB|HUB2|20240601083000||{message_type}|CTRL9|{processing}|{version}"
    )


def seg(segment_id: str, fields: dict[int, str]) -> str:
    return "|".join([segment_id, *(fields.get(n, "") for n in range(1, max(fields) + 1))])


def decode(*segments: str) -> object:
    return decode_message("\r".join(segments), tokenize=lambda v: f"tok({v})")


def refusal(*segments: str) -> Hl7DecodeError:
    with pytest.raises(Hl7DecodeError) as caught:
        decode(*segments)
    return caught.value


@pytest.mark.parametrize(
    ("header", "expected", "code"),
    [
        (msh(message_type=""), "MSH-9: message type is empty", ErrorCode.REQUIRED_FIELD_MISSING),
        (
            msh().replace("CTRL9", ""),
            "MSH-10: message control id is empty",
            ErrorCode.REQUIRED_FIELD_MISSING,
        ),
        (
            msh(processing="X"),
            "MSH-11: processing id 'X' is not P, D or T (HL7 table 0103)",
            ErrorCode.UNSUPPORTED_PROCESSING_ID,
        ),
        (
            msh(processing="P^Q"),
            "MSH-11: processing mode 'Q' is not A, R, I or T (HL7 table 0207)",
            ErrorCode.UNSUPPORTED_PROCESSING_ID,
        ),
        (
            msh(version="3.0"),
            "MSH-12: version '3.0' is not an HL7 v2 version",
            ErrorCode.UNSUPPORTED_VERSION_ID,
        ),
        (
            msh(message_type="ORU^R01"),
            "MSH-9: unsupported message type ORU^R01",
            ErrorCode.UNSUPPORTED_MESSAGE_TYPE,
        ),
        (
            msh(message_type="DFT^P11"),
            "MSH-9: unsupported message type DFT^P11",
            ErrorCode.UNSUPPORTED_EVENT_CODE,
        ),
    ],
)
def test_header_problems_and_unsupported_types_are_rejects(
    header: str, expected: str, code: ErrorCode
) -> None:
    error = refusal(header, "PID|1")

    assert (str(error), error.ack_code, error.code) == (expected, "AR", code)


def test_adt_gives_encounter_context_with_tokens_only() -> None:
    decoded = decode(
        msh(),
        seg("PID", {3: "MRN1", 5: "DOE^JANE", 18: "ACC1"}),
        seg("PV1", {2: "I", 3: "4W^12^B^NORTH", 19: "V77", 44: "202405311200", 45: ""}),
    )

    assert isinstance(decoded, EncounterContext)
    assert (decoded.account_token, decoded.encounter_token, decoded.patient_class) == (
        "tok(ACC1)",
        "tok(V77)",
        "I",
    )
    assert (decoded.facility_code, decoded.location_facility) == ("FAC1", "NORTH")
    assert (decoded.admitted_at, decoded.discharged_at) == (
        datetime(2024, 5, 31, 12, tzinfo=UTC),
        None,
    )


def test_bar_without_account_or_visit_is_an_error_at_pid_18() -> None:
    error = refusal(msh("BAR^P01"), seg("PID", {3: "MRN1"}), seg("PV1", {2: "I"}))

    assert (str(error), error.ack_code) == (
        "PID #1, PID-18: no account number, and no PV1-19 visit number",
        "AE",
    )


@pytest.mark.parametrize("message_type", ["BAR^P01", "BAR^P05", "ADT^A08"])
def test_a_second_visit_or_patient_is_an_error_not_dropped(message_type: str) -> None:
    error = refusal(
        msh(message_type),
        seg("PID", {3: "MRN1", 18: "ACC1"}),
        seg("PV1", {2: "I", 19: "V1"}),
        seg("PV1", {2: "O", 19: "V2"}),
    )

    assert (error.ack_code, error.segment, error.occurrence) == ("AE", "PV1", 2)
    assert "one PV1" in str(error)
    assert "V2" not in str(error)  # a visit number is PHI


def test_a_second_patient_is_an_error_not_dropped() -> None:
    error = refusal(
        msh("BAR^P01"), seg("PID", {18: "ACC1"}), seg("PV1", {19: "V1"}), seg("PID", {18: "ACC2"})
    )

    assert (error.ack_code, error.segment, error.occurrence) == ("AE", "PID", 2)


def test_mfn_m04_gives_charge_master_entries() -> None:
    decoded = decode(
        msh("MFN^M04"),
        "MFI|CDM||UPD|||NE",
        "MFE|MAD|1|20240601|27800123^KNEE IMPLANT^CDM|CE",
        seg(
            "CDM", {1: "27800123", 3: "KNEE IMPLANT SYSTEM", 7: "27447^^CPT4~C1776^^HCPCS", 8: "A"}
        ),
        seg(
            "PRC",
            {1: "27800123", 2: "MAIN~NORTH", 3: "OR", 5: "4200.00&USD^UP", 14: "278^IMPLANTS^UB04"},
        ),
        "MFE|MDC|2||27200456^GAUZE^CDM|CE",
        seg("CDM", {1: "27200456", 3: "GAUZE"}),
    )

    assert isinstance(decoded, ChargeMaster)
    assert decoded.entries == (
        CdmEntry(
            event="MAD",
            cdm_code="27800123",
            description="KNEE IMPLANT SYSTEM",
            hcpcs="27447",
            active=True,
            prices=(
                CdmPrice(
                    price=Decimal("4200.00"),
                    revenue_code="0278",
                    facility_codes=("MAIN", "NORTH"),
                    department_codes=("OR",),
                ),
            ),
            effective_at=datetime(2024, 6, 1, tzinfo=UTC),
        ),
        CdmEntry(event="MDC", cdm_code="27200456", description="GAUZE", hcpcs=None, active=False),
    )
    assert (decoded.entries[0].price, decoded.entries[0].revenue_code) == (
        Decimal("4200.00"),
        "0278",
    )


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        (["MFI|STF", "MFE|MAD|1||X"], "MFI #1, MFI-1: master file 'STF' is not CDM"),
        (
            ["MFI|CDM", "MFE|MXX|1||X"],
            "MFE #1, MFE-1: record-level event 'MXX' is not MAD, MUP, MDL, MDC or MAC "
            "(HL7 table 0180)",
        ),
        (
            ["MFI|CDM", "MFE|MAD|1||X", "PRC|X||||12,50"],
            "PRC #1, PRC-5.1: price '12,50' is not a number",
        ),
        (
            ["MFI|CDM", "MFE|MAD|1||X", "PRC|X" + "|" * 13 + "IMPL^^UB04"],
            "PRC #1, PRC-14: revenue code 'IMPL' is not three or four digits",
        ),
        (["MFI|CDM"], "MFE: a master file notification needs at least one MFE"),
        (
            ["MFI|CDM", "MFE|MAD|1||X", "CDM|" + "C" * 257],
            "CDM #1, CDM-1: the CDM code is 257 characters long; a code is at most 256",
        ),
        (
            ["MFI|CDM", "MFE|MAD|1||" + "C" * 300],
            "MFE #1, MFE-4: the CDM code is 300 characters long; a code is at most 256",
        ),
    ],
)
def test_charge_master_errors_name_the_field(segments: list[str], expected: str) -> None:
    assert str(refusal(msh("MFN^M04"), *segments)) == expected


def test_a_staff_id_longer_than_any_code_is_an_error_naming_stf_1() -> None:
    error = refusal(msh("MFN^M02"), "MFI|PRA||UPD", "MFE|MUP|||1", "STF|" + "S" * 9000 + "||DOE")

    assert (str(error), error.ack_code) == (
        "STF #1, STF-1: the staff id is 9000 characters long; a code is at most 256",
        "AE",
    )


def test_ack_accepts_with_swapped_routing_and_echoed_control_id() -> None:
    header = peek_header(msh("DFT^P03"))

    ack = build_ack(header, "AA", None, "A1", NOW)

    assert (
        ack
        == b"MSH|^~\\&|HUB|HUB2|ADT1|FAC1|20240601083000+0000||ACK^P03^ACK|A1|P|2.5\rMSA|AA|CTRL9\r"
    )


def test_ack_error_locates_the_field_in_err_2_and_explains_in_err_8() -> None:
    data = "\r".join(
        [
            msh("DFT^P03"),
            "PID|1" + "|" * 17 + "A",
            "FT1|1|||2024|||CG|X|||1",
            "FT1|2|||2024||CG|X|||one",
        ]
    )
    with pytest.raises(Hl7DecodeError) as caught:
        decode_message(data, tokenize=str)

    segments = build_ack(peek_header(data), "AE", caught.value, "A2", NOW).decode().split("\r")

    reason = "FT1 #1, FT1-6: transaction type is empty"
    assert segments[1:] == [
        f"MSA|AE|CTRL9|{reason}",
        f"ERR||FT1^1^6^1|103^Table value not found^HL70357|E||||{reason}",
        "",
    ]


def test_ack_escapes_delimiters_in_the_reason_and_works_without_a_header() -> None:
    error = Hl7DecodeError("a|b^c", segment="ZZ1", occurrence=2, field_number=3, component=2)

    ack = build_ack(None, "AR", error, "A3", NOW).decode().split("\r")

    assert ack == [
        "MSH|^~\\&|||||20240601083000+0000||ACK|A3|P|2.5",
        "MSA|AR||ZZ1 #2, ZZ1-3.2: a\\F\\b\\S\\c",
        "ERR||ZZ1^2^3^1^2|207^Application internal error^HL70357|E||||"
        "ZZ1 #2, ZZ1-3.2: a\\F\\b\\S\\c",
        "",
    ]


def test_peek_header_reads_the_msh_of_a_message_that_does_not_tokenize() -> None:
    data = (msh() + "\rpid|broken").encode()

    header = peek_header(data)

    assert header is not None
    assert (header.control_id, header.type_code) == ("CTRL9", "ADT^A01")
    assert peek_header(b"garbage") is None
