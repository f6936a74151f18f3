"""System API: stock positions by location, and crosswalk lookups.

``GET /api/v1/system/stock-positions?location_id=L`` answers the on-hand quantities (owned and
consigned apart, in each item's base unit) at one location, paged by item; the location's
facility must be the caller's. ``GET /api/v1/system/crosswalks/{kind}/{source_system}/
{local_code}`` answers what a source system's local code maps to now and every mapping it had,
at a facility (``facility_id``) or system-wide. Neither belongs to a supplier.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal
from suture.domain.crosswalk import CrosswalkEntry, CrosswalkKey, CrosswalkKind
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.security import check_record
from suture.entrypoints.api.system import schemas as s
from suture.entrypoints.api.system.params import Cursor, Limit
from suture.entrypoints.api.system.records import Reader, decode_cursor, encode_cursor

router = APIRouter(prefix="/api/v1/system", responses=responses(401, 403, 422, 429))


class CrosswalkLookup(BaseModel):
    current: s.CrosswalkPublic | None = Field(description="The mapping in force; null: none.")
    history: list[s.CrosswalkPublic] = Field(description="Every mapping of the code, oldest first.")


def _no_supplier(principal: Principal) -> None:
    if principal.supplier_id is not None:
        raise AccessDeniedError("supplier_id", "these records belong to no supplier")


@router.get(
    "/stock-positions",
    tags=["inventory"],
    summary="List stock positions at a location",
    response_model=s.Page[s.StockPositionPublic],
    responses=responses(404),
)
def list_stock_positions(
    request: Request,
    principal: Reader,
    location_id: Annotated[str, Query(min_length=1, description="The stocking location.")],
    cursor: Cursor = None,
    limit: Limit = 100,
) -> s.Page[s.StockPositionPublic]:
    """On-hand quantities at one location, owned and consigned apart, in item id order."""
    _no_supplier(principal)
    hub: Hub = request.app.state.hub
    with hub.read_uow_factory() as uow:
        location = uow.locations.get(location_id)
        if location is None:
            raise HTTPException(404, f"no location {location_id}")
        check_record(principal, facility_id=location.facility_id)
        found = uow.stock.list(
            location_id=location_id, after_item=decode_cursor(cursor), limit=limit + 1
        )
    page = found[:limit]
    return s.Page[s.StockPositionPublic](
        items=[s.StockPositionPublic.model_validate(p) for p in page],
        next_cursor=encode_cursor(page[-1].item_id) if len(found) > limit else None,
    )


def _public(entry: CrosswalkEntry) -> s.CrosswalkPublic:
    return s.CrosswalkPublic(
        kind=str(entry.key.kind),
        source_system=entry.key.source_system,
        facility_id=entry.key.facility_id,
        local_code=entry.key.local_code,
        canonical_id=entry.canonical_id,
        valid_from=entry.valid_from,
        valid_to=entry.valid_to,
        recorded_by=entry.recorded_by,
    )


@router.get(
    "/crosswalks/{kind}/{source_system}/{local_code}",
    tags=["master data"],
    summary="Look up a local code's mapping",
    response_model=CrosswalkLookup,
)
def get_crosswalk(  # noqa: PLR0917  (the key's parts are the path)
    request: Request,
    principal: Reader,
    kind: CrosswalkKind,
    source_system: str,
    local_code: str,
    facility_id: Annotated[
        str | None, Query(description="The facility's own mapping; absent: system-wide.")
    ] = None,
) -> CrosswalkLookup:
    """What the code maps to now, and its history (a superseded mapping is kept, never
    deleted)."""
    _no_supplier(principal)
    check_record(principal, facility_id=facility_id)
    key = CrosswalkKey(source_system, facility_id, kind, local_code)
    hub: Hub = request.app.state.hub
    with hub.read_uow_factory() as uow:
        current, history = uow.crosswalks.current(key), uow.crosswalks.history(key)
    return CrosswalkLookup(
        current=_public(current) if current is not None else None,
        history=[_public(entry) for entry in history],
    )
