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
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from suture.adapters.observability.logs import configure_logging
from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.domain.delivery_targets import TargetSettings
from suture.domain.errors import SutureError
from suture.domain.trading_partners import default_target
from suture.entrypoints.api.experience.dashboard import kpis_model
from suture.entrypoints.cli.app import console, errors, load_settings
from suture.entrypoints.cli.demo_tables import DemoRun, payload, print_tables
from suture.entrypoints.demo_day import (
    LEGACY_USAGE_INTERFACE,
    DemoClient,
    DemoClients,
    outbox_gateway,
    replay_day,
)
from suture.entrypoints.demo_hub import DemoHub
from suture.services.demo_report import demo_report, priced_orders
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
        console.print_json(json.dumps(payload(run)))
        return
    print_tables(run)


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
