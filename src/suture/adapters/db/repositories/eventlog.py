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
import functools
import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime
from typing import Any, NoReturn, TypeVar
from uuid import UUID, SafeUUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from suture.adapters.db import eventlog_tables as t
from suture.adapters.db.errors import storage_errors
from suture.adapters.db.repositories.handler_work import (
    BIGINT_ARRAY,
    CHUNK,
    PLAIN_INSTANT,
    SQLITE_ITEM_COLUMNS,
    SQLITE_ITEMS_FROM,
    TEXT_ARRAY,
    HandlerWorkStore,
    checked_limit,
    chunks,
    claim_counted_statement,
    driver_item,
    items_before,
    key_rows,
    key_values,
    keys_in,
    pg_instant,
    pg_item_columns,
    row_address,
    row_ids,
    sqlite_instants,
    sqlite_rowid,
    work_item_of,
)
from suture.eventlog.envelope import Envelope, stored_to_json
from suture.eventlog.errors import EnvelopeError
from suture.eventlog.ids import compact_json
from suture.services.event_store import (
    IN_PROGRESS,
    Attempt,
    Claimed,
    Lag,
    OutboxEvent,
    Processed,
    WorkItem,
    WorkStatus,
)

_W = t.handler_work
_E = t.events
POSITION_ARRAY = BIGINT_ARRAY


#: The ``events`` columns an append writes (``position`` is the database's), in this order.
_EVENT_COLUMNS = ("id", "type", "schema_version", "occurred_at", "recorded_at", "source_system",
                  "source_facility", "trace_id", "correlation_id", "causation_id",
                  "idempotency_key", "payload")  # fmt: skip


def _same(value: datetime) -> Any:
    return value


def _event_values(
    envelope: Envelope,
    event_id: str,
    instant: Callable[[datetime], Any],
    text: Callable[[UUID], str] = str,
) -> tuple[Any, ...]:
    """An event's row as the driver takes it: ``event_id`` is ``str(envelope.id)``, made once
    per append; ``instant`` writes the (aware UTC) times, ``text`` the causation id."""
    causation = envelope.causation_id
    return (
        event_id,
        envelope.type,
        envelope.schema_version,
        instant(envelope.occurred_at),
        instant(envelope.recorded_at),
        envelope.source_system,
        envelope.source_facility,
        envelope.trace_id,
        envelope.correlation_id,
        None if causation is None else text(causation),
        envelope.idempotency_key,
        compact_json(envelope.payload),
    )


_T = TypeVar("_T", bound=Hashable)


def _remembered(convert: Callable[[_T], Any]) -> Callable[[_T], Any]:
    """``convert``, each value converted once: the events of a batch share their recording
    time, and those of one message its time and id (the causation), so a batch converts a few
    values many times (writing a time costs more than looking it up)."""
    seen: dict[_T, Any] = {}

    def remembered(value: _T) -> Any:
        found = seen.get(value)
        if found is None:
            found = seen[value] = convert(value)
        return found

    return remembered


@functools.cache
def _sqlite_instant() -> Callable[[datetime], Any]:
    """The text ``UtcDateTime`` writes on SQLite, by its own processor (``types.py``)."""
    process = _E.c.recorded_at.type.bind_processor(sqlite.dialect())
    assert process is not None
    return process


@functools.lru_cache(maxsize=16)  # a full chunk's, and the last few remainders'
def _event_insert(dialect: str, rows: int = 1, *, returning: bool = True) -> str:
    """``INSERT INTO events (…) VALUES (…)[, (…)…] ON CONFLICT (idempotency_key) DO NOTHING
    [RETURNING id, position]`` as the driver takes it: the statement SQLAlchemy Core builds
    for the same insert, less its processing of every value of every row, the values being
    the driver's already (:func:`_event_values`). ``rows`` rows with ``RETURNING`` (one
    statement for a chunk), or one row without it for an ``executemany`` (psycopg pipelines
    it)."""
    return _insert_text(dialect, _E.name, _EVENT_COLUMNS, rows,
                        "ON CONFLICT (idempotency_key) DO NOTHING"
                        + (" RETURNING id, position" if returning else ""))  # fmt: skip


#: The ``handler_work`` columns of a new item, in the order of :func:`_work_values`.
_WORK_COLUMNS = ("handler", "event_id", "event_position", "status", "attempts",
                 "next_attempt_at", "last_error", "parked_on", "updated_at")  # fmt: skip


def _work_values(handler: str, event_id: str, position: int, due: Any) -> tuple[Any, ...]:
    """A pending item due at ``due`` (the driver's form of its event's ``recorded_at``)."""
    return (handler, event_id, position, WorkStatus.PENDING.value, 0, due, None, None, due)


