"""Process API: reconcile a period (``POST /api/v1/process/reconciliations``).

The batch charge-to-cost reconciliation of ``suture reconcile`` (docs/workflows.md): charges
and expected charges of the period are extracted, reconciled in DuckDB by the same rule as the
continuous form, and summarised by side and outcome with the revenue at risk. Facility-scoped:
a token of one facility reconciles that facility only (``facility_id`` is then required); a
period over every facility needs a client of every facility. Recorded in the audit trail as
``reconciliation.run``. The unmatched lines themselves are written by the CLI's ``--out``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, BeforeValidator, Field, model_validator
from starlette.concurrency import run_in_threadpool

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, Scope
from suture.entrypoints.api.auditing import audited
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.security import check_record, require
from suture.entrypoints.api.system.params import EARLIEST, LATEST
from suture.services.reconciliation_batch import BatchSummary

router = APIRouter(prefix="/api/v1/process", responses=responses(400, 401, 403, 422, 429))

Operator = Annotated[Principal, require(Scope.PROCESS_EXECUTE)]

#: The longest period one request reconciles (a year and a day, for a leap year's month-ends).
MAX_DAYS = 366


def _json_date(value: object) -> object:
    """Only an ISO 8601 date string: pydantic alone would read a number as a timestamp."""
    if not isinstance(value, str):
        msg = "must be an ISO 8601 date string (YYYY-MM-DD)"
        raise ValueError(msg)
    return value


Day = Annotated[date, BeforeValidator(_json_date)]


class ReconciliationCreate(BaseModel):
    """The period to reconcile, days in UTC, both inclusive."""

    from_: Day = Field(alias="from", description="First day of the period (UTC).")
    to: Day = Field(description="Last day of the period, inclusive.")
    facility_id: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="Only this facility (a facility not on record is a 422); required unless "
        "the client serves every facility.",
    )  # fmt: skip

    model_config = {
        "populate_by_name": True,
        "json_schema_extra": {
            "examples": [{"from": "2026-03-01", "to": "2026-03-31", "facility_id": "FAC-MAIN"}]
        },
    }

    @model_validator(mode="after")
    def _period(self) -> ReconciliationCreate:
        for name, day in (("from", self.from_), ("to", self.to)):
            if not EARLIEST <= day <= LATEST:
                msg = f"{name}: {day.isoformat()} is outside {EARLIEST} to {LATEST}"
                raise ValueError(msg)
        if self.to < self.from_:
            msg = f"to: {self.to.isoformat()} is before from {self.from_.isoformat()}"
            raise ValueError(msg)
        if (self.to - self.from_) >= timedelta(days=MAX_DAYS):
            msg = f"to: a period is at most {MAX_DAYS} days; reconcile a long one in parts"
            raise ValueError(msg)
        return self


class ReconciliationOutcome(BaseModel):
    side: Literal["usage", "charge"]
    outcome: Literal[
        "matched", "quantity_mismatch", "usage_without_charge", "charge_without_usage",
        "charge_below_cost", "credited",
    ]  # fmt: skip
    lines: int
    unbilled: str = Field(description="Usage quantity not charged (decimal string).")
    revenue_at_risk: str = Field(description="Unbilled quantity at chargemaster prices.")


class ReconciliationSummary(BaseModel):
    """What the period's reconciliation found."""

    from_: str = Field(alias="from", description="Start of the period (UTC instant).")
    to: str = Field(description="End of the period, exclusive (UTC instant).")
    facility_id: str | None
    lines: int = Field(description="Lines of both sides in the period.")
    unmatched: int = Field(description="Lines that are not matched or credited.")
    revenue_at_risk: str = Field(description="Sum over missed charges, at chargemaster prices.")
    unpriced: int = Field(description="Missed-charge lines without a chargemaster price.")
    outcomes: list[ReconciliationOutcome]

    model_config = {"populate_by_name": True}


@router.post(
    "/reconciliations",
    tags=["reconciliation"],
    summary="Reconcile charges to usage for a period",
    response_model=ReconciliationSummary,
    response_model_by_alias=True,
)
async def reconcile_period(
    request: Request, principal: Operator, body: ReconciliationCreate
) -> ReconciliationSummary:
    """Run the batch reconciliation over the period and answer its summary."""
    if principal.supplier_id is not None:
        raise AccessDeniedError("supplier_id", "reconciliation belongs to no supplier")
    if body.facility_id is None:
        if not principal.all_facilities:
            raise AccessDeniedError(
                "facility_id", "required: this client may reconcile only its own facilities"
            )
    else:
        check_record(principal, facility_id=body.facility_id)
    hub: Hub = request.app.state.hub
    target = f"{body.from_.isoformat()}..{body.to.isoformat()}" + (
        f"@{body.facility_id}" if body.facility_id else ""
    )

    def run() -> BatchSummary:
        return hub.reconciliation_batch.run(body.from_, body.to, facility_id=body.facility_id)

    summary = await run_in_threadpool(
        audited, hub, principal, Scope.PROCESS_EXECUTE, "reconciliation.run",
        target=("period", target), run=run,
        after=lambda done: f"lines={done.lines} unmatched={done.unmatched}",
    )  # fmt: skip
    return ReconciliationSummary.model_validate(summary.as_dict())
