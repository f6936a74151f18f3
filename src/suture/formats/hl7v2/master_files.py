"""What the master-file decoders share: MFI and the MFE groups (HL7 v2.5.1 §8.5).

An MFN carries one MFI naming the master file, then one group per record: MFE (what happens to
the record: add, update, delete, deactivate, reactivate) followed by the segments that describe
it (CDM and PRC for the charge master, STF and PRA for staff).

A record's key (the CDM code, the staff id) is at most 256 characters (:func:`record_key`): a
key of thousands is a broken feed, and stored it would break PostgreSQL's index on it (a key
row holds at most 2,704 bytes), leaving the message neither applied nor failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from suture.formats.hl7v2.datatypes import parse_time
from suture.formats.hl7v2.errors import ErrorCode, field_error, missing_segment
from suture.formats.hl7v2.identifiers import identifier
from suture.formats.hl7v2.tokenizer import Message, Segment

#: HL7 table 0180, record-level event codes.
RECORD_EVENTS = frozenset({"MAD", "MDL", "MUP", "MDC", "MAC"})
_MAX_QUOTED = 12
MAX_KEY = 256


@dataclass(frozen=True, slots=True)
class Group:
    """One MFE and the segments after it, up to the next MFE."""

    mfe: Segment
    segments: tuple[Segment, ...]

    def first(self, segment_id: str) -> Segment | None:
        return next((s for s in self.segments if s.id == segment_id), None)

    def all(self, segment_id: str) -> list[Segment]:
        return [s for s in self.segments if s.id == segment_id]


def record_key(segment: Segment | None, number: int, mfe: Segment, fallback: int, what: str) -> str:
    """A record's key: ``segment``'s field ``number``, else the MFE's field ``fallback``;
    ``AE`` naming the field it came from when it is empty or longer than :data:`MAX_KEY`."""
    value = identifier(segment.value(number) if segment is not None else "")
    where, field = (segment, number) if segment is not None and value else (mfe, fallback)
    if not value:
        value = identifier(mfe.value(fallback))
    if not value:
        where, field = (segment, number) if segment is not None else (mfe, fallback)
        raise field_error(where, field, f"{what} is empty", ErrorCode.REQUIRED_FIELD_MISSING)
    if len(value) > MAX_KEY:
        reason = f"the {what} is {len(value)} characters long; a code is at most {MAX_KEY}"
        raise field_error(where, field, reason)
    return value


def groups(message: Message, files: frozenset[str]) -> list[Group]:
    """The MFE groups of a message whose MFI-1 names one of ``files``."""
    mfi = message.segment("MFI")
    if mfi is None:
        raise missing_segment("MFI", "a master file notification needs an MFI segment")
    file_id = identifier(mfi.value(1)).upper()
    if file_id not in files:
        shown = repr(file_id) if file_id.isalnum() and len(file_id) <= _MAX_QUOTED else "empty"
        raise field_error(
            mfi,
            1,
            f"master file {shown} is not {' or '.join(sorted(files))}",
            ErrorCode.TABLE_VALUE_NOT_FOUND,
        )
    found: list[Group] = []
    current: Segment | None = None
    members: list[Segment] = []
    for segment in message.segments:
        if segment.id == "MFE":
            if current is not None:
                found.append(Group(current, tuple(members)))
            current, members = segment, []
        elif current is not None:
            members.append(segment)
    if current is not None:
        found.append(Group(current, tuple(members)))
    if not found:
        raise missing_segment("MFE", "a master file notification needs at least one MFE")
    return found


def record_event(mfe: Segment) -> str:
    """MFE-1, checked against table 0180."""
    event = identifier(mfe.value(1)).upper()
    if event not in RECORD_EVENTS:
        shown = repr(event) if event.isalnum() and len(event) <= _MAX_QUOTED else "empty"
        raise field_error(
            mfe,
            1,
            f"record-level event {shown} is not MAD, MUP, MDL, MDC or MAC (HL7 table 0180)",
            ErrorCode.TABLE_VALUE_NOT_FOUND,
        )
    return event


def effective_time(segment: Segment, number: int, zone: tzinfo) -> datetime | None:
    """An optional TS field; a value that is not a time is an error (master data is not PHI)."""
    text = identifier(segment.value(number))
    if not text:
        return None
    found = parse_time(text, zone)
    if found is None:
        raise field_error(segment, number, f"{text[:24]!r} is not an HL7 time")
    return found


def active_flag(segment: Segment, number: int) -> bool:
    """An A/I active-inactive flag (HL7 table 0183); empty means active."""
    flag = identifier(segment.value(number)).upper()
    if flag not in {"", "A", "I"}:
        shown = repr(flag) if len(flag) <= _MAX_QUOTED else "(long)"
        raise field_error(
            segment,
            number,
            f"flag {shown} is not A or I (HL7 table 0183)",
            ErrorCode.TABLE_VALUE_NOT_FOUND,
        )
    return flag != "I"
