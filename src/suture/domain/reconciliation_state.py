"""The continuous reconciliation's state per line, and how it ages (DESIGN.md §4, §5, §7).

Each time a key's lines change, the handler re-evaluates the key with the pure rule
(:func:`~suture.domain.reconciliation.reconcile_key`) and :func:`advance` moves each line's
stored state to the new verdict:

- a usage line first **fully billed** records ``matched_at`` (kept thereafter): the lag from
  usage to match (the KPI of DESIGN.md §7) is ``matched_at - line_at``;
- a line whose verdict needs a person (a usage without charge or partly billed, a charge
  without usage) is **due** ``window`` after its own time: the sweeper opens its exception then
  (``usage_without_charge``, ``charge_without_usage``), unless the verdict has changed first;
- a line with an open exception whose verdict no longer needs one has that exception
  **resolved** by the handler that saw the match.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from suture.domain.exceptions import ExceptionType
from suture.domain.reconciliation import AGING, LineResult, Outcome, Side


@dataclass(frozen=True, slots=True, kw_only=True)
class LineState:
    """One line's stored verdict, when it is due to age, and its exception if it has one."""

    side: Side
    line_id: str
    facility_id: str
    encounter_key: str
    cdm_code: str
    line_at: datetime
    quantity: Decimal
    outcome: Outcome
    unbilled: Decimal
    revenue_at_risk: Decimal | None
    updated_at: datetime
    matched_at: datetime | None = None
    due_at: datetime | None = None
    exception_id: str | None = None

    @property
    def exception_type(self) -> ExceptionType:
        if self.side is Side.USAGE:
            return ExceptionType.USAGE_WITHOUT_CHARGE
        return ExceptionType.CHARGE_WITHOUT_USAGE

    @property
    def lag(self) -> timedelta | None:
        return (
            None if self.matched_at is None else max(timedelta(0), self.matched_at - self.line_at)
        )

    def reason(self, window: timedelta) -> str:
        """The exception's reason: ids, codes and amounts only, never a patient identifier. The
        encounter is named by its key (the keyed hash the records carry, which is also the
        correlation id of its charges and usage: ``suture trace KEY`` shows their timeline)."""
        hours = int(window.total_seconds() // 3600)
        if self.side is Side.CHARGE:
            return (
                f"charge {self.line_id} of encounter {self.encounter_key} for CDM {self.cdm_code} "
                f"has no usage within the {hours} h reconciliation window (documentation gap)"
            )
        risk = (
            "unknown (no chargemaster price)"
            if self.revenue_at_risk is None
            else (f"{self.revenue_at_risk}")
        )
        return (
            f"usage {self.line_id} of encounter {self.encounter_key} for CDM {self.cdm_code}: "
            f"{self.unbilled} of {self.quantity} "
            f"not charged within the {hours} h reconciliation window; revenue at risk {risk}"
        )

    def opened(self, exception_id: str, at: datetime) -> LineState:
        return replace(self, exception_id=exception_id, due_at=None, updated_at=at)


@dataclass(frozen=True, slots=True)
class Advance:
    """The new state of a line, and the exception its match resolves, if any."""

    state: LineState
    resolves: str | None = None


def advance(
    previous: LineState | None, result: LineResult, *, window: timedelta, now: datetime
) -> Advance:
    """Move ``previous`` (None: a line seen for the first time) to the verdict ``result``."""
    matched_at = previous.matched_at if previous is not None else None
    if matched_at is None and result.fully_billed:
        matched_at = now
    exception_id = previous.exception_id if previous is not None else None
    resolves = None
    due_at = None
    if (result.side, result.outcome) in AGING:
        if exception_id is None:
            due_at = result.at + window
    elif exception_id is not None:
        resolves, exception_id = exception_id, None
    state = LineState(
        side=result.side, line_id=result.line_id, facility_id=result.facility_id,
        encounter_key=result.encounter_key, cdm_code=result.cdm_code, line_at=result.at,
        quantity=result.quantity, outcome=result.outcome, unbilled=result.unbilled,
        revenue_at_risk=result.revenue_at_risk, updated_at=now, matched_at=matched_at,
        due_at=due_at, exception_id=exception_id,
    )  # fmt: skip
    return Advance(state, resolves)
