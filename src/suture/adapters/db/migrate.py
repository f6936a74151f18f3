"""Run the schema migrations from code: upgrade, downgrade, read the current revision.

Alembic is configured programmatically (``Config()`` with ``script_location`` set to the
``migrations`` directory next to this module), so it works from an installed package with no
``alembic.ini`` in the working directory; the connection is passed through
``config.attributes["connection"]`` and each call runs in one transaction (both databases have
transactional DDL, so a failed migration leaves the schema as it was).

``ensure_schema`` is what the embedded SQLite default calls on first use. Concurrent callers are
serialised: on PostgreSQL by a transaction-scoped advisory lock, on SQLite by ``BEGIN
IMMEDIATE`` (``engine.py``), so two processes starting together do not both create the tables.

On SQLite, foreign keys are switched off while migrating and checked before commit: SQLite alters
a table by rebuilding it (Alembic's batch mode), and dropping the old copy of a table other
tables refer to fails while they are enforced (sqlite.org/lang_altertable.html, section 7).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import make_url

from suture.adapters.db.engine import create_engine
from suture.adapters.db.errors import StorageError, storage_errors

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

#: Key of the PostgreSQL advisory lock held while migrating (an arbitrary, fixed 64-bit number).
_MIGRATION_LOCK = 0x5375747572650001


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision``."""
    with _migrating(engine) as connection, _revision_errors(revision):
        command.upgrade(_config(connection), revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Migrate the database down to ``revision`` (``"base"``: an empty schema)."""
    with _migrating(engine) as connection, _revision_errors(revision):
        command.downgrade(_config(connection), revision)


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    with storage_errors("schema"), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision this version of Suture ships."""
    return ScriptDirectory.from_config(_config(None)).get_current_head()


def ensure_schema(engine: sa.Engine) -> None:
    """Migrate to head unless the database is already there."""
    head = head_revision()
    if current_revision(engine) == head:
        return
    with _migrating(engine) as connection:
        if MigrationContext.configure(connection).get_current_revision() != head:
            command.upgrade(_config(connection), "head")


def _config(connection: sa.Connection | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _revision_errors(revision: str) -> Iterator[None]:
    """Alembic's refusals (an unknown revision, a downgrade that goes up) as StorageError."""
    try:
        yield
    except CommandError as exc:
        raise StorageError("revision", f"cannot migrate to {revision!r}: {exc}") from exc


@contextmanager
def _migrating(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One locked transaction to migrate in; on SQLite with foreign keys checked, not enforced."""
    with storage_errors("schema"), engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _pragma_outside_transaction(connection, "PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if not sqlite:
                    connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
                yield connection
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            if sqlite:
                _pragma_outside_transaction(connection, "PRAGMA foreign_keys=ON")


def _pragma_outside_transaction(connection: sa.Connection, pragma: str) -> None:
    """Run a pragma on the driver connection directly: SQLite ignores this one in a transaction."""
    driver = connection.connection.driver_connection
    if driver is None:
        raise StorageError("schema", "the SQLite connection closed while migrating")
    driver.execute(pragma)


def _check_foreign_keys(connection: sa.Connection) -> None:
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if violations:
        tables = sorted({str(row[0]) for row in violations})
        raise StorageError(
            "schema",
            f"the migration left {len(violations)} rows with dangling foreign keys in {tables}",
        )


@contextmanager
def scratch_schema(postgres_url: str, prefix: str) -> Iterator[str]:
    """The URL of a new PostgreSQL schema migrated to head, dropped with its contents at the end.

    For tests and benchmarks that need an event log of their own on a shared server (a relay
    publishes every unpublished event of its database), isolated by a random name.
    """
    schema = f"{prefix}_{uuid4().hex[:12]}"
    admin = create_engine(postgres_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    engine = create_engine(rendered)
    try:
        ensure_schema(engine)
        engine.dispose()
        yield rendered
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
