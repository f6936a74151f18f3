"""The event log store on SQLAlchemy Core: the ``EventLogRepository`` port of ``event_store.py``.

This module holds the log itself (appending, reading, ranges for replay); the work items,
tracking rows and attempts are ``handler_work.HandlerWorkStore``, which the repository extends,
and the queries that describe them for people (counts, lists, lag, the trace) live here.

Appending the same idempotency key twice at once: the second ``INSERT … ON CONFLICT DO
NOTHING`` waits for the first transaction (PostgreSQL) or for the write lock (SQLite) and
inserts nothing, nor any work.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from suture.adapters.db import eventlog_tables as t
from suture.adapters.db.errors import storage_errors
from suture.adapters.db.repositories.handler_work import (
    TEXT_ARRAY,
    HandlerWorkStore,
    checked_limit,
    insert_ignoring,
    plain_insert,
    work_item_of,
)
from suture.eventlog.envelope import Envelope
from suture.services.event_store import Attempt, Lag, Processed, WorkItem, WorkStatus

_W = t.handler_work
_E = t.events


def _payload_text(envelope: Envelope) -> str:
    return json.dumps(envelope.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _event_row(envelope: Envelope) -> dict[str, Any]:
    return {
        "id": str(envelope.id),
        "type": envelope.type,
        "schema_version": envelope.schema_version,
        "occurred_at": envelope.occurred_at,
        "recorded_at": envelope.recorded_at,
        "source_system": envelope.source_system,
        "source_facility": envelope.source_facility,
        "trace_id": envelope.trace_id,
        "correlation_id": envelope.correlation_id,
        "causation_id": None if envelope.causation_id is None else str(envelope.causation_id),
        "idempotency_key": envelope.idempotency_key,
        "payload": _payload_text(envelope),
    }


def _envelope(row: Any) -> Envelope:
    causation = row["causation_id"]
    return Envelope(
        id=UUID(row["id"]),
        type=row["type"],
        schema_version=row["schema_version"],
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        source_system=row["source_system"],
        source_facility=row["source_facility"],
        trace_id=row["trace_id"],
        correlation_id=row["correlation_id"],
        causation_id=None if causation is None else UUID(causation),
        idempotency_key=row["idempotency_key"],
        payload=json.loads(row["payload"]),
    )


class EventLogRepository(HandlerWorkStore):
    """Events, handler work, tracking rows and attempts on one connection (one transaction)."""

    # --- the log ------------------------------------------------------------------------------

    def append(self, envelope: Envelope, handlers: Sequence[str]) -> bool:
        return bool(self.append_many([(envelope, handlers)]))

    def append_many(
        self, entries: Sequence[tuple[Envelope, Sequence[str]]]
    ) -> builtins.list[Envelope]:
        # One executemany per table: SQLAlchemy's "insertmanyvalues" sends the events as
        # multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING id, position`` statements, which
        # return exactly the rows inserted (SQLite ≥ 3.35, PostgreSQL), matched here by id.
        unique: dict[str, tuple[Envelope, Sequence[str]]] = {}
        for envelope, handlers in entries:  # the first of an idempotency key wins, as in turn
            unique.setdefault(envelope.idempotency_key, (envelope, handlers))
        if not unique:
            return []
        dialect = self._connection.dialect.name
        insert = insert_ignoring(dialect, _E, ("idempotency_key",), ("id", "position"))
        rows = [_event_row(envelope) for envelope, _ in unique.values()]
        with storage_errors(_E.name):
            positions = dict(self._connection.execute(insert, rows).all())
            appended = [(e, h) for e, h in unique.values() if str(e.id) in positions]
            work = [
                self._new_work(name, str(e.id), positions[str(e.id)], e.recorded_at)
                for e, handlers in appended
                for name in dict.fromkeys(handlers)
            ]
            if work:
                self._connection.execute(plain_insert(_W), work)
        return [envelope for envelope, _ in appended]

    def get(self, event_id: str) -> Envelope | None:
        found = self._events(_E.c.id == event_id, 1)
        return found[0] if found else None

    def get_many(self, event_ids: Sequence[str]) -> dict[str, Envelope]:
        ids = list(dict.fromkeys(event_ids))
        if not ids:
            return {}
        if self._postgres:  # one statement text whatever the count (see ``_keys_in``)
            wanted = _E.c.id == sa.any_(sa.bindparam("ids", ids, type_=TEXT_ARRAY))
        else:
            wanted = _E.c.id.in_(ids)
        with storage_errors(_E.name):
            rows = self._connection.execute(sa.select(_E).where(wanted)).all()
        return {row.id: _envelope(row._mapping) for row in rows}

    def by_correlation_id(
        self, correlation_id: str, *, limit: int = 1000
    ) -> builtins.list[Envelope]:
        return self._events(_E.c.correlation_id == correlation_id, limit)

    def by_trace_id(self, trace_id: str, *, limit: int = 1000) -> builtins.list[Envelope]:
        return self._events(_E.c.trace_id == trace_id, limit)

    def events_between(
        self,
        since: datetime | None,
        until: datetime | None,
        *,
        event_type: str | None = None,
        after_position: int | None = None,
        limit: int = 1000,
    ) -> builtins.list[tuple[int, Envelope]]:
        conditions: builtins.list[sa.ColumnElement[bool]] = []
        if since is not None:
            conditions.append(_E.c.recorded_at >= since)
        if until is not None:
            conditions.append(_E.c.recorded_at < until)
        if event_type is not None:
            conditions.append(_E.c.type == event_type)
        if after_position is not None:
            conditions.append(_E.c.position > after_position)
        query = sa.select(_E).where(*conditions).order_by(_E.c.position).limit(checked_limit(limit))
        with storage_errors(_E.name):
            rows = self._connection.execute(query).all()
        return [(row.position, _envelope(row._mapping)) for row in rows]

    def _events(self, condition: sa.ColumnElement[bool], limit: int) -> builtins.list[Envelope]:
        query = sa.select(_E).where(condition).order_by(_E.c.position).limit(checked_limit(limit))
        with storage_errors(_E.name):
            rows = self._connection.execute(query).all()
        return [_envelope(row._mapping) for row in rows]

    # --- reading the state --------------------------------------------------------------------

    def counts(self) -> dict[str, dict[WorkStatus, int]]:
        query = sa.select(_W.c.handler, _W.c.status, sa.func.count()).group_by(
            _W.c.handler, _W.c.status
        )
        found: dict[str, dict[WorkStatus, int]] = {}
        with storage_errors(_W.name):
            for handler, status, count in self._connection.execute(query):
                per = found.setdefault(handler, dict.fromkeys(WorkStatus, 0))
                per[WorkStatus(status)] = count
        return found

    def list_work(
        self,
        *,
        status: WorkStatus | None = None,
        handler: str | None = None,
        after: tuple[int, str] | None = None,
        limit: int = 100,
    ) -> builtins.list[WorkItem]:
        query = self._work_select().order_by(_W.c.event_position, _W.c.handler)
        if status is not None:
            query = query.where(_W.c.status == WorkStatus(status).value)
        if handler is not None:
            query = query.where(_W.c.handler == handler)
        if after is not None:
            query = query.where(sa.tuple_(_W.c.event_position, _W.c.handler) > sa.tuple_(*after))
        with storage_errors(_W.name):
            rows = self._connection.execute(query.limit(checked_limit(limit))).all()
        return [work_item_of(row._mapping) for row in rows]

    def lag(self, *, handlers: Sequence[str] | None = None) -> Lag:
        query = (
            sa.select(sa.func.count(), sa.func.min(_E.c.recorded_at))
            .select_from(_W.join(_E, _E.c.position == _W.c.event_position))
            .where(_W.c.status == WorkStatus.PENDING.value)
        )
        if handlers is not None:
            query = query.where(_W.c.handler.in_(list(handlers)))
        with storage_errors(_W.name):
            count, oldest = self._connection.execute(query).one()
        return Lag(count, oldest)

    def attempts_of(self, event_id: str) -> builtins.list[Attempt]:
        a = t.handler_attempts
        query = sa.select(a).where(a.c.event_id == event_id).order_by(a.c.id)
        with storage_errors(a.name):
            rows = self._connection.execute(query).all()
        return [
            Attempt(
                handler=r.handler,
                event_id=r.event_id,
                attempt=r.attempt,
                at=r.at,
                error_kind=r.error_kind,
                outcome=r.outcome,
                error=r.error,
            )
            for r in rows
        ]

    def work_of(self, event_id: str) -> builtins.list[WorkItem]:
        query = self._work_select().where(_W.c.event_id == event_id).order_by(_W.c.handler)
        with storage_errors(_W.name):
            rows = self._connection.execute(query).all()
        return [work_item_of(row._mapping) for row in rows]

    def processed_of(self, event_id: str) -> builtins.list[Processed]:
        tr = t.tracking
        query = sa.select(tr).where(tr.c.event_id == event_id).order_by(tr.c.processed_at)
        with storage_errors(tr.name):
            rows = self._connection.execute(query).all()
        return [Processed(r.handler, r.event_id, r.processed_at) for r in rows]

    # --- the relay to a distributed stream (DESIGN.md §8) ---------------------------------------

    def unpublished(
        self, limit: int, *, after_position: int | None = None
    ) -> builtins.list[tuple[int, Envelope]]:
        # An anti-join, not ``position > cursor``: positions are taken at insert, not at commit,
        # so a transaction committing late can add an event below one already published.
        published = sa.exists().where(t.event_publications.c.event_id == _E.c.id)
        query = sa.select(_E).where(~published).order_by(_E.c.position)
        if after_position is not None:
            query = query.where(_E.c.position > after_position)
        query = query.limit(checked_limit(limit)).with_for_update(skip_locked=True, of=_E)
        with storage_errors(_E.name):
            rows = self._connection.execute(query).all()
        return [(row.position, _envelope(row._mapping)) for row in rows]

    def mark_published(self, event_ids: Sequence[str], at: datetime) -> None:
        if not event_ids:
            return
        table = t.event_publications
        insert = self._insert(table).on_conflict_do_nothing(index_elements=["event_id"])
        with storage_errors(table.name):
            self._connection.execute(
                insert, [{"event_id": event_id, "published_at": at} for event_id in event_ids]
            )

    def due_work(
        self, event_ids: Sequence[str], *, handlers: Sequence[str], now: datetime
    ) -> builtins.list[WorkItem]:
        if not event_ids or not handlers:
            return []
        query = (
            self._work_select()
            .where(
                _W.c.event_id.in_(list(event_ids)),
                _W.c.handler.in_(list(handlers)),
                _W.c.status == WorkStatus.PENDING.value,
                _W.c.next_attempt_at <= now,
            )
            .order_by(_W.c.event_position, _W.c.handler)
        )
        with storage_errors(_W.name):
            return [work_item_of(row._mapping) for row in self._connection.execute(query)]

    def claim_unstreamed(
        self,
        now: datetime,
        limit: int,
        *,
        handlers: Sequence[str],
        stale_before: datetime,
        lease_until: datetime,
    ) -> builtins.list[WorkItem]:
        p = t.event_publications
        due_after_publication = sa.exists().where(
            p.c.event_id == _W.c.event_id, p.c.published_at < _W.c.next_attempt_at
        )
        query = (
            self._work_select()
            .where(
                _W.c.status == WorkStatus.PENDING.value,
                _W.c.next_attempt_at <= now,
                _W.c.handler.in_(list(handlers)),
                sa.or_(_W.c.next_attempt_at <= stale_before, due_after_publication),
            )
            .order_by(_W.c.next_attempt_at, _W.c.event_position, _W.c.handler)
            .limit(checked_limit(limit))
            .with_for_update(skip_locked=True, of=_W)
        )
        with storage_errors(_W.name):
            items = [work_item_of(row._mapping) for row in self._connection.execute(query)]
        self.lease(items, lease_until)
        return items
