"""Alembic's environment for Suture: migrate the connection ``suture.adapters.db.migrate`` passes.

``migrate.py`` configures Alembic in code and hands over an open connection in
``config.attributes["connection"]``, so migrations run from an installed package with no
``alembic.ini`` in the working directory, inside the caller's transaction. Run from the ``alembic``
command line with a ``sqlalchemy.url`` in an ini file, the URL goes through the same
``create_engine`` (and so the same SQLite settings and URL checks) as the application.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from suture.adapters.db import (  # the table modules complete the metadata
    audit_tables,  # noqa: F401
    client_tables,  # noqa: F401
    context_tables,  # noqa: F401
    delivery_tables,  # noqa: F401
    eventlog_tables,  # noqa: F401
    exception_tables,  # noqa: F401
    interface_tables,  # noqa: F401
    match_tables,  # noqa: F401
    supplier_document_tables,  # noqa: F401
    usage_tables,  # noqa: F401
)
from suture.adapters.db.engine import create_engine
from suture.adapters.db.errors import StorageError
from suture.adapters.db.tables import metadata


def run_migrations(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite alters a table by copying it; Alembic's batch mode does that for later revisions.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        raise StorageError("alembic", "offline (--sql) migrations are not supported")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise StorageError(
            "sqlalchemy.url",
            "no connection given; use suture.adapters.db.migrate or `suture migrate`",
        )
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


main()
