"""The usage tests' hospital (``usage_world.py``) with what procure-to-pay adds to it.

- ``supplier_id`` (Ortho Supply) has a production trading-partner profile ``ZZ:ORTHO``.
- ``second_supplier`` (Gauze Co) sells ``gauze``: no contract, list price 8.00 a box of 10;
  its profile is a test (``T``) 004010 one, to a target of its own (``x12:van``).
- The bus is wired as ``bootstrap.build`` wires it: the usage workflow's two steps and the
  requisition workflow's three, reached through the shipped routing and approval policies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from usage_world import USED_AT, World

from suture.bootstrap import DESTINATIONS
from suture.domain.approval import ApprovalPolicy
from suture.domain.masterdata import Item, Supplier
from suture.domain.purchasing import Requisition, RequisitionLine, RequisitionStatus
from suture.domain.trading_partners import TradingPartner
from suture.domain.units import Packaging, PackagingLevel
from suture.eventlog.events import RequisitionRaised, build_registry
from suture.eventlog.routing import default_policy_text, load_policy
from suture.services.approval_policy import default_approval_policy_text, load_approval_policy
from suture.services.clock import Clock
from suture.services.deliveries import DeliveryQueue
from suture.services.messagebus import MessageBus
from suture.services.redrive import REDRIVE_ON_MAPPING, redrive_on_mapping
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.order_dispatch import PurchaseOrderDispatch, X12Identity
from suture.services.workflows.requisitions import (
    PURCHASE_ORDER_DISPATCH,
    PURCHASE_ORDERING,
    REQUISITION_APPROVAL,
    REQUISITION_RAISED,
    RequisitionProcess,
)
from suture.services.workflows.usage import (
    COST_ATTRIBUTION,
    INVENTORY,
    RecordUsage,
    UsageProcess,
)

HUB = X12Identity("ZZ", "SUTUREHUB", "SUTUREAPP")
REQUESTED_AT = USED_AT
#: The bus's clock: the day the POs are dated and priced.
ORDERED_AT = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
ORDER_DAY = ORDERED_AT.date()


def fixed_clock() -> datetime:
    return ORDERED_AT


@dataclass(frozen=True, slots=True)
class Ordering(World):
    @property
    def second_supplier(self) -> str:
        return self.id("SUP2")

    @property
    def gauze(self) -> str:
        return self.id("ITEM-GAUZE")


def seed_ordering(uow: UnitOfWork, world: Ordering, *, partners: bool = True) -> None:
    """The second supplier, its item and both profiles; commits."""
    uow.suppliers.add(Supplier(id=world.second_supplier, name="Gauze Co"))
    uow.items.add(
        Item(
            id=world.gauze, description="Gauze", manufacturer="Gauze Co",
            catalog_number=world.id("GZ"),
            packaging=Packaging.of([PackagingLevel("EA", 1), PackagingLevel("BX", 10)]),
            purchase_uom="BX", supplier_id=world.second_supplier, unspsc="42311505",
            list_price=Decimal("8.00"),
        )
    )  # fmt: skip
    if partners:
        uow.trading_partners.save(partner(world.supplier_id, "ORTHO"))
        uow.trading_partners.save(
            partner(world.second_supplier, "GAUZE", version="004010", usage="T", target="x12:van")
        )
    uow.commit()


def partner(
    supplier_id: str,
    isa_id: str,
    *,
    version: str = "005010",
    usage: str = "P",
    target: str | None = None,
) -> TradingPartner:
    return TradingPartner(
        supplier_id=supplier_id, isa_qualifier="ZZ", isa_id=isa_id, gs_id=f"{isa_id}GS",
        x12_version=version, usage_indicator=usage, delivery_target=target,
        updated_at=REQUESTED_AT - timedelta(days=1),
    )  # fmt: skip


def build_bus(
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock | None = None,
    *,
    policy: ApprovalPolicy | None = None,
    erp_target: str | None = None,
) -> MessageBus:
    queue = DeliveryQueue()
    usage = UsageProcess(queue, erp_target=erp_target) if erp_target else UsageProcess(queue)
    ordering = RequisitionProcess(
        policy or load_approval_policy(default_approval_policy_text(), "approval.yaml"),
        PurchaseOrderDispatch(queue, HUB, erp_target=erp_target),
    )
    return MessageBus(
        uow_factory,
        handlers={
            REDRIVE_ON_MAPPING: redrive_on_mapping,
            INVENTORY: usage.apply_usage,
            COST_ATTRIBUTION: usage.attribute_cost,
            REQUISITION_APPROVAL: ordering.route_requisition,
            PURCHASE_ORDERING: ordering.raise_orders,
            PURCHASE_ORDER_DISPATCH: ordering.dispatch_order,
        },
        subscriptions={"crosswalk.mapped": [REDRIVE_ON_MAPPING]},
        commands=[(RecordUsage, usage.record_usage)],
        policy=load_policy(default_policy_text(), "default.yaml", destinations=DESTINATIONS),
        registry=build_registry(),
        lease=timedelta(minutes=1),
        clock=clock or fixed_clock,
    )


def raise_requisition(
    bus: MessageBus,
    uow_factory: Callable[[], UnitOfWork],
    world: World,
    number: str,
    lines: Sequence[tuple[str, str, str]],
    *,
    reason: str = "replenishment",
) -> str:
    """Store a requisition of ``lines`` (item, quantity, uom) and publish it raised, in one
    transaction, as the usage workflow does; its id."""
    requisition = Requisition(
        id=world.id(number), number=world.id(number), facility_id=world.facility_id,
        department_id=world.department_id, location_id=world.location_id,
        requested_at=REQUESTED_AT, status=RequisitionStatus.PENDING_APPROVAL,
        lines=[
            RequisitionLine(line_number=n, item_id=item, quantity=Decimal(q), uom=uom)
            for n, (item, q, uom) in enumerate(lines, start=1)
        ],
    )  # fmt: skip
    first = requisition.lines[0]
    payload = RequisitionRaised(
        requisition_id=requisition.id, facility_id=world.facility_id,
        location_id=world.location_id, department_id=world.department_id,
        item_id=first.item_id, quantity=first.quantity, uom=first.uom,
        reason=reason, line_count=len(lines),  # type: ignore[arg-type]
    )  # fmt: skip
    with uow_factory() as uow:
        uow.requisitions.add(requisition)
        bus.publish(uow, bus.envelope(
            REQUISITION_RAISED, payload.model_dump(mode="json"),
            idempotency_key=f"requisition:{requisition.id}", correlation_id=requisition.id,
            occurred_at=REQUESTED_AT, source_facility=world.facility_id,
        ))  # fmt: skip
        uow.commit()
    return requisition.id
