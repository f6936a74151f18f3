"""``suture demo`` end to end: a reduced hospital day through the real edges.

One run of the command (30 procedures of seed 6, a supplier mix rich in discrepancies) on a
SQLite file the test names with ``SUTURE_DATABASE_URL``, so that after the run the test can read
what the hub holds as well as what the command printed. The HTTP service, the MLLP listener and
the dispatcher run in the command's process on free ports; the charges cross a real MLLP
socket, the usage real HTTP, the supplier's documents the ingest API. The day's plan
(``services/synthetic/day.py``) says what was planted; the assertions check that the hub found
exactly that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import typer
from click.testing import Result
from typer.testing import CliRunner

from suture.adapters.db.engine import create_engine
from suture.adapters.db.eventlog_tables import events
from suture.adapters.db.exception_tables import exception_items
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.exceptions import ACTIVE, ExceptionType
from suture.entrypoints.cli.demo import demo_command
from suture.services.synthetic import PROFILES, HealthSystemGenerator
from suture.services.synthetic.day import HospitalDay, Planted, plan_day

SEED = 6
PROCEDURES = 30
MIX = "normal=2,price_increase=2,duplicate_invoice=1,short_ship=1,wrong_uom=1,early_invoice=1"


@dataclass(frozen=True, slots=True)
class DemoResult:
    exit_code: int
    output: dict[str, Any]
    database: str
    finished_at: datetime


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    database = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    app = typer.Typer()
    app.command("demo")(demo_command)
    app.command("noop")(lambda: None)  # two commands, so "demo" is addressed by name
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUTURE_DATABASE_URL", database)
        patch.delenv("SUTURE_NATS_URL", raising=False)
        result = CliRunner().invoke(
            app,
            ["demo", "--seed", str(SEED), "--procedures", str(PROCEDURES), "--mix", MIX,
             "--timeout", "120", "--json"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    return DemoResult(result.exit_code, json.loads(result.stdout), database, datetime.now(UTC))


@pytest.fixture(scope="module")
def day() -> HospitalDay:
    generator = HealthSystemGenerator(replace(PROFILES["demo"], history_days=1), SEED)
    return plan_day(generator, procedures=PROCEDURES, start=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def planted(day: HospitalDay) -> Planted:
    return day.planted


def test_the_json_has_every_section(demo: DemoResult) -> None:
    assert set(demo.output) >= {
        "planted", "activity", "messages", "purchase_orders", "invoices", "exceptions",
        "reconciliation", "journals", "kpis", "supplier_scenarios",
    }  # fmt: skip
    assert demo.output["database"] == demo.database


def test_every_edge_carried_its_traffic_and_every_message_was_processed(demo: DemoResult) -> None:
    messages = demo.output["messages"]
    assert set(messages) == {"ehr-charges-hl7", "fhir", "procedural-usage-csv", "supplier-x12"}
    for interface, statuses in messages.items():
        if interface != "ehr-charges-hl7":
            assert set(statuses) == {"processed"}, interface
    activity = demo.output["activity"]
    assert messages["ehr-charges-hl7"] == {
        "processed": activity["hl7_messages"],
        "failed": activity["stray_test_messages"],  # the EHR's test system's, answered AE
    }
    assert activity["hl7_messages"] > 0
    assert messages["fhir"]["processed"] == activity["fhir_bundles"] > 0
    assert messages["procedural-usage-csv"]["processed"] == activity["csv_files"] == 1
    assert messages["supplier-x12"]["processed"] == activity["supplier_documents"] > 0


def test_every_route_the_demo_uses_is_a_managed_interface(demo: DemoResult) -> None:
    engine = create_engine(demo.database)
    try:
        with SqlAlchemyUnitOfWork(engine) as uow:
            unmanaged = uow.interfaces.unmanaged()
            routes = uow.interfaces.routes()
    finally:
        engine.dispose()
    assert unmanaged == []
    assert {route.channel for route in routes} >= set(demo.output["messages"])
    assert 0 < demo.output["kpis"]["governed_share"] < 1  # the seeded inventory's planted gaps


def test_the_plan_is_what_the_day_planted(demo: DemoResult, planted: Planted) -> None:
    assert demo.output["planted"] == {
        field: getattr(planted, field) for field in demo.output["planted"]
    }
    assert planted.missed_charge_lines > 0
    assert planted.undocumented_charges > 0
    assert planted.stockouts > 0


def test_the_missed_charges_are_found_with_revenue_at_risk(
    demo: DemoResult, planted: Planted
) -> None:
    usage = demo.output["reconciliation"]["outcomes"]["usage"]
    assert usage.get("usage_without_charge", 0) == planted.missed_charge_lines
    assert usage.get("quantity_mismatch", 0) == planted.partly_charged_lines
    assert demo.output["exceptions"]["usage_without_charge"] == {
        "open": planted.missed_charge_lines
    }
    assert Decimal(demo.output["reconciliation"]["revenue_at_risk"]) > 0
    assert Decimal(str(demo.output["kpis"]["revenue_at_risk"])) > 0


def test_the_undocumented_charges_are_found(demo: DemoResult, planted: Planted) -> None:
    charge = demo.output["reconciliation"]["outcomes"]["charge"]
    assert charge.get("charge_without_usage", 0) == planted.undocumented_charges
    assert demo.output["exceptions"]["charge_without_usage"] == {
        "open": planted.undocumented_charges
    }


def test_the_stockouts_are_counted_as_planted(demo: DemoResult, planted: Planted) -> None:
    assert demo.output["kpis"]["stockouts"] == planted.stockouts
    assert demo.output["kpis"]["usages"] == planted.usage_lines


def test_the_invoice_cycle_time_counts_the_simulated_days_an_invoice_waited(
    demo: DemoResult,
) -> None:
    """The hub runs on the day's clock: an early invoice (half a day after its 850, the goods
    a day after it) is matched when the dock receives the goods, half a day later."""
    assert "early_invoice" in demo.output["supplier_scenarios"]
    cycle = demo.output["kpis"]["invoice_cycle_time"]
    assert cycle["count"] == demo.output["invoices"]["by_status"]["matched"]
    assert cycle["mean_hours"] > 0
    since = datetime.fromisoformat(demo.output["kpis"]["since"])
    until = datetime.fromisoformat(demo.output["kpis"]["until"])
    assert until - since > timedelta(days=3)  # the 810s of the day's POs came two days later


def test_the_reconciliation_lag_is_the_hour_of_the_clinical_feeds_and_the_nightly_batch(
    demo: DemoResult,
) -> None:
    """The day is sent hour by hour on the hub's clock: a procedure's charges and FHIR usage
    arrive by the end of its hour, the legacy OR system's usage with its nightly batch."""
    lag = demo.output["kpis"]["reconciliation_lag"]
    assert lag["count"] > 0
    assert lag["median_hours"] < 1.25  # an hour at most, and the seconds the hub took
    assert lag["p90_hours"] > 1  # the nightly batch's lines waited for the end of the day


