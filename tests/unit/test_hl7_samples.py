"""Every public HL7 v2 sample (``../shared/samples/hl7v2``) decodes to what a person reading it
expects, or fails with the clear error it deserves (issue 4, Done means).

- The mieweb DFT^P03 file holds two messages (LF separators, a blank line between them, stray
  spaces in FT1-16). Their FT1s are well formed, but neither message has a PV1 and PID-18 is
  empty (the 999999999 is PID-19, an SSN), so no encounter or account can be named: each is
  refused with ``AE`` at PID-18. With a visit number added, the FT1s decode to the charges below.
- The Mirth MFN^M02 (v2.3.1, 8859/1, French) decodes to one staff record.
- The health-standards BAR^P01 has ``BAR^A01`` in MSH-11: refused with ``AR`` at MSH-11.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from suture.domain.revenue import Charge, ChargeType
from suture.formats.hl7v2 import (
    ChargeLine,
    DecodedCharges,
    Disposition,
    ErrorCode,
    Hl7DecodeError,
    StaffMaster,
    StaffRecord,
    build_ack,
    decode_message,
    peek_header,
    split_batch,
)

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "hl7v2"
DFT = SAMPLES / "dft_p03_mieweb_node-hl7-complete.hl7"
MFN = SAMPLES / "mfn_m02_mirthproject_node-hl7-complete.hl7"
BAR = SAMPLES / "bar_p01_health-standards_node-hl7-complete.hl7"
CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def token(value: str) -> str:
    return f"tok:{len(value)}"


def decode(data: bytes) -> object:
    return decode_message(data, tokenize=token, zone=CHICAGO)


def test_every_sample_file_is_covered_here() -> None:
    assert sorted(path.name for path in SAMPLES.glob("*")) == sorted(
        path.name for path in (DFT, MFN, BAR)
    )


def test_dft_file_splits_into_its_two_messages() -> None:
    batch = split_batch(DFT.read_bytes())

    assert [message.split(b"\r")[0].split(b"|")[9] for message in batch.messages] == [
        b"DSD1184185250",
        b"DSD1184189125",
    ]
    assert [message.count(b"\r") for message in batch.messages] == [7, 7]


@pytest.mark.parametrize("index", [0, 1])
def test_dft_without_visit_or_account_is_refused_at_pid_18(index: int) -> None:
    message = split_batch(DFT.read_bytes()).messages[index]

    with pytest.raises(Hl7DecodeError) as caught:
        decode(message)

    error = caught.value
    assert (str(error), error.disposition, error.code) == (
        "PID #1, PID-18: no account number, and no PV1 segment with a PV1-19 visit number",
        Disposition.ERROR,
        ErrorCode.REQUIRED_FIELD_MISSING,
    )


def with_visit(message: bytes, visit: str) -> bytes:
    """The message with a PV1 carrying ``visit`` in PV1-19, after its PID."""
    lines = message.split(b"\r")
    at = next(i for i, line in enumerate(lines) if line.startswith(b"PID"))
    pv1 = b"PV1|1|O|||||||||||||||||" + visit.encode()
    return b"\r".join([*lines[: at + 1], pv1, *lines[at + 1 :]])


def test_dft_with_a_visit_number_decodes_its_ft1_to_a_charge() -> None:
    first, second = split_batch(DFT.read_bytes()).messages

    decoded = [decode(with_visit(first, "V1")), decode(with_visit(second, "V2"))]

    assert all(isinstance(d, DecodedCharges) for d in decoded)
    lines = [line for d in decoded if isinstance(d, DecodedCharges) for line in d.lines]
    assert [(line.charge.cdm_code, line.charge.hcpcs, line.modifiers) for line in lines] == [
        ("73630", "73630", ("RT", "GA")),
        ("76775", "76775", ()),
    ]
    assert lines[0] == ChargeLine(
        charge=Charge(
            id=lines[0].charge.id,
            facility_id="SENDING_FAC",
            encounter_token="tok:2",
            cdm_code="73630",
            quantity=Decimal(1),
            amount=Decimal(0),
            service_at=datetime(2008, 5, 28, 16, 47, tzinfo=UTC),
            transaction_type=ChargeType.CHARGE,
            account_token=None,
            department_id=None,
            hcpcs="73630",
            source_system="rcm",
        ),
        set_id="1",
        transaction_id="",
        priced=False,
        unit_amount=None,
        procedure_code="73630",
        procedure_system="",
        modifiers=("RT", "GA"),
    )
    assert lines[1].charge.service_at == datetime(2010, 2, 12, 6, 0, tzinfo=UTC)


def test_mfn_m02_decodes_to_one_staff_record() -> None:
    decoded = decode(MFN.read_bytes())

    assert isinstance(decoded, StaffMaster)
    assert decoded.header.charset == "8859/1"
    assert decoded.header.version == "2.3.1"
    assert decoded.records == (
        StaffRecord(
            event="MUP",
            staff_id="15101",
            family_name="DU JARDIN",
            given_name="ETIENNE",
            prefix="Docteur",
            staff_type="C",
            active=True,
            job_title="MED",
            practitioner_group="MED",
            specialty="",
            identifiers=(("INAMI", "18691207340"),),
            effective_at=None,
        ),
    )


def test_bar_with_a_message_type_in_msh_11_is_rejected_at_msh_11() -> None:
    with pytest.raises(Hl7DecodeError) as caught:
        decode(BAR.read_bytes())

    error = caught.value
    assert (str(error), error.ack_code, error.code) == (
        "MSH-11: processing id 'BAR' is not P, D or T (HL7 table 0103)",
        "AR",
        ErrorCode.UNSUPPORTED_PROCESSING_ID,
    )


def test_bar_rejection_acks_ar_echoing_its_control_id() -> None:
    data = BAR.read_bytes()
    with pytest.raises(Hl7DecodeError) as caught:
        decode(data)

    ack = build_ack(peek_header(data), "AR", caught.value, "ACK0001", NOW)

    assert ack.decode().split("\r") == [
        "MSH|^~\\&|FIN|5|BRACK|CHA|20240501120000+0000||ACK^P01^ACK|ACK0001|P|2.3",
        "MSA|AR|0000000001|MSH-11: processing id 'BAR' is not P, D or T (HL7 table 0103)",
        "ERR||MSH^1^11^1|202^Unsupported processing id^HL70357|E||||"
        "MSH-11: processing id 'BAR' is not P, D or T (HL7 table 0103)",
        "",
    ]


def test_no_sample_error_quotes_patient_data() -> None:
    phi = [b"10476", b"Duck", b"Daffy", b"999999999", b"JONES", b"1546740", b"3000222452"]
    texts: list[str] = []
    for path in (DFT, BAR):
        for message in split_batch(path.read_bytes()).messages:
            with pytest.raises(Hl7DecodeError) as caught:
                decode(message)
            texts.append(str(caught.value))
    assert [t for t in texts if any(value.decode() in t for value in phi)] == []
