"""Reading an X12 interchange's delimiters from its ISA header and cutting it into segments.

X12 (ASC X12.5/X12.6, the interchange control structure) declares its delimiters in the ISA
segment itself: the element separator is the character after ``ISA``, the component separator is
ISA16, the repetition separator is ISA11 from version 00402 on (where it is not ``U``), and the
segment terminator is whatever follows ISA16. Partners use any of them: ``*``/``~`` swapped,
``|``, ``^``, a space, a bare line break, even a multi-byte character such as ``…``.

The ISA is read by counting element separators rather than by the fixed 106-character layout,
so an ISA whose padding is wrong still reads. Around segments the tokenizer forgives what files
gain on their way through mail gateways and editors: a byte-order mark, leading blank lines and
indentation, and line breaks or spaces after a terminator; at the end of the file, the NUL
padding of fixed-block transfers and the DOS end-of-file mark (Ctrl-Z, 0x1A). It does not
forgive what changes meaning: a segment whose id is not two or three letters and digits is an
error.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import NamedTuple

from suture.formats.x12.errors import X12DecodeError

_ISA_ELEMENTS = 16
_LINE_BREAKS = "\r\n"
_WHITESPACE = " \t\r\n"
_END_PADDING = _WHITESPACE + "\x00\x1a"  # NULs of fixed blocks, DOS's end-of-file mark
_ISA_WINDOW = 1024  # an ISA is 106 characters; its padding may be wrong, never by this much
_SEGMENT_ID = re.compile(r"[A-Z0-9]{2,3}")
_LINE_SPLIT = re.compile(r"[\r\n]+")


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The four delimiters of an interchange; ``repetition`` is None before version 00402."""

    element: str = "*"
    component: str = ":"
    segment: str = "~"
    repetition: str | None = None


class Segment(NamedTuple):
    """One segment: its 1-based position in the interchange and its elements (id first)."""

    position: int
    elements: list[str]

    @property
    def id(self) -> str:
        return self.elements[0]

    def get(self, index: int) -> str:
        """Element ``index`` (``1`` is XX01), or ``""`` when the segment is shorter."""
        elements = self.elements
        return elements[index] if index < len(elements) else ""

    def name(self, index: int) -> str:
        """The element's reference, e.g. ``"SE01"``."""
        return f"{self.id}{index:02d}"


def decode_text(data: bytes | str) -> str:
    """The document as text: UTF-8 (byte-order mark dropped), or Latin-1 when it is not UTF-8.

    Latin-1 maps every byte, so nothing is refused here but UTF-16 text (its byte-order mark
    first), which would read as NULs between letters; X12's basic character set is ASCII and
    UTF-8 and Latin-1 agree on it.
    """
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise X12DecodeError(
            f"UTF-16 text (byte-order mark {data[:2].hex(' ').upper()}); X12 is read as UTF-8 "
            "(or Latin-1): save it as UTF-8",
            position=1,
        )
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _fail(reason: str, element: str = "") -> X12DecodeError:
    return X12DecodeError(reason, position=1, segment="ISA", element=element)


def read_delimiters(text: str) -> tuple[Delimiters, list[str], int]:
    """The delimiters, the ISA's 17 elements (id first), and where the next segment starts.

    Raises :class:`X12DecodeError` naming the ISA element at fault.
    """
    start = len(text) - len(text.lstrip(_WHITESPACE))
    if not text.startswith("ISA", start):
        found = text[start : start + 3]
        reason = "an interchange starts with ISA" + (f", found {found!r}" if found else "")
        segment = found if found.isascii() and found.isalnum() else ""  # not control bytes
        raise X12DecodeError(reason, position=1, segment=segment)
    if len(text) < start + 4:
        raise _fail("ISA is cut short before its element separator")
    element = text[start + 3]
    if element.isalnum() or element in _WHITESPACE:
        raise _fail(f"element separator {element!r} is a letter, digit or white space")
    cursor = start + 3
    for number in range(2, _ISA_ELEMENTS + 1):
        cursor = text.find(element, cursor + 1)
        if cursor == -1:
            raise _fail(f"ISA ends after {number - 1} elements; it has 16", f"ISA{number:02d}")
    component_at = cursor + 1
    if component_at + 1 >= len(text):
        raise _fail("ISA has no segment terminator after ISA16", "ISA16")
    isa = text[start : component_at + 1].split(element)
    segment = text[component_at + 1]
    after = component_at + 2
    if segment in " \t":
        # A space terminator is almost always followed by a line break; take the pair as the
        # terminator so that spaces inside names ("SOLD TO Org Name") stay data.
        rest = text[after : after + 8]
        breaks = len(rest) - len(rest.lstrip(_LINE_BREAKS))
        segment, after = segment + text[after : after + breaks], after + breaks
    return _checked(element, isa[16], segment, isa[11]), isa, after


