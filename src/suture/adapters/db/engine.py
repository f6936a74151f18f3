"""Engines for the two supported databases: the embedded SQLite file and PostgreSQL.

DESIGN.md §8: the embedded default is one SQLite file in WAL mode; scale-out is PostgreSQL through
psycopg 3. Any other URL is refused up front, because the schema and the column types
(``types.py``) are only known to round-trip exactly on those two.

SQLite connections are set up on connect: WAL (readers never block the writer), foreign keys on
(SQLite leaves them off by default), a 5 s busy timeout (wait for the write lock instead of
failing at once) and ``synchronous=NORMAL``: with WAL the file stays consistent whatever happens
and a process crash loses no commit, but a power cut or OS crash may lose the last commits before
it (FULL would fsync every commit, at a large cost to the ingest rate). The engine that writes
the most may move WAL checkpoints, and their ``fsync``, out of its commits into a thread
(``sqlite_background_checkpoints``, ``checkpoint.py``); durability stays as described.

The sqlite3 driver's legacy transaction control, which starts no transaction before a SELECT, is
switched off and SQLAlchemy emits ``BEGIN`` itself, so a unit of work is one real transaction
(SQLAlchemy's SQLite dialect documentation, "Transactions with SQLite and the sqlite3 driver").

That ``BEGIN`` is ``IMMEDIATE`` by default: the transaction takes the write lock when it starts,
waiting up to the busy timeout. A deferred transaction that reads, then writes, fails at once
with "database is locked" if another connection wrote in between (SQLite cannot upgrade a stale
read snapshot), which a handler that checks then writes would hit under load. An engine used
only for reads may pass ``sqlite_begin="DEFERRED"`` so its readers run beside the writer.

PostgreSQL sessions run in UTC (``SET TIME ZONE 'UTC'`` on connect), the zone every instant is
stored and returned in (``types.UtcDateTime``): psycopg then reads a ``timestamptz`` as a UTC
datetime directly, where in the server's zone (``Etc/UTC`` is not Python's ``UTC``) it converted
each value to that zone and ``UtcDateTime`` converted it back: 0.7 µs a value against 0.2, and
a batch of the bus reads thousands (docs/backbone.md, "Throughput"). No statement of Suture
depends on the session's zone; instants are compared and stored as instants either way.

Both engines hide statement parameters (``hide_parameters=True``): SQLAlchemy would otherwise
quote them in every ``DBAPIError`` message and in its SQL log (``sqlalchemy.engine`` at INFO), and
parameters carry business keys, patient tokens and status reasons, which must never reach a log
(DESIGN.md §4). Never switch that logger to DEBUG in production: it logs result rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from suture.adapters.db.checkpoint import WalCheckpointer
from suture.adapters.db.errors import StorageError

SQLITE_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite"})
POSTGRESQL_DRIVERS = frozenset({"postgresql+psycopg"})
BUSY_TIMEOUT_MS = 5000


def create_engine(
    url: str,
    *,
    sqlite_begin: Literal["IMMEDIATE", "DEFERRED"] = "IMMEDIATE",
    sqlite_background_checkpoints: bool = False,
) -> sa.Engine:
    """An engine for ``sqlite:///path`` or ``postgresql+psycopg://…``; other schemes are refused.

    For SQLite the parent directory of the file is created when missing, so the embedded default
    works on a fresh machine. Nothing connects until the engine is first used.
    ``sqlite_background_checkpoints`` moves WAL checkpoints out of commits into a thread that
    lives until the engine is disposed (``checkpoint.py``); the engine that writes the most
    should have it.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError("database_url", f"not a database URL: {exc}") from exc
    if parsed.drivername in SQLITE_DRIVERS:
        return _sqlite_engine(parsed, sqlite_begin, background=sqlite_background_checkpoints)
    if parsed.drivername in POSTGRESQL_DRIVERS:
        engine = sa.create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
        event.listen(engine, "connect", _utc_session)
        return engine
    raise StorageError(
        "database_url",
        f"unsupported scheme {parsed.drivername!r}: use sqlite:///path/to/file.db "
        "or postgresql+psycopg://user@host/database",
    )


def ping(engine: sa.Engine) -> None:
    """Run ``SELECT 1`` (readiness probes); when the database does not answer, a
    :class:`StorageError` on ``database`` says why, in the driver's words, with the URL's
    password masked should the driver ever quote it (libpq names host, port and user)."""
    try:
        connection = engine.connect()
    except sa.exc.SQLAlchemyError as exc:
        # psycopg's own "connection failed: " would say it twice
        why = _why(exc, engine.url).removeprefix("connection failed: ")
        raise StorageError("database", f"cannot connect: {why}") from exc
    with connection:
        try:
            connection.exec_driver_sql("SELECT 1")
        except sa.exc.SQLAlchemyError as exc:
            raise StorageError("database", f"SELECT 1 failed: {_why(exc, engine.url)}") from exc


def _why(exc: sa.exc.SQLAlchemyError, url: URL) -> str:
    """The first line of the driver's message (SQLAlchemy appends its own lines and links)."""
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    reason = lines[0] if lines else type(exc).__name__
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return reason


def _utc_session(dbapi_connection: Any, _record: Any) -> None:
    """A PostgreSQL session in UTC (see the module docstring), set once per connection."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute("SET TIME ZONE 'UTC'")
    finally:
        dbapi_connection.autocommit = autocommit


def _sqlite_engine(
    url: URL, begin: Literal["IMMEDIATE", "DEFERRED"], *, background: bool
) -> sa.Engine:
    checkpointer: WalCheckpointer | None = None
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        path = Path(url.database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        if background:
            checkpointer = WalCheckpointer(path)
    engine = sa.create_engine(url, hide_parameters=True)
    if checkpointer is not None:
        checkpointer.start()
        event.listen(engine, "engine_disposed", lambda _engine: checkpointer.stop())

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN, see the docstring
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            if checkpointer is not None and checkpointer.running:
                cursor.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's job
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql(f"BEGIN {begin}")

    return engine
