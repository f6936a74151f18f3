"""System API: the integration inventory (DESIGN.md §6) and the traffic no interface explains.

Everyone with ``system:read`` sees the inventory with each interface's governance verdict (the
policy of ``domain/interfaces.py``: owner, contract, SLA, authentication, sunset) and the
unmanaged sources: routes traffic arrived on with no registered interface. Registering and
retiring an interface is governance work: it needs ``admin`` and is recorded in the audit trail.
``suture interfaces ...`` offers the same from the command line.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt
from pydantic.config import JsonDict

from suture.bootstrap import Hub
from suture.domain.access import Principal, Scope
from suture.domain.authority import ObjectType
from suture.domain.interfaces import (
    Direction,
    Interface,
    InterfaceFormat,
    Mode,
    ModernizationClass,
    assess,
)
from suture.entrypoints.api.auditing import audited
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.security import require
from suture.entrypoints.api.system.params import iso_day

router = APIRouter(
    prefix="/api/v1/system", tags=["inventory"], responses=responses(400, 401, 403, 422, 429)
)

Reader = Annotated[Principal, require(Scope.SYSTEM_READ)]
Admin = Annotated[Principal, require(Scope.ADMIN)]


#: An interface as registered (the examples of the contract share it).
_INTERFACE_EXAMPLE: JsonDict = {
    "name": "ehr-charges-hl7",
    "direction": "inbound",
    "format": "hl7v2",
    "channel": "mllp",
    "source_system": "rcm",
    "target_system": "suture",
    "description": "DFT^P03 charges from the EHR",
    "authoritative_objects": ["charge"],
    "owner": "revenue-integration",
    "sla_latency_minutes": 5,
    "sla_availability": "24x7, 99.9%",
    "contract": "HL7 v2.5.1 DFT^P03, docs/hl7v2.md",
    "schema_version": "2.5.1",
    "authentication": "vpn-ip-allowlist",
    "mode": "live",
    "modernization": "retain",
    "facility_ids": ["fac-1"],
}


class InterfaceCreate(BaseModel):
    """An interface as an integration engineer registers it."""

    model_config = ConfigDict(json_schema_extra={"examples": [_INTERFACE_EXAMPLE]})

    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    direction: Direction
    format: InterfaceFormat
    channel: str = Field(min_length=1, max_length=100, description="`mllp`, `api`, `file` ...")
    source_system: str = Field(min_length=1, max_length=100)
    target_system: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)
    authoritative_objects: list[ObjectType] = Field(default_factory=list)
    owner: str | None = Field(default=None, max_length=100)
    sla_latency_minutes: StrictInt | None = Field(default=None, ge=1)
    sla_availability: str | None = Field(default=None, max_length=100)
    contract: str | None = Field(default=None, max_length=200)
    schema_version: str | None = Field(default=None, max_length=50)
    authentication: str | None = Field(default=None, max_length=50)
    api_client: str | None = Field(default=None, max_length=100)
    mode: Mode = Mode.LIVE
    modernization: ModernizationClass | None = None
    sunset_on: Annotated[date | None, BeforeValidator(iso_day)] = None
    facility_ids: list[str] = Field(default_factory=list)


class FindingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    field: str
    reason: str
    required: bool = Field(description="A failed required check makes it ungoverned.")


class InterfacePublic(InterfaceCreate):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                _INTERFACE_EXAMPLE | {
                    "api_client": None, "sunset_on": None, "retired_on": None,
                    "registered_at": "2026-10-01T08:00:00Z",
                    "updated_at": "2026-10-01T08:00:00Z", "governance": "governed",
                    "findings": [],
                }
            ]
        },
    )  # fmt: skip

    retired_on: date | None
    registered_at: datetime | None
    updated_at: datetime | None
    governance: str = Field(description="governed, needs_attention or ungoverned, as of today.")
    findings: list[FindingPublic]


class InterfaceList(BaseModel):
    items: list[InterfacePublic]


class UnmanagedSourcePublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "channel": "mllp",
                    "source_system": "lab-legacy",
                    "format": "hl7v2",
                    "first_seen": "2026-11-20T06:00:00Z",
                    "last_seen": "2026-11-23T10:00:00Z",
                    "message_count": 39,
                }
            ]
        },
    )

    channel: str
    source_system: str
    format: str
    first_seen: datetime
    last_seen: datetime
    message_count: int


class UnmanagedList(BaseModel):
    items: list[UnmanagedSourcePublic]


def _public(interface: Interface, today: date) -> InterfacePublic:
    verdict = assess(interface, today)
    fields = {
        name: getattr(interface, name)
        for name in InterfacePublic.model_fields
        if name not in {"governance", "findings"}
    }
    fields |= {
        "authoritative_objects": list(interface.authoritative_objects),
        "facility_ids": list(interface.facility_ids),
        "governance": str(verdict.status),
        "findings": [FindingPublic.model_validate(f) for f in verdict.findings],
    }
    return InterfacePublic.model_validate(fields)


@router.get("/interfaces", summary="List the integration inventory", response_model=InterfaceList)
def list_interfaces(request: Request, _: Reader, include_retired: bool = False) -> InterfaceList:
    """Every interface with its governance verdict and the checks it fails."""
    hub: Hub = request.app.state.hub
    today = hub.interfaces.today()
    return InterfaceList(
        items=[_public(i, today) for i in hub.interfaces.list(include_retired=include_retired)]
    )


@router.get(
    "/interfaces/{name}",
    summary="Get one interface",
    response_model=InterfacePublic,
    responses=responses(404),
)
def get_interface(request: Request, _: Reader, name: str) -> InterfacePublic:
    """One interface, with its governance verdict."""
    hub: Hub = request.app.state.hub
    return _public(hub.interfaces.get(name), hub.interfaces.today())


@router.post(
    "/interfaces",
    summary="Register an interface",
    status_code=201,
    response_model=InterfacePublic,
    responses=responses(409),
)
def add_interface(request: Request, principal: Admin, body: InterfaceCreate) -> JSONResponse:
    """Register an interface; its governance verdict is computed at once."""
    hub: Hub = request.app.state.hub
    interface = Interface(
        **body.model_dump(exclude={"authoritative_objects", "facility_ids"}),
        authoritative_objects=tuple(body.authoritative_objects),
        facility_ids=tuple(body.facility_ids),
    )
    added = audited(
        hub, principal, Scope.ADMIN, "interface.add", target=("interface", body.name),
        run=lambda: hub.interfaces.add(interface), after=lambda i: f"mode={i.mode}",
    )  # fmt: skip
    public = _public(added, hub.interfaces.today())
    return JSONResponse(public.model_dump(mode="json"), status_code=201)


@router.post(
    "/interfaces/{name}/retire",
    summary="Retire an interface",
    response_model=InterfacePublic,
    responses=responses(404),
)
def retire_interface(request: Request, principal: Admin, name: str) -> InterfacePublic:
    """Retire it today: traffic still arriving on its route counts as unmanaged from now on."""
    hub: Hub = request.app.state.hub
    retired = audited(
        hub, principal, Scope.ADMIN, "interface.retire", target=("interface", name),
        run=lambda: hub.interfaces.retire(name), after=lambda i: f"retired_on={i.retired_on}",
    )  # fmt: skip
    return _public(retired, hub.interfaces.today())


@router.get(
    "/unmanaged-sources",
    summary="List traffic from unregistered sources",
    response_model=UnmanagedList,
)
def list_unmanaged(request: Request, _: Reader) -> UnmanagedList:
    """Routes messages arrived on that no active inbound interface is registered for."""
    hub: Hub = request.app.state.hub
    return UnmanagedList(
        items=[UnmanagedSourcePublic.model_validate(s) for s in hub.interfaces.unmanaged()]
    )
