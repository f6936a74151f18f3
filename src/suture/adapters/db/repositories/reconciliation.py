"""Repositories of charge-to-cost reconciliation: the chargemaster, and the continuous state.

:class:`ReconciliationRepository` also reads the two sides of a key from the tables their
workflows write (``expected_charges``, ``charges``), so the handler re-evaluates a key from what
is committed, whatever order its lines' events arrive in. Writes are upserts keyed by the
primary key, so re-evaluating a key twice stores the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from suture.adapters.db import tables as t
from suture.adapters.db.errors import storage_errors
from suture.adapters.db.reconciliation_tables import chargemaster_prices, reconciliation_lines
from suture.adapters.db.repositories.base import upsert
from suture.adapters.db.usage_tables import expected_charges
from suture.domain.reconciliation import (
    ChargeLine,
    ChargemasterPrice,
    Key,
    Outcome,
    Side,
    UsageLine,
)
from suture.domain.reconciliation_state import LineState
from suture.domain.revenue import ChargeType

_NONE = "none:"


def _upsert(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    with storage_errors(table.name):
        connection.execute(upsert(connection.dialect.name, table), rows)


class ChargemasterRepository:
    """CDM prices per facility and effective date (``chargemaster_prices``)."""

    table = chargemaster_prices

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def get(
        self, facility_id: str, cdm_code: str, effective_from: date
    ) -> ChargemasterPrice | None:
        c = self.table.c
        query = sa.select(self.table).where(
            (c.facility_id == facility_id) & (c.cdm_code == cdm_code)
            & (c.effective_from == effective_from)
        )  # fmt: skip
        with storage_errors(self.table.name):
            row = self._connection.execute(query).first()
        return None if row is None else _price(row)

    def add_many(self, prices: Iterable[ChargemasterPrice], *, source_system: str) -> None:
        """Insert or replace each price (by facility, CDM code and start)."""
        rows = [
            {"facility_id": p.facility_id, "cdm_code": p.cdm_code,
             "effective_from": p.effective_from, "effective_to": p.effective_to,
             "unit_price": p.unit_price, "description": p.description,
             "source_system": source_system}
            for p in prices
        ]  # fmt: skip
        _upsert(self._connection, self.table, rows)

    def for_codes(
        self, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], list[ChargemasterPrice]]:
        """The prices of each ``(facility, CDM code)``, by that pair."""
        found: dict[tuple[str, str], list[ChargemasterPrice]] = {}
        c = self.table.c
        for facility_id, cdm_code in sorted(set(pairs)):
            query = sa.select(self.table).where(
                (c.facility_id == facility_id) & (c.cdm_code == cdm_code)
            )
            with storage_errors(self.table.name):
                found[(facility_id, cdm_code)] = [
                    _price(row) for row in self._connection.execute(query)
                ]
        return found

    def count(self) -> int:
        with storage_errors(self.table.name):
            return int(self._connection.execute(
                sa.select(sa.func.count()).select_from(self.table)).scalar_one())  # fmt: skip


def _price(row: Any) -> ChargemasterPrice:
    return ChargemasterPrice(
        facility_id=row.facility_id, cdm_code=row.cdm_code, effective_from=row.effective_from,
        effective_to=row.effective_to, unit_price=row.unit_price, description=row.description,
    )  # fmt: skip


class ReconciliationRepository:
    """The continuous reconciliation's line states, and the two sides of a key."""

    table = reconciliation_lines

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def usage_lines(self, key: Key) -> list[UsageLine]:
        facility_id, encounter, cdm_code = key
        e = expected_charges.c
        where = (e.facility_id == facility_id) & (e.cdm_code == cdm_code)
        if encounter.startswith(_NONE):
            where &= (e.id == encounter[len(_NONE) :]) & e.encounter_token.is_(None)
        else:
            where &= e.encounter_token == encounter
        with storage_errors(expected_charges.name):
            rows = self._connection.execute(sa.select(expected_charges).where(where)).all()
        return [
            UsageLine(id=r.id, facility_id=r.facility_id, encounter_token=r.encounter_token,
                      cdm_code=r.cdm_code, quantity=r.quantity, cost=r.cost, at=r.used_at)
            for r in rows
        ]  # fmt: skip

    def charge_lines(self, key: Key) -> list[ChargeLine]:
        facility_id, encounter, cdm_code = key
        if encounter.startswith(_NONE):
            return []
        c = t.charges.c
        where = (
            (c.facility_id == facility_id)
            & (c.encounter_token == encounter)
            & (c.cdm_code == cdm_code)
        )
        with storage_errors(t.charges.name):
            rows = self._connection.execute(sa.select(t.charges).where(where)).all()
        return [
            ChargeLine(id=r.id, facility_id=r.facility_id, encounter_token=r.encounter_token,
                       cdm_code=r.cdm_code, quantity=r.quantity, amount=r.amount,
                       at=r.service_at, credit=r.transaction_type == ChargeType.CREDIT.value)
            for r in rows
        ]  # fmt: skip

    def states(self, key: Key) -> dict[tuple[Side, str], LineState]:
        """The stored states of the key's lines, locked for this transaction where the
        database can (PostgreSQL), so two workers re-evaluating one key take turns."""
        c = self.table.c
        query = sa.select(self.table).where(
            (c.facility_id == key[0]) & (c.encounter_key == key[1]) & (c.cdm_code == key[2])
        )
        if self._connection.dialect.name != "sqlite":
            query = query.with_for_update()
        with storage_errors(self.table.name):
            rows = self._connection.execute(query).all()
        return {(Side(r.side), r.line_id): _state(r) for r in rows}

    def get(self, side: Side, line_id: str) -> LineState | None:
        c = self.table.c
        query = sa.select(self.table).where((c.side == side.value) & (c.line_id == line_id))
        with storage_errors(self.table.name):
            row = self._connection.execute(query).first()
        return None if row is None else _state(row)

    def save_many(self, states: Sequence[LineState]) -> None:
        _upsert(self._connection, self.table, [_row(s) for s in states])

    def due(self, now: datetime, limit: int) -> list[LineState]:
        """Lines whose exception is due, oldest first, skipping rows another sweeper holds."""
        c = self.table.c
        query = (
            sa.select(self.table).where(c.due_at.is_not(None) & (c.due_at <= now))
            .order_by(c.due_at, c.side, c.line_id).limit(limit)
        )  # fmt: skip
        if self._connection.dialect.name != "sqlite":
            query = query.with_for_update(skip_locked=True)
        with storage_errors(self.table.name):
            return [_state(r) for r in self._connection.execute(query)]

    def all(self, facility_id: str | None = None) -> list[LineState]:
        """Every line's state (a facility's), by side and id: for reports and tests."""
        query = sa.select(self.table).order_by(self.table.c.side, self.table.c.line_id)
        if facility_id is not None:
            query = query.where(self.table.c.facility_id == facility_id)
        with storage_errors(self.table.name):
            return [_state(r) for r in self._connection.execute(query)]


def _row(state: LineState) -> dict[str, Any]:
    return {
        "side": state.side.value, "line_id": state.line_id, "facility_id": state.facility_id,
        "encounter_key": state.encounter_key, "cdm_code": state.cdm_code,
        "line_at": state.line_at, "quantity": state.quantity, "outcome": state.outcome.value,
        "unbilled": state.unbilled, "revenue_at_risk": state.revenue_at_risk,
        "matched_at": state.matched_at, "due_at": state.due_at,
        "exception_id": state.exception_id, "updated_at": state.updated_at,
    }  # fmt: skip


def _state(r: Any) -> LineState:
    return LineState(
        side=Side(r.side), line_id=r.line_id, facility_id=r.facility_id,
        encounter_key=r.encounter_key, cdm_code=r.cdm_code, line_at=r.line_at,
        quantity=r.quantity, outcome=Outcome(r.outcome), unbilled=r.unbilled,
        revenue_at_risk=r.revenue_at_risk, updated_at=r.updated_at, matched_at=r.matched_at,
        due_at=r.due_at, exception_id=r.exception_id,
    )  # fmt: skip
