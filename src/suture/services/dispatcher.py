"""The embedded dispatcher: runs the message bus in-process over the database event log.

DESIGN.md §3, "two transports, one code path": with no NATS configured, ``suture serve`` runs
this loop, which claims due work and executes it through :meth:`MessageBus.run_once`, exactly
like a NATS worker executes what it is sent. Any number of dispatchers may run against one
PostgreSQL database (claims skip each other's locked rows); on SQLite one writer runs at a time.

A storage failure (the database restarting, a lock timeout) does not end the loop: it is
reported once through ``on_error``, with the number of consecutive failures and the wait, and the
dispatcher waits a capped exponential backoff with jitter before trying again (``backoff``, from
one poll interval up to a minute), so a database that is down for an hour costs a line a minute,
not two a second. The first round that goes through starts the count again.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence

from suture.domain.errors import SutureError
from suture.eventlog.retry import FailureStreak, LoopFailure, RetryPolicy, polling_backoff
from suture.services.messagebus import MessageBus


class Dispatcher:
    """Loops ``run_once`` until stopped; sleeps ``poll_interval`` seconds when idle."""

    def __init__(
        self,
        bus: MessageBus,
        *,
        poll_interval: float = 0.5,
        batch: int = 500,
        sleep: Callable[[float], None] | None = None,
        on_batch: Callable[[int], None] | None = None,
        on_error: Callable[[LoopFailure], None] | None = None,
        also: Sequence[Callable[[int], int]] = (),
        backoff: RetryPolicy | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.bus = bus
        #: Other work sources run in the same loop, such as the outbound delivery worker's
        #: ``run_once``: each takes a batch size and returns how many items it took.
        self.also = tuple(also)
        self.poll_interval = poll_interval
        self.batch = batch
        self._sleep = sleep
        self._on_batch = on_batch
        self._on_error = on_error
        self._streak = FailureStreak("dispatcher", backoff or polling_backoff(poll_interval), rand)
        self.processed = 0

    def run(self, stop: threading.Event) -> int:
        """Run until ``stop`` is set; returns how many work items were taken in total."""
        while not stop.is_set():
            try:
                taken = self.bus.run_once(self.batch)
                taken += sum(source(self.batch) for source in self.also)
            except SutureError as error:
                if self._on_error is None:
                    raise
                failure = self._streak.failed(error)
                self._on_error(failure)
                self._wait(stop, failure.delay.total_seconds())
                continue
            self._streak.succeeded()
            self.processed += taken
            if taken and self._on_batch is not None:
                self._on_batch(taken)
            if not taken:
                self._wait(stop, self.poll_interval)
        return self.processed

    def _wait(self, stop: threading.Event, seconds: float) -> None:
        if self._sleep is None:
            stop.wait(seconds)  # wakes at once when stopped
        else:
            self._sleep(seconds)
