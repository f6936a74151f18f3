"""The ERP connector against a real Tryton 8.2 server (DESIGN.md §8, docs/erp.md).

The session fixture builds the sandbox when it has no snapshot (``suture erp sandbox create``:
Tryton's own virtualenv from PyPI, a database set up over the API; about 60 s once), then serves
a fresh copy of the snapshot on a free port. Deliveries go through the real hub: the delivery
queue on SQLite, the delivery worker, the ERP transport and ``TrytonErpGateway``; every outcome
is read back through Tryton's API.

The ``tryton`` fixture is in ``tests/conftest.py`` (``SUTURE_TEST_TRYTON_DIR`` or
``SUTURE_TEST_TRYTON=1``; skipped elsewhere, failing in CI).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from suture.adapters.erp.sandbox import Sandbox, SandboxServer
from suture.adapters.erp.tryton import TrytonErpGateway
from suture.adapters.erp.tryton_rpc import TrytonRpc
from suture.adapters.erp.tryton_setup import ensure_cost_center, ensure_product, ensure_supplier
from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.deliveries import DeliveryStatus
from suture.domain.exceptions import ExceptionStatus, ExceptionType
from suture.domain.invoicing import Invoice, InvoiceStatus
from suture.domain.ledger import JournalEntry, JournalLine
from suture.services.erp import (
    ErpOrderLine,
    ErpPurchaseOrder,
    ErpReceipt,
    ErpReceiptLine,
    InvoiceMethod,
    PaymentState,
    purchase_order_json,
    receipt_json,
)
from suture.services.workflows import ap_voucher
from suture.services.workflows.journal_file import journal_csv

#: Posting and order dates: today, inside the sandbox's fiscal years (last, this and next year).
TODAY = datetime.now(UTC).date()


@pytest.fixture
def rpc(tryton: SandboxServer) -> Iterator[TrytonRpc]:
    client = tryton.rpc()
    client.login()
    yield client
    client.close()


def make_hub(tmp_path: Path, tryton: SandboxServer) -> Hub:
    return build(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'hub.db'}", erp_outbox_dir=tmp_path / "out",
            erp_kind="tryton", erp_url=tryton.url, erp_database=tryton.database,
            erp_user=tryton.user, erp_password=SecretStr(tryton.password),
            bus_base_delay_seconds=0.2, bus_max_delay_seconds=0.5,
        )
    )  # fmt: skip


@pytest.fixture
def hub(tmp_path: Path, tryton: SandboxServer) -> Iterator[Hub]:
    built = make_hub(tmp_path, tryton)
    yield built
    built.close()


def queue(hub: Hub, operation: str, key: str, payload: str) -> str:
    with hub.uow_factory() as uow:
        delivery = hub.delivery_queue.enqueue(
            uow, target="erp:tryton", operation=operation, payload=payload,
            idempotency_key=key, at=datetime.now(UTC), facility_id="fac-1",
        )  # fmt: skip
        uow.commit()
    return delivery.id


def deliver(hub: Hub, delivery_id: str, *, within: float = 30.0) -> DeliveryStatus:
    """Run the worker until the delivery is delivered, dead or parked, or ``within`` runs out."""
    deadline = time.monotonic() + within
    while True:
        hub.delivery_worker.run_once()
        status = hub.deliveries.get(delivery_id).status
        if status in (DeliveryStatus.DELIVERED, DeliveryStatus.DEAD, DeliveryStatus.PARKED):
            return status
        if time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def journal(run: str, cost_center: str = "CC-7030") -> JournalEntry:
    return JournalEntry(
        id=f"JE-{run}", facility_id="fac-1", posting_date=TODAY, reference=run,
        lines=[
            JournalLine(gl_account_id="GL-5110", debit=Decimal("1875.40"),
                        cost_center_id=cost_center, memo="knee implant"),
            JournalLine(gl_account_id="GL-1410", credit=Decimal("1875.40"), memo="consigned"),
        ],
    )  # fmt: skip


def analytic_lines(rpc: TrytonRpc, move_key: str) -> list[tuple[str, Decimal, Decimal]]:
    """(cost center code, debit, credit) of the analytic lines of the move named ``move_key``."""
    moves = rpc.call("model.account.move.search_read", [("description", "=", move_key)], 0,
                     None, None, ["state", "lines"])  # fmt: skip
    lines = rpc.call("model.analytic_account.line.search_read",
                     [("move_line", "in", moves[0]["lines"])], 0, None, None,
                     ["account.code", "debit", "credit"])  # fmt: skip
    return [(row["account."]["code"], row["debit"], row["credit"]) for row in lines]


def test_a_cost_journal_reaches_tryton_posted_on_its_cost_centers_analytic_account(
    hub: Hub, rpc: TrytonRpc
) -> None:
    run = uuid.uuid4().hex[:8]
    delivery_id = queue(hub, "journal", f"journal-JE-{run}", journal_csv(journal(run)))

    assert deliver(hub, delivery_id) is DeliveryStatus.DELIVERED

    key = f"journal-JE-{run}"
    (move,) = rpc.call(
        "model.account.move.search_read", [("description", "=", key)], 0, None, None, ["state"]
    )
    assert move["state"] == "posted"
    assert analytic_lines(rpc, f"journal-JE-{run}") == [
        ("CC-7030", Decimal("1875.40"), Decimal("0"))
    ]


def test_a_redelivered_journal_posts_once(hub: Hub, rpc: TrytonRpc) -> None:
    run = uuid.uuid4().hex[:8]
    entry = journal(run)
    first = queue(hub, "journal", f"journal-JE-{run}", journal_csv(entry))
    assert deliver(hub, first) is DeliveryStatus.DELIVERED

    TrytonErpGateway(rpc).send_journal(entry, key=f"journal-JE-{run}")  # a lease-expiry repeat

    assert len(rpc.call("model.account.move.search", [("description", "=", f"journal-JE-{run}")],
                        0, None, None)) == 1  # fmt: skip


def test_a_bill_only_purchase_is_confirmed_received_and_invoiced_in_tryton(
    hub: Hub, rpc: TrytonRpc
) -> None:
    run = uuid.uuid4().hex[:8]
    supplier, item, number = f"SUP-{run}", f"ITEM-{run}", f"PO-{run}"
    ensure_supplier(rpc, supplier, f"Ortho Supplier {run}")
    ensure_product(rpc, item, f"Consigned knee {run}", Decimal("1500.00"))
    order = ErpPurchaseOrder(
        number=number, supplier_id=supplier, facility_id="fac-1", order_date=TODAY,
        invoice_method=InvoiceMethod.ORDER,
        lines=(ErpOrderLine(line=1, item_id=item, quantity=Decimal(1), uom="EA",
                            unit_price=Decimal("1612.50"), cost_center_id="CC-7030"),),
    )  # fmt: skip
    voucher = (
        ",".join(ap_voucher.HEADER) + "\n"
        + f"APV-{run},INV-{run},SINV-{run},{supplier},fac-1,{TODAY.isoformat()},"
        + f"{number},1,line,1,{item},1,EA,1612.50,1612.50\n"
    )  # fmt: skip

    order_id = queue(hub, "purchase_order", f"po-{number}", purchase_order_json(order))
    assert deliver(hub, order_id) is DeliveryStatus.DELIVERED
    receipt = ErpReceipt(receipt_id=f"R-{run}", purchase_order_number=number,
                         received_on=TODAY)  # fmt: skip
    receipt_id = queue(hub, "receipt", f"receipt-R-{run}", receipt_json(receipt))
    assert deliver(hub, receipt_id) is DeliveryStatus.DELIVERED
    voucher_id = queue(hub, "ap_voucher", f"voucher-APV-{run}", voucher)
    assert deliver(hub, voucher_id) is DeliveryStatus.DELIVERED

    (purchase,) = rpc.call(
        "model.purchase.purchase.search_read", [("reference", "=", number)], 0, None, None,
        ["state", "invoice_method", "invoices", "shipments"],
    )  # fmt: skip
    (shipment,) = rpc.call("model.stock.shipment.in.read", purchase["shipments"], ["state"])
    (invoice,) = rpc.call("model.account.invoice.read", purchase["invoices"],
                          ["state", "reference", "total_amount"])  # fmt: skip
    assert (purchase["state"], purchase["invoice_method"], shipment["state"]) == (
        "processing", "order", "done",
    )  # fmt: skip
    assert (invoice["state"], invoice["reference"], invoice["total_amount"]) == (
        "posted", f"SINV-{run}", Decimal("1612.50"),
    )  # fmt: skip
    status = TrytonErpGateway(rpc).payment_status(f"SINV-{run}", supplier)
    assert status.state is PaymentState.POSTED
    with hub.uow_factory() as uow:  # the invoice as Suture matched it: shown with Tryton's state
        uow.invoices.add(Invoice(
            id=f"INV-{run}", number=f"SINV-{run}", supplier_id=supplier, facility_id="fac-1",
            invoice_date=TODAY, status=InvoiceStatus.MATCHED,
        ))  # fmt: skip
        uow.commit()
    assert hub.erp_payments is not None
    shown = hub.erp_payments.show(f"INV-{run}")
    assert (shown.status, shown.erp.state, shown.erp.amount_to_pay) == (
        InvoiceStatus.MATCHED, PaymentState.POSTED, Decimal("1612.50"),
    )  # fmt: skip


def received(rpc: TrytonRpc, number: str) -> dict[tuple[str, str], float]:
    """Per (product code, move state), the quantity of the purchase's moves in Tryton."""
    (purchase,) = rpc.call("model.purchase.purchase.search_read", [("reference", "=", number)],
                           0, None, None, ["moves"])  # fmt: skip
    moves = rpc.call("model.stock.move.read", purchase["moves"],
                     ["product.code", "state", "quantity"])  # fmt: skip
    totals: dict[tuple[str, str], float] = {}
    for move in moves:
        key = (move["product."]["code"], move["state"])
        totals[key] = totals.get(key, 0.0) + move["quantity"]
    return totals


