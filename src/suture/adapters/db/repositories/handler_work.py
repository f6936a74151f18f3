"""Handler work, tracking rows and attempts on SQLAlchemy Core: half of ``EventLogRepository``.

Concurrency, per database:

- PostgreSQL (READ COMMITTED): :meth:`HandlerWorkStore.claim_due` selects ``FOR UPDATE OF
  handler_work SKIP LOCKED``, so two workers claiming at once take disjoint rows, and moves the
  claimed rows' ``next_attempt_at`` to the lease end, so that once it commits the others leave
  them alone. :meth:`~HandlerWorkStore.lock_work` then waits (``FOR UPDATE``) for a worker still
  holding the row and, when that worker has completed it, finds it gone.
- SQLite: one writer at a time (``BEGIN IMMEDIATE``, ``engine.py``), so plain selects suffice;
  SQLAlchemy leaves ``FOR UPDATE`` out of SQLite statements.

The tracking insert uses ``ON CONFLICT DO NOTHING`` rather than catching the unique violation,
so that "already processed" leaves a PostgreSQL transaction usable.
"""

from __future__ import annotations

import builtins
import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from suture.adapters.db import eventlog_tables as t
from suture.adapters.db.errors import StorageError, storage_errors
from suture.adapters.db.types import utc_instant
from suture.eventlog.ids import compact_json
from suture.services.event_store import (
    IN_PROGRESS,
    AlreadyProcessedError,
    WorkItem,
    WorkStatus,
)

_W = t.handler_work
_E = t.events


def work_item_of(row: Any) -> WorkItem:
    return WorkItem(
        handler=row["handler"],
        event_id=row["event_id"],
        event_position=row["event_position"],
        event_type=row["type"],
        status=WorkStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        updated_at=row["updated_at"],
        last_error=row["last_error"],
        parked_on=row["parked_on"],
        # Not ``.get``: a RowMapping finds a missing key by raising and catching inside.
        row=row["row_id"] if "row_id" in row else None,  # noqa: SIM401
    )


def _key(handler: str, event_id: str) -> sa.ColumnElement[bool]:
    return (_W.c.handler == handler) & (_W.c.event_id == event_id)


