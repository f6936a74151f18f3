"""Storage of each delivery target's limits, rate budget and circuit: one row per target.

The row is what makes the budget and the breaker shared: every worker reads it locked
(``SELECT … FOR UPDATE`` on PostgreSQL, where a second reader waits for the first one's commit
and then sees what it left; SQLite's ``BEGIN IMMEDIATE`` already admits one writer at a time),
decides with the pure rules of ``domain/delivery_targets.py``, and writes it back before commit.
A target seen for the first time gets a row with the default limits, a full budget and a closed
circuit (``INSERT … ON CONFLICT DO NOTHING``, so two first sightings make one row and neither
waits for the other's lock).
"""

from __future__ import annotations

import builtins
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from suture.adapters.db.delivery_tables import delivery_targets
from suture.adapters.db.errors import storage_errors
from suture.domain.delivery_targets import (
    Budget,
    Circuit,
    CircuitState,
    TargetSettings,
    TargetState,
    full_budget,
)

_T = delivery_targets.c


class DeliveryTargetStore:
    """The ``delivery_targets`` rows on one connection; part of the delivery repository."""

    def __init__(self, connection: sa.Connection, default_settings: TargetSettings) -> None:
        self._connection = connection
        self._defaults = default_settings

    def state(self, target: str, *, at: datetime, lock: bool = False) -> TargetState:
        self.ensure(target, at)
        query = sa.select(delivery_targets).where(_T.target == target)
        if lock:
            query = query.with_for_update()  # PostgreSQL; SQLite's writer already holds the lock
        with storage_errors(delivery_targets.name):
            row = self._connection.execute(query).one()
        return _from_row(row._mapping)

    def save(self, state: TargetState) -> None:
        values = _to_row(state)
        del values["target"]
        with storage_errors(delivery_targets.name):
            self._connection.execute(
                sa.update(delivery_targets).where(_T.target == state.target).values(values)
            )

    def configure(self, target: str, settings: TargetSettings, *, at: datetime) -> None:
        self.ensure(target, at, settings)
        self.save(replace(self.state(target, at=at, lock=True), settings=settings))

    def all(self) -> builtins.list[TargetState]:
        query = sa.select(delivery_targets).order_by(_T.target)
        with storage_errors(delivery_targets.name):
            rows = self._connection.execute(query).all()
        return [_from_row(row._mapping) for row in rows]

    def ensure(self, target: str, at: datetime, settings: TargetSettings | None = None) -> None:
        """Create the target's row unless it exists; an existing row is left as it is."""
        fresh = settings or self._defaults
        state = TargetState(
            target=target, settings=fresh, budget=full_budget(fresh, at), circuit=Circuit()
        )
        dialect = self._connection.dialect.name
        insert = (sqlite if dialect == "sqlite" else postgresql).insert(delivery_targets)
        with storage_errors(delivery_targets.name):
            self._connection.execute(
                insert.on_conflict_do_nothing(index_elements=["target"]), [_to_row(state)]
            )


def _to_row(state: TargetState) -> dict[str, Any]:
    return {
        "target": state.target,
        "rate_per_second": state.settings.rate_per_second,
        "burst": state.settings.burst,
        "failure_threshold": state.settings.failure_threshold,
        "cool_down_seconds": state.settings.cool_down.total_seconds(),
        "tokens": state.budget.tokens,
        "tokens_updated_at": state.budget.updated_at,
        "circuit_state": state.circuit.state.value,
        "consecutive_failures": state.circuit.consecutive_failures,
        "opened_at": state.circuit.opened_at,
    }


def _from_row(row: Any) -> TargetState:
    return TargetState(
        target=row["target"],
        settings=TargetSettings(
            rate_per_second=row["rate_per_second"],
            burst=row["burst"],
            failure_threshold=row["failure_threshold"],
            cool_down=timedelta(seconds=row["cool_down_seconds"]),
        ),
        budget=Budget(row["tokens"], row["tokens_updated_at"]),
        circuit=Circuit(
            state=CircuitState(row["circuit_state"]),
            consecutive_failures=row["consecutive_failures"],
            opened_at=row["opened_at"],
        ),
    )
