"""Experience API: the operations dashboard's data (DESIGN.md §7).

One call answers what an integration manager's dashboard shows: inbound messages by status,
handler work pending and the age of the oldest, outbound deliveries by status, open exception
items by type and how many are past their SLA, and the integration inventory's governed share
(of interfaces and of the last week's inbound traffic, unmanaged traffic counted apart). The
figures span every facility, so the dashboard needs a client of every facility.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, Scope
from suture.domain.errors import DomainError
from suture.domain.kpis import Distribution
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.security import ApiProblem, check_record, require
from suture.entrypoints.api.system.params import EARLIEST, LATEST, iso_day
from suture.services.kpis import KpiReport
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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "inbox": {
                        "received": 0,
                        "decoded": 0,
                        "processed": 1532,
                        "parked": 3,
                        "failed": 2,
                        "dead_lettered": 0,
                    },
                    "pending_work": 4,
                    "oldest_pending_age_seconds": 1.8,
                    "deliveries": {
                        "pending": 2,
                        "in_flight": 0,
                        "delivered": 611,
                        "dead": 0,
                        "shadowed": 12,
                        "parked": 0,
                    },
                    "open_exceptions": {"price_variance": 2, "missing_item_mapping": 3},
                    "overdue_exceptions": 0,
                    "governance": {
                        "registered": 12,
                        "governed": 9,
                        "needs_attention": 2,
                        "ungoverned": 1,
                        "governed_share": 0.75,
                        "window_days": 7,
                        "messages": 1537,
                        "governed_messages": 1498,
                        "unmanaged_messages": 39,
                        "governed_traffic_share": 0.9746,
                    },
                }
            ]
        }
    )

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


class Duration(BaseModel):
    """A duration KPI over its cases: median and 90th percentile in hours (null: no case)."""

    count: int
    median_hours: float | None
    p90_hours: float | None
    mean_hours: float | None


class Kpis(BaseModel):
    """The KPIs of DESIGN.md §7 for a period (docs/observability.md, "KPIs")."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "since": "2026-11-01T00:00:00Z",
                    "until": "2026-12-01T00:00:00Z",
                    "facility_id": "fac-1",
                    "invoice_cycle_time": {
                        "count": 212,
                        "median_hours": 26.5,
                        "p90_hours": 71.2,
                        "mean_hours": 33.1,
                    },
                    "po_touchless_rate": 0.82,
                    "po_touchless": 174,
                    "po_matched": 212,
                    "stockouts_per_1000_usages": 3.4,
                    "usages": 8821,
                    "stockouts": 30,
                    "reconciliation_lag": {
                        "count": 6120,
                        "median_hours": 4.2,
                        "p90_hours": 30.0,
                        "mean_hours": None,
                    },
                    "unmatched_aging": {"0-3d": 41, "3-7d": 9, "7-30d": 3, "30d+": 0},
                    "revenue_at_risk": "18450.00",
                    "revenue_at_risk_unpriced": 2,
                    "interface_incidents": 3,
                    "interface_open_incidents": 0,
                    "interface_recovery": {
                        "count": 3,
                        "median_hours": 0.4,
                        "p90_hours": 1.1,
                        "mean_hours": 0.6,
                    },
                    "governed_share": 0.75,
                    "contract_price_variance": "2310.40",
                }
            ]
        }
    )

    since: datetime
    until: datetime
    facility_id: str | None
    invoice_cycle_time: Duration = Field(description="Invoice received → approved for payment.")
    po_touchless_rate: float | None = Field(
        description="POs matched with no manual touch / POs with an invoice matched."
    )
    po_touchless: int
    po_matched: int
    stockouts_per_1000_usages: float | None
    usages: int
    stockouts: int
    reconciliation_lag: Duration = Field(description="Usage recorded → matched to its charge.")
    unmatched_aging: dict[str, int] = Field(
        description="Unmatched reconciliation lines by age at the period's end, or now when "
        "that is sooner; lines dated after the period are left out."
    )
    revenue_at_risk: Decimal = Field(
        description="Usage dated before the period's end without a (full) charge, at the "
        "chargemaster price."
    )
    revenue_at_risk_unpriced: int = Field(
        description="Unmatched usage lines (of unmatched_aging) the chargemaster has no price "
        "for, left out of revenue_at_risk."
    )
    interface_incidents: int
    interface_open_incidents: int
    interface_recovery: Duration = Field(description="First failure → next success.")
    governed_share: float | None
    contract_price_variance: Decimal = Field(
        description="Invoice value over the PO price plus PO line value ordered off contract."
    )


