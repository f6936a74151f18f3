"""Process API: replay with guardrails, and a crosswalk fix that re-drives what was parked.

- ``POST /api/v1/process/replay`` re-drives events by id, by time range (and type), or every
  dead letter, optionally for one handler; a dry run (the default) only says how many and
  which; a real one is rate-limited on request and recorded in the audit trail. Idempotency
  keys and tracking rows make replaying processed work a no-op (DESIGN.md §3). The event log is
  every facility's, so a replay needs a client of every facility.
- ``POST /api/v1/process/crosswalks`` maps a source system's local code to a canonical record
  and, in the same transaction, re-drives every message parked waiting for that mapping and
  resolves their exception items (``services/crosswalks.py``), recorded in the audit trail.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, Scope
from suture.domain.audit import Outcome
from suture.domain.crosswalk import CrosswalkKey, MappingOutcome
from suture.domain.errors import SutureError
from suture.entrypoints.api.auditing import actor, audited
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.process.schemas import (
    CrosswalkCreate,
    CrosswalkResult,
    ReplayReport,
    ReplayRequest,
)
from suture.entrypoints.api.security import check_record, require
from suture.services.crosswalks import MappingResult, map_code
from suture.services.replay import ReplaySelection, Report

router = APIRouter(prefix="/api/v1/process", responses=responses(400, 401, 403, 422, 429))

Operator = Annotated[Principal, require(Scope.PROCESS_EXECUTE)]

#: How many (handler, event) items a report lists.
SAMPLE = 50


@router.post("/replay", tags=["replay"], summary="Replay events", response_model=ReplayReport)
async def replay(request: Request, principal: Operator, body: ReplayRequest) -> ReplayReport:
    """Re-drive events (a dry run unless `dry_run` is false); exactly one selection."""
    if not principal.all_facilities or principal.supplier_id is not None:
        raise AccessDeniedError("facility_id", "a replay spans every facility's event log")
    hub: Hub = request.app.state.hub
    selection = ReplaySelection(
        event_ids=tuple(body.event_ids),
        since=body.since,
        until=body.until,
        event_type=body.event_type,
        dead_letter=body.dead_letter,
        handler=body.handler,
    )

    def run() -> Report:
        return hub.bus.replay(selection, dry_run=body.dry_run, rate=body.rate)

    if body.dry_run:
        report = await run_in_threadpool(run)
    else:
        report = await run_in_threadpool(
            audited, hub, principal, Scope.PROCESS_EXECUTE, "replay.run",
            target=("event_log", None), run=run,
            after=lambda done: f"items={len(done.items)} events={done.events}",
        )  # fmt: skip
    return ReplayReport(
        dry_run=report.dry_run,
        events=report.events,
        items=len(report.items),
        already_processed=report.already_processed,
        sample=[f"{handler}/{event_id}" for handler, event_id in report.items[:SAMPLE]],
    )


@router.post(
    "/crosswalks",
    tags=["crosswalks"],
    summary="Map a local code and re-drive what waited for it",
    status_code=201,
    response_model=CrosswalkResult,
    responses={200: {"model": CrosswalkResult, "description": "The same mapping was current."}},
)
def add_crosswalk(request: Request, principal: Operator, body: CrosswalkCreate) -> JSONResponse:
    """Record the mapping (`201`; `200` when it was already current) and re-drive the work
    parked on it; a different current mapping is refused unless `supersede` is true."""
    hub: Hub = request.app.state.hub
    check_record(principal, facility_id=body.facility_id, write=True)
    if principal.supplier_id is not None:
        raise AccessDeniedError("supplier_id", "crosswalks belong to no supplier")
    key = CrosswalkKey(
        source_system=body.source_system,
        facility_id=body.facility_id,
        kind=body.kind,
        local_code=body.local_code,
    )
    who = actor(principal, Scope.PROCESS_EXECUTE)
    try:
        with hub.uow_factory() as uow:
            result: MappingResult = map_code(
                uow, key, body.canonical_id, hub.clock(),
                recorded_by=principal.client_id, supersede=body.supersede,
            )  # fmt: skip
            hub.audit.record(
                uow, who, "crosswalk.map", target_type="crosswalk", target_id=str(key),
                after=f"{body.canonical_id} ({result.outcome}); re-drove {result.redriven}",
            )  # fmt: skip
            uow.commit()
    except SutureError as error:  # the mapping rolled back: its refusal is recorded alone
        hub.audit.record_alone(
            who, "crosswalk.map", target_type="crosswalk", target_id=str(key),
            outcome=Outcome.FAILED, reason=f"{error.field}: {error.reason}",
        )  # fmt: skip
        raise
    answer = CrosswalkResult(
        outcome=result.outcome.value,
        valid_from=result.entry.valid_from,
        redriven=result.redriven,
    )
    status = 200 if result.outcome is MappingOutcome.UNCHANGED else 201
    return JSONResponse(answer.model_dump(mode="json"), status_code=status)