@functools.cache
def _work_insert(dialect: str) -> str:
    """``INSERT INTO handler_work (…) VALUES (…)`` for an ``executemany`` of the driver's rows."""
    return _insert_text(dialect, _W.name, _WORK_COLUMNS, 1, "")


def _insert_text(dialect: str, table: str, columns: tuple[str, ...], rows: int, tail: str) -> str:
    # Built from the tables' own names and placeholders only: no value is ever in the text.
    mark = "%s" if dialect == "postgresql" else "?"  # psycopg adapts aware datetimes
    row = "(" + ", ".join([mark] * len(columns)) + ")"
    values = ", ".join([row] * rows)
    text = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"  # noqa: S608 (above)
    return f"{text} {tail}" if tail else text


#: Rows of one insert with ``RETURNING``: 12 values each, well under SQLite's 32,766 variables
#: a statement (and PostgreSQL's 65,535).
_ROWS = 500


def _refuse_number(text: str) -> NoReturn:
    raise EnvelopeError("payload", f"{text} is not allowed in a stored payload; use Decimal")


#: One decoder for every stored payload (``json.loads`` with options builds one per call).
_STORED_JSON = json.JSONDecoder(parse_float=_refuse_number, parse_constant=_refuse_number)


def _stored_payload(text: str) -> dict[str, Any]:
    """A payload as ``_event_values`` stored it: JSON form already, so only parsed.

    A number with a fraction (or NaN) cannot come from a checked envelope, and is refused as
    the constructor would refuse it, rather than read as a float.
    """
    payload = _STORED_JSON.decode(text)
    if not isinstance(payload, dict):
        raise EnvelopeError("payload", "must be a mapping")
    return payload


def _envelope(row: Any) -> Envelope:
    """The envelope of a stored row, which was written from a checked envelope: its fields
    are not checked again (:meth:`Envelope.trusted`), the payload is only parsed."""
    causation = row["causation_id"]
    return Envelope.trusted(
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
        payload=_stored_payload(row["payload"]),
    )


#: Fewer events than this are appended with ``RETURNING`` and their work written as rows: for
#: one event, a second query for positions, or work built by a query over the events, costs
#: more than it saves.
_BATCH_FROM = 8


@functools.cache
def _events_by_ids() -> sa.Select[Any]:
    """PostgreSQL: ``SELECT id, position FROM events WHERE id = ANY(:ids)``, one text for any
    number of ids."""
    ids = sa.bindparam("ids", type_=TEXT_ARRAY)
    return sa.select(_E.c.id, _E.c.position).where(_E.c.id == sa.any_(ids))


#: SQLite: :func:`_work_from_events` as the driver takes it, the positions one JSON array
#: (``json_each``): one statement text whatever the count, no parameter a position (SQLAlchemy's
#: expanding ``IN`` renders a parameter for each, on every execution).
_SQLITE_WORK_FROM_EVENTS = (
    f"INSERT INTO {_W.name} ({', '.join(_WORK_COLUMNS)}) "  # noqa: S608 - the tables' names only
    f"SELECT ?, id, position, '{WorkStatus.PENDING.value}', 0, recorded_at, NULL, NULL, "
    f"recorded_at FROM {_E.name} WHERE position IN (SELECT value FROM json_each(?))"
)


#: SQLite: the log's last position (0 when empty), and the positions of ids appended after one.
_SQLITE_LAST_POSITION = f"SELECT coalesce(max(position), 0) FROM {_E.name}"  # noqa: S608 - names
_SQLITE_APPENDED = (
    f"SELECT id, position FROM {_E.name} "  # noqa: S608 - the table's names only
    "WHERE id IN (SELECT value FROM json_each(?)) AND position > ?"
)


@functools.cache
def _work_from_events(dialect: str) -> sa.Insert:
    """A pending work item of handler ``:handler`` for each event at ``:positions``, due at its
    ``recorded_at``, built by the database from the rows just inserted (:func:`_work_values`' row),
    rather than sent column by column from here: one statement per handler and chunk."""
    if dialect == "postgresql":  # one statement text whatever the count (see ``keys_in``)
        wanted = _E.c.position == sa.any_(sa.bindparam("positions", type_=POSITION_ARRAY))
    else:
        wanted = _E.c.position.in_(sa.bindparam("positions", expanding=True))
    rows = sa.select(
        sa.bindparam("handler", type_=_W.c.handler.type),
        _E.c.id,
        _E.c.position,
        sa.literal(WorkStatus.PENDING.value, sa.String()),
        sa.literal(0, sa.Integer()),
        _E.c.recorded_at,
        sa.null(),
        sa.null(),
        _E.c.recorded_at,
    ).where(wanted)
    columns = ["handler", "event_id", "event_position", "status", "attempts",
               "next_attempt_at", "last_error", "parked_on", "updated_at"]  # fmt: skip
    return sa.insert(_W).from_select(columns, rows)


