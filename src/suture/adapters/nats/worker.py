"""The loops of a ``suture worker`` process: relay, stream consumer and database sweep.

DESIGN.md §8, scale-out; :func:`run_worker` takes any :class:`MessageBus`, so the command line
runs it with the bus ``bootstrap`` wires and the integration tests with a bus of their own. Three
loops share one asyncio event loop; the synchronous database work runs in threads
(``asyncio.to_thread``), so the services stay synchronous:

- **relay** (optional): publishes committed events (:class:`~suture.services.relay.OutboxRelay`).
  Every worker may run one; PostgreSQL's ``SKIP LOCKED`` gives concurrent relays disjoint batches.
- **consumer**: fetches batches from the shared durable pull consumer and runs the due work of
  their events through :meth:`MessageBus.process_due` (``services/stream_work.py``), then
  acknowledges, only after those transactions committed. The next batch is fetched while one
  is processed (``prefetch``), so that the wait for it overlaps the database work. A failed
  handler is acknowledged too: its attempt and retry time are in the database and the sweep
  runs the retry (the module docstring of ``stream_work`` says why). When the database itself
  fails, the batch is negatively acknowledged with a delay, so NATS redelivers it later.
- **sweep**: once a second, the due work the stream does not carry (retries, re-drives, replays,
  and work older than ``stale_after`` whose message was lost), plus other work sources such as
  the outbound delivery worker.

When the database or NATS fails, a loop does not spin: each loop counts its consecutive failures
and waits a capped exponential backoff with jitter (:class:`~suture.eventlog.retry.FailureStreak`,
``WorkerOptions.backoff``) before its next try, reporting each failure once, with its attempt
number and the wait, to ``on_error``; the first round that goes through starts the count again.

A bug (an exception that is not a :class:`SutureError`) stops the whole worker: the task group
cancels the other loops and the exception propagates to the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from nats.aio.msg import Msg

from suture.adapters.nats.stream import NatsEventStream, event_id_of, nats_errors
from suture.domain.errors import SutureError
from suture.eventlog.retry import LOOP_BACKOFF, FailureStreak, LoopFailure, RetryPolicy
from suture.services.event_store import OutboxEvent
from suture.services.messagebus import MessageBus
from suture.services.relay import OutboxRelay
from suture.services.stream_work import process_delivered, sweep


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerOptions:
    """Batch sizes and intervals of the three loops (seconds unless a ``timedelta``).

    ``backoff`` is the wait of a loop after consecutive failures of the database or NATS
    (its ``max_attempts`` plays no part: the loops retry for ever).
    """

    batch: int = 500
    concurrency: int = 1
    fetch_timeout: float = 1.0
    prefetch: bool = True
    relay_batch: int = 500
    relay_interval: float = 0.1
    sweep_interval: float = 1.0
    stale_after: timedelta = timedelta(seconds=30)
    lease: timedelta = timedelta(minutes=1)
    nak_delay: float = 5.0
    backoff: RetryPolicy = LOOP_BACKOFF


@dataclass(slots=True)
class WorkerStats:
    """What the worker did: messages acknowledged, work items run per source, events relayed."""

    acknowledged: int = 0
    from_stream: int = 0
    swept: int = 0
    other: int = 0
    published: int = 0
    errors: int = 0


async def run_worker(
    bus: MessageBus,
    stream: NatsEventStream,
    stop: asyncio.Event,
    *,
    relay: OutboxRelay | None = None,
    options: WorkerOptions | None = None,
    also: Sequence[Callable[[int], int]] = (),
    on_error: Callable[[LoopFailure], None] | None = None,
    on_batch: Callable[[WorkerStats], None] | None = None,
    rand: Callable[[], float] = random.random,
) -> WorkerStats:
    """Run relay (when given), consumer and sweep until ``stop`` is set; what was done.

    Without ``on_error`` the first failure of the database or NATS is raised instead of
    retried. ``rand`` (uniform in [0, 1)) jitters the backoff.
    """
    worker = _Worker(
        bus,
        stream,
        options or WorkerOptions(),
        also=also,
        on_error=on_error,
        on_batch=on_batch,
        rand=rand,
    )
    async with asyncio.TaskGroup() as group:
        group.create_task(worker.consume(stop))
        group.create_task(worker.sweep(stop))
        if relay is not None:
            group.create_task(worker.relay(stop, relay))
    return worker.stats


class _Worker:
    def __init__(
        self,
        bus: MessageBus,
        stream: NatsEventStream,
        options: WorkerOptions,
        *,
        also: Sequence[Callable[[int], int]],
        on_error: Callable[[LoopFailure], None] | None,
        on_batch: Callable[[WorkerStats], None] | None,
        rand: Callable[[], float],
    ) -> None:
        self.bus = bus
        self.stream = stream
        self.options = options
        self.also = tuple(also)
        self.stats = WorkerStats()
        self._on_error = on_error
        self._on_batch = on_batch
        self._streaks = {
            loop: FailureStreak(loop, options.backoff, rand)
            for loop in ("consumer", "sweep", "relay")
        }

    # --- the consumer -------------------------------------------------------------------------

    async def consume(self, stop: asyncio.Event) -> None:
        """Fetch, process, acknowledge; the next batch is fetched while one is processed.

        The prefetched batch is held, unacknowledged, while the one before it runs: when the
        worker stops, it is negatively acknowledged so that NATS redelivers it at once.
        """
        following: asyncio.Task[list[Msg]] | None = None
        try:
            while not stop.is_set():
                fetching, following = following or self._fetch(), None
                try:
                    messages = await fetching
                except SutureError as error:
                    await self._back_off(stop, "consumer", error)
                    continue
                if not messages:
                    continue
                if self.options.prefetch and not stop.is_set():
                    following = self._fetch()
                try:
                    await self._handle(messages)
                except SutureError as error:  # the database or NATS failed: NATS redelivers
                    if following is not None:  # to a worker that may fare better meanwhile
                        await self._give_back(following)
                        following = None
                    await self._back_off(stop, "consumer", error)
                else:
                    self._streaks["consumer"].succeeded()
        finally:
            if following is not None:
                await self._give_back(following)

    def _fetch(self) -> asyncio.Task[list[Msg]]:
        return asyncio.create_task(
            self.stream.fetch(self.options.batch, self.options.fetch_timeout)
        )

    async def _give_back(self, fetching: asyncio.Task[list[Msg]]) -> None:
        """A prefetched batch not processed (the worker stops): redelivered now, not after
        ``ack_wait``. A failure here changes nothing that ``ack_wait`` does not repair."""
        try:
            messages = await fetching
        except SutureError:
            return
        with contextlib.suppress(SutureError):
            async with nats_errors("nak"):
                for message in messages:
                    await message.nak()

    async def _handle(self, messages: list[Msg]) -> None:
        live: list[Msg] = []
        ids: list[str] = []
        for message in messages:
            event_id = event_id_of(message)
            if event_id is None:  # not a relay's message: nothing in the database to do
                async with nats_errors("term"):
                    await message.term()
            else:
                live.append(message)
                ids.append(event_id)
        try:
            ran = await self._process(ids)
        except SutureError:
            async with nats_errors("nak"):
                for message in live:
                    await message.nak(delay=self.options.nak_delay)
            raise
        async with nats_errors("ack"):
            for message in live:
                await message.ack()
        self.stats.acknowledged += len(live)
        self.stats.from_stream += ran
        self._batch_done()

    async def _process(self, event_ids: list[str]) -> int:
        """Run the delivered events' due work, in ``concurrency`` lanes; how many items ran."""
        lanes = max(1, min(self.options.concurrency, len(event_ids)))
        if lanes == 1:
            return await asyncio.to_thread(process_delivered, self.bus, event_ids)
        shares = [event_ids[lane::lanes] for lane in range(lanes)]
        done = await asyncio.gather(
            *(asyncio.to_thread(process_delivered, self.bus, share) for share in shares)
        )
        return sum(done)

    # --- the sweep ----------------------------------------------------------------------------

    async def sweep(self, stop: asyncio.Event) -> None:
        o = self.options
        while not stop.is_set():
            try:
                swept = await asyncio.to_thread(
                    sweep, self.bus, o.batch, stale_after=o.stale_after, lease=o.lease
                )
                other = 0
                for source in self.also:
                    other += await asyncio.to_thread(source, o.batch)
            except SutureError as error:
                await self._back_off(stop, "sweep", error)
                continue
            self._streaks["sweep"].succeeded()
            self.stats.swept += swept
            self.stats.other += other
            if swept or other:
                self._batch_done()
            if swept < o.batch and other < o.batch:
                await _wait(stop, o.sweep_interval)

    # --- the relay ----------------------------------------------------------------------------

    async def relay(self, stop: asyncio.Event, relay: OutboxRelay) -> None:
        loop = asyncio.get_running_loop()

        def publish(events: Sequence[OutboxEvent]) -> None:
            # Called in the relay's thread, inside its transaction: wait for JetStream's acks.
            asyncio.run_coroutine_threadsafe(self.stream.publish_stored(events), loop).result()

        o = self.options
        while not stop.is_set():
            try:
                published = await asyncio.to_thread(relay.run_once, publish, o.relay_batch)
            except SutureError as error:
                await self._back_off(stop, "relay", error)
                continue
            self._streaks["relay"].succeeded()
            self.stats.published += published
            if published < o.relay_batch:
                await _wait(stop, o.relay_interval)

    # --- reporting ----------------------------------------------------------------------------

    async def _back_off(self, stop: asyncio.Event, loop: str, error: SutureError) -> None:
        """Report the failure of ``loop`` once and wait its backoff (or until stopped)."""
        self.stats.errors += 1
        if self._on_error is None:
            raise error
        failure = self._streaks[loop].failed(error)
        self._on_error(failure)
        await _wait(stop, failure.delay.total_seconds())

    def _batch_done(self) -> None:
        if self._on_batch is not None:
            self._on_batch(self.stats)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, waking at once when ``stop`` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


__all__ = ["WorkerOptions", "WorkerStats", "run_worker"]
