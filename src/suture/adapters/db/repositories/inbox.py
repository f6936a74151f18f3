"""The inbox repository: inbound messages with their raw bytes, one row per bytes per edge.

Duplicates are a database constraint, the unique index on ``(interface, checksum)``.
``add_if_new`` first looks the pair up, so a redelivered 50 MB file is recognised without
sending its bytes to the database again; only then does it ``INSERT … ON CONFLICT (interface,
checksum) DO NOTHING RETURNING id`` (SQLite 3.35+ and PostgreSQL spell it the same; a row back
means this statement inserted) and reads the stored row back when nothing was inserted. Two
transactions storing the same bytes at once therefore leave one row:

- on PostgreSQL (READ COMMITTED, the server default) the second ``INSERT`` waits for the first
  transaction; when that commits, it does nothing, and the next ``SELECT`` (a new snapshot under
  READ COMMITTED) sees the winner's row. Under REPEATABLE READ it would not: do not raise the
  isolation level of a unit of work that receives.
- on SQLite the engine's ``BEGIN IMMEDIATE`` (``engine.py``) serialises the two transactions, so
  the second one's lookup already finds the row. A ``DEFERRED`` engine is for readers only.

The conflict target is the index, not the primary key: an id that is already taken is an error,
never a silent duplicate. Reads select every column but ``raw`` unless asked; ``raw`` is never
part of an error message (the engine hides statement parameters, see ``engine.py``).
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from suture.adapters.db import tables as t
from suture.adapters.db.errors import StorageError, storage_errors
from suture.domain.messages import InboundMessage, MessageStatus

#: Columns written after receipt (``save_status``).
_MUTABLE = ("status", "status_reason", "attempts", "updated_at", "correlation_id", "facility_id")
#: The statuses of a message stored but not yet applied (``unfinished``).
_UNFINISHED = (MessageStatus.RECEIVED.value, MessageStatus.DECODED.value)


@functools.cache
def _insert_if_new(dialect: str) -> sa.Insert:
    """``INSERT … ON CONFLICT (interface, checksum) DO NOTHING RETURNING id``, built once per
    dialect (the ingest runs it once per stored group)."""
    table = t.inbox_messages
    insert = sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)
    conflict = insert.on_conflict_do_nothing(index_elements=["interface", "checksum"])
    return conflict.returning(table.c.id)  # a row back means this statement inserted


#: The columns an insert writes, in the order of :func:`_sqlite_row`.
_COLUMNS = ("id", "format", "interface", "source_system", "facility_id", "received_at",
            "checksum", "size", "raw", "trace_id", "status", "status_reason", "correlation_id",
            "attempts", "updated_at")  # fmt: skip


@functools.cache
def _sqlite_instant() -> Callable[[datetime], Any]:
    """The text ``UtcDateTime`` writes on SQLite, by its own processor (``types.py``)."""
    process = t.inbox_messages.c.received_at.type.bind_processor(sqlite.dialect())
    assert process is not None
    return process


@functools.cache
def _sqlite_insert_text() -> str:
    """SQLite: ``INSERT … ON CONFLICT (interface, checksum) DO NOTHING`` as the driver takes
    it, for an ``executemany`` of :func:`_sqlite_row` rows: the statement SQLAlchemy Core
    builds for the same insert, less its processing of every value of every row (which cost
    more than SQLite's insert). Built from the table's names and placeholders only."""
    marks = ", ".join(["?"] * len(_COLUMNS))
    columns = ", ".join(_COLUMNS)
    return (
        f"INSERT INTO {t.inbox_messages.name} ({columns}) VALUES ({marks}) "  # noqa: S608 (above)
        "ON CONFLICT (interface, checksum) DO NOTHING"
    )


@functools.cache
def _sqlite_update_text() -> str:
    """SQLite: the status update of :meth:`InboxRepository.save_statuses` as the driver takes
    it (see :func:`_sqlite_insert_text`); the values of :func:`_mutable_row`, then the id."""
    assignments = ", ".join(f"{name} = ?" for name in _MUTABLE)
    return f"UPDATE {t.inbox_messages.name} SET {assignments} WHERE id = ?"  # noqa: S608 (above)


def _sqlite_row(m: InboundMessage, instant: Callable[[datetime], Any]) -> tuple[Any, ...]:
    """``m``'s row as SQLite's driver takes it, in the order of :data:`_COLUMNS`."""
    return (m.id, m.format, m.interface, m.source_system, m.facility_id,
            instant(m.received_at), m.checksum, m.size, m.raw, m.trace_id, m.status.value,
            m.status_reason, m.correlation_id, m.attempts, instant(m.updated_at))  # fmt: skip


@functools.cache
def _update_statuses() -> sa.Update:
    """``UPDATE … SET`` the mutable columns ``WHERE id = :key``, for an executemany; built once
    (building a statement and its cache key costs more than a group's update)."""
    table = t.inbox_messages
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("key"))
        .values({name: sa.bindparam(name) for name in _MUTABLE})
    )


