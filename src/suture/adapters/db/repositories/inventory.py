"""Repositories of inventory: usage records, and stock positions keyed by location and item.

A stock position is not an aggregate with an id: it is the on-hand quantity of one item at one
location, overwritten on every usage and receipt. ``save`` is one ``INSERT … ON CONFLICT DO
UPDATE`` statement, because the usage pipeline saves a position per event (DESIGN.md §10).
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

import sqlalchemy as sa

from suture.adapters.db import tables as t
from suture.adapters.db.bulk import insert_rows
from suture.adapters.db.errors import StorageError, storage_errors
from suture.adapters.db.repositories.base import AggregateRepository, Row, Values, upsert
from suture.domain.inventory import StockPosition, UsageRecord

_USAGE = (
    "id", "facility_id", "location_id", "item_id", "quantity", "uom", "used_at",
    "encounter_token", "department_id", "lot", "serial", "expiry", "udi", "source_system",
)  # fmt: skip
#: A usage record's values in the order of :data:`_USAGE` (its fields are named as the columns).
_usage_values = attrgetter(*_USAGE)


class UsageRepository(AggregateRepository[UsageRecord]):
    table = t.usage_records
    date_column = "used_at"

    def _write(self, objs: Sequence[UsageRecord]) -> None:
        """As the generic write (an upsert by id), the rows taken straight from the records:
        the usage pipeline writes one per usage."""
        with storage_errors(self.table.name):
            insert_rows(
                self._connection, self.table, _USAGE, [_usage_values(o) for o in objs],
                conflict="update", keys=("id",),
            )  # fmt: skip

    def to_row(self, obj: UsageRecord) -> Values:
        return {
            "id": obj.id,
            "facility_id": obj.facility_id,
            "location_id": obj.location_id,
            "item_id": obj.item_id,
            "quantity": obj.quantity,
            "uom": obj.uom,
            "used_at": obj.used_at,
            "encounter_token": obj.encounter_token,
            "department_id": obj.department_id,
            "lot": obj.lot,
            "serial": obj.serial,
            "expiry": obj.expiry,
            "udi": obj.udi,
            "source_system": obj.source_system,
        }

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> UsageRecord:
        return UsageRecord(**row._mapping)


class StockPositionRepository:
    """On-hand positions; ``list`` orders by (location, item)."""

    table = t.stock_positions

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def get(self, location_id: str, item_id: str, *, lock: bool = False) -> StockPosition | None:
        # SQLite transactions begin IMMEDIATE (one writer at a time), so only PostgreSQL needs
        # the row lock; SQLAlchemy leaves FOR UPDATE out on SQLite.
        query = sa.select(self.table).where(
            (self.table.c.location_id == location_id) & (self.table.c.item_id == item_id)
        )
        if lock:
            query = query.with_for_update()
        with storage_errors(self.table.name):
            row = self._connection.execute(query).first()
        return None if row is None else StockPosition(**row._mapping)

    def save(self, position: StockPosition) -> None:
        values = {
            "location_id": position.location_id,
            "item_id": position.item_id,
            "facility_id": position.facility_id,
            "on_hand": position.on_hand,
            "consigned_on_hand": position.consigned_on_hand,
            "updated_at": position.updated_at,
        }
        with storage_errors(self.table.name):
            self._connection.execute(upsert(self._connection.dialect.name, self.table), values)

    def list(
        self, *, location_id: str | None = None, after_item: str | None = None, limit: int = 100
    ) -> list[StockPosition]:
        if limit < 1:
            raise StorageError("limit", f"must be at least 1, got {limit}")
        query = (
            sa.select(self.table)
            .order_by(self.table.c.location_id, self.table.c.item_id)
            .limit(limit)
        )
        if location_id is not None:
            query = query.where(self.table.c.location_id == location_id)
        if after_item is not None:
            query = query.where(self.table.c.item_id > after_item)
        with storage_errors(self.table.name):
            rows = self._connection.execute(query).all()
        return [StockPosition(**row._mapping) for row in rows]

    def count_by_facility(self) -> dict[str | None, int]:
        column = self.table.c.facility_id
        with storage_errors(self.table.name):
            rows = self._connection.execute(sa.select(column, sa.func.count()).group_by(column))
            return dict(rows.all())
