"""Cutting a transaction set's body into header, detail lines and summary, and N1 party loops.

The supply-chain sets share one shape (X12 004010 table 1/2/3): header segments, then a detail
loop per line that opens with its line segment (PO1, IT1, LIN), then summary segments that open
with a summary segment (CTT, TDS). Inside any of them, an N1 segment opens a party loop that runs
over the N2/N3/N4/REF/PER segments that follow it.

Each set has one beginning segment (BIG, BEG, BAK, BSN, BCT: max use 1) and its lines come
before its summary. A second beginning segment, or a line after the summary, is what two
documents run together in one ST/SE look like: refused (:func:`beginning`, :func:`cut`), not
read as one document whose second half is dropped or merged into the first.
"""

from __future__ import annotations

from collections.abc import Sequence

from suture.formats.x12.elements import PARTY_LOOP, Party, party
from suture.formats.x12.envelope import TransactionSet
from suture.formats.x12.errors import X12DecodeError
from suture.formats.x12.tokenizer import Segment

#: 997/999 segment syntax error codes (AK304/IK304) of the errors raised here.
MANDATORY_MISSING = "3"
USED_TOO_OFTEN = "5"
OUT_OF_SEQUENCE = "7"


def cut(
    body: Sequence[Segment], line_id: str, summary_ids: frozenset[str]
) -> tuple[list[Segment], list[list[Segment]], list[Segment]]:
    """Header segments, one segment list per line (its line segment first), summary segments."""
    header: list[Segment] = []
    lines: list[list[Segment]] = []
    summary: list[Segment] = []
    current = header
    for segment in body:
        segment_id = segment.id
        if segment_id == line_id and current is summary:
            raise after_summary(segment, summary[0])
        if segment_id == line_id:
            current = [segment]
            lines.append(current)
        elif segment_id in summary_ids and current is not summary:
            current = summary
            current.append(segment)
        else:
            current.append(segment)
    return header, lines, summary


def after_summary(segment: Segment, summary: Segment) -> X12DecodeError:
    """A line segment after the set's summary began (see the module docstring)."""
    return X12DecodeError(
        f"{segment.id} after the summary ({summary.id}, segment {summary.position}): two "
        "documents in one transaction set?",
        position=segment.position,
        segment=segment.id,
        segment_code=OUT_OF_SEQUENCE,
    )


def beginning(transaction_set: TransactionSet, segment_id: str) -> Segment:
    """The set's one beginning segment (BIG, BEG…); refused when missing or repeated."""
    found = of(transaction_set.body, segment_id)
    if not found:
        raise X12DecodeError(
            f"{transaction_set.id} has no {segment_id} segment (it belongs right after ST)",
            position=transaction_set.position + 1,  # where it belongs: right after ST
            segment=segment_id,
            segment_code=MANDATORY_MISSING,
        )
    if len(found) > 1:
        raise X12DecodeError(
            f"a second {segment_id} in one {transaction_set.id} ({segment_id} is used once): "
            "two documents in one transaction set?",
            position=found[1].position,
            segment=segment_id,
            segment_code=USED_TOO_OFTEN,
        )
    return found[0]


def take_parties(segments: Sequence[Segment]) -> tuple[list[Party], list[Segment]]:
    """The parties of every N1 loop in ``segments``, and the segments outside those loops."""
    parties: list[Party] = []
    rest: list[Segment] = []
    n1: Segment | None = None
    loop: list[Segment] = []
    for segment in segments:
        if segment.id == "N1":
            if n1 is not None:
                parties.append(party(n1, loop))
            n1, loop = segment, []
        elif n1 is not None and segment.id in PARTY_LOOP:
            loop.append(segment)
        else:
            if n1 is not None:
                parties.append(party(n1, loop))
                n1 = None
            rest.append(segment)
    if n1 is not None:
        parties.append(party(n1, loop))
    return parties, rest


def of(segments: Sequence[Segment], *ids: str) -> list[Segment]:
    """The segments among ``segments`` whose id is one of ``ids``, in order."""
    return [segment for segment in segments if segment.id in ids]