def test_the_day_and_the_replies_after_it_are_over_before_the_demo_ends(
    demo: DemoResult,
) -> None:
    """After the run, `suture exceptions list`, `suture kpis` and the SLA clocks read what the
    hub holds against the real time: the suppliers' replies, days after the day, must be in the
    past by then, or an item opened two days ahead is "opened 0m ago" and due after its SLA."""
    engine = create_engine(demo.database)
    try:
        with engine.connect() as connection:
            latest = [
                connection.execute(sa.select(sa.func.max(column))).scalar_one()
                for column in (events.c.recorded_at, exception_items.c.opened_at)
            ]
    finally:
        engine.dispose()
    assert max(latest) <= demo.finished_at
    assert datetime.fromisoformat(demo.output["kpis"]["until"]) <= demo.finished_at


def test_the_ehr_interface_recovers_from_the_stray_test_message(demo: DemoResult) -> None:
    """The EHR's test system's DFT^P03 fails after the first hour's charges; the next hour's
    first charges are the interface's recovery."""
    kpis = demo.output["kpis"]
    assert demo.output["activity"]["stray_test_messages"] == 1
    assert demo.output["exceptions"]["malformed_message"] == {"open": 1}
    assert (kpis["interface_incidents"], kpis["interface_open_incidents"]) == (1, 0)
    assert 0 < kpis["interface_recovery"]["mean_hours"] <= 24


