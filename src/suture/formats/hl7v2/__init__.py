"""The HL7 v2 codec: bytes of a message into canonical records, and ACKs back (pure).

Transport is not here: the MLLP listener (``entrypoints``) frames bytes, stores them, then calls
this package, as python-hl7 keeps framing apart from parsing (STYLE.md).

- :mod:`.tokenizer`: :func:`parse_message`, segments and fields, escapes decoded lazily
  (:mod:`.escapes`), MSH-18 character sets (:mod:`.charsets`);
- :mod:`.batch`: :func:`split_batch`, FHS/BHS files into raw messages;
- :mod:`.header`: :class:`MessageHeader`, :func:`read_header`, :func:`validate_header`,
  :func:`peek_header` (for an ACK whatever is wrong);
- :mod:`.messages`: :func:`decode_message`, the one entry point, dispatching on MSH-9 to
  :mod:`.charges` (DFT^P03), :mod:`.accounts` (ADT, BAR), :mod:`.charge_master` (MFN^M04),
  :mod:`.staff` (MFN^M02);
- :mod:`.ack`: :func:`build_ack`;
- :mod:`.errors`: :class:`Hl7DecodeError` with its position, reason and ACK disposition;
- :mod:`.native`: whether the hot modules run compiled (mypyc, ``setup.py``), and the check,
  run here on import, that refuses a compiled module older than its source.
"""

from __future__ import annotations

from suture.formats.hl7v2.accounts import EncounterContext
from suture.formats.hl7v2.ack import AckCode, build_ack
from suture.formats.hl7v2.batch import Batch, split_batch
from suture.formats.hl7v2.charge_master import CdmEntry, CdmPrice, ChargeMaster
from suture.formats.hl7v2.charges import CHARGE_SOURCE, ChargeLine, DecodedCharges
from suture.formats.hl7v2.charsets import DEFAULT_CHARSET
from suture.formats.hl7v2.errors import Disposition, ErrorCode, Hl7DecodeError
from suture.formats.hl7v2.escapes import escape, unescape
from suture.formats.hl7v2.header import MessageHeader, peek_header, read_header, validate_header
from suture.formats.hl7v2.identifiers import Tokenize
from suture.formats.hl7v2.messages import SUPPORTED_TYPES, Decoded, decode_message
from suture.formats.hl7v2.native import check as _check_native
from suture.formats.hl7v2.staff import StaffMaster, StaffRecord
from suture.formats.hl7v2.tokenizer import Delimiters, Message, Segment, parse_message

_check_native()  # a compiled module edited since its build fails loudly, here

__all__ = [
    "CHARGE_SOURCE",
    "DEFAULT_CHARSET",
    "SUPPORTED_TYPES",
    "AckCode",
    "Batch",
    "CdmEntry",
    "CdmPrice",
    "ChargeLine",
    "ChargeMaster",
    "Decoded",
    "DecodedCharges",
    "Delimiters",
    "Disposition",
    "EncounterContext",
    "ErrorCode",
    "Hl7DecodeError",
    "Message",
    "MessageHeader",
    "Segment",
    "StaffMaster",
    "StaffRecord",
    "Tokenize",
    "build_ack",
    "decode_message",
    "escape",
    "parse_message",
    "peek_header",
    "read_header",
    "split_batch",
    "unescape",
    "validate_header",
]
