"""System API routes for master data.

Facilities, cost centers, departments, locations, suppliers, items and contracts.

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

FACILITIES = Resource("facilities", s.FacilityPublic)
COST_CENTERS = Resource("cost_centers", s.CostCenterPublic)
DEPARTMENTS = Resource("departments", s.DepartmentPublic)
LOCATIONS = Resource("locations", s.LocationPublic)
SUPPLIERS = Resource("suppliers", s.SupplierPublic, supplier_of=lambda r: r.id)
ITEMS = Resource("items", s.ItemPublic, supplier_of=lambda r: r.supplier_id)
CONTRACTS = Resource("contracts", s.ContractPublic, supplier_of=lambda r: r.supplier_id)


@router.get(
    "/facilities",
    tags=["master data"],
    summary="List facilities",
    response_model=s.Page[s.FacilityPublic],
)
def list_facilities(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> s.Page[s.FacilityPublic]:
    """Hospitals and sites of the health system."""
    return list_page(request.app.state.hub, FACILITIES, scope, cursor=cursor, limit=limit)


@router.get(
    "/facilities/{record_id}",
    tags=["master data"],
    summary="Get one facility",
    response_model=s.FacilityPublic,
    responses=responses(404),
)
def get_facilities_record(
    request: Request, principal: Reader, record_id: RecordId
) -> s.FacilityPublic:
    """One facility by its canonical id."""
    record = get_one(request.app.state.hub, FACILITIES, principal, record_id)
    return found(record, "facility", record_id)


@router.get(
    "/cost-centers",
    tags=["master data"],
    summary="List cost centers",
    response_model=s.Page[s.CostCenterPublic],
)
def list_cost_centers(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> s.Page[s.CostCenterPublic]:
    """Cost centers the ERP books cost to."""
    return list_page(request.app.state.hub, COST_CENTERS, scope, cursor=cursor, limit=limit)


@router.get(
    "/cost-centers/{record_id}",
    tags=["master data"],
    summary="Get one cost center",
    response_model=s.CostCenterPublic,
    responses=responses(404),
)
def get_cost_centers_record(
    request: Request, principal: Reader, record_id: RecordId
) -> s.CostCenterPublic:
    """One cost center by its canonical id."""
    record = get_one(request.app.state.hub, COST_CENTERS, principal, record_id)
    return found(record, "cost center", record_id)


@router.get(
    "/departments",
    tags=["master data"],
    summary="List departments",
    response_model=s.Page[s.DepartmentPublic],
)
def list_departments(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> s.Page[s.DepartmentPublic]:
    """Clinical and support departments, each with its cost center."""
    return list_page(request.app.state.hub, DEPARTMENTS, scope, cursor=cursor, limit=limit)


@router.get(
    "/departments/{record_id}",
    tags=["master data"],
    summary="Get one department",
    response_model=s.DepartmentPublic,
    responses=responses(404),
)
def get_departments_record(
    request: Request, principal: Reader, record_id: RecordId
) -> s.DepartmentPublic:
    """One department by its canonical id."""
    record = get_one(request.app.state.hub, DEPARTMENTS, principal, record_id)
    return found(record, "department", record_id)


@router.get(
    "/locations",
    tags=["master data"],
    summary="List locations",
    response_model=s.Page[s.LocationPublic],
)
def list_locations(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> s.Page[s.LocationPublic]:
    """Stocking locations: operating rooms, cath labs, central supply."""
    return list_page(request.app.state.hub, LOCATIONS, scope, cursor=cursor, limit=limit)


@router.get(
    "/locations/{record_id}",
    tags=["master data"],
    summary="Get one location",
    response_model=s.LocationPublic,
    responses=responses(404),
)
def get_locations_record(
    request: Request, principal: Reader, record_id: RecordId
) -> s.LocationPublic:
    """One location by its canonical id."""
    record = get_one(request.app.state.hub, LOCATIONS, principal, record_id)
    return found(record, "location", record_id)


@router.get(
    "/suppliers",
    tags=["master data"],
    summary="List suppliers",
    response_model=s.Page[s.SupplierPublic],
)
def list_suppliers(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> s.Page[s.SupplierPublic]:
    """The supplier master, as the ERP owns it."""
    return list_page(request.app.state.hub, SUPPLIERS, scope, cursor=cursor, limit=limit)


@router.get(
    "/suppliers/{record_id}",
    tags=["master data"],
    summary="Get one supplier",
    response_model=s.SupplierPublic,
    responses=responses(404),
)
def get_suppliers_record(
    request: Request, principal: Reader, record_id: RecordId
) -> s.SupplierPublic:
    """One supplier by its canonical id."""
    record = get_one(request.app.state.hub, SUPPLIERS, principal, record_id)
    return found(record, "supplier", record_id)


@router.get(
    "/items", tags=["master data"], summary="List items", response_model=s.Page[s.ItemPublic]
)
def list_items(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> s.Page[s.ItemPublic]:
    """The item master with packaging levels, GTINs and charge codes."""
    return list_page(request.app.state.hub, ITEMS, scope, cursor=cursor, limit=limit)


@router.get(
    "/items/{record_id}",
    tags=["master data"],
    summary="Get one item",
    response_model=s.ItemPublic,
    responses=responses(404),
)
def get_items_record(request: Request, principal: Reader, record_id: RecordId) -> s.ItemPublic:
    """One item by its canonical id."""
    record = get_one(request.app.state.hub, ITEMS, principal, record_id)
    return found(record, "item", record_id)


@router.get(
    "/contracts",
    tags=["master data"],
    summary="List contracts",
    response_model=s.Page[s.ContractPublic],
)
def list_contracts(
    request: Request,
    _: Reader,
    scope: RecordScope,
    *,
    cursor: Cursor = None,
    limit: Limit = 100,
    since: Since = None,
    until: Until = None,
    number: Number = None,
) -> s.Page[s.ContractPublic]:
    """Supplier contracts with GPO tiers, member facilities and prices.

    The dates filter `effective_from`.
    """
    return list_page(
        request.app.state.hub,
        CONTRACTS,
        scope,
        cursor=cursor,
        limit=limit,
        since=since,
        until=until,
        number=number,
    )


@router.get(
    "/contracts/{record_id}",
    tags=["master data"],
    summary="Get one contract",
    response_model=s.ContractPublic,
    responses=responses(404),
)
def get_contracts_record(
    request: Request, principal: Reader, record_id: RecordId
) -> s.ContractPublic:
    """One contract by its canonical id."""
    record = get_one(request.app.state.hub, CONTRACTS, principal, record_id)
    return found(record, "contract", record_id)
