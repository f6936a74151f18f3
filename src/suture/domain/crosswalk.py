"""Crosswalks: a source system's local code, at a facility, mapped to a canonical id.

``(source system, facility, kind, local code) → canonical id``. A facility-specific mapping wins
over a system-wide one (``facility_id`` None). Rules, so that a mapping is never silently changed:

- mapping a code to the id it already has changes nothing (re-imports are no-ops);
- mapping a code that is mapped to another id is a conflict, refused unless the caller asks to
  supersede, which closes the old mapping and keeps it as history;
- many local codes may map to one canonical id (two hospitals' numbers for one item).

Time is passed in, never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from suture.domain.errors import CrosswalkConflictError, DomainError


class CrosswalkKind(StrEnum):
    ITEM = "item"
    SUPPLIER = "supplier"
    DEPARTMENT = "department"
    COST_CENTER = "cost_center"
    CHARGE_CODE = "charge_code"
    LOCATION = "location"


@dataclass(frozen=True, slots=True)
class CrosswalkKey:
    source_system: str
    facility_id: str | None
    kind: CrosswalkKind
    local_code: str

    def __str__(self) -> str:
        where = self.facility_id or "*"
        return f"{self.source_system}/{where}/{self.kind}/{self.local_code}"


@dataclass(slots=True, kw_only=True)
class CrosswalkEntry:
    """One mapping, valid from ``valid_from`` until ``valid_to`` (None: current)."""

    key: CrosswalkKey
    canonical_id: str
    valid_from: datetime
    valid_to: datetime | None = None
    recorded_by: str = "suture"

    @property
    def is_current(self) -> bool:
        return self.valid_to is None


class MappingOutcome(StrEnum):
    ADDED = "added"
    UNCHANGED = "unchanged"
    SUPERSEDED = "superseded"


@dataclass(frozen=True, slots=True)
class MappingDecision:
    """What :func:`decide_mapping` concluded: the outcome, the entry to close, the entry to add."""

    outcome: MappingOutcome
    close: CrosswalkEntry | None
    add: CrosswalkEntry | None


def decide_mapping(
    current: CrosswalkEntry | None,
    key: CrosswalkKey,
    canonical_id: str,
    at: datetime,
    *,
    supersede: bool = False,
    recorded_by: str = "suture",
) -> MappingDecision:
    """Apply the conflict rules to a requested mapping given the current one for the same key."""
    if not key.local_code.strip():
        raise DomainError("local_code", "must not be empty")
    if not canonical_id:
        raise DomainError("canonical_id", "must not be empty")
    if at.tzinfo is None:
        raise DomainError("valid_from", "must be timezone-aware")
    new = CrosswalkEntry(key=key, canonical_id=canonical_id, valid_from=at, recorded_by=recorded_by)
    if current is None:
        return MappingDecision(MappingOutcome.ADDED, None, new)
    if current.canonical_id == canonical_id:
        return MappingDecision(MappingOutcome.UNCHANGED, None, None)
    if not supersede:
        raise CrosswalkConflictError(
            "canonical_id",
            f"{key} already maps to {current.canonical_id}; "
            f"refusing to remap it to {canonical_id} without supersede",
        )
    closed = CrosswalkEntry(
        key=current.key,
        canonical_id=current.canonical_id,
        valid_from=current.valid_from,
        valid_to=at,
        recorded_by=current.recorded_by,
    )
    return MappingDecision(MappingOutcome.SUPERSEDED, closed, new)


def resolve(entries: list[CrosswalkEntry], facility_id: str | None) -> CrosswalkEntry | None:
    """The current mapping for a facility among candidate entries of one code.

    ``entries`` are the current entries for (source system, kind, local code) at the facility and
    system-wide; the facility-specific one wins.
    """
    current = [entry for entry in entries if entry.is_current]
    specific = [entry for entry in current if entry.key.facility_id == facility_id]
    if facility_id is not None and specific:
        return specific[0]
    general = [entry for entry in current if entry.key.facility_id is None]
    return general[0] if general else None
