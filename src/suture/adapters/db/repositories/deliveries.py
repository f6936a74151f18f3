"""The delivery repository: the outbound queue, its attempts, and each target's shared limits.

Implements ``DeliveryRepository`` (``services/unit_of_work.py``). How the guarantees hold:

- **Queued once.** ``enqueue`` is ``INSERT … ON CONFLICT (target, idempotency_key) DO NOTHING
  RETURNING id``; when nothing comes back the stored delivery is read and returned instead.
  ``enqueue_many`` is the same insert as one plain ``executemany`` (``adapters/db/bulk.py``),
  counting what it stored by the row count.
- **One budget, one breaker for every worker.** ``claim_due`` visits the targets that have due
  deliveries in name order (a fixed lock order, so two claimers never deadlock), locks each
  target's row (``SELECT … FOR UPDATE``; on SQLite ``BEGIN IMMEDIATE`` already made this the
  only writer), asks the circuit and the token bucket how many it may take
  (``domain/delivery_targets.py``), then takes at most that many due rows ``FOR UPDATE SKIP
  LOCKED`` and spends one token per row actually taken. A second claimer waits on the target row
  and then sees the tokens the first one left, so together they never take more than the budget.
  Each due target gets at most an equal share of ``limit`` (rounded up), so one busy target
  does not starve the others.
- **Nothing lost to a crash.** A claim makes the row ``in_flight`` with ``lease_until``; a row
  whose lease passed is due again, and the lost attempt is recorded as ``lease_expired``.
- **Late reports are fenced.** ``schedule_retry`` and ``dead_letter`` apply only to the attempt
  that holds the row (``status = in_flight AND attempts = attempt``); a success applies to any
  in-flight or pending row, since the target has the delivery whichever attempt carried it.

The payload is loaded by ``get`` and ``claim_due`` only; lists and counts never read it.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from suture.adapters.db.bulk import insert_rows
from suture.adapters.db.delivery_tables import deliveries, delivery_attempts
from suture.adapters.db.errors import StorageError, storage_errors
from suture.adapters.db.repositories.delivery_targets import DeliveryTargetStore
from suture.domain.deliveries import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    error_text,
)
from suture.domain.delivery_targets import (
    TargetSettings,
    TargetState,
    allowance,
    take,
    trial_started,
)

S = DeliveryStatus
#: The limits of a target first seen by ``enqueue`` or a claim; ``configure_target`` changes them.
DEFAULT_SETTINGS = TargetSettings()
_D = deliveries.c


#: The column names, once (iterating a table's columns costs more than the row it builds).
_COLUMNS = tuple(column.name for column in deliveries.c)
_attributes = attrgetter(*_COLUMNS)
_STATUS = _COLUMNS.index("status")


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        (_D.status == S.PENDING.value) & (_D.next_attempt_at <= now),
        (_D.status == S.IN_FLIGHT.value) & (_D.lease_until <= now),
    )


class DeliveryRepository:
    def __init__(
        self, connection: sa.Connection, default_settings: TargetSettings = DEFAULT_SETTINGS
    ) -> None:
        self._connection = connection
        self._targets = DeliveryTargetStore(connection, default_settings)
        self._without_payload = [column for column in deliveries.c if column.name != "payload"]

    # --- the queue ------------------------------------------------------------------------

    def enqueue(self, delivery: Delivery) -> tuple[Delivery, bool]:
        if delivery.payload is None:
            raise StorageError("payload", f"delivery {delivery.id} has no payload to store")
        self._targets.ensure(delivery.target, delivery.created_at)
        insert = self._insert(deliveries).on_conflict_do_nothing(
            index_elements=["target", "idempotency_key"]
        )
        with storage_errors(deliveries.name):
            inserted = self._connection.execute(
                insert.returning(_D.id), self._to_row(delivery)
            ).first()
        if inserted is not None:
            return delivery, False
        stored = self.by_idempotency_key(delivery.target, delivery.idempotency_key)
        if stored is None:  # the winner rolled back between our INSERT and SELECT
            raise StorageError("deliveries", f"delivery {delivery.id} was not stored; retry")
        return stored, True

    def enqueue_many(self, batch: Sequence[Delivery]) -> int:
        """:meth:`enqueue` for several, in one insert (plus one per new target); how many were
        stored (a key queued already for its target is left as it was)."""
        if not batch:
            return 0
        for target in sorted({d.target for d in batch}):
            self._targets.ensure(target, min(d.created_at for d in batch))
        for delivery in batch:
            if delivery.payload is None:
                raise StorageError("payload", f"delivery {delivery.id} has no payload to store")
        rows = [self._values(d) for d in batch]
        with storage_errors(deliveries.name):
            return insert_rows(
                self._connection, deliveries, _COLUMNS, rows,
                conflict="nothing", keys=("target", "idempotency_key"),
            )  # fmt: skip

    def get(self, delivery_id: str, *, with_payload: bool = False) -> Delivery | None:
        found = self._load(self._select(with_payload).where(_D.id == delivery_id))
        return found[0] if found else None

    def by_idempotency_key(self, target: str, idempotency_key: str) -> Delivery | None:
        condition = (_D.target == target) & (_D.idempotency_key == idempotency_key)
        found = self._load(self._select(False).where(condition))
        return found[0] if found else None

    def claim_due(
        self,
        now: datetime,
        *,
        limit: int,
        lease: timedelta,
        target: str | None = None,
        prefixes: Sequence[str] = (),
    ) -> builtins.list[Delivery]:
        if limit < 1:
            raise StorageError("limit", f"must be at least 1, got {limit}")
        targets = self._due_targets(now, target, prefixes)
        share = math.ceil(limit / len(targets)) if targets else 0
        claimed: builtins.list[Delivery] = []
        for name in targets:  # name order: the lock order of every claimer
            room = min(share, limit - len(claimed))
            if room > 0:
                claimed += self._claim_target(name, now, room, lease)
        return claimed

    def record_attempt(self, attempt: DeliveryAttempt) -> None:
        with storage_errors(delivery_attempts.name):
            self._connection.execute(sa.insert(delivery_attempts), [self._attempt_row(attempt)])

    def attempts(self, delivery_id: str) -> builtins.list[DeliveryAttempt]:
        query = (
            sa.select(delivery_attempts)
            .where(delivery_attempts.c.delivery_id == delivery_id)
            .order_by(delivery_attempts.c.id)
        )
        with storage_errors(delivery_attempts.name):
            rows = self._connection.execute(query).all()
        return [
            DeliveryAttempt(
                delivery_id=row.delivery_id,
                attempt=row.attempt,
                at=row.at,
                outcome=AttemptOutcome(row.outcome),
                error=row.error,
                duration_ms=row.duration_ms,
            )
            for row in rows
        ]

    def mark_delivered(self, delivery_id: str, *, at: datetime) -> bool:
        live = _D.status.in_([S.PENDING.value, S.IN_FLIGHT.value])
        values = {"status": S.DELIVERED.value, "delivered_at": at, "lease_until": None}
        return self._update(delivery_id, live, values, at)

    def mark_shadowed(self, delivery_id: str, *, at: datetime) -> bool:
        """Withheld for shadow mode: final, payload kept for ``suture shadow report``."""
        live = _D.status.in_([S.PENDING.value, S.IN_FLIGHT.value])
        return self._update(
            delivery_id, live, {"status": S.SHADOWED.value, "lease_until": None}, at
        )

    def schedule_retry(
        self, delivery_id: str, *, attempt: int, next_attempt_at: datetime, error: str, at: datetime
    ) -> bool:
        values = {
            "status": S.PENDING.value,
            "next_attempt_at": next_attempt_at,
            "lease_until": None,
            "last_error": error_text(error),
        }
        return self._update(delivery_id, self._holds(attempt), values, at)

    def dead_letter(self, delivery_id: str, *, attempt: int, error: str, at: datetime) -> bool:
        values = {"status": S.DEAD.value, "lease_until": None, "last_error": error_text(error)}
        return self._update(delivery_id, self._holds(attempt), values, at)

    def park(self, delivery_id: str, *, attempt: int, error: str, at: datetime) -> bool:
        values = {"status": S.PARKED.value, "lease_until": None, "last_error": error_text(error)}
        return self._update(delivery_id, self._holds(attempt), values, at)

    def retry(self, delivery_id: str, *, at: datetime) -> Delivery | None:
        dead = _D.status.in_([S.DEAD.value, S.PARKED.value])
        self._update(delivery_id, dead, {"status": S.PENDING.value, "attempts": 0}, at)
        self._update(delivery_id, _D.status == S.PENDING.value, {"next_attempt_at": at}, at)
        return self.get(delivery_id)

    def count_by_status(self, *, target: str | None = None) -> dict[str, dict[DeliveryStatus, int]]:
        query = sa.select(_D.target, _D.status, sa.func.count()).group_by(_D.target, _D.status)
        if target is not None:
            query = query.where(_D.target == target)
        with storage_errors(deliveries.name):
            rows = self._connection.execute(query).all()
        counts: dict[str, dict[DeliveryStatus, int]] = {}
        for name, status, n in rows:
            counts.setdefault(name, dict.fromkeys(DeliveryStatus, 0))[DeliveryStatus(status)] = n
        return counts

    def list(
        self,
        *,
        status: DeliveryStatus | None = None,
        target: str | None = None,
        correlation_id: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> builtins.list[Delivery]:
        if limit < 1:
            raise StorageError("limit", f"must be at least 1, got {limit}")
        query = self._select(False).order_by(_D.id).limit(limit)
        for column, value in (
            (_D.status, None if status is None else DeliveryStatus(status).value),
            (_D.target, target),
            (_D.correlation_id, correlation_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if after is not None:
            query = query.where(_D.id > after)
        return self._load(query)

    # --- the targets (``delivery_targets.py``) -------------------------------------------

    def target_state(self, target: str, *, at: datetime, lock: bool = False) -> TargetState:
        return self._targets.state(target, at=at, lock=lock)

    def save_target(self, state: TargetState) -> None:
        self._targets.save(state)

    def configure_target(self, target: str, settings: TargetSettings, *, at: datetime) -> None:
        self._targets.configure(target, settings, at=at)

    def targets(self) -> builtins.list[TargetState]:
        return self._targets.all()

    # --- claiming -------------------------------------------------------------------------

    def _due_targets(
        self, now: datetime, target: str | None, prefixes: Sequence[str]
    ) -> builtins.list[str]:
        query = sa.select(_D.target).where(_due(now)).distinct().order_by(_D.target)
        if target is not None:
            query = query.where(_D.target == target)
        if prefixes:
            query = query.where(
                sa.or_(
                    *(_D.target == prefix for prefix in prefixes),
                    *(_D.target.startswith(f"{prefix}:", autoescape=True) for prefix in prefixes),
                )
            )
        with storage_errors(deliveries.name):
            return list(self._connection.execute(query).scalars())

    def _claim_target(
        self, target: str, now: datetime, room: int, lease: timedelta
    ) -> builtins.list[Delivery]:
        state = self.target_state(target, at=now, lock=True)
        trial = allowance(state.circuit, state.settings, now)
        granted, _ = take(state.budget, state.settings, now, room if trial is None else trial)
        if granted == 0:
            return []
        due = (
            self._select(True)
            .where((_D.target == target) & _due(now))
            .order_by(_D.next_attempt_at, _D.id)
            .limit(granted)
            .with_for_update(skip_locked=True)
        )
        rows = self._load(due)
        if not rows:
            return []
        _, budget = take(state.budget, state.settings, now, len(rows))
        circuit = state.circuit if trial is None else trial_started(state.circuit, now)
        self.save_target(replace(state, budget=budget, circuit=circuit))
        return self._claim_rows(rows, now, lease)

    def _claim_rows(
        self, rows: builtins.list[Delivery], now: datetime, lease: timedelta
    ) -> builtins.list[Delivery]:
        """One UPDATE for the whole batch, one INSERT for the attempts lost to expired leases."""
        lost = [
            self._attempt_row(
                DeliveryAttempt(
                    delivery_id=row.id,
                    attempt=max(row.attempts, 1),
                    at=now,
                    outcome=AttemptOutcome.LEASE_EXPIRED,
                    error="no outcome reported before the lease expired",
                )
            )
            for row in rows
            if row.status is S.IN_FLIGHT  # its worker never reported
        ]
        if lost:
            with storage_errors(delivery_attempts.name):
                self._connection.execute(sa.insert(delivery_attempts), lost)
        values = {"status": S.IN_FLIGHT.value, "attempts": _D.attempts + 1}
        with storage_errors(deliveries.name):
            self._connection.execute(
                sa.update(deliveries)
                .where(_D.id.in_([row.id for row in rows]))
                .values(values | {"lease_until": now + lease, "updated_at": now})
            )
        return [
            replace(
                row,
                status=S.IN_FLIGHT,
                attempts=row.attempts + 1,
                lease_until=now + lease,
                updated_at=now,
            )
            for row in rows
        ]

    # --- translation ----------------------------------------------------------------------

    def _insert(self, table: sa.Table) -> Any:
        dialect = self._connection.dialect.name
        return sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)

    @staticmethod
    def _holds(attempt: int) -> sa.ColumnElement[bool]:
        return (_D.status == S.IN_FLIGHT.value) & (_D.attempts == attempt)

    def _update(
        self,
        delivery_id: str,
        condition: sa.ColumnElement[bool],
        values: dict[str, Any],
        at: datetime,
    ) -> bool:
        query = sa.update(deliveries).where((_D.id == delivery_id) & condition)
        with storage_errors(deliveries.name):
            changed = self._connection.execute(query.values({**values, "updated_at": at}))
        return changed.rowcount == 1

    def _select(self, with_payload: bool) -> sa.Select[Any]:
        return sa.select(deliveries) if with_payload else sa.select(*self._without_payload)

    def _load(self, query: sa.Select[Any]) -> builtins.list[Delivery]:
        with storage_errors(deliveries.name):
            rows = self._connection.execute(query).all()
        return [self._from_row(row._mapping) for row in rows]

    @staticmethod
    def _to_row(delivery: Delivery) -> dict[str, Any]:
        return dict(zip(_COLUMNS, DeliveryRepository._values(delivery), strict=True))

    @staticmethod
    def _values(delivery: Delivery) -> builtins.list[Any]:
        """The row of ``delivery`` in the order of :data:`_COLUMNS`."""
        values = list(_attributes(delivery))
        values[_STATUS] = delivery.status.value
        return values

    @staticmethod
    def _from_row(row: Any) -> Delivery:
        values = {name: row[name] for name in row if name not in ("payload", "status")}
        payload = row.get("payload")
        return Delivery(
            **values,
            status=DeliveryStatus(row["status"]),
            payload=bytes(payload) if payload is not None else None,
        )

    @staticmethod
    def _attempt_row(attempt: DeliveryAttempt) -> dict[str, Any]:
        return {
            "delivery_id": attempt.delivery_id,
            "attempt": attempt.attempt,
            "at": attempt.at,
            "outcome": attempt.outcome.value,
            "error": None if attempt.error is None else error_text(attempt.error),
            "duration_ms": attempt.duration_ms,
        }
