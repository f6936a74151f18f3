"""``suture exceptions``: the work queue from the terminal (DESIGN.md §5).

``list`` and ``show`` read; ``assign``, ``retry``, ``resolve`` and ``dismiss`` act, each leaving
an entry (who, when, what, why) in the item's trail. ``--by`` names who acts; it defaults to the
operating-system user, so the trail never says "someone". Each action, done or refused, is also
recorded in the audit trail (``exception.assign``, ``exception.retry``, …) with the
operating-system user as the actor, whatever ``--by`` says (docs/audit.md). Exit codes:

- 0: done;
- 1: refused: no such item, or the item's status does not allow it, or the re-drive was refused;
- 2: bad input: a missing or empty ``--reason`` / ``--note``, an unknown option value.

The commands work on ``hub.work_queue`` (a :class:`~suture.services.exceptions.WorkQueue`) and
``hub.clock``; nothing here prints message content, only the PHI-free reasons the queue keeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, NoReturn, Protocol, TypeVar

import typer
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from suture.domain.audit import Outcome
from suture.domain.errors import SutureError
from suture.domain.exceptions import (
    ACTIVE,
    DEFAULT_SLA_POLICY,
    ExceptionAction,
    ExceptionItem,
    ExceptionStatus,
    ExceptionTransitionError,
    ExceptionType,
)
from suture.entrypoints.cli.app import console, errors, open_hub
from suture.entrypoints.cli.audit import cli_actor, operator_name, record_cli_action
from suture.services.audit import AuditTrail
from suture.services.clock import Clock
from suture.services.exceptions import AuditHook, ExceptionDetail, WorkQueue
from suture.services.unit_of_work import UnitOfWork

_T = TypeVar("_T")

#: The terminal width from which ``exceptions list`` prints a table (its columns but the reason
#: take up to about 145 with the longest type, `po_acknowledgment_discrepancy`); narrower, an
#: item a block, so that the id is never cut and the reason never squeezed to a word a line.
_TABLE_WIDTH = 160

exceptions_app = typer.Typer(
    help="The exception work queue: failures typed in business terms, with owners and SLAs.",
    no_args_is_help=True,
)


class StatusFilter(StrEnum):
    """``--status``: one status, ``active`` (open or in progress) or ``all``."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
    ACTIVE = "active"
    ALL = "all"

    def statuses(self) -> frozenset[ExceptionStatus] | None:
        if self is StatusFilter.ALL:
            return None
        if self is StatusFilter.ACTIVE:
            return ACTIVE
        return frozenset({ExceptionStatus(self.value)})


class QueueHub(Protocol):
    """What these commands need of the hub."""

    work_queue: WorkQueue
    clock: Clock
    audit: AuditTrail

    def close(self) -> None: ...


