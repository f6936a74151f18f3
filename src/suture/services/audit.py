"""Recording actions in the hash-chained audit trail, and verifying the chain (issue 7).

Two ways to record, for the two kinds of caller:

- :meth:`AuditTrail.record` appends *inside the caller's unit of work*. An API route or a
  service that writes calls it in the transaction of the write, so the audit row commits or
  rolls back with the change it describes: no change without its record, no record of a change
  that did not happen.
- :meth:`AuditTrail.write` does both for a caller that has no unit of work yet (an API route):
  it opens one, records the write in it on success, and on failure rolls back and records the
  failure alone, then re-raises.
- :meth:`AuditTrail.record_alone` appends in a transaction of its own. For what has no write to
  ride on: a denied or failed action (its write rolled back), a read of a raw message
  (:data:`~suture.domain.audit.RAW_READ`), and an operator action through a service that commits
  on its own (the CLI's ``exceptions retry``, ``replay``, ``masterdata import``, ``migrate``),
  recorded right after its outcome is known.

Appends are serialised by the repository's :meth:`AuditLogRepository.lock_head` (the chain-head
row, locked until commit), so the chain stays linear however many processes write; the price is
that audited transactions commit one at a time. :meth:`AuditTrail.verify` streams the log in
pages of :attr:`page_size` rows, each page in a short transaction of its own, so memory stays
constant and writers are never held up for long.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from suture.domain.audit import (
    MAX_NAME,
    MAX_TEXT,
    Actor,
    AuditEntry,
    AuditKey,
    AuditRecord,
    ChainBreak,
    ChainHead,
    ChainWalk,
    Outcome,
)
from suture.domain.errors import SutureError
from suture.services.clock import Clock

if TYPE_CHECKING:  # the unit of work's port names this module's repository port
    from suture.services.unit_of_work import UnitOfWork


class AuditLogRepository(Protocol):
    """The append-only audit log and its chain head (``adapters/db/repositories/audit.py``).

    Rows are only ever inserted; sequence numbers are given by the caller (head + 1).
    """

    def lock_head(self) -> ChainHead:
        """The chain head, locked against every other appender until this transaction ends."""
        ...

    def append(self, record: AuditRecord, head: ChainHead) -> None:
        """Insert the row and move the chain head to ``head`` (which names it)."""
        ...

    def extent(self) -> tuple[ChainHead, int]:
        """The chain head and the highest stored sequence number (0: none), read together."""
        ...

    def scan(self, *, after: int, through: int, limit: int) -> builtins.list[AuditRecord]:
        """Rows with ``after < seq <= through`` in sequence order, at most ``limit``."""
        ...

    def get(self, seq: int) -> AuditRecord | None: ...

    def list(
        self,
        *,
        action: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> builtins.list[AuditRecord]:
        """Rows in sequence order after ``after``; ``action`` ending in ``.*`` is a prefix."""
        ...


@dataclass(frozen=True, slots=True)
class Verification:
    """What :meth:`AuditTrail.verify` found: rows checked, the head, the first break if any."""

    checked: int
    head: ChainHead
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


@dataclass(slots=True)
class AuditedWrite:
    """The open write of :meth:`AuditTrail.write`: do the change on ``uow``, and say what it
    changed in ``target_id``, ``before`` and ``after`` (identifiers or PHI-free summaries)."""

    uow: UnitOfWork
    target_id: str | None = None
    before: str | None = None
    after: str | None = None


class AuditTrail:
    """Append to and verify the audit chain; ``key`` comes from the hub's secret (bootstrap)."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        key: AuditKey,
        clock: Clock,
        *,
        page_size: int = 1000,
    ) -> None:
        self._uow = uow_factory
        self._key = key
        self._clock = clock
        self.page_size = page_size

    def record(
        self,
        uow: UnitOfWork,
        actor: Actor,
        action: str,
        *,
        target_type: str | None = None,
        target_id: str | None = None,
        before: str | None = None,
        after: str | None = None,
        outcome: Outcome = Outcome.SUCCESS,
        reason: str | None = None,
    ) -> AuditRecord:
        """Append one entry within ``uow``'s transaction; the caller commits (or rolls back).

        ``before``, ``after`` and ``reason`` must be PHI-free; longer than
        :data:`~suture.domain.audit.MAX_TEXT` they are cut (a target id past ``MAX_NAME`` too).
        The entry's time is read after the chain head is locked, so times never go backwards
        along the chain.
        """
        head = uow.audit.lock_head()
        entry = AuditEntry(
            actor=actor,
            action=action,
            at=self._clock(),
            outcome=outcome,
            target_type=target_type,
            target_id=_cut(target_id, MAX_NAME),
            before=_cut(before),
            after=_cut(after),
            reason=_cut(reason),
        )
        record = self._key.seal(entry, head.seq + 1, head.hash)
        uow.audit.append(record, self._key.head(record.seq, record.hash))
        return record

    def record_alone(
        self,
        actor: Actor,
        action: str,
        *,
        target_type: str | None = None,
        target_id: str | None = None,
        before: str | None = None,
        after: str | None = None,
        outcome: Outcome = Outcome.SUCCESS,
        reason: str | None = None,
    ) -> AuditRecord:
        """:meth:`record` in a transaction of its own, committed before it returns."""
        with self._uow() as uow:
            record = self.record(
                uow,
                actor,
                action,
                target_type=target_type,
                target_id=target_id,
                before=before,
                after=after,
                outcome=outcome,
                reason=reason,
            )
            uow.commit()
        return record

    @contextmanager
    def write(
        self,
        actor: Actor,
        action: str,
        *,
        target_type: str | None = None,
        target_id: str | None = None,
    ) -> Iterator[AuditedWrite]:
        """One audited write: ``with trail.write(actor, "exception.dismiss") as w: …``.

        On success the entry is recorded last in the write's transaction, which then commits.
        If the block (or the commit) raises, the transaction rolls back, the action is recorded
        as failed in a transaction of its own, and the exception propagates. The reason is the
        error's message for a :class:`SutureError` (which names field and reason, never PHI) and
        only the exception's type for anything else, whose message could quote data.
        """
        failure: Exception | None = None
        with self._uow() as uow:
            write = AuditedWrite(uow, target_id)
            try:
                yield write
                self.record(
                    uow, actor, action, target_type=target_type, target_id=write.target_id,
                    before=write.before, after=write.after,
                )  # fmt: skip
                uow.commit()
            except Exception as error:  # recorded below, once the transaction is rolled back
                failure = error
        if failure is not None:
            reason = str(failure) if isinstance(failure, SutureError) else type(failure).__name__
            self.record_alone(
                actor, action, target_type=target_type, target_id=write.target_id,
                before=write.before, outcome=Outcome.FAILED, reason=reason,
            )  # fmt: skip
            raise failure

    def verify(self) -> Verification:
        """Walk the whole chain, as it was when the walk began, and report its first break."""
        with self._uow() as uow:
            head, last = uow.audit.extent()
        walk = ChainWalk(self._key, head)
        after = 0
        while walk.broken is None and after < last:
            with self._uow() as uow:
                page = uow.audit.scan(after=after, through=last, limit=self.page_size)
            for record in page:
                if walk.feed(record) is not None:
                    break
            if not page:
                break
            after = page[-1].seq
        return Verification(walk.checked, head, walk.finish())

    def get(self, seq: int) -> AuditRecord | None:
        with self._uow() as uow:
            return uow.audit.get(seq)

    def list(
        self,
        *,
        action: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> builtins.list[AuditRecord]:
        with self._uow() as uow:
            return uow.audit.list(action=action, actor=actor, since=since, after=after, limit=limit)


def _cut(text: str | None, limit: int = MAX_TEXT) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