@functools.cache
def _publications_from_ids() -> sa.Insert:
    """PostgreSQL: ``INSERT INTO event_publications SELECT unnest(:ids), :at ON CONFLICT DO
    NOTHING RETURNING event_id``: a relay's batch of publications in one statement, rather than
    an ``executemany`` of a row each (a round of parameter binding and a server-side insert call
    per event); the ids returned are those recorded by this statement, not by another relay."""
    p = t.event_publications
    ids = (
        sa.func.unnest(sa.bindparam("ids", type_=TEXT_ARRAY))
        .table_valued("id")
        .render_derived(name="published")
    )
    rows = sa.select(ids.c.id, sa.bindparam("at", type_=p.c.published_at.type))
    insert = postgresql.insert(p).from_select(["event_id", "published_at"], rows)
    return insert.on_conflict_do_nothing(index_elements=["event_id"]).returning(p.c.event_id)


@functools.cache
def _unpublished_recorded(after: bool) -> sa.Select[Any]:
    """PostgreSQL: ``WITH batch AS (SELECT events.* … unpublished … LIMIT :limit FOR UPDATE
    SKIP LOCKED), recorded AS (INSERT INTO event_publications SELECT id, :at FROM batch ON
    CONFLICT DO NOTHING RETURNING event_id) SELECT batch.* FROM batch JOIN recorded …``: a
    relay's batch read, locked and its publications recorded by one statement.

    The read judges "unpublished" by the snapshot the statement began with: a row another
    relay held then, and released by committing its publication before the read reached it,
    is locked all the same (the lock re-reads the ``events`` row, which that relay did not
    change). The insert meets that committed publication whatever the snapshot (``ON
    CONFLICT DO NOTHING`` waits for, then sees, the other transaction), so the event is not
    returned, nor published again. ``after``: only events above ``:after``.
    """
    p = t.event_publications
    published = sa.exists().where(p.c.event_id == _E.c.id)
    query = sa.select(_E).where(~published)
    if after:
        query = query.where(_E.c.position > sa.bindparam("after", type_=sa.BigInteger))
    batch = (
        query.order_by(_E.c.position)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .with_for_update(skip_locked=True, of=_E)
        .cte("batch")
    )
    rows = sa.select(batch.c.id, sa.bindparam("at", type_=p.c.published_at.type))
    recorded = (
        postgresql.insert(p)
        .from_select(["event_id", "published_at"], rows)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(p.c.event_id)
        .cte("recorded")
    )
    c = batch.c
    return (
        sa.select(
            c.position,
            c.id,
            c.type,
            c.source_facility,
            c.causation_id,
            c.correlation_id,
            c.idempotency_key,
            sa.type_coerce(c.occurred_at, PLAIN_INSTANT).label("occurred_at"),
            c.payload,
            sa.type_coerce(c.recorded_at, PLAIN_INSTANT).label("recorded_at"),
            c.schema_version,
            c.source_system,
            c.trace_id,
        )
        .join(recorded, recorded.c.event_id == batch.c.id)
        .order_by(batch.c.position)
    )


def _outbox_row(row: Sequence[Any]) -> tuple[int, OutboxEvent]:
    """A row of :func:`_unpublished_recorded` (its columns by position): its position and the
    event as the relay publishes it (:func:`_outbox_event`, without a ``Row`` mapping and two
    ``UtcDateTime`` calls through SQLAlchemy's result processing per event)."""
    (position, event_id, event_type, facility, causation, correlation, key, occurred, payload,
     recorded, version, system, trace) = row  # fmt: skip
    data = stored_to_json(
        causation_id=causation, correlation_id=correlation, id=event_id, idempotency_key=key,
        occurred_at=pg_instant(occurred), payload=payload, recorded_at=pg_instant(recorded),
        schema_version=version, source_facility=facility, source_system=system,
        trace_id=trace, type=event_type,
    )  # fmt: skip
    return position, OutboxEvent(id=event_id, type=event_type, source_facility=facility, json=data)


def _claim_select() -> sa.Select[Any]:
    """Work items joined to their events, with whether a tracking row exists (``processed``)."""
    tr = t.tracking
    processed = sa.exists().where(tr.c.handler == _W.c.handler, tr.c.event_id == _W.c.event_id)
    return sa.select(_W, _E, processed.label("processed")).join(
        _E, _E.c.position == _W.c.event_position
    )


