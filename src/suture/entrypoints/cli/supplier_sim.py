"""``suture supplier-sim answer|run``: the scripted test supplier (docs/supplier-simulator.md).

A trading-partner simulator for go-live rehearsals, the demo and the tests: it answers the hub's
850 purchase orders with 855, 856 and 810 documents per scenario (normal, short ship, back order,
price increase, wrong UOM, duplicate invoice, early or late invoice). ``answer`` writes the
replies to one 850 file into a folder; ``run`` is a supplier's EDI gateway: it watches the hub's
X12 outbox and sends the replies back, when due, to the hub's drop folder or its ingest API.
Needs no database or hub settings; exit code 2 for bad options or an unreadable 850.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from suture.adapters.supplier_sim import (
    DirectorySink,
    HttpSink,
    ReplySink,
    SupplierGateway,
    SupplierGatewayError,
)
from suture.domain.errors import SutureError
from suture.entrypoints.cli.app import console, errors
from suture.services.supplier_simulator import (
    ControlCounter,
    Reply,
    Scenario,
    ScenarioPlan,
    SupplierSimulator,
)

supplier_sim_app = typer.Typer(
    help="The scripted test supplier: answer the hub's 850s with 855, 856 and 810 documents.",
    no_args_is_help=True,
)

ScenarioOption = Annotated[
    Scenario | None,
    typer.Option("--scenario", help="Answer every PO with this scenario."),
]
MixOption = Annotated[
    str | None,
    typer.Option(
        "--mix",
        metavar="NAME=WEIGHT,...",
        help="A seeded mix of scenarios, e.g. 'normal=6,short_ship=1,price_increase=1'.",
    ),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the mix (same seed, same day).")]
StartOption = Annotated[
    int, typer.Option("--control-start", min=1, help="First interchange control number.")
]


def _plan(scenario: Scenario | None, mix: str | None, seed: int) -> ScenarioPlan:
    if scenario is not None and mix is not None:
        errors.print("give --scenario or --mix, not both", markup=False)
        raise typer.Exit(2)
    if mix is None:
        return ScenarioPlan(default=scenario or Scenario.NORMAL, seed=seed)
    try:
        return ScenarioPlan.parse_mix(mix, seed=seed)
    except SutureError as error:
        errors.print(f"--mix: {error.reason}", markup=False)
        raise typer.Exit(2) from None


@supplier_sim_app.command("answer")
def answer_command(  # noqa: PLR0917  (a Typer command's options are its parameters)
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="An 850 interchange file.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder the replies are written to.")],
    scenario: ScenarioOption = None,
    mix: MixOption = None,
    seed: SeedOption = 0,
    control_start: StartOption = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Write the replies to the 850s in FILE into --out, in the order they would be sent."""
    simulator = SupplierSimulator(_plan(scenario, mix, seed), ControlCounter(control_start))
    try:
        replies = simulator.answer(file.read_bytes(), datetime.now(UTC))
    except SutureError as error:
        errors.print(f"{file.name}: {error.field}: {error.reason}", markup=False)
        raise typer.Exit(2) from None
    sink = DirectorySink(out)
    for reply in replies:
        sink.send(reply)
    rows = [_row(reply) for reply in replies]
    if as_json:
        console.print_json(json.dumps({"replies": rows, "out": str(out)}))
        return
    table = Table(title=f"Replies to {file.name}, written to {out}")
    for column in ("po", "scenario", "set", "due after"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["po_number"], row["scenario"], row["transaction_set"], row["due_after"])
    console.print(table)


@supplier_sim_app.command("run")
def run_command(  # noqa: PLR0917  (a Typer command's options are its parameters)
    watch: Annotated[
        Path, typer.Option("--watch", help="The hub's X12 outbox (SUTURE_X12_OUTBOX_DIR).")
    ],
    reply_dir: Annotated[
        Path | None,
        typer.Option("--reply-dir", help="Send replies into this folder (serve --watch)."),
    ] = None,
    hub_url: Annotated[
        str | None,
        typer.Option("--hub-url", help="Send replies to this hub's ingest API instead."),
    ] = None,
    client_id: Annotated[
        str | None, typer.Option("--client-id", help="API client (scope system:write).")
    ] = None,
    interface: Annotated[
        str, typer.Option("--interface", help="The interface name the replies are stored with.")
    ] = "supplier-x12",
    facility: Annotated[
        str | None, typer.Option("--facility", help="Facility, for a facility-bound client.")
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            "--speed", min=0, help="Simulated seconds per real second; 0 sends replies at once."
        ),
    ] = 0.0,
    poll_seconds: Annotated[float, typer.Option("--poll-seconds", min=0.05)] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="One poll, then exit.")] = False,
    scenario: ScenarioOption = None,
    mix: MixOption = None,
    seed: SeedOption = 0,
    control_start: StartOption = 1,
) -> None:
    """Watch the hub's X12 outbox and answer each 850 like a supplier would.

    The client secret for --hub-url is read from SUTURE_SIM_CLIENT_SECRET, never from the
    command line (it would land in the shell history and the process list).
    """
    sink = _sink(reply_dir, hub_url, client_id, interface, facility)
    simulator = SupplierSimulator(_plan(scenario, mix, seed), ControlCounter(control_start))
    gateway = SupplierGateway(simulator, watch, sink, lambda: datetime.now(UTC), speed=speed)
    try:
        while True:
            report = gateway.poll()
            for name in report.rejected:
                errors.print(f"{name}: not an 850 interchange; moved to rejected/", markup=False)
            for reply in report.sent:
                console.print(
                    f"sent {reply.transaction_set} for {reply.po_number} ({reply.scenario})",
                    markup=False,
                )
            if once:
                return
            time.sleep(poll_seconds)
    except SupplierGatewayError as error:
        errors.print(f"{error.field}: {error.reason}", markup=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        if gateway.pending:
            errors.print(f"stopped with {gateway.pending} replies not yet due", markup=False)


def _sink(
    reply_dir: Path | None,
    hub_url: str | None,
    client_id: str | None,
    interface: str,
    facility: str | None,
) -> ReplySink:
    if (reply_dir is None) == (hub_url is None):
        errors.print("give exactly one of --reply-dir and --hub-url", markup=False)
        raise typer.Exit(2)
    if reply_dir is not None:
        return DirectorySink(reply_dir)
    secret = os.environ.get("SUTURE_SIM_CLIENT_SECRET")
    if client_id is None or not secret:
        errors.print(
            "--hub-url needs --client-id and the secret in SUTURE_SIM_CLIENT_SECRET", markup=False
        )
        raise typer.Exit(2)
    assert hub_url is not None
    return HttpSink(
        hub_url, client_id=client_id, client_secret=secret, interface=interface,
        facility_id=facility,
    )  # fmt: skip


def _row(reply: Reply) -> dict[str, str]:
    return {
        "po_number": reply.po_number,
        "scenario": reply.scenario.value,
        "transaction_set": reply.transaction_set,
        "due_after": str(reply.due_after),
    }
