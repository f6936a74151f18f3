"""The MLLP listener's applier: what was acknowledged, applied in batches between the groups.

DESIGN.md §3: the listener's writer stores a group, decodes it and acknowledges it at once
(:meth:`~suture.services.hl7_ingest.Hl7Ingest.accept_many`); the writes a message causes
(charges, ``charge.posted`` events, statuses, encounters, master data, exception items) are
applied afterwards, up to ``batch`` messages a transaction
(:meth:`~suture.services.hl7_ingest.Hl7Ingest.apply_isolated`), by the **same writer thread**
whenever no frame waits for it (:meth:`Hl7Applier.step`). One thread writes to the database:
on SQLite the store and the apply never wait for each other's write lock (two writer threads
did, in the busy handler's sleeps of milliseconds), and they never compete for the
interpreter. The promises:

- **Bounded.** At most ``bound`` messages wait to be applied: :meth:`Hl7Applier.put` first
  applies the oldest batches while ``bound`` or more wait, so the writer, which hands its group
  over before it answers it, answers only then. The ACK path slows to the apply rate instead of
  holding more and more decoded messages in memory (at most ``bound`` plus one group).
- **Nothing lost.** A message waiting here is committed ``received``; should the process die,
  the recovery sweep (:meth:`~suture.services.hl7_ingest.Hl7Ingest.recover_page`) applies it:
  once at start-up (everything left unfinished), then every ``sweep_seconds`` for what has
  stayed unfinished longer than that (a batch that failed on storage, another process's); a
  page of ``batch`` messages a step, so a long backlog does not hold the ACKs back. The ingest
  re-reads statuses in each transaction, so a message is applied exactly once whichever path
  gets to it first.
- **Drained on stop.** :meth:`Hl7Applier.drain` applies everything handed over; the writer
  calls it before it ends.

:meth:`put`, :meth:`step` and :meth:`drain` are the writer's, one thread; :meth:`settle`,
:attr:`waiting` and :attr:`unapplied` may be called from any thread. Logs name message ids,
counts and error types, never content (DESIGN.md §6).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from suture.services.hl7_ingest import Hl7Work

#: Messages decoded and waiting to be applied before the writer applies before it answers.
DEFAULT_BOUND = 4096
#: Messages applied in one transaction at most.
DEFAULT_BATCH = 512
#: Messages waiting before the writer applies them at its first free moment; fewer wait up to
#: :data:`DEFAULT_LINGER` seconds for a frame first (a transaction costs about as much as 20
#: messages' apply: larger batches, fewer of them).
DEFAULT_MIN_BATCH = 64
DEFAULT_LINGER = 0.002
#: How often the recovery sweep runs, and how long a message must have waited to be swept.
DEFAULT_SWEEP_SECONDS = 30.0

log = logging.getLogger("suture.mllp")


class Applies(Protocol):
    """What the applier needs of the ingest."""

    def apply_isolated(self, works: Sequence[Hl7Work]) -> int: ...

    def recover_page(
        self, *, older_than: timedelta | None = None, after: str | None = None, batch: int = 256
    ) -> tuple[int, str | None]: ...


class Hl7Applier:
    """The messages acknowledged and not yet applied, and their applying (see the module
    docstring)."""

    def __init__(
        self,
        ingest: Applies,
        *,
        bound: int = DEFAULT_BOUND,
        batch: int = DEFAULT_BATCH,
        sweep_seconds: float = DEFAULT_SWEEP_SECONDS,
        min_batch: int = DEFAULT_MIN_BATCH,
        linger: float = DEFAULT_LINGER,
    ) -> None:
        if bound < 1 or batch < 1 or min_batch < 1 or sweep_seconds <= 0 or linger < 0:
            raise ValueError(
                "bound, batch and min_batch must be at least 1, sweep_seconds above 0, "
                "linger not negative"
            )
        self._ingest = ingest
        self._bound = bound
        self._batch = batch
        self._sweep_seconds = sweep_seconds
        self._min_batch = min(min_batch, batch)
        #: How long the writer waits for a frame before it applies fewer than ``min_batch``.
        self.linger = linger
        self._waiting: collections.deque[Hl7Work] = collections.deque()
        self._changed = threading.Condition()
        self._in_batch = 0
        # The sweep in progress: how old a message must be (None: any, at start-up) and the
        # page cursor; ``_sweeping`` is False between sweeps.
        self._sweeping = True
        self._sweep_older: timedelta | None = None
        self._sweep_after: str | None = None
        self._started_up = False
        self._swept_at = time.monotonic()
        #: Messages applied by this applier's batches and sweeps (for the benchmark's checks).
        self.applied = 0

    # --- the writer's ---------------------------------------------------------------------

    def put(self, works: Sequence[Hl7Work]) -> None:
        """Hand over accepted messages; first applies the oldest batches while ``bound`` or
        more wait."""
        if not works:
            return
        while len(self._waiting) >= self._bound:
            self._apply_next()
        with self._changed:
            self._waiting.extend(works)

    def pending(self) -> bool:
        """Whether :meth:`step` has work to do at once: ``min_batch`` messages waiting, or a
        sweep due or under way. Fewer messages waiting (:attr:`waiting`) are applied by a
        :meth:`step` once no frame came for :attr:`linger` seconds."""
        return len(self._waiting) >= self._min_batch or self.sweep_due()

    def sweep_due(self) -> bool:
        """Whether a sweep is due or under way: the writer runs a page of it between any two
        groups, so that a writer kept busy by its senders never starves it."""
        return self._sweeping or self.seconds_to_sweep() <= 0

    def seconds_to_sweep(self) -> float:
        """Seconds until the next periodic sweep is due (0 when it is)."""
        return max(0.0, self._sweep_seconds - (time.monotonic() - self._swept_at))

    def step(self) -> None:
        """One unit of work: a page of the sweep when one is due or under way, else a batch of
        the waiting messages."""
        if not self._sweeping and self.seconds_to_sweep() <= 0:
            self._sweeping = True
            self._sweep_older = timedelta(seconds=self._sweep_seconds)
            self._sweep_after = None
        if self._sweeping:
            self._sweep_page()
        elif self._waiting:
            self._apply_next()

    def drain(self) -> None:
        """Apply everything handed over (and finish the start-up sweep)."""
        while not self._started_up:
            self._sweep_page()
        while self._waiting:
            self._apply_next()

    # --- any thread's -----------------------------------------------------------------------

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until the start-up sweep is done and everything handed over so far is
        applied; False on ``timeout``."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._started_up and not self._waiting and not self._in_batch, timeout
            )

    @property
    def waiting(self) -> int:
        """Messages handed over and not yet taken into a batch."""
        return len(self._waiting)

    @property
    def unapplied(self) -> int:
        """Messages handed over and not yet applied: waiting, or in the batch being applied."""
        return len(self._waiting) + self._in_batch

    # --- applying ---------------------------------------------------------------------------

    def _apply_next(self) -> None:
        with self._changed:
            taken = min(len(self._waiting), self._batch)
            batch = [self._waiting.popleft() for _ in range(taken)]
            self._in_batch = taken
        try:
            self.applied += self._ingest.apply_isolated(batch)
        except Exception as error:  # the writer must go on; the sweep retries what is left
            log.error(  # no traceback: it may quote content; the type says enough
                "HL7 v2 batch of %d not applied (%s); the recovery sweep retries what is left",
                len(batch),
                type(error).__name__,
            )
        finally:
            with self._changed:
                self._in_batch = 0
                self._changed.notify_all()

    def _sweep_page(self) -> None:
        try:
            recovered, after = self._ingest.recover_page(
                older_than=self._sweep_older, after=self._sweep_after, batch=self._batch
            )
        except Exception as error:  # the next sweep starts again
            log.error(
                "HL7 v2 recovery sweep stopped (%s); the next one tries again",
                type(error).__name__,
            )
            after = None
            recovered = 0
        self.applied += recovered
        if recovered:
            log.info("HL7 v2 recovery sweep applied %d stored messages", recovered)
        self._sweep_after = after
        if after is None:
            self._sweeping = False
            self._swept_at = time.monotonic()
            if not self._started_up:
                with self._changed:
                    self._started_up = True
                    self._changed.notify_all()
