"""One crosswalk mapping at a time, for people fixing what was parked (the Process API).

The same rules as a crosswalk import (``crosswalk_import.py``): the domain's conflict rules
decide against the current mapping (the same again changes nothing; a different one is
refused unless superseding; a superseded mapping is closed, never deleted); the facility and
the canonical record must exist; and a new mapping re-drives, in the same transaction, every
message parked waiting for it (DESIGN.md §3 guarantee 4), resolving their exception items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from suture.domain.crosswalk import (
    CrosswalkEntry,
    CrosswalkKey,
    CrosswalkKind,
    MappingOutcome,
    decide_mapping,
)
from suture.domain.errors import DomainError
from suture.services.redrive import redrive_mapping
from suture.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class MappingResult:
    """What a mapping request did, and how many parked work items it re-drove."""

    outcome: MappingOutcome
    entry: CrosswalkEntry
    redriven: int


def map_code(
    uow: UnitOfWork,
    key: CrosswalkKey,
    canonical_id: str,
    at: datetime,
    *,
    recorded_by: str,
    supersede: bool = False,
) -> MappingResult:
    """Record ``key -> canonical_id`` within ``uow`` (the caller commits); raise
    :class:`~suture.domain.errors.DomainError` naming the field that makes it impossible."""
    if key.facility_id is not None and uow.facilities.get(key.facility_id) is None:
        raise DomainError("facility_id", f"no facility {key.facility_id}")
    repository = _repository(uow, key.kind)
    if repository is not None and repository.get(canonical_id) is None:
        raise DomainError("canonical_id", f"no {key.kind} {canonical_id} to map to")
    decision = decide_mapping(
        uow.crosswalks.current(key),
        key,
        canonical_id,
        at,
        supersede=supersede,
        recorded_by=recorded_by,
    )
    if decision.close is not None:
        uow.crosswalks.close(decision.close)
    redriven = 0
    if decision.add is not None:
        uow.crosswalks.add(decision.add)
        redriven = redrive_mapping(uow, key, at)
    entry = decision.add or uow.crosswalks.current(key)
    assert entry is not None  # unchanged: the current mapping is the one asked for
    return MappingResult(decision.outcome, entry, redriven)


def _repository(uow: UnitOfWork, kind: CrosswalkKind) -> Any:
    """Where the canonical records of ``kind`` live; None for charge codes (the CDM's own)."""
    return {
        CrosswalkKind.ITEM: uow.items,
        CrosswalkKind.SUPPLIER: uow.suppliers,
        CrosswalkKind.DEPARTMENT: uow.departments,
        CrosswalkKind.COST_CENTER: uow.cost_centers,
        CrosswalkKind.LOCATION: uow.locations,
    }.get(kind)
