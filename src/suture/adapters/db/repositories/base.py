"""The generic repository of an aggregate stored as a header table plus child-line tables.

Every ``Repository[T]`` of the port (``services/unit_of_work.py``) is this class with three
translation methods filled in (``to_row``, ``to_lines``, ``from_row``); the queries live here once.

Writes are upserts keyed by id: ``INSERT … ON CONFLICT (id) DO UPDATE`` for the headers (SQLite
and PostgreSQL spell it the same), then the lines of those ids are deleted and inserted again, so
``add`` replaces an aggregate whole. ``add_many`` does this per batch of :data:`BATCH_SIZE`
objects with one ``executemany`` per table (in-process on SQLite, pipelined by psycopg 3 on
PostgreSQL), never a round trip per object; the rows go to the driver as prepared tuples
(``adapters/db/bulk.py``), not through SQLAlchemy's per-row parameter processing. The upsert
needs no "which ids exist?" query first and stays correct when two transactions write the
same id. Within a batch the last object of an id wins, as it would one at a time.

Reads are keyset-paginated by id (``id > after ORDER BY id LIMIT n``); the lines of a page come
in one query per line table. The facility filter applies to aggregates that belong to a facility.
Aggregates shared by every facility (items, suppliers, contracts, GL accounts) have no facility
column: the filter is ignored for them, since a system-wide object is visible at every facility,
and ``count_by_facility`` counts them all under ``None``. A facility "belongs" to itself.
"""

from __future__ import annotations

import builtins
import itertools
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from suture.adapters.db.bulk import insert_rows, row_getter
from suture.adapters.db.errors import StorageError, storage_errors
from suture.adapters.db.types import UtcDateTime
from suture.services.queries import QueryError, RecordQuery

#: Objects per batch on the bulk path; also the most ids in one ``IN (…)`` list.
BATCH_SIZE = 1000

Row = sa.Row[Any]
Values = dict[str, Any]


class HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=HasId)
U = TypeVar("U")


@dataclass(frozen=True, slots=True)
class Lines:
    """A child table of an aggregate: ``parent`` holds the header id; ``position`` the order."""

    table: sa.Table
    parent: str


