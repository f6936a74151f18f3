"""The port of the event log store: events, work per handler, tracking rows and attempts.

``adapters/db/repositories/eventlog.py`` implements :class:`EventLogRepository` on SQLite and
PostgreSQL; the unit of work offers it as ``uow.events``, so an event is appended in the same
transaction as the state change that raised it (the transactional outbox, DESIGN.md §3) and a
handler's effects commit together with its tracking row (guarantee 2).

A :class:`WorkItem` is one handler's share of one event: ``pending`` until done (due at
``next_attempt_at``), ``parked`` on a dependency key, or ``dead`` (dead letter). Done means
deleted, with a tracking row in its place; the tracking row stays forever, so redelivery and
replay are recognised (STYLE.md habit 3). Errors::

    SutureError
    └── AlreadyProcessedError   the (handler, event) tracking row exists: the work is done
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from suture.domain.errors import SutureError
from suture.eventlog.envelope import Envelope, to_json


class WorkStatus(StrEnum):
    PENDING = "pending"
    PARKED = "parked"
    DEAD = "dead"


#: What a claim writes in an item's ``last_error`` (:meth:`EventLogRepository.claim_attempts`).
#: Success deletes the item and a recorded failure replaces the text, so an item that still
#: carries it when claimed again was being handled by a worker that died (SIGKILL, OOM, power)
#: before its outcome was stored: the crash-loop guard of ``MessageBus`` counts that as an
#: attempt and, once the budget is spent, dead-letters the item.
IN_PROGRESS = "in progress: a worker that dies while handling it leaves this mark"


class AlreadyProcessedError(SutureError):
    """The handler has processed the event already; a redelivery or replay is a no-op.

    A handler may raise it too, when it finds its effect already applied by another path: the
    bus then records the work as done without applying anything.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkItem:
    """One handler's share of one event, while it is not done."""

    handler: str
    event_id: str
    event_position: int
    event_type: str
    status: WorkStatus
    attempts: int
    next_attempt_at: datetime
    updated_at: datetime
    last_error: str | None = None
    parked_on: str | None = None
    #: Where the store read this version of the item (PostgreSQL: its ``ctid``; SQLite: its
    #: ``rowid``, as text), so that the batch that claimed it finds it again without a search;
    #: None when unknown. A hint only: the store checks the key, and looks up by key what is
    #: no longer there.
    row: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A work item taken for a batch, with what running it needs, read in the same query:
    its event, and whether the handler has a tracking row for it already (``processed``)."""

    item: WorkItem
    envelope: Envelope
    processed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxEvent:
    """A committed event as the outbox relay hands it to the stream (DESIGN.md §8): what
    routes it, and its envelope's JSON (:func:`~suture.eventlog.envelope.to_json`'s bytes),
    written from the stored row with the stored payload text copied in, not parsed
    (:func:`~suture.eventlog.envelope.stored_to_json`)."""

    id: str
    type: str
    source_facility: str | None
    json: bytes

    @classmethod
    def of(cls, envelope: Envelope) -> OutboxEvent:
        """An envelope in hand (not read from the log) as the relay would hand it."""
        return cls(
            id=str(envelope.id),
            type=envelope.type,
            source_facility=envelope.source_facility,
            json=to_json(envelope),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """A failed attempt, as the attempt log keeps it (``outcome``: retry, park, dead_letter)."""

    handler: str
    event_id: str
    attempt: int
    at: datetime
    error_kind: str
    outcome: str
    error: str


@dataclass(frozen=True, slots=True)
class Processed:
    """A tracking row: ``handler`` processed ``event_id`` at ``processed_at``."""

    handler: str
    event_id: str
    processed_at: datetime


@dataclass(frozen=True, slots=True)
class Lag:
    """Pending work and the recording time of the oldest event it belongs to."""

    pending: int
    oldest_pending_recorded_at: datetime | None

    def age(self, now: datetime) -> timedelta:
        """How long the oldest pending event has waited; zero when nothing is pending."""
        if self.oldest_pending_recorded_at is None:
            return timedelta(0)
        return max(timedelta(0), now - self.oldest_pending_recorded_at)


class EventLogRepository(Protocol):
    """The event log store inside one unit of work; nothing here commits."""

    def append(self, envelope: Envelope, handlers: Sequence[str]) -> bool:
        """Append ``envelope`` and a pending work item, due at its ``recorded_at``, per handler.

        Returns False and writes nothing when an event with the same idempotency key exists;
        correct when two transactions append the same key at once (one row, one winner).
        """
        ...

    def append_many(self, entries: Sequence[tuple[Envelope, Sequence[str]]]) -> list[Envelope]:
        """:meth:`append` for each (envelope, handlers), with one statement per table.

        Returns the envelopes appended, in the order given: an envelope whose idempotency key
        is in the log already, or earlier in ``entries``, is left out with its work.
        """
        ...

    def get(self, event_id: str) -> Envelope | None: ...

    def get_many(self, event_ids: Sequence[str]) -> dict[str, Envelope]:
        """The events of ``event_ids`` that exist, by id: one query for a batch of work."""
        ...

    def position_of(self, event_id: str) -> int | None: ...

    def by_correlation_id(self, correlation_id: str, *, limit: int = 1000) -> list[Envelope]:
        """Events of one business key, in log order."""
        ...

    def by_trace_id(self, trace_id: str, *, limit: int = 1000) -> list[Envelope]: ...

    def events_between(
        self,
        since: datetime | None,
        until: datetime | None,
        *,
        event_type: str | None = None,
        after_position: int | None = None,
        limit: int = 1000,
    ) -> list[tuple[int, Envelope]]:
        """(position, event) recorded in ``[since, until)``, in log order, after a position."""
        ...

    def claim_due(
        self,
        now: datetime,
        limit: int,
        *,
        handlers: Sequence[str] | None = None,
        lease_until: datetime | None = None,
    ) -> list[WorkItem]:
        """Pending items due at ``now``, oldest due first, then in log order.

        On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED``, so concurrent claimers
        never get the same row. With ``lease_until`` their ``next_attempt_at`` moves there: once
        this transaction commits, other claimers leave them alone until the lease runs out (a
        crashed worker's items come back then).
        """
        ...

    def claim_batch(self, now: datetime, limit: int, *, handlers: Sequence[str]) -> list[Claimed]:
        """:meth:`claim_due` with each item's event and tracking state, in one query, not leased.

        The claim's locks keep other claimers away until this transaction ends; the caller
        leases (:meth:`lease`) what must stay away after it commits (the items that failed).
        """
        ...

    def claim_counted(
        self,
        now: datetime,
        limit: int,
        *,
        handlers: Sequence[str],
        lease_until: datetime,
    ) -> list[WorkItem]:
        """:meth:`claim_due`, then :meth:`claim_attempts` for the items without the
        :data:`IN_PROGRESS` mark (one statement on PostgreSQL); the caller commits.

        The items are returned with ``attempts`` and ``last_error`` as before the claim, in log
        order; the marked ones (left unchanged) too.
        """
        ...

    def claim_attempts(
        self, keys: Sequence[tuple[str, str]], at: datetime, lease_until: datetime
    ) -> None:
        """Count an attempt at each pending item, before its handler runs; the caller commits.

        ``attempts`` grows by one, ``next_attempt_at`` moves to ``lease_until`` (other claimers
        leave the item alone meanwhile), ``updated_at`` to ``at`` and ``last_error`` becomes
        :data:`IN_PROGRESS`. Committed on its own, one statement per 500 items, so a worker that
        dies inside a handler has spent the attempt all the same.
        """
        ...

    def lease(self, items: Sequence[WorkItem], until: datetime) -> None:
        """Move the items' ``next_attempt_at`` to ``until``, keeping other claimers away."""
        ...

    def lock_work(self, handler: str, event_id: str) -> WorkItem | None:
        """The item, locked until commit (``FOR UPDATE`` on PostgreSQL); None once done."""
        ...

    def is_processed(self, handler: str, event_id: str) -> bool: ...

    def discard(self, handler: str, event_id: str) -> bool:
        """Delete the work item of an event the handler has processed already; was there one?"""
        ...

    def complete(self, handler: str, event_id: str, at: datetime) -> None:
        """Insert the tracking row and delete the work item.

        Raises :class:`AlreadyProcessedError`, leaving the transaction usable, when the tracking
        row exists.
        """
        ...

    # --- the same for a batch of work in one transaction (``MessageBus.process_many``) --------

    def lock_many(self, keys: Sequence[tuple[str, str]]) -> list[WorkItem]:
        """The items of these (handler, event id) keys not yet done, locked as :meth:`lock_work`
        locks, in log order (so two lockers of overlapping batches take them in one order)."""
        ...

    def lock_batch(
        self, keys: Sequence[tuple[str, str]], rows: Mapping[tuple[str, str], str] | None = None
    ) -> list[Claimed]:
        """:meth:`lock_many` with each item's event and tracking state, in one query a chunk.

        ``rows``: where the claim left the items (:attr:`WorkItem.row`), found again by that
        address rather than searched for; a key whose row is not there is looked up by key.
        """
        ...

    def processed_among(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Those of the (handler, event id) keys that have a tracking row."""
        ...

    def discard_many(self, keys: Sequence[tuple[str, str]]) -> int:
        """:meth:`discard` for each key; how many work items there were."""
        ...

    def complete_many(
        self,
        keys: Sequence[tuple[str, str]],
        at: datetime,
        rows: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        """:meth:`complete` for each key, with one statement per table; ``rows`` as
        :meth:`lock_batch` takes them (the items locked by this transaction).

        Raises :class:`AlreadyProcessedError` when any key has a tracking row already; the other
        keys may be half written then, so the caller rolls the transaction back.
        """
        ...

    def record_failure(
        self,
        handler: str,
        event_id: str,
        *,
        at: datetime,
        error_kind: str,
        error: str,
        next_attempt_at: datetime,
    ) -> WorkItem:
        """Log the failed attempt (its claim counted it) and make the item due again at
        ``next_attempt_at``."""
        ...

    def park(
        self, handler: str, event_id: str, *, at: datetime, dependency: str, error: str
    ) -> WorkItem:
        """Park the item on ``dependency``: logged, and its claim's count given back (parking
        does not spend the retry budget)."""
        ...

    def dead_letter(
        self, handler: str, event_id: str, *, at: datetime, error_kind: str, error: str
    ) -> WorkItem:
        """Log the failed attempt (its claim counted it) and move the item to dead letter."""
        ...

    def redrive(self, dependency: str, at: datetime) -> list[WorkItem]:
        """Make every item parked on ``dependency`` pending and due at ``at``; the items."""
        ...

    def retry(self, handler: str, event_id: str, at: datetime) -> WorkItem | None:
        """A dead or parked item back to pending, due at ``at``, its attempts reset.

        A pending item is left as it is; None when there is no item.
        """
        ...

    def requeue(self, event_id: str, handlers: Sequence[str], at: datetime) -> list[str]:
        """Make the event due for each handler that has not processed it; those handlers.

        A missing work item is created; a dead or parked one is retried as :meth:`retry` does.
        """
        ...

    def counts(self) -> dict[str, dict[WorkStatus, int]]:
        """Work items per handler and status (every status present, zero included)."""
        ...

    def list_work(
        self,
        *,
        status: WorkStatus | None = None,
        handler: str | None = None,
        after: tuple[int, str] | None = None,
        limit: int = 100,
    ) -> list[WorkItem]:
        """Items in log order (event position, handler), those after ``after``."""
        ...

    def lag(self, *, handlers: Sequence[str] | None = None) -> Lag: ...

    def attempts_of(self, event_id: str) -> list[Attempt]:
        """Every failed attempt at the event, by any handler, oldest first."""
        ...

    def work_of(self, event_id: str) -> list[WorkItem]:
        """The event's work items not yet done, by handler."""
        ...

    def processed_of(self, event_id: str) -> list[Processed]:
        """The tracking rows of the event, in the order they were written."""
        ...

    # --- the relay and the workers of a distributed stream (DESIGN.md §8) ---------------------

    def unpublished(
        self,
        limit: int,
        *,
        after_position: int | None = None,
        published_at: datetime | None = None,
    ) -> list[tuple[int, OutboxEvent]]:
        """(position, event) not yet published to the stream, in log order, after a position;
        each event as the stream carries it, its payload as stored (not parsed).

        On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED``, so concurrent relays take
        disjoint batches. With ``published_at``, their publications are recorded too (as
        :meth:`mark_published` records them, on PostgreSQL by the same statement), and only
        the events recorded now are returned: the relay commits once the stream acknowledged.
        """
        ...

    def mark_published(self, event_ids: Sequence[str], at: datetime) -> list[str]:
        """Record the events' publication (one already recorded: no change); the ids recorded
        now, in no promised order.

        The relay records them before publishing, in the transaction it commits once the stream
        acknowledged them: an id not returned was published by another relay meanwhile.
        """
        ...

    def due_work(
        self,
        event_ids: Sequence[str],
        *,
        handlers: Sequence[str],
        now: datetime,
        lock: bool = False,
    ) -> list[WorkItem]:
        """Pending items of these events and handlers due at ``now``, in log order; with
        ``lock``, locked as :meth:`lock_many` locks (a stream worker's claim)."""
        ...

    def claim_due_of(
        self,
        event_ids: Sequence[str],
        *,
        handlers: Sequence[str],
        now: datetime,
        lease_until: datetime,
    ) -> list[WorkItem]:
        """:meth:`due_work` locked, then :meth:`claim_attempts` for the items without the
        :data:`IN_PROGRESS` mark (one statement on PostgreSQL); the caller commits: a stream
        worker's claim, as :meth:`claim_counted` is the dispatcher's.

        The items are returned as :meth:`claim_counted` returns them: ``attempts`` and
        ``last_error`` as before the claim, in log order, the marked ones (unchanged) too.
        """
        ...

    def lock_due(
        self, event_ids: Sequence[str], *, handlers: Sequence[str], now: datetime
    ) -> list[Claimed]:
        """:meth:`due_work`, locked as :meth:`lock_many` locks, each with its event and tracking
        state (:meth:`claim_batch`): a stream worker's batch, read in the transaction that runs
        it."""
        ...

    def claim_unstreamed(
        self,
        now: datetime,
        limit: int,
        *,
        handlers: Sequence[str],
        stale_before: datetime,
        lease_until: datetime,
    ) -> list[WorkItem]:
        """Due pending work the stream does not carry, leased as :meth:`claim_due` leases.

        That is work made due after its event was published (a retry, a re-drive, a replay),
        and work due since before ``stale_before`` whatever the stream did (a lost message).
        """
        ...
