"""The KPIs of DESIGN.md §7 over a period, for ``suture kpis``, the dashboard API and the demo.

Each figure is computed from the state the workflows keep, with the arithmetic of
``domain/kpis.py`` (one percentile definition for every duration):

- **invoice cycle time**: ``invoice_matches``, ``received_at`` → ``matched_at`` of the invoices
  matched in the period;
- **PO touchless rate**: POs with an invoice matched in the period whose every invoice matched
  at its first run (no exception ever held it) and whose requisition, if any, the approval
  policy approved (no person decided);
- **supply stockout frequency**: ``usage_workflows`` started in the period, stockouts per 1,000;
- **reconciliation lag**: ``reconciliation_lines``, usage recorded → matched (median, p90), and
  the unmatched lines by age, as of the period's end or now, whichever is sooner (lines dated
  after the period, and matches made after it, left out);
- **interface failure recovery**: the period's inbound messages per interface, first failure →
  next success;
- **governed integrations**: the inventory's governance policy, traffic of the last 7 days;
- **revenue at risk**: usage lines not (fully) charged, at the chargemaster price, of the lines
  dated before the period's end;
- **contract price variance**: the value over the PO price (on a credit, under it) the
  three-way match held on invoices received in the period (its ``price_variance`` lines; not
  what a quantity, unit or not-on-PO exception holds, nor a duplicate, whose original counts),
  plus the value of PO lines ordered off contract in the period; to the cent.

A figure with nothing to measure is ``None``, never zero: "no invoice matched" is not "matched
in no time". The reads page through the stores; at a few million rows a period, a reporting
replica or the batch tools (``suture reconcile``) are the better place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from suture.domain.approval import RequisitionApproval
from suture.domain.errors import DomainError
from suture.domain.kpis import (
    Distribution,
    Outcome,
    Recovery,
    distribution,
    per_thousand,
    recovery_times,
    share,
)
from suture.domain.matching import CENT, Finding, InvoiceMatch, MatchStatus
from suture.domain.messages import InboundMessage, MessageStatus
from suture.domain.purchasing import PurchaseOrder
from suture.services.clock import Clock
from suture.services.interfaces import GovernanceKpi, InterfaceInventory
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.reconciliation import ReconciliationKpis, reconciliation_kpis

_PAGE = 1000
T = TypeVar("T")
_OK = frozenset({MessageStatus.PROCESSED})
_FAILED = frozenset({MessageStatus.FAILED, MessageStatus.DEAD_LETTERED})


@dataclass(frozen=True, slots=True)
class Touchless:
    purchase_orders: int
    touchless: int
    rate: float | None


@dataclass(frozen=True, slots=True)
class Stockouts:
    usages: int
    stockouts: int
    per_thousand: float | None


@dataclass(frozen=True, slots=True)
class KpiReport:
    """Every KPI of DESIGN.md §7 for ``[since, until)`` (and one facility, when given)."""

    since: datetime
    until: datetime
    facility_id: str | None
    invoice_cycle_time: Distribution
    po_touchless: Touchless
    stockouts: Stockouts
    reconciliation: ReconciliationKpis
    interface_recovery: Recovery
    governance: GovernanceKpi
    #: Invoice value above the PO price (held by the match) plus off-contract PO line value.
    contract_price_variance: Decimal
    invoice_price_variance: Decimal
    off_contract_po_value: Decimal

    @property
    def revenue_at_risk(self) -> Decimal:
        return self.reconciliation.revenue_at_risk


class KpiService:
    """Computes :class:`KpiReport` (module doc)."""

    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], interfaces: InterfaceInventory, clock: Clock
    ) -> None:
        self._uow = uow_factory
        self._interfaces = interfaces
        self._clock = clock

    def report(
        self, since: datetime, until: datetime, *, facility_id: str | None = None
    ) -> KpiReport:
        if since.tzinfo is None or until.tzinfo is None:
            raise DomainError("since", "the period's bounds must be timezone-aware")
        if until <= since:
            raise DomainError("until", f"must be after since ({since.isoformat()})")
        with self._uow() as uow:
            if facility_id is not None and uow.facilities.get(facility_id) is None:
                # A typo would measure nothing: every figure "-", read as a quiet facility.
                raise DomainError("facility_id", "no such facility")
            matches = list(_matches(uow, facility_id))
            touched = {
                number
                for approval in _approvals(uow, facility_id)
                if approval.decided_by is not None and not approval.decided_by.startswith("policy:")
                for number in approval.purchase_orders
            }
            off_contract = sum(
                (
                    line.extended_amount
                    for po in _orders(uow, facility_id)
                    if since.date() <= po.order_date < until.date()
                    for line in po.lines
                    if line.off_contract
                ),
                Decimal(0),
            ).quantize(CENT, rounding=ROUND_HALF_UP)
            usages, stocked_out = uow.usage_workflows.stockout_counts(
                since=since, until=until, facility_id=facility_id
            )
            # Aged at the end of the period, or now when that is sooner: the default period ends
            # at midnight tonight, and a line must not look hours older than it is.
            as_of = min(self._clock(), until)
            reconciliation = reconciliation_kpis(uow, as_of, facility_id, until=until)
            outcomes = [
                Outcome(m.interface, m.received_at, m.status in _OK)
                for m in _messages(uow, since, until)
                if m.status in _OK | _FAILED
                and (facility_id is None or m.facility_id == facility_id)
            ]
        in_period = [m for m in matches if _in(m.matched_at, since, until)]
        invoice_variance = sum(
            (
                line.variance_amount
                for m in matches
                if _in(m.received_at, since, until) and m.duplicate_of is None
                for line in m.lines
                if line.finding is Finding.PRICE_VARIANCE
            ),
            Decimal(0),
        ).quantize(CENT, rounding=ROUND_HALF_UP)
        return KpiReport(
            since=since,
            until=until,
            facility_id=facility_id,
            invoice_cycle_time=distribution(
                m.matched_at - m.received_at for m in in_period if m.matched_at is not None
            ),
            po_touchless=_touchless(matches, in_period, touched),
            stockouts=Stockouts(usages, stocked_out, per_thousand(stocked_out, usages)),
            reconciliation=reconciliation,
            interface_recovery=recovery_times(outcomes),
            governance=self._interfaces.governed_share(),
            contract_price_variance=invoice_variance + off_contract,
            invoice_price_variance=invoice_variance,
            off_contract_po_value=off_contract,
        )


def _in(at: datetime | None, since: datetime, until: datetime) -> bool:
    return at is not None and since <= at < until


def _touchless(
    matches: list[InvoiceMatch], in_period: list[InvoiceMatch], touched: set[str]
) -> Touchless:
    """POs with an invoice matched in the period; touchless when each of their invoices
    matched at its first run and no person approved their requisition (``touched``)."""
    orders = {m.purchase_order_id for m in in_period if m.purchase_order_id is not None}
    by_order: dict[str, list[InvoiceMatch]] = {}
    for match in matches:
        if match.purchase_order_id in orders:
            by_order.setdefault(match.purchase_order_id, []).append(match)
    touchless = sum(
        1
        for invoices in by_order.values()
        if all(m.status is MatchStatus.MATCHED and m.attempts == 1 for m in invoices)
        and invoices[0].purchase_order_number not in touched
    )
    return Touchless(len(orders), touchless, share(touchless, len(orders)))


def _pages(fetch: Callable[[str | None], Sequence[T]], key: Callable[[T], str]) -> Iterator[T]:
    """Every record of a keyset-paginated list: ``fetch(after)`` gives a page of ``_PAGE``."""
    after: str | None = None
    while True:
        page = fetch(after)
        yield from page
        if len(page) < _PAGE:
            return
        after = key(page[-1])


def _matches(uow: UnitOfWork, facility_id: str | None) -> Iterator[InvoiceMatch]:
    facilities = None if facility_id is None else [facility_id]
    return _pages(
        lambda after: uow.invoice_matches.list(facility_ids=facilities, after=after, limit=_PAGE),
        lambda match: match.invoice_id,
    )


def _approvals(uow: UnitOfWork, facility_id: str | None) -> Iterator[RequisitionApproval]:
    facilities = None if facility_id is None else [facility_id]
    return _pages(
        lambda after: uow.requisition_approvals.list(
            facility_ids=facilities, after=after, limit=_PAGE
        ),
        lambda approval: approval.requisition_id,
    )


def _orders(uow: UnitOfWork, facility_id: str | None) -> Iterator[PurchaseOrder]:
    return _pages(
        lambda after: uow.purchase_orders.list(facility_id=facility_id, after=after, limit=_PAGE),
        lambda po: po.id,
    )


def _messages(uow: UnitOfWork, since: datetime, until: datetime) -> Iterator[InboundMessage]:
    return _pages(
        lambda after: uow.inbox.list(
            received_since=since, received_before=until, after=after, limit=_PAGE
        ),
        lambda message: message.id,
    )


__all__ = ["KpiReport", "KpiService", "Stockouts", "Touchless"]
