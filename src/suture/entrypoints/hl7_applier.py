"""The MLLP listener's background applier: what was acknowledged, applied in large batches.

DESIGN.md §3: the listener's writer stores a group, decodes it and acknowledges it at once
(:meth:`~suture.services.hl7_ingest.Hl7Ingest.accept_many`); the writes a message causes
(charges, ``charge.posted`` events, statuses, encounters, master data, exception items) are
this thread's, off the ACK path, in batches of up to ``batch`` messages a transaction
(:meth:`~suture.services.hl7_ingest.Hl7Ingest.apply_isolated`). The promises:

- **Bounded.** At most ``bound`` messages wait to be applied: a writer that hands over more
  blocks in :meth:`Hl7Applier.put` until the batch being applied is taken, before it answers
  its group; its ACKs wait, and no further group is stored meanwhile. The ACK path slows to the
  apply rate instead of holding more and more decoded messages in memory (at most ``bound``
  plus one group).
- **Nothing lost.** A message waiting here is committed ``received``; should the process die,
  the recovery sweep (:meth:`~suture.services.hl7_ingest.Hl7Ingest.recover`) applies it: once
  when this thread starts (everything left unfinished), then every ``sweep_seconds`` for what
  has stayed unfinished longer than that (a batch that failed on storage, another process's).
  The ingest re-reads statuses in each transaction, so a message is applied exactly once
  whichever path gets to it first.
- **Drained on stop.** :meth:`Hl7Applier.stop` applies everything handed over before it
  returns.

Logs name message ids, counts and error types, never content (DESIGN.md §6).
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

#: Messages decoded and waiting to be applied before the writer blocks (the ACK path's bound).
DEFAULT_BOUND = 4096
#: Messages applied in one transaction at most.
DEFAULT_BATCH = 512
#: How often the recovery sweep runs, and how long a message must have waited to be swept.
DEFAULT_SWEEP_SECONDS = 30.0

log = logging.getLogger("suture.mllp")


class Applies(Protocol):
    """What the applier needs of the ingest."""

    def apply_isolated(self, works: Sequence[Hl7Work]) -> int: ...

    def recover(self, *, older_than: timedelta | None = None, batch: int = 256) -> int: ...


class Hl7Applier:
    """One thread applying what the ACK path accepted (see the module docstring)."""

    def __init__(
        self,
        ingest: Applies,
        *,
        bound: int = DEFAULT_BOUND,
        batch: int = DEFAULT_BATCH,
        sweep_seconds: float = DEFAULT_SWEEP_SECONDS,
    ) -> None:
        if bound < 1 or batch < 1 or sweep_seconds <= 0:
            raise ValueError("bound and batch must be at least 1, sweep_seconds above 0")
        self._ingest = ingest
        self._bound = bound
        self._batch = batch
        self._sweep_seconds = sweep_seconds
        self._waiting: collections.deque[Hl7Work] = collections.deque()
        self._changed = threading.Condition()
        self._busy = True  # until the start-up sweep is done
        self._in_batch = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        #: Messages applied by this applier's batches and sweeps (for the benchmark's checks).
        self.applied = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mllp-applier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Apply everything handed over, then end the thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join()

    def put(self, works: Sequence[Hl7Work]) -> None:
        """Hand over accepted messages; blocks while ``bound`` messages or more wait."""
        if not works:
            return
        with self._changed:
            while len(self._waiting) >= self._bound and not self._stopping:
                self._changed.wait()
            self._waiting.extend(works)
            self._changed.notify_all()

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until everything handed over so far is applied; False on ``timeout``."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._waiting and not self._busy, timeout)

    @property
    def waiting(self) -> int:
        """Messages handed over and not yet taken into a batch."""
        return len(self._waiting)

    @property
    def unapplied(self) -> int:
        """Messages handed over and not yet applied: waiting, or in the batch being applied."""
        return len(self._waiting) + self._in_batch

    def _run(self) -> None:
        self._sweep(None)  # start-up: whatever a previous process acknowledged and left
        swept = time.monotonic()
        while True:
            with self._changed:
                self._busy = False
                self._in_batch = 0
                self._changed.notify_all()
                while not self._waiting and not self._stopping:
                    left = self._sweep_seconds - (time.monotonic() - swept)
                    if left <= 0:
                        break
                    self._changed.wait(left)
                if not self._waiting and self._stopping:
                    return
                taken = min(len(self._waiting), self._batch)
                batch = [self._waiting.popleft() for _ in range(taken)]
                self._in_batch = taken
                self._busy = True
                self._changed.notify_all()  # room again: a blocked writer goes on
            if batch:
                self._apply(batch)
            if time.monotonic() - swept >= self._sweep_seconds:
                self._sweep(timedelta(seconds=self._sweep_seconds))
                swept = time.monotonic()

    def _apply(self, batch: list[Hl7Work]) -> None:
        try:
            self.applied += self._ingest.apply_isolated(batch)
        except Exception as error:  # the thread must go on, or the ACK path would block
            log.error(  # no traceback: it may quote content; the type says enough
                "HL7 v2 batch of %d not applied (%s); the recovery sweep retries what is left",
                len(batch),
                type(error).__name__,
            )

    def _sweep(self, older_than: timedelta | None) -> None:
        try:
            recovered = self._ingest.recover(older_than=older_than, batch=self._batch)
        except Exception as error:  # the next sweep tries again
            log.error(
                "HL7 v2 recovery sweep stopped (%s); the next one tries again",
                type(error).__name__,
            )
            return
        self.applied += recovered
        if recovered:
            log.info("HL7 v2 recovery sweep applied %d stored messages", recovered)
