"""The audit log repository: append under the chain-head lock, stream, list (``audit_tables.py``).

``lock_head`` is ``SELECT … FROM audit_chain_head WHERE id = 1 FOR UPDATE`` on PostgreSQL, held
until the appending transaction ends, so appenders take turns and each one reads the head its
predecessor committed (READ COMMITTED re-reads the locked row). SQLite has no ``FOR UPDATE``,
and needs none: the unit of work's ``BEGIN IMMEDIATE`` holds the database's write lock already.
``extent`` reads the head and the highest sequence number in one statement, so on PostgreSQL both
come from one snapshot and a verification never mistakes a concurrent append for a break.

Rows are read back unchecked (:meth:`~suture.domain.audit.AuditEntry.restore`): a row altered
into nonsense is still returned, for the chain walk to report.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from suture.adapters.db.audit_tables import HEAD_ID, audit_chain_head, audit_log
from suture.adapters.db.errors import StorageError, storage_errors
from suture.domain.audit import Actor, AuditEntry, AuditRecord, ChainHead, Outcome

_OUTCOMES = frozenset(outcome.value for outcome in Outcome)

# The append path's statements, built once: every audited write runs all three, and building
# and keying a statement costs more than SQLite takes to run it.
_h = audit_chain_head.c
_LOCK_HEAD = sa.select(_h.seq, _h.hash, _h.mac).where(_h.id == HEAD_ID).with_for_update()
_INSERT = sa.insert(audit_log)
_MOVE_HEAD = (
    sa.update(audit_chain_head)
    .where(_h.id == HEAD_ID)
    .values(
        seq=sa.bindparam("head_seq"), hash=sa.bindparam("head_hash"), mac=sa.bindparam("head_mac")
    )
)


class AuditLogRepository:
    table = audit_log

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def lock_head(self) -> ChainHead:
        with storage_errors(audit_chain_head.name):
            row = self._connection.execute(_LOCK_HEAD).first()
        if row is None:
            raise StorageError(audit_chain_head.name, "the chain head row is missing; migrate")
        return ChainHead(row.seq, row.hash, row.mac)

    def append(self, record: AuditRecord, head: ChainHead) -> None:
        with storage_errors(self.table.name):
            self._connection.execute(_INSERT, self._to_row(record))
            self._connection.execute(
                _MOVE_HEAD, {"head_seq": head.seq, "head_hash": head.hash, "head_mac": head.mac}
            )

    def extent(self) -> tuple[ChainHead, int]:
        h = audit_chain_head.c
        highest = sa.select(sa.func.coalesce(sa.func.max(self.table.c.seq), 0)).scalar_subquery()
        query = sa.select(h.seq, h.hash, h.mac, highest.label("highest")).where(h.id == HEAD_ID)
        with storage_errors(audit_chain_head.name):
            row = self._connection.execute(query).first()
        if row is None:
            raise StorageError(audit_chain_head.name, "the chain head row is missing; migrate")
        return ChainHead(row.seq, row.hash, row.mac), int(row.highest)

    def scan(self, *, after: int, through: int, limit: int) -> builtins.list[AuditRecord]:
        c = self.table.c
        query = (
            sa.select(self.table)
            .where(c.seq > after, c.seq <= through)
            .order_by(c.seq)
            .limit(limit)
        )
        return self._load(query)

    def get(self, seq: int) -> AuditRecord | None:
        found = self._load(sa.select(self.table).where(self.table.c.seq == seq))
        return found[0] if found else None

    def list(
        self,
        *,
        action: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> builtins.list[AuditRecord]:
        if limit < 1:
            raise StorageError("limit", f"must be at least 1, got {limit}")
        c = self.table.c
        conditions: builtins.list[sa.ColumnElement[bool]] = [c.seq > after]
        if action is not None and action.endswith(".*"):
            prefix = action[:-1]  # "exception." matches exception.retry, exception.dismiss
            conditions.append(sa.func.substr(c.action, 1, len(prefix)) == prefix)
        elif action is not None:
            conditions.append(c.action == action)
        if actor is not None:
            conditions.append(c.actor == actor)
        if since is not None:
            conditions.append(c.at >= since)
        return self._load(sa.select(self.table).where(*conditions).order_by(c.seq).limit(limit))

    def _load(self, query: sa.Select[Any]) -> builtins.list[AuditRecord]:
        with storage_errors(self.table.name):
            rows = self._connection.execute(query).all()
        return [self._from_row(row) for row in rows]

    @staticmethod
    def _to_row(record: AuditRecord) -> dict[str, Any]:
        entry = record.entry
        return {
            "seq": record.seq,
            "at": entry.at,
            "actor": entry.actor.name,
            "client_id": entry.actor.client_id,
            "scope": entry.actor.scope,
            "action": entry.action,
            "target_type": entry.target_type,
            "target_id": entry.target_id,
            "before": entry.before,
            "after": entry.after,
            "outcome": str(entry.outcome),
            "reason": entry.reason,
            "previous_hash": record.previous_hash,
            "hash": record.hash,
        }

    @staticmethod
    def _from_row(row: Any) -> AuditRecord:
        outcome = Outcome(row.outcome) if row.outcome in _OUTCOMES else row.outcome
        entry = AuditEntry.restore(
            actor=Actor(row.actor, row.client_id, row.scope),
            action=row.action,
            at=row.at,
            outcome=outcome,
            target_type=row.target_type,
            target_id=row.target_id,
            before=row.before,
            after=row.after,
            reason=row.reason,
        )
        return AuditRecord(row.seq, entry, row.previous_hash, row.hash)