def test_a_partial_receipt_receives_only_what_the_dock_counted_then_the_rest(
    hub: Hub, rpc: TrytonRpc
) -> None:
    run = uuid.uuid4().hex[:8]
    supplier, gloves, drapes, number = f"SUP-{run}", f"GLV-{run}", f"DRP-{run}", f"PO-{run}"
    ensure_supplier(rpc, supplier, f"Med Surg Supplier {run}")
    ensure_product(rpc, gloves, f"Exam gloves {run}", Decimal("4.00"))
    ensure_product(rpc, drapes, f"Surgical drapes {run}", Decimal("9.00"))
    order = ErpPurchaseOrder(
        number=number, supplier_id=supplier, facility_id="fac-1", order_date=TODAY,
        lines=(
            ErpOrderLine(line=1, item_id=gloves, quantity=Decimal(10), uom="EA",
                         unit_price=Decimal("4.00"), cost_center_id="CC-7010"),
            ErpOrderLine(line=2, item_id=drapes, quantity=Decimal(3), uom="EA",
                         unit_price=Decimal("9.00"), cost_center_id="CC-7010"),
        ),
    )  # fmt: skip
    assert deliver(hub, queue(hub, "purchase_order", f"po-{number}",
                              purchase_order_json(order))) is DeliveryStatus.DELIVERED  # fmt: skip

    first = ErpReceipt(  # 4 gloves in two lots, no drapes yet
        receipt_id=f"R1-{run}", purchase_order_number=number, received_on=TODAY,
        lines=(ErpReceiptLine(line=1, item_id=gloves, quantity=Decimal(3)),
               ErpReceiptLine(line=1, item_id=gloves, quantity=Decimal(1))),
    )  # fmt: skip
    assert deliver(hub, queue(hub, "receipt", f"receipt-R1-{run}",
                              receipt_json(first))) is DeliveryStatus.DELIVERED  # fmt: skip
    assert received(rpc, number) == {
        (gloves, "done"): 4.0, (gloves, "draft"): 6.0, (drapes, "draft"): 3.0,
    }  # fmt: skip

    rest = ErpReceipt(
        receipt_id=f"R2-{run}", purchase_order_number=number, received_on=TODAY,
        lines=(ErpReceiptLine(line=1, item_id=gloves, quantity=Decimal(6)),
               ErpReceiptLine(line=2, item_id=drapes, quantity=Decimal(3))),
    )  # fmt: skip
    assert deliver(hub, queue(hub, "receipt", f"receipt-R2-{run}",
                              receipt_json(rest))) is DeliveryStatus.DELIVERED  # fmt: skip
    TrytonErpGateway(rpc).send_receipt(rest, key=f"receipt-R2-{run}")  # a repeat: nothing new

    assert received(rpc, number) == {(gloves, "done"): 10.0, (drapes, "done"): 3.0}
    (purchase,) = rpc.call("model.purchase.purchase.search_read", [("reference", "=", number)],
                           0, None, None, ["shipment_state", "shipments"])  # fmt: skip
    assert (purchase["shipment_state"], len(purchase["shipments"])) == ("received", 2)

    extra = ErpReceipt(
        receipt_id=f"R3-{run}", purchase_order_number=number, received_on=TODAY,
        lines=(ErpReceiptLine(line=1, item_id=gloves, quantity=Decimal(1)),),
    )  # fmt: skip
    extra_id = queue(hub, "receipt", f"receipt-R3-{run}", receipt_json(extra))
    assert deliver(hub, extra_id) is DeliveryStatus.DEAD
    assert "has nothing left to receive" in (hub.deliveries.get(extra_id).last_error or "")


