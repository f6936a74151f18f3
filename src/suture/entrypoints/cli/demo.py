"""``suture demo``: a hospital day through the hub's real edges, on the embedded default.

1. **Set up** a fresh hub: a SQLite file in a temporary directory (removed afterwards), unless
   ``SUTURE_DATABASE_URL`` is set, then that database (it should be empty: the day's records
   have deterministic ids). The demo health system is seeded with its integration inventory and
   suppliers' X12 profiles; the chargemaster is priced from the catalog; the day's stock
   positions get their opening stock; the legacy OR usage interface gets a CSV feed; API
   clients are made for the clinical FHIR client, the legacy OR system, the suppliers' gateway
   and the supply-chain manager. The reconciliation window is one hour and the day ended at
   least that long ago, so every line still unmatched when the day has settled ages into an
   exception.
2. **Start** the HTTP service, the MLLP listener and the dispatcher in this process, on free
   ports (``entrypoints/demo_day.py``).
3. **Replay** the day (``services/synthetic/day.py``) and wait until it settles.
4. **Print** what the hub holds (``services/demo_report.py``) and every KPI, or ``--json``.

docs/demo.md says what the day contains and how to read each table.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from suture.adapters.observability.logs import configure_logging
from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.domain.delivery_targets import TargetSettings
from suture.domain.errors import SutureError
from suture.domain.trading_partners import default_target
from suture.entrypoints.api.experience.dashboard import Kpis, kpis_model
from suture.entrypoints.cli.app import console, errors, load_settings
from suture.entrypoints.cli.kpis import kpis_table
from suture.entrypoints.demo_day import (
    LEGACY_USAGE_INTERFACE,
    DayActivity,
    DemoClient,
    DemoClients,
    DemoHub,
    outbox_gateway,
    replay_day,
)
from suture.services.demo_report import DemoReport, demo_report, priced_orders
from suture.services.supplier_simulator import ControlCounter, ScenarioPlan, SupplierSimulator
from suture.services.synthetic import PROFILES, HealthSystemGenerator
from suture.services.synthetic.day import DAY, HospitalDay, chargemaster, plan_day
from suture.services.synthetic.day_loader import load_chargemaster, open_stock
from suture.services.synthetic.loader import seed

DEFAULT_PROCEDURES = 100
DEFAULT_MIX = (
    "normal=10,short_ship=1,back_order=1,price_increase=2,wrong_uom=1,duplicate_invoice=1,"
    "early_invoice=1"
)
#: Hours: short, so the day (which ended this long ago) has aged past it when it settles.
WINDOW_HOURS = 1


@dataclass(frozen=True, slots=True)
class DemoRun:
    """Everything the demo prints."""

    seed: int
    day: HospitalDay
    activity: DayActivity
    report: DemoReport
    kpis: dict[str, Any]
    kpis_model: Kpis
    scenarios: dict[str, list[str]]
    #: The POs answered with a price increase whose first line is priced (module doc of
    #: ``services/demo_report.py``): each should be held as a price variance.
    priced_increases: list[str]
    database: str
    seconds: float


def demo_command(
    seed_number: Annotated[
        int, typer.Option("--seed", help="Seed of the health system, the day and the suppliers.")
    ] = 42,
    procedures: Annotated[
        int,
        typer.Option(
            "--procedures", min=1, max=5000, help="Procedures in the day (charges and usage)."
        ),
    ] = DEFAULT_PROCEDURES,
    mix: Annotated[
        str,
        typer.Option(
            "--mix", help="The scripted supplier's scenario weights (docs/supplier-simulator.md)."
        ),
    ] = DEFAULT_MIX,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds to wait for the day to settle.")
    ] = 600.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Replay a simulated hospital day through the hub's real edges and print what it found.

    Charges go in as HL7 v2 DFT^P03 over MLLP, usage as FHIR Procedures over HTTP and one
    legacy CSV batch, the scripted test supplier answers every 850 with 855, 856 and 810 over
    the ingest API, the dock receives the goods; then messages, purchase orders, invoices,
    exceptions, reconciliation, cost journals and every KPI are printed. The hub runs on a SQLite
    file in a temporary directory, unless SUTURE_DATABASE_URL is set (then use an empty
    database). Deterministic for a seed; docs/demo.md explains the tables.
    """
    try:
        plan = ScenarioPlan.parse_mix(mix, seed=seed_number)
    except SutureError as error:
        errors.print(f"--mix: {error.reason}", markup=False)
        raise typer.Exit(2) from None
    with tempfile.TemporaryDirectory(prefix="suture-demo-") as workdir:
        settings = _demo_settings(load_settings(), Path(workdir))
        if "SUTURE_LOG_LEVEL" not in os.environ:
            settings = settings.model_copy(update={"log_level": "WARNING"})
        configure_logging(settings.log_level, settings.log_format)
        try:
            run = _run(settings, seed_number, procedures, plan, timeout)
        except SutureError as error:
            errors.print(f"demo failed: {error.field}: {error.reason}", markup=False)
            raise typer.Exit(1) from None
    if as_json:
        console.print_json(json.dumps(_payload(run)))
        return
    _print(run)


