"""A small procure-to-pay world for the inbound X12 tests: a facility, a supplier, items,
locations, purchase orders, and a builder of X12 interchanges with counts that verify."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.crosswalk import CrosswalkEntry, CrosswalkKey, CrosswalkKind
from suture.domain.masterdata import (
    Facility,
    Item,
    Location,
    LocationKind,
    Supplier,
)
from suture.domain.purchasing import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from suture.domain.units import Packaging, PackagingLevel
from suture.eventlog.events import build_registry
from suture.services.deliveries import DeliveryQueue
from suture.services.inbox import Inbox
from suture.services.messagebus import MessageBus
from suture.services.receiving import Receiving
from suture.services.x12_ingest import X12Ingest

NOW = datetime(2025, 3, 1, 15, 0, tzinfo=UTC)
FACILITY = "fac-gh"
SUPPLIER = "sup-acme"
SUPPLIER_ISA = "ACMEMED"
OUR_ISA = "GENHOSP"
GAUZE_GTIN = "00614141000012"
SCREW_GTIN = "00614141000029"
CENTRAL = "loc-central"
OR1 = "loc-or1"


def gauze() -> Item:
    """Gauze, owned stock, bought by the box of 10 eaches."""
    return Item(
        id="item-gauze", description="Gauze 4x4", manufacturer="Acme", catalog_number="G-44",
        packaging=Packaging.of([PackagingLevel("EA", 1), PackagingLevel("BX", 10, GAUZE_GTIN)]),
        purchase_uom="BX", supplier_id=SUPPLIER,
    )  # fmt: skip


def screw() -> Item:
    """A consigned implant screw, by the each."""
    return Item(
        id="item-screw", description="Bone screw 4.5", manufacturer="Acme", catalog_number="S-45",
        packaging=Packaging.of([PackagingLevel("EA", 1, SCREW_GTIN)]), purchase_uom="EA",
        supplier_id=SUPPLIER, is_implant=True, is_consignment=True,
    )  # fmt: skip


def purchase_order(number: str = "PO-1001", *, supplier_id: str = SUPPLIER) -> PurchaseOrder:
    """Four lines: 5 BX gauze at 12.50, 3 EA screws at 250.00, 2 BX gauze at 12.50, 1 EA
    screw at 250.00."""
    return PurchaseOrder(
        id=f"po-{number}", number=number, facility_id=FACILITY, supplier_id=supplier_id,
        order_date=date(2025, 2, 27), status=PurchaseOrderStatus.SENT,
        lines=[
            PurchaseOrderLine(line_number=1, item_id="item-gauze", quantity=Decimal(5), uom="BX",
                              unit_price=Decimal("12.50")),
            PurchaseOrderLine(line_number=2, item_id="item-screw", quantity=Decimal(3), uom="EA",
                              unit_price=Decimal("250.00")),
            PurchaseOrderLine(line_number=3, item_id="item-gauze", quantity=Decimal(2), uom="BX",
                              unit_price=Decimal("12.50")),
            PurchaseOrderLine(line_number=4, item_id="item-screw", quantity=Decimal(1), uom="EA",
                              unit_price=Decimal("250.00")),
        ],
    )  # fmt: skip


def migrated(url: str) -> sa.Engine:
    engine = create_engine(url)
    ensure_schema(engine)
    return engine


def seed(engine: sa.Engine) -> None:
    """The facility, its two locations, the supplier (ERP vendor id ``V-ACME``, mapped from
    ISA06 ``ACMEMED``), both items, a supplier-part crosswalk and PO-1001."""
    with SqlAlchemyUnitOfWork(engine) as uow:
        uow.facilities.add(Facility(id=FACILITY, code="GH", name="General", timezone="UTC"))
        uow.locations.add(
            Location(
                id=CENTRAL,
                facility_id=FACILITY,
                code="CS",
                name="Central supply",
                kind=LocationKind.CENTRAL_SUPPLY,
            )
        )
        uow.locations.add(Location(id=OR1, facility_id=FACILITY, code="OR1", name="OR 1",
                                   kind=LocationKind.OPERATING_ROOM))  # fmt: skip
        uow.suppliers.add(Supplier(id=SUPPLIER, name="Acme Medical", erp_vendor_id="V-ACME"))
        uow.items.add(gauze())
        uow.items.add(screw())
        uow.crosswalks.add(
            CrosswalkEntry(
                key=CrosswalkKey("x12", None, CrosswalkKind.SUPPLIER, SUPPLIER_ISA),
                canonical_id=SUPPLIER,
                valid_from=NOW,
            )
        )
        uow.crosswalks.add(CrosswalkEntry(
            key=CrosswalkKey(SUPPLIER, None, CrosswalkKind.ITEM, "ACME-S45"),
            canonical_id="item-screw", valid_from=NOW,
        ))  # fmt: skip
        uow.purchase_orders.add(purchase_order())
        uow.commit()


@dataclass
class Services:
    ingest: X12Ingest
    receiving: Receiving
    bus: MessageBus


def services(engine: sa.Engine, clock: Callable[[], datetime] = lambda: NOW) -> Services:
    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    bus = MessageBus(uow, handlers={}, clock=clock, registry=build_registry())
    return Services(
        X12Ingest(uow, Inbox(uow), bus, DeliveryQueue(), clock), Receiving(uow, bus, clock), bus
    )


def interchange(
    sets: Sequence[tuple[str, Sequence[str]]],
    *,
    control: int = 905,
    sender: str = SUPPLIER_ISA,
    functional_id: str = "PR",
    version: str = "004010",
    stamp: str = "250301*1200",
) -> bytes:
    """One ISA/GS envelope around ``sets`` (set id, body segments without ST/SE), ``~``
    terminated, every count right."""
    isa_version = "00401" if version.startswith("004") else "00501"
    out = [
        f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{OUR_ISA:<15}*{stamp}*U*"
        f"{isa_version}*{control:09d}*0*P*>",
        f"GS*{functional_id}*{sender}*{OUR_ISA}*20250301*1200*{control}*X*{version}",
    ]
    for index, (set_id, body) in enumerate(sets, start=1):
        number = f"{index:04d}"
        out += [f"ST*{set_id}*{number}", *body, f"SE*{len(body) + 2}*{number}"]
    out += [f"GE*{len(sets)}*{control}", f"IEA*1*{control:09d}"]
    return ("~".join(out) + "~").encode()


def events(engine: sa.Engine, event_type: str) -> list[dict[str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT payload FROM events WHERE type = :t ORDER BY position"),
            {"t": event_type},
        )
        return [json.loads(row[0]) for row in rows]