def test_a_supplier_unknown_to_tryton_parks_the_order_until_a_pull_finds_it(
    hub: Hub, rpc: TrytonRpc
) -> None:
    run = uuid.uuid4().hex[:8]
    supplier, item_id = f"LATE-{run}", f"ITEM-{run}"
    ensure_product(rpc, item_id, f"Spine screw {run}", Decimal("80.00"))
    order = ErpPurchaseOrder(
        number=f"PO-{run}", supplier_id=supplier, facility_id="fac-1",
        order_date=TODAY,
        lines=(ErpOrderLine(line=1, item_id=item_id, quantity=Decimal(1), uom="EA",
                            unit_price=Decimal("10.00")),),
    )  # fmt: skip

    delivery_id = queue(hub, "purchase_order", f"po-PO-{run}", purchase_order_json(order))

    assert deliver(hub, delivery_id, within=5) is DeliveryStatus.PARKED
    (item,) = [
        i for i in hub.work_queue.list(type=ExceptionType.SUPPLIER_NOT_IN_ERP)
        if i.delivery_id == delivery_id
    ]  # fmt: skip
    assert f"Tryton has no supplier (party) with code '{supplier}'" in item.reason
    assert item.dependency == f"erp_supplier:{supplier}"

    ensure_supplier(rpc, supplier, f"Late Supplier {run}")  # the ERP gets the supplier
    assert hub.erp_suppliers is not None
    assert hub.erp_suppliers.pull().redriven == 1  # nobody retries anything by hand

    assert deliver(hub, delivery_id) is DeliveryStatus.DELIVERED
    assert hub.work_queue.show(item.id).item.status is ExceptionStatus.RESOLVED
    (purchase,) = rpc.call("model.purchase.purchase.search_read",
                           [("reference", "=", f"PO-{run}")], 0, None, None, ["state"])  # fmt: skip
    assert purchase["state"] == "processing"


