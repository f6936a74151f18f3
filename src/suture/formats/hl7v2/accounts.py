"""ADT and BAR^P01/P05 → the account and encounter context of a patient visit (tokens only).

Charges and usage name an encounter by token; these messages tell the hub which account an
encounter bills to, where and when it happened, and its patient class. Nothing that identifies
the patient leaves the codec: PID-18 and PV1-19 come back as the caller's tokens, and the rest
of PID (name, MRN, birth date, address) is never read (DESIGN.md §6).

One patient and one visit a message: a second PID, or a second PV1 (a BAR^P01/P05 may carry
several visit groups), is refused (``AE``, the ERR naming the segment and its occurrence) rather
than read as the first and the rest dropped unseen; the sender sends each visit in a message of
its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from suture.formats.hl7v2.datatypes import parse_time
from suture.formats.hl7v2.errors import (
    ErrorCode,
    Hl7DecodeError,
    field_error,
    missing_segment,
    repeated_segment,
)
from suture.formats.hl7v2.header import MessageHeader
from suture.formats.hl7v2.identifiers import Tokenize, identifier, patient_tokens
from suture.formats.hl7v2.tokenizer import Message, Segment


@dataclass(frozen=True, slots=True)
class EncounterContext:
    """Account and encounter of an ADT or BAR message; at least one token is present."""

    header: MessageHeader
    facility_code: str
    location_facility: str
    account_token: str | None
    encounter_token: str | None
    patient_class: str
    admitted_at: datetime | None = None
    discharged_at: datetime | None = None


def decode_context(
    message: Message, header: MessageHeader, *, tokenize: Tokenize, zone: tzinfo
) -> EncounterContext:
    """The context of a valid ADT/BAR; ``AE`` when it names neither account nor visit."""
    pid = message.segment("PID")
    if pid is None:
        raise missing_segment("PID", f"a {header.type_code} needs a PID segment")
    for segment_id in ("PID", "PV1"):
        repeated = message.all(segment_id)
        if len(repeated) > 1:
            raise _repeated(repeated[1], header)
    tokens = patient_tokens(message, tokenize)
    if tokens.account_token is None and tokens.encounter_token is None:
        raise field_error(
            pid,
            18,
            "no account number, and no PV1-19 visit number",
            ErrorCode.REQUIRED_FIELD_MISSING,
        )
    pv1 = message.segment("PV1")
    return EncounterContext(
        header=header,
        facility_code=header.sending_facility or tokens.location_facility,
        location_facility=tokens.location_facility,
        account_token=tokens.account_token,
        encounter_token=tokens.encounter_token,
        patient_class=tokens.patient_class,
        admitted_at=_time(pv1, 44, zone) if pv1 is not None else None,
        discharged_at=_time(pv1, 45, zone) if pv1 is not None else None,
    )


def _repeated(segment: Segment, header: MessageHeader) -> Hl7DecodeError:
    """The error for a second PID or PV1 (see the module docstring); PHI-free."""
    what = "patient" if segment.id == "PID" else "visit"
    return repeated_segment(
        segment,
        f"a {header.type_code} is read with one {segment.id} (one {what}): send each {what} in "
        "a message of its own",
    )


def _time(pv1: Segment, number: int, zone: tzinfo) -> datetime | None:
    text = identifier(pv1.value(number))
    if not text:
        return None
    found = parse_time(text, zone)
    if found is None:  # visit dates are PHI: not quoted
        raise field_error(pv1, number, "not an HL7 time (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ])")
    return found
