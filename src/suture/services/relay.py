"""The outbox relay: hands committed events to a distributed stream, each until acknowledged.

DESIGN.md §8, scale-out: the database stays the source of truth (events, handler work, tracking
rows); a stream such as NATS JetStream only spreads the work over many workers. The relay takes
a batch of events not yet published (``uow.events.unpublished``), records their publications,
hands them to ``publish`` and, once ``publish`` has returned (the stream acknowledged every
event), commits the transaction that recorded them (an event another relay recorded meanwhile
is left out). The events are handed over as the log stored them
(:class:`~suture.services.event_store.OutboxEvent`: the envelope's JSON written from the row,
the stored payload text copied in rather than parsed and written again). What it promises:

- **Every committed event is published**, late commits included: the batch is "events without
  a publication row", not "positions after a cursor", because PostgreSQL assigns identity values
  at insert, not in commit order, so a cursor would skip a transaction that committed late.
- **At least once, not exactly once.** A crash between ``publish`` and the commit publishes the
  batch again; the stream de-duplicates by message id (the event id) within its window, and the
  handlers' tracking rows make any later duplicate a no-op (DESIGN.md §3, guarantee 2).
- **Several relays are safe**: on PostgreSQL the batch is locked ``FOR UPDATE SKIP LOCKED``, so
  concurrent relays take disjoint batches (every worker process runs one).

Cost: the anti-join walks the log from a *horizon* rather than from the start. The horizon is
the position just below the first unpublished event a scan from it found, adopted only
``settle`` later, once every transaction that held a lower position has committed or rolled
back; every ``full_scan_every`` a scan from the start catches anything slower than that.
Between those *wide* scans, which walk every event of the last ``settle`` (a scan per batch
that grew with the rate of events, tens of thousands of rows behind each batch at a few
thousand events a second), a scan starts at the *tail*, the highest position this relay
published: the events committed since. A wide scan runs every ``wide_scan_every``, so an event
committed late, below the tail, waits that long at most; only wide scans move the horizon.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import timedelta

from suture.services.clock import Clock, system_clock
from suture.services.event_store import OutboxEvent
from suture.services.unit_of_work import UnitOfWork

#: Hands events to the stream; returns once the stream acknowledged every one, raises otherwise.
Publish = Callable[[Sequence[OutboxEvent]], None]


class OutboxRelay:
    """Publishes the event log's unpublished events through a :data:`Publish` callable."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        *,
        clock: Clock = system_clock,
        settle: timedelta = timedelta(seconds=30),
        full_scan_every: timedelta = timedelta(minutes=5),
        wide_scan_every: timedelta = timedelta(seconds=1),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._settle = settle.total_seconds()
        self._full_scan_every = full_scan_every.total_seconds()
        self._wide_scan_every = wide_scan_every.total_seconds()
        self._monotonic = monotonic
        self._horizon = 0
        self._tail = 0
        self._last_wide_scan: float | None = None
        self._candidates: deque[tuple[float, int]] = deque()
        self._last_full_scan: float | None = None
        self.published = 0

    @property
    def horizon(self) -> int:
        """Every event at or below this position was published (scans start above it)."""
        return self._horizon

    def run_once(self, publish: Publish, limit: int = 500) -> int:
        """Publish up to ``limit`` unpublished events, oldest first; how many were published.

        ``published_at`` is read before publishing, so work that fails after its delivery is
        always due later than its event's publication (``claim_unstreamed`` relies on it).
        """
        now = self._monotonic()
        full = self._last_full_scan is None or now - self._last_full_scan >= self._full_scan_every
        wide = (
            full
            or self._last_wide_scan is None
            or now - self._last_wide_scan >= self._wide_scan_every
        )
        after = None if full else self._horizon if wide else max(self._horizon, self._tail)
        at = self._clock()
        with self._uow() as uow:
            # Read and recorded at once, committed once the stream acknowledged (rolled back
            # when ``publish`` raises): what another relay recorded meanwhile is not returned.
            batch = uow.events.unpublished(limit, after_position=after, published_at=at)
            if batch:
                publish([event for _, event in batch])
                # Not waiting for the log flush: publication rows lost with a server crash
                # only publish their events again (at least once, above).
                uow.commit(durable=False)
        if full:
            self._last_full_scan = now
        if wide:
            self._last_wide_scan = now
            self._advance([position for position, _ in batch], now)
        if batch:
            self._tail = max(self._tail, batch[-1][0])
        self.published += len(batch)
        return len(batch)

    def _advance(self, positions: Sequence[int], now: float) -> None:
        if positions and positions[0] - 1 > self._horizon:
            self._candidates.append((now, positions[0] - 1))
        while self._candidates and now - self._candidates[0][0] >= self._settle:
            _, candidate = self._candidates.popleft()
            self._horizon = max(self._horizon, candidate)


__all__ = ["OutboxRelay", "Publish"]
