"""``suture audit``: read and verify the hash-chained audit trail (issue 7; docs/audit.md).

``list`` and ``show`` read the log; ``verify`` walks the whole chain and exits:

- 0: intact (it prints the head: record that line elsewhere to anchor the chain);
- 1: broken, naming the first broken row's sequence number and the reason
  (changed, deleted, relinked, inserted, head).

The other command modules record their operator actions through :func:`record_cli_action`: the
actor is the operating-system user, the client ``cli``.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

import typer
from rich.markup import escape
from rich.table import Table

from suture.domain.audit import Actor, AuditRecord, Outcome
from suture.domain.errors import SutureError
from suture.entrypoints.cli.app import console, errors, open_hub, print_table
from suture.services.audit import AuditTrail, Verification

#: The client id of every action taken from the command line.
CLI_CLIENT = "cli"
#: The schema revision that creates the audit tables (``migrations/versions/0008_audit_log.py``).
AUDIT_REVISION = "0008"

audit_app = typer.Typer(
    help="The audit trail: every write and operator action, chained by keyed hashes.",
    no_args_is_help=True,
)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


class AuditHub(Protocol):
    """What these commands need of the hub."""

    audit: AuditTrail

    def close(self) -> None: ...


def operator_name() -> str:
    """The operating-system user running the command."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "operator"


def cli_actor() -> Actor:
    return Actor(operator_name(), CLI_CLIENT)


def record_cli_action(
    trail: AuditTrail,
    action: str,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    before: str | None = None,
    after: str | None = None,
    outcome: Outcome = Outcome.SUCCESS,
    reason: str | None = None,
) -> None:
    """Record an operator action in a transaction of its own; exit 1 if it cannot be recorded.

    An action that cannot be audited is an error the operator must see, not a warning.
    """
    try:
        trail.record_alone(
            cli_actor(),
            action,
            target_type=target_type,
            target_id=target_id,
            before=before,
            after=after,
            outcome=outcome,
            reason=reason,
        )
    except SutureError as error:
        errors.print(f"audit: {action} could not be recorded: {error}", markup=False)
        raise typer.Exit(1) from None


@contextmanager
def _hub() -> Iterator[AuditHub]:
    hub: AuditHub = open_hub()
    try:
        yield hub
    finally:
        hub.close()


@audit_app.command("list")
def list_command(  # noqa: PLR0917  (a Typer command's options are its parameters)
    action: Annotated[
        str | None, typer.Option(help="Only this action; 'exception.*' for a whole area.")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Only actions by this actor.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Recorded at or after (UTC).")] = None,
    after: Annotated[int, typer.Option(min=0, help="The page after this sequence number.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 100,
    as_json: AsJson = False,
) -> None:
    """Recorded actions in the order they were recorded."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)  # Typer parses naive datetimes; the CLI speaks UTC
    with _hub() as hub:
        records = hub.audit.list(action=action, actor=actor, since=since, after=after, limit=limit)
    if as_json:
        console.print_json(json.dumps([_record_json(record) for record in records]))
        return
    table = Table(title=f"{len(records)} audit entries")
    for heading in ("seq", "at", "actor", "client", "action", "target", "outcome"):
        table.add_column(heading, no_wrap=heading in {"seq", "at"}, overflow="fold")
    for record in records:
        entry = record.entry
        target = " ".join(filter(None, (entry.target_type, entry.target_id))) or "-"
        table.add_row(
            str(record.seq),
            entry.at.isoformat(timespec="seconds"),
            escape(entry.actor.name),
            escape(entry.actor.client_id),
            escape(entry.action),
            escape(target),
            escape(str(entry.outcome)),
        )
    print_table(table)


@audit_app.command("show")
def show_command(
    seq: Annotated[int, typer.Argument(help="The entry's sequence number.")],
    as_json: AsJson = False,
) -> None:
    """Every field of one entry, its hash and the hash before it."""
    with _hub() as hub:
        record = hub.audit.get(seq)
    if record is None:
        errors.print(f"no audit entry {seq}", markup=False)
        raise typer.Exit(1)
    fields = _record_json(record)
    if as_json:
        console.print_json(json.dumps(fields))
        return
    for name, value in fields.items():
        if value is not None:
            console.print(f"{name:>13}: {escape(str(value))}", soft_wrap=True)


@audit_app.command("verify")
def verify_command(as_json: AsJson = False) -> None:
    """Walk the whole chain; exit 0 if intact, 1 naming the first broken row and why."""
    with _hub() as hub:
        verification = hub.audit.verify()
    if as_json:
        console.print_json(json.dumps(_verification_json(verification)))
    elif verification.broken is None:
        head = verification.head
        console.print(
            f"intact: {verification.checked:,} entries; head {head.seq} {head.hash}",
            markup=False,
            soft_wrap=True,
        )
    else:
        broken = verification.broken
        errors.print(
            f"broken at {broken.seq}: {broken.reason}: {broken.detail} "
            f"({verification.checked:,} entries verified before it)",
            markup=False,
            soft_wrap=True,
        )
    raise typer.Exit(0 if verification.intact else 1)


def _record_json(record: AuditRecord) -> dict[str, Any]:
    entry = record.entry
    return {
        "seq": record.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor.name,
        "client_id": entry.actor.client_id,
        "scope": entry.actor.scope,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "before": entry.before,
        "after": entry.after,
        "outcome": str(entry.outcome),
        "reason": entry.reason,
        "previous_hash": record.previous_hash,
        "hash": record.hash,
    }


def _verification_json(verification: Verification) -> dict[str, Any]:
    broken = verification.broken
    return {
        "intact": verification.intact,
        "checked": verification.checked,
        "head": {"seq": verification.head.seq, "hash": verification.head.hash},
        "broken": None
        if broken is None
        else {"seq": broken.seq, "reason": str(broken.reason), "detail": broken.detail},
    }
