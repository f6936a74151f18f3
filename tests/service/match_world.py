"""A small procure-to-pay world for the three-way match's tests and benchmark.

Every id carries the run's random suffix, so runs share a database without seeing each other.

- ``glove``: EA / BX of 10 / CS of 50; the PO orders 100 EA at 1.00 each (line 1).
- ``suture``: EA / BX of 12; the PO orders 10 BX at 24.00 a box (line 2).
- The PO ``PO-<run>`` is the supplier's; receipts and invoices are stored through the
  repositories and announced with the events the inbound X12 path publishes
  (``purchasing.receipt.recorded``, ``purchasing.invoice.received``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from suture.bootstrap import DESTINATIONS
from suture.domain.invoicing import Invoice, InvoiceLine
from suture.domain.masterdata import Facility, Item, Supplier
from suture.domain.purchasing import (
    PurchaseOrder,
    PurchaseOrderKind,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
)
from suture.domain.units import Packaging, PackagingLevel
from suture.eventlog.events import InvoiceReceived, ReceiptRecorded, build_registry
from suture.eventlog.retry import RetryPolicy
from suture.eventlog.routing import default_policy_text, load_policy
from suture.services.clock import Clock
from suture.services.deliveries import DeliveryQueue
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.three_way_match import (
    INVOICE_RECEIVED,
    RECEIPT_RECORDED,
    THREE_WAY_MATCH,
    ThreeWayMatch,
)

AT = datetime(2025, 4, 1, 9, tzinfo=UTC)


class Ticking:
    """A clock a test moves by hand, from :data:`AT`."""

    def __init__(self) -> None:
        self.now = AT

    def __call__(self) -> datetime:
        return self.now


D = Decimal
UowFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True, slots=True)
class World:
    run: str

    def id(self, name: str) -> str:
        return f"{name}-{self.run}"

    @property
    def facility_id(self) -> str:
        return self.id("FAC")

    @property
    def supplier_id(self) -> str:
        return self.id("SUP")

    @property
    def glove(self) -> str:
        return self.id("GLOVE")

    @property
    def suture(self) -> str:
        return self.id("SUTURE")

    @property
    def po_number(self) -> str:
        return self.id("PO")

    def invoice_id(self, number: str) -> str:
        return self.id(f"INV-{number}")


def new_world() -> World:
    return World(uuid.uuid4().hex[:12])


def seed(
    uow: UnitOfWork, world: World, *, kind: PurchaseOrderKind = PurchaseOrderKind.STANDARD
) -> None:
    """Facility, supplier, the two items and the PO; commits."""
    w = world
    uow.facilities.add(Facility(id=w.facility_id, code=w.run, name="Test General"))
    uow.suppliers.add(Supplier(id=w.supplier_id, name="Med Supply"))
    for item_id, levels in (
        (w.glove, [PackagingLevel("EA", 1), PackagingLevel("BX", 10), PackagingLevel("CS", 50)]),
        (w.suture, [PackagingLevel("EA", 1), PackagingLevel("BX", 12)]),
    ):
        uow.items.add(Item(
            id=item_id, description=item_id, manufacturer="Acme", catalog_number=item_id,
            packaging=Packaging.of(levels), purchase_uom="EA", supplier_id=w.supplier_id,
        ))  # fmt: skip
    uow.purchase_orders.add(purchase_order(w, kind=kind))
    uow.commit()


def purchase_order(
    world: World, *, kind: PurchaseOrderKind = PurchaseOrderKind.STANDARD, lines: int = 0
) -> PurchaseOrder:
    """The world's PO; ``lines`` > 0 adds that many extra glove lines (for the benchmark)."""
    w = world
    po_lines = [
        PurchaseOrderLine(line_number=1, item_id=w.glove, quantity=D(100), uom="EA",
                          unit_price=D("1.00")),
        PurchaseOrderLine(line_number=2, item_id=w.suture, quantity=D(10), uom="BX",
                          unit_price=D("24.00")),
    ] + [
        PurchaseOrderLine(line_number=n, item_id=w.glove, quantity=D(10), uom="EA",
                          unit_price=D("1.00"))
        for n in range(3, 3 + lines)
    ]  # fmt: skip
    return PurchaseOrder(
        id=w.po_number, number=w.po_number, facility_id=w.facility_id, supplier_id=w.supplier_id,
        order_date=date(2025, 3, 1), kind=kind, lines=po_lines,
    )  # fmt: skip


