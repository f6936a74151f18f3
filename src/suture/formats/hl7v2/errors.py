"""The one error of the HL7 v2 codec, naming where a message is wrong and why, never what it says.

Every failure of this package, from bytes that are not HL7 at all to an FT1 quantity that is not
a number, is an :class:`Hl7DecodeError`::

    SutureError
    └── Hl7DecodeError      segment, occurrence, field position, reason; plus what to answer:
                            disposition REJECT -> ACK "AR" (bad MSH, unsupported type/version)
                            disposition ERROR  -> ACK "AE" (the content of an accepted message)

The error names the position (``FT1 #2, FT1-10``), in the ERL shape of HL7 v2.5.1 §2.15.5 ERR-2,
and the HL7 table 0357 code for ERR-3. Its text never quotes patient data (DESIGN.md §6): values
from PID, PV1, NK1, GT1 or IN1 are never echoed, dates of service neither; only codes and
amounts, which are not identifiers, may be quoted by the decoders that read them.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

from suture.domain.errors import SutureError

if TYPE_CHECKING:
    from suture.formats.hl7v2.tokenizer import Segment


class Disposition(StrEnum):
    """What a message with this error deserves, in HL7 original-mode terms (v2.5.1 §2.9.2)."""

    REJECT = "reject"
    ERROR = "error"

    @property
    def ack_code(self) -> str:
        return "AR" if self is Disposition.REJECT else "AE"


class ErrorCode(IntEnum):
    """HL7 table 0357, message error condition codes, for ERR-3."""

    SEGMENT_SEQUENCE = 100
    REQUIRED_FIELD_MISSING = 101
    DATA_TYPE = 102
    TABLE_VALUE_NOT_FOUND = 103
    UNSUPPORTED_MESSAGE_TYPE = 200
    UNSUPPORTED_EVENT_CODE = 201
    UNSUPPORTED_PROCESSING_ID = 202
    UNSUPPORTED_VERSION_ID = 203
    DUPLICATE_KEY = 205
    APPLICATION_INTERNAL = 207

    @property
    def text(self) -> str:
        return _CODE_TEXT[self]


_CODE_TEXT = {
    ErrorCode.SEGMENT_SEQUENCE: "Segment sequence error",
    ErrorCode.REQUIRED_FIELD_MISSING: "Required field missing",
    ErrorCode.DATA_TYPE: "Data type error",
    ErrorCode.TABLE_VALUE_NOT_FOUND: "Table value not found",
    ErrorCode.UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    ErrorCode.UNSUPPORTED_EVENT_CODE: "Unsupported event code",
    ErrorCode.UNSUPPORTED_PROCESSING_ID: "Unsupported processing id",
    ErrorCode.UNSUPPORTED_VERSION_ID: "Unsupported version id",
    ErrorCode.DUPLICATE_KEY: "Duplicate key identifier",
    ErrorCode.APPLICATION_INTERNAL: "Application internal error",
}


class Hl7DecodeError(SutureError):
    """A message that cannot be decoded, with its position and the reason.

    ``segment`` is the segment id (``"FT1"``, or ``""`` when the message as a whole is wrong),
    ``occurrence`` which of the segments with that id (1-based, ERL.2), ``field_number`` the
    field (ERL.3) and ``component`` the component (ERL.5) when the problem is that narrow;
    ``position`` is the segment's line in the message (1-based). :attr:`field` reads
    ``"FT1-10"`` and ``str(error)`` ``"FT1 #2, FT1-10: quantity 'x' is not a number"``
    (a header error has no occurrence: ``"MSH-11: …"``).
    """

    def __init__(
        self,
        reason: str,
        *,
        segment: str = "",
        occurrence: int | None = None,
        field_number: int | None = None,
        component: int | None = None,
        position: int | None = None,
        disposition: Disposition = Disposition.ERROR,
        code: ErrorCode = ErrorCode.APPLICATION_INTERNAL,
    ) -> None:
        field = ""
        if segment and field_number is not None:
            field = f"{segment}-{field_number}" + (f".{component}" if component else "")
        super().__init__(field, reason)
        self.segment = segment
        self.occurrence = occurrence
        self.field_number = field_number
        self.component = component
        self.position = position
        self.disposition = disposition
        self.code = code

    @property
    def ack_code(self) -> str:
        """``"AR"`` or ``"AE"``: what MSA-1 answers for this error."""
        return self.disposition.ack_code

    @property
    def location(self) -> str:
        """Where, for a person: ``"FT1 #2, FT1-10"``, ``"MSH-11"`` or ``"segment 4"``."""
        parts: list[str] = []
        if self.segment and self.occurrence is not None:
            parts.append(f"{self.segment} #{self.occurrence}")
        elif self.segment and not self.field:
            parts.append(self.segment)
        elif not self.segment and self.position is not None:
            parts.append(f"segment {self.position}")
        if self.field:
            parts.append(self.field)
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location
        return f"{where}: {self.reason}" if where else self.reason


def field_error(
    segment: Segment,
    field_number: int,
    reason: str,
    code: ErrorCode = ErrorCode.DATA_TYPE,
    *,
    component: int | None = None,
) -> Hl7DecodeError:
    """An ``AE`` error about one field of a decoded message's segment."""
    return Hl7DecodeError(
        reason,
        segment=segment.id,
        occurrence=segment.occurrence,
        field_number=field_number,
        component=component,
        position=segment.position,
        disposition=Disposition.ERROR,
        code=code,
    )


def repeated_segment(segment: Segment, reason: str) -> Hl7DecodeError:
    """An ``AE`` error about a second occurrence of a segment the message type has once."""
    return Hl7DecodeError(
        reason,
        segment=segment.id,
        occurrence=segment.occurrence,
        position=segment.position,
        code=ErrorCode.SEGMENT_SEQUENCE,
    )


def missing_segment(segment_id: str, reason: str) -> Hl7DecodeError:
    """An ``AE`` error about a segment the message type needs and the message lacks."""
    return Hl7DecodeError(
        reason,
        segment=segment_id,
        disposition=Disposition.ERROR,
        code=ErrorCode.SEGMENT_SEQUENCE,
    )
