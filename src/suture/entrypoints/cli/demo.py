"""``suture demo``: a hospital day through the hub's real edges, on the embedded default.

1. **Set up** a fresh hub: a SQLite file in a temporary directory (removed afterwards), unless
   ``SUTURE_DATABASE_URL`` is set, then that database (it should be empty: the day's records
   have deterministic ids). The demo health system is seeded with its integration inventory and
   suppliers' X12 profiles; the chargemaster is priced from the catalog; the day's stock
   positions get their opening stock; the legacy OR usage interface gets a CSV feed; API
   clients are made for the clinical FHIR client, the legacy OR system, the suppliers' gateway
   and the supply-chain manager, and the demo's routes are registered in the integration
   inventory (``entrypoints/demo_edges.py``). The reconciliation window is one hour and the day
   ended at least that long ago, so every line still unmatched when the day has settled ages
   into an exception.
2. **Start** the HTTP service, the MLLP listener and the dispatcher in this process, on free
   ports (``entrypoints/demo_day.py``), the hub on the day's simulated clock.
3. **Replay** the day (``services/synthetic/day.py``) hour by hour, then the suppliers' days,
   and wait until it settles.
4. **Print** what the hub holds (``services/demo_report.py``) and every KPI, or ``--json``.

With ``--erp tryton`` the ERP is a real Tryton (``entrypoints/demo_erp.py``): the sandbox's
server, one the demo starts, or the one ``--erp-url`` names. Before the day, the demo creates
the suppliers, products and cost centers the day needs in Tryton, as its administrator would,
and pulls the supplier master into Suture; the day's POs, receipts, AP vouchers and cost
journals go to Tryton through the delivery queue; after it, what Tryton shows is read back
through its API beside what Suture sent (``entrypoints/demo_erp_check.py``).

docs/demo.md says what the day contains and how to read each table.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import SecretStr

from suture.adapters.observability.logs import configure_logging
from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.domain.delivery_targets import TargetSettings
from suture.domain.errors import SutureError
from suture.domain.trading_partners import default_target
from suture.entrypoints.api.experience.dashboard import kpis_model
from suture.entrypoints.cli.app import console, errors, load_settings
from suture.entrypoints.cli.demo_tables import DemoErp, DemoRun, payload, print_tables
from suture.entrypoints.demo_day import (
    LEGACY_USAGE_INTERFACE,
    DemoClient,
    DemoClients,
    SimulatedClock,
    day_ids,
    outbox_gateway,
    replay_day,
)
from suture.entrypoints.demo_edges import demo_edges
from suture.entrypoints.demo_erp import (
    ErpLogin,
    connect,
    sandbox_dir,
    set_up_master_data,
)
from suture.entrypoints.demo_erp_check import check_erp
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


def demo_command(  # noqa: PLR0917 - typer passes the options by position
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
        float | None,
        typer.Option(
            "--timeout",
            min=1,
            help="Seconds to wait for the day to settle (default 600; 3600 with --erp tryton).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    erp: Annotated[
        Literal["file", "tryton"],
        typer.Option(
            "--erp",
            help="The ERP: 'file' (interface files in the temporary directory) or 'tryton' (a "
            "real Tryton: --erp-url, else the sandbox's running server, else one started).",
        ),
    ] = "file",
    erp_url: Annotated[
        str | None,
        typer.Option(
            "--erp-url",
            help="With --erp tryton: an existing Tryton (default SUTURE_ERP_URL); logs in as "
            "SUTURE_ERP_USER with SUTURE_ERP_PASSWORD or _PASSWORD_FILE.",
        ),
    ] = None,
    erp_database: Annotated[
        str | None,
        typer.Option("--erp-database", help="Its database (default SUTURE_ERP_DATABASE)."),
    ] = None,
    erp_sandbox: Annotated[
        Path | None,
        typer.Option(
            "--erp-sandbox",
            help="The Tryton sandbox folder (default SUTURE_ERP_SANDBOX_DIR or ./.erp-sandbox).",
        ),
    ] = None,
) -> None:
    """Replay a simulated hospital day through the hub's real edges and print what it found.

    Charges go in as HL7 v2 DFT^P03 over MLLP and usage as FHIR Procedures over HTTP, hour by
    hour on the day's clock, then the legacy OR system's nightly CSV batch; the scripted test
    supplier answers every 850 with 855, 856 and 810 over
    the ingest API, the dock receives the goods; then messages, purchase orders, invoices,
    exceptions, reconciliation, cost journals and every KPI are printed. The hub runs on a SQLite
    file in a temporary directory, unless SUTURE_DATABASE_URL is set (then use an empty
    database). Deterministic for a seed; docs/demo.md explains the tables. With --erp tryton
    the day runs against a real Tryton ERP and ends with what Tryton shows beside what Suture
    sent it.
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
            login = None
            if erp == "tryton":
                login = connect(
                    erp_url or settings.erp_url, erp_database or settings.erp_database,
                    settings.erp_user, _password(settings), sandbox_dir(erp_sandbox), _say,
                )  # fmt: skip
            settings = _erp_settings(settings, login)
            if timeout is None:  # Tryton takes about a second a document, one at a time
                timeout = 600.0 if login is None else 3600.0
            run = _run(settings, seed_number, procedures, plan, timeout, login)
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


def _say(text: str) -> None:
    errors.print(f"demo: {text}", markup=False, soft_wrap=True)


