"""The message header (MSH, HL7 v2.5.1 §2.15.9): who sent what, and whether to accept it.

:func:`read_header` reads an MSH leniently, so that even a message about to be rejected can be
answered with an ACK that echoes its control id and routes back to its sender.
:func:`validate_header` then refuses what cannot be accepted, each refusal a
:data:`~.errors.Disposition.REJECT` (ACK ``AR``): no message type, no control id, a processing
id outside HL7 table 0103, a version that is not 2.x. Which types are supported is the decoders'
business (:mod:`.messages`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Final

from suture.formats.hl7v2.charsets import DEFAULT_CHARSET
from suture.formats.hl7v2.datatypes import parse_time
from suture.formats.hl7v2.errors import Disposition, ErrorCode, Hl7DecodeError
from suture.formats.hl7v2.tokenizer import (
    Delimiters,
    Message,
    Segment,
    parse_message,
    read_delimiters,
)

_PROCESSING_IDS: Final = frozenset({"P", "D", "T"})  # HL7 table 0103
_PROCESSING_MODES: Final = frozenset({"", "A", "R", "I", "T"})  # HL7 table 0207
_MAX_QUOTED: Final = 16
#: Read as atoms: first components, unescaped, stripped (``tuple[int, ...]``: see charges.py).
_HEADER_FIELDS: Final[tuple[int, ...]] = (3, 4, 5, 6, 7, 10, 12)


@dataclass(slots=True, init=False)
class MessageHeader:
    """What the MSH says, first components decoded; ``raw_*`` keep MSH-3 to MSH-6 as written
    (with their delimiters) so an ACK can route back exactly.

    Treat it as read-only. It is not frozen because a frozen dataclass of fifteen fields costs
    three times as much to build, and one is built per message on the decode path measured by
    ``benchmarks/hl7_decode.py``; its ``__init__`` is written out so that mypyc compiles it
    (the one ``dataclass`` generates stays Python).
    """

    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    message_time: datetime | None
    message_type: str
    trigger_event: str
    structure: str
    control_id: str
    processing_id: str
    processing_mode: str
    version: str
    charset: str
    delimiters: Delimiters
    raw_routing: tuple[str, str, str, str]

    def __init__(  # noqa: PLR0917 - the fields, as dataclass would take them
        self,
        sending_application: str,
        sending_facility: str,
        receiving_application: str,
        receiving_facility: str,
        message_time: datetime | None,
        message_type: str,
        trigger_event: str,
        structure: str,
        control_id: str,
        processing_id: str,
        processing_mode: str,
        version: str,
        charset: str,
        delimiters: Delimiters,
        raw_routing: tuple[str, str, str, str],
    ) -> None:
        self.sending_application = sending_application
        self.sending_facility = sending_facility
        self.receiving_application = receiving_application
        self.receiving_facility = receiving_facility
        self.message_time = message_time
        self.message_type = message_type
        self.trigger_event = trigger_event
        self.structure = structure
        self.control_id = control_id
        self.processing_id = processing_id
        self.processing_mode = processing_mode
        self.version = version
        self.charset = charset
        self.delimiters = delimiters
        self.raw_routing = raw_routing

    @property
    def type_code(self) -> str:
        """``"DFT^P03"``: type and trigger, as people write them."""
        return (
            f"{self.message_type}^{self.trigger_event}" if self.trigger_event else self.message_type
        )


_RAW_FIELDS: Final = 12  # MSH-0 to MSH-11: the fields read_header takes as written


def read_header(message: Message, zone: tzinfo = UTC) -> MessageHeader:
    """The header of a tokenized message, without judging it (see :func:`validate_header`)."""
    msh = message.header
    d = message.delimiters
    sending_app, sending_fac, receiving_app, receiving_fac, time_text, control, version = msh.atoms(
        _HEADER_FIELDS
    )
    fields = msh.fields  # MSH-3 to MSH-11 as written, without a call each
    if len(fields) < _RAW_FIELDS:
        fields = fields + [""] * (_RAW_FIELDS - len(fields))
    raw_type, raw_processing = fields[9], fields[11]
    kind = _components(raw_type, d)
    processing = _components(raw_processing, d)
    if d.escape in raw_type or d.escape in raw_processing:
        kind = [msh.unescape(part) for part in kind]
        processing = [msh.unescape(part) for part in processing]
    kind += ("", "", "")
    processing += ("", "")
    return MessageHeader(  # positional: keyword arguments cost twice as much on the hot path
        sending_app,
        sending_fac,
        receiving_app,
        receiving_fac,
        parse_time(time_text, zone),
        kind[0].strip().upper(),
        kind[1].strip().upper(),
        kind[2].strip().upper(),
        control,
        processing[0].strip(),
        processing[1].strip(),
        version,
        message.charset,
        d,
        (fields[3], fields[4], fields[5], fields[6]),
    )


def _components(raw: str, d: Delimiters) -> list[str]:
    """The first sub-components of the components of the first repetition, as written."""
    components = raw.partition(d.repetition)[0].split(d.component)
    sub = d.subcomponent
    if sub in raw:
        return [part.partition(sub)[0] for part in components]
    return components


def peek_header(
    data: bytes | str, *, default_charset: str = DEFAULT_CHARSET
) -> MessageHeader | None:
    """The header of raw bytes whatever is wrong with them, for an ACK; None if there is no MSH.

    Tries the whole message first, then the MSH line alone (in Latin-1, which reads any byte),
    so that a body error or a bad MSH-18 still yields the control id to echo.
    """
    try:
        return read_header(parse_message(data, default_charset=default_charset))
    except Hl7DecodeError:
        pass
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    text = text.removeprefix("ï»¿").removeprefix("\ufeff").lstrip()
    line = text.replace("\n", "\r").split("\r", 1)[0].strip()
    if not line.startswith("MSH"):
        return None
    try:
        delimiters = read_delimiters(line)
    except Hl7DecodeError:
        return None
    if not line[4:].count(delimiters.field):
        line += delimiters.field  # a bare MSH with only its encoding characters
    first = Segment(line, delimiters, "latin-1", 1, 1)
    return read_header(Message([first], {"MSH": [first]}, delimiters, "", "latin-1"))


def _reject(field_number: int, reason: str, code: ErrorCode) -> Hl7DecodeError:
    return Hl7DecodeError(
        reason,
        segment="MSH",
        field_number=field_number,
        position=1,
        disposition=Disposition.REJECT,
        code=code,
    )


def _quoted(text: str) -> str:
    """A header value fit to quote in an error: a short code, or nothing."""
    if len(text) <= _MAX_QUOTED and text.replace(" ", "").replace(".", "").isalnum():
        return repr(text)
    return "(not shown)"


def validate_header(header: MessageHeader) -> None:
    """Refuse a header that cannot be accepted; each refusal is an ``AR``."""
    if not header.message_type:
        raise _reject(9, "message type is empty", ErrorCode.REQUIRED_FIELD_MISSING)
    if not header.control_id:
        raise _reject(10, "message control id is empty", ErrorCode.REQUIRED_FIELD_MISSING)
    if header.processing_id not in _PROCESSING_IDS:
        shown = _quoted(header.processing_id) if header.processing_id else "empty"
        raise _reject(
            11,
            f"processing id {shown} is not P, D or T (HL7 table 0103)",
            ErrorCode.UNSUPPORTED_PROCESSING_ID,
        )
    if header.processing_mode not in _PROCESSING_MODES:
        raise _reject(
            11,
            f"processing mode {_quoted(header.processing_mode)} is not A, R, I or T "
            "(HL7 table 0207)",
            ErrorCode.UNSUPPORTED_PROCESSING_ID,
        )
    if not header.version.startswith("2."):
        shown = _quoted(header.version) if header.version else "empty"
        raise _reject(
            12, f"version {shown} is not an HL7 v2 version", ErrorCode.UNSUPPORTED_VERSION_ID
        )
