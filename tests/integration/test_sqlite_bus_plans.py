"""SQLite's plans for the bus's batch statements: each finds its items by address or by key.

A batch's claim counts its items by ``rowid``, its lock finds them there (or by key), its
completion deletes them by key. With a term on ``status`` beside the keys, the planner (no
statistics: nothing runs ``ANALYZE``) chose the claim index instead and read every pending
item, a cost that grew with the backlog. The statements are read as migrated (``upgrade
head``), by ``EXPLAIN QUERY PLAN``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.repositories import eventlog, handler_work


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Connection]:
    path: Path = tmp_path_factory.mktemp("plans") / "suture.db"
    engine = create_engine(f"sqlite:///{path}")
    ensure_schema(engine)
    with engine.connect() as opened:
        yield opened
    engine.dispose()


def plan(connection: sa.Connection, statement: str, parameters: tuple[object, ...]) -> str:
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return "\n".join(row[-1] for row in rows)


def test_the_claim_counts_its_items_by_rowid(connection: sa.Connection) -> None:
    found = plan(connection, handler_work._SQLITE_COUNT_ATTEMPTS, ("a", "b", "c", "[1]"))
    assert "SEARCH handler_work USING INTEGER PRIMARY KEY (rowid=?)" in found
    assert "ix_handler_work_claim" not in found


def test_counting_attempts_by_key_searches_the_primary_key(connection: sa.Connection) -> None:
    found = plan(
        connection, handler_work._SQLITE_COUNT_ATTEMPTS_BY_KEYS, ("a", "b", "c", "[]", "pending")
    )
    assert "USING INDEX sqlite_autoindex_handler_work_1 (handler=? AND event_id=?)" in found
    assert "ix_handler_work_claim" not in found


def test_the_completion_deletes_by_key(connection: sa.Connection) -> None:
    found = plan(connection, handler_work._SQLITE_DELETE, ("[]",))
    assert "USING INDEX sqlite_autoindex_handler_work_1 (handler=? AND event_id=?)" in found


@pytest.mark.parametrize(
    ("statement", "search"),
    [(eventlog._SQLITE_CLAIMED_AT_ROWS, "SEARCH w USING INTEGER PRIMARY KEY (rowid=?)"),
     (eventlog._SQLITE_CLAIMED_BY_KEYS,
      "SEARCH w USING INDEX sqlite_autoindex_handler_work_1 (handler=? AND event_id=?)")],
)  # fmt: skip
def test_the_lock_reads_each_item_and_its_event_by_address_or_key(
    connection: sa.Connection, statement: str, search: str
) -> None:
    found = plan(connection, statement, ("[]",))
    assert search in found
    assert "SEARCH e USING INTEGER PRIMARY KEY (rowid=?)" in found
    assert "SEARCH tr USING COVERING INDEX sqlite_autoindex_tracking_1" in found


def test_the_claim_reads_due_items_by_the_claim_index(connection: sa.Connection) -> None:
    found = plan(connection, handler_work._sqlite_claim(2), ("pending", "now", "a", "b", 500))
    assert "SEARCH w USING INDEX ix_handler_work_claim (status=? AND next_attempt_at<?)" in found
