"""The plain ``executemany`` path (``adapters/db/bulk.py``) stores what SQLAlchemy Core stores.

Each value is compared as the database holds it (read back raw, without SQLAlchemy's result
processing): exact decimals, UTC instants from another zone, booleans, binary, JSON, dates and
NULLs. The row counts it reports are what the workflow steps rely on to know what was stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from suture.adapters.db.bulk import delete_in, insert_rows, select_in, update_rows
from suture.adapters.db.errors import StorageError
from suture.adapters.db.types import ExactDecimal, UtcDateTime

COLUMNS = ("id", "amount", "at", "flag", "blob", "doc", "day", "note", "n")


@pytest.fixture
def probe(engine: sa.Engine) -> Iterator[sa.Table]:
    """A scratch table with one column of every kind the hot writes use."""
    metadata = sa.MetaData()
    table = sa.Table(
        f"bulk_probe_{uuid.uuid4().hex[:8]}", metadata,
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("amount", ExactDecimal("amount")),
        sa.Column("at", UtcDateTime("at")),
        sa.Column("flag", sa.Boolean()),
        sa.Column("blob", sa.LargeBinary()),
        sa.Column("doc", sa.JSON()),
        sa.Column("day", sa.Date()),
        sa.Column("note", sa.Text()),
        sa.Column("n", sa.Integer()),
    )  # fmt: skip
    metadata.create_all(engine)
    try:
        yield table
    finally:
        metadata.drop_all(engine)


def _rows(prefix: str) -> list[dict[str, Any]]:
    zone = timezone(timedelta(hours=-5))
    return [
        {"id": f"{prefix}1", "amount": Decimal("1234.5678"),
         "at": datetime(2024, 11, 3, 1, 30, 0, 1, tzinfo=zone), "flag": True, "blob": b"a,b\n",
         "doc": {"k": [1, "x"]}, "day": date(2024, 2, 29), "note": "é", "n": 7},
        {"id": f"{prefix}2", "amount": Decimal("-0.0001"),
         "at": datetime(2024, 1, 1, tzinfo=UTC), "flag": False, "blob": b"",
         "doc": None, "day": None, "note": None, "n": None},
        {"id": f"{prefix}3", "amount": Decimal("1E+3"),
         "at": datetime(2024, 6, 1, 12, tzinfo=UTC), "flag": None, "blob": None,
         "doc": [], "day": date(1999, 12, 31), "note": "", "n": 0},
    ]  # fmt: skip


def _raw(connection: sa.Connection, table: sa.Table, prefix: str) -> list[tuple[Any, ...]]:
    """The stored values as the driver returns them, ids without their prefix."""
    names = ", ".join(COLUMNS)
    rows = connection.exec_driver_sql(f"SELECT {names} FROM {table.name} ORDER BY id").all()
    return [(row[0].removeprefix(prefix), *row[1:]) for row in rows if row[0].startswith(prefix)]


def test_rows_are_stored_exactly_as_sqlalchemy_core_stores_them(
    engine: sa.Engine, probe: sa.Table
) -> None:
    with engine.begin() as connection:
        connection.execute(sa.insert(probe), _rows("core-"))
        written = insert_rows(
            connection, probe, COLUMNS, [tuple(r[c] for c in COLUMNS) for r in _rows("bulk-")]
        )
        core, bulk = _raw(connection, probe, "core-"), _raw(connection, probe, "bulk-")

    assert (written, bulk) == (3, core)


def test_a_conflict_skipped_counts_nothing_and_an_upsert_overwrites(
    engine: sa.Engine, probe: sa.Table
) -> None:
    rows = [tuple(r[c] for c in COLUMNS) for r in _rows("k-")]
    changed = [(row[0], Decimal("5"), *row[2:]) for row in rows]
    with engine.begin() as connection:
        first = insert_rows(connection, probe, COLUMNS, rows[:2], conflict="nothing", keys=("id",))
        again = insert_rows(connection, probe, COLUMNS, rows, conflict="nothing", keys=("id",))
        insert_rows(connection, probe, COLUMNS, changed, conflict="update", keys=("id",))
        amounts = connection.execute(sa.select(probe.c.amount).order_by(probe.c.id)).scalars()
        updated = update_rows(
            connection, probe, ("note",), ("id",), [("one", "k-1"), ("none", "k-9")]
        )
        note = connection.execute(sa.select(probe.c.note).where(probe.c.id == "k-1")).scalar()

    assert (first, again, list(amounts), updated, note) == (2, 1, [Decimal(5)] * 3, 1, "one")


def test_a_duplicate_key_fails_without_a_conflict_clause(
    engine: sa.Engine, probe: sa.Table
) -> None:
    row = tuple(_rows("d-")[0][c] for c in COLUMNS)
    with engine.connect() as connection, pytest.raises(sa.exc.IntegrityError):
        insert_rows(connection, probe, COLUMNS, [row, row])


def test_a_value_the_type_refuses_is_refused(engine: sa.Engine, probe: sa.Table) -> None:
    row = (*(tuple(_rows("r-")[0][c] for c in COLUMNS)[:1]), Decimal("0.00001"))
    with engine.connect() as connection, pytest.raises(StorageError):
        insert_rows(connection, probe, ("id", "amount"), [row])


def test_a_client_side_default_left_out_is_refused(engine: sa.Engine) -> None:
    table = sa.Table(
        "bulk_defaults", sa.MetaData(), sa.Column("id", sa.String, primary_key=True),
        sa.Column("n", sa.Integer, default=1),
    )  # fmt: skip
    with engine.connect() as connection, pytest.raises(StorageError):
        insert_rows(connection, table, ("id",), [("a",)])


def test_a_float_beside_an_equal_decimal_is_still_refused(
    engine: sa.Engine, probe: sa.Table
) -> None:
    rows = [("f-1", Decimal("1.5")), ("f-2", 1.5), ("f-3", Decimal("1.50"))]
    with engine.connect() as connection, pytest.raises(StorageError):
        insert_rows(connection, probe, ("id", "amount"), rows)


def test_equal_values_in_another_form_are_stored_as_the_same_value(
    engine: sa.Engine, probe: sa.Table
) -> None:
    at = datetime(2024, 6, 1, 12, tzinfo=UTC)
    same = at.astimezone(timezone(timedelta(hours=2)))
    rows = [("e-1", Decimal("1.5"), at), ("e-2", Decimal("1.50"), same), ("e-3", None, None)]
    with engine.begin() as connection:
        insert_rows(connection, probe, ("id", "amount", "at"), rows)
        stored = connection.execute(
            sa.select(probe.c.amount, probe.c.at).order_by(probe.c.id)
        ).all()

    assert [tuple(row) for row in stored] == [(Decimal("1.5"), at)] * 2 + [(None, None)]


def test_select_in_and_delete_in_touch_exactly_the_keys_given(
    engine: sa.Engine, probe: sa.Table
) -> None:
    rows = [tuple(r[c] for c in COLUMNS) for r in _rows("s-")]
    with engine.begin() as connection:
        insert_rows(connection, probe, COLUMNS, rows)
        found = select_in(connection, probe, ("id", "note"), "id", ["s-1", "s-3", "s-9"])
        none = select_in(connection, probe, ("id",), "id", [])
        deleted = delete_in(connection, probe, "id", ["s-2", "s-3", "s-9"])
        left = connection.execute(sa.select(probe.c.id).order_by(probe.c.id)).scalars().all()

    assert (sorted(map(tuple, found)), none, deleted, left) == (
        [("s-1", "é"), ("s-3", "")], [], 2, ["s-1"]
    )  # fmt: skip


def test_select_in_refuses_a_column_not_stored_as_its_value(
    engine: sa.Engine, probe: sa.Table
) -> None:
    with engine.connect() as connection, pytest.raises(StorageError):
        select_in(connection, probe, ("id", "at"), "id", ["x"])