def _demo_settings(settings: Settings, workdir: Path) -> Settings:
    feeds = workdir / "csv-feeds.yaml"
    feeds.write_text(f"- interface: {LEGACY_USAGE_INTERFACE}\n  kind: usage\n", encoding="utf-8")
    update: dict[str, Any] = {
        "csv_feeds": feeds,
        "x12_outbox_dir": workdir / "outbox" / "x12",
        "erp_outbox_dir": workdir / "outbox" / "erp",
        "reconciliation_window_hours": WINDOW_HOURS,
        # The embedded default: the demo's own dispatcher runs every handler in this process.
        "nats_url": None,
        # A handler that fails is dead-lettered in seconds, not retried for a quarter of an hour:
        # the demo shows it in the exceptions table instead of waiting on it.
        "bus_max_attempts": 3,
        "bus_base_delay_seconds": 0.2,
        "bus_max_delay_seconds": 1.0,
        # The demo's clients are its own senders, replaying a day in a minute: far above the
        # per-client budget an API shared with other clients should have.
        "rate_limit_client": "1000000/minute",
    }
    if "SUTURE_DATABASE_URL" not in os.environ:
        update["database_url"] = f"sqlite:///{workdir / 'suture.db'}"
    return settings.model_copy(update=update)


def _run(
    settings: Settings, seed_number: int, procedures: int, plan: ScenarioPlan, timeout: float
) -> DemoRun:
    began = time.monotonic()
    hub = build(settings)
    try:
        now = hub.clock()
        window = timedelta(hours=settings.reconciliation_window_hours)
        end = now.replace(minute=0, second=0, microsecond=0) - window
        start = end - DAY
        generator = HealthSystemGenerator(replace(PROFILES["demo"], history_days=1), seed_number)
        day = plan_day(generator, procedures=procedures, start=start)
        clients = _set_up(hub, generator, day, start)
        errors.print(f"demo: set up in {time.monotonic() - began:.1f} s", markup=False)
        errors.print(
            f"demo: {day.planted.procedures} procedures between {start:%Y-%m-%d %H:%M} and "
            f"{end:%H:%M} UTC; replaying them through the edges",
            markup=False,
        )
        codes = _facility_codes(hub)
        simulator = SupplierSimulator(plan, ControlCounter())
        running = DemoHub(hub)
        running.start()
        try:
            activity = replay_day(
                running, day, codes, clients,
                outbox_gateway(simulator, settings.x12_outbox_dir),
                timeout, lambda phase: errors.print(f"demo: {phase}", markup=False),
            )  # fmt: skip
        finally:
            running.stop()
        report = demo_report(hub.read_uow_factory)
        increases = priced_orders(
            hub.read_uow_factory, activity.scenarios.get("price_increase", set())
        )
        kpi_report = hub.kpis.report(start, hub.clock() + timedelta(minutes=1))
    finally:
        hub.close()
    model = kpis_model(kpi_report)
    return DemoRun(
        seed=seed_number, day=day, activity=activity, report=report,
        kpis=model.model_dump(mode="json"), kpis_model=model,
        scenarios={k: sorted(v) for k, v in sorted(activity.scenarios.items())},
        priced_increases=increases,
        database=settings.database_url if "SUTURE_DATABASE_URL" in os.environ else "temporary",
        seconds=round(time.monotonic() - began, 1),
    )  # fmt: skip


