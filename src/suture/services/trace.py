"""One timeline of a business key or a trace id across every hop (DESIGN.md §3 guarantee 6).

``suture trace KEY`` shows, in time order, the inbound messages and the events whose
correlation id or trace id is the key (a message that failed before it was decoded has only
its trace id: the one its ACK and its exception item name), every failed attempt of a handler
at those events, the tracking rows of handlers that processed them, and the work still
pending, parked or dead.
Entries say what happened and where, never message content.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from suture.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One hop: ``kind`` is message, event, attempt, processed or work; ``ref`` its id."""

    at: datetime
    kind: str
    ref: str
    detail: str


def timeline(
    uow_factory: Callable[[], UnitOfWork], key: str, *, limit: int = 1000
) -> list[TimelineEntry]:
    """Every hop of ``key`` (a correlation id or a trace id), oldest first."""
    entries: list[TimelineEntry] = []
    with uow_factory() as uow:
        messages = {
            m.id: m
            for m in [*uow.inbox.by_correlation_id(key, limit=limit),
                      *uow.inbox.by_trace_id(key, limit=limit)]
        }  # fmt: skip
        for message in messages.values():
            entries.append(
                TimelineEntry(
                    message.received_at,
                    "message",
                    message.id,
                    f"{message.format} on {message.interface} from {message.source_system}: "
                    f"{message.status}{_reason(message.status_reason)}",
                )
            )
        events = {
            str(e.id): e
            for e in [*uow.events.by_correlation_id(key, limit=limit),
                      *uow.events.by_trace_id(key, limit=limit)]
        }  # fmt: skip
        for event_id, envelope in events.items():
            cause = f", caused by {envelope.causation_id}" if envelope.causation_id else ""
            entries.append(
                TimelineEntry(
                    envelope.recorded_at,
                    "event",
                    event_id,
                    f"{envelope.type} v{envelope.schema_version} from {envelope.source_system}"
                    f" (correlation {envelope.correlation_id}, trace {envelope.trace_id}{cause})",
                )
            )
            for attempt in uow.events.attempts_of(event_id):
                entries.append(
                    TimelineEntry(
                        attempt.at,
                        "attempt",
                        event_id,
                        f"{attempt.handler} attempt {attempt.attempt} failed "
                        f"({attempt.error_kind}, {attempt.outcome}): {attempt.error}",
                    )
                )
            for done in uow.events.processed_of(event_id):
                entries.append(
                    TimelineEntry(done.processed_at, "processed", event_id, done.handler)
                )
            for item in uow.events.work_of(event_id):
                parked = f" on {item.parked_on}" if item.parked_on else ""
                entries.append(
                    TimelineEntry(
                        item.updated_at,
                        "work",
                        event_id,
                        f"{item.handler}: {item.status}{parked}, {item.attempts} attempts, "
                        f"next at {item.next_attempt_at.isoformat()}",
                    )
                )
    entries.sort(key=lambda entry: (entry.at, entry.kind != "message", entry.kind != "event"))
    return entries


def _reason(reason: str | None) -> str:
    return f" ({reason})" if reason else ""
