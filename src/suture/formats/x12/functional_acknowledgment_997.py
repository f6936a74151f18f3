"""997 and 999 functional acknowledgments: our answer to every inbound functional group.

A 997 (X12 004010/005010) says, per group (AK1/AK9) and per transaction set (AK2/AK5), whether
it was accepted (A), accepted with errors noted (E), partially accepted (P, groups only) or
rejected (R), and points at each error by segment (AK3: id, position in the set counting ST as
1, and the segment's syntax code: 3 mandatory segment missing, 5 used more often than allowed, 7
out of sequence, else 8 data element errors) and element (AK4: position, syntax error code,
the bad value). The 999 (005010X231A1) says the same with IK3/IK4/IK5 and the implementation
guide on AK1/AK2.

:func:`assess_group` runs the decoders over a group read with ``strict=False``, so that
envelope count and control-number errors reject only the set or group at fault. Codes: AK5/IK5
1 transaction set not supported, 3 control number mismatch, 4 segment count mismatch, 5 one or
more segments in error; AK9 4 group control number mismatch, 5 transaction set count mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from suture.formats.x12.documents import decode_transaction_set
from suture.formats.x12.envelope import FunctionalGroup, TransactionSet
from suture.formats.x12.errors import X12DecodeError
from suture.formats.x12.interchange_writer import (
    ControlNumbers,
    TradingPartnerProfile,
    write_interchange,
)

_SEGMENTS_IN_ERROR = "5"
#: AK304/IK304 when the error names no segment syntax code of its own (X12DecodeError).
_DATA_ELEMENT_ERRORS = "8"
_IMPLEMENTATION_999 = "005010X231A1"


@dataclass(frozen=True, slots=True)
class SetOutcome:
    """How one transaction set fared: its ids, A or R, and the errors that rejected it."""

    set_id: str
    control_number: str
    version: str
    position: int
    code: str
    errors: tuple[X12DecodeError, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupOutcome:
    """How one functional group fared: A, E, P or R, and its sets."""

    functional_id: str
    control_number: str
    version: str
    code: str
    sets: tuple[SetOutcome, ...]
    errors: tuple[X12DecodeError, ...] = ()

    @property
    def accepted(self) -> int:
        return sum(1 for outcome in self.sets if outcome.code in ("A", "E"))


def _assess_set(transaction_set: TransactionSet) -> SetOutcome:
    errors = list(transaction_set.errors)
    if not errors:
        try:
            decode_transaction_set(transaction_set)
        except X12DecodeError as error:
            errors.append(error)
    return SetOutcome(
        set_id=transaction_set.id,
        control_number=transaction_set.control_number,
        version=transaction_set.version,
        position=transaction_set.position,
        code="R" if errors else "A",
        errors=tuple(errors),
    )


def assess_group(group: FunctionalGroup) -> GroupOutcome:
    """Decode every set of ``group`` and decide what the acknowledgment says about each."""
    sets = tuple(_assess_set(transaction_set) for transaction_set in group.transaction_sets)
    accepted = sum(1 for outcome in sets if outcome.code == "A")
    if accepted == len(sets) and sets:
        code = "E" if group.errors else "A"
    elif accepted:
        code = "P"
    else:
        code = "R"
    return GroupOutcome(
        group.functional_id, group.control_number, group.version, code, sets, group.errors
    )


def _set_level_code(error: X12DecodeError) -> bool:
    return error.segment in ("ST", "SE") and error.code in ("1", "3", "4")


def _element_position(error: X12DecodeError) -> str:
    digits = error.element[len(error.segment) :]
    return str(int(digits)) if digits.isdigit() else ""


def _set_segments(outcome: SetOutcome, *, implementation: bool) -> list[list[str]]:
    prefix = "IK" if implementation else "AK"
    ak2 = ["AK2", outcome.set_id, outcome.control_number]
    if implementation:
        ak2.append(outcome.version)
    segments = [ak2]
    set_codes: list[str] = []
    for error in outcome.errors:
        if _set_level_code(error):
            set_codes.append(error.code or _SEGMENTS_IN_ERROR)
            continue
        in_set = (error.position or outcome.position) - outcome.position + 1
        segment_id = error.segment or "ST"
        syntax = error.segment_code or _DATA_ELEMENT_ERRORS
        segments.append(
            [f"{prefix}3" if implementation else "AK3", segment_id, str(in_set), "", syntax]
        )
        position = _element_position(error)
        if position:
            segments.append([f"{prefix}4", position, "", error.code or "7"])
        if _SEGMENTS_IN_ERROR not in set_codes:
            set_codes.append(_SEGMENTS_IN_ERROR)
    segments.append([f"{prefix}5", outcome.code, *set_codes[:5]])
    return segments


def _acknowledgment(outcome: GroupOutcome, *, implementation: bool) -> list[list[str]]:
    ak1 = ["AK1", outcome.functional_id, outcome.control_number]
    if implementation:
        ak1.append(outcome.version)
    segments = [ak1]
    for set_outcome in outcome.sets:
        segments += _set_segments(set_outcome, implementation=implementation)
    group_codes = [error.code for error in outcome.errors if error.code]
    counts = [str(len(outcome.sets)), str(len(outcome.sets)), str(outcome.accepted)]
    segments.append(["AK9", outcome.code, *counts, *group_codes[:5]])
    return segments


def write_997(
    group: FunctionalGroup,
    partner: TradingPartnerProfile,
    numbers: ControlNumbers,
    at: datetime,
    outcome: GroupOutcome | None = None,
) -> bytes:
    """The 997 for ``group`` (assessed here unless ``outcome`` is given), sent to ``partner``."""
    result = outcome or assess_group(group)
    body = _acknowledgment(result, implementation=False)
    return write_interchange(partner, numbers, at, ("FA", "997"), [body])


def write_999(
    group: FunctionalGroup,
    partner: TradingPartnerProfile,
    numbers: ControlNumbers,
    at: datetime,
    outcome: GroupOutcome | None = None,
) -> bytes:
    """The 999 (005010X231A1) for ``group``, sent to ``partner``."""
    result = outcome or assess_group(group)
    body = _acknowledgment(result, implementation=True)
    return write_interchange(
        partner, numbers, at, ("FA", "999"), [body], group_version=_IMPLEMENTATION_999
    )