def _set_up(
    hub: Hub, generator: HealthSystemGenerator, day: HospitalDay, start: datetime
) -> DemoClients:
    seeded_at = start - DAY
    seed(hub.uow_factory, generator, seeded_at, batch_size=hub.batch_size)
    load_chargemaster(hub.uow_factory, chargemaster(generator, seeded_at.date()))
    # The demo's delivery targets are files in its temporary directory: no one to protect
    # with the default budget of 5 a second, which suits an ERP API shared with people.
    local = TargetSettings(rate_per_second=10_000, burst=10_000)
    hub.deliveries.configure_target("erp:file", local)
    for supplier in generator.suppliers():
        hub.deliveries.configure_target(default_target(supplier.id), local)
    open_stock(hub.uow_factory, day.opening, seeded_at)

    def client(name: str, scopes: list[Scope], facilities: list[str]) -> DemoClient:
        created = hub.clients.create(name, scopes, facilities)
        return DemoClient(created.client.id, created.secret)

    return DemoClients(
        clinical=client("demo clinical FHIR client", [Scope.SYSTEM_WRITE], [ALL_FACILITIES]),
        legacy=client("demo legacy OR system", [Scope.SYSTEM_WRITE], [day.legacy_facility_id]),
        supplier=client("demo suppliers' EDI gateway", [Scope.SYSTEM_WRITE], [ALL_FACILITIES]),
        manager=client(
            "demo supply-chain manager",
            [Scope.PROCESS_EXECUTE, Scope.SYSTEM_READ],
            [ALL_FACILITIES],
        ),
        department=client(
            "demo department manager", [Scope.EXPERIENCE_DEPARTMENT], [ALL_FACILITIES]
        ),
    )


def _facility_codes(hub: Hub) -> dict[str, str]:
    with hub.read_uow_factory() as uow:
        return {facility.id: facility.code for facility in uow.facilities.list(limit=100)}


# --- output -----------------------------------------------------------------------------------


def _payload(run: DemoRun) -> dict[str, Any]:
    report = run.report
    return {
        "seed": run.seed,
        "database": run.database,
        "seconds": run.seconds,
        "day": {
            "start": run.day.start.isoformat(),
            "legacy_facility_id": run.day.legacy_facility_id,
        },
        "planted": asdict(run.day.planted),
        "activity": {
            key: value for key, value in asdict(run.activity).items() if key != "scenarios"
        },
        "supplier_scenarios": run.scenarios,
        "price_increases_on_priced_lines": run.priced_increases,
        "messages": report.messages,
        "purchase_orders": report.purchase_orders,
        "invoices": {
            "by_status": report.invoices,
            "touchless_rate": run.kpis["po_touchless_rate"],
            "touchless_purchase_orders": run.kpis["po_touchless"],
            "purchase_orders_matched": run.kpis["po_matched"],
        },
        "exceptions": report.exceptions,
        "reconciliation": {
            "outcomes": report.reconciliation,
            "revenue_at_risk": str(report.revenue_at_risk),
        },
        "journals": [
            {
                "cost_center_id": j.cost_center_id,
                "journals": j.journals,
                "debit": str(j.debit),
                "credit": str(j.credit),
                "balanced": j.balanced,
            }
            for j in report.journals
        ],
        "kpis": run.kpis,
    }


