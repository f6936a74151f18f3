"""MFN^M02 → staff and practitioner reference records (HL7 v2.5.1 §8.6: MFE, STF, PRA).

Staff are not patients: their names and professional identifiers are reference data the hub
stores to show who documented a charge. Per MFE group: the staff id (STF-1, else MFE-4), name
(STF-3: family, given, prefix), staff type (STF-4), active flag (STF-7; an MDC event
deactivates), job title (STF-18), identifiers (STF-2 by CX type, PRA-6 by PLN type such as the
Belgian ``INAMI``), practitioner group (PRA-2) and specialty (PRA-5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from suture.formats.hl7v2.errors import missing_segment
from suture.formats.hl7v2.header import MessageHeader
from suture.formats.hl7v2.identifiers import identifier
from suture.formats.hl7v2.master_files import (
    active_flag,
    effective_time,
    groups,
    record_event,
    record_key,
)
from suture.formats.hl7v2.tokenizer import Message, Segment


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """One staff member or practitioner and what the MFE does to the record."""

    event: str
    staff_id: str
    family_name: str
    given_name: str
    prefix: str = ""
    staff_type: str = ""
    active: bool = True
    job_title: str = ""
    practitioner_group: str = ""
    specialty: str = ""
    identifiers: tuple[tuple[str, str], ...] = ()
    effective_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StaffMaster:
    """An MFN^M02: its header and its records in message order."""

    header: MessageHeader
    records: tuple[StaffRecord, ...]


def decode_staff(message: Message, header: MessageHeader, *, zone: tzinfo) -> StaffMaster:
    """The records of a valid MFN^M02; field-level ``AE`` errors otherwise."""
    records: list[StaffRecord] = []
    for group in groups(message, frozenset({"STF", "PRA"})):
        event = record_event(group.mfe)
        stf = group.first("STF")
        if stf is None:
            raise missing_segment("STF", "each MFE of a staff master file needs an STF segment")
        staff_id = record_key(stf, 1, group.mfe, 4, "staff id")
        pra = group.first("PRA")
        records.append(
            StaffRecord(
                event=event,
                staff_id=staff_id,
                family_name=stf.value(3).strip(),
                given_name=stf.value(3, 2).strip(),
                prefix=stf.value(3, 5).strip(),
                staff_type=identifier(stf.value(4)),
                active=event != "MDC" and active_flag(stf, 7),
                job_title=stf.value(18).strip(),
                practitioner_group=identifier(pra.value(2)) if pra is not None else "",
                specialty=identifier(pra.value(5)) if pra is not None else "",
                identifiers=_identifiers(stf, pra),
                effective_at=effective_time(group.mfe, 3, zone),
            )
        )
    return StaffMaster(header=header, records=tuple(records))


def _identifiers(stf: Segment, pra: Segment | None) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for segment, number, type_component in ((stf, 2, 5), (pra, 6, 2)):
        if segment is None:
            continue
        for repetition in range(1, len(segment.repetitions(number)) + 1):
            value = identifier(segment.value(number, 1, 1, repetition))
            if value:
                kind = identifier(segment.value(number, type_component, 1, repetition))
                found.append((kind, value))
    return tuple(found)
