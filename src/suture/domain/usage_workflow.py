"""The persisted state of one usage's workflow: how far it got, and what each step produced.

DESIGN.md §4: a workflow is a process manager with state per business key. The key here is the
usage id, so a usage that reaches the hub twice (a redelivery, a replay, the legacy feed and the
new one during a migration) is one workflow: a step finds its state and does nothing again.
The steps, in order (:class:`UsageStep`)::

    (none) ──inventory──► stocked ──cost_attribution──► costed
             validated, priced,      journal queued for the ERP,
             stock moved, requisition  expected charge recorded
             or bill-only + restock POs
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from suture.domain.costing import PriceSource
from suture.domain.errors import DomainError


class UsageStep(StrEnum):
    """The last step of a usage's workflow that committed."""

    STOCKED = "stocked"
    COSTED = "costed"


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageWorkflow:
    """One usage's progress; quantities in eaches, money per each and extended."""

    usage_id: str
    facility_id: str
    location_id: str
    item_id: str
    step: UsageStep
    eaches: Decimal
    consigned: bool
    stockout: bool
    price_source: PriceSource
    unit_price: Decimal
    amount: Decimal
    contract_id: str | None = None
    requisition_id: str | None = None
    bill_only_po_id: str | None = None
    replenishment_po_id: str | None = None
    journal_id: str | None = None
    expected_charge_id: str | None = None
    cost_center_id: str | None = None
    trace_id: str | None = None
    started_at: datetime
    updated_at: datetime

    @property
    def flagged(self) -> bool:
        """Costed off contract (a contract mismatch): supply chain should look at it."""
        return self.price_source is not PriceSource.CONTRACT

    def costed(
        self,
        *,
        journal_id: str | None,
        expected_charge_id: str | None,
        cost_center_id: str,
        at: datetime,
    ) -> UsageWorkflow:
        """The workflow after its cost step; only a stocked workflow can be costed."""
        if self.step is not UsageStep.STOCKED:
            raise DomainError("step", f"usage {self.usage_id} is {self.step}, not stocked")
        return replace(
            self, step=UsageStep.COSTED, journal_id=journal_id,
            expected_charge_id=expected_charge_id, cost_center_id=cost_center_id, updated_at=at,
        )  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageCosting:
    """What the cost step produced for one stocked usage: it moves the workflow to ``costed``
    (:meth:`UsageWorkflow.costed` on the stored state, written without reading it first)."""

    usage_id: str
    journal_id: str | None
    expected_charge_id: str | None
    cost_center_id: str
    at: datetime