@functools.cache
def _lock_at_rows_statement() -> sa.Select[Any]:
    """PostgreSQL: :func:`_claim_select` of the items at ``:rows`` (``ctid``, a TID scan) with
    the keys given (``key_rows``), locked ``FOR UPDATE`` in log order; the row ids returned.

    Found by key, the planner joined the batch's keys to every pending item by a hash below
    about 100,000 of them. The tracking row is looked for by an index probe per item
    (``LIMIT 1`` in a lateral join), not by a hash of the whole tracking table. The columns
    are :data:`_SQLITE_CLAIMED`'s, in its order (:func:`_driver_claimed`, which reads them by
    position: 500 rows a batch, each a ``Row`` mapping and four ``UtcDateTime`` calls through
    SQLAlchemy's result processing).
    """
    tr = t.tracking
    tracked = (
        sa.select(sa.literal(True).label("found"))
        .where(tr.c.handler == _W.c.handler, tr.c.event_id == _W.c.event_id)
        .limit(1)
        .lateral("tracked")
    )
    pair = sa.tuple_(_W.c.handler, _W.c.event_id)
    return (
        sa.select(
            *pg_item_columns(_W, _E.c.type, row_address()),
            _E.c.schema_version,
            sa.type_coerce(_E.c.occurred_at, PLAIN_INSTANT).label("occurred_at"),
            sa.type_coerce(_E.c.recorded_at, PLAIN_INSTANT).label("recorded_at"),
            _E.c.source_system,
            _E.c.source_facility,
            _E.c.trace_id,
            _E.c.correlation_id,
            _E.c.causation_id,
            _E.c.idempotency_key,
            _E.c.payload,
            tracked.c.found.is_not(None).label("processed"),
        )
        .select_from(
            _W.join(_E, _E.c.position == _W.c.event_position).outerjoin(tracked, sa.true())
        )
        .where(row_address() == sa.any_(row_ids()), pair.in_(key_rows(True)))
        .order_by(_W.c.event_position, _W.c.handler)
        .with_for_update(of=_W)
    )


def _outbox_event(row: Any) -> OutboxEvent:
    """A stored row as the relay publishes it: the payload text copied, not parsed (it was
    written by :data:`_PAYLOAD_JSON`, as :func:`~suture.eventlog.envelope.to_json` writes a
    payload, so the bytes are those of the envelope read back)."""
    event_id, event_type, facility = row["id"], row["type"], row["source_facility"]
    data = stored_to_json(
        causation_id=row["causation_id"], correlation_id=row["correlation_id"], id=event_id,
        idempotency_key=row["idempotency_key"], occurred_at=row["occurred_at"],
        payload=row["payload"], recorded_at=row["recorded_at"],
        schema_version=row["schema_version"], source_facility=facility,
        source_system=row["source_system"], trace_id=row["trace_id"], type=event_type,
    )  # fmt: skip
    return OutboxEvent(id=event_id, type=event_type, source_facility=facility, json=data)


def _claimed(row: Any) -> Claimed:
    return Claimed(work_item_of(row), _envelope(row), bool(row["processed"]))


#: SQLite: :func:`_claim_select`'s columns as the driver gives them: the item
#: (:data:`SQLITE_ITEM_COLUMNS`), its event (after the item's, in :func:`_sqlite_envelope`'s
#: order) and whether its tracking row exists.
_SQLITE_CLAIMED = (
    f"SELECT {SQLITE_ITEM_COLUMNS}, e.schema_version, e.occurred_at, e.recorded_at, "  # noqa: S608
    "e.source_system, e.source_facility, e.trace_id, e.correlation_id, e.causation_id, "
    "e.idempotency_key, e.payload, EXISTS (SELECT 1 FROM tracking AS tr "
    f"WHERE tr.handler = w.handler AND tr.event_id = w.event_id) {SQLITE_ITEMS_FROM}"
)
#: The items at the rowids of one JSON array, in log order.
_SQLITE_CLAIMED_AT_ROWS = (
    f"{_SQLITE_CLAIMED} WHERE w.rowid IN (SELECT value FROM json_each(?)) "  # noqa: S608 - names
    "ORDER BY w.event_position, w.handler"
)
#: The items of the keys ``[[handler, event_id], …]`` (one JSON text), in log order; the keys
#: as rows let the query search the primary key for each (see :func:`keys_in`).
_SQLITE_CLAIMED_BY_KEYS = (
    f"{_SQLITE_CLAIMED} WHERE (w.handler, w.event_id) IN "  # noqa: S608 - names only
    "(SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)) "
    "ORDER BY w.event_position, w.handler"
)

_new_uuid = object.__new__
_set_uuid = object.__setattr__
_UNKNOWN_SAFETY = SafeUUID.unknown