def test_a_product_unknown_to_tryton_parks_the_order_for_supply_chain_until_a_pull_finds_it(
    hub: Hub, rpc: TrytonRpc
) -> None:
    run = uuid.uuid4().hex[:8]
    supplier, item_id = f"SUP-{run}", f"NEW-{run}"
    ensure_supplier(rpc, supplier, f"Supplier {run}")
    order = ErpPurchaseOrder(
        number=f"PO-{run}", supplier_id=supplier, facility_id="fac-1", order_date=TODAY,
        lines=(ErpOrderLine(line=1, item_id=item_id, quantity=Decimal(2), uom="EA",
                            unit_price=Decimal("10.00"), cost_center_id="CC-7010"),),
    )  # fmt: skip

    delivery_id = queue(hub, "purchase_order", f"po-PO-{run}", purchase_order_json(order))

    assert deliver(hub, delivery_id, within=5) is DeliveryStatus.PARKED
    (item,) = [
        i for i in hub.work_queue.list(type=ExceptionType.PRODUCT_NOT_IN_ERP)
        if i.delivery_id == delivery_id
    ]  # fmt: skip
    assert (item.dependency, item.queue) == (f"erp_product:{item_id}", "supply-chain")
    assert f"Tryton has no product with code '{item_id}'" in item.reason
    assert hub.erp_suppliers is not None
    assert hub.erp_suppliers.pull().redriven == 0  # still missing: stays parked

    ensure_product(rpc, item_id, f"Bone graft {run}", Decimal("10.00"))
    assert hub.erp_suppliers.pull().redriven == 1

    assert deliver(hub, delivery_id) is DeliveryStatus.DELIVERED
    assert hub.work_queue.show(item.id).item.status is ExceptionStatus.RESOLVED
    (purchase,) = rpc.call("model.purchase.purchase.search_read",
                           [("reference", "=", f"PO-{run}")], 0, None, None, ["state"])  # fmt: skip
    assert purchase["state"] == "processing"