def _password(settings: Settings) -> str | None:
    if settings.erp_password is None and settings.erp_password_file is None:
        return None
    try:
        return settings.erp_secret()
    except ValueError as error:
        raise SutureError("erp_password_file", str(error)) from None


def _erp_settings(settings: Settings, login: ErpLogin | None) -> Settings:
    """The file ERP (today's demo), or the Tryton the demo connected to."""
    if login is None:
        return settings.model_copy(update={"erp_kind": "file"})
    return settings.model_copy(
        update={
            "erp_kind": "tryton", "erp_url": login.url, "erp_database": login.database,
            "erp_user": login.user, "erp_password": SecretStr(login.password),
            "erp_password_file": None,
        }
    )  # fmt: skip


def _run(  # noqa: PLR0917 - the command's choices
    settings: Settings,
    seed_number: int,
    procedures: int,
    plan: ScenarioPlan,
    timeout: float,
    login: ErpLogin | None,
) -> DemoRun:
    began = time.monotonic()
    start, end = day_bounds(datetime.now(UTC), settings, plan)
    # The hub's business time: the day's start, then hour by hour through the day, then jumps
    # with the suppliers' replies (``SimulatedClock``).
    clock = SimulatedClock(start)
    hub = build(settings, clock=clock, requisition_ids=day_ids(seed_number))
    try:
        generator = HealthSystemGenerator(replace(PROFILES["demo"], history_days=1), seed_number)
        day = plan_day(generator, procedures=procedures, start=start)
        clients = _set_up(hub, generator, day, start)
        if login is not None:
            _set_up_erp(hub, generator, day, login)
        errors.print(f"demo: set up in {time.monotonic() - began:.1f} s", markup=False)
        errors.print(
            f"demo: {day.planted.procedures} procedures between {start:%Y-%m-%d %H:%M} and "
            f"{end:%Y-%m-%d %H:%M} UTC; replaying them through the edges",
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
                timeout, lambda phase: errors.print(f"demo: {phase}", markup=False), clock,
            )  # fmt: skip
        finally:
            running.stop()
        report = demo_report(hub.read_uow_factory)
        increases = priced_orders(
            hub.read_uow_factory, activity.scenarios.get("price_increase", set())
        )
        kpi_report = hub.kpis.report(start, hub.clock() + timedelta(minutes=1))
        erp_check = None
        if login is not None:
            _say("reading back what Tryton shows")
            rpc = login.rpc()
            try:
                erp_check = check_erp(hub.read_uow_factory, rpc)
            finally:
                rpc.close()
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
        erp=DemoErp.of(login, erp_check),
    )  # fmt: skip


#: Between the suppliers' last reply and the start of the run: the 850s of the day's last POs go
#: out as the day ends, plus the seconds the hub takes (the clock runs on between jumps).
REPLY_MARGIN = timedelta(hours=1)


def day_bounds(now: datetime, settings: Settings, plan: ScenarioPlan) -> tuple[datetime, datetime]:
    """The day replayed: 24 whole hours that ended early enough for everything the run
    records to lie in the past of ``now``, the suppliers' last replies included (16 days after
    the day's last 850 with back orders), less the reconciliation window, so unmatched lines age
    within the run. After the run, `suture exceptions list`, `suture kpis` and the SLA clocks
    read the hub against the real time: a day ending at ``now`` left items opened days ahead."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    window = timedelta(hours=settings.reconciliation_window_hours)
    end = hour - window - plan.last_reply_after() - REPLY_MARGIN
    return end - DAY, end


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

    clients = DemoClients(
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
    # The demo's senders' routes in the integration inventory, so their traffic is managed.
    hub.interfaces.import_interfaces(demo_edges(hub.interfaces.list(), clients))
    return clients


def _set_up_erp(
    hub: Hub, generator: HealthSystemGenerator, day: HospitalDay, login: ErpLogin
) -> None:
    """The ERP administrator's part (``entrypoints/demo_erp.py``), then the supplier pull."""
    wanted = {line.item.id for line in day.usage_lines} | {
        request.item_id for request in day.department_requests
    }
    items = [item for item in generator.items() if item.id in wanted]
    rpc = login.rpc()
    try:
        done = set_up_master_data(
            rpc, list(generator.suppliers()), items, list(generator.cost_centers())
        )
    finally:
        rpc.close()
    _say(
        "ERP set-up, as Tryton's administrator (had / created): suppliers "
        f"{done.suppliers[0]} / {done.suppliers[1]}, products {done.products[0]} / "
        f"{done.products[1]}, cost centers {done.cost_centers[0]} / {done.cost_centers[1]}"
    )
    if hub.erp_suppliers is None:
        raise SutureError("erp", "the hub has no ERP supplier pull")
    pulled = hub.erp_suppliers.pull()
    _say(
        f"supplier master pulled from Tryton: {pulled.created} new, {pulled.updated} updated, "
        f"{pulled.unchanged} unchanged"
    )
    if login.how != "given":  # the sandbox is local and serves only this demo
        sandbox = TargetSettings(rate_per_second=100, burst=100)
        hub.deliveries.configure_target("erp:tryton", sandbox)


def _facility_codes(hub: Hub) -> dict[str, str]:
    with hub.read_uow_factory() as uow:
        return {facility.id: facility.code for facility in uow.facilities.list(limit=100)}