def _checked(element: str, component: str, segment: str, isa11: str) -> Delimiters:
    if component in (element, segment[0]) or component.isalnum() or component in _LINE_BREAKS:
        raise _fail(
            f"component separator {component!r} must differ from the other delimiters", "ISA16"
        )
    if segment[0] == element or segment[0].isalnum():
        raise _fail(f"segment terminator {segment[0]!r} is a letter, digit or delimiter", "ISA16")
    repetition = None
    others = (element, component, segment[0], " ")
    if len(isa11) == 1 and not isa11.isalnum() and isa11 not in others:
        repetition = isa11
    return Delimiters(element=element, component=component, segment=segment, repetition=repetition)


def split_segments(text: str, delimiters: Delimiters, start: int) -> list[Segment]:
    """Every segment from ``start`` on, whitespace around segments dropped; positions from 2
    (the ISA is 1)."""
    terminator = delimiters.segment
    body = text[start:]
    if terminator.strip(_LINE_BREAKS) == "":
        pieces = _LINE_SPLIT.split(body)
    else:
        pieces = body.split(terminator)
    separator = delimiters.element
    segments: list[Segment] = []
    append = segments.append
    position = 1
    for piece in pieces:
        stripped = piece.strip(_WHITESPACE)
        if not stripped:
            continue
        elements = stripped.split(separator)
        position += 1
        segment_id = elements[0]
        if _SEGMENT_ID.fullmatch(segment_id) is None:
            shown = segment_id if len(segment_id) <= 12 else segment_id[:12] + "…"
            raise X12DecodeError(
                f"{shown!r} is not a segment id (two or three capital letters and digits)",
                position=position,
                segment=segment_id[:3],
            )
        append(Segment(position, elements))
    return segments


def split_interchanges(data: bytes) -> list[bytes]:
    """The interchanges of a file, each as its own bytes, in order.

    A VAN mailbox or an AS2 gateway often writes several interchanges one after another in one
    file, each ISA declaring its own delimiters. Each part ends with its IEA segment's
    terminator; white space and end-of-file padding between them are dropped. What is not
    several readable interchanges (one interchange, bytes that do not start with ISA, an
    interchange without an IEA, anything but another ISA after an IEA) comes back whole, for
    the reader to accept or refuse with its own error. The file is decoded once and searched,
    not tokenized.
    """
    body = data.removeprefix(codecs.BOM_UTF8)
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return [data]
    try:
        text, codec = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:  # as decode_text reads it
        text, codec = body.decode("latin-1"), "latin-1"
    bounds: list[tuple[int, int]] = []  # (start, end) of each interchange, in text
    start = len(text) - len(text.lstrip(_WHITESPACE))
    while (end := _interchange_end(text, start)) is not None:
        following = end + len(text[end:]) - len(text[end:].lstrip(_END_PADDING))
        if not text.startswith("ISA", following):
            break
        bounds.append((start, end))
        start = following
    if not bounds:
        return [data]
    parts: list[bytes] = []
    offset, at = len(data) - len(body), 0  # bytes and text read so far
    for first, last in [*bounds, (start, len(text))]:
        offset += len(text[at:first].encode(codec))
        size = len(text[first:last].encode(codec))
        parts.append(data[offset : offset + size])
        offset, at = offset + size, last
    return parts


def _interchange_end(text: str, start: int) -> int | None:
    """Where the interchange that begins at ``start`` ends: just after its IEA segment's
    terminator; None when it cannot be read or has no terminated IEA."""
    try:
        delimiters, _, after = read_delimiters(text[start : start + _ISA_WINDOW])
    except X12DecodeError:
        return None
    terminator, element = delimiters.segment, re.escape(delimiters.element)
    if terminator.strip(_LINE_BREAKS) == "":
        found = re.compile(rf"[\r\n][ \t\r\n]*IEA{element}").search(text, start + after - 1)
        if found is None:
            return None
        line_end = _LINE_SPLIT.search(text, found.end())
        return None if line_end is None else line_end.end()
    found = re.compile(rf"{re.escape(terminator)}[ \t\r\n]*IEA{element}").search(text, start)
    if found is None:
        return None
    stop = text.find(terminator, found.end())
    return None if stop < 0 else stop + len(terminator)


def tokenize(data: bytes | str) -> tuple[Delimiters, list[Segment]]:
    """The delimiters and the segments of one interchange, ISA first."""
    text = decode_text(data)
    if text.endswith(("\x00", "\x1a")):
        text = text.rstrip(_END_PADDING)
    delimiters, isa, after = read_delimiters(text)
    return delimiters, [Segment(1, isa), *split_segments(text, delimiters, after)]