def test_a_cost_center_unknown_to_tryton_parks_the_journal_for_finance_until_a_pull_finds_it(
    hub: Hub, rpc: TrytonRpc
) -> None:
    run = uuid.uuid4().hex[:8]
    cost_center = f"CC-{run}"
    key = f"journal-JE-{run}"

    delivery_id = queue(hub, "journal", key, journal_csv(journal(run, cost_center)))

    assert deliver(hub, delivery_id, within=5) is DeliveryStatus.PARKED
    (item,) = [
        i for i in hub.work_queue.list(type=ExceptionType.ACCOUNT_NOT_IN_ERP)
        if i.delivery_id == delivery_id
    ]  # fmt: skip
    assert (item.dependency, item.queue) == (f"erp_cost_center:{cost_center}", "finance")
    assert f"Tryton has no cost center with code '{cost_center}'" in item.reason

    ensure_cost_center(rpc, cost_center, f"Cath lab {run}")
    assert hub.erp_suppliers is not None
    assert hub.erp_suppliers.pull().redriven == 1

    assert deliver(hub, delivery_id) is DeliveryStatus.DELIVERED
    assert hub.work_queue.show(item.id).item.status is ExceptionStatus.RESOLVED
    assert analytic_lines(rpc, key) == [(cost_center, Decimal("1875.40"), Decimal(0))]


def test_tryton_stopped_mid_run_loses_nothing(tmp_path: Path, tryton_sandbox: Sandbox) -> None:
    sandbox = tryton_sandbox  # a server of its own: the session's keeps running
    own = sandbox.serve(f"stop_{uuid.uuid4().hex[:8]}")
    port = int(own.url.rsplit(":", 1)[1])
    hub = make_hub(tmp_path, own)
    try:
        runs = [uuid.uuid4().hex[:8] for _ in range(3)]
        first = queue(hub, "journal", f"journal-JE-{runs[0]}", journal_csv(journal(runs[0])))
        assert deliver(hub, first) is DeliveryStatus.DELIVERED

        Sandbox.halt(own)
        waiting = [
            queue(hub, "journal", f"journal-JE-{run}", journal_csv(journal(run)))
            for run in runs[1:]
        ]
        hub.delivery_worker.run_once()
        assert {hub.deliveries.get(d).status for d in waiting} == {DeliveryStatus.PENDING}

        own = sandbox.serve(own.database, fresh=False, port=port)
        assert [deliver(hub, d, within=60) for d in waiting] == [DeliveryStatus.DELIVERED] * 2
        client = own.rpc()
        try:
            client.login()
            keys = [f"journal-JE-{run}" for run in runs]
            found = client.call("model.account.move.search_read", [("description", "in", keys)],
                                0, None, None, ["description", "state"])  # fmt: skip
        finally:
            client.close()
        assert sorted((m["description"], m["state"]) for m in found) == sorted(
            (key, "posted") for key in keys
        )
    finally:
        hub.close()
        Sandbox.halt(own)


