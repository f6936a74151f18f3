"""Operator commands: ``suture migrate`` and ``suture status``.

A migration is an operator action, recorded in the audit trail as ``database.migrate`` with the
revisions before and after, whenever the database has the audit tables once it is done (a
downgrade below revision 0008 drops the trail and cannot record itself).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from typing import Annotated

import typer
from rich.table import Table

from suture.adapters.db.errors import StorageError
from suture.adapters.nats.lag import consumer_lag
from suture.bootstrap import database_revision, migrate_database
from suture.config import Settings
from suture.domain.audit import Outcome
from suture.domain.errors import SutureError
from suture.entrypoints.cli.app import (
    console,
    database_failure,
    errors,
    load_settings,
    open_hub,
    safe_url,
)
from suture.entrypoints.cli.audit import AUDIT_REVISION, record_cli_action
from suture.entrypoints.cli.interface_views import kpi_json, kpi_lines
from suture.services.status import (
    COUNTED,
    BackboneStatus,
    ObjectCounts,
    backbone_status,
    count_objects,
)


def migrate_command(
    revision: Annotated[
        str, typer.Option(help="Alembic revision to move to: 'head', 'base' or a revision id.")
    ] = "head",
    down: Annotated[
        bool, typer.Option("--down", help="Downgrade to REVISION instead of upgrading.")
    ] = False,
) -> None:
    """Run database migrations on SUTURE_DATABASE_URL explicitly.

    The embedded SQLite default migrates itself on first use; on PostgreSQL run this before
    starting servers and workers.
    """
    settings = load_settings()
    try:
        before = database_revision(settings)
    except StorageError as error:
        raise database_failure(settings, error) from None
    wanted = f"{'down' if down else 'up'} to {revision}"
    try:
        migrate_database(settings, revision, down=down)
    except SutureError as error:
        with contextlib.suppress(StorageError):  # the database may be what failed
            _record_migration(settings, before, wanted, outcome=Outcome.FAILED, reason=str(error))
        errors.print(f"migration failed: {error}", markup=False)
        raise typer.Exit(1) from None
    after = database_revision(settings)
    _record_migration(settings, before, wanted)
    console.print(f"database {safe_url(settings.database_url)}: {before or 'empty'} -> {after}")


def _record_migration(
    settings: Settings,
    before: str | None,
    wanted: str,
    *,
    outcome: Outcome = Outcome.SUCCESS,
    reason: str | None = None,
) -> None:
    """Record the migration, if the database now holds the audit trail."""
    after = database_revision(settings)
    if after is None or after < AUDIT_REVISION:
        return
    hub = open_hub(migrate=False)
    try:
        record_cli_action(
            hub.audit, "database.migrate", target_type="database", target_id=wanted,
            before=f"revision={before or 'empty'}", after=f"revision={after}",
            outcome=outcome, reason=reason,
        )  # fmt: skip
    finally:
        hub.close()


def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Counts of every object type per facility, and the state of the message backbone.

    The backbone part: inbox messages by status, handler work (pending, parked, dead) and its
    lag (the oldest pending work's age), outbound deliveries by status, open exceptions by type
    and how many are overdue; with SUTURE_NATS_URL set, the lag of the workers' stream consumer
    too (messages pending, awaiting acknowledgement, redelivered). Then the governed share of the
    integration inventory and of the last 7 days' inbound traffic.
    """
    settings = load_settings()
    hub = open_hub()
    stream = hub.stream
    try:
        counts = count_objects(hub.uow_factory)
        backbone = backbone_status(
            hub.uow_factory, hub.clock(),
            consumer=None if stream is None else lambda: consumer_lag(stream),
        )  # fmt: skip
        governance = hub.interfaces.governed_share()
    finally:
        hub.close()
    revision = database_revision(settings)
    if as_json:
        payload = {
            "database": safe_url(settings.database_url),
            "schema_revision": revision,
            "objects": {
                name: {(facility or "system"): n for facility, n in per.items()}
                for name, per in counts.counts.items()
            },
            "backbone": dataclasses.asdict(backbone),
            "governance": kpi_json(governance),
        }
        console.print_json(json.dumps(payload))
        return
    console.print(f"database {safe_url(settings.database_url)} at revision {revision}")
    console.print(counts_table(counts))
    console.print(_backbone_table(backbone))
    for line in kpi_lines(governance):
        console.print(line, markup=False)


def counts_table(counts: ObjectCounts) -> Table:
    facilities = counts.facilities()
    table = Table(title="Objects per facility")
    table.add_column("object")
    for facility in facilities:
        table.add_column(facility, justify="right")
    table.add_column("system-wide", justify="right")
    table.add_column("total", justify="right", style="bold")
    for name in COUNTED:
        per = counts.counts.get(name, {})
        cells = [f"{per.get(facility, 0):,}" for facility in facilities]
        table.add_row(name, *cells, f"{per.get(None, 0):,}", f"{counts.total(name):,}")
    return table


def _backbone_table(backbone: BackboneStatus) -> Table:
    table = Table(title="Message backbone")
    table.add_column("what")
    table.add_column("counts")
    table.add_row("inbox", _pairs(backbone.inbox))
    for handler, per in sorted(backbone.work.items()):
        table.add_row(f"handler {handler}", _pairs(per))
    age = f"{backbone.oldest_pending_age_seconds:,.0f} s"
    table.add_row("pending work", f"{backbone.pending_work:,} (oldest waiting {age})")
    if (lag := backbone.consumer) is not None:
        what = f"stream consumer {lag.stream}/{lag.consumer}"
        if lag.error is not None:
            table.add_row(what, f"unknown: {lag.error}")
        else:
            table.add_row(what, f"pending {lag.pending:,}, awaiting ack {lag.ack_pending:,}, "
                                f"redelivered {lag.redelivered:,}")  # fmt: skip
    table.add_row("deliveries", _pairs(backbone.deliveries))
    open_items = _pairs(backbone.open_exceptions) or "none"
    table.add_row("open exceptions", f"{open_items}; overdue {backbone.overdue_exceptions:,}")
    return table


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in counts.items() if n)
