"""What Tryton shows after the demo day, beside what Suture sent it (``suture demo --erp
tryton``; docs/demo.md).

"What Suture sent" is the hub's own record: every ``erp:tryton`` delivery, its operation,
idempotency key, status and payload (decoded with the transport's own readers,
``services/erp.py``). "What Tryton shows" is read back through Tryton's JSON-RPC API, finding
each document by the key the gateway files it under (``adapters/erp/tryton.py``):

- a purchase order (key ``po-…``): a ``purchase.purchase`` whose description is the key,
  ``processing`` or ``done``, its untaxed amount the PO's;
- a receipt (``receipt-…``): a ``stock.shipment.in`` whose reference is the key, ``done``;
- an AP voucher (``voucher-…``): a supplier ``account.invoice`` whose description is the key,
  ``posted`` or ``paid``, its total the voucher's;
- a cost journal (``journal-…``): an ``account.move`` whose description is the key, ``posted``;

and the journals' analytic lines summed per cost center (analytic account code) against the
journal lines Suture sent on that cost center. Every disagreement is a difference, named by
its business key: a delivery that never reached Tryton (dead or still pending, with its last
error), a document Tryton lacks or holds in another state, an amount that differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from suture.adapters.erp.tryton_rpc import TrytonRpc
from suture.domain.deliveries import Delivery, DeliveryStatus
from suture.services.erp import (
    OPERATION_AP_VOUCHER,
    OPERATION_JOURNAL,
    OPERATION_PURCHASE_ORDER,
    OPERATION_RECEIPT,
    journal_from_csv,
    purchase_order_from_json,
    voucher_from_csv,
)
from suture.services.unit_of_work import UnitOfWork

TARGET = "erp:tryton"
ZERO = Decimal(0)
CENT = Decimal("0.01")
_PAGE = 500
_CHUNK = 400


@dataclass(frozen=True, slots=True)
class _Kind:
    label: str
    model: str
    key_field: str
    states: frozenset[str]
    amount_field: str | None = None


KINDS: dict[str, _Kind] = {
    OPERATION_PURCHASE_ORDER: _Kind(
        "purchases confirmed", "purchase.purchase", "description",
        frozenset({"processing", "done"}), "untaxed_amount",
    ),
    OPERATION_RECEIPT: _Kind(
        "shipments done", "stock.shipment.in", "reference", frozenset({"done"})
    ),
    OPERATION_AP_VOUCHER: _Kind(
        "supplier invoices posted", "account.invoice", "description",
        frozenset({"posted", "paid"}), "total_amount",
    ),
    OPERATION_JOURNAL: _Kind("cost journals posted", "account.move", "description",
                             frozenset({"posted"})),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DocumentCheck:
    """One kind of document: how many Suture queued, delivered, and Tryton shows as expected."""

    operation: str
    label: str
    queued: int
    delivered: int
    in_erp: int


@dataclass(frozen=True, slots=True)
class CostCenterCheck:
    """Cost journal lines on one cost center: Suture's net debit sent, Tryton's analytic."""

    cost_center_id: str
    sent: Decimal
    in_erp: Decimal

    @property
    def agrees(self) -> bool:
        return self.sent == self.in_erp


@dataclass(frozen=True, slots=True)
class ErpCheck:
    documents: tuple[DocumentCheck, ...]
    cost_centers: tuple[CostCenterCheck, ...]
    differences: tuple[str, ...] = field(default=())


@dataclass(slots=True)
class _Sent:
    delivery: Delivery
    amount: Decimal | None = None
    #: cost center -> net debit of the journal's lines on it.
    centers: dict[str, Decimal] = field(default_factory=dict)


def check_erp(
    uow_factory: Callable[[], UnitOfWork], rpc: TrytonRpc, *, target: str = TARGET
) -> ErpCheck:
    """Read both sides and compare them (module doc); ``target``: the hub's Tryton target."""
    sent = _sent(uow_factory, target)
    differences: list[str] = []
    documents = []
    moves: list[int] = []
    for operation, kind in KINDS.items():
        queued = sent.get(operation, [])
        delivered = [s for s in queued if s.delivery.status is DeliveryStatus.DELIVERED]
        for item in queued:
            if item.delivery.status is not DeliveryStatus.DELIVERED:
                differences.append(
                    f"{operation} {item.delivery.idempotency_key}: not in Tryton, the delivery "
                    f"is {item.delivery.status}: {item.delivery.last_error or 'no error'}"
                )
        rows = _find(rpc, kind, [s.delivery.idempotency_key for s in delivered])
        good = 0
        for item in delivered:
            key = item.delivery.idempotency_key
            row = rows.get(key)
            if row is None:
                differences.append(f"{operation} {key}: delivered, but Tryton has no such record")
                continue
            if str(row["state"]) not in kind.states:
                differences.append(f"{operation} {key}: Tryton shows it {row['state']}")
                continue
            if kind.amount_field and item.amount is not None:
                shown = Decimal(str(row[kind.amount_field]))
                if shown.quantize(CENT) != item.amount.quantize(CENT):
                    differences.append(
                        f"{operation} {key}: Suture sent {item.amount:,.2f}, Tryton shows "
                        f"{shown:,.2f}"
                    )
                    continue
            good += 1
            if operation == OPERATION_JOURNAL:
                moves.append(int(row["id"]))
        documents.append(DocumentCheck(operation, kind.label, len(queued), len(delivered), good))
    centers = _cost_centers(rpc, sent.get(OPERATION_JOURNAL, []), moves)
    differences += [
        f"cost center {c.cost_center_id}: Suture sent {c.sent:,.2f} of journal lines, Tryton's "
        f"analytic lines show {c.in_erp:,.2f}"
        for c in centers
        if not c.agrees
    ]
    return ErpCheck(tuple(documents), centers, tuple(differences))