@router.get(
    "/kpis",
    summary="The KPIs of a period",
    response_model=Kpis,
    responses=responses(400, 422),
)
async def kpis(
    request: Request,
    principal: Viewer,
    since: Annotated[
        date | None,
        BeforeValidator(iso_day),
        Query(
            alias="from",
            description="First day (UTC, YYYY-MM-DD, 1900-01-01 to 2999-12-31); default 30 "
            "days ago.",
        ),
    ] = None,
    until: Annotated[
        date | None,
        BeforeValidator(iso_day),
        Query(
            alias="to",
            description="Last day, included (UTC, YYYY-MM-DD, 1900-01-01 to 2999-12-31); "
            "default today.",
        ),
    ] = None,
    facility_id: Annotated[
        str | None,
        Query(
            description="One facility (a facility not on record is a 422); omitted: every "
            "facility (needs them all)."
        ),
    ] = None,
) -> Kpis:
    """Invoice cycle time, PO touchless rate, stockouts, reconciliation lag and revenue at risk,
    interface recovery, governed share and contract price variance, for one facility or all."""
    if facility_id is None and not principal.all_facilities:
        raise AccessDeniedError("facility_id", "name one of your facilities")
    if facility_id is not None:
        check_record(principal, facility_id=facility_id)
    hub: Hub = request.app.state.hub
    first, last = kpi_days(since, until, hub.clock().date())
    if first > last:
        raise ApiProblem(
            400, "Bad request", "`from` is after `to`",
            errors=[{"field": "from", "reason": "is after `to`"}],
        )  # fmt: skip
    start = datetime.combine(first, time(), tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
    report = await run_in_threadpool(hub.kpis.report, start, end, facility_id=facility_id)
    return kpis_model(report)


def kpi_days(since: date | None, until: date | None, today: date) -> tuple[date, date]:
    """The first and last days of a KPI period (defaults: the 30 days to ``today``); a day
    outside :data:`EARLIEST` to :data:`LATEST` is a :class:`DomainError` naming ``from`` or
    ``to``, since the period's end (the day after its last) must stay a valid instant."""
    last = until or today
    _in_calendar("to", last)
    first = since or last - timedelta(days=29)
    _in_calendar("from", first)
    return first, last


def _in_calendar(field: str, day: date) -> None:
    if not EARLIEST <= day <= LATEST:
        raise DomainError(field, f"{day.isoformat()} is outside {EARLIEST} to {LATEST}")


def _duration(found: Distribution) -> Duration:
    def hours(value: timedelta | None) -> float | None:
        return None if value is None else round(value.total_seconds() / 3600, 3)

    return Duration(
        count=found.count, median_hours=hours(found.median), p90_hours=hours(found.p90),
        mean_hours=hours(found.mean),
    )  # fmt: skip


def kpis_model(report: KpiReport) -> Kpis:
    """The report as the API (and ``suture kpis --json``) shows it."""
    lag = report.reconciliation.lag
    recovery = report.interface_recovery
    return Kpis(
        since=report.since,
        until=report.until,
        facility_id=report.facility_id,
        invoice_cycle_time=_duration(report.invoice_cycle_time),
        po_touchless_rate=report.po_touchless.rate,
        po_touchless=report.po_touchless.touchless,
        po_matched=report.po_touchless.purchase_orders,
        stockouts_per_1000_usages=report.stockouts.per_thousand,
        usages=report.stockouts.usages,
        stockouts=report.stockouts.stockouts,
        reconciliation_lag=Duration(
            count=lag.matched,
            median_hours=lag.median_hours,
            p90_hours=lag.p90_hours,
            mean_hours=None,
        ),
        unmatched_aging=report.reconciliation.unmatched_aging,
        revenue_at_risk=report.revenue_at_risk,
        revenue_at_risk_unpriced=report.reconciliation.unpriced,
        interface_incidents=recovery.incidents,
        interface_open_incidents=recovery.open_incidents,
        interface_recovery=_duration(recovery.times),
        governed_share=report.governance.governed_share,
        contract_price_variance=report.contract_price_variance,
    )
