"""What the hub holds after the demo day, in the business's terms (``suture demo``'s tables).

Read through one unit of work, from the state the workflows keep: messages by interface and
status (the inbox), purchase orders by origin, invoices and their match, exceptions by type and
status, reconciliation outcomes per side with the revenue at risk, and the cost journals per
cost center (each must balance: every usage's journal debits an expense on the cost center and
credits inventory or accrued receipts by the same amount). The KPIs come from
:class:`~suture.services.kpis.KpiService`, beside this.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from suture.domain.messages import InboundMessage
from suture.domain.purchasing import PurchaseOrder, PurchaseOrderKind
from suture.services.unit_of_work import Repository, UnitOfWork

T = TypeVar("T")
_PAGE = 1000
ZERO = Decimal(0)
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CostCenterJournals:
    cost_center_id: str
    journals: int
    debit: Decimal
    credit: Decimal

    @property
    def balanced(self) -> bool:
        return self.debit == self.credit


@dataclass(frozen=True, slots=True)
class DemoReport:
    """The hub's state after the day (module doc); counts only, no patient data."""

    #: interface -> status -> messages (statuses with none left out).
    messages: dict[str, dict[str, int]]
    #: origin -> purchase orders: replenishment (a par-level requisition), departmental (a
    #: department's request), bill-only and restock (a consigned implant used).
    purchase_orders: dict[str, int]
    #: invoice status -> invoices.
    invoices: dict[str, int]
    #: exception type -> status -> items.
    exceptions: dict[str, dict[str, int]]
    #: side (usage, charge) -> outcome -> lines.
    reconciliation: dict[str, dict[str, int]]
    revenue_at_risk: Decimal
    journals: tuple[CostCenterJournals, ...]

    def open_exceptions(self, kind: str) -> int:
        found = self.exceptions.get(kind, {})
        return sum(n for status, n in found.items() if status not in {"resolved", "dismissed"})


def demo_report(uow_factory: Callable[[], UnitOfWork]) -> DemoReport:
    """Read the report (module doc)."""
    with uow_factory() as uow:
        messages = _messages(uow)
        orders = Counter(_origin(po) for po in _all(uow.purchase_orders))
        invoices = Counter(str(invoice.status) for invoice in _all(uow.invoices))
        exceptions: dict[str, dict[str, int]] = {}
        for (kind, status), n in uow.exceptions.count_by_type_status().items():
            if n:
                exceptions.setdefault(str(kind), {})[str(status)] = n
        lines = uow.reconciliation.all()
        journals = _journals(uow)
    reconciliation: dict[str, dict[str, int]] = {}
    for line in lines:
        per_side = reconciliation.setdefault(str(line.side), {})
        per_side[str(line.outcome)] = per_side.get(str(line.outcome), 0) + 1
    at_risk = sum((line.revenue_at_risk or ZERO for line in lines), ZERO).quantize(CENT)
    return DemoReport(
        messages=messages,
        purchase_orders=dict(sorted(orders.items())),
        invoices=dict(sorted(invoices.items())),
        exceptions=dict(sorted(exceptions.items())),
        reconciliation=reconciliation,
        revenue_at_risk=at_risk,
        journals=journals,
    )


def priced_orders(uow_factory: Callable[[], UnitOfWork], numbers: Iterable[str]) -> list[str]:
    """Those of the PO ``numbers`` whose first line has a price: a supplier's price increase on
    the first line of any other (a consignment restock, ordered at no charge) changes nothing."""
    found = []
    with uow_factory() as uow:
        for number in sorted(numbers):
            po = uow.purchase_orders.by_number(number)
            if po is None or not po.lines:
                continue
            first = min(po.lines, key=lambda line: line.line_number)
            if first.unit_price > 0:
                found.append(number)
    return found


def _messages(uow: UnitOfWork) -> dict[str, dict[str, int]]:
    interfaces = sorted({message.interface for message in _inbox(uow)})
    found: dict[str, dict[str, int]] = {}
    for interface in interfaces:
        counts = uow.inbox.count_by_status(interface=interface)
        found[interface] = {str(status): n for status, n in counts.items() if n}
    return found


def _inbox(uow: UnitOfWork) -> Iterator[InboundMessage]:
    after: str | None = None
    while page := uow.inbox.list(after=after, limit=_PAGE):
        yield from page
        after = page[-1].id


def _origin(po: PurchaseOrder) -> str:
    if po.kind is PurchaseOrderKind.BILL_ONLY:
        return "bill-only"
    if po.kind is PurchaseOrderKind.REPLENISHMENT:
        return "restock (consignment)"
    if po.requisition_id is not None and po.requisition_id.startswith("REQ-D-"):
        return "departmental"
    return "replenishment (par level)"


def _journals(uow: UnitOfWork) -> tuple[CostCenterJournals, ...]:
    totals: dict[str, tuple[int, Decimal, Decimal]] = {}
    for entry in _all(uow.journals):
        center = next((line.cost_center_id for line in entry.lines if line.cost_center_id), None)
        key = center or "(none)"
        count, debit, credit = totals.get(key, (0, ZERO, ZERO))
        totals[key] = (
            count + 1,
            debit + sum((line.debit for line in entry.lines), ZERO),
            credit + sum((line.credit for line in entry.lines), ZERO),
        )
    return tuple(
        CostCenterJournals(center, count, debit, credit)
        for center, (count, debit, credit) in sorted(totals.items())
    )


def _all(repository: Repository[T]) -> Iterator[T]:
    after: str | None = None
    while page := repository.list(after=after, limit=_PAGE):
        yield from page
        after = getattr(page[-1], "id", None)
        if after is None:
            return
