"""``suture erp sandbox create|start|stop|status``: a Tryton 8.2 ERP for people and tests;
``suture erp suppliers pull``: the ERP's supplier master into Suture's (and
:func:`scheduled_pull`, the same on a schedule in the ``serve`` and ``worker`` loops);
``suture erp payments show|sync``: the ERP's payment status of supplier invoices.

The sandbox (docs/erp.md) is a folder holding Tryton's own virtualenv (apart from Suture's:
Suture never imports Tryton, it talks to it over HTTP), a snapshot of a database set up as a
hospital's ERP over the API, and, while started, a server on a free local port. ``start``
prints the URL and the settings that point Suture at it. Exit code 1 when a step fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from suture.adapters.erp.sandbox import Sandbox, SandboxError
from suture.bootstrap import Hub
from suture.domain.errors import SutureError
from suture.entrypoints.cli.app import console, errors, open_hub

#: Where the sandbox lives unless ``--dir`` or SUTURE_ERP_SANDBOX_DIR say otherwise.
DEFAULT_DIR = Path(".erp-sandbox")

erp_app = typer.Typer(help="The ERP connector (docs/erp.md).", no_args_is_help=True)
sandbox_app = typer.Typer(
    help="A local Tryton 8.2 ERP: its own virtualenv, a set-up database, a server.",
    no_args_is_help=True,
)
erp_app.add_typer(sandbox_app, name="sandbox")
suppliers_app = typer.Typer(help="The ERP's supplier master.", no_args_is_help=True)
erp_app.add_typer(suppliers_app, name="suppliers")
payments_app = typer.Typer(
    help="The ERP's payment status of supplier invoices.", no_args_is_help=True
)
erp_app.add_typer(payments_app, name="payments")

DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="The sandbox folder (default: SUTURE_ERP_SANDBOX_DIR or ./.erp-sandbox).",
    ),
]


def _sandbox(directory: Path | None) -> Sandbox:
    chosen = directory or Path(os.environ.get("SUTURE_ERP_SANDBOX_DIR", DEFAULT_DIR))
    return Sandbox(chosen)


def _fail(error: SandboxError | Exception) -> typer.Exit:
    errors.print(f"erp sandbox: {error}", markup=False, soft_wrap=True)
    return typer.Exit(1)


@sandbox_app.command("create")
def create_command(directory: DirOption = None) -> None:
    """Install Tryton 8.2 in its own virtualenv (PyPI) and build the set-up database snapshot:
    company, chart of accounts, fiscal years, payment term, GL accounts, cost centers."""
    sandbox = _sandbox(directory)
    try:
        snapshot = sandbox.create(say=lambda text: console.print(text, markup=False))
    except (SandboxError, OSError) as error:
        raise _fail(error) from error
    console.print(f"sandbox ready: {snapshot}", markup=False)


@sandbox_app.command("start")
def start_command(
    directory: DirOption = None,
    database: Annotated[str, typer.Option("--database", help="The database name.")] = "suture",
    port: Annotated[int | None, typer.Option("--port", help="Default: a free port.")] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the database of the last run, if any.")
    ] = False,
) -> None:
    """Start a server on a copy of the snapshot and print its URL and Suture's settings."""
    sandbox = _sandbox(directory)
    try:
        server = sandbox.start(database, fresh=not keep, port=port)
    except (SandboxError, OSError) as error:
        raise _fail(error) from error
    console.print(server.url, markup=False)
    console.print(
        f"SUTURE_ERP_KIND=tryton SUTURE_ERP_URL={server.url} SUTURE_ERP_DATABASE={database} "
        f"SUTURE_ERP_USER={server.user} "
        f"SUTURE_ERP_PASSWORD_FILE={sandbox.directory / 'admin.password'}",
        markup=False,
        soft_wrap=True,
    )


@sandbox_app.command("stop")
def stop_command(directory: DirOption = None) -> None:
    """Stop the sandbox's server (its database stays for ``start --keep``)."""
    stopped = _sandbox(directory).stop()
    console.print("stopped" if stopped else "no sandbox server was running", markup=False)


@sandbox_app.command("status")
def status_command(directory: DirOption = None) -> None:
    """The running server's URL and database, or that none runs (exit code 3)."""
    server = _sandbox(directory).status()
    if server is None:
        console.print("no sandbox server is running", markup=False)
        raise typer.Exit(3)
    console.print(f"{server.url} database {server.database} pid {server.pid}", markup=False)


@suppliers_app.command("pull")
def pull_command() -> None:
    """Pull the ERP's supplier master into Suture's (the ERP is authoritative) and re-drive the
    ERP deliveries parked on a supplier it now has; needs an ERP that can be read
    (SUTURE_ERP_KIND=tryton). Exit code 1 when the ERP cannot be read."""
    hub = open_hub()
    try:
        if hub.erp_suppliers is None:
            raise typer.Exit(1)
        pulled = hub.erp_suppliers.pull()
    except SutureError as error:
        errors.print(f"erp suppliers: {error}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from error
    finally:
        hub.close()
    console.print(
        f"suppliers from the ERP: {pulled.created} new, {pulled.updated} updated, "
        f"{pulled.unchanged} unchanged; {pulled.redriven} parked deliveries re-driven",
        markup=False,
    )


@payments_app.command("show")
def payments_show_command(
    invoice_id: Annotated[str, typer.Argument(help="The supplier invoice's id in Suture.")],
) -> None:
    """The invoice's status in Suture beside its payment status in the ERP (state, amount to
    pay). A read: `payments sync` marks what the ERP paid. Exit code 1 when the ERP cannot be
    read."""
    hub = open_hub()
    try:
        if hub.erp_payments is None:
            raise typer.Exit(1)
        shown = hub.erp_payments.show(invoice_id)
    except SutureError as error:
        errors.print(f"erp payments: {error}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from error
    finally:
        hub.close()
    amount = shown.erp.amount_to_pay
    console.print(
        f"invoice {shown.invoice_number} of {shown.supplier_id}: {shown.status} in Suture, "
        f"{shown.erp.state} in the ERP"
        + ("" if amount is None else f", {amount} to pay")
        + ("" if shown.note is None else f" ({shown.note})"),
        markup=False,
        soft_wrap=True,
    )


@payments_app.command("sync")
def payments_sync_command(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Invoices per status.")] = 100,
) -> None:
    """Read the ERP's payment status of the invoices awaiting payment (matched, approved) and
    mark those it paid as paid (`suture serve` does it on its ERP pull schedule)."""
    hub = open_hub()
    try:
        if hub.erp_payments is None:
            raise typer.Exit(1)
        synced = hub.erp_payments.sync(limit)
    except SutureError as error:
        errors.print(f"erp payments: {error}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from error
    finally:
        hub.close()
    console.print(
        f"invoices awaiting payment: {synced.checked} checked, {synced.paid} paid in the ERP",
        markup=False,
    )


def scheduled_pull(hub: Hub) -> list[Callable[[int], int]]:
    """The ERP's supplier pull as a work source of a loop, reporting a failed pull, when the
    hub has one (SUTURE_ERP_KIND=tryton, SUTURE_ERP_SUPPLIER_PULL_SECONDS > 0)."""
    pull = hub.erp_supplier_pull
    if pull is None:
        return []

    def failed(error: SutureError) -> None:
        seconds = pull.every.total_seconds()
        errors.print(f"erp supplier pull: {error}; next try in {seconds:g}s", markup=False)

    pull.on_error = failed
    console.print(
        f"pulling the ERP's supplier master every {pull.every.total_seconds():g}s", markup=False
    )
    return [pull.run_once]