def _stored_uuid(text: str) -> UUID:
    """``UUID(text)`` for an id the log stored as ``str(uuid)`` (32 hex digits and four
    hyphens), set as the constructor sets it without its parsing of every other form;
    anything else goes to the constructor."""
    digits = text.replace("-", "")
    if len(digits) != 32 or len(text) != 36:  # the canonical form
        return UUID(text)
    made = _new_uuid(UUID)
    _set_uuid(made, "int", int(digits, 16))
    _set_uuid(made, "is_safe", _UNKNOWN_SAFETY)
    return made


def _driver_claimed(row: Sequence[Any], instant: Callable[[Any], Any]) -> Claimed:
    """A driver's row of :data:`_SQLITE_CLAIMED` (or of :func:`_lock_at_rows_statement`, the
    same columns on PostgreSQL); ``instant`` reads the stored times
    (:func:`~suture.adapters.db.repositories.handler_work.sqlite_instants`,
    :func:`~suture.adapters.db.repositories.handler_work.pg_instant`)."""
    causation = row[18]
    envelope = Envelope.trusted(
        id=_stored_uuid(row[1]),
        type=row[9],
        schema_version=row[11],
        occurred_at=instant(row[12]),
        recorded_at=instant(row[13]),
        source_system=row[14],
        source_facility=row[15],
        trace_id=row[16],
        correlation_id=row[17],
        causation_id=None if causation is None else _stored_uuid(causation),
        idempotency_key=row[19],
        payload=_stored_payload(row[20]),
    )
    return Claimed(driver_item(row, instant), envelope, bool(row[21]))


def _log_order(claimed: Claimed) -> tuple[int, str]:
    return claimed.item.event_position, claimed.item.handler


