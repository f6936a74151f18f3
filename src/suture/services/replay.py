"""Replay with guardrails (DESIGN.md §3 guarantee 5), and the retry of an inbound message.

A replay re-drives events to their handlers: by event id, by a time range (and type), or every
dead-lettered work item (of one handler). Guardrails:

- **Idempotent.** An event is re-driven only to the handlers that have not processed it (no
  tracking row), so replaying processed events is a no-op; this is also how a handler added
  later catches up on history: replay the range, and only it runs.
- **Dry run.** ``dry_run=True`` returns what would be re-driven and changes nothing.
- **Named.** A ``handler`` the bus does not have, or an ``event_type`` its schema registry does
  not know, is refused, naming those there are: a typo would otherwise select nothing, which
  reads as "nothing to re-drive".
- **Rate-limited.** With ``rate`` items per second, the items are made due in batches of at
  most ``rate``, one transaction each, sleeping so no second sees more; the dispatcher then runs
  them as they become due. The clock and the sleep are injected.

An inbound message is retried by taking it back to ``received`` and publishing a new
``message.received`` for it, whose idempotency key names the message and the state it was
retried from (its ``updated_at``): two operators retrying the same failure at once append one
event (and the second is refused by the status change), while a later retry of a later failure
appends its own. Decoding, when it subscribes to ``message.received``, runs again from the raw
bytes the inbox kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from suture.domain.messages import MessageStatus
from suture.eventlog.envelope import Envelope
from suture.eventlog.ids import idempotency_key
from suture.services.event_store import WorkItem, WorkStatus
from suture.services.handlers import BusError, UnknownWorkError
from suture.services.inbox import mark_message
from suture.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from suture.services.messagebus import MessageBus

PAGE = 500


class ReplayError(BusError):
    """A replay selection is ambiguous or unbounded."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaySelection:
    """Exactly one of: ``event_ids``; a range from ``since`` (to ``until``, of ``event_type``);
    ``dead_letter``. ``handler`` narrows any of them to one handler."""

    event_ids: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    event_type: str | None = None
    dead_letter: bool = False
    handler: str | None = None

    def __post_init__(self) -> None:
        ranged = self.since is not None or self.until is not None or self.event_type is not None
        modes = [bool(self.event_ids), ranged, self.dead_letter]
        if sum(modes) != 1:
            raise ReplayError(
                "selection", "give exactly one of: event ids, a time range, dead letter"
            )
        if ranged and self.since is None:
            raise ReplayError("since", "a range replay needs a start; the whole log is too much")


@dataclass(frozen=True, slots=True)
class Report:
    """What a replay re-drove (or, in a dry run, would): ``items`` are (handler, event id)."""

    dry_run: bool
    items: tuple[tuple[str, str], ...]
    already_processed: int
    events: int


def replay(
    bus: MessageBus,
    selection: ReplaySelection,
    *,
    dry_run: bool = False,
    rate: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Report:
    if rate is not None and rate <= 0:
        raise ReplayError("rate", f"must be positive, got {rate}")
    if selection.handler is not None and selection.handler not in bus.handler_names:
        # A typo would select nothing and report "0 work items", read as "nothing to do".
        # The name is not repeated: the API's reasons never quote what was sent.
        known = ", ".join(bus.handler_names)
        raise ReplayError("handler", f"no such handler; one of: {known}")
    if selection.event_type is not None and bus.registry is not None:
        types = sorted({event_type for event_type, _ in bus.registry.versions()})
        if selection.event_type not in types:
            raise ReplayError("event_type", f"no such event type; one of: {', '.join(types)}")
    items, processed, events = _select(bus, selection)
    report = Report(dry_run, tuple(items), processed, events)
    if dry_run or not items:
        return report
    size = len(items) if rate is None else max(1, math.floor(rate))
    period = 0.0 if rate is None else size / rate
    for index in range(0, len(items), size):
        started = monotonic()
        with bus.uow() as uow:
            at = bus.clock()
            for handler, event_id in items[index : index + size]:
                uow.events.requeue(event_id, [handler], at)
            uow.commit()
        if index + size < len(items):
            wait = period - (monotonic() - started)
            if wait > 0:
                sleep(wait)
    return report


def _select(bus: MessageBus, selection: ReplaySelection) -> tuple[list[tuple[str, str]], int, int]:
    """The (handler, event id) to re-drive, how many were processed already, events seen."""
    if selection.dead_letter:
        dead = [(item.handler, item.event_id) for item in _dead(bus, selection.handler)]
        return dead, 0, len({event_id for _, event_id in dead})
    items: list[tuple[str, str]] = []
    processed = events = 0
    after: int | None = None
    while True:
        with bus.uow() as uow:  # one short transaction per page, never nested
            page = _page(uow, selection, after)
            for envelope in page:
                events += 1
                event_id = str(envelope.id)
                for handler in bus.subscribers(envelope):
                    if selection.handler is not None and handler != selection.handler:
                        continue
                    if uow.events.is_processed(handler, event_id):
                        processed += 1
                    else:
                        items.append((handler, event_id))
            if selection.event_ids or len(page) < PAGE:
                return items, processed, events
            after = uow.events.position_of(str(page[-1].id))


def _page(uow: UnitOfWork, selection: ReplaySelection, after: int | None) -> list[Envelope]:
    if selection.event_ids:
        found = []
        for event_id in selection.event_ids:
            envelope = uow.events.get(event_id)
            if envelope is None:
                raise UnknownWorkError("event_id", f"no event {event_id}")
            found.append(envelope)
        return found
    page = uow.events.events_between(
        selection.since, selection.until, event_type=selection.event_type,
        after_position=after, limit=PAGE,
    )  # fmt: skip
    return [envelope for _, envelope in page]


def _dead(bus: MessageBus, handler: str | None) -> Iterator[WorkItem]:
    after: tuple[int, str] | None = None
    while True:
        with bus.uow() as uow:
            page = uow.events.list_work(
                status=WorkStatus.DEAD, handler=handler, after=after, limit=PAGE
            )
        yield from page
        if len(page) < PAGE:
            return
        after = (page[-1].event_position, page[-1].handler)


def retry_message(bus: MessageBus, message_id: str) -> Envelope:
    """Take a parked, failed or dead-lettered message back to ``received``; publish it again."""
    at = bus.clock()
    with bus.uow() as uow:
        message = uow.inbox.get(message_id, lock=True)
        if message is None:
            raise UnknownWorkError("message_id", f"no inbound message {message_id!r}")
        mark_message(uow, message_id, MessageStatus.RECEIVED, None, at)
        envelope = bus.envelope(
            "message.received",
            {
                "message_id": message.id,
                "interface_id": message.interface,
                "format": message.format,
                "source_system": message.source_system,
                "facility_id": message.facility_id,
                "received_at": message.received_at,
                "sha256": message.checksum,
                "size_bytes": message.size,
            },
            idempotency_key=idempotency_key(
                "message.received", message.id, "retry", message.updated_at.isoformat()
            ),
            correlation_id=message.correlation_id or message.id,
            trace_id=message.trace_id,
            occurred_at=message.received_at,
            source_system=message.source_system,
            source_facility=message.facility_id,
        )
        bus.publish(uow, envelope)
        uow.commit()
    return envelope
