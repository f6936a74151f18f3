"""Experience API: the operations dashboard's data (DESIGN.md §7).

One call answers what an integration manager's dashboard shows: inbound messages by status,
handler work pending and the age of the oldest, outbound deliveries by status, open exception
items by type and how many are past their SLA, and the integration inventory's governed share
(of interfaces and of the last week's inbound traffic, unmanaged traffic counted apart). The
figures span every facility, so the dashboard needs a client of every facility.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, Scope
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.security import require
from suture.services.status import backbone_status

router = APIRouter(
    prefix="/api/v1/experience", tags=["dashboard"], responses=responses(401, 403, 429)
)

Viewer = Annotated[Principal, require(Scope.SYSTEM_READ)]


class Governance(BaseModel):
    registered: int = Field(description="Active interfaces in the inventory.")
    governed: int
    needs_attention: int
    ungoverned: int
    governed_share: float | None = Field(description="Governed / registered; null when none.")
    window_days: int
    messages: int = Field(description="Inbound messages in the window.")
    governed_messages: int
    unmanaged_messages: int = Field(description="From sources no interface is registered for.")
    governed_traffic_share: float | None


class Dashboard(BaseModel):
    inbox: dict[str, int] = Field(description="Inbound messages by status.")
    pending_work: int = Field(description="Handler work items not done yet.")
    oldest_pending_age_seconds: float
    deliveries: dict[str, int] = Field(description="Outbound deliveries by status.")
    open_exceptions: dict[str, int] = Field(description="Open exception items by type.")
    overdue_exceptions: int = Field(description="Open items past their SLA due time.")
    governance: Governance


@router.get("/dashboard", summary="The operations dashboard's figures", response_model=Dashboard)
async def dashboard(request: Request, principal: Viewer) -> Dashboard:
    """Backbone health, the exception queue and the governed share, across every facility."""
    if not principal.all_facilities:
        raise AccessDeniedError("facility_id", "the dashboard spans every facility")
    hub: Hub = request.app.state.hub
    status = await run_in_threadpool(backbone_status, hub.read_uow_factory, hub.clock())
    kpi = await run_in_threadpool(hub.interfaces.governed_share)
    return Dashboard(
        inbox=status.inbox,
        pending_work=status.pending_work,
        oldest_pending_age_seconds=status.oldest_pending_age_seconds,
        deliveries=status.deliveries,
        open_exceptions=status.open_exceptions,
        overdue_exceptions=status.overdue_exceptions,
        governance=Governance.model_validate(kpi, from_attributes=True),
    )
