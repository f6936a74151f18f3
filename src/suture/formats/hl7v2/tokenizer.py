"""The HL7 v2 tokenizer: a message's bytes or text into segments, fields, repetitions,
components and sub-components (HL7 v2.5.1 §2.5-§2.7).

It is deliberately small and fast (DESIGN.md §9): a message is split into segments at once,
each segment into fields the first time one of its fields is read, and a field into
repetitions, components and sub-components only when such a part is asked for, with escape
sequences replaced last, on the one value returned (:mod:`.escapes`). It knows the grammar and
nothing of message types; :mod:`.header` and the decoders give the fields their meaning.

What it accepts, beyond the letter of the standard, because real senders write it:
segments ended by ``\\r``, ``\\n`` or ``\\r\\n``, blank lines, whitespace around a segment, a
UTF-8 byte-order mark, MSH-2 with fewer than four encoding characters (the defaults fill in, as
python-hl7 does). What it refuses, always with :class:`Hl7DecodeError` and never anything else:
input that does not start with MSH, unusable delimiters, a segment id that is not three
upper-case letters or digits, a second MSH (a batch: :func:`~.batch.split_batch` first),
bytes that are not in the character set MSH-18 declares, a NUL byte inside a segment (NULs
around one, left by framing, are stripped).

A second MSH is looked for inside segments too (``MSH|^~\\&``: MSH, the field separator and
four encoding characters, which no field can hold, ``\\&`` being no escape sequence): when a
message's last segment has no terminator, the next message runs on into it, and reading the
two as one would post the second one's charges under the first one's header. Both forms are a
reject (AR): HL7 v2.5.1 Appendix C carries one message per MLLP frame.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Final

from suture.formats.hl7v2.charsets import DEFAULT_CHARSET, codec_for, decode_bytes
from suture.formats.hl7v2.errors import Disposition, ErrorCode, Hl7DecodeError
from suture.formats.hl7v2.escapes import unescape

_STRIP: Final = " \t\x0b\x0c\x1c\x00"
_BATCH_SEGMENTS: Final = frozenset({"FHS", "FTS", "BHS", "BTS"})
_HEADERS_AND_BATCH: Final = _BATCH_SEGMENTS | {"MSH"}
_MAX_ENCODING_CHARACTERS: Final = 5
_SECOND_HEADER: Final = (
    "a second message header ({}) in one message: one message per MLLP frame or request; "
    "split a file or batch first"
)
_RUN_TOGETHER: Final = (
    "a second message header (MSH) begins inside this segment: two messages run together; "
    "one message per MLLP frame or request, and a file is split on MSH"
)
_DEFAULT_CODEC: Final = "utf-8"  # codec_for(DEFAULT_CHARSET)


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The field separator (MSH-1) and encoding characters (MSH-2) of one message."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    truncation: str = ""
    #: ``F`` → the field separator and so on: what each one-letter escape stands for (§2.7.1).
    named_escapes: dict[str, str] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        named = {
            "F": self.field,
            "S": self.component,
            "T": self.subcomponent,
            "R": self.repetition,
            "E": self.escape,
            "P": self.truncation,
        }
        object.__setattr__(self, "named_escapes", named)

    @property
    def encoding_characters(self) -> str:
        """MSH-2 as this message writes it."""
        return self.component + self.repetition + self.escape + self.subcomponent + self.truncation


DEFAULT_DELIMITERS: Final = Delimiters()


def _nth(value: str, separator: str, index: int) -> str:
    """The ``index``-th (1-based) part of ``value`` split on ``separator``, or ``""``."""
    if index == 1:
        end = value.find(separator)
        return value if end < 0 else value[:end]
    parts = value.split(separator, index)
    return parts[index - 1] if len(parts) >= index else ""


class Segment:
    """One segment: its id, which occurrence of that id it is, its line, and its fields.

    Field ``n`` is HL7's field ``n``: for MSH, field 1 is the field separator and field 2 the
    encoding characters (v2.5.1 §2.15.9), as in python-hl7.
    """

    __slots__ = ("_codec", "_delimiters", "_fields", "_text", "id", "occurrence", "position")

    def __init__(  # noqa: PLR0917 - positional: one call per segment
        self,
        text: str,
        delimiters: Delimiters,
        codec: str,
        occurrence: int,
        position: int,
        segment_id: str = "",
    ) -> None:
        # the tokenizer hands over the id it checked, whose hash is computed already
        self.id = segment_id or text[:3]
        self.occurrence = occurrence
        self.position = position
        self._text = text
        self._delimiters = delimiters
        self._codec = codec
        self._fields: list[str] | None = None

    def __repr__(self) -> str:  # never the content: it may be PHI
        return f"<Segment {self.id} #{self.occurrence} at {self.position}>"

    @property
    def delimiters(self) -> Delimiters:
        return self._delimiters

    @property
    def fields(self) -> list[str]:
        """Field 0 (the id) and every field as written, escapes included."""
        fields = self._fields
        if fields is None:
            separator = self._delimiters.field
            fields = self._text.split(separator)
            if self.id in _HEADER_IDS:
                fields.insert(1, separator)
            self._fields = fields
        return fields

    @property
    def text(self) -> str:
        """The segment as written (without its terminator)."""
        return self._text

    def _leading(self, top: int) -> list[str]:
        """The fields as written, field ``top`` and those before it at least: :attr:`fields`
        once split, else the segment split no further than field ``top`` (the entry after
        it, if any, holds the rest unsplit), which becomes :attr:`fields` if it is the whole
        segment. A decoder reading PV1-2 and PV1-19 does not cut PV1-20 to PV1-52 apart."""
        fields = self._fields
        if fields is not None:
            return fields
        if self.id in _HEADER_IDS:
            return self.fields
        fields = self._text.split(self._delimiters.field, top + 1)
        if len(fields) <= top + 1:
            self._fields = fields
        return fields

    def raw(self, number: int) -> str:
        """Field ``number`` exactly as written, or ``""`` when the segment is shorter."""
        fields = self._leading(number)
        return fields[number] if number < len(fields) else ""

    def atom(self, number: int) -> str:
        """The first sub-component of the first component of the first repetition of field
        ``number``, escapes replaced: the value of every simple field. The fast path."""
        fields = self._leading(number)
        if number >= len(fields):
            return ""
        text = fields[number]
        if text and not text.isalnum():  # letters and digits alone: the value as it is
            if number <= 2 and self.id in _HEADER_IDS:
                return text
            d = self._delimiters
            text = (
                text.partition(d.repetition)[0]
                .partition(d.component)[0]
                .partition(d.subcomponent)[0]
            )
            if d.escape in text:
                return unescape(text, d, self._codec)
        return text

    def atoms(self, numbers: tuple[int, ...]) -> list[str]:
        """:meth:`atom` of several fields at once, stripped of blanks: what a decoder reads
        from a segment, in one pass. Not for MSH-1/MSH-2.

        The first sub-component of the first component of the first repetition is the text
        before the first of the three delimiters. A delimiter the segment does not hold at all
        is not looked for in its fields, and only a field holding the escape character is
        unescaped. Written for mypyc, which compiles it (``found.append`` is a C call there;
        ``in`` is cheaper than ``str.find``, and a slice than ``str.partition``'s tuple)."""
        fields = self._fields
        if fields is None:
            top = 0
            for number in numbers:
                top = max(top, number)
            fields = self._leading(top)
        size = len(fields)
        d = self._delimiters
        whole = self._text
        rep = d.repetition if d.repetition in whole else ""
        comp = d.component if d.component in whole else ""
        sub = d.subcomponent if d.subcomponent in whole else ""
        esc = d.escape if d.escape in whole else ""
        found: list[str] = []
        for number in numbers:  # one plain loop: comprehensions cost a call each
            text = fields[number] if number < size else ""
            # letters and digits alone (most codes, ids, dates) hold no delimiter, escape or
            # blank: taken as they are, on one C loop under mypyc
            if text and not text.isalnum():
                if rep and rep in text:
                    text = text[: text.find(rep)]
                if comp and comp in text:
                    text = text[: text.find(comp)]
                if sub and sub in text:
                    text = text[: text.find(sub)]
                if esc and esc in text:
                    text = unescape(text, d, self._codec)
                text = text.strip()
            found.append(text)
        return found

    def value(
        self, number: int, component: int = 1, subcomponent: int = 1, repetition: int = 1
    ) -> str:
        """One value, escapes replaced: ``value(3, 4)`` is PV1-3.4 of the first repetition."""
        fields = self._leading(number)
        if number >= len(fields):
            return ""
        text = fields[number]
        if not text:
            return text
        if number <= 2 and self.id in _HEADER_IDS:
            return text if component == subcomponent == repetition == 1 else ""
        d = self._delimiters
        text = _nth(text, d.repetition, repetition)
        text = _nth(text, d.component, component)
        text = _nth(text, d.subcomponent, subcomponent)
        if d.escape in text:
            return unescape(text, d, self._codec)
        return text

    def repetitions(self, number: int) -> list[str]:
        """The repetitions of field ``number`` as written (``[]`` for an empty field)."""
        text = self.raw(number)
        if not text:
            return []
        if number <= 2 and self.id in _HEADER_IDS:
            return [text]
        return text.split(self._delimiters.repetition)

    def components(self, number: int, repetition: int = 1) -> list[str]:
        """The components of one repetition of field ``number``, escapes replaced."""
        d = self._delimiters
        text = _nth(self.raw(number), d.repetition, repetition)
        if not text:
            return []
        return [
            unescape(part, d, self._codec) if d.escape in part else part
            for part in text.split(d.component)
        ]

    def unescape(self, text: str) -> str:
        """``text`` (part of this segment) with its escape sequences replaced."""
        return unescape(text, self._delimiters, self._codec)

    def tree(self) -> list[list[list[list[str]]]]:
        """Fields 1… as repetitions of components of sub-components, as written (no unescaping).

        The shape python-hl7 gives a segment once every level is expanded; tests compare them.
        """
        d = self._delimiters
        header = self.id in _HEADER_IDS
        return [
            [[[text]]]
            if header and number <= 2
            else [
                [component.split(d.subcomponent) for component in rep.split(d.component)]
                for rep in text.split(d.repetition)
            ]
            for number, text in enumerate(self.fields[1:], start=1)
        ]


_HEADER_IDS: Final = frozenset({"MSH", "BHS", "FHS"})


class Message:
    """A tokenized message: its delimiters, character set and segments in order."""

    __slots__ = ("_by_id", "charset", "codec", "delimiters", "segments")

    def __init__(
        self,
        segments: list[Segment],
        by_id: dict[str, list[Segment]],
        delimiters: Delimiters,
        charset: str,
        codec: str,
    ) -> None:
        self.segments = segments
        self._by_id = by_id
        self.delimiters = delimiters
        self.charset = charset
        self.codec = codec

    def __repr__(self) -> str:
        return f"<Message {len(self.segments)} segments>"

    @property
    def header(self) -> Segment:
        """The MSH segment (always the first)."""
        return self.segments[0]

    def segment(self, segment_id: str) -> Segment | None:
        """The first segment with this id, or None."""
        found = self._by_id.get(segment_id)
        return found[0] if found else None

    def all(self, segment_id: str) -> list[Segment]:
        """Every segment with this id, in order."""
        return self._by_id.get(segment_id, [])


def _reject(reason: str, *, field_number: int | None = None, position: int = 1) -> Hl7DecodeError:
    return Hl7DecodeError(
        reason,
        segment="MSH" if field_number is not None else "",
        field_number=field_number,
        position=position,
        disposition=Disposition.REJECT,
        code=ErrorCode.SEGMENT_SEQUENCE if field_number is None else ErrorCode.DATA_TYPE,
    )


_KNOWN_DELIMITERS: Final[dict[str, Delimiters]] = {"|^~\\&": DEFAULT_DELIMITERS}


def read_delimiters(text: str) -> Delimiters:
    """The delimiters an MSH (or BHS/FHS) segment declares in its fields 1 and 2."""
    known = _KNOWN_DELIMITERS.get(text[3:8])
    if known is not None and text[8:9] in {"|", "\r", "\n", ""}:
        return known
    separator = text[3:4]
    if not separator or separator.isalnum() or separator.isspace() or not separator.isprintable():
        raise _reject("the field separator must be a printable, non-alphanumeric", field_number=1)
    end = text.find(separator, 4)
    encoding = text[4:] if end < 0 else text[4:end]
    if not 1 <= len(encoding) <= _MAX_ENCODING_CHARACTERS:
        raise _reject("needs one to five encoding characters (^~\\&)", field_number=2)
    defaults = "^~\\&"
    chars = encoding + defaults[len(encoding) :] if len(encoding) < len(defaults) else encoding
    if len(set(chars + separator)) != len(chars) + 1 or not all(
        c.isprintable() and not c.isalnum() and not c.isspace() for c in chars
    ):
        raise _reject(
            "encoding characters must be distinct printable non-alphanumeric characters "
            "different from the field separator",
            field_number=2,
        )
    return Delimiters(separator, chars[0], chars[1], chars[2], chars[3], chars[4:5])


_VALID_IDS: Final[set[str]] = set()  # ids seen valid; at most 26 * 36 * 36 of them


def _valid_id(segment_id: str) -> bool:
    if segment_id in _VALID_IDS:
        return True
    valid = (
        len(segment_id) == 3
        and segment_id.isascii()
        and segment_id.isalnum()
        and segment_id[0].isalpha()
        and segment_id.isupper()
    )
    if valid:
        _VALID_IDS.add(segment_id)
    return valid


def parse_message(data: bytes | str, *, default_charset: str = DEFAULT_CHARSET) -> Message:
    """Tokenize one message; raises :class:`Hl7DecodeError` (and nothing else) when it cannot.

    Bytes are decoded in the character set MSH-18 declares, or ``default_charset`` when it
    declares none. A batch or file (FHS/BHS, several MSH) must go through ``split_batch`` first.
    """
    from_text = not isinstance(data, bytes) or data.isascii()
    if isinstance(data, bytes):
        if from_text:  # every supported character set reads ASCII as ASCII
            text, charset, codec = data.decode("ascii"), "", "utf-8"
        else:
            text, charset, codec = decode_bytes(data, default_charset)
    else:
        text, charset, codec = data.removeprefix("\ufeff"), "", "utf-8"
    text = text.lstrip()
    head = text[:3]
    if head != "MSH":
        if head in _BATCH_SEGMENTS:
            raise _reject("starts with a batch header; split the batch (FHS/BHS) first")
        raise _reject("does not start with an MSH segment")
    delimiters = read_delimiters(text)
    if "\n" in text:
        text = text.replace("\r\n", "\r").replace("\n", "\r")
    lines = text.split("\r")
    marker = "MSH" + delimiters.field + delimiters.encoding_characters[:4]
    if text.find(marker, 1) > 0:  # one search, in C: two messages in one
        raise _second_header(lines, marker, delimiters.field)
    # the MSH split once: MSH-18 names the character set, and read_header reads the rest
    header = lines[0].strip(_STRIP).split(delimiters.field)
    if from_text:
        charset = _nth(header[17], delimiters.repetition, 1).strip() if len(header) > 17 else ""
        default = default_charset if isinstance(data, bytes) else DEFAULT_CHARSET
        name = charset or default
        # the usual set without the call (charsets is not compiled); a test keeps them equal
        codec = _DEFAULT_CODEC if name == DEFAULT_CHARSET else codec_for(name)
    header.insert(1, delimiters.field)
    return _segments(lines, delimiters, charset, codec, header)


def _second_header(lines: list[str], marker: str, separator: str) -> Hl7DecodeError:
    """Where the second message ``marker`` (its MSH) begins in ``lines``: at the start of a
    segment (a byte-order mark before it at most), or inside one, named by its field."""
    position = 0
    occurrences: dict[str, int] = {}
    for line in lines:
        line = line.strip(_STRIP)  # noqa: PLW2901 - the stripped line is the segment
        if not line:
            continue
        position += 1
        segment_id = line[:3]
        occurrence = occurrences[segment_id] = occurrences.get(segment_id, 0) + 1
        at = line.find(marker, 1 if position == 1 else 0)
        if at < 0:
            continue
        before = line[:at]
        if not before.strip(_STRIP + "\ufeff"):
            return _reject(_SECOND_HEADER.format("MSH"), position=position)
        valid = _valid_id(segment_id) and line[3:4] == separator
        header = segment_id == "MSH"
        return Hl7DecodeError(
            _RUN_TOGETHER,
            segment=segment_id if valid else "",
            occurrence=occurrence if valid and not header else None,
            field_number=before.count(separator) + header if valid else None,
            position=position,
            disposition=Disposition.REJECT,
            code=ErrorCode.SEGMENT_SEQUENCE,
        )
    return _reject(_SECOND_HEADER.format("MSH"))  # not reached: the caller found the marker


def _nul(
    line: str, separator: str, segment_id: str, occurrence: int, position: int
) -> Hl7DecodeError:
    """A NUL inside a segment, named by its field: HL7 v2 text never carries one, and a
    PostgreSQL text column refuses it, so it is refused here rather than stored in a charge."""
    before = line[: line.index("\x00")].count(separator)
    header = segment_id == "MSH"  # MSH-1 is the separator itself: MSH fields number one more
    return Hl7DecodeError(
        "holds a NUL byte (0x00), which HL7 v2 text never carries; is the file in another "
        "encoding?",
        segment=segment_id,
        occurrence=None if header else occurrence,
        field_number=before + 1 if header else before,
        position=position,
        disposition=Disposition.REJECT if header else Disposition.ERROR,
        code=ErrorCode.DATA_TYPE,
    )


def _segments(
    lines: list[str], delimiters: Delimiters, charset: str, codec: str, header: list[str]
) -> Message:
    """The segments of ``lines``; ``header`` is the fields of the first (the MSH), already
    split."""
    separator = delimiters.field
    segments: list[Segment] = []
    by_id: dict[str, list[Segment]] = {}
    position = 0
    for line in lines:
        line = line.strip(_STRIP)  # noqa: PLW2901 - the stripped line is the segment
        if not line:
            continue
        position += 1
        segment_id = line[:3]
        known = segment_id in _VALID_IDS or _valid_id(segment_id)
        if not known or (line[3:4] != separator and len(line) > 3):
            raise Hl7DecodeError(
                "does not start with a three-character segment id and the field separator",
                position=position,
                disposition=Disposition.ERROR if position > 1 else Disposition.REJECT,
                code=ErrorCode.SEGMENT_SEQUENCE,
            )
        if segment_id in _HEADERS_AND_BATCH and position > 1:
            raise _reject(_SECOND_HEADER.format(segment_id), position=position)
        same = by_id.get(segment_id)
        if same is None:
            same = by_id[segment_id] = []
        if "\x00" in line:
            raise _nul(line, separator, segment_id, len(same) + 1, position)
        segment = Segment(line, delimiters, codec, len(same) + 1, position, segment_id)
        if position == 1:
            segment._fields = header
        same.append(segment)
        segments.append(segment)
    return Message(segments, by_id, delimiters, charset, codec)