def test_the_supplier_master_flows_from_tryton_into_suture(hub: Hub, rpc: TrytonRpc) -> None:
    run = uuid.uuid4().hex[:8]
    party = ensure_supplier(rpc, f"SUP-{run}", f"Spine Supplier {run}")
    assert hub.erp_suppliers is not None

    first = hub.erp_suppliers.pull()
    again = hub.erp_suppliers.pull()

    with hub.uow_factory() as uow:
        stored = uow.suppliers.get(f"SUP-{run}")
    assert stored is not None
    assert (stored.name, stored.erp_vendor_id, stored.source_system, stored.active) == (
        f"Spine Supplier {run}", str(party), "erp", True,
    )  # fmt: skip
    assert first.created >= 1
    assert (again.created, again.updated) == (0, 0)


def test_a_mapping_file_sends_suture_ids_under_the_erps_codes_and_reads_them_back(
    tmp_path: Path, tryton: SandboxServer, rpc: TrytonRpc
) -> None:
    run = uuid.uuid4().hex[:8]
    supplier, vendor, item, product = f"SUP-{run}", f"V{run}", f"ITEM-{run}", f"P{run}"
    ensure_supplier(rpc, vendor, f"Mapped Supplier {run}")  # the ERP's own codes
    ensure_product(rpc, product, f"Mapped item {run}", Decimal("20.00"))
    mapping = tmp_path / "erp-map.yaml"
    mapping.write_text(
        f"suppliers: {{{supplier}: {vendor}}}\nitems: {{{item}: {product}}}\n"
        "cost_centers: {CC-ICU: CC-7020}\n",
        encoding="utf-8",
    )
    hub = build(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'hub.db'}", erp_outbox_dir=tmp_path / "out",
            erp_kind="tryton", erp_url=tryton.url, erp_database=tryton.database,
            erp_user=tryton.user, erp_password=SecretStr(tryton.password),
            erp_mapping_file=mapping,
        )
    )  # fmt: skip
    try:
        order = ErpPurchaseOrder(
            number=f"PO-{run}", supplier_id=supplier, facility_id="fac-1", order_date=TODAY,
            lines=(ErpOrderLine(line=1, item_id=item, quantity=Decimal(2), uom="EA",
                                unit_price=Decimal("20.00"), cost_center_id="CC-ICU"),),
        )  # fmt: skip
        delivery_id = queue(hub, "purchase_order", f"po-PO-{run}", purchase_order_json(order))
        assert deliver(hub, delivery_id) is DeliveryStatus.DELIVERED
        assert hub.erp_suppliers is not None
        hub.erp_suppliers.pull()
        with hub.uow_factory() as uow:
            pulled = uow.suppliers.get(supplier)
    finally:
        hub.close()

    (purchase,) = rpc.call("model.purchase.purchase.search_read", [("reference", "=", f"PO-{run}")],
                           0, None, None, ["party.code", "lines"])  # fmt: skip
    (line,) = rpc.call("model.purchase.line.read", purchase["lines"],
                       ["product.code", "analytic_accounts"])  # fmt: skip
    (entry,) = rpc.call("model.analytic.account.entry.read", line["analytic_accounts"],
                        ["account.code"])  # fmt: skip
    assert (purchase["party."]["code"], line["product."]["code"], entry["account."]["code"]) == (
        vendor, product, "CC-7020",
    )  # fmt: skip
    assert pulled is not None
    assert pulled.name == f"Mapped Supplier {run}"  # under Suture's id, not the ERP's code