def _print(run: DemoRun) -> None:
    report, planted, activity = run.report, run.day.planted, run.activity
    console.print(_table(
        f"A hospital day: {planted.procedures} procedures, seed {run.seed}, {run.seconds} s",
        ("what", "count"),
        [("HL7 DFT^P03 over MLLP", activity.hl7_messages),
         ("FHIR Procedure Bundles over HTTP", activity.fhir_bundles),
         ("legacy usage CSV batches", activity.csv_files),
         ("usage lines / charge lines", f"{planted.usage_lines} / {planted.charge_lines}"),
         ("departmental requests (Experience API)", activity.department_requests),
         ("requisitions approved by the supply-chain manager", activity.approvals),
         ("850s answered by the scripted supplier", activity.pos_answered),
         ("855/856/810 documents sent back", activity.supplier_documents),
         ("shipments received at the dock", activity.receipts),
         ("unmatched lines aged into exceptions", activity.aged_lines)],
    ))  # fmt: skip
    console.print(_table(
        "Messages by interface and status", ("interface", "status", "messages"),
        [(interface, status, n) for interface, per in report.messages.items()
         for status, n in sorted(per.items())],
    ))  # fmt: skip
    console.print(_table(
        "Purchase orders created", ("origin", "POs"), list(report.purchase_orders.items())
    ))  # fmt: skip
    rate = run.kpis["po_touchless_rate"]
    console.print(_table(
        "Supplier invoices", ("status", "invoices"),
        [*report.invoices.items(),
         ("PO touchless rate", "-" if rate is None else f"{rate:.1%} of "
          f"{run.kpis['po_matched']} POs with a matched invoice")],
    ))  # fmt: skip
    console.print(_table(
        "Exceptions by type", ("type", "status", "items"),
        [(kind, status, n) for kind, per in report.exceptions.items()
         for status, n in sorted(per.items())],
    ))  # fmt: skip
    console.print(_table(
        f"Charge-to-cost reconciliation (revenue at risk {report.revenue_at_risk:,.2f})",
        ("side", "outcome", "lines"),
        [(side, outcome, n) for side, per in sorted(report.reconciliation.items())
         for outcome, n in sorted(per.items())],
    ))  # fmt: skip
    console.print(_table(
        "Cost journals per cost center", ("cost center", "journals", "debit", "credit", "balanced"),
        [(j.cost_center_id, j.journals, f"{j.debit:,.2f}", f"{j.credit:,.2f}",
          "yes" if j.balanced else "NO") for j in report.journals],
    ))  # fmt: skip
    console.print(_planted_table(run))
    console.print(kpis_table(run.kpis_model, "KPIs of the day"))


def _planted_table(run: DemoRun) -> Table:
    planted, found = run.day.planted, run.report
    usage = found.reconciliation.get("usage", {})
    charge = found.reconciliation.get("charge", {})
    rows = [
        ("missed charges (usage without charge)", planted.missed_charge_lines,
         usage.get("usage_without_charge", 0)),
        ("undocumented charges (charge without usage)", planted.undocumented_charges,
         charge.get("charge_without_usage", 0)),
        ("stockouts", planted.stockouts, run.kpis["stockouts"]),
        ("price increases on priced lines / price variances open",
         len(run.priced_increases), found.open_exceptions("price_variance")),
        ("duplicate invoices sent / caught", len(run.scenarios.get("duplicate_invoice", [])),
         found.open_exceptions("duplicate_invoice")),
    ]  # fmt: skip
    return _table("Planted by the day, found by the hub", ("what", "planted", "found"), rows)


def _table(title: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> Table:
    table = Table(title=title)
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*(str(value) for value in row))
    return table
