"""The original-mode acknowledgment (HL7 v2.5.1 §2.9.2, §2.15.8 MSA, §2.15.5 ERR).

Pure: the MLLP listener decides the code (after the raw message is committed) and frames the
bytes; this module writes them. The ACK uses the incoming message's delimiters and character
set, so MSH-3 to MSH-6 are copied back as written, swapped (our receiving application becomes
the ACK's sending one). ``AE`` and ``AR`` carry one ERR: ERR-2 the location (segment id ^
occurrence ^ field ^ ^ component), ERR-3 the table 0357 code, ERR-4 severity ``E``, ERR-8 the
reason for a person; MSA-3 repeats it for receivers older than v2.5 that ignore ERR.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from suture.formats.hl7v2.charsets import codec_for
from suture.formats.hl7v2.errors import ErrorCode, Hl7DecodeError
from suture.formats.hl7v2.escapes import escape
from suture.formats.hl7v2.header import MessageHeader
from suture.formats.hl7v2.tokenizer import DEFAULT_DELIMITERS, Delimiters

AckCode = Literal["AA", "AE", "AR"]
_ACK_CODES = frozenset({"AA", "AE", "AR"})
_DEFAULT_VERSION = "2.5"


def build_ack(
    message_header: MessageHeader | None,
    code: AckCode,
    error: Hl7DecodeError | None,
    control_id: str,
    now: datetime,
) -> bytes:
    """The ACK for a message, ``\\r``-terminated segments, without MLLP framing.

    ``message_header`` is None when the input had no readable MSH (the ACK then has empty
    routing and MSA-2); ``control_id`` is the ACK's own MSH-10; ``now`` must be aware.
    """
    if code not in _ACK_CODES:
        raise ValueError(f"ACK code must be AA, AE or AR, not {code!r}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    h = message_header
    d = h.delimiters if h is not None else DEFAULT_DELIMITERS
    f = d.field
    sending_app, sending_fac, receiving_app, receiving_fac = (
        h.raw_routing if h is not None else ("", "", "", "")
    )
    trigger = h.trigger_event if h is not None else ""
    message_type = f"ACK{d.component}{trigger}{d.component}ACK" if trigger else "ACK"
    msh = [
        "MSH",
        d.encoding_characters,
        receiving_app,
        receiving_fac,
        sending_app,
        sending_fac,
        now.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000"),
        "",
        message_type,
        escape(control_id, d),
        escape(h.processing_id, d) if h is not None and h.processing_id in {"P", "D", "T"} else "P",
        escape(h.version, d) if h is not None and h.version.startswith("2.") else _DEFAULT_VERSION,
    ]
    charset = h.charset if h is not None else ""
    if charset:
        msh += ["", "", "", "", "", escape(charset, d)]
    msa = ["MSA", code, escape(h.control_id, d) if h is not None else ""]
    segments = [f.join(msh)]
    if error is not None and code != "AA":
        msa.append(escape(str(error), d))
        segments += [f.join(msa), f.join(_err(error, d))]
    else:
        segments.append(f.join(msa))
    text = "\r".join(segments) + "\r"
    try:
        codec = codec_for(charset) if charset else "utf-8"
    except Hl7DecodeError:
        codec = "utf-8"
    return text.encode(codec, errors="replace")


def _err(error: Hl7DecodeError, d: Delimiters) -> list[str]:
    component = d.component
    location = ""
    if error.segment:
        parts = [
            error.segment,
            str(error.occurrence or 1),
            str(error.field_number) if error.field_number is not None else "",
            "1" if error.field_number is not None else "",
            str(error.component) if error.component else "",
        ]
        location = component.join(parts).rstrip(component)
    code = ErrorCode(error.code)
    return [
        "ERR",
        "",
        location,
        component.join((str(int(code)), escape(code.text, d), "HL70357")),
        "E",
        "",
        "",
        "",
        escape(str(error), d),
    ]