def receipt_line(n: int, item_id: str, qty: str, uom: str = "EA", po_line: int = 1) -> ReceiptLine:
    return ReceiptLine(line_number=n, item_id=item_id, quantity=D(qty), uom=uom,
                       po_line_number=po_line)  # fmt: skip


def invoice_line(
    n: int, item_id: str, qty: str, price: str, uom: str = "EA", *, po_line: int | None = None
) -> InvoiceLine:
    return InvoiceLine(line_number=n, item_id=item_id, quantity=D(qty), uom=uom,
                       unit_price=D(price), po_line_number=po_line)  # fmt: skip


def build_bus(
    uow_factory: UowFactory,
    clock: Clock | None = None,
    *,
    retry: RetryPolicy | None = None,
    deliveries: DeliveryQueue | None = None,
    lease: timedelta = timedelta(minutes=1),
    batch: bool = True,
) -> tuple[MessageBus, ThreeWayMatch]:
    """The bus as ``bootstrap.build`` wires the match: reached through the shipped policy;
    ``batch`` False leaves the batch form out, so every event runs the one-event form."""
    process = ThreeWayMatch(deliveries or DeliveryQueue())
    options: dict[str, object] = {"clock": clock} if clock is not None else {}
    bus = MessageBus(
        uow_factory,
        handlers={THREE_WAY_MATCH: process.match_on_event},
        batch_handlers={THREE_WAY_MATCH: process.match_on_events} if batch else {},
        policy=load_policy(default_policy_text(), "default.yaml", destinations=DESTINATIONS),
        registry=build_registry(),
        retry=retry,
        lease=lease,
        **options,  # type: ignore[arg-type]
    )
    return bus, process


def drain(bus: MessageBus) -> int:
    total = 0
    while claimed := bus.run_once():
        total += claimed
    return total


def record_receipt(
    bus: MessageBus,
    uow: UnitOfWork,
    world: World,
    number: str,
    *lines: ReceiptLine,
    at: datetime = AT,
) -> Receipt:
    """Store a receipt against the world's PO and publish ``purchasing.receipt.recorded``
    in the same transaction (as the inbound edge does); commits."""
    receipt = Receipt(
        id=world.id(f"REC-{number}"), number=world.id(f"REC-{number}"),
        facility_id=world.facility_id, location_id=None, received_at=at,
        purchase_order_id=world.po_number, lines=list(lines),
    )  # fmt: skip
    uow.receipts.add(receipt)
    payload = ReceiptRecorded(
        receipt_id=receipt.id, purchase_order_id=world.po_number, facility_id=world.facility_id,
        line_count=len(lines),
    )  # fmt: skip
    bus.publish(uow, bus.envelope(
        RECEIPT_RECORDED, payload.model_dump(mode="json"), idempotency_key=f"receipt:{receipt.id}",
        correlation_id=world.po_number, occurred_at=at, source_facility=world.facility_id,
    ))  # fmt: skip
    uow.commit()
    return receipt


def receive_invoice(
    bus: MessageBus,
    uow: UnitOfWork,
    world: World,
    number: str,
    *lines: InvoiceLine,
    at: datetime = AT,
    **changes: object,
) -> Invoice:
    """Store an invoice for the world's PO and publish ``purchasing.invoice.received``;
    commits. ``number`` is the supplier's invoice number (the id is derived from it unless an
    ``id`` is given)."""
    values: dict[str, object] = {
        "id": world.invoice_id(number), "number": world.id(number),
        "supplier_id": world.supplier_id, "facility_id": world.facility_id,
        "invoice_date": date(2025, 3, 20), "purchase_order_number": world.po_number,
        "lines": list(lines),
    }  # fmt: skip
    invoice = Invoice(**(values | changes))  # type: ignore[arg-type]
    uow.invoices.add(invoice)
    payload = InvoiceReceived(
        invoice_id=invoice.id, invoice_number=invoice.number, supplier_id=invoice.supplier_id,
        facility_id=invoice.facility_id, purchase_order_number=invoice.purchase_order_number,
        amount=invoice.computed_total,
    )  # fmt: skip
    bus.publish(uow, bus.envelope(
        INVOICE_RECEIVED, payload.model_dump(mode="json"), idempotency_key=f"invoice:{invoice.id}",
        correlation_id=invoice.id, occurred_at=at, source_facility=invoice.facility_id,
    ))  # fmt: skip
    uow.commit()
    return invoice


def later(minutes: int) -> datetime:
    return AT + timedelta(minutes=minutes)
