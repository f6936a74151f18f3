"""Batches and files (HL7 v2.5.1 §2.10.3): FHS/BHS envelopes split into their messages.

Each message comes back as its own raw bytes (or text), so that the ingest can store every
message raw before decoding it, and one bad message does not sink its neighbours. Plain files
of messages one after another (no envelope) split the same way. The envelope is checked as far
as it can be without reading the messages: trailer counts (BTS-1, FTS-1) must match, and a
batch or file that begins with BHS or FHS must end with its BTS or FTS (§2.10.3), since a file
cut short in transfer looks like a batch without its trailer, its last message short of segments.

Lines are stripped of white space, MLLP framing characters and NULs left around them, and of
a DOS end-of-file mark (Ctrl-Z, 0x1A), which old tools append to a file.

A message begins at every MSH, even one that does not begin a line: files made by putting
messages one after another often lack the last segment terminator (or carry a byte-order mark
before each message), so the next MSH runs on into the previous message's last segment. The
MSH is recognised by its field separator and four encoding characters (``MSH|^~\\&``, or the
ones the file's first MSH declares), which no field can hold; read as one message, the two
would post the second one's charges under the first one's header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AnyStr, Generic, overload

from suture.formats.hl7v2.errors import Disposition, ErrorCode, Hl7DecodeError
from suture.formats.hl7v2.tokenizer import DEFAULT_DELIMITERS, Segment, read_delimiters

_STRIP = " \t\x0b\x0c\x1c\x00\x1a"  # white space, MLLP framing, NULs, a DOS end-of-file mark
_STRIP_BYTES = _STRIP.encode()
_ENVELOPE = frozenset({"FHS", "BHS", "BTS", "FTS"})
_DEFAULT_HEADER = "MSH|^~\\&"
_HEADER_LENGTH = len(_DEFAULT_HEADER)


@dataclass(frozen=True, slots=True)
class Batch(Generic[AnyStr]):
    """The messages of a batch or file, and its envelope segments (FHS, BHS…, BTS…, FTS)."""

    messages: tuple[AnyStr, ...]
    envelope: tuple[Segment, ...] = ()

    def header(self, segment_id: str) -> Segment | None:
        """The first envelope segment with this id (``"FHS"``, ``"BHS"``…), or None."""
        return next((s for s in self.envelope if s.id == segment_id), None)


def _error(
    reason: str, position: int, segment: str = "", field: int | None = None
) -> Hl7DecodeError:
    return Hl7DecodeError(
        reason,
        segment=segment,
        field_number=field,
        position=position,
        disposition=Disposition.REJECT,
        code=ErrorCode.SEGMENT_SEQUENCE,
    )


@overload
def split_batch(data: bytes) -> Batch[bytes]: ...
@overload
def split_batch(data: str) -> Batch[str]: ...
def split_batch(data: bytes | str) -> Batch[bytes] | Batch[str]:
    """The messages of a batch, file or run of messages; :class:`Hl7DecodeError` otherwise.

    Messages are returned with their segments ``\\r``-terminated and surrounding blanks removed.
    """
    if isinstance(data, bytes):
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise _error(
                f"UTF-16 text (byte-order mark {data[:2].hex(' ').upper()}); HL7 v2 is read as "
                "UTF-8 or the character set MSH-18 names: save it as UTF-8",
                1,
            )
        lines = data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\r").replace(b"\n", b"\r")
        start = lines.find(b"MSH")
        declared = lines[start : start + _HEADER_LENGTH] if start >= 0 else b""
        for marker in _headers(declared.decode("latin-1")):
            header = marker.encode("latin-1")
            lines = lines.replace(b"\xef\xbb\xbf" + header, header).replace(header, b"\r" + header)
        raw = [line.strip(_STRIP_BYTES) for line in lines.split(b"\r")]
        groups, envelope = _group([line[:3].decode("latin-1") for line in raw], raw)
        messages = tuple(b"\r".join(raw[i] for i in group) + b"\r" for group in groups)
        return Batch(messages, envelope)
    text = data.removeprefix("\ufeff").replace("\r\n", "\r").replace("\n", "\r")
    start = text.find("MSH")
    for marker in _headers(text[start : start + _HEADER_LENGTH] if start >= 0 else ""):
        text = text.replace("\ufeff" + marker, marker).replace(marker, "\r" + marker)
    lines_str = [line.strip(_STRIP) for line in text.split("\r")]
    groups, envelope = _group([line[:3] for line in lines_str], lines_str)
    return Batch(tuple("\r".join(lines_str[i] for i in g) + "\r" for g in groups), envelope)


def _headers(declared: str) -> tuple[str, ...]:
    """What an MSH looks like: ``MSH|^~\\&``, and ``declared`` (the file's first MSH, its field
    separator and four encoding characters) when it is another well-formed one."""
    delimiters = declared[3:]
    usable = len(delimiters) == _HEADER_LENGTH - 3 and len(set(delimiters)) == len(delimiters)
    if usable and all(c.isprintable() and not c.isalnum() and not c.isspace() for c in delimiters):
        return tuple(dict.fromkeys((_DEFAULT_HEADER, declared)))
    return (_DEFAULT_HEADER,)


def _group(
    ids: list[str], raw: list[bytes] | list[str]
) -> tuple[list[list[int]], tuple[Segment, ...]]:
    """Line indexes of each message, and the envelope segments, in order."""
    groups: list[list[int]] = []
    envelope: list[Segment] = []
    per_batch: list[int] = []
    delimiters = DEFAULT_DELIMITERS
    position = 0
    for index, segment_id in enumerate(ids):
        if not raw[index]:
            continue
        position += 1
        if segment_id in _ENVELOPE:
            line = raw[index]
            text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
            if segment_id in {"FHS", "BHS"}:
                try:
                    delimiters = read_delimiters(text)
                except Hl7DecodeError as error:
                    raise _error(error.reason, position, segment_id, error.field_number) from None
            if segment_id == "BHS":
                per_batch.append(0)
            envelope.append(Segment(text, delimiters, "utf-8", 1, position))
        elif segment_id == "MSH":
            groups.append([index])
            if per_batch:
                per_batch[-1] += 1
        elif groups:
            groups[-1].append(index)
        else:
            raise _error("a segment before any MSH", position)
    if not groups:
        raise _error("holds no MSH segment", 1)
    _check_counts(envelope, per_batch)
    return groups, tuple(envelope)


def _unclosed(opened: Segment, trailer: str) -> Hl7DecodeError:
    what = "batch" if opened.id == "BHS" else "file"
    return _error(
        f"the {what} that begins at segment {opened.position} has no {trailer} trailer: was the "
        "file cut short?",
        opened.position,
        opened.id,
    )


def _check_trailers(envelope: list[Segment]) -> None:
    """Every BHS closed by a BTS before the next BHS or the FTS, an FHS by the FTS."""
    batch: Segment | None = None
    file: Segment | None = None
    for segment in envelope:
        if segment.id in {"BHS", "FTS"} and batch is not None:
            raise _unclosed(batch, "BTS")
        if segment.id == "BHS":
            batch = segment
        elif segment.id == "BTS":
            batch = None
        elif segment.id == "FHS":
            file = segment
        elif segment.id == "FTS":
            file = None
    if batch is not None:
        raise _unclosed(batch, "BTS")
    if file is not None:
        raise _unclosed(file, "FTS")


def _check_counts(envelope: list[Segment], per_batch: list[int]) -> None:
    batch = -1
    for segment in envelope:
        if segment.id == "BHS":
            batch += 1
        elif segment.id in {"BTS", "FTS"}:
            if segment.id == "BTS":
                expected, what = (per_batch[batch] if batch >= 0 else 0), "messages"
            else:
                expected, what = len(per_batch), "batches"
            said = segment.value(1).strip()
            if said and (not said.isdigit() or int(said) != expected):
                shown = repr(said) if len(said) <= 9 else "(long)"
                raise _error(
                    f"count {shown} does not match the {expected} {what} present",
                    segment.position,
                    segment.id,
                    1,
                )
    _check_trailers(envelope)
