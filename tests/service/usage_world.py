"""A small hospital for the usage workflow's tests, crash worker and benchmark.

Every id carries the run's random suffix, so runs share a database without seeing each other
(STYLE.md, tests). The numbers are chosen so each rule shows:

- ``supply``: gloves, owned stock, EA / BX of 10 / CS of 50, bought by the case; contract
  price 12.50 per box (1.25 each); par level reorder point 20 EA, par 100 EA; 30 EA on hand.
  A usage of 15 crosses the reorder point: par 100 - position 15 = 85 EA = 2 cases.
- ``implant``: a consigned, chargeable knee implant (CDM ``CDM-KNEE``); 2,500.00 each on
  contract; 2 consigned on hand.
- ``offcontract``: sutures with no contract price; last paid 30.00 a box of 10 (3.00 each).
- the location belongs to the OR department, whose cost center is ``CC-OR``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from suture.bootstrap import DESTINATIONS
from suture.domain.contracts import Contract, ContractMembership, ContractPrice
from suture.domain.inventory import StockPosition
from suture.domain.masterdata import (
    CostCenter,
    Department,
    Facility,
    Item,
    Location,
    LocationKind,
    ParLevel,
    Supplier,
)
from suture.domain.purchasing import PurchaseOrder, PurchaseOrderLine
from suture.domain.units import Packaging, PackagingLevel
from suture.eventlog.events import build_registry
from suture.eventlog.retry import RetryPolicy
from suture.eventlog.routing import default_policy_text, load_policy
from suture.services.clock import Clock
from suture.services.deliveries import DeliveryQueue
from suture.services.messagebus import MessageBus
from suture.services.redrive import REDRIVE_ON_MAPPING, redrive_on_mapping
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.usage import (
    COST_ATTRIBUTION,
    INVENTORY,
    RecordUsage,
    UsageProcess,
)

USED_AT = datetime(2025, 3, 3, 14, 5, tzinfo=UTC)
SOURCE = "epic"


@dataclass(frozen=True, slots=True)
class World:
    run: str

    def id(self, name: str) -> str:
        return f"{name}-{self.run}"

    @property
    def facility_id(self) -> str:
        return self.id("FAC")

    @property
    def location_id(self) -> str:
        return self.id("LOC-OR")

    @property
    def department_id(self) -> str:
        return self.id("DEPT-OR")

    @property
    def cost_center_id(self) -> str:
        return self.id("CC-OR")

    @property
    def supplier_id(self) -> str:
        return self.id("SUP")

    @property
    def supply(self) -> str:
        return self.id("ITEM-GLOVES")

    @property
    def implant(self) -> str:
        return self.id("ITEM-KNEE")

    @property
    def offcontract(self) -> str:
        return self.id("ITEM-SUTURE")

    def usage(
        self, number: int | str, item_id: str | None = None, **changes: object
    ) -> RecordUsage:
        """A usage of one each of the supply in the OR, unless told otherwise."""
        values: dict[str, object] = {
            "usage_id": self.id(f"U{number}"),
            "facility_id": self.facility_id,
            "location_id": self.location_id,
            "item_id": item_id or self.supply,
            "quantity": Decimal(1),
            "uom": "EA",
            "used_at": USED_AT,
            "source_system": SOURCE,
            "encounter_token": self.id("ENC"),
        }
        return RecordUsage(**(values | changes))  # type: ignore[arg-type]


def new_world() -> World:
    return World(uuid.uuid4().hex[:12])


def seed(uow: UnitOfWork, world: World, *, supply_on_hand: int = 30) -> None:
    """The master data, contract, par level, stock and one past PO of ``world``; commits."""
    w = world
    uow.facilities.add(Facility(id=w.facility_id, code=w.run, name="Test General"))
    uow.cost_centers.add(
        CostCenter(id=w.cost_center_id, facility_id=w.facility_id, code="OR", name="OR")
    )
    uow.departments.add(
        Department(
            id=w.department_id,
            facility_id=w.facility_id,
            code="OR",
            name="Surgery",
            cost_center_id=w.cost_center_id,
        )
    )
    uow.locations.add(
        Location(
            id=w.location_id,
            facility_id=w.facility_id,
            code="OR-1",
            name="OR core",
            kind=LocationKind.OPERATING_ROOM,
            department_id=w.department_id,
        )
    )
    uow.suppliers.add(Supplier(id=w.supplier_id, name="Ortho Supply"))
    boxed = Packaging.of(
        [PackagingLevel("EA", 1), PackagingLevel("BX", 10), PackagingLevel("CS", 50)]
    )
    uow.items.add(
        Item(
            id=w.supply,
            description="Gloves",
            manufacturer="Acme",
            catalog_number=w.id("GL"),
            packaging=boxed,
            purchase_uom="CS",
            supplier_id=w.supplier_id,
            unspsc="42132203",
        )
    )
    uow.items.add(
        Item(
            id=w.implant,
            description="Knee",
            manufacturer="Ortho",
            catalog_number=w.id("KN"),
            packaging=Packaging.of([PackagingLevel("EA", 1)]),
            purchase_uom="EA",
            supplier_id=w.supplier_id,
            is_implant=True,
            is_consignment=True,
            is_chargeable=True,
            cdm_code="CDM-KNEE",
            hcpcs="C1776",
            revenue_code="0278",
        )
    )
    uow.items.add(
        Item(
            id=w.offcontract,
            description="Suture",
            manufacturer="Acme",
            catalog_number=w.id("SU"),
            packaging=boxed,
            purchase_uom="BX",
            supplier_id=w.supplier_id,
        )
    )
    uow.contracts.add(
        Contract(
            id=w.id("CON"),
            number=w.id("CON"),
            supplier_id=w.supplier_id,
            name="Ortho GPO",
            effective_from=date(2025, 1, 1),
            memberships=[
                ContractMembership(
                    facility_id=w.facility_id, tier="A", effective_from=date(2025, 1, 1)
                )
            ],
            prices=[
                ContractPrice(item_id=w.supply, tier="A", uom="BX", unit_price=Decimal("12.50")),
                ContractPrice(item_id=w.implant, tier="A", uom="EA", unit_price=Decimal("2500.00")),
            ],
        )
    )
    uow.par_levels.add(
        ParLevel(
            id=w.id("PAR"),
            facility_id=w.facility_id,
            location_id=w.location_id,
            item_id=w.supply,
            reorder_point=Decimal(20),
            par=Decimal(100),
            uom="EA",
        )
    )
    stocked = USED_AT - timedelta(days=1)
    for item_id, owned, consigned in ((w.supply, supply_on_hand, 0), (w.implant, 0, 2)):
        uow.stock.save(
            StockPosition(
                facility_id=w.facility_id,
                location_id=w.location_id,
                item_id=item_id,
                on_hand=Decimal(owned),
                consigned_on_hand=Decimal(consigned),
                updated_at=stocked,
            )
        )
    uow.purchase_orders.add(
        PurchaseOrder(
            id=w.id("PO-PAST"),
            number=w.id("PO-PAST"),
            facility_id=w.facility_id,
            supplier_id=w.supplier_id,
            order_date=date(2025, 2, 1),
            lines=[
                PurchaseOrderLine(
                    line_number=1,
                    item_id=w.offcontract,
                    quantity=Decimal(4),
                    uom="BX",
                    unit_price=Decimal("30.00"),
                )
            ],
        )
    )
    uow.commit()


def build_bus(
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock | None = None,
    *,
    retry: RetryPolicy | None = None,
    lease: timedelta = timedelta(minutes=1),
    batch: bool = True,
) -> MessageBus:
    """The bus as ``bootstrap.build`` wires the usage workflow: its two steps reached through
    the shipped routing policy, the command, and the re-drive on a new mapping; ``batch``
    False leaves the steps' batch forms out, so every event runs the one-event form."""
    usage = UsageProcess(DeliveryQueue())
    options: dict[str, object] = {"clock": clock} if clock is not None else {}
    return MessageBus(
        uow_factory,
        handlers={
            REDRIVE_ON_MAPPING: redrive_on_mapping,
            INVENTORY: usage.apply_usage,
            COST_ATTRIBUTION: usage.attribute_cost,
        },
        subscriptions={"crosswalk.mapped": [REDRIVE_ON_MAPPING]},
        batch_handlers=(
            {INVENTORY: usage.apply_usages, COST_ATTRIBUTION: usage.attribute_costs}
            if batch
            else {}
        ),
        commands=[(RecordUsage, usage.record_usage)],
        policy=load_policy(default_policy_text(), "default.yaml", destinations=DESTINATIONS),
        registry=build_registry(),
        retry=retry,
        lease=lease,
        **options,  # type: ignore[arg-type]
    )


def drain(bus: MessageBus) -> int:
    """Run every due work item; how many were claimed in all."""
    total = 0
    while claimed := bus.run_once():
        total += claimed
    return total