class EventLogRepository(HandlerWorkStore):
    """Events, handler work, tracking rows and attempts on one connection (one transaction)."""

    # --- the log ------------------------------------------------------------------------------

    def append(self, envelope: Envelope, handlers: Sequence[str]) -> bool:
        return bool(self.append_many([(envelope, handlers)]))

    def append_many(
        self, entries: Sequence[tuple[Envelope, Sequence[str]]]
    ) -> builtins.list[Envelope]:
        # One statement per table: ``INSERT … ON CONFLICT DO NOTHING RETURNING id, position``
        # returns exactly the rows inserted (SQLite ≥ 3.35, PostgreSQL), matched here by id,
        # as the driver's rows in one statement per chunk. A batch is ``_appended_by_ids``
        # (PostgreSQL) or ``_appended_after`` (SQLite) instead.
        unique: dict[str, tuple[Envelope, Sequence[str]]] = {}
        for envelope, handlers in entries:  # the first of an idempotency key wins, as in turn
            unique.setdefault(envelope.idempotency_key, (envelope, handlers))
        if not unique:
            return []
        envelopes = [envelope for envelope, _ in unique.values()]
        ids = [str(envelope.id) for envelope in envelopes]
        with storage_errors(_E.name):
            if len(envelopes) < _BATCH_FROM:
                positions = self._appended_returning(envelopes, ids)
            elif self._postgres:
                positions = self._appended_by_ids(envelopes, ids)
            else:
                positions = self._appended_after(envelopes, ids)
            appended = [
                (event_id, positions[event_id], envelope, handlers)
                for event_id, (envelope, handlers) in zip(ids, unique.values(), strict=True)
                if event_id in positions
            ]
            self._add_work(appended)
        return [envelope for _, _, envelope, _ in appended]

    def _add_work(self, appended: Sequence[tuple[str, int, Envelope, Sequence[str]]]) -> None:
        """A pending work item per (event id, position, envelope, handlers) and handler."""
        dialect = self._connection.dialect.name
        if len(appended) < _BATCH_FROM:  # a few: as rows, cheaper than a query for them
            instant = _same if self._postgres else _sqlite_instant()
            work = [
                _work_values(name, event_id, position, instant(envelope.recorded_at))
                for event_id, position, envelope, handlers in appended
                for name in dict.fromkeys(handlers)
            ]
            if work:
                self._connection.exec_driver_sql(_work_insert(dialect), work)
            return
        per_handler: dict[str, builtins.list[int]] = {}
        for _, position, _, handlers in appended:
            for name in dict.fromkeys(handlers):
                per_handler.setdefault(name, []).append(position)
        if not self._postgres:  # one statement per handler, its positions one JSON text
            for name, handled in per_handler.items():
                listed = "[" + ",".join(map(str, handled)) + "]"
                self._connection.exec_driver_sql(_SQLITE_WORK_FROM_EVENTS, (name, listed))
            return
        insert_work = _work_from_events(dialect)
        for name, handled in per_handler.items():
            for start in range(0, len(handled), CHUNK):
                chunk = handled[start : start + CHUNK]
                self._connection.execute(insert_work, {"handler": name, "positions": chunk})

    def _appended_returning(
        self, envelopes: Sequence[Envelope], ids: Sequence[str]
    ) -> dict[str, int]:
        """Insert the events (``ids``: their ids as text), ``_ROWS`` a statement; the ids and
        positions of those appended (``RETURNING`` gives exactly those, in no promised order)."""
        dialect = self._connection.dialect.name
        instant = _same if self._postgres else _remembered(_sqlite_instant())
        text = _remembered(str)
        positions: dict[str, int] = {}
        for start in range(0, len(envelopes), _ROWS):
            chunk = envelopes[start : start + _ROWS]
            chunk_ids = ids[start : start + _ROWS]
            values = [
                value
                for e, event_id in zip(chunk, chunk_ids, strict=True)
                for value in _event_values(e, event_id, instant, text)
            ]
            insert = _event_insert(dialect, len(chunk))
            positions.update(self._connection.exec_driver_sql(insert, tuple(values)).all())
        return positions

    def _appended_after(self, envelopes: Sequence[Envelope], ids: Sequence[str]) -> dict[str, int]:
        """SQLite: insert a batch of events; the ids and positions of those appended.

        An ``executemany`` of the one-row ``INSERT … ON CONFLICT DO NOTHING``: one statement,
        prepared once per connection, whatever the size of the batch. (The many-row ``RETURNING``
        form is a statement per row count, prepared again for each new count, about 2 µs a
        row: a batch's last chunk paid it nearly every time.) The positions are then read back
        by id, one JSON array of them (``json_each``); only those above the log's last position
        before the insert were appended now (an id in the log before is not appended again).
        The transaction holds SQLite's write lock, so nobody else appends in between.
        """
        instant = _remembered(_sqlite_instant())
        text = _remembered(str)
        rows = [_event_values(e, i, instant, text) for e, i in zip(envelopes, ids, strict=True)]
        connection = self._connection
        last = connection.exec_driver_sql(_SQLITE_LAST_POSITION).scalar_one()
        connection.exec_driver_sql(_event_insert("sqlite", returning=False), rows)
        found = connection.exec_driver_sql(_SQLITE_APPENDED, (compact_json(list(ids)), last))
        return dict(found.all())

    def _appended_by_ids(self, envelopes: Sequence[Envelope], ids: Sequence[str]) -> dict[str, int]:
        """PostgreSQL: insert a batch of events; the ids and positions of those appended.

        The ids are made by the publisher (UUIDv7), so ``RETURNING`` is not needed to learn
        them: psycopg pipelines a plain ``executemany`` of ``INSERT … ON CONFLICT DO NOTHING``
        (the driver's rows, :func:`_event_values`), and one query reads the positions back by
        id: about 1.7 times the rate of a ``RETURNING`` insert from one array per column (the
        form this replaced), on 500-row batches. An id in the log before the insert (the same
        envelope appended earlier) is not appended now, as ``RETURNING`` would have said; so
        those are looked up first.
        """
        earlier = set(self._connection.scalars(_events_by_ids().with_only_columns(_E.c.id),
                                               {"ids": ids}))  # fmt: skip
        rows = [
            _event_values(e, i, _same) for e, i in zip(envelopes, ids, strict=True)
            if i not in earlier
        ]  # fmt: skip
        if not rows:
            return {}
        self._connection.exec_driver_sql(_event_insert("postgresql", returning=False), rows)
        found = self._connection.execute(_events_by_ids(), {"ids": [row[0] for row in rows]})
        return dict(found.all())

    def get(self, event_id: str) -> Envelope | None:
        found = self._events(_E.c.id == event_id, 1)
        return found[0] if found else None

    def get_many(self, event_ids: Sequence[str]) -> dict[str, Envelope]:
        ids = list(dict.fromkeys(event_ids))
        if not ids:
            return {}
        if self._postgres:  # one statement text whatever the count (see ``keys_in``)
            wanted = _E.c.id == sa.any_(sa.bindparam("ids", ids, type_=TEXT_ARRAY))
        else:
            wanted = _E.c.id.in_(ids)
        with storage_errors(_E.name):
            rows = self._connection.execute(sa.select(_E).where(wanted)).all()
        return {row.id: _envelope(row._mapping) for row in rows}

    # --- a batch of work with its events (``MessageBus``) --------------------------------------

    def claim_batch(
        self, now: datetime, limit: int, *, handlers: Sequence[str]
    ) -> builtins.list[Claimed]:
        query = (
            _claim_select()
            .where(
                _W.c.status == WorkStatus.PENDING.value,
                _W.c.next_attempt_at <= now,
                _W.c.handler.in_(builtins.list(handlers)),
            )
            .order_by(_W.c.next_attempt_at, _W.c.event_position, _W.c.handler)
            .limit(checked_limit(limit))
            .with_for_update(skip_locked=True, of=_W)
        )
        with storage_errors(_W.name):
            return [_claimed(row._mapping) for row in self._connection.execute(query)]

    def lock_batch(
        self, keys: Sequence[tuple[str, str]], rows: Mapping[tuple[str, str], str] | None = None
    ) -> builtins.list[Claimed]:
        if not self._postgres:
            return self._sqlite_lock_batch(keys, rows or {})
        claimed: builtins.list[Claimed] = []
        if self._postgres and rows:  # by address (a TID scan); what is not there, by key
            claimed = self._lock_at_rows([key for key in keys if key in rows], rows)
            found = {(c.item.handler, c.item.event_id) for c in claimed}
            keys = [key for key in keys if key not in found]
        with storage_errors(_W.name):
            for chunk in chunks(keys):
                query = (
                    _claim_select()
                    .where(keys_in(_W, chunk, self._postgres))
                    .order_by(_W.c.event_position, _W.c.handler)
                    .with_for_update(of=_W)
                )
                claimed += [_claimed(row._mapping) for row in self._connection.execute(query)]
        return sorted(claimed, key=lambda c: (c.item.event_position, c.item.handler))

    def _sqlite_lock_batch(
        self, keys: Sequence[tuple[str, str]], rows: Mapping[tuple[str, str], str]
    ) -> builtins.list[Claimed]:
        """SQLite: :meth:`lock_batch` as the driver's rows (:data:`_SQLITE_CLAIMED`), the items
        found at their ``rowid`` (the claim's :attr:`WorkItem.row`), the key checked, and by key
        those not there (or given none): 12 k instructions an item less than by key (callgrind).
        SQLite has one writer, so nothing is locked here: the transaction holds the write lock
        from its start."""
        wanted = builtins.list(dict.fromkeys(keys))
        at_row = {rowid: key for key in wanted if (rowid := sqlite_rowid(rows.get(key)))}
        instant = sqlite_instants()
        claimed: builtins.list[Claimed] = []
        connection = self._connection
        with storage_errors(_W.name):
            if at_row:
                listed = compact_json(builtins.list(at_row))
                for found in connection.exec_driver_sql(_SQLITE_CLAIMED_AT_ROWS, (listed,)):
                    if at_row.get(found[10]) == (found[0], found[1]):
                        claimed.append(_driver_claimed(found, instant))
            seen = {(c.item.handler, c.item.event_id) for c in claimed}
            for chunk in chunks([key for key in wanted if key not in seen]):
                listed = json.dumps(chunk)
                for found in connection.exec_driver_sql(_SQLITE_CLAIMED_BY_KEYS, (listed,)):
                    claimed.append(_driver_claimed(found, instant))
        if len(claimed) > 1:
            claimed.sort(key=_log_order)
        return claimed

    def _lock_at_rows(
        self, keys: Sequence[tuple[str, str]], rows: Mapping[tuple[str, str], str]
    ) -> builtins.list[Claimed]:
        """PostgreSQL: the items at these rows (``ctid``) that still have these keys, locked.

        A row the claim left may hold another version (or, once vacuumed, another item) by now:
        the key is checked, and the caller looks up by key what is not found here.
        """
        claimed: builtins.list[Claimed] = []
        with storage_errors(_W.name):
            for chunk in chunks(keys):
                values = {**key_values(chunk, True), "rows": [rows[key] for key in chunk]}
                found = self._connection.execute(_lock_at_rows_statement(), values).all()
                claimed += [_driver_claimed(row, pg_instant) for row in found]
        return claimed

    def lock_due(
        self, event_ids: Sequence[str], *, handlers: Sequence[str], now: datetime
    ) -> builtins.list[Claimed]:
        ids = builtins.list(dict.fromkeys(event_ids))
        if not ids or not handlers:
            return []
        claimed: builtins.list[Claimed] = []
        with storage_errors(_W.name):
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                if self._postgres:  # one statement text whatever the count
                    wanted = _W.c.event_id == sa.any_(sa.bindparam("ids", chunk, type_=TEXT_ARRAY))
                else:
                    wanted = _W.c.event_id.in_(chunk)
                query = (
                    _claim_select()
                    .where(
                        wanted,
                        _W.c.handler.in_(builtins.list(handlers)),
                        _W.c.status == WorkStatus.PENDING.value,
                        _W.c.next_attempt_at <= now,
                    )
                    .order_by(_W.c.event_position, _W.c.handler)
                    .with_for_update(of=_W)
                )
                claimed += [_claimed(row._mapping) for row in self._connection.execute(query)]
        return sorted(claimed, key=lambda c: (c.item.event_position, c.item.handler))

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
        self,
        limit: int,
        *,
        after_position: int | None = None,
        published_at: datetime | None = None,
    ) -> builtins.list[tuple[int, OutboxEvent]]:
        if published_at is not None and self._postgres:  # read, lock and record: one statement
            values = {"limit": checked_limit(limit), "at": published_at, "after": after_position}
            statement = _unpublished_recorded(after_position is not None)
            with storage_errors(_E.name):
                rows = self._connection.execute(statement, values).all()
            return [_outbox_row(row) for row in rows]
        # An anti-join, not ``position > cursor``: positions are taken at insert, not at commit,
        # so a transaction committing late can add an event below one already published.
        published = sa.exists().where(t.event_publications.c.event_id == _E.c.id)
        query = sa.select(_E).where(~published).order_by(_E.c.position)
        if after_position is not None:
            query = query.where(_E.c.position > after_position)
        query = query.limit(checked_limit(limit)).with_for_update(skip_locked=True, of=_E)
        with storage_errors(_E.name):
            rows = self._connection.execute(query).all()
        found = [(row.position, _outbox_event(row._mapping)) for row in rows]
        if published_at is None or not found:
            return found
        recorded = set(self.mark_published([event.id for _, event in found], published_at))
        return [(position, event) for position, event in found if event.id in recorded]

    def mark_published(self, event_ids: Sequence[str], at: datetime) -> builtins.list[str]:
        # On PostgreSQL (READ COMMITTED) ``unpublished`` judged by the snapshot its query began
        # with: a row another relay held then, and released by committing its publication
        # before the query reached it, is locked all the same (the lock re-reads the ``events``
        # row, which that relay did not change, not the publication it added). This insert
        # meets that publication (``ON CONFLICT DO NOTHING``), so what it returns leaves such
        # an event out: the re-check a separate query made, folded into the insert.
        if not event_ids:
            return []
        table = t.event_publications
        with storage_errors(table.name):
            if self._postgres:  # one statement for the batch: the ids as one array parameter
                return builtins.list(
                    self._connection.scalars(
                        _publications_from_ids(), {"ids": builtins.list(event_ids), "at": at}
                    )
                )
            insert = self._insert(table).on_conflict_do_nothing(index_elements=["event_id"])
            rows = [{"event_id": event_id, "published_at": at} for event_id in event_ids]
            found = self._connection.execute(insert.returning(table.c.event_id), rows)
            return builtins.list(found.scalars())

    def due_work(
        self,
        event_ids: Sequence[str],
        *,
        handlers: Sequence[str],
        now: datetime,
        lock: bool = False,
    ) -> builtins.list[WorkItem]:
        ids = builtins.list(dict.fromkeys(event_ids))
        if not ids or not handlers:
            return []
        return self._due_of(ids, handlers=handlers, now=now, lock=lock)

    def _due_of(
        self, ids: Sequence[str], *, handlers: Sequence[str], now: datetime, lock: bool
    ) -> builtins.list[WorkItem]:
        items: builtins.list[WorkItem] = []
        with storage_errors(_W.name):
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                if self._postgres:  # one statement text whatever the count
                    wanted = _W.c.event_id == sa.any_(sa.bindparam("ids", chunk, type_=TEXT_ARRAY))
                else:
                    wanted = _W.c.event_id.in_(chunk)
                query = (
                    self._work_select()
                    .where(
                        wanted,
                        _W.c.handler.in_(builtins.list(handlers)),
                        _W.c.status == WorkStatus.PENDING.value,
                        _W.c.next_attempt_at <= now,
                    )
                    .order_by(_W.c.event_position, _W.c.handler)
                )
                if lock:
                    query = query.with_for_update(of=_W)
                items += [work_item_of(row._mapping) for row in self._connection.execute(query)]
        return sorted(items, key=lambda item: (item.event_position, item.handler))

    def claim_due_of(
        self,
        event_ids: Sequence[str],
        *,
        handlers: Sequence[str],
        now: datetime,
        lease_until: datetime,
    ) -> builtins.list[WorkItem]:
        ids = builtins.list(dict.fromkeys(event_ids))
        if not ids or not handlers:
            return []
        if not self._postgres:  # one writer: the select and the update cost the same apart
            items = self._due_of(ids, handlers=handlers, now=now, lock=True)
            fresh = [(i.handler, i.event_id) for i in items if i.last_error != IN_PROGRESS]
            if fresh:
                self.claim_attempts(fresh, now, lease_until)
            return items
        rows: builtins.list[Any] = []
        with storage_errors(_W.name):
            for start in range(0, len(ids), CHUNK):
                rows += self._connection.execute(
                    claim_counted_statement(of_events=True),
                    {"now": now, "ids": ids[start : start + CHUNK], "handlers": list(handlers),
                     "lease_until": lease_until, "mark": IN_PROGRESS},
                ).all()  # fmt: skip
        return items_before(rows)

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