def test_the_cost_journals_balance_per_cost_center(demo: DemoResult) -> None:
    journals = demo.output["journals"]
    assert len(journals) > 1
    for center in journals:
        assert Decimal(center["debit"]) == Decimal(center["credit"]) > 0, center
        assert center["balanced"] is True


def test_each_price_increase_on_a_priced_line_is_a_price_variance(demo: DemoResult) -> None:
    answered = set(demo.output["supplier_scenarios"]["price_increase"])
    engine = create_engine(demo.database)
    try:
        with SqlAlchemyUnitOfWork(engine) as uow:
            priced = set()
            for number in answered:
                po = uow.purchase_orders.by_number(number)
                assert po is not None
                first = min(po.lines, key=lambda line: line.line_number)
                if first.unit_price > 0:  # a consignment restock is ordered at no charge
                    priced.add(number)
            held = uow.exceptions.list(
                type=ExceptionType.PRICE_VARIANCE, statuses=ACTIVE, limit=1000
            )
            varied = set()
            for item in held:
                invoice = uow.invoices.get(item.correlation_id or "")
                assert invoice is not None
                varied.add(invoice.purchase_order_number)
    finally:
        engine.dispose()
    assert priced, "the mix should price-increase at least one priced PO"
    assert varied == priced
    assert sorted(priced) == demo.output["price_increases_on_priced_lines"]


def test_duplicate_invoices_are_caught_and_pos_flow_by_kind(
    demo: DemoResult, day: HospitalDay
) -> None:
    duplicates = demo.output["supplier_scenarios"].get("duplicate_invoice", [])
    assert demo.output["exceptions"].get("duplicate_invoice", {}).get("open", 0) == len(duplicates)
    orders = demo.output["purchase_orders"]
    assert orders["bill-only"] == orders["restock (consignment)"] > 0
    assert orders["departmental"] == len(day.department_requests) == 3
    assert orders["replenishment (par level)"] > 0
    assert demo.output["invoices"]["by_status"]["matched"] > 0
    assert 0 < demo.output["invoices"]["touchless_rate"] < 1


def _run(tmp_path: Path, *args: str) -> Result:
    app = typer.Typer()
    app.command("demo")(demo_command)
    app.command("noop")(lambda: None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUTURE_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
        patch.setenv("COLUMNS", "200")
        patch.delenv("SUTURE_NATS_URL", raising=False)
        return CliRunner().invoke(app, ["demo", *args])


def test_the_tables_show_every_section(tmp_path: Path) -> None:
    result = _run(tmp_path, "--seed", str(SEED), "--procedures", "5", "--mix", "normal=1")

    assert result.exit_code == 0, result.output
    for title in (
        "A hospital day: 5 procedures",
        "Messages by interface and status",
        "Purchase orders created",
        "Supplier invoices",
        "Exceptions by type",
        "Charge-to-cost reconciliation",
        "Cost journals per cost center",
        "Planted by the day, found by the hub",
        "KPIs of the day",
    ):
        assert title in result.stdout, title


def test_a_day_that_does_not_settle_in_time_fails_naming_what_is_pending(tmp_path: Path) -> None:
    result = _run(tmp_path, "--procedures", "30", "--timeout", "1")

    assert result.exit_code == 1
    assert "demo failed: timeout: the hub did not settle after" in result.output
    assert "still pending" in result.output
