"""Encounters (ADT, BAR) and staff reference data (MFN^M02) on SQLAlchemy Core."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from suture.adapters.db.context_tables import encounters, staff_members
from suture.adapters.db.errors import storage_errors
from suture.adapters.db.repositories.base import upsert
from suture.domain.encounters import Encounter, StaffMember


def _upsert(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    with storage_errors(table.name):
        connection.execute(upsert(connection.dialect.name, table), rows)


class EncounterRepository:
    """``encounters``: one row per facility and encounter token."""

    table = encounters

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def get(
        self, facility_id: str, encounter_token: str, *, lock: bool = False
    ) -> Encounter | None:
        c = self.table.c
        query = sa.select(self.table).where(
            (c.facility_id == facility_id) & (c.encounter_token == encounter_token)
        )
        if lock:
            query = query.with_for_update()
        with storage_errors(self.table.name):
            row = self._connection.execute(query).first()
        return None if row is None else Encounter(**row._asdict())

    def save_many(self, found: Iterable[Encounter]) -> None:
        """Insert or replace each encounter (callers merge with what is stored first)."""
        _upsert(self._connection, self.table, [_values(e) for e in found])

    def list(
        self, *, facility_id: str | None = None, after: str | None = None, limit: int = 100
    ) -> builtins.list[Encounter]:
        c = self.table.c
        query = sa.select(self.table).order_by(c.encounter_token).limit(limit)
        if facility_id is not None:
            query = query.where(c.facility_id == facility_id)
        if after is not None:
            query = query.where(c.encounter_token > after)
        with storage_errors(self.table.name):
            return [Encounter(**row._asdict()) for row in self._connection.execute(query)]


class StaffRepository:
    """``staff_members``: one row per source system and staff id."""

    table = staff_members

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def get(self, source_system: str, staff_id: str) -> StaffMember | None:
        c = self.table.c
        query = sa.select(self.table).where(
            (c.source_system == source_system) & (c.staff_id == staff_id)
        )
        with storage_errors(self.table.name):
            row = self._connection.execute(query).first()
        return None if row is None else StaffMember(**row._asdict())

    def save_many(self, members: Iterable[StaffMember]) -> None:
        _upsert(self._connection, self.table, [_values(m) for m in members])


def _values(obj: Encounter | StaffMember) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in type(obj).__dataclass_fields__}
