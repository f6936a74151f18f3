"""The exception repository: work-queue items, one active per type and subject, and their trail.

``add_if_new`` is ``INSERT … ON CONFLICT (subject, type) WHERE <active> DO NOTHING RETURNING id``
against the partial unique index of ``exception_tables.py`` (SQLite 3.35+ and PostgreSQL spell it
the same), then reads the active item back when nothing was inserted. Two transactions opening
an item for the same subject at once therefore leave one row: on PostgreSQL (READ COMMITTED) the
second ``INSERT`` waits for the first transaction and, once it commits, does nothing and reads
the winner's row; on SQLite ``BEGIN IMMEDIATE`` serialises them. Every write of an item also
appends its action to ``exception_actions`` in the same transaction, so the trail is complete.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from suture.adapters.db.errors import StorageError, storage_errors
from suture.adapters.db.exception_tables import (
    ACTIVE_PREDICATE,
    exception_actions,
    exception_items,
)
from suture.domain.exceptions import (
    ActionKind,
    Change,
    ExceptionAction,
    ExceptionItem,
    ExceptionStatus,
    ExceptionType,
)

#: Columns an item's change may write (everything but what fixes its identity and subject).
_MUTABLE = (
    "status", "facility_id", "queue", "owner", "sla_due_at", "updated_at", "reason",
    "trace_id", "correlation_id", "resolved_at", "resolved_by", "resolution_note",
)  # fmt: skip

_ACTIVE = sa.text(ACTIVE_PREDICATE)


class ExceptionRepository:
    table = exception_items

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add_if_new(self, change: Change) -> tuple[ExceptionItem, bool]:
        item = change.item
        if not item.is_active:
            raise StorageError("status", f"exception {item.id} is {item.status}; add opens items")
        with storage_errors(self.table.name):
            inserted = self._connection.execute(self._insert(), self._to_row(item)).first()
        if inserted is not None:
            self._append(change.action)
            return item, True
        found = self.find_open_for_subject(item.subject, type=item.type)
        if not found:  # the winner rolled back between our INSERT and SELECT
            raise StorageError("exception_items", f"exception {item.id} was not stored; retry")
        return found[0], False

    def get(self, item_id: str, *, lock: bool = False) -> ExceptionItem | None:
        query = sa.select(self.table).where(self.table.c.id == item_id)
        if lock:
            query = query.with_for_update()  # PostgreSQL; SQLite's writer already holds the lock
        found = self._load(query)
        return found[0] if found else None

    def save(self, change: Change) -> None:
        row = self._to_row(change.item)
        values = {name: row[name] for name in _MUTABLE}
        with storage_errors(self.table.name):
            updated = self._connection.execute(
                sa.update(self.table).where(self.table.c.id == change.item.id).values(values)
            ).rowcount
        if updated != 1:
            raise StorageError("exception_items.id", f"no stored exception {change.item.id}")
        self._append(change.action)

    def find_open_for_subject(
        self, subject: str, *, type: ExceptionType | None = None, lock: bool = False
    ) -> builtins.list[ExceptionItem]:
        """Active items of the subject (of one type, when given), oldest first."""
        query = self._active().where(self.table.c.subject == subject)
        if type is not None:
            query = query.where(self.table.c.type == ExceptionType(type).value)
        return self._load(query.with_for_update() if lock else query)

    def find_open_for_dependency(
        self, dependency: str, *, lock: bool = False
    ) -> builtins.list[ExceptionItem]:
        """Active items waiting for ``dependency``, oldest first."""
        query = self._active().where(self.table.c.dependency == dependency)
        return self._load(query.with_for_update() if lock else query)

    def list(
        self,
        *,
        statuses: Collection[ExceptionStatus] | None = None,
        type: ExceptionType | None = None,
        queue: str | None = None,
        facility_id: str | None = None,
        owner: str | None = None,
        overdue_at: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
        facility_ids: Collection[str] | None = None,
    ) -> builtins.list[ExceptionItem]:
        if limit < 1:
            raise StorageError("limit", f"must be at least 1, got {limit}")
        c = self.table.c
        conditions: builtins.list[sa.ColumnElement[bool] | sa.TextClause] = []
        if statuses is not None:
            conditions.append(c.status.in_([ExceptionStatus(s).value for s in statuses]))
        for column, value in ((c.queue, queue), (c.facility_id, facility_id), (c.owner, owner)):
            if value is not None:
                conditions.append(column == value)
        if facility_ids is not None:
            conditions.append(c.facility_id.in_(sorted(facility_ids)))
        if type is not None:
            conditions.append(c.type == ExceptionType(type).value)
        if overdue_at is not None:
            conditions.extend([_ACTIVE, c.sla_due_at <= overdue_at])
        if after is not None:
            conditions.append(c.id > after)
        query = sa.select(self.table).where(sa.true(), *conditions).order_by(c.id).limit(limit)
        return self._load(query)

    def actions(self, item_id: str) -> builtins.list[ExceptionAction]:
        """The item's trail, in the order it was written."""
        a = exception_actions.c
        query = sa.select(exception_actions).where(a.item_id == item_id).order_by(a.id)
        with storage_errors(exception_actions.name):
            rows = self._connection.execute(query).all()
        return [
            ExceptionAction(
                item_id=row.item_id,
                kind=ActionKind(row.kind),
                at=row.at,
                actor=row.actor,
                detail=row.detail,
            )
            for row in rows
        ]

    def count_by_type_status(self) -> dict[tuple[ExceptionType, ExceptionStatus], int]:
        """How many items each (type, status) has; pairs with none are left out."""
        c = self.table.c
        query = sa.select(c.type, c.status, sa.func.count()).group_by(c.type, c.status)
        with storage_errors(self.table.name):
            rows = self._connection.execute(query).all()
        return {(ExceptionType(kind), ExceptionStatus(status)): n for kind, status, n in rows}

    def count_overdue(self, at: datetime) -> int:
        """Active items whose SLA due time is at or before ``at``."""
        c = self.table.c
        query = sa.select(sa.func.count()).where(_ACTIVE, c.sla_due_at <= at)
        with storage_errors(self.table.name):
            return int(self._connection.execute(query).scalar_one())

    # --- translation and queries ----------------------------------------------------------

    def _active(self) -> sa.Select[Any]:
        return sa.select(self.table).where(_ACTIVE).order_by(self.table.c.id)

    def _insert(self) -> sa.Insert:
        dialect = self._connection.dialect.name
        insert = sqlite.insert(self.table) if dialect == "sqlite" else postgresql.insert(self.table)
        conflict = insert.on_conflict_do_nothing(
            index_elements=["subject", "type"], index_where=_ACTIVE
        )
        return conflict.returning(self.table.c.id)  # a row back means this statement inserted

    def _append(self, action: ExceptionAction) -> None:
        row = {
            "item_id": action.item_id,
            "kind": action.kind.value,
            "at": action.at,
            "actor": action.actor,
            "detail": action.detail,
        }
        with storage_errors(exception_actions.name):
            self._connection.execute(sa.insert(exception_actions), row)

    def _load(self, query: sa.Select[Any]) -> builtins.list[ExceptionItem]:
        with storage_errors(self.table.name):
            rows = self._connection.execute(query).all()
        return [self._from_row(row._mapping) for row in rows]

    @staticmethod
    def _to_row(item: ExceptionItem) -> dict[str, Any]:
        return {
            "id": item.id,
            "type": item.type.value,
            "status": item.status.value,
            "facility_id": item.facility_id,
            "queue": item.queue,
            "owner": item.owner,
            "opened_at": item.opened_at,
            "sla_due_at": item.sla_due_at,
            "updated_at": item.updated_at,
            "reason": item.reason,
            "subject": item.subject,
            "message_id": item.message_id,
            "event_id": item.event_id,
            "handler": item.handler,
            "delivery_id": item.delivery_id,
            "trace_id": item.trace_id,
            "correlation_id": item.correlation_id,
            "dependency": item.dependency,
            "resolved_at": item.resolved_at,
            "resolved_by": item.resolved_by,
            "resolution_note": item.resolution_note,
        }

    @staticmethod
    def _from_row(row: Any) -> ExceptionItem:
        values = {name: row[name] for name in row if name != "subject"}
        values["type"] = ExceptionType(values["type"])
        values["status"] = ExceptionStatus(values["status"])
        return ExceptionItem(**values)
