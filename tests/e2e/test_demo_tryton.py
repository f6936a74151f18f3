"""``suture demo --erp tryton`` end to end: a small hospital day against a real Tryton 8.2.

One run of the command (4 procedures of seed 6, a supplier mix with an early invoice and a
duplicate) against the session's Tryton server (``tryton`` fixture, tests/conftest.py; skipped
without ``SUTURE_TEST_TRYTON_DIR`` or ``SUTURE_TEST_TRYTON=1``), on a SQLite file the test
names, so that afterwards the test reads both sides on its own: Suture's database, and Tryton
through its JSON-RPC API. The Tryton database is shared with the session's other Tryton tests,
so every read is narrowed to this day's documents by their business keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.adapters.erp.sandbox import SandboxServer
from suture.adapters.erp.tryton_rpc import TrytonRpc
from suture.domain.purchasing import PurchaseOrder, PurchaseOrderKind
from suture.entrypoints.cli.demo import demo_command
from suture.services.erp_suppliers import ERP_SOURCE

SEED = 6
PROCEDURES = 4
MIX = "normal=3,early_invoice=1,duplicate_invoice=1"


@dataclass(frozen=True, slots=True)
class TrytonDay:
    output: dict[str, Any]
    orders: list[PurchaseOrder]
    supplier_sources: set[str]
    received_orders: set[str]
    journal_keys: list[str]


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory, tryton: SandboxServer) -> TrytonDay:
    database = f"sqlite:///{tmp_path_factory.mktemp('demo-tryton') / 'demo.db'}"
    app = typer.Typer()
    app.command("demo")(demo_command)
    app.command("noop")(lambda: None)  # two commands, so "demo" is addressed by name
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUTURE_DATABASE_URL", database)
        patch.delenv("SUTURE_NATS_URL", raising=False)
        patch.setenv("SUTURE_ERP_USER", tryton.user)
        patch.setenv("SUTURE_ERP_PASSWORD", tryton.password)
        patch.delenv("SUTURE_ERP_PASSWORD_FILE", raising=False)
        result = CliRunner().invoke(
            app,
            ["demo", "--seed", str(SEED), "--procedures", str(PROCEDURES), "--mix", MIX,
             "--timeout", "300", "--json", "--erp", "tryton", "--erp-url", tryton.url,
             "--erp-database", tryton.database],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    engine = create_engine(database)
    try:
        with SqlAlchemyUnitOfWork(engine) as uow:
            orders = uow.purchase_orders.list(limit=1000)
            sources = {supplier.source_system for supplier in uow.suppliers.list(limit=1000)}
            received = {
                order.number
                for order in orders
                if any(r.purchase_order_id == order.id for r in uow.receipts.list(limit=1000))
            }
            journals = [
                d.idempotency_key
                for d in uow.deliveries.list(target="erp:tryton", limit=1000)
                if d.operation == "journal"
            ]
    finally:
        engine.dispose()
    return TrytonDay(json.loads(result.stdout), orders, sources, received, journals)


@pytest.fixture
def rpc(tryton: SandboxServer) -> Iterator[TrytonRpc]:
    client = tryton.rpc()
    client.login()
    try:
        yield client
    finally:
        client.close()


def test_the_demo_says_it_ran_against_tryton_and_found_no_difference(
    day: TrytonDay, tryton: SandboxServer
) -> None:
    erp = day.output["erp"]
    assert (erp["kind"], erp["url"], erp["database"], erp["how"]) == (
        "tryton", tryton.url, tryton.database, "given",
    )  # fmt: skip
    assert erp["differences"] == []
    for operation, counts in erp["documents"].items():
        assert counts["queued"] == counts["delivered"] == counts["in_erp"] > 0, operation


def test_the_suppliers_come_from_the_erp(day: TrytonDay) -> None:
    assert day.supplier_sources == {ERP_SOURCE}


def test_tryton_shows_every_purchase_order_confirmed_at_suture_amount(
    day: TrytonDay, rpc: TrytonRpc
) -> None:
    numbers = sorted(order.number for order in day.orders)
    rows = rpc.call(
        "model.purchase.purchase.search_read", [("reference", "in", numbers)], 0, None, None,
        ["reference", "state", "untaxed_amount", "invoice_method"],
    )  # fmt: skip
    shown = {row["reference"]: row for row in rows}
    assert sorted(shown) == numbers
    for order in day.orders:
        row = shown[order.number]
        assert row["state"] in {"processing", "done"}, order.number
        assert row["untaxed_amount"] == sum(
            (line.quantity * line.unit_price for line in order.lines), Decimal(0)
        ).quantize(Decimal("0.01"))
        bill_only = order.kind is PurchaseOrderKind.BILL_ONLY
        assert row["invoice_method"] == ("order" if bill_only else "fulfillment")


def test_tryton_shows_the_received_orders_shipments_done(day: TrytonDay, rpc: TrytonRpc) -> None:
    assert day.received_orders
    purchases = rpc.call(
        "model.purchase.purchase.search_read", [("reference", "in", sorted(day.received_orders))],
        0, None, None, ["reference", "shipment_state"],
    )  # fmt: skip
    assert {row["reference"]: row["shipment_state"] for row in purchases} == dict.fromkeys(
        day.received_orders, "received"
    )


def test_tryton_shows_the_matched_invoices_posted(day: TrytonDay, rpc: TrytonRpc) -> None:
    purchases = rpc.call(
        "model.purchase.purchase.search_read",
        [("reference", "in", [order.number for order in day.orders])], 0, None, None,
        ["invoices"],
    )  # fmt: skip
    invoices = rpc.call(
        "model.account.invoice.read", [i for row in purchases for i in row["invoices"]],
        ["reference", "state"],
    )  # fmt: skip
    posted = [row["reference"] for row in invoices if row["state"] in {"posted", "paid"}]
    assert len(posted) == day.output["invoices"]["by_status"]["matched"] > 0
    assert all(reference.startswith("INV-") for reference in posted)


def test_tryton_shows_the_cost_journals_posted_on_each_cost_center(
    day: TrytonDay, rpc: TrytonRpc
) -> None:
    moves = rpc.call(
        "model.account.move.search_read", [("description", "in", day.journal_keys)], 0, None,
        None, ["state"],
    )  # fmt: skip
    lines = rpc.call(
        "model.analytic_account.line.search_read",
        [("move_line.move", "in", [move["id"] for move in moves])], 0, None, None,
        ["account.code", "debit", "credit"],
    )  # fmt: skip
    shown: dict[str, Decimal] = {}
    for line in lines:
        code = line["account."]["code"]
        shown[code] = shown.get(code, Decimal(0)) + line["debit"] - line["credit"]

    assert len(moves) == len(day.journal_keys) == day.output["kpis"]["usages"]
    assert {move["state"] for move in moves} == {"posted"}
    assert shown == {j["cost_center_id"]: Decimal(j["debit"]) for j in day.output["journals"]}
