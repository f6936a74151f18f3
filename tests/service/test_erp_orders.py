"""Purchase orders to the ERP: a consigned implant's usage ends as a bill-only purchase in the
ERP (DESIGN.md §1: the ERP owns purchase orders). Without Tryton: what is queued; with the
Tryton sandbox (``tryton`` fixture, tests/conftest.py): what Tryton shows."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from requisition_world import Ordering, build_bus, seed_ordering
from usage_world import drain, seed

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.adapters.erp.sandbox import SandboxServer
from suture.adapters.erp.tryton import TrytonErpGateway
from suture.adapters.erp.tryton_setup import ensure_cost_center, ensure_product, ensure_supplier
from suture.domain.deliveries import Delivery, DeliveryStatus
from suture.eventlog.retry import RetryPolicy
from suture.services.delivery_worker import DeliveryWorker
from suture.services.erp import (
    OPERATION_PURCHASE_ORDER,
    ErpTransport,
    InvoiceMethod,
    purchase_order_from_json,
)

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


@pytest.fixture
def world(uow: UowFactory) -> Ordering:
    created = Ordering(uuid.uuid4().hex[:12])
    with uow() as unit:
        seed(unit, created)
    with uow() as unit:
        seed_ordering(unit, created)
    return created


def erp_deliveries(uow: UowFactory, po_number: str) -> list[Delivery]:
    with uow() as unit:
        listed = unit.deliveries.list(correlation_id=po_number, target="erp:tryton")
        found = [unit.deliveries.get(x.id, with_payload=True) for x in listed]
    return [d for d in found if d is not None]


def use_consigned_implant(uow: UowFactory, world: Ordering) -> str:
    bus = build_bus(uow, erp_target="erp:tryton")
    bus.execute(world.usage(1, item_id=world.implant))
    drain(bus)
    return f"BO-{world.id('U1')}"


def test_a_consigned_implants_bill_only_po_is_queued_to_the_erp_invoiced_on_order(
    uow: UowFactory, world: Ordering
) -> None:
    number = use_consigned_implant(uow, world)

    (delivery,) = erp_deliveries(uow, number)
    order = purchase_order_from_json((delivery.payload or b"").decode())
    assert (delivery.operation, delivery.idempotency_key) == (
        OPERATION_PURCHASE_ORDER, f"po-{number}",
    )  # fmt: skip
    assert (order.number, order.supplier_id, order.invoice_method) == (
        number, world.supplier_id, InvoiceMethod.ORDER,
    )  # fmt: skip
    assert [(line.item_id, line.quantity, line.cost_center_id) for line in order.lines] == [
        (world.implant, Decimal(1), world.cost_center_id)
    ]


def test_without_an_erp_target_only_the_850_is_queued(uow: UowFactory, world: Ordering) -> None:
    bus = build_bus(uow)
    bus.execute(world.usage(1, item_id=world.implant))
    drain(bus)

    assert erp_deliveries(uow, f"BO-{world.id('U1')}") == []


def test_a_consigned_implants_usage_ends_in_tryton_as_a_bill_only_purchase_and_a_cost_journal(
    uow: UowFactory, world: Ordering, tryton: SandboxServer
) -> None:
    rpc = tryton.rpc()
    try:
        rpc.login()
        ensure_supplier(rpc, world.supplier_id, f"Ortho {world.run}")
        ensure_product(rpc, world.implant, f"Knee {world.run}", Decimal("1500.00"))
        ensure_cost_center(rpc, world.cost_center_id, f"OR {world.run}")
        number = use_consigned_implant(uow, world)
        worker = DeliveryWorker(
            uow, {"erp": ErpTransport(TrytonErpGateway(rpc))}, RetryPolicy(),
            lambda: datetime.now(UTC),
        )  # fmt: skip

        while worker.run_once():
            pass

        (delivery,) = erp_deliveries(uow, number)
        (purchase,) = rpc.call(
            "model.purchase.purchase.search_read", [("reference", "=", number)], 0, None, None,
            ["state", "invoice_method", "lines"],
        )  # fmt: skip
        (line,) = rpc.call(
            "model.purchase.line.read", purchase["lines"],
            ["quantity", "unit_price", "analytic_accounts.account.code"],
        )  # fmt: skip
        moves = rpc.call(
            "model.account.move.search_read", [("description", "like", f"%{world.run}%")], 0,
            None, None, ["state", "lines"],
        )  # fmt: skip
        analytic = rpc.call(
            "model.analytic_account.line.search_read",
            [("move_line", "in", [i for m in moves for i in m["lines"]])], 0, None, None,
            ["account.code", "debit", "credit"],
        )  # fmt: skip
    finally:
        rpc.close()
    assert delivery.status is DeliveryStatus.DELIVERED
    assert (purchase["state"], purchase["invoice_method"]) == ("processing", "order")
    assert (line["quantity"], [a["account."]["code"] for a in line["analytic_accounts."]]) == (
        1.0, [world.cost_center_id],
    )  # fmt: skip
    assert [m["state"] for m in moves] == ["posted"]
    assert [(a["account."]["code"], a["credit"]) for a in analytic] == [
        (world.cost_center_id, Decimal(0))
    ]
    assert all(a["debit"] > 0 for a in analytic)
