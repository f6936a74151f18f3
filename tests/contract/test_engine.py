"""Engines: the embedded SQLite settings, and only the two supported databases."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from suture.adapters.db.engine import create_engine
from suture.adapters.db.errors import StorageError


def test_sqlite_connections_use_wal_foreign_keys_a_busy_timeout_and_normal_sync(
    sqlite_url: str,
) -> None:
    engine = create_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
    finally:
        engine.dispose()

    # PRAGMA synchronous reads NORMAL back as 1.
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 5000,
        "synchronous": 1,
    }


def test_background_checkpoints_copy_commits_into_the_database_file_not_the_commits(
    tmp_path: Path,
) -> None:
    path = tmp_path / "suture.db"
    engine = create_engine(f"sqlite:///{path}", sqlite_background_checkpoints=True)
    with engine.connect():
        pass  # creates the file in WAL mode
    bystander = sqlite3.connect(path)  # open throughout: closing the engine's last connection
    bystander.execute("SELECT count(*) FROM sqlite_master").fetchall()  # would checkpoint too
    try:
        try:
            with engine.begin() as connection:
                autocheckpoint = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
                connection.exec_driver_sql("CREATE TABLE notes (text TEXT)")
                connection.exec_driver_sql("INSERT INTO notes VALUES ('kept')")
        finally:
            engine.dispose()  # stops the checkpointer after a last round
        # The database file alone: "immutable" ignores the WAL, so only checkpointed pages show.
        reader = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            rows = reader.execute("SELECT text FROM notes").fetchall()
        finally:
            reader.close()
    finally:
        bystander.close()

    assert (autocheckpoint, rows) == (0, [("kept",)])


def test_connections_checkpoint_themselves_again_once_the_engine_is_disposed(
    tmp_path: Path,
) -> None:
    engine = create_engine(
        f"sqlite:///{tmp_path / 'suture.db'}", sqlite_background_checkpoints=True
    )
    engine.dispose()
    try:
        with engine.connect() as connection:
            autocheckpoint = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    finally:
        engine.dispose()

    assert autocheckpoint == 1000  # SQLite's default


def test_the_missing_directory_of_a_sqlite_file_is_created(tmp_path: Path) -> None:
    path = tmp_path / "new" / "nested" / "suture.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()

    assert path.is_file()


@pytest.mark.parametrize(
    "url",
    ["mysql://root@localhost/suture", "postgresql://postgres@localhost/test", "oracle://x"],
)
def test_other_databases_and_drivers_are_refused_naming_database_url(url: str) -> None:
    with pytest.raises(StorageError) as refused:
        create_engine(url)

    assert (refused.value.field, "unsupported scheme" in refused.value.reason) == (
        "database_url",
        True,
    )


def test_a_malformed_url_is_refused_naming_database_url() -> None:
    with pytest.raises(StorageError) as refused:
        create_engine("not a url")

    assert refused.value.field == "database_url"


def test_postgresql_connections_are_pinged_before_use() -> None:
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/never-connected")

    assert engine.pool._pre_ping is True
    engine.dispose()


def test_postgresql_sessions_run_in_utc_and_read_instants_as_python_utc(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            zone = connection.exec_driver_sql("SELECT current_setting('TimeZone')").scalar()
            read = connection.exec_driver_sql("SELECT TIMESTAMPTZ '2025-03-03 15:05+01'").scalar()
    finally:
        engine.dispose()

    assert (zone, read, read.tzinfo) == ("UTC", datetime(2025, 3, 3, 14, 5, tzinfo=UTC), UTC)