class AggregateRepository(ABC, Generic[T]):
    """Header-plus-lines storage of one aggregate type, on one connection (one transaction)."""

    table: ClassVar[sa.Table]
    lines: ClassVar[tuple[Lines, ...]] = ()
    #: The column a facility filter and ``count_by_facility`` use; None for system-wide objects.
    facility_column: ClassVar[str | None] = "facility_id"
    #: The columns the filters of :meth:`find` use; None where the record has no such thing.
    supplier_column: ClassVar[str | None] = None
    status_column: ClassVar[str | None] = None
    date_column: ClassVar[str | None] = None
    number_column: ClassVar[str | None] = None

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    @abstractmethod
    def to_row(self, obj: T) -> Values:
        """The header row of ``obj``, one value per column of :attr:`table`."""

    def to_lines(self, obj: T) -> tuple[list[Values], ...]:
        """Per entry of :attr:`lines`, the rows of ``obj`` without parent and position."""
        return ()

    @abstractmethod
    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> T:
        """The aggregate of a header row and, per entry of :attr:`lines`, its rows in order."""

    # --- the Repository[T] port -----------------------------------------------------------

    def get(self, object_id: str) -> T | None:
        found = self._load(sa.select(self.table).where(self.table.c.id == object_id))
        return found[0] if found else None

    def add(self, obj: T) -> None:
        self._write([obj])

    def add_many(self, objs: Iterable[T]) -> int:
        written = 0
        for batch in _batches(objs, BATCH_SIZE):
            self._write(list({obj.id: obj for obj in batch}.values()))
            written += len(batch)
        return written

    def list(
        self, *, facility_id: str | None = None, after: str | None = None, limit: int = 100
    ) -> list[T]:
        if limit < 1:
            raise StorageError("limit", f"must be at least 1, got {limit}")
        query = sa.select(self.table).order_by(self.table.c.id).limit(limit)
        if after is not None:
            query = query.where(self.table.c.id > after)
        if facility_id is not None and self.facility_column is not None:
            query = query.where(self.table.c[self.facility_column] == facility_id)
        return self._load(query)

    def find(self, query: RecordQuery) -> builtins.list[T]:
        """A keyset page of the records ``query`` selects (``services/queries.py``)."""
        table = self.table
        select = sa.select(table).order_by(table.c.id).limit(query.limit)
        if query.after is not None:
            select = select.where(table.c.id > query.after)
        if query.facility_ids is not None and self.facility_column is not None:
            select = select.where(table.c[self.facility_column].in_(sorted(query.facility_ids)))
        filters = (
            ("supplier_id", self.supplier_column, query.supplier_id),
            ("status", self.status_column, query.status),
            ("number", self.number_column, query.number),
        )
        for name, column, value in filters:
            if value is not None:
                select = select.where(self._column(name, column) == value)
        if query.since is not None or query.until is not None:
            select = select.where(*self._date_range(query.since, query.until))
        return self._load(select)

    def _column(self, name: str, column: str | None) -> sa.ColumnElement[Any]:
        if column is None:
            raise QueryError(name, f"{self.table.name} cannot be filtered by {name}")
        return self.table.c[column]

    def _date_range(
        self, since: date | None, until: date | None
    ) -> builtins.list[sa.ColumnElement[bool]]:
        column = self._column("since" if since is not None else "until", self.date_column)
        timed = isinstance(column.type, UtcDateTime)
        bounds: builtins.list[sa.ColumnElement[bool]] = []
        if since is not None:
            bounds.append(column >= (_midnight(since) if timed else since))
        if until is not None:
            end = until + timedelta(days=1)
            bounds.append(column < _midnight(end) if timed else column <= until)
        return bounds

    def ids(self) -> set[str]:
        with storage_errors(self.table.name):
            return set(self._connection.scalars(sa.select(self.table.c.id)))

    def count_by_facility(self) -> dict[str | None, int]:
        count = sa.func.count()
        with storage_errors(self.table.name):
            if self.facility_column is None:
                total = self._connection.scalar(sa.select(count).select_from(self.table)) or 0
                return {None: total} if total else {}
            column = self.table.c[self.facility_column]
            rows = self._connection.execute(sa.select(column, count).group_by(column))
            return dict(rows.all())

    # --- shared machinery -----------------------------------------------------------------

    def _first(self, condition: sa.ColumnElement[bool]) -> T | None:
        """The aggregate with the lowest id among those matching ``condition``."""
        query = sa.select(self.table).where(condition).order_by(self.table.c.id).limit(1)
        found = self._load(query)
        return found[0] if found else None

    def _load(self, query: sa.Select[Any]) -> builtins.list[T]:
        """The aggregates of the header rows ``query`` selects, in its order, with their lines."""
        with storage_errors(self.table.name):
            headers = self._connection.execute(query).all()
            if not headers:
                return []
            ids = [row.id for row in headers]
            children = [self._lines_of(spec, ids) for spec in self.lines]
        return [
            self.from_row(row, tuple(by_parent.get(row.id, []) for by_parent in children))
            for row in headers
        ]

    def _lines_of(self, spec: Lines, ids: Sequence[str]) -> dict[str, builtins.list[Row]]:
        parent = spec.table.c[spec.parent]
        found: dict[str, builtins.list[Row]] = defaultdict(builtins.list)
        for chunk in _batches(ids, BATCH_SIZE):
            query = (
                sa.select(spec.table)
                .where(parent.in_(chunk))
                .order_by(parent, spec.table.c.position)
            )
            for row in self._connection.execute(query):
                found[row._mapping[spec.parent]].append(row)
        return found

    def _write(self, objs: Sequence[T]) -> None:
        """Upsert the headers of ``objs`` (distinct ids) and replace their lines, each table
        one plain ``executemany`` (``adapters/db/bulk.py``)."""
        connection = self._connection
        with storage_errors(self.table.name):
            _insert_dicts(connection, self.table, [self.to_row(o) for o in objs], upsert=True)
            if not self.lines:
                return
            ids = [obj.id for obj in objs]
            per_object = [self.to_lines(obj) for obj in objs]
            for index, spec in enumerate(self.lines):
                parent = spec.table.c[spec.parent]
                connection.execute(sa.delete(spec.table).where(parent.in_(ids)))
                rows = [
                    {spec.parent: object_id, "position": position, **values}
                    for object_id, lines in zip(ids, per_object, strict=True)
                    for position, values in enumerate(lines[index])
                ]
                _insert_dicts(connection, spec.table, rows, upsert=False)


def _insert_dicts(
    connection: sa.Connection, table: sa.Table, rows: Sequence[Values], *, upsert: bool
) -> None:
    """Insert rows given as dictionaries with the same keys (``upsert``: by primary key)."""
    if not rows:
        return
    columns = tuple(rows[0])
    values = row_getter(columns)
    keys = tuple(column.name for column in table.primary_key.columns)
    insert_rows(
        connection, table, columns, [values(row) for row in rows],
        conflict="update" if upsert else "error", keys=keys,
    )  # fmt: skip


@cache
def upsert(dialect: str, table: sa.Table) -> sa.Insert:
    """``INSERT … ON CONFLICT (primary key) DO UPDATE SET`` every other column, per dialect."""
    insert = sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)
    keys = [column.name for column in table.primary_key.columns]
    others = {c.name: insert.excluded[c.name] for c in table.columns if c.name not in keys}
    return insert.on_conflict_do_update(index_elements=keys, set_=others)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _batches(items: Iterable[U], size: int) -> Iterator[list[U]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