class HandlerWorkStore:
    """Work items, tracking rows and attempts on one connection (one transaction)."""

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection
        self._postgres = connection.dialect.name == "postgresql"

    def position_of(self, event_id: str) -> int | None:
        with storage_errors(_E.name):
            found = self._connection.scalar(sa.select(_E.c.position).where(_E.c.id == event_id))
        return None if found is None else int(found)

    # --- work ---------------------------------------------------------------------------------

    def claim_due(
        self,
        now: datetime,
        limit: int,
        *,
        handlers: Sequence[str] | None = None,
        lease_until: datetime | None = None,
    ) -> builtins.list[WorkItem]:
        query = (
            self._work_select()
            .where(_W.c.status == WorkStatus.PENDING.value, _W.c.next_attempt_at <= now)
            .order_by(_W.c.next_attempt_at, _W.c.event_position, _W.c.handler)
            .limit(checked_limit(limit))
            .with_for_update(skip_locked=True, of=_W)
        )
        if handlers is not None:
            query = query.where(_W.c.handler.in_(list(handlers)))
        with storage_errors(_W.name):
            items = [work_item_of(row._mapping) for row in self._connection.execute(query)]
            if lease_until is not None:
                self.lease(items, lease_until)
        return items

    def claim_counted(
        self,
        now: datetime,
        limit: int,
        *,
        handlers: Sequence[str],
        lease_until: datetime,
    ) -> builtins.list[WorkItem]:
        if not self._postgres:  # one writer: the select and the update cost the same apart
            return self._sqlite_claim_counted(now, limit, handlers, lease_until)
        with storage_errors(_W.name):
            rows = self._connection.execute(
                claim_counted_statement(),
                {"now": now, "limit": checked_limit(limit), "handlers": list(handlers),
                 "lease_until": lease_until, "mark": IN_PROGRESS},
            ).all()  # fmt: skip
        return items_before(rows)

    def _sqlite_claim_counted(
        self, now: datetime, limit: int, handlers: Sequence[str], lease_until: datetime
    ) -> builtins.list[WorkItem]:
        """SQLite: :meth:`claim_counted` as the driver's rows (:data:`SQLITE_ITEM_COLUMNS`).

        The due items are read with their ``rowid`` (:attr:`WorkItem.row`) and the fresh ones
        counted by it: the transaction holds SQLite's write lock since it began, so the rows
        just read are those updated.
        """
        names = builtins.list(dict.fromkeys(handlers))
        limit = checked_limit(limit)
        if not names:
            return []
        instant = sqlite_instant_writer()
        connection = self._connection
        with storage_errors(_W.name):
            found = connection.exec_driver_sql(
                _sqlite_claim(len(names)), (WorkStatus.PENDING.value, instant(now), *names, limit)
            ).all()
            read = sqlite_instants()
            items = [driver_item(row, read) for row in found]
            fresh = [row[10] for row in found if row[7] != IN_PROGRESS]  # their rowids
            if fresh:
                at = instant(now)
                connection.exec_driver_sql(
                    _SQLITE_COUNT_ATTEMPTS,
                    (instant(lease_until), at, IN_PROGRESS, compact_json(fresh)),
                )
        return items

    def claim_attempts(
        self, keys: Sequence[tuple[str, str]], at: datetime, lease_until: datetime
    ) -> None:
        if not self._postgres:
            instant = sqlite_instant_writer()
            with storage_errors(_W.name):
                for chunk in chunks(keys):
                    self._connection.exec_driver_sql(
                        _SQLITE_COUNT_ATTEMPTS_BY_KEYS,
                        (instant(lease_until), instant(at), IN_PROGRESS, json.dumps(chunk),
                         WorkStatus.PENDING.value),
                    )  # fmt: skip
            return
        claimed = {
            "attempts": _W.c.attempts + 1, "next_attempt_at": lease_until, "updated_at": at,
            "last_error": IN_PROGRESS,
        }  # fmt: skip
        with storage_errors(_W.name):
            for chunk in chunks(keys):
                self._connection.execute(
                    sa.update(_W)
                    .where(keys_in(_W, chunk, self._postgres))
                    .where(_W.c.status == WorkStatus.PENDING.value)
                    .values(claimed)
                )

    def lease(self, items: Sequence[WorkItem], until: datetime) -> None:
        """Move the items' ``next_attempt_at`` to ``until``: one statement per 500 items."""
        keys = [(item.handler, item.event_id) for item in items]
        with storage_errors(_W.name):
            for chunk in chunks(keys):
                self._connection.execute(
                    sa.update(_W)
                    .where(keys_in(_W, chunk, self._postgres))
                    .values(next_attempt_at=until)
                )

    def lock_work(self, handler: str, event_id: str) -> WorkItem | None:
        query = self._work_select().where(_key(handler, event_id)).with_for_update(of=_W)
        with storage_errors(_W.name):
            row = self._connection.execute(query).first()
        return None if row is None else work_item_of(row._mapping)

    def is_processed(self, handler: str, event_id: str) -> bool:
        tracked = t.tracking.c
        query = sa.select(sa.literal(1)).where(
            tracked.handler == handler, tracked.event_id == event_id
        )
        with storage_errors(t.tracking.name):
            return self._connection.scalar(query) is not None

    def discard(self, handler: str, event_id: str) -> bool:
        with storage_errors(_W.name):
            deleted = self._connection.execute(sa.delete(_W).where(_key(handler, event_id)))
        return bool(deleted.rowcount)

    def complete(self, handler: str, event_id: str, at: datetime) -> None:
        insert = self._tracking_insert()
        row = {"handler": handler, "event_id": event_id, "processed_at": at}
        with storage_errors(t.tracking.name):
            inserted = self._connection.execute(insert, row)
            if inserted.first() is None:
                raise AlreadyProcessedError(
                    "tracking", f"{handler} has already processed event {event_id}"
                )
            self._connection.execute(sa.delete(_W).where(_key(handler, event_id)))

    # --- a batch of work in one transaction -------------------------------------------------

    def lock_many(self, keys: Sequence[tuple[str, str]]) -> builtins.list[WorkItem]:
        items: builtins.list[WorkItem] = []
        with storage_errors(_W.name):
            for chunk in chunks(keys):
                query = (
                    self._work_select()
                    .where(keys_in(_W, chunk, self._postgres))
                    .order_by(_W.c.event_position, _W.c.handler)
                    .with_for_update(of=_W)
                )
                items += [work_item_of(row._mapping) for row in self._connection.execute(query)]
        return sorted(items, key=lambda item: (item.event_position, item.handler))

    def processed_among(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        tracked = t.tracking
        found: set[tuple[str, str]] = set()
        with storage_errors(tracked.name):
            for chunk in chunks(keys):
                query = sa.select(tracked.c.handler, tracked.c.event_id).where(
                    keys_in(tracked, chunk, self._postgres)
                )
                found.update((h, e) for h, e in self._connection.execute(query))
        return found

    def discard_many(self, keys: Sequence[tuple[str, str]]) -> int:
        deleted = 0
        with storage_errors(_W.name):
            for chunk in chunks(keys):
                deleted += self._connection.execute(
                    sa.delete(_W).where(keys_in(_W, chunk, self._postgres))
                ).rowcount
        return deleted

    def complete_many(
        self,
        keys: Sequence[tuple[str, str]],
        at: datetime,
        rows: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        if not keys:
            return
        unique = builtins.list(dict.fromkeys(keys))
        if not self._postgres:
            self._sqlite_complete(unique, at)
            return
        inserted: builtins.list[Any] = []
        # The work items are deleted by the same statement (a ``DELETE`` in a ``WITH``), a
        # round trip less per batch, found by their ``rows`` when every key has one (then it
        # says how many it deleted, and the rest are deleted by key).
        located = rows if rows and all(k in rows for k in unique) else None
        insert = (
            _completion(self._connection.dialect.name) if located is None
            else _completion_by_rows()
        )  # fmt: skip
        left = False
        with storage_errors(t.tracking.name):
            for chunk in chunks(unique):  # the keys as one parameter (``key_rows``), not rows
                values = {**key_values(chunk, self._postgres), "processed_at": at}
                if located is None:
                    inserted += self._connection.execute(insert, values).all()
                    continue
                values["rows"] = [located[key] for key in chunk]
                found = self._connection.execute(insert, values).all()
                left = left or any(deleted != len(chunk) for *_, deleted in found)
                inserted += [(h, e) for h, e, _ in found]
            if left:  # an item not at its row (one this transaction did not lock): by key
                self.discard_many(unique)
            _refuse_done_already(unique, inserted)

    def _sqlite_complete(self, keys: Sequence[tuple[str, str]], at: datetime) -> None:
        """SQLite: :meth:`complete_many` of unique keys as the driver's statements, the keys one
        JSON text a statement: the tracking rows, then the items deleted by key (found at
        their ``rowid`` instead, the key still checked, it cost more: the deletes from the
        table's indexes are most of it)."""
        connection = self._connection
        processed_at = sqlite_instant_writer()(at)
        inserted: builtins.list[Any] = []
        with storage_errors(t.tracking.name):
            for chunk in chunks(keys):
                listed = json.dumps(chunk)
                inserted += connection.exec_driver_sql(_SQLITE_TRACK, (processed_at, listed)).all()
            _refuse_done_already(keys, inserted)
        with storage_errors(_W.name):
            for chunk in chunks(keys):
                connection.exec_driver_sql(_SQLITE_DELETE, (json.dumps(chunk),))

    def record_failure(
        self,
        handler: str,
        event_id: str,
        *,
        at: datetime,
        error_kind: str,
        error: str,
        next_attempt_at: datetime,
    ) -> WorkItem:
        return self._fail(
            handler,
            event_id,
            at=at,
            error_kind=error_kind,
            error=error,
            outcome="retry",
            values={"status": WorkStatus.PENDING.value, "next_attempt_at": next_attempt_at},
        )

    def park(
        self, handler: str, event_id: str, *, at: datetime, dependency: str, error: str
    ) -> WorkItem:
        return self._fail(
            handler,
            event_id,
            at=at,
            error_kind="missing_dependency",
            error=error,
            outcome="park",
            values={"status": WorkStatus.PARKED.value, "parked_on": dependency},
            given_back=1,
        )

    def dead_letter(
        self, handler: str, event_id: str, *, at: datetime, error_kind: str, error: str
    ) -> WorkItem:
        return self._fail(
            handler,
            event_id,
            at=at,
            error_kind=error_kind,
            error=error,
            outcome="dead_letter",
            values={"status": WorkStatus.DEAD.value},
        )

    def redrive(self, dependency: str, at: datetime) -> builtins.list[WorkItem]:
        parked = (_W.c.parked_on == dependency) & (_W.c.status == WorkStatus.PARKED.value)
        query = self._work_select().where(parked).order_by(_W.c.event_position, _W.c.handler)
        with storage_errors(_W.name):
            items = [
                work_item_of(r._mapping)
                for r in self._connection.execute(query.with_for_update(of=_W))
            ]
            self._connection.execute(sa.update(_W).where(parked).values(self._due(at)))
        return [self._reload(item) for item in items]

    def retry(self, handler: str, event_id: str, at: datetime) -> WorkItem | None:
        item = self.lock_work(handler, event_id)
        if item is None or item.status is WorkStatus.PENDING:
            return item
        with storage_errors(_W.name):
            self._connection.execute(
                sa.update(_W)
                .where(_key(handler, event_id))
                .values({**self._due(at), "attempts": 0})
            )
        return self._reload(item)

    def requeue(self, event_id: str, handlers: Sequence[str], at: datetime) -> builtins.list[str]:
        position = self.position_of(event_id)
        if position is None:
            raise StorageError("events.id", f"no event {event_id}")
        requeued: builtins.list[str] = []
        for handler in dict.fromkeys(handlers):
            if self.is_processed(handler, event_id):
                continue
            if self.retry(handler, event_id, at) is None:
                insert = self._insert(_W).on_conflict_do_nothing(
                    index_elements=["handler", "event_id"]
                )
                with storage_errors(_W.name):
                    self._connection.execute(
                        insert, self._new_work(handler, event_id, position, at)
                    )
            requeued.append(handler)
        return requeued

    # --- machinery ----------------------------------------------------------------------------

    def _tracking_insert(self) -> Any:
        keys = ("handler", "event_id")
        return insert_ignoring(self._connection.dialect.name, t.tracking, keys, keys)

    def _insert(self, table: sa.Table) -> Any:
        return postgresql.insert(table) if self._postgres else sqlite.insert(table)

    @staticmethod
    def _work_select() -> sa.Select[Any]:
        return sa.select(_W, _E.c.type).join(_E, _E.c.position == _W.c.event_position)

    @staticmethod
    def _new_work(handler: str, event_id: str, position: int, due: datetime) -> dict[str, Any]:
        return {
            "handler": handler,
            "event_id": event_id,
            "event_position": position,
            "status": WorkStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": due,
            "last_error": None,
            "parked_on": None,
            "updated_at": due,
        }

    @staticmethod
    def _due(at: datetime) -> dict[str, Any]:
        return {
            "status": WorkStatus.PENDING.value,
            "next_attempt_at": at,
            "parked_on": None,
            "updated_at": at,
        }

    def _reload(self, item: WorkItem) -> WorkItem:
        found = self.lock_work(item.handler, item.event_id)
        if found is None:
            raise StorageError("handler_work", f"work {item.handler}/{item.event_id} vanished")
        return found

    def _fail(
        self,
        handler: str,
        event_id: str,
        *,
        at: datetime,
        error_kind: str,
        error: str,
        outcome: str,
        values: dict[str, Any],
        given_back: int = 0,
    ) -> WorkItem:
        # The claim counted the attempt (``claim_attempts``); a park gives it back.
        item = self.lock_work(handler, event_id)
        if item is None:
            raise StorageError("handler_work", f"no work for {handler} on event {event_id}")
        attempts = max(item.attempts - given_back, 0)
        with storage_errors(_W.name):
            self._connection.execute(
                sa.update(_W)
                .where(_key(handler, event_id))
                .values({**values, "attempts": attempts, "last_error": error, "updated_at": at})
            )
            self._connection.execute(
                sa.insert(t.handler_attempts),
                {
                    "handler": handler,
                    "event_id": event_id,
                    "attempt": attempts,
                    "at": at,
                    "error_kind": error_kind,
                    "outcome": outcome,
                    "error": error,
                },
            )
        return self._reload(item)


def _refuse_done_already(keys: Sequence[tuple[str, str]], inserted: Sequence[Any]) -> None:
    """Raise :class:`AlreadyProcessedError` naming a key among ``keys`` whose tracking row was
    not ``inserted`` (the ``(handler, event_id)`` rows an insert returned) by this completion."""
    if len(inserted) == len(keys):
        return
    missing = set(keys) - {(h, e) for h, e in inserted}
    handler, event_id = min(missing)
    raise AlreadyProcessedError("tracking", f"{handler} has already processed event {event_id}")


# --- SQLite: a batch's claim and completion as the driver's statements ------------------------
#
# The dispatcher's claim, lock and completion run once per batch of up to 500 items; through
# SQLAlchemy Core each row went through its result processors (four instants an item with its
# event), a ``Row`` and a mapping, and each statement through the compiled cache. Here the SQL
# text is fixed (the keys are one JSON parameter, ``json_each``), the rows are the driver's
# tuples, and each distinct instant text of a batch is parsed once (:func:`sqlite_instants`).

#: A work item with its event's type and its ``rowid`` (:attr:`WorkItem.row`), in the order
#: :func:`driver_item` reads them; ``w`` is ``handler_work``, ``e`` its event.
SQLITE_ITEM_COLUMNS = (
    "w.handler, w.event_id, w.event_position, w.status, w.attempts, w.next_attempt_at, "
    "w.updated_at, w.last_error, w.parked_on, e.type, w.rowid"
)
#: Where the items and their events are read from.
SQLITE_ITEMS_FROM = f"FROM {_W.name} AS w JOIN {_E.name} AS e ON e.position = w.event_position"


@functools.lru_cache(maxsize=8)
def _sqlite_claim(handlers: int) -> str:
    """The due pending items of ``handlers`` handlers, oldest due first then in log order, at
    most ``?`` of them: :meth:`HandlerWorkStore.claim_due`'s query (same order, same index)."""
    names = ", ".join(["?"] * handlers)
    return (
        f"SELECT {SQLITE_ITEM_COLUMNS} {SQLITE_ITEMS_FROM} "
        f"WHERE w.status = ? AND w.next_attempt_at <= ? AND w.handler IN ({names}) "
        "ORDER BY w.next_attempt_at, w.event_position, w.handler LIMIT ?"
    )


#: :meth:`HandlerWorkStore.claim_attempts` of the items at these rowids (one JSON array), read
#: pending by the same transaction. No other condition: given ``status = ?`` too, the planner
#: searched the claim index for every pending item rather than the rowids.
_SQLITE_COUNT_ATTEMPTS = (
    f"UPDATE {_W.name} SET attempts = attempts + 1, next_attempt_at = ?, "  # noqa: S608 - names
    "updated_at = ?, last_error = ? WHERE rowid IN (SELECT value FROM json_each(?))"
)

#: :meth:`HandlerWorkStore.claim_attempts` of the keys ``[[handler, event_id], …]`` (one JSON
#: text) still pending. ``+status``: a term the planner cannot search an index by, so that it
#: searches the primary key for each key; given ``status = ?`` as it is, it read every
#: pending item by the claim index instead, a cost that grew with the backlog.
_SQLITE_COUNT_ATTEMPTS_BY_KEYS = (
    f"UPDATE {_W.name} SET attempts = attempts + 1, next_attempt_at = ?, "  # noqa: S608 - names
    "updated_at = ?, last_error = ? WHERE (handler, event_id) IN (SELECT json_extract(value, "
    "'$[0]'), json_extract(value, '$[1]') FROM json_each(?)) AND +status = ?"
)

#: The tracking rows of the keys ``[[handler, event_id], …]`` (one JSON text), those inserted
#: returned (:func:`_tracking_from_keys` as the driver takes it).
_SQLITE_TRACK = (
    f"INSERT INTO {t.tracking.name} (handler, event_id, processed_at) "  # noqa: S608 - names
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), ? FROM json_each(?) "
    "WHERE true ON CONFLICT (handler, event_id) DO NOTHING RETURNING handler, event_id"
)

#: Delete the items of the keys ``[[handler, event_id], …]`` (one JSON text).
_SQLITE_DELETE = (
    f"DELETE FROM {_W.name} WHERE (handler, event_id) IN "  # noqa: S608 - the table's names only
    "(SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))"
)


def sqlite_rowid(row: str | None) -> int | None:
    """The rowid a :attr:`WorkItem.row` names on SQLite (its digits), or None: a row given in
    another form (or none) is no address here, and the item is looked up by key."""
    return int(row) if row is not None and row.isascii() and row.isdigit() else None


@functools.cache
def sqlite_instant_writer() -> Callable[[datetime], Any]:
    """The text ``UtcDateTime`` writes on SQLite, by its own processor (``types.py``)."""
    process = _W.c.updated_at.type.bind_processor(sqlite.dialect())
    assert process is not None
    return process


@functools.cache
def _sqlite_instant_reader() -> Callable[[Any], Any]:
    """The value SQLAlchemy reads for a ``UtcDateTime`` column on SQLite, by its own processor."""
    process = _W.c.updated_at.type._cached_result_processor(sqlite.dialect(), None)
    assert process is not None
    return process


_from_iso = datetime.fromisoformat
#: ``len("2025-03-03 14:05:00.000000")``: the form ``UtcDateTime`` writes on SQLite.
_STORED_LENGTH = 26


def sqlite_instants() -> Callable[[Any], Any]:
    """A reader of ``UtcDateTime`` values as SQLite stores them, giving what SQLAlchemy's own
    processor gives (the aware UTC datetime), each distinct text parsed once: the items of a
    batch share their lease and update times, the events of a publish their times.

    The stored text is the naive UTC instant the writer writes (``YYYY-MM-DD
    HH:MM:SS.ffffff``, always 26 characters); read with its offset, ``datetime.fromisoformat``
    gives it aware in UTC in one step (the processor's ``fromisoformat`` then
    ``replace(tzinfo=UTC)`` cost five times as much). Any other value goes to the processor
    itself: ``fromisoformat`` takes any character between date and time, so a date alone with
    the offset would read as a naive midnight.
    """
    seen: dict[Any, Any] = {}
    exact = _sqlite_instant_reader()

    def instant(text: Any) -> Any:
        found = seen.get(text)
        if found is None:
            if type(text) is str and len(text) == _STORED_LENGTH and text[10] == " ":
                try:
                    found = _from_iso(text + "+00:00")
                except ValueError:
                    found = exact(text)
            else:
                found = exact(text)
            seen[text] = found
        return found

    return instant


_STATUSES = {status.value: status for status in WorkStatus}
_new_item = object.__new__
# The slots' own setters: an item made by :func:`driver_item` is filled as the frozen
# dataclass's ``__init__`` fills it (``object.__setattr__`` per field), without its keyword
# handling and a name lookup per field (a third of reading an item; ``Envelope`` does the same).
(_set_handler, _set_event_id, _set_event_position, _set_event_type, _set_status, _set_attempts,
 _set_next_attempt_at, _set_updated_at, _set_last_error, _set_parked_on, _set_row) = (
    vars(WorkItem)[item.name].__set__ for item in fields(WorkItem)
)  # fmt: skip


def driver_item(row: Sequence[Any], instant: Callable[[Any], Any]) -> WorkItem:
    """The work item of a driver's row in :data:`SQLITE_ITEM_COLUMNS`' order (``instant``: a
    reader of :func:`sqlite_instants` on SQLite, :func:`pg_instant` on PostgreSQL, whose rows
    the same order: :func:`pg_item_columns`); its ``row`` is its ``rowid`` or ``ctid``, as
    text."""
    status = row[3]
    item = _new_item(WorkItem)
    _set_handler(item, row[0])
    _set_event_id(item, row[1])
    _set_event_position(item, row[2])
    _set_event_type(item, row[9])
    _set_status(item, _STATUSES[status] if status in _STATUSES else WorkStatus(status))
    _set_attempts(item, row[4])
    _set_next_attempt_at(item, instant(row[5]))
    _set_updated_at(item, instant(row[6]))
    _set_last_error(item, row[7])
    _set_parked_on(item, row[8])
    _set_row(item, str(row[10]))
    return item


@functools.cache
def insert_ignoring(
    dialect: str, table: sa.Table, keys: tuple[str, ...], returning: tuple[str, ...] = ()
) -> Any:
    """``INSERT … ON CONFLICT (keys) DO NOTHING [RETURNING …]``, built once per dialect.

    The hot paths (appending an event, completing work) run it for every event: building the
    statement anew each time cost more than executing it on SQLite.
    """
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    insert = insert.on_conflict_do_nothing(index_elements=list(keys))
    return insert.returning(*(table.c[name] for name in returning)) if returning else insert


@functools.cache
def claim_counted_statement(of_events: bool = False) -> Any:
    """PostgreSQL: :meth:`HandlerWorkStore.claim_counted` in one statement.

    ``WITH due AS (SELECT …, ctid FOR UPDATE SKIP LOCKED LIMIT :limit) UPDATE handler_work
    SET … FROM due WHERE ctid = ANY(ARRAY(SELECT ctid FROM due)) AND ctid = due.ctid AND (the
    same key) RETURNING
    handler_work.*, due.type, due.last_error AS before``: the due items are locked, those
    without the :data:`IN_PROGRESS` mark counted and leased, the marked ones written unchanged
    (they are returned all the same, for the crash-loop guard to take alone).

    The event's type is read by a subquery per item (an index probe), not a join: joined, the
    stream worker's claim (no ``LIMIT``) hashed the whole ``events`` table for its 500 items
    (20,000 events: 35 ms of its 84). ``row_id``, the address of the row version written, is
    returned for the batch to find the item again (:attr:`WorkItem.row`).

    The rows locked are found again by their physical address (``ctid``, a TID scan), not by
    key: joined by key, the planner read the whole table into a hash for every batch (500 of
    20,000 pending items: 18 ms against 5). A row whose address is not the one locked (a newer
    version, committed by another transaction meanwhile) is not updated, hence not returned:
    it stays due, unclaimed, for a later claim; only what is returned was counted.

    ``of_events``: :meth:`EventLogRepository.claim_due_of`, the due items of the events in
    ``:ids`` (one array parameter), locked in log order and waiting for a worker holding one
    (``FOR UPDATE``, as ``lock_many`` locks), without a limit.
    """
    row_id = row_address()
    event_type = sa.select(_E.c.type).where(_E.c.position == _W.c.event_position).scalar_subquery()
    due = sa.select(
        _W.c.handler,
        _W.c.event_id,
        _W.c.last_error,
        event_type.label("type"),
        row_id.label("row_id"),
    ).where(
        _W.c.status == WorkStatus.PENDING.value,
        _W.c.next_attempt_at <= sa.bindparam("now", type_=_W.c.next_attempt_at.type),
    )
    if of_events:
        due = (
            due.where(row_id == sa.any_(_addresses_of_keys()))
            .order_by(_W.c.event_position, _W.c.handler)
            .with_for_update(of=_W)
        )
    else:
        due = (
            due.where(_W.c.handler.in_(sa.bindparam("handlers", expanding=True)))
            .order_by(_W.c.next_attempt_at, _W.c.event_position, _W.c.handler)
            .limit(sa.bindparam("limit", type_=sa.Integer))
            .with_for_update(skip_locked=True, of=_W)
        )
    found = due.cte("due")
    marked = found.c.last_error == sa.bindparam("mark", type_=sa.String)
    at = sa.bindparam("now", type_=_W.c.updated_at.type)
    lease = sa.bindparam("lease_until", type_=_W.c.next_attempt_at.type)
    locked = sa.func.array(sa.select(found.c.row_id).scalar_subquery())
    return (
        sa.update(_W)
        .where(row_id == sa.any_(locked), row_id == found.c.row_id)
        .where(_W.c.handler == found.c.handler, _W.c.event_id == found.c.event_id)
        .values(
            attempts=sa.case((marked, _W.c.attempts), else_=_W.c.attempts + 1),
            next_attempt_at=sa.case((marked, _W.c.next_attempt_at), else_=lease),
            updated_at=sa.case((marked, _W.c.updated_at), else_=at),
            last_error=sa.case((marked, _W.c.last_error), else_=sa.bindparam("mark")),
        )
        .returning(*pg_item_columns(_W, found.c.type, row_id), found.c.last_error.label("before"))
    )


def _addresses_of_keys() -> sa.ColumnElement[Any]:
    """The addresses (``ctid``) of the items of ``:handlers`` × ``:ids`` (two ``text[]``), each
    found by a probe of the primary key: ``ARRAY(SELECT (SELECT x.ctid FROM handler_work x
    WHERE x.handler = h AND x.event_id = e) FROM unnest(:handlers) h, unnest(:ids) e)``.

    Given ``event_id = ANY(:ids)``, the planner, with no statistics for a table it has not
    analysed yet (or with those of a moment it held other work), read every pending item and
    filtered them (a bitmap of the claim index and the primary key: 4.0 ms for 500 of 20,000
    pending items, a cost that grows with the backlog); a correlated probe per key can only
    be an index lookup (1.2 ms, whatever the backlog). A missing key gives a null address,
    which matches nothing.
    """
    handlers = sa.func.unnest(sa.bindparam("handlers", type_=TEXT_ARRAY))
    ids = sa.func.unnest(sa.bindparam("ids", type_=TEXT_ARRAY))
    h = handlers.table_valued("h").render_derived(name="h")
    e = ids.table_valued("e").render_derived(name="e")
    other = _W.alias("x")
    probe = (
        sa.select(sa.literal_column("x.ctid"))
        .select_from(other)
        .where(other.c.handler == h.c.h, other.c.event_id == e.c.e)
        .scalar_subquery()
    )
    return sa.func.array(sa.select(probe).select_from(h).join(e, sa.true()).scalar_subquery())


def items_before(rows: Sequence[Any]) -> builtins.list[WorkItem]:
    """The items a counting claim returned (:func:`pg_item_columns`, then ``before``), as they
    were before it, in log order."""
    items = []
    for row in rows:
        item = driver_item(row, pg_instant)
        before = row[_BEFORE]
        _set_last_error(item, before)
        if before != IN_PROGRESS:  # counted just now: the item as it was before
            _set_attempts(item, row[_ATTEMPTS] - 1)
        items.append(item)
    return sorted(items, key=lambda item: (item.event_position, item.handler))


#: Where :func:`items_before` finds the attempts and the mark before the claim.
_ATTEMPTS, _BEFORE = 4, 11
#: ``timestamptz`` read as psycopg reads it, without ``UtcDateTime``'s result processor (a
#: Python call per value through the ``TypeDecorator``): :func:`pg_instant` does its work.
PLAIN_INSTANT = sa.DateTime(timezone=True)


def pg_item_columns(
    work: Any, event_type: sa.ColumnElement[Any], row_id: sa.ColumnElement[Any]
) -> builtins.list[sa.ColumnElement[Any]]:
    """PostgreSQL: a work item's columns of ``work`` (``handler_work`` or a CTE of it), its
    event's type and its row address, in :data:`SQLITE_ITEM_COLUMNS`' order, for
    :func:`driver_item` with :func:`pg_instant`.

    A batch of the bus (the claim, the lock) reads 500 items: through SQLAlchemy's result
    processing each cost a ``Row`` mapping, a dict, and a ``TypeDecorator`` call per instant;
    read by position they cost a tuple (profiles in docs/backbone.md, "Throughput").
    """
    c = work.c
    return [
        c.handler, c.event_id, c.event_position, c.status, c.attempts,
        sa.type_coerce(c.next_attempt_at, PLAIN_INSTANT).label("next_attempt_at"),
        sa.type_coerce(c.updated_at, PLAIN_INSTANT).label("updated_at"),
        c.last_error, c.parked_on, event_type.label("type"), row_id.label("row_id"),
    ]  # fmt: skip


#: A ``timestamptz`` as psycopg reads it, as ``UtcDateTime`` returns it (one function for both).
pg_instant = utc_instant


#: Most keys in one ``IN`` list (two bound parameters each).
CHUNK = 500


def chunks(keys: Sequence[tuple[str, str]]) -> Iterator[builtins.list[tuple[str, str]]]:
    unique = builtins.list(dict.fromkeys(keys))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


def key_rows(postgres: bool, **values: Any) -> sa.Select[Any]:
    """The (handler, event id) keys as rows ``h``, ``e`` of one or two parameters.

    On PostgreSQL two arrays (``unnest``), on SQLite one JSON array of pairs (``json_each``):
    the statement's text is the same whatever the number of keys, so it is compiled (and on
    PostgreSQL prepared) once, and no parameter is bound per key. ``values`` are the keys'
    parameters of :func:`key_values`, for a statement built with them; without, they are
    left to be given when it is executed.
    """
    if postgres:
        handlers = sa.bindparam("key_handlers", values.get("key_handlers"), type_=TEXT_ARRAY)
        events = sa.bindparam("key_events", values.get("key_events"), type_=TEXT_ARRAY)
        pairs = sa.func.unnest(handlers, events).table_valued("h", "e").render_derived(name="keys")
        return sa.select(pairs.c.h, pairs.c.e)
    value: sa.ColumnClause[Any] = sa.column("value")
    listed = sa.func.json_each(sa.bindparam("keys_json", values.get("keys_json"), type_=sa.Text))
    return sa.select(
        sa.func.json_extract(value, "$[0]").label("h"),
        sa.func.json_extract(value, "$[1]").label("e"),
    ).select_from(listed)


def key_values(keys: Sequence[tuple[str, str]], postgres: bool) -> dict[str, Any]:
    if postgres:
        return {"key_handlers": [h for h, _ in keys], "key_events": [e for _, e in keys]}
    return {"keys_json": json.dumps([[h, e] for h, e in keys])}


@functools.cache
def _tracking_from_keys(dialect: str) -> Any:
    """``INSERT INTO tracking SELECT key, :processed_at FROM keys ON CONFLICT DO NOTHING
    RETURNING handler, event_id``: a batch's tracking rows in one statement of fixed text."""
    postgres = dialect == "postgresql"
    keys = key_rows(postgres).subquery("keys")
    at = sa.bindparam("processed_at", type_=t.tracking.c.processed_at.type)
    rows = sa.select(keys.c.h, keys.c.e, at).where(sa.true())  # WHERE: SQLite's ON ambiguity
    insert = postgresql.insert(t.tracking) if postgres else sqlite.insert(t.tracking)
    insert = insert.from_select(["handler", "event_id", "processed_at"], rows)
    insert = insert.on_conflict_do_nothing(index_elements=["handler", "event_id"])
    return insert.returning(t.tracking.c.handler, t.tracking.c.event_id)


@functools.cache
def _completion(dialect: str) -> Any:
    """:func:`_tracking_from_keys`; on PostgreSQL with ``WITH done AS (DELETE FROM handler_work
    WHERE (handler, event_id) IN keys)`` before it: a batch's tracking rows inserted and its work
    items deleted by one statement (both read the same key parameters)."""
    insert = _tracking_from_keys(dialect)
    if dialect != "postgresql":
        return insert
    pair = sa.tuple_(_W.c.handler, _W.c.event_id)
    done = sa.delete(_W).where(pair.in_(key_rows(True))).cte("done")
    return insert.add_cte(done)


@functools.cache
def _completion_by_rows() -> Any:
    """PostgreSQL: :func:`_completion` deleting the work items at ``:rows`` (their ``ctid``,
    a TID scan) among the keys, and returning with each tracking row how many it deleted.

    Found by key, the 500 items of a batch were joined to every pending item by a hash (the
    planner's choice below about 100,000 pending items), in this delete and in
    :meth:`~suture.adapters.db.repositories.eventlog.EventLogRepository.lock_batch`.
    """
    pair = sa.tuple_(_W.c.handler, _W.c.event_id)
    done = (
        sa.delete(_W)
        .where(row_address() == sa.any_(row_ids()), pair.in_(key_rows(True)))
        .returning(sa.literal(1).label("one"))
        .cte("done")
    )
    deleted = sa.select(sa.func.count()).select_from(done).scalar_subquery()
    insert = _tracking_from_keys("postgresql")
    return insert.add_cte(done).returning(deleted.label("deleted"))


def row_address() -> sa.ColumnClause[Any]:
    """``handler_work.ctid``: a row version's physical address (PostgreSQL)."""
    return sa.literal_column(f"{_W.name}.ctid")


class _Tid(sa.types.UserDefinedType[str]):
    """PostgreSQL's ``tid`` (a ``ctid``), sent and read as its text ``(block,offset)``."""

    cache_ok = True

    def get_col_spec(self, **_: Any) -> str:
        return "TID"


def row_ids() -> sa.ColumnElement[Any]:
    """The parameter ``:rows``, the text of ``ctid`` values, as ``tid[]``: ``ARRAY(SELECT
    unnest(CAST(:rows AS tid[])))``.

    Through a subquery, as the claim passes its addresses: given the array itself, the planner
    knows its length and, costing a page read per address, prefers to read the whole table
    (a sequential scan filtered by ``ctid``, 18,500 rows read for 500 at 19,000 pending).
    """
    given = sa.cast(sa.bindparam("rows", type_=TEXT_ARRAY), postgresql.ARRAY(_Tid()))
    return sa.func.array(sa.select(sa.func.unnest(given)).scalar_subquery())


def keys_in(
    table: sa.Table, keys: Sequence[tuple[str, str]], postgres: bool
) -> sa.ColumnElement[bool]:
    """``(handler, event_id) IN (…)`` over :func:`key_rows`.

    On SQLite this also lets the query search the primary key for each key, whereas
    ``IN (VALUES (?, ?), …)`` scans the whole table (its query plan), a cost that grew with
    the pending work.
    """
    pair = sa.tuple_(table.c.handler, table.c.event_id)
    return pair.in_(key_rows(postgres, **key_values(keys, postgres)))


def _text_array(values: Sequence[str]) -> str:
    """The text form of a PostgreSQL ``text[]``, every element quoted: ``{"a","b \\"c\\""}``.

    Only a batch with a quote or a backslash somewhere is escaped element by element: ids and
    handler names have none, and two ``str.replace`` calls per element were most of the cost
    (a batch sends a few arrays of 500).
    """
    if not values:
        return "{}"
    whole = "".join(values)
    if '"' in whole or "\\" in whole:
        values = [value.replace("\\", "\\\\").replace('"', '\\"') for value in values]
    return '{"' + '","'.join(values) + '"}'


def _bigint_array(values: Sequence[int]) -> str:
    """The text form of a PostgreSQL ``bigint[]``: ``{1,2,3}``."""
    return "{" + ",".join([str(int(value)) for value in values]) + "}"


class _ArrayText(sa.types.UserDefinedType[Sequence[Any]]):
    """A PostgreSQL array parameter sent as the array's text form, one string, cast to the
    array type in the statement (``%(ids)s::TEXT[]``).

    Given a list, psycopg dumps it element by element in Python (its ``ListDumper``): 3.5 ms for
    500 ids at a load of 10, against 0.2 ms to join them into one string here. A batch of the
    bus sends a few such arrays per statement (ids, keys, row addresses), 500 elements each.
    """

    cache_ok = True
    render_bind_cast = True

    def __init__(self, spec: str, form: Callable[[Sequence[Any]], str]) -> None:
        self.spec = spec
        self.form = form

    def get_col_spec(self, **_: Any) -> str:
        return self.spec

    def bind_processor(self, dialect: sa.Dialect) -> Callable[[Any], Any]:
        return self.form


#: A ``text[]`` parameter (PostgreSQL), sent as one string (:class:`_ArrayText`).
TEXT_ARRAY = _ArrayText("TEXT[]", _text_array)
#: A ``bigint[]`` parameter (PostgreSQL), sent as one string (:class:`_ArrayText`).
BIGINT_ARRAY = _ArrayText("BIGINT[]", _bigint_array)


def checked_limit(limit: int) -> int:
    if limit < 1:
        raise StorageError("limit", f"must be at least 1, got {limit}")
    return limit
