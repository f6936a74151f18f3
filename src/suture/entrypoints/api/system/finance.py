"""System API routes for revenue, inventory and the ledger: charges, usage, journal entries.

Thin by design (STYLE.md habit 8): authentication, the ``system:read`` scope and the facility
and supplier scope are dependencies; :mod:`~suture.entrypoints.api.system.records` pages and
checks. A list answers a :class:`~suture.entrypoints.api.system.schemas.Page`; a lookup answers
the record, ``403`` outside the caller's facilities or supplier, or ``404``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.security import RecordScope
from suture.entrypoints.api.system import schemas as s
from suture.entrypoints.api.system.params import Cursor, Limit, Number, RecordId, Since, Until
from suture.entrypoints.api.system.records import Reader, Resource, found, get_one, list_page

router = APIRouter(prefix="/api/v1/system", responses=responses(401, 403, 422, 429))

CHARGES = Resource("charges", s.ChargePublic)
USAGE = Resource("usage", s.UsagePublic)
JOURNALS = Resource("journals", s.JournalPublic)


@router.get(
    "/charges", tags=["revenue"], summary="List charges", response_model=s.Page[s.ChargePublic]
)
def list_charges(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
    since: Since = None,
    until: Until = None,
) -> s.Page[s.ChargePublic]:
    """Patient charges and credits from the revenue cycle; dates filter `service_at`."""
    return list_page(
        request.app.state.hub, CHARGES, scope, cursor=cursor, limit=limit, since=since, until=until
    )


@router.get(
    "/charges/{record_id}",
    tags=["revenue"],
    summary="Get one charge",
    response_model=s.ChargePublic,
    responses=responses(404),
)
def get_charges_record(request: Request, principal: Reader, record_id: RecordId) -> s.ChargePublic:
    """One charge by its canonical id."""
    record = get_one(request.app.state.hub, CHARGES, principal, record_id)
    return found(record, "charge", record_id)


@router.get(
    "/usage", tags=["inventory"], summary="List usage", response_model=s.Page[s.UsagePublic]
)
def list_usage(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
    since: Since = None,
    until: Until = None,
) -> s.Page[s.UsagePublic]:
    """Supplies and implants used in procedures; dates filter `used_at`."""
    return list_page(
        request.app.state.hub, USAGE, scope, cursor=cursor, limit=limit, since=since, until=until
    )


@router.get(
    "/usage/{record_id}",
    tags=["inventory"],
    summary="Get one usage record",
    response_model=s.UsagePublic,
    responses=responses(404),
)
def get_usage_record(request: Request, principal: Reader, record_id: RecordId) -> s.UsagePublic:
    """One usage record by its canonical id."""
    record = get_one(request.app.state.hub, USAGE, principal, record_id)
    return found(record, "usage record", record_id)


@router.get(
    "/journals", tags=["finance"], summary="List journals", response_model=s.Page[s.JournalPublic]
)
def list_journals(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
    since: Since = None,
    until: Until = None,
    number: Number = None,
) -> s.Page[s.JournalPublic]:
    """Balanced cost journals for the ERP; dates filter `posting_date`, `number` the reference."""
    return list_page(
        request.app.state.hub,
        JOURNALS,
        scope,
        cursor=cursor,
        limit=limit,
        since=since,
        until=until,
        number=number,
    )


@router.get(
    "/journals/{record_id}",
    tags=["finance"],
    summary="Get one journal entry",
    response_model=s.JournalPublic,
    responses=responses(404),
)
def get_journals_record(
    request: Request, principal: Reader, record_id: RecordId
) -> s.JournalPublic:
    """One journal entry by its canonical id."""
    record = get_one(request.app.state.hub, JOURNALS, principal, record_id)
    return found(record, "journal entry", record_id)