@functools.cache
def _select_statuses(lock: bool) -> sa.Select[Any]:
    """The ids and statuses of the messages ``:ids`` (expanding), built once."""
    c = t.inbox_messages.c
    query = sa.select(c.id, c.status).where(c.id.in_(sa.bindparam("ids", expanding=True)))
    return query.with_for_update() if lock else query


class InboxRepository:
    table = t.inbox_messages

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection
        self._without_raw = [column for column in self.table.c if column.name != "raw"]

    def add_if_new(self, message: InboundMessage) -> tuple[InboundMessage, bool]:
        if message.raw is None:
            raise StorageError("raw", f"message {message.id} has no raw bytes to store")
        stored = self.by_checksum(message.interface, message.checksum)
        if stored is not None:
            return stored, True
        with storage_errors(self.table.name):
            inserted = self._connection.execute(self._insert(), self._to_row(message)).first()
        if inserted is not None:
            return message, False
        stored = self.by_checksum(message.interface, message.checksum)
        if stored is None:  # the winner rolled back between our INSERT and SELECT: not stored
            raise StorageError("inbox_messages", f"message {message.id} was not stored; retry")
        return stored, True

    def add_many_if_new(
        self, messages: Sequence[InboundMessage]
    ) -> builtins.list[tuple[InboundMessage, bool]]:
        """One insert of the group (:meth:`_insert_fresh`); a row not inserted was stored
        already (a re-send) or lost a race (PostgreSQL), and only then are rows read back, as
        in :meth:`add_if_new`. New messages, the usual case, cost one statement."""
        if not messages:
            return []
        for message in messages:
            if message.raw is None:
                raise StorageError("raw", f"message {message.id} has no raw bytes to store")
        stored: dict[tuple[str, str], InboundMessage] = {}
        fresh: dict[tuple[str, str], InboundMessage] = {}
        for message in messages:
            fresh.setdefault((message.interface, message.checksum), message)
        if fresh:
            lost = self._insert_fresh(fresh, stored)
            for pair in fresh.keys() - lost:
                stored[pair] = fresh[pair]
        outcomes: builtins.list[tuple[InboundMessage, bool]] = []
        seen: set[str] = set()
        for message in messages:
            found = stored[(message.interface, message.checksum)]
            is_duplicate = found.id != message.id or found.id in seen
            seen.add(found.id)
            outcomes.append((found if is_duplicate else message, is_duplicate))
        return outcomes

    def _insert_fresh(
        self,
        fresh: dict[tuple[str, str], InboundMessage],
        stored: dict[tuple[str, str], InboundMessage],
    ) -> set[tuple[str, str]]:
        """Insert ``fresh``; the pairs stored already (their stored message put in ``stored``).

        On SQLite a plain ``executemany`` of ``INSERT … ON CONFLICT DO NOTHING`` (the driver's
        rows, :func:`_sqlite_row`), whose row count says whether every row went in (the usual
        case: nothing to read back); only when some did not are the group's rows read back, and
        a row whose id is not ours was stored before. About 0.6 of the time of the
        ``RETURNING`` form, which SQLAlchemy compiles into one multi-row statement per group
        size. Elsewhere ``RETURNING id``.
        """
        with storage_errors(self.table.name):
            if self._connection.dialect.name == "sqlite":
                instant = _sqlite_instant()
                rows = [_sqlite_row(m, instant) for m in fresh.values()]
                count = self._connection.exec_driver_sql(_sqlite_insert_text(), rows).rowcount
                if count == len(rows):
                    return set()
                found = self._by_pairs(set(fresh))
                if len(found) < len(fresh):  # cannot happen under SQLite's write lock
                    raise StorageError("inbox_messages", "a message of the group was not stored")
                lost = {pair for pair, m in fresh.items() if found[pair].id != m.id}
                stored |= {pair: found[pair] for pair in lost}
                return lost
            dicts = [self._to_row(m) for m in fresh.values()]
            inserted = set(self._connection.scalars(self._insert(), dicts))
        lost = {pair for pair, m in fresh.items() if m.id not in inserted}
        if lost:
            stored |= self._by_pairs(lost)
            missing = lost - stored.keys()
            if missing:  # the winner rolled back between our INSERT and SELECT
                raise StorageError("inbox_messages", f"{len(missing)} messages not stored")
        return lost

    def _by_pairs(self, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], InboundMessage]:
        c = self.table.c
        interfaces = {interface for interface, _ in pairs}
        checksums = {checksum for _, checksum in pairs}
        found = self._load(
            self._select().where(c.interface.in_(interfaces) & c.checksum.in_(checksums))
        )
        return {
            (m.interface, m.checksum): m.without_raw()
            for m in found
            if (m.interface, m.checksum) in pairs
        }

    def get(
        self, message_id: str, *, with_raw: bool = False, lock: bool = False
    ) -> InboundMessage | None:
        query = self._select(with_raw=with_raw).where(self.table.c.id == message_id)
        if lock:
            query = query.with_for_update()  # PostgreSQL; SQLite's writer already holds the lock
        found = self._load(query)
        return found[0] if found else None

    def by_checksum(self, interface: str, checksum: str) -> InboundMessage | None:
        c = self.table.c
        found = self._load(
            self._select().where((c.interface == interface) & (c.checksum == checksum))
        )
        return found[0] if found else None

    def save_status(self, message: InboundMessage) -> None:
        values = {name: value for name, value in self._to_row(message).items() if name in _MUTABLE}
        with storage_errors(self.table.name):
            updated = self._connection.execute(
                sa.update(self.table).where(self.table.c.id == message.id).values(values)
            ).rowcount
        if updated != 1:
            raise StorageError("inbox_messages.id", f"no stored message {message.id}")

    def save_statuses(self, messages: Sequence[InboundMessage]) -> None:
        if not messages:
            return
        if self._connection.dialect.name == "sqlite":
            instant = _sqlite_instant()
            driver_rows = [
                (m.status.value, m.status_reason, m.attempts, instant(m.updated_at),
                 m.correlation_id, m.facility_id, m.id)
                for m in messages
            ]  # fmt: skip
            with storage_errors(self.table.name):
                updated = self._connection.exec_driver_sql(
                    _sqlite_update_text(), driver_rows
                ).rowcount
            if updated != len(messages):
                raise StorageError("inbox_messages.id", "a message of the group is not stored")
            return
        rows = [
            {
                "key": m.id,
                "status": m.status.value,
                "status_reason": m.status_reason,
                "attempts": m.attempts,
                "updated_at": m.updated_at,
                "correlation_id": m.correlation_id,
                "facility_id": m.facility_id,
            }
            for m in messages
        ]
        with storage_errors(self.table.name):
            updated = self._connection.execute(_update_statuses(), rows).rowcount
        if updated not in {-1, len(messages)}:  # -1: a driver that does not count executemany
            raise StorageError("inbox_messages.id", "a message of the group is not stored")

    def statuses(
        self, message_ids: Collection[str], *, lock: bool = False
    ) -> dict[str, MessageStatus]:
        if not message_ids:
            return {}
        # FOR UPDATE on PostgreSQL; SQLite's writer already holds the lock
        query = _select_statuses(lock)
        with storage_errors(self.table.name):
            rows = self._connection.execute(query, {"ids": sorted(message_ids)}).all()
        return {row[0]: MessageStatus(row[1]) for row in rows}

    def unfinished(
        self,
        format: str,
        *,
        received_before: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> builtins.list[InboundMessage]:
        if limit < 1:
            raise StorageError("limit", f"must be at least 1, got {limit}")
        c = self.table.c
        query = (
            self._select(with_raw=True)
            .where(c.status.in_(_UNFINISHED), c.format == format)
            .order_by(c.id)
            .limit(limit)
        )
        if received_before is not None:
            query = query.where(c.received_at < received_before)
        if after is not None:
            query = query.where(c.id > after)
        return self._load(query)

    def count_by_status(self, *, interface: str | None = None) -> dict[MessageStatus, int]:
        status = self.table.c.status
        query = sa.select(status, sa.func.count()).group_by(status)
        if interface is not None:
            query = query.where(self.table.c.interface == interface)
        with storage_errors(self.table.name):
            found = {MessageStatus(name): n for name, n in self._connection.execute(query).all()}
        return {each: found.get(each, 0) for each in MessageStatus}

    def by_correlation_id(
        self, correlation_id: str, *, after: str | None = None, limit: int = 100
    ) -> builtins.list[InboundMessage]:
        return self._page(self.table.c.correlation_id == correlation_id, after, limit)

    def by_trace_id(
        self, trace_id: str, *, after: str | None = None, limit: int = 100
    ) -> builtins.list[InboundMessage]:
        return self._page(self.table.c.trace_id == trace_id, after, limit)

    def list(
        self,
        *,
        status: MessageStatus | None = None,
        interface: str | None = None,
        received_since: datetime | None = None,
        received_before: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> builtins.list[InboundMessage]:
        c = self.table.c
        conditions: builtins.list[sa.ColumnElement[bool]] = []
        if status is not None:
            conditions.append(c.status == MessageStatus(status).value)
        if interface is not None:
            conditions.append(c.interface == interface)
        if received_since is not None:
            conditions.append(c.received_at >= received_since)
        if received_before is not None:
            conditions.append(c.received_at < received_before)
        return self._page(sa.and_(sa.true(), *conditions), after, limit)

    # --- translation and queries ----------------------------------------------------------

    def _insert(self) -> sa.Insert:
        return _insert_if_new(self._connection.dialect.name)

    def _select(self, *, with_raw: bool = False) -> sa.Select[Any]:
        return sa.select(self.table) if with_raw else sa.select(*self._without_raw)

    def _page(
        self, condition: sa.ColumnElement[bool], after: str | None, limit: int
    ) -> builtins.list[InboundMessage]:
        if limit < 1:
            raise StorageError("limit", f"must be at least 1, got {limit}")
        query = self._select().where(condition).order_by(self.table.c.id).limit(limit)
        if after is not None:
            query = query.where(self.table.c.id > after)
        return self._load(query)

    def _load(self, query: sa.Select[Any]) -> builtins.list[InboundMessage]:
        with storage_errors(self.table.name):
            rows = self._connection.execute(query).all()
        return [self._from_row(row._mapping) for row in rows]

    @staticmethod
    def _to_row(message: InboundMessage) -> dict[str, Any]:
        return {
            "id": message.id,
            "format": message.format,
            "interface": message.interface,
            "source_system": message.source_system,
            "facility_id": message.facility_id,
            "received_at": message.received_at,
            "checksum": message.checksum,
            "size": message.size,
            "raw": message.raw,
            "trace_id": message.trace_id,
            "status": message.status.value,
            "status_reason": message.status_reason,
            "correlation_id": message.correlation_id,
            "attempts": message.attempts,
            "updated_at": message.updated_at,
        }

    @staticmethod
    def _from_row(row: Any) -> InboundMessage:
        raw = row.get("raw")
        return InboundMessage(
            id=row["id"],
            format=row["format"],
            interface=row["interface"],
            source_system=row["source_system"],
            facility_id=row["facility_id"],
            received_at=row["received_at"],
            checksum=row["checksum"],
            size=row["size"],
            raw=bytes(raw) if raw is not None else None,
            trace_id=row["trace_id"],
            status=MessageStatus(row["status"]),
            status_reason=row["status_reason"],
            correlation_id=row["correlation_id"],
            attempts=row["attempts"],
            updated_at=row["updated_at"],
        )
