"""Recording crosswalk rows: local codes of other systems mapped to canonical ids.

A row is a request, decided against the current mapping of its key by the domain's conflict
rules (:func:`~suture.domain.crosswalk.decide_mapping`): the same mapping again changes nothing,
a different one is refused unless the row asks to supersede, and a superseded mapping is closed,
never deleted, so history is kept. A row is also refused when its facility or the canonical id
it maps to does not exist, or when the import's source system may not write crosswalks at that
facility. A new mapping re-drives, in the same transaction, every message parked waiting for it
(DESIGN.md §3 guarantee 4).
"""

from __future__ import annotations

from suture.domain.authority import ObjectType
from suture.domain.crosswalk import MappingOutcome, decide_mapping
from suture.domain.errors import DomainError
from suture.formats.csv import CrosswalkRequest, Decoded, RowError
from suture.services.masterdata_batch import Change, ImportBatch, Outcome, value_of
from suture.services.redrive import redrive_mapping

_MAPPING_CHANGES = {
    MappingOutcome.ADDED: Change.INSERTED,
    MappingOutcome.SUPERSEDED: Change.UPDATED,
    MappingOutcome.UNCHANGED: Change.UNCHANGED,
}


def write_crosswalks(batch: ImportBatch, rows: list[Decoded[object]]) -> list[Outcome]:
    """Each row's mapping decided and recorded in file order, so a later row sees an earlier."""
    return [(row.line, _map_code(batch, row)) for row in rows]


def _map_code(batch: ImportBatch, row: Decoded[object]) -> Change | RowError:
    request = value_of(row, CrosswalkRequest)
    key, canonical_id = request.key, request.canonical_id
    if key.facility_id is not None:
        if not batch.exists("facility", key.facility_id):
            return RowError(row.line, row.column("facility_id"), f"no facility {key.facility_id}")
        try:
            batch.authority.check_write(ObjectType.CROSSWALK, batch.source_system, key.facility_id)
        except DomainError as error:
            return RowError(row.line, row.column("facility_id"), error.reason)
    if not batch.exists(key.kind, canonical_id):
        return RowError(
            row.line, row.column("canonical_id"), f"no {key.kind} {canonical_id} to map to"
        )
    try:
        decision = decide_mapping(
            batch.uow.crosswalks.current(key),
            key,
            canonical_id,
            batch.at,
            supersede=request.supersede,
            recorded_by=batch.source_system,
        )
    except DomainError as error:
        return RowError(row.line, row.column("canonical_id"), error.reason)
    if decision.close is not None:
        batch.uow.crosswalks.close(decision.close)
    if decision.add is not None:
        batch.uow.crosswalks.add(decision.add)
        redrive_mapping(batch.uow, key, batch.at)
    return _MAPPING_CHANGES[decision.outcome]
