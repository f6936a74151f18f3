"""The interchange envelope: ISA/IEA around GS/GE functional groups around ST/SE transaction sets.

Counts and control numbers are checked as ASC X12.6 defines them: IEA01 is the number of
functional groups and IEA02 repeats ISA13; GE01 is the number of transaction sets and GE02
repeats GS06; SE01 counts the set's segments including ST and SE, and SE02 repeats ST02.
Structure errors (a segment outside any group, an ST without its SE, no IEA) always raise.
Count and control-number mismatches raise too, unless ``strict=False``: then they are kept on
the group or transaction set, so that a 997/999 can reject exactly the part at fault.

ISA12, the interchange control version, is read but not trusted: several real partners send
values such as ``00040`` that name no X12 version. Such an interchange is accepted with a
finding, because each group states its own version in GS08 and that is the one decoders use.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from suture.formats.x12.errors import X12DecodeError, X12Finding
from suture.formats.x12.tokenizer import Delimiters, Segment, tokenize

_VERSION = re.compile(r"00[2-9]\d\d")
_GS_ELEMENTS = 8
_ST_ELEMENTS = 2


@dataclass(frozen=True, slots=True)
class TransactionSet:
    """One ST…SE transaction set; ``segments`` include ST and SE."""

    id: str
    control_number: str
    version: str
    segments: tuple[Segment, ...]
    errors: tuple[X12DecodeError, ...] = ()

    @property
    def position(self) -> int:
        return self.segments[0].position

    @property
    def body(self) -> tuple[Segment, ...]:
        """The segments between ST and SE."""
        return self.segments[1:-1]


@dataclass(frozen=True, slots=True)
class FunctionalGroup:
    """One GS…GE group of transaction sets of one functional id (GS01: PO, IN, SH…)."""

    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control_number: str
    agency: str
    version: str
    position: int
    transaction_sets: tuple[TransactionSet, ...]
    errors: tuple[X12DecodeError, ...] = ()


@dataclass(frozen=True, slots=True)
class TechnicalAcknowledgment:
    """A TA1: the interchange it answers (TA101), its date/time, and the code (A, E, R)."""

    control_number: str
    date: str
    time: str
    code: str
    note_code: str
    position: int


@dataclass(frozen=True, slots=True)
class Interchange:
    """One ISA…IEA interchange: who sent it to whom, its delimiters, and its contents."""

    delimiters: Delimiters
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: str
    time: str
    version: str
    control_number: str
    acknowledgment_requested: str
    usage: str
    groups: tuple[FunctionalGroup, ...]
    acknowledgments: tuple[TechnicalAcknowledgment, ...] = ()
    findings: tuple[X12Finding, ...] = field(default=())

    def transaction_sets(self) -> Iterator[tuple[FunctionalGroup, TransactionSet]]:
        for group in self.groups:
            for transaction_set in group.transaction_sets:
                yield group, transaction_set


def _error(
    segment: Segment, element: int | None, reason: str, code: str | None = None
) -> X12DecodeError:
    name = segment.name(element) if element is not None else ""
    return X12DecodeError(
        reason, position=segment.position, segment=segment.id, element=name, code=code
    )


def _count(segment: Segment, element: int) -> int:
    value = segment.get(element).strip()
    if not (value.isascii() and value.isdigit()):
        raise _error(segment, element, f"count must be a number, got {value!r}")
    return int(value)


def _compare_count(
    segment: Segment, element: int, actual: int, what: str, code: str
) -> X12DecodeError | None:
    stated = _count(segment, element)
    if stated == actual:
        return None
    return _error(segment, element, f"says {stated} {what}, found {actual}", code)


def _compare_control(
    trailer: Segment, element: int, header: Segment, header_element: int, code: str
) -> X12DecodeError | None:
    stated, expected = trailer.get(element).strip(), header.get(header_element).strip()
    if stated == expected:
        return None
    reason = f"control number {stated!r} does not match {header.name(header_element)} {expected!r}"
    return _error(trailer, element, reason, code)


class _Reader:
    """Walks the segments once, building groups and sets and collecting envelope errors."""

    def __init__(self, segments: list[Segment], strict: bool) -> None:
        self.segments = segments
        self.strict = strict
        self.index = 1

    def keep(self, errors: list[X12DecodeError], error: X12DecodeError | None) -> None:
        if error is None:
            return
        if self.strict:
            raise error
        errors.append(error)

    def peek(self) -> Segment | None:
        return self.segments[self.index] if self.index < len(self.segments) else None

    def group(self, gs: Segment) -> FunctionalGroup:
        if len(gs.elements) <= _GS_ELEMENTS:
            raise _error(
                gs, len(gs.elements), f"GS has {len(gs.elements) - 1} elements; it needs 8"
            )
        sets: list[TransactionSet] = []
        while (segment := self.peek()) is not None and segment.id == "ST":
            sets.append(self.transaction_set(segment, gs.get(8)))
        if segment is None or segment.id != "GE":
            found = "the end of the interchange" if segment is None else segment.id
            where = segment or gs
            raise _error(
                where, None, f"group from segment {gs.position} expects ST or GE, found {found}"
            )
        self.index += 1
        errors: list[X12DecodeError] = []
        self.keep(errors, _compare_count(segment, 1, len(sets), "transaction sets", "5"))
        self.keep(errors, _compare_control(segment, 2, gs, 6, "4"))
        return FunctionalGroup(
            functional_id=gs.get(1),
            sender=gs.get(2).strip(),
            receiver=gs.get(3).strip(),
            date=gs.get(4),
            time=gs.get(5),
            control_number=gs.get(6).strip(),
            agency=gs.get(7),
            version=gs.get(8).strip(),
            position=gs.position,
            transaction_sets=tuple(sets),
            errors=tuple(errors),
        )

    def transaction_set(self, st: Segment, group_version: str) -> TransactionSet:
        if len(st.elements) <= _ST_ELEMENTS or not st.get(1) or not st.get(2):
            raise _error(
                st, 1 if not st.get(1) else 2, "ST needs a transaction set id and control number"
            )
        start = self.index
        self.index += 1
        while (segment := self.peek()) is not None and segment.id not in ("SE", "ST", "GE", "IEA"):
            self.index += 1
        if segment is None or segment.id != "SE":
            found = "the end of the interchange" if segment is None else segment.id
            raise _error(
                segment or st,
                None,
                f"transaction set from segment {st.position} has no SE before {found}",
            )
        self.index += 1
        members = tuple(self.segments[start : self.index])
        errors: list[X12DecodeError] = []
        self.keep(
            errors, _compare_count(segment, 1, len(members), "segments (ST and SE included)", "4")
        )
        self.keep(errors, _compare_control(segment, 2, st, 2, "3"))
        version = st.get(3) or group_version
        return TransactionSet(st.get(1), st.get(2), version, members, tuple(errors))


def read_interchange(data: bytes | str, *, strict: bool = True) -> Interchange:
    """The interchange in ``data``, with every envelope rule checked.

    Raises :class:`X12DecodeError` naming the segment position, id, element and reason.
    """
    delimiters, segments = tokenize(data)
    isa = segments[0]
    reader = _Reader(segments, strict)
    acknowledgments: list[TechnicalAcknowledgment] = []
    while (segment := reader.peek()) is not None and segment.id == "TA1":
        acknowledgments.append(
            TechnicalAcknowledgment(
                control_number=segment.get(1),
                date=segment.get(2),
                time=segment.get(3),
                code=segment.get(4),
                note_code=segment.get(5),
                position=segment.position,
            )
        )
        reader.index += 1
    groups: list[FunctionalGroup] = []
    while (segment := reader.peek()) is not None and segment.id == "GS":
        reader.index += 1
        groups.append(reader.group(segment))
    if segment is None:
        last = segments[-1]
        raise X12DecodeError(
            "the interchange has no IEA trailer", position=last.position + 1, segment="IEA"
        )
    if segment.id != "IEA":
        raise _error(segment, None, f"expected GS, TA1 or IEA at this level, found {segment.id}")
    if reader.index + 1 < len(segments):
        extra = segments[reader.index + 1]
        raise _error(extra, None, "segment after IEA; a document holds one interchange")
    iea_errors: list[X12DecodeError] = []
    reader.keep(iea_errors, _compare_count(segment, 1, len(groups), "functional groups", "021"))
    reader.keep(iea_errors, _compare_control(segment, 2, isa, 13, "001"))
    if iea_errors:
        # An interchange whose trailer is wrong cannot be trusted as a whole (TA1 territory).
        raise iea_errors[0]
    return Interchange(
        delimiters=delimiters,
        sender_qualifier=isa.get(5).strip(),
        sender_id=isa.get(6).strip(),
        receiver_qualifier=isa.get(7).strip(),
        receiver_id=isa.get(8).strip(),
        date=isa.get(9).strip(),
        time=isa.get(10).strip(),
        version=isa.get(12).strip(),
        control_number=isa.get(13).strip(),
        acknowledgment_requested=isa.get(14).strip(),
        usage=isa.get(15).strip(),
        groups=tuple(groups),
        acknowledgments=tuple(acknowledgments),
        findings=_isa_findings(isa),
    )


def _isa_findings(isa: Segment) -> tuple[X12Finding, ...]:
    version = isa.get(12)
    if _VERSION.fullmatch(version):
        return ()
    reason = (
        f"interchange control version {version!r} is not an X12 version (00200 to 00999); "
        "each group's GS08 version is used instead"
    )
    return (X12Finding(isa.position, "ISA", "ISA12", reason),)
