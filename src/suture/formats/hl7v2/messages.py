"""One entry point from bytes to a canonical record: tokenize, read and check the header, and
hand the message to the decoder of its type.

Supported types, each a decoder module:

==============================================  ===================  ==========================
MSH-9                                           decoder              record
==============================================  ===================  ==========================
DFT^P03                                         :mod:`.charges`      :class:`DecodedCharges`
BAR^P01, BAR^P05, ADT^A01-A08, A11, A13          :mod:`.accounts`     :class:`EncounterContext`
MFN^M04                                         :mod:`.charge_master` :class:`ChargeMaster`
MFN^M02                                         :mod:`.staff`        :class:`StaffMaster`
==============================================  ===================  ==========================

Anything else is refused with ``AR`` and "unsupported message type": the raw message stays in
the inbox, as every message does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, tzinfo
from typing import Final

from suture.formats.hl7v2.accounts import EncounterContext, decode_context
from suture.formats.hl7v2.charge_master import ChargeMaster, decode_charge_master
from suture.formats.hl7v2.charges import CHARGE_SOURCE, DecodedCharges, decode_charges
from suture.formats.hl7v2.charsets import DEFAULT_CHARSET
from suture.formats.hl7v2.errors import Disposition, ErrorCode, Hl7DecodeError
from suture.formats.hl7v2.header import MessageHeader, read_header, validate_header
from suture.formats.hl7v2.identifiers import Tokenize
from suture.formats.hl7v2.staff import StaffMaster, decode_staff
from suture.formats.hl7v2.tokenizer import Message, parse_message

Decoded = DecodedCharges | EncounterContext | ChargeMaster | StaffMaster

_ADT_EVENTS: Final = ("A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A11", "A13")
#: (MSH-9.1, MSH-9.2) pairs this codec decodes.
SUPPORTED_TYPES: Final = frozenset(
    {("DFT", "P03"), ("BAR", "P01"), ("BAR", "P05"), ("MFN", "M04"), ("MFN", "M02")}
    | {("ADT", event) for event in _ADT_EVENTS}
)
_KNOWN_TYPES: Final = frozenset(message_type for message_type, _ in SUPPORTED_TYPES)
_MAX_QUOTED: Final = 8


class _Options:
    __slots__ = ("source_system", "tokenize", "zone")

    def __init__(self, tokenize: Tokenize, zone: tzinfo, source_system: str) -> None:
        self.tokenize = tokenize
        self.zone = zone
        self.source_system = source_system


def _charges(message: Message, header: MessageHeader, o: _Options) -> Decoded:
    return decode_charges(
        message, header, tokenize=o.tokenize, zone=o.zone, source_system=o.source_system
    )


def _context(message: Message, header: MessageHeader, o: _Options) -> Decoded:
    return decode_context(message, header, tokenize=o.tokenize, zone=o.zone)


def _cdm(message: Message, header: MessageHeader, o: _Options) -> Decoded:
    return decode_charge_master(message, header, zone=o.zone)


def _staff(message: Message, header: MessageHeader, o: _Options) -> Decoded:
    return decode_staff(message, header, zone=o.zone)


_DECODERS: Final[dict[str, Callable[[Message, MessageHeader, _Options], Decoded]]] = {
    "DFT": _charges,
    "BAR": _context,
    "ADT": _context,
}


def _decoder(header: MessageHeader) -> Callable[[Message, MessageHeader, _Options], Decoded]:
    key = (header.message_type, header.trigger_event)
    if key not in SUPPORTED_TYPES:
        code = header.type_code
        shown = (
            code if len(code) <= 2 * _MAX_QUOTED + 1 and code.replace("^", "").isalnum() else "?"
        )
        raise Hl7DecodeError(
            f"unsupported message type {shown}",
            segment="MSH",
            field_number=9,
            position=1,
            disposition=Disposition.REJECT,
            code=ErrorCode.UNSUPPORTED_EVENT_CODE
            if header.message_type in _KNOWN_TYPES
            else ErrorCode.UNSUPPORTED_MESSAGE_TYPE,
        )
    if header.message_type == "MFN":
        return _cdm if header.trigger_event == "M04" else _staff
    return _DECODERS[header.message_type]


def decode_message(
    data: bytes | str | Message,
    *,
    tokenize: Tokenize,
    zone: tzinfo = UTC,
    default_charset: str = DEFAULT_CHARSET,
    source_system: str = CHARGE_SOURCE,
) -> Decoded:
    """Decode one message to its canonical record, or raise :class:`Hl7DecodeError`.

    ``tokenize`` turns patient identifiers into tokens (a keyed hash the caller owns);
    ``zone`` is the sending interface's zone, for times without an offset; ``default_charset``
    reads bytes whose MSH-18 is empty; ``source_system`` is recorded on charges.
    """
    message = (
        data if isinstance(data, Message) else parse_message(data, default_charset=default_charset)
    )
    header = read_header(message, zone)
    validate_header(header)
    if header.message_type == "DFT" and header.trigger_event == "P03":
        # the hot path: no look-up, and a direct call (C to C when compiled)
        return decode_charges(
            message, header, tokenize=tokenize, zone=zone, source_system=source_system
        )
    decoder = _decoder(header)
    return decoder(message, header, _Options(tokenize, zone, source_system))
