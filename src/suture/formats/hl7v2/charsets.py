"""MSH-18 character sets (HL7 table 0211) and the Python codecs that read them.

The bytes of a message are decoded as a whole, before any splitting, because the multi-byte sets
(Big5, GB 18030) use bytes such as ``|`` and ``\\`` inside a character. Only the MSH up to MSH-18
is read from the raw bytes, which every supported set writes as ASCII. Sets whose bytes can collide
with the segment terminator itself (UTF-16, UTF-32) or that switch code pages with escape
sequences (ISO-2022: ``ISO IR87``, ``ISO IR159``) are refused: no reading of them would be right.

When MSH-18 is empty HL7 means ASCII (v2.5.1 §2.15.9.18); as UTF-8 is a strict superset and is
what most senders actually use, an absent MSH-18 is read with the caller's default (UTF-8 unless
the interface is configured otherwise).
"""

from __future__ import annotations

from suture.formats.hl7v2.errors import Disposition, ErrorCode, Hl7DecodeError

#: The default character set when MSH-18 says nothing.
DEFAULT_CHARSET = "UNICODE UTF-8"

_CODECS = {
    "ASCII": "ascii",
    "ISO IR6": "ascii",
    "8859/1": "latin-1",
    "ISO IR100": "latin-1",
    "8859/2": "iso8859-2",
    "ISO IR101": "iso8859-2",
    "8859/3": "iso8859-3",
    "ISO IR109": "iso8859-3",
    "8859/4": "iso8859-4",
    "ISO IR110": "iso8859-4",
    "8859/5": "iso8859-5",
    "ISO IR144": "iso8859-5",
    "8859/6": "iso8859-6",
    "ISO IR127": "iso8859-6",
    "8859/7": "iso8859-7",
    "ISO IR126": "iso8859-7",
    "8859/8": "iso8859-8",
    "ISO IR138": "iso8859-8",
    "8859/9": "iso8859-9",
    "ISO IR148": "iso8859-9",
    "8859/15": "iso8859-15",
    "UNICODE UTF-8": "utf-8",
    "ISO IR192": "utf-8",
    # "UNICODE" is deprecated and ambiguous; senders that still write it send UTF-8.
    "UNICODE": "utf-8",
    "UTF-8": "utf-8",
    "GB 18030-2000": "gb18030",
    "KS X 1001": "euc_kr",
    "BIG-5": "big5",
}
_MAX_QUOTED = 20


def codec_for(charset: str) -> str:
    """The Python codec of an MSH-18 value; an unknown or unreadable set is a reject."""
    codec = _CODECS.get(charset.strip().upper())
    if codec is None:
        shown = charset if len(charset) <= _MAX_QUOTED and charset.isprintable() else "…"
        raise Hl7DecodeError(
            f"character set {shown!r} is not supported (HL7 table 0211: ASCII, 8859/1-9, "
            "8859/15, UNICODE UTF-8, GB 18030-2000, KS X 1001, BIG-5)",
            segment="MSH",
            field_number=18,
            position=1,
            disposition=Disposition.REJECT,
            code=ErrorCode.TABLE_VALUE_NOT_FOUND,
        )
    return codec


def declared_charset(data: bytes) -> str:
    """MSH-18's first repetition, read from the raw bytes of the first segment ("" if absent)."""
    start = 3 if data.startswith(b"\xef\xbb\xbfMSH") else 0
    data = data[start:].lstrip()
    if not data.startswith(b"MSH") or len(data) < 5:
        return ""
    end = len(data)
    for terminator in (b"\r", b"\n"):
        found = data.find(terminator, 0, end)
        if found >= 0:
            end = found
    parts = data[:end].split(data[3:4], 18)
    if len(parts) < 18:
        return ""
    raw = parts[17]
    repetition = parts[1][1:2]
    if repetition:
        raw = raw.split(repetition, 1)[0]
    return raw.decode("latin-1").strip()


def decode_bytes(data: bytes, default_charset: str = DEFAULT_CHARSET) -> tuple[str, str, str]:
    """The text of a message's bytes, its MSH-18 character set, and the codec that read it."""
    charset = declared_charset(data)
    codec = codec_for(charset or default_charset)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as error:
        said = f"MSH-18 declares {charset}" if charset else f"no MSH-18, read as {default_charset}"
        raise Hl7DecodeError(
            f"byte {data[error.start]:#04x} at offset {error.start} is not valid in the "
            f"message's character set ({said})",
            segment="MSH",
            field_number=18,
            position=1,
            disposition=Disposition.REJECT,
            code=ErrorCode.DATA_TYPE,
        ) from None
    return text.removeprefix("\ufeff"), charset, codec
