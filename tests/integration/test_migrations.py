"""The migrations, run on EMPTY databases: a new SQLite file, and a throwaway PostgreSQL database.

``upgrade head`` must build exactly the schema of ``tables.metadata`` (Alembic's autogenerate
comparison finds nothing to change, and the two things it does not compare, partial-index
predicates and key collations, are checked by reflection); ``downgrade base`` must take it all
away again; both run from an installed package without an ``alembic.ini``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import make_url

from suture.adapters.db import (  # the table modules complete the metadata
    client_tables,  # noqa: F401
    delivery_tables,  # noqa: F401
    exception_tables,  # noqa: F401
    migrate,
)
from suture.adapters.db.engine import create_engine
from suture.adapters.db.errors import StorageError
from suture.adapters.db.tables import KEY, metadata


@pytest.fixture
def throwaway_postgres(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty database ``suture_mig_<hex>``, dropped at the end."""
    name = f"suture_mig_{uuid4().hex[:12]}"
    server = make_url(postgres_url)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An engine on a database no migration has touched."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = request.getfixturevalue("throwaway_postgres")
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


#: The tables of the work queue (revision 0004).
EXCEPTION_TABLES = {"exception_items", "exception_actions"}


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_to_head_creates_every_table_and_downgrade_to_base_removes_them(
    empty_engine: sa.Engine,
) -> None:
    assert migrate.current_revision(empty_engine) is None

    migrate.upgrade(empty_engine)
    after_upgrade = (migrate.current_revision(empty_engine), table_names(empty_engine))
    migrate.downgrade(empty_engine, "base")
    after_downgrade = (migrate.current_revision(empty_engine), table_names(empty_engine))

    assert after_upgrade == (migrate.head_revision(), {*metadata.tables, "alembic_version"})
    assert after_downgrade == (None, {"alembic_version"})


def test_downgrading_the_inbox_leaves_the_initial_schema_and_upgrading_restores_it(
    empty_engine: sa.Engine,
) -> None:
    migrate.upgrade(empty_engine, "0001")
    initial = table_names(empty_engine)
    migrate.upgrade(empty_engine)

    migrate.downgrade(empty_engine, "0001")
    after_downgrade = (migrate.current_revision(empty_engine), table_names(empty_engine))
    migrate.upgrade(empty_engine)

    assert after_downgrade == ("0001", initial)
    assert "inbox_messages" not in initial
    assert table_names(empty_engine) == {*metadata.tables, "alembic_version"}


def test_downgrading_the_exception_queue_removes_only_its_tables(empty_engine: sa.Engine) -> None:
    migrate.upgrade(empty_engine, "0004")

    migrate.downgrade(empty_engine, "0003")
    after_downgrade = table_names(empty_engine)
    migrate.upgrade(empty_engine, "0004")

    assert after_downgrade == table_names(empty_engine) - EXCEPTION_TABLES


def test_the_migrated_schema_is_exactly_the_table_definitions(empty_engine: sa.Engine) -> None:
    migrate.upgrade(empty_engine)

    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)

    assert differences == []


