"""Batch writes as one plain DBAPI ``executemany`` of prepared tuples, on both databases.

SQLAlchemy Core's ``connection.execute(insert, rows)`` compiles nothing new per batch (the
statement is cached) but still walks every row: a dictionary per row, ``construct_params`` per
row, the bind processors looked up per column per row, and on PostgreSQL ``INSERT … RETURNING``
batched as multi-row ``VALUES`` (about 100 µs a row, where a pipelined ``executemany`` costs
about 18 µs). The hot writes of a workflow step (a batch of hundreds of rows per table) go
through here instead: the SQL text is made once per dialect, table and column list; each
column's bind processor is the one SQLAlchemy itself would apply (the type's processor for the
dialect: the exact decimal and UTC instant forms of ``types.py``, JSON, binary), taken once; and
each row is a tuple passed straight to the driver, which on PostgreSQL psycopg 3 pipelines.

The statements are spelled the same on SQLite and PostgreSQL (``ON CONFLICT … DO NOTHING`` /
``DO UPDATE SET c = excluded.c``), so there is one code path. What was stored is learnt from the
driver's row count, the sum over the batch on both drivers (a row skipped by ``DO NOTHING``
counts 0), not from ``RETURNING``.

A table with a client-side column default (``Column(default=…)``) that a caller leaves out is
refused: SQLAlchemy would fill it in, this path would not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any, Literal
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from suture.adapters.db.errors import StorageError
from suture.adapters.db.types import ExactDecimal, UtcDateTime

Conflict = Literal["error", "nothing", "update"]
Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Prepared:
    """One statement for one dialect: its text, and the processors of its parameters by
    position (only those that have one)."""

    sql: str
    #: (position, processor, the value types processed once per distinct value: only for the
    #: column types whose stored form depends on the value alone, not its representation)
    processors: tuple[tuple[int, Processor, frozenset[type]], ...]

    def rows(self, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """``rows`` as tuples of the values the driver should get: processed a column at a
        time (``map`` over a column, then the columns zipped back into rows); an instant or a
        decimal column once per distinct value (a batch's rows share their timestamps)."""
        if not self.processors:
            return [row if type(row) is tuple else tuple(row) for row in rows]
        columns: list[Any] = list(zip(*rows, strict=True))
        for index, process, by_value in self.processors:
            # By value only when every value is of the type itself (a float or a bool equal to
            # a decimal of the column must still reach the processor, which refuses it).
            if by_value and set(map(type, columns[index])) <= by_value:
                done = {value: process(value) for value in set(columns[index])}
                columns[index] = map(done.__getitem__, columns[index])
            else:
                columns[index] = map(process, columns[index])
        return list(zip(*columns, strict=True))


def insert_rows(
    connection: sa.Connection,
    table: sa.Table,
    columns: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Conflict = "error",
    keys: tuple[str, ...] = (),
) -> int:
    """Insert ``rows`` (values in the order of ``columns``) into ``table``; how many rows the
    database reports written.

    ``conflict``: ``"error"`` lets a duplicate key fail; ``"nothing"`` skips a row whose
    ``keys`` exist (it counts 0); ``"update"`` overwrites every other column of it.
    """
    if not rows:
        return 0
    dialect = connection.dialect
    prepared = _prepared(
        dialect,
        ("insert", table, columns, conflict, keys),
        lambda: _insert(dialect, table, columns, conflict, keys),
    )
    return execute_many(connection, prepared, rows)


def update_rows(
    connection: sa.Connection,
    table: sa.Table,
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
) -> int:
    """``UPDATE table SET columns WHERE keys`` once per row (values: ``columns`` then
    ``keys``); how many rows the database reports changed."""
    if not rows:
        return 0
    dialect = connection.dialect
    prepared = _prepared(
        dialect, ("update", table, columns, keys), lambda: _update(dialect, table, columns, keys)
    )
    return execute_many(connection, prepared, rows)


def execute_many(
    connection: sa.Connection, prepared: Prepared, rows: Sequence[Sequence[Any]]
) -> int:
    result = connection.exec_driver_sql(prepared.sql, prepared.rows(rows))
    return int(result.rowcount)


def select_in(
    connection: sa.Connection,
    table: sa.Table,
    columns: tuple[str, ...],
    key: str,
    values: Sequence[Any],
) -> Sequence[Any]:
    """``SELECT columns FROM table WHERE key IN (values)``, the rows as the driver gives them:
    for text columns, whose stored form is the value (no result processing is applied; a
    column with a result processor is refused). The SQL text is made once per dialect, table,
    columns and count of values, where an expanding ``IN`` of SQLAlchemy renders it anew for
    each execution."""
    if not values:
        return []
    dialect = connection.dialect
    prepared = _prepared(
        dialect,
        ("select", table, columns, key, len(values)),
        lambda: _select_in(dialect, table, columns, key, len(values)),
    )
    return connection.exec_driver_sql(prepared.sql, tuple(values)).all()


def delete_in(connection: sa.Connection, table: sa.Table, key: str, values: Sequence[Any]) -> int:
    """``DELETE FROM table WHERE key IN (values)`` for a text ``key`` (as :func:`select_in`);
    how many rows the database reports deleted."""
    if not values:
        return 0
    dialect = connection.dialect
    prepared = _prepared(
        dialect,
        ("delete", table, key, len(values)),
        lambda: _delete_in(dialect, table, key, len(values)),
    )
    return int(connection.exec_driver_sql(prepared.sql, tuple(values)).rowcount)


def row_getter(columns: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A function taking a row dictionary to its values in the order of ``columns``."""
    getter = itemgetter(*columns)
    if len(columns) == 1:
        return lambda row: (getter(row),)
    return getter


def _placeholder(dialect: Dialect) -> str:
    if dialect.paramstyle == "qmark":
        return "?"
    if dialect.paramstyle in ("format", "pyformat"):
        return "%s"
    raise StorageError("paramstyle", f"{dialect.paramstyle} is not a supported parameter style")


def _prepared(dialect: Dialect, key: tuple[Any, ...], make: Callable[[], Prepared]) -> Prepared:
    """The statement of ``key`` for ``dialect``, made once per dialect (an engine's dialect
    lives as long as the engine; the memo goes with it)."""
    memo = _MEMO.get(dialect)
    if memo is None:
        memo = _MEMO[dialect] = {}
    prepared = memo.get(key)
    if prepared is None:
        prepared = memo[key] = make()
    return prepared


_MEMO: WeakKeyDictionary[Dialect, dict[tuple[Any, ...], Prepared]] = WeakKeyDictionary()


def _insert(
    dialect: Dialect, table: sa.Table, columns: tuple[str, ...], conflict: Conflict,
    keys: tuple[str, ...],
) -> Prepared:  # fmt: skip
    _check_defaults(table, columns)
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(name) for name in columns)
    marks = ", ".join(_placeholder(dialect) for _ in columns)
    # Identifiers from the table metadata, quoted; values only ever as parameters.
    sql = f"INSERT INTO {quote.format_table(table)} ({names}) VALUES ({marks})"  # noqa: S608
    if conflict != "error":
        if not keys:
            raise StorageError(table.name, "a conflict clause needs the key columns")
        target = ", ".join(quote.quote(name) for name in keys)
        # Every other column of the table, as SQLAlchemy's upsert sets them: one left out of
        # ``columns`` takes its default, as the inserted row would.
        others = [column.name for column in table.columns if column.name not in keys]
        if conflict == "nothing" or not others:
            sql += f" ON CONFLICT ({target}) DO NOTHING"
        else:
            sets = ", ".join(f"{quote.quote(n)} = excluded.{quote.quote(n)}" for n in others)
            sql += f" ON CONFLICT ({target}) DO UPDATE SET {sets}"
    return Prepared(sql, _processors(dialect, table, columns))


def _update(
    dialect: Dialect, table: sa.Table, columns: tuple[str, ...], keys: tuple[str, ...]
) -> Prepared:
    quote = dialect.identifier_preparer
    mark = _placeholder(dialect)
    sets = ", ".join(f"{quote.quote(name)} = {mark}" for name in columns)
    where = " AND ".join(f"{quote.quote(name)} = {mark}" for name in keys)
    sql = f"UPDATE {quote.format_table(table)} SET {sets} WHERE {where}"  # noqa: S608
    return Prepared(sql, _processors(dialect, table, columns + keys))


def _select_in(
    dialect: Dialect, table: sa.Table, columns: tuple[str, ...], key: str, count: int
) -> Prepared:
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(name) for name in _as_stored(dialect, table, columns))
    sql = f"SELECT {names} FROM {quote.format_table(table)} WHERE {_in(dialect, table, key, count)}"  # noqa: S608
    return Prepared(sql, ())


def _delete_in(dialect: Dialect, table: sa.Table, key: str, count: int) -> Prepared:
    quote = dialect.identifier_preparer
    sql = f"DELETE FROM {quote.format_table(table)} WHERE {_in(dialect, table, key, count)}"  # noqa: S608
    return Prepared(sql, ())


def _in(dialect: Dialect, table: sa.Table, key: str, count: int) -> str:
    """``key IN (?, …)`` with ``count`` placeholders, for a key stored as its value."""
    (name,) = _as_stored(dialect, table, (key,))
    marks = ", ".join(_placeholder(dialect) for _ in range(count))
    return f"{dialect.identifier_preparer.quote(name)} IN ({marks})"


def _as_stored(dialect: Dialect, table: sa.Table, columns: tuple[str, ...]) -> tuple[str, ...]:
    """``columns``, refused when one has a bind or result processor for ``dialect`` (its
    stored form is not its value: these statements apply none)."""
    for name in columns:
        kind = table.c[name].type
        if kind._cached_result_processor(dialect, None) is not None or (
            kind._cached_bind_processor(dialect) is not None
        ):
            raise StorageError(table.name, f"column {name} is not stored as its value")
    return columns


_BY_VALUE: dict[type, frozenset[type]] = {
    ExactDecimal: frozenset({Decimal, type(None)}),
    UtcDateTime: frozenset({datetime, type(None)}),
}


def _processors(
    dialect: Dialect, table: sa.Table, columns: tuple[str, ...]
) -> tuple[tuple[int, Processor, frozenset[type]], ...]:
    found = []
    for index, name in enumerate(columns):
        kind = table.c[name].type
        process = kind._cached_bind_processor(dialect)
        if process is not None:
            # Equal decimals (``1.5``, ``1.50``) store the same count of ten-thousandths, equal
            # instants the same UTC instant: their processed forms are equal too.
            found.append((index, process, _BY_VALUE.get(type(kind), frozenset())))
    return tuple(found)


def _check_defaults(table: sa.Table, columns: tuple[str, ...]) -> None:
    for column in table.columns:
        if column.name not in columns and column.default is not None:
            raise StorageError(
                table.name, f"column {column.name} has a client-side default: give its value"
            )
