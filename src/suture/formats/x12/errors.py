"""Errors and findings of the X12 codec, each naming the segment, the element and the reason.

X12 has no escape mechanism and strict envelopes, so a document either reads or it does not; a
reader still needs to know *where* it stopped::

    SutureError
    └── X12Error
        ├── X12DecodeError   the bytes are not a readable interchange, or a transaction set
        │                    breaks a rule the decoder relies on: segment position (1-based,
        │                    ISA is 1), segment id, element ("SE01"), reason; ``code`` is the
        │                    997/999 syntax error code when one applies (the element's, AK4;
        │                    the set's, AK5, for ST/SE), ``segment_code`` the segment's (AK304:
        │                    3 missing, 5 used too often, 7 out of sequence; else 8)
        └── X12EncodeError   a writer refused a value (a delimiter inside data, a bad profile)

A problem that does not stop decoding (a stated total that differs from the computed one, a GTIN
whose check digit does not verify on one catalog line) is an :class:`X12Finding` kept on the
decoded record, so the valid rest of the document still counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from suture.domain.errors import SutureError


def _where(position: int | None, segment: str, element: str) -> str:
    parts = []
    if position is not None:
        parts.append(f"segment {position}" + (f" ({segment})" if segment else ""))
    elif segment:
        parts.append(segment)
    if element:
        parts.append(element)
    return ", ".join(parts)


class X12Error(SutureError):
    """Root of the X12 codec's errors."""


class X12DecodeError(X12Error):
    """The interchange, or one of its transaction sets, cannot be read."""

    def __init__(
        self,
        reason: str,
        *,
        position: int | None = None,
        segment: str = "",
        element: str = "",
        code: str | None = None,
        segment_code: str | None = None,
    ) -> None:
        super().__init__(element or segment, reason)
        self.position = position
        self.segment = segment
        self.element = element
        self.code = code
        self.segment_code = segment_code

    def __str__(self) -> str:
        where = _where(self.position, self.segment, self.element)
        return f"{where}: {self.reason}" if where else self.reason


class X12EncodeError(X12Error):
    """A writer refused to produce a document; ``field`` names the element or profile field."""


@dataclass(frozen=True, slots=True)
class X12Finding:
    """A problem found while decoding that leaves the rest of the transaction set usable."""

    position: int
    segment: str
    element: str
    reason: str

    def __str__(self) -> str:
        return f"{_where(self.position, self.segment, self.element)}: {self.reason}"
