"""Writing an interchange for a trading partner: ISA/GS/ST envelopes around segments we build.

A :class:`TradingPartnerProfile` is what a partner agreement fixes: both sides' ISA qualifiers
and ids, the X12 version, the delimiters and whether the interchange is test or production.
X12 has no escape character, so a value that contains a delimiter cannot be sent; the writer
refuses it with :class:`X12EncodeError` naming the element rather than corrupt the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from suture.formats.x12.errors import X12EncodeError

VERSIONS = {"004010": "00401", "005010": "00501"}
_MAX_CONTROL = 999_999_999


@dataclass(frozen=True, slots=True)
class TradingPartnerProfile:
    """One partner agreement, seen from our side: we send as ``sender``, they receive.

    ``application_sender``/``application_receiver`` (GS02/GS03) default to the ISA ids.
    ``segment_terminator`` may be several characters (``"~\\n"`` for readable files).
    """

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    version: str = "005010"
    element_separator: str = "*"
    component_separator: str = ":"
    repetition_separator: str = "^"
    segment_terminator: str = "~"
    usage_indicator: str = "P"
    acknowledgment_requested: bool = False
    application_sender: str | None = None
    application_receiver: str | None = None

    def __post_init__(self) -> None:
        if self.version not in VERSIONS:
            raise X12EncodeError("version", f"must be one of {', '.join(VERSIONS)}")
        if self.usage_indicator not in ("P", "T"):
            raise X12EncodeError("usage_indicator", "must be P (production) or T (test)")
        singles = {
            "element_separator": self.element_separator,
            "component_separator": self.component_separator,
            "repetition_separator": self.repetition_separator,
        }
        for name, value in singles.items():
            if len(value) != 1 or value.isalnum() or value.isspace():
                raise X12EncodeError(
                    name, f"must be one character, not a letter or digit: {value!r}"
                )
        terminator = self.segment_terminator
        if not terminator or terminator[0].isalnum():
            raise X12EncodeError(
                "segment_terminator", f"must not be empty or alnum: {terminator!r}"
            )
        used = [*singles.values(), terminator[0]]
        if len(set(used)) != len(used):
            raise X12EncodeError("segment_terminator", f"delimiters must differ, got {used!r}")
        for name in ("sender_qualifier", "receiver_qualifier"):
            _fixed(getattr(self, name), 2, name)
        for name in ("sender_id", "receiver_id"):
            _fixed(getattr(self, name), 15, name)

    @property
    def delimiters(self) -> str:
        return self.element_separator + self.component_separator + self.segment_terminator


@dataclass(frozen=True, slots=True)
class ControlNumbers:
    """ISA13, GS06 and the first ST02 of one interchange; each 1 to 999,999,999."""

    interchange: int
    group: int
    transaction_set: int = 1

    def __post_init__(self) -> None:
        for name in ("interchange", "group", "transaction_set"):
            value = getattr(self, name)
            if not 1 <= value <= _MAX_CONTROL:
                raise X12EncodeError(
                    name, f"control number must be 1 to {_MAX_CONTROL}, got {value}"
                )


def _fixed(value: str, width: int, name: str) -> str:
    if not value or len(value) > width:
        raise X12EncodeError(name, f"must be 1 to {width} characters, got {value!r}")
    return value.ljust(width)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise X12EncodeError("at", "must be timezone-aware")
    return at.astimezone(UTC)


def write_interchange(
    partner: TradingPartnerProfile,
    numbers: ControlNumbers,
    at: datetime,
    ids: tuple[str, str],
    transaction_sets: Sequence[Sequence[Sequence[str]]],
    *,
    group_version: str | None = None,
) -> bytes:
    """One interchange with one group (``ids``: GS01 functional id, ST01 set id) of sets,
    each a list of segments (element lists, id first) *without* ST and SE: the writer adds
    and counts them."""
    functional_id, set_id = ids
    when = _utc(at)
    element, terminator = partner.element_separator, partner.segment_terminator
    forbidden = {element, partner.component_separator, terminator, "\r", "\n"}
    if partner.version == "005010":
        forbidden.add(partner.repetition_separator)
    isa11 = partner.repetition_separator if partner.version == "005010" else "U"
    isa = [
        "ISA", "00", " " * 10, "00", " " * 10,
        _fixed(partner.sender_qualifier, 2, "sender_qualifier"),
        _fixed(partner.sender_id, 15, "sender_id"),
        _fixed(partner.receiver_qualifier, 2, "receiver_qualifier"),
        _fixed(partner.receiver_id, 15, "receiver_id"),
        when.strftime("%y%m%d"), when.strftime("%H%M"), isa11, VERSIONS[partner.version],
        f"{numbers.interchange:09d}", "1" if partner.acknowledgment_requested else "0",
        partner.usage_indicator, partner.component_separator,
    ]  # fmt: skip
    version = group_version or partner.version
    gs = [
        "GS", functional_id, partner.application_sender or partner.sender_id,
        partner.application_receiver or partner.receiver_id, when.strftime("%Y%m%d"),
        when.strftime("%H%M"), str(numbers.group), "X", version,
    ]  # fmt: skip
    out = [element.join(isa), _joined(gs, element, forbidden)]
    for offset, segments in enumerate(transaction_sets):
        control = f"{numbers.transaction_set + offset:04d}"
        body = [_joined(segment, element, forbidden) for segment in segments]
        st = ["ST", set_id, control, *([version] if version.startswith("005") else [])]
        out += [_joined(st, element, forbidden), *body]
        out.append(_joined(["SE", str(len(body) + 2), control], element, forbidden))
    out.append(_joined(["GE", str(len(transaction_sets)), str(numbers.group)], element, forbidden))
    out.append(_joined(["IEA", "1", f"{numbers.interchange:09d}"], element, forbidden))
    return (terminator.join(out) + terminator).encode("utf-8")


def _joined(segment: Sequence[str], element: str, forbidden: set[str]) -> str:
    for index, value in enumerate(segment[1:], start=1):
        for delimiter in forbidden:
            if delimiter in value:
                name = f"{segment[0]}{index:02d}"
                raise X12EncodeError(name, f"value {value!r} contains the delimiter {delimiter!r}")
    while len(segment) > 1 and segment[-1] == "":
        segment = segment[:-1]
    return element.join(segment)
