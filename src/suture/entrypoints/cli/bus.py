"""``suture replay`` and ``suture trace``: re-drive and follow the bus.

They use the message bus the composition root wires as ``Hub.bus``
(:class:`~suture.services.messagebus.MessageBus`). A replay that is not a dry run is an operator
action and is recorded in the audit trail as ``replay.run`` (done or failed).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from suture.domain.audit import Outcome
from suture.domain.errors import SutureError
from suture.entrypoints.cli.app import console, errors, open_hub, print_table
from suture.entrypoints.cli.audit import record_cli_action
from suture.services.replay import ReplaySelection, Report
from suture.services.trace import timeline


def replay_command(  # noqa: PLR0917  (a Typer command's options are its parameters)
    event: Annotated[list[str] | None, typer.Option(help="Event id; repeat for more.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Recorded at or after (UTC).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Recorded before (UTC).")] = None,
    event_type: Annotated[str | None, typer.Option("--type", help="Event type.")] = None,
    dead_letter: Annotated[
        bool, typer.Option("--dead-letter", help="Every dead-lettered work item.")
    ] = False,
    handler: Annotated[str | None, typer.Option(help="Only this handler.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be re-driven; change nothing.")
    ] = False,
    rate: Annotated[
        float | None, typer.Option(min=0.001, help="At most this many items per second.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Re-drive events to the handlers that have not processed them.

    Select by --event, by --since/--until/--type, or --dead-letter; --handler narrows any.
    Already processed work is never run again (tracking rows), so replay is always safe.
    """
    try:
        selection = ReplaySelection(
            event_ids=tuple(event or ()),
            since=_utc(since),
            until=_utc(until),
            event_type=event_type,
            dead_letter=dead_letter,
            handler=handler,
        )
    except SutureError as error:
        errors.print(f"replay: {error}", markup=False)
        raise typer.Exit(2) from None
    hub = open_hub()
    try:
        try:
            report = hub.bus.replay(selection, dry_run=dry_run, rate=rate)
        except SutureError as error:
            if not dry_run:
                record_cli_action(
                    hub.audit, "replay.run", target_type="events", before=_selected(selection),
                    outcome=Outcome.FAILED, reason=str(error),
                )  # fmt: skip
            errors.print(f"replay: {error}", markup=False)
            raise typer.Exit(1) from None
        if not dry_run:
            done = (
                f"{len(report.items)} work items re-driven from {report.events} events; "
                f"{report.already_processed} already processed"
            )
            record_cli_action(
                hub.audit, "replay.run", target_type="events", before=_selected(selection),
                after=done,
            )  # fmt: skip
    finally:
        hub.close()
    _print_report(report, as_json=as_json)


def _selected(selection: ReplaySelection) -> str:
    """What a replay selected, as an audit summary (ids are counted, not listed)."""
    parts = [f"{len(selection.event_ids)} event ids"] if selection.event_ids else []
    parts += [
        f"{name}={value.isoformat() if isinstance(value, datetime) else value}"
        for name, value in (
            ("since", selection.since),
            ("until", selection.until),
            ("type", selection.event_type),
            ("handler", selection.handler),
        )
        if value is not None
    ]
    if selection.dead_letter:
        parts.append("dead-letter")
    return " ".join(parts) or "everything"


def trace_command(
    key: Annotated[str, typer.Argument(help="A business key (correlation id) or a trace id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The timeline of a business key or trace id: messages, events, attempts, handlers."""
    hub = open_hub()
    try:
        entries = timeline(hub.uow_factory, key)
    finally:
        hub.close()
    if as_json:
        rows = [
            {"at": e.at.isoformat(), "kind": e.kind, "ref": e.ref, "detail": e.detail}
            for e in entries
        ]
        console.print_json(json.dumps({"key": key, "timeline": rows}))
        return
    if not entries:
        console.print(f"nothing recorded for {key!r}", markup=False)
        return
    table = Table(title=f"Timeline of {key}")
    for column in ("at", "kind", "ref", "detail"):
        table.add_column(column)
    for e in entries:
        table.add_row(e.at.isoformat(), e.kind, e.ref, e.detail)
    print_table(table)


def _print_report(report: Report, *, as_json: bool) -> None:
    verb = "would re-drive" if report.dry_run else "re-driven"
    if as_json:
        document = {
            "dry_run": report.dry_run,
            "events": report.events,
            "already_processed": report.already_processed,
            "items": [{"handler": h, "event_id": e} for h, e in report.items],
        }
        console.print_json(json.dumps(document))
        return
    console.print(
        f"{len(report.items):,} work items {verb} from {report.events:,} events; "
        f"{report.already_processed:,} already processed (skipped)"
    )
    for handler, event_id in report.items[:50]:
        console.print(f"  {handler}  {event_id}", markup=False)
    if len(report.items) > 50:
        console.print(f"  … and {len(report.items) - 50:,} more")


def _utc(value: datetime | None) -> datetime | None:
    """Typer parses naive datetimes; the command line speaks UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