def _sent(uow_factory: Callable[[], UnitOfWork], target: str) -> dict[str, list[_Sent]]:
    found: dict[str, list[_Sent]] = {}
    with uow_factory() as uow:
        for listed in _deliveries(uow, target):
            delivery = uow.deliveries.get(listed.id, with_payload=True)
            if delivery is None:
                continue
            found.setdefault(delivery.operation, []).append(_decoded(delivery))
    return found


def _deliveries(uow: UnitOfWork, target: str) -> Iterator[Delivery]:
    after: str | None = None
    while page := uow.deliveries.list(target=target, after=after, limit=_PAGE):
        yield from page
        after = page[-1].id


def _decoded(delivery: Delivery) -> _Sent:
    text = (delivery.payload or b"").decode("utf-8", "replace")
    item = _Sent(delivery)
    if delivery.operation == OPERATION_PURCHASE_ORDER:
        item.amount = purchase_order_from_json(text).total
    elif delivery.operation == OPERATION_AP_VOUCHER:
        item.amount = voucher_from_csv(text).total
    elif delivery.operation == OPERATION_JOURNAL:
        for line in journal_from_csv(text).lines:
            if line.cost_center_id:
                net = line.debit - line.credit
                item.centers[line.cost_center_id] = (
                    item.centers.get(line.cost_center_id, ZERO) + net
                )
    return item


def _find(rpc: TrytonRpc, kind: _Kind, keys: list[str]) -> dict[str, dict[str, Any]]:
    fields = ["id", kind.key_field, "state"] + ([kind.amount_field] if kind.amount_field else [])
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        rows = rpc.call(f"model.{kind.model}.search_read", [(kind.key_field, "in", chunk)], 0,
                        None, None, fields)  # fmt: skip
        for row in rows:
            found[str(row[kind.key_field])] = row
    return found


def _cost_centers(
    rpc: TrytonRpc, journals: list[_Sent], moves: list[int]
) -> tuple[CostCenterCheck, ...]:
    sent: dict[str, Decimal] = {}
    for item in journals:
        if item.delivery.status is DeliveryStatus.DELIVERED:
            for center, net in item.centers.items():
                sent[center] = sent.get(center, ZERO) + net
    shown: dict[str, Decimal] = {}
    for start in range(0, len(moves), _CHUNK):
        rows = rpc.call(
            "model.analytic_account.line.search_read",
            [("move_line.move", "in", moves[start : start + _CHUNK])], 0, None, None,
            ["account.code", "debit", "credit"],
        )  # fmt: skip
        for row in rows:
            code = str(row["account."]["code"])
            net = Decimal(str(row["debit"])) - Decimal(str(row["credit"]))
            shown[code] = shown.get(code, ZERO) + net
    return tuple(
        CostCenterCheck(center, sent.get(center, ZERO), shown.get(center, ZERO))
        for center in sorted(set(sent) | set(shown))
    )