By = Annotated[
    str,
    typer.Option("--by", default_factory=operator_name, help="Who acts; default: your login name."),
]
ItemId = Annotated[str, typer.Argument(help="The exception item's id.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@contextmanager
def _hub() -> Iterator[QueueHub]:
    hub: QueueHub = open_hub()
    try:
        yield hub
    finally:
        hub.close()


@exceptions_app.command("list")
def list_command(
    *,
    status: Annotated[StatusFilter, typer.Option(help="Which items.")] = StatusFilter.OPEN,
    type: Annotated[ExceptionType | None, typer.Option("--type", help="Only this type.")] = None,
    queue: Annotated[
        str | None,
        typer.Option(help=f"Only this queue: {', '.join(DEFAULT_SLA_POLICY.queues)}."),
    ] = None,
    facility: Annotated[str | None, typer.Option(help="Only this facility id.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only items assigned to OWNER.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only items past their SLA.")] = False,
    after: Annotated[str | None, typer.Option(help="The page after this item id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 100,
    as_json: AsJson = False,
) -> None:
    """Items in the order they were opened, with age and SLA."""
    if queue is not None and queue not in DEFAULT_SLA_POLICY.queues:
        _fail(f"queue: no such queue; one of: {', '.join(DEFAULT_SLA_POLICY.queues)}", 2)
    with _hub() as hub:
        if facility is not None and not hub.work_queue.knows_facility(facility):
            _fail("facility: no such facility", 2)
        items = _run(
            lambda: hub.work_queue.list(
                statuses=status.statuses(),
                type=type,
                queue=queue,
                facility_id=facility,
                owner=owner,
                overdue=overdue,
                after=after,
                limit=limit,
            )
        )
        now = hub.clock()
    if as_json:
        console.print_json(json.dumps([_item_json(item, now) for item in items]))
        return
    rows = [
        (
            item.id,
            str(item.type),
            item.facility_id or "-",
            item.queue,
            item.owner or "-",
            _duration(now - item.opened_at),
            _sla(item, now),
            item.reason,
        )
        for item in items
    ]
    _print_items(f"{len(items)} exception items ({status})", rows)


def _print_items(title: str, rows: Sequence[tuple[str, ...]]) -> None:
    """The rows of ``list`` (id, type, facility, queue, owner, age, SLA as markup, reason) as a
    table when the terminal is wide enough, else an item a block: its id on a line of its own,
    its fields on the next, its reason below, each wrapped to the terminal."""
    if console.width >= _TABLE_WIDTH:
        table = Table(title=title, show_lines=False)
        for heading in ("id", "type", "facility", "queue", "owner", "age", "SLA"):
            table.add_column(heading, no_wrap=heading in {"id", "age", "SLA"}, overflow="fold")
        table.add_column("reason", ratio=1, overflow="fold")
        for row in rows:
            table.add_row(*row[:-1], escape(row[-1]))
        console.print(table)
        return
    console.print(title, markup=False)
    for item_id, kind, facility_id, queue, owner, age, sla, reason in rows:
        where = "" if facility_id == "-" else f" at {facility_id}"
        who = "unassigned" if owner == "-" else f"owner {owner}"
        fields = escape(f"{kind}{where} · queue {queue} · {who} · opened {age} ago · ")
        console.print()
        console.print(item_id, style="bold", markup=False)
        console.print(Padding(Text.from_markup(fields + sla), (0, 0, 0, 2)))
        console.print(Padding(Text(reason), (0, 0, 0, 2)))


@exceptions_app.command("show")
def show_command(item_id: ItemId, as_json: AsJson = False) -> None:
    """Every field of one item, its links and its action history."""
    with _hub() as hub:
        detail = _run(lambda: hub.work_queue.show(item_id))
        now = hub.clock()
    if as_json:
        console.print_json(json.dumps(_detail_json(detail, now)))
        return
    item = detail.item
    fields = _item_json(item, now)
    for name, value in fields.items():
        if value is not None:
            console.print(f"{name:>16}: {escape(str(value))}", soft_wrap=True)
    if detail.message is not None:
        message = detail.message
        console.print(
            f"{'message':>16}: {message.id} {message.interface} {message.status} "
            f"received {message.received_at.isoformat()}",
            soft_wrap=True,
        )
    console.print("history:")
    for action in detail.actions:
        console.print(f"  {escape(_action_line(action))}", soft_wrap=True)


@exceptions_app.command("assign")
def assign_command(item_id: ItemId, owner: str, by: By) -> None:
    """Give the item to OWNER."""
    with _hub() as hub:
        item = _act(
            hub,
            "assign",
            item_id,
            by,
            lambda audit: hub.work_queue.assign(item_id, owner, by=by, audit=audit),
        )
    console.print(f"{item.id} assigned to {escape(item.owner or '-')}")


@exceptions_app.command("retry")
def retry_command(item_id: ItemId, by: By) -> None:
    """Re-drive the failed message, event or delivery now; the outcome closes or reopens it."""
    with _hub() as hub:
        item = _act(
            hub,
            "retry",
            item_id,
            by,
            lambda audit: hub.work_queue.retry(item_id, by=by, audit=audit),
        )
    console.print(f"{item.id} retried: now {item.status}")


@exceptions_app.command("resolve")
def resolve_command(
    item_id: ItemId,
    note: Annotated[str, typer.Option(help="What was done to fix it.")],
    by: By,
) -> None:
    """Close the item as fixed."""
    with _hub() as hub:
        item = _act(
            hub,
            "resolve",
            item_id,
            by,
            lambda audit: hub.work_queue.resolve(item_id, by=by, note=note, audit=audit),
        )
    console.print(f"{item.id} resolved")


@exceptions_app.command("dismiss")
def dismiss_command(
    item_id: ItemId,
    reason: Annotated[str, typer.Option(help="Why nothing will be done (required).")],
    by: By,
) -> None:
    """Close the item without a fix, saying why."""
    with _hub() as hub:
        item = _act(
            hub,
            "dismiss",
            item_id,
            by,
            lambda audit: hub.work_queue.dismiss(item_id, by=by, reason=reason, audit=audit),
        )
    console.print(f"{item.id} dismissed")


def _act(
    hub: QueueHub,
    verb: str,
    item_id: str,
    by: str,
    call: Callable[[AuditHook], ExceptionItem],
) -> ExceptionItem:
    """``call(audit)``, recorded in the audit trail as ``exception.<verb>`` whether it is done
    or not: a done change is recorded in its own transaction (the queue calls ``audit``), a
    refused one in a transaction of its own, as nothing else was committed."""
    before = _state(hub.work_queue, item_id)
    action = f"exception.{verb}"
    acting_as = "" if by == operator_name() else f" by={by}"

    def audit(uow: UnitOfWork, was: ExceptionItem, now: ExceptionItem) -> None:
        hub.audit.record(
            uow, cli_actor(), action, target_type="exception", target_id=item_id,
            before=_described(was), after=_described(now) + acting_as,
        )  # fmt: skip

    try:
        return call(audit)
    except SutureError as error:
        record_cli_action(
            hub.audit, action, target_type="exception", target_id=item_id, before=before,
            outcome=Outcome.FAILED, reason=str(error),
        )  # fmt: skip
        _refuse(error)


def _described(item: ExceptionItem) -> str:
    return f"status={item.status} owner={item.owner or '-'}"


def _state(queue: WorkQueue, item_id: str) -> str | None:
    """The item's status and owner before an action (None: no such item)."""
    try:
        item = queue.show(item_id).item
    except SutureError:
        return None
    return _described(item)


def _run(call: Callable[[], _T]) -> _T:
    try:
        return call()
    except SutureError as error:
        _refuse(error)


def _refuse(error: SutureError) -> NoReturn:
    if isinstance(error, ExceptionTransitionError):
        _fail(str(error), 2 if error.field in {"reason", "note"} else 1)
    _fail(str(error), 1)


def _fail(message: str, code: int) -> NoReturn:
    errors.print(f"[red]error[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def _item_json(item: ExceptionItem, now: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": item.id,
        "type": item.type.value,
        "status": item.status.value,
        "facility_id": item.facility_id,
        "queue": item.queue,
        "owner": item.owner,
        "opened_at": item.opened_at.isoformat(),
        "sla_due_at": item.sla_due_at.isoformat(),
        "overdue": item.is_overdue(now),
        "reason": item.reason,
        "subject": item.subject,
    }
    for name in ("message_id", "event_id", "handler", "delivery_id", "trace_id"):
        fields[name] = getattr(item, name)
    fields |= {
        "correlation_id": item.correlation_id,
        "dependency": item.dependency,
        "resolved_at": item.resolved_at.isoformat() if item.resolved_at else None,
        "resolved_by": item.resolved_by,
        "resolution_note": item.resolution_note,
    }
    return fields


def _detail_json(detail: ExceptionDetail, now: datetime) -> dict[str, Any]:
    message = detail.message
    return {
        "item": _item_json(detail.item, now),
        "message": None
        if message is None
        else {
            "id": message.id,
            "interface": message.interface,
            "format": message.format,
            "status": message.status.value,
            "received_at": message.received_at.isoformat(),
            "trace_id": message.trace_id,
        },
        "actions": [
            {
                "at": action.at.isoformat(),
                "actor": action.actor,
                "kind": action.kind.value,
                "detail": action.detail,
            }
            for action in detail.actions
        ],
    }


def _action_line(action: ExceptionAction) -> str:
    detail = f": {action.detail}" if action.detail else ""
    return f"{action.at.isoformat()} {action.actor} {action.kind}{detail}"


def _sla(item: ExceptionItem, now: datetime) -> str:
    if not item.is_active:
        return str(item.status)
    if item.is_overdue(now):
        return f"[red]overdue {_duration(now - item.sla_due_at)}[/red]"
    return f"due in {_duration(item.sla_due_at - now)}"


def _duration(span: timedelta) -> str:
    """``2d 4h``, ``3h 12m``, ``45m``: coarse enough to read at a glance."""
    minutes = max(int(span.total_seconds()) // 60, 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"
