"""A supplier unknown to the ERP parks the PO with an exception; a supplier pull re-drives it;
payment status is read back from the ERP.

Issue 6, docs/erp.md: the ERP is authoritative for suppliers. The hub's database is real
(SQLite, the composition root); the ERP is a scripted fake behind the real ``ErpTransport``,
delivery worker and ``SupplierSync``: the Tryton gateway's own refusals are tested against a real
Tryton in ``tests/integration/test_tryton_erp.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.deliveries import AttemptOutcome, DeliveryStatus
from suture.domain.exceptions import ExceptionStatus, ExceptionType
from suture.domain.invoicing import Invoice, InvoiceStatus
from suture.domain.ledger import JournalEntry, JournalLine
from suture.eventlog.retry import RetryPolicy
from suture.services.delivery_worker import DeliveryWorker
from suture.services.erp import (
    OPERATION_JOURNAL,
    OPERATION_PURCHASE_ORDER,
    OPERATION_RECEIPT,
    ApVoucher,
    ErpOrderLine,
    ErpPurchaseOrder,
    ErpReceipt,
    ErpRecord,
    ErpSupplier,
    ErpTransport,
    ErpUnavailableError,
    PaymentState,
    PaymentStatus,
    purchase_order_json,
    receipt_json,
    redrive_after_order,
    unknown_purchase,
    unknown_record,
    unknown_supplier,
)
from suture.services.erp_payments import ErpPayments
from suture.services.erp_suppliers import ScheduledPull, SupplierSync
from suture.services.workflows.journal_file import journal_csv

TARGET = "erp:tryton"


@dataclass
class FakeErp:
    """An ERP that knows some suppliers and records the purchases and receipts it took."""

    known: set[str] = field(default_factory=set)
    purchases: dict[str, str] = field(default_factory=dict)  # PO number → supplier
    receipts: list[str] = field(default_factory=list)
    products: set[str] = field(default_factory=lambda: {"ITEM-1"})
    cost_centers: set[str] = field(default_factory=lambda: {"CC-7010"})
    journals: list[str] = field(default_factory=list)

    def send_journal(self, entry: JournalEntry, *, key: str) -> str:
        for line in entry.lines:
            if line.cost_center_id and line.cost_center_id not in self.cost_centers:
                raise unknown_record(
                    ErpRecord.COST_CENTER, line.cost_center_id, "cost_center_id",
                    f"the ERP has no cost center with code {line.cost_center_id!r}",
                )  # fmt: skip
        self.journals.append(key)
        return key

    def send_ap_voucher(self, voucher: ApVoucher, *, key: str) -> str:
        return key

    def send_purchase_order(self, order: ErpPurchaseOrder, *, key: str) -> str:
        if order.supplier_id not in self.known:
            raise unknown_supplier(
                order.supplier_id, f"the ERP has no supplier with code {order.supplier_id!r}"
            )
        for line in order.lines:
            if line.item_id not in self.products:
                raise unknown_record(
                    ErpRecord.PRODUCT, line.item_id, "item_id",
                    f"the ERP has no product with code {line.item_id!r}",
                )  # fmt: skip
        self.purchases[order.number] = order.supplier_id
        return key

    def send_receipt(self, receipt: ErpReceipt, *, key: str) -> str:
        number = receipt.purchase_order_number
        if number not in self.purchases:
            raise unknown_purchase(number, "purchase_order_number", f"no purchase {number!r}")
        self.receipts.append(key)
        return key

    def suppliers(self) -> list[ErpSupplier]:
        return [ErpSupplier(supplier_id=s, name=f"Supplier {s}") for s in sorted(self.known)]

    def payment_status(self, invoice_number: str, supplier_id: str) -> PaymentStatus:
        # This scripted ERP keeps no invoices: it cannot say whether one was paid.
        return PaymentStatus(invoice_number=invoice_number, state=PaymentState.UNKNOWN)

    def known_records(self, kind: ErpRecord, record_ids: Collection[str]) -> set[str]:
        have = {ErpRecord.PRODUCT: self.products, ErpRecord.COST_CENTER: self.cost_centers}
        return set(record_ids) & have.get(kind, set())


@dataclass
class Erp:
    hub: Hub
    fake: FakeErp
    worker: DeliveryWorker
    pull: SupplierSync

    def order(self, number: str, supplier: str, item: str = "ITEM-1") -> str:
        order = ErpPurchaseOrder(
            number=number, supplier_id=supplier, facility_id="fac-1", order_date=date(2026, 3, 1),
            lines=(ErpOrderLine(line=1, item_id=item, quantity=Decimal(2), uom="EA",
                                unit_price=Decimal("12.50")),),
        )  # fmt: skip
        return self._queue(OPERATION_PURCHASE_ORDER, f"po-{number}", purchase_order_json(order),
                           number)  # fmt: skip

    def journal(self, usage: str, cost_center: str) -> str:
        entry = JournalEntry(
            id=f"JE-{usage}", facility_id="fac-1", posting_date=date(2026, 3, 1), reference=usage,
            lines=[
                JournalLine(gl_account_id="GL-5110", debit=Decimal(25), cost_center_id=cost_center),
                JournalLine(gl_account_id="GL-2100", credit=Decimal(25)),
            ],
        )  # fmt: skip
        return self._queue(OPERATION_JOURNAL, f"journal-JE-{usage}", journal_csv(entry), usage)

    def receipt(self, receipt_id: str, number: str) -> str:
        receipt = ErpReceipt(
            receipt_id=receipt_id, purchase_order_number=number, received_on=date(2026, 3, 2)
        )
        return self._queue(OPERATION_RECEIPT, f"receipt-{receipt_id}", receipt_json(receipt),
                           number)  # fmt: skip

    def _queue(self, operation: str, key: str, payload: str, number: str) -> str:
        with self.hub.uow_factory() as uow:
            delivery = self.hub.delivery_queue.enqueue(
                uow, target=TARGET, operation=operation, payload=payload, idempotency_key=key,
                at=datetime.now(UTC), facility_id="fac-1", correlation_id=number,
            )  # fmt: skip
            uow.commit()
        return delivery.id

    def status(self, delivery_id: str) -> DeliveryStatus:
        return self.hub.deliveries.get(delivery_id).status

    def items(self, type: ExceptionType) -> list[tuple[str | None, str | None, ExceptionStatus]]:
        return [
            (item.delivery_id, item.dependency, item.status)
            for item in self.hub.work_queue.list(statuses=None, type=type)
        ]


@pytest.fixture
def erp(tmp_path: Path) -> Iterator[Erp]:
    hub = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", erp_outbox_dir=tmp_path / "o")
    )
    fake = FakeErp()
    worker = DeliveryWorker(
        hub.uow_factory, {"erp": ErpTransport(fake)},
        RetryPolicy(max_attempts=3, base_delay=timedelta(seconds=1)), hub.clock,
        on_delivered={OPERATION_PURCHASE_ORDER: redrive_after_order},
    )  # fmt: skip
    yield Erp(hub, fake, worker, SupplierSync(hub.uow_factory, fake, hub.clock))
    hub.close()


def test_a_po_of_a_supplier_the_erp_lacks_is_parked_with_an_item_naming_the_supplier(
    erp: Erp,
) -> None:
    delivery_id = erp.order("PO-1", "SUP-9")

    assert erp.worker.run_once() == 1

    delivery = erp.hub.deliveries.get(delivery_id)
    (attempt,) = erp.hub.deliveries.attempts(delivery_id)
    (item,) = erp.hub.work_queue.list(type=ExceptionType.SUPPLIER_NOT_IN_ERP)
    assert (delivery.status, attempt.outcome) == (DeliveryStatus.PARKED, AttemptOutcome.PARKED)
    assert (item.delivery_id, item.dependency, item.queue, item.correlation_id) == (
        delivery_id, "erp_supplier:SUP-9", "supply-chain", "PO-1",
    )  # fmt: skip
    assert "parked on erp_supplier:SUP-9: the ERP has no supplier with code 'SUP-9'" in item.reason
    assert erp.hub.work_queue.list(type=ExceptionType.DELIVERY_FAILED) == []
    assert erp.worker.run_once() == 0  # parked: not retried on a timer, spends no attempts
    assert erp.status(delivery_id) is DeliveryStatus.PARKED


def test_a_pull_that_finds_the_supplier_redrives_every_po_parked_on_it_and_closes_the_items(
    erp: Erp,
) -> None:
    first, second = erp.order("PO-1", "SUP-9"), erp.order("PO-2", "SUP-9")
    other = erp.order("PO-3", "SUP-7")
    erp.worker.run_once()
    assert {erp.status(d) for d in (first, second, other)} == {DeliveryStatus.PARKED}

    erp.fake.known.add("SUP-9")  # created in the ERP; nobody touches the work queue
    pulled = erp.pull.pull()
    erp.worker.run_once()

    assert pulled.redriven == 2
    assert [erp.status(d) for d in (first, second, other)] == [
        DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED, DeliveryStatus.PARKED,
    ]  # fmt: skip
    assert erp.fake.purchases == {"PO-1": "SUP-9", "PO-2": "SUP-9"}
    assert sorted(erp.items(ExceptionType.SUPPLIER_NOT_IN_ERP)) == sorted([
        (first, "erp_supplier:SUP-9", ExceptionStatus.RESOLVED),
        (second, "erp_supplier:SUP-9", ExceptionStatus.RESOLVED),
        (other, "erp_supplier:SUP-7", ExceptionStatus.OPEN),
    ])  # fmt: skip
    assert erp.pull.pull().redriven == 0  # nothing left parked on a known supplier


def test_a_receipt_waits_for_its_parked_po_and_follows_it_into_the_erp(erp: Erp) -> None:
    order = erp.order("PO-1", "SUP-9")
    erp.worker.run_once()
    receipt = erp.receipt("R-1", "PO-1")
    erp.worker.run_once()

    assert erp.status(receipt) is DeliveryStatus.PARKED
    assert erp.items(ExceptionType.PARKED_DEPENDENCY) == [
        (receipt, "erp_purchase_order:PO-1", ExceptionStatus.OPEN)
    ]

    erp.fake.known.add("SUP-9")
    erp.pull.pull()
    erp.worker.run_once()  # the PO is delivered: its hook re-drives the receipt
    erp.worker.run_once()

    assert (erp.status(order), erp.status(receipt)) == (DeliveryStatus.DELIVERED,) * 2
    assert erp.fake.receipts == ["receipt-R-1"]
    assert erp.items(ExceptionType.PARKED_DEPENDENCY) == [
        (receipt, "erp_purchase_order:PO-1", ExceptionStatus.RESOLVED)
    ]


def test_a_person_can_retry_a_parked_po_from_the_work_queue(erp: Erp) -> None:
    delivery_id = erp.order("PO-1", "SUP-9")
    erp.worker.run_once()
    (item,) = erp.hub.work_queue.list(type=ExceptionType.SUPPLIER_NOT_IN_ERP)

    erp.hub.work_queue.retry(item.id, by="analyst")  # too early: the ERP still lacks it
    erp.worker.run_once()
    assert erp.status(delivery_id) is DeliveryStatus.PARKED
    assert erp.hub.work_queue.show(item.id).item.status is ExceptionStatus.OPEN

    erp.fake.known.add("SUP-9")  # e.g. a mapping fixed: the ERP takes it under its own code
    erp.hub.work_queue.retry(item.id, by="analyst")
    erp.worker.run_once()
    assert erp.status(delivery_id) is DeliveryStatus.DELIVERED
    assert erp.hub.work_queue.show(item.id).item.status is ExceptionStatus.RESOLVED


def test_a_po_of_a_product_the_erp_lacks_parks_for_supply_chain_until_a_pull_finds_it(
    erp: Erp,
) -> None:
    erp.fake.known.add("SUP-1")
    delivery_id = erp.order("PO-1", "SUP-1", item="ITEM-9")
    other = erp.order("PO-2", "SUP-1", item="ITEM-8")
    erp.worker.run_once()

    (item, _) = erp.hub.work_queue.list(type=ExceptionType.PRODUCT_NOT_IN_ERP)
    assert erp.status(delivery_id) is DeliveryStatus.PARKED
    assert (item.delivery_id, item.dependency, item.queue) == (
        delivery_id, "erp_product:ITEM-9", "supply-chain",
    )  # fmt: skip
    assert "parked on erp_product:ITEM-9: the ERP has no product with code 'ITEM-9'" in item.reason
    assert erp.hub.work_queue.list(type=ExceptionType.DELIVERY_FAILED) == []
    assert erp.pull.pull().redriven == 0  # not in the ERP yet

    erp.fake.products.add("ITEM-9")  # supply chain adds the product in the ERP
    assert erp.pull.pull().redriven == 1
    erp.worker.run_once()

    assert (erp.status(delivery_id), erp.status(other)) == (
        DeliveryStatus.DELIVERED, DeliveryStatus.PARKED,
    )  # fmt: skip
    assert sorted(erp.items(ExceptionType.PRODUCT_NOT_IN_ERP)) == sorted([
        (delivery_id, "erp_product:ITEM-9", ExceptionStatus.RESOLVED),
        (other, "erp_product:ITEM-8", ExceptionStatus.OPEN),
    ])  # fmt: skip


def test_a_journal_on_a_cost_center_the_erp_lacks_parks_for_finance_and_a_retry_sends_it(
    erp: Erp,
) -> None:
    delivery_id = erp.journal("U1", "CC-9999")
    erp.worker.run_once()

    (item,) = erp.hub.work_queue.list(type=ExceptionType.ACCOUNT_NOT_IN_ERP)
    assert erp.status(delivery_id) is DeliveryStatus.PARKED
    assert (item.delivery_id, item.dependency, item.queue) == (
        delivery_id, "erp_cost_center:CC-9999", "finance",
    )  # fmt: skip
    assert "the ERP has no cost center with code 'CC-9999'" in item.reason

    erp.fake.cost_centers.add("CC-9999")  # e.g. a mapping fixed; nobody pulls
    erp.hub.work_queue.retry(item.id, by="analyst")
    erp.worker.run_once()

    assert erp.status(delivery_id) is DeliveryStatus.DELIVERED
    assert erp.fake.journals == ["journal-JE-U1"]
    assert erp.hub.work_queue.show(item.id).item.status is ExceptionStatus.RESOLVED


@dataclass
class StepClock:
    now: datetime = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class DownErp(FakeErp):
    down: bool = False

    def suppliers(self) -> list[ErpSupplier]:
        if self.down:
            raise ErpUnavailableError("target", "Tryton: connection refused")
        return super().suppliers()


def test_the_scheduled_pull_redrives_parked_orders_by_itself_and_survives_an_erp_outage(
    erp: Erp,
) -> None:
    fake = DownErp(known=set(), down=True)
    worker = DeliveryWorker(
        erp.hub.uow_factory, {"erp": ErpTransport(fake)}, RetryPolicy(), erp.hub.clock
    )
    clock, failures = StepClock(), []
    pull = ScheduledPull(
        SupplierSync(erp.hub.uow_factory, fake, clock), clock, timedelta(minutes=5),
        on_error=failures.append,
    )  # fmt: skip
    delivery_id = erp.order("PO-1", "SUP-9")
    worker.run_once()

    assert pull.run_once() == 0  # the ERP is down: reported, not raised
    assert [f.reason for f in failures] == ["Tryton: connection refused"]
    fake.down = False
    fake.known.add("SUP-9")
    assert pull.run_once() == 0  # not due yet: 5 minutes between pulls
    clock.now += timedelta(minutes=5)
    assert pull.run_once() == 1  # the supplier is in the ERP now: its PO is due again
    worker.run_once()

    assert erp.status(delivery_id) is DeliveryStatus.DELIVERED
    assert pull.last is not None
    assert (pull.last.created, pull.last.redriven) == (1, 1)


def test_the_hub_schedules_the_pull_only_for_an_erp_it_can_read(tmp_path: Path) -> None:
    def hub_with(**settings: object) -> Hub:
        return build(
            Settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}",
                     erp_outbox_dir=tmp_path / "o", **settings)  # type: ignore[arg-type]
        )  # fmt: skip

    tryton = {
        "erp_kind": "tryton", "erp_url": "http://127.0.0.1:9", "erp_database": "suture",
        "erp_user": "admin", "erp_password": "secret",
    }  # fmt: skip
    hubs = [
        hub_with(),
        hub_with(**tryton, erp_supplier_pull_seconds=0),
        hub_with(**tryton, erp_supplier_pull_seconds=60),
    ]
    try:
        pulls = [hub.erp_supplier_pull for hub in hubs]
        assert pulls[:2] == [None, None]
        assert pulls[2] is not None
        assert pulls[2].every == timedelta(seconds=60)
    finally:
        for hub in hubs:
            hub.close()


@dataclass
class PayingErp(FakeErp):
    """An ERP that has paid some invoices and knows one supplier."""

    paid: set[str] = field(default_factory=set)

    def payment_status(self, invoice_number: str, supplier_id: str) -> PaymentStatus:
        if supplier_id not in self.known:
            raise unknown_supplier(supplier_id, f"the ERP has no supplier {supplier_id!r}")
        state = PaymentState.PAID if invoice_number in self.paid else PaymentState.POSTED
        return PaymentStatus(invoice_number=invoice_number, state=state)


def store_invoice(hub: Hub, number: str, status: InvoiceStatus, supplier: str = "SUP-1") -> str:
    invoice = Invoice(
        id=f"INV-{number}", number=number, supplier_id=supplier, facility_id="fac-1",
        invoice_date=date(2026, 3, 1), status=status,
    )  # fmt: skip
    with hub.uow_factory() as uow:
        uow.invoices.add(invoice)
        uow.commit()
    return invoice.id


def invoice_status(hub: Hub, invoice_id: str) -> InvoiceStatus | None:
    with hub.uow_factory() as uow:
        found = uow.invoices.get(invoice_id)
    return None if found is None else found.status


def test_payment_status_is_read_back_and_an_invoice_the_erp_paid_is_paid_in_suture(
    erp: Erp,
) -> None:
    fake = PayingErp(known={"SUP-1"}, paid={"S-1", "S-3"})
    payments = ErpPayments(erp.hub.uow_factory, fake)
    matched = store_invoice(erp.hub, "S-1", InvoiceStatus.MATCHED)
    approved = store_invoice(erp.hub, "S-2", InvoiceStatus.APPROVED)
    held = store_invoice(erp.hub, "S-3", InvoiceStatus.EXCEPTION)  # paid in the ERP, held here
    stranger = store_invoice(erp.hub, "S-4", InvoiceStatus.MATCHED, supplier="SUP-X")

    shown = payments.show(approved)
    synced = payments.sync()
    unknown = payments.show(stranger)

    assert (shown.status, shown.erp.state) == (InvoiceStatus.APPROVED, PaymentState.POSTED)
    assert (synced.checked, synced.paid) == (3, 1)
    assert [invoice_status(erp.hub, i) for i in (matched, approved, held, stranger)] == [
        InvoiceStatus.PAID, InvoiceStatus.APPROVED, InvoiceStatus.EXCEPTION, InvoiceStatus.MATCHED,
    ]  # fmt: skip
    assert (unknown.erp.state, unknown.note) == (
        PaymentState.UNKNOWN, "the ERP has no supplier 'SUP-X'",
    )  # fmt: skip
    assert payments.show(matched).status is InvoiceStatus.PAID