def test_the_migrated_partial_indexes_keep_their_predicates(empty_engine: sa.Engine) -> None:
    migrate.upgrade(empty_engine)
    dialect = empty_engine.dialect.name
    inspector = sa.inspect(empty_engine)

    def predicate(clause: object) -> str:
        return str(clause).replace("(", "").replace(")", "").lower()

    expected, found = {}, {}
    for table in metadata.tables.values():
        reflected = {index["name"]: index for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            where = index.dialect_options[dialect]["where"]
            if where is not None:
                expected[index.name] = predicate(where)
                options = reflected[index.name].get("dialect_options", {})
                found[index.name] = predicate(options.get(f"{dialect}_where"))

    assert found == expected
    assert expected  # the one-current-entry-per-key index is among them


@pytest.mark.postgres
def test_ids_sort_bytewise_on_postgresql_whatever_the_server_collation(
    throwaway_postgres: str,
) -> None:
    engine = create_engine(throwaway_postgres)
    try:
        migrate.upgrade(engine)
        inspector = sa.inspect(engine)
        found = {
            (table.name, column["name"]): getattr(column["type"], "collation", None)
            for table in metadata.tables.values()
            for column in inspector.get_columns(table.name)
        }
    finally:
        engine.dispose()

    keys = {(c.table.name, c.name) for t in metadata.tables.values() for c in t.c if c.type is KEY}
    assert {key: found[key] for key in keys} == dict.fromkeys(keys, "C")


def test_ensure_schema_migrates_a_new_database_then_leaves_it_alone(
    empty_engine: sa.Engine,
) -> None:
    migrate.ensure_schema(empty_engine)
    migrate.ensure_schema(empty_engine)

    assert migrate.current_revision(empty_engine) == migrate.head_revision()


def test_migrations_need_no_alembic_ini_in_the_working_directory(
    empty_engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    migrate.upgrade(empty_engine, "head")

    assert migrate.current_revision(empty_engine) == migrate.head_revision()


def test_sqlite_enforces_foreign_keys_again_after_migrating(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as connection:
            enforced = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    finally:
        engine.dispose()

    assert enforced == 1


def test_an_unknown_revision_is_refused_naming_the_revision(empty_engine: sa.Engine) -> None:
    with pytest.raises(StorageError) as refused:
        migrate.upgrade(empty_engine, "9999")

    assert (refused.value.field, migrate.current_revision(empty_engine)) == ("revision", None)


#: The tables of the outbound delivery queue (revision 0005).
DELIVERY_TABLES = {"deliveries", "delivery_attempts", "delivery_targets"}


def test_downgrading_the_delivery_queue_removes_only_its_tables(empty_engine: sa.Engine) -> None:
    migrate.upgrade(empty_engine, "0005")

    migrate.downgrade(empty_engine, "0004")
    after_downgrade = table_names(empty_engine)
    migrate.upgrade(empty_engine, "0005")

    assert after_downgrade == table_names(empty_engine) - DELIVERY_TABLES


def test_downgrading_the_api_clients_removes_only_their_table(empty_engine: sa.Engine) -> None:
    migrate.upgrade(empty_engine, "0007")

    migrate.downgrade(empty_engine, "0006")
    after_downgrade = table_names(empty_engine)
    migrate.upgrade(empty_engine, "0007")

    assert after_downgrade == table_names(empty_engine) - {"api_clients"}


def test_downgrading_the_usage_workflow_removes_only_its_tables(empty_engine: sa.Engine) -> None:
    migrate.upgrade(empty_engine, "0010")

    migrate.downgrade(empty_engine, "0009")
    after_downgrade = table_names(empty_engine)
    migrate.upgrade(empty_engine, "0010")

    assert after_downgrade == table_names(empty_engine) - {"usage_workflows", "expected_charges"}


def test_downgrading_requisition_approval_removes_only_its_tables(empty_engine: sa.Engine) -> None:
    migrate.upgrade(empty_engine, "0011")

    migrate.downgrade(empty_engine, "0010")
    after_downgrade = table_names(empty_engine)
    columns = {c["name"] for c in sa.inspect(empty_engine).get_columns("purchase_order_lines")}
    migrate.upgrade(empty_engine, "0011")

    assert after_downgrade == table_names(empty_engine) - {
        "requisition_approvals",
        "trading_partners",
    }
    assert "off_contract" not in columns


def test_downgrading_the_partial_parked_index_restores_the_whole_index(
    empty_engine: sa.Engine,
) -> None:
    dialect = empty_engine.dialect.name

    def parked_index() -> tuple[list[str | None], object]:
        (index,) = [
            i
            for i in sa.inspect(empty_engine).get_indexes("handler_work")
            if i["name"] == "ix_handler_work_parked_on"
        ]
        where = index.get("dialect_options", {}).get(f"{dialect}_where")
        return index["column_names"], None if where is None else str(where).strip("()").lower()

    migrate.upgrade(empty_engine, "0017")
    upgraded = parked_index()
    migrate.downgrade(empty_engine, "0016")
    downgraded = parked_index()

    assert (upgraded, downgraded) == (
        (["parked_on"], "parked_on is not null"),
        (["parked_on"], None),
    )


def test_downgrading_the_duplicate_clearances_removes_only_their_table(
    empty_engine: sa.Engine,
) -> None:
    migrate.upgrade(empty_engine, "0018")

    migrate.downgrade(empty_engine, "0017")
    after_downgrade = table_names(empty_engine)
    migrate.upgrade(empty_engine, "0018")

    assert after_downgrade == table_names(empty_engine) - {"invoice_duplicate_clearances"}
