"""Tables of the outbound delivery queue, on the shared ``metadata`` (DESIGN.md §3).

- ``deliveries``: one row per thing to send; unique ``(target, idempotency_key)`` makes "the same
  fact to the same target" one row. ``payload`` is raw bytes (BLOB, bytea).
- ``delivery_attempts``: appended once per attempt and never updated; its surrogate key lets a
  late report of an attempt sit beside the ``lease_expired`` row written when it was reclaimed.
- ``delivery_targets``: one row per target holding its settings, its rate budget (tokens and
  when they were counted) and its circuit. Workers lock it (``SELECT … FOR UPDATE`` on
  PostgreSQL; SQLite has one writer at a time) so that they all share one budget and one breaker.

Imported by ``adapters/db/unit_of_work.py`` through the repository, so ``metadata`` is complete
wherever units of work exist.
"""

from __future__ import annotations

import sqlalchemy as sa

from suture.adapters.db.tables import KEY, metadata
from suture.adapters.db.types import UtcDateTime

#: 64-bit on PostgreSQL; SQLite only auto-increments a column declared ``INTEGER``.
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("id", KEY, primary_key=True),
    sa.Column("target", KEY, nullable=False),
    sa.Column("operation", sa.String(), nullable=False),
    sa.Column("idempotency_key", sa.String(), nullable=False),
    sa.Column("payload", sa.LargeBinary(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime("next_attempt_at"), nullable=False),
    sa.Column("lease_until", UtcDateTime("lease_until"), nullable=True),
    sa.Column("last_error", sa.String(), nullable=True),
    sa.Column("facility_id", sa.String(), nullable=True),
    sa.Column("correlation_id", sa.String(), nullable=True, index=True),
    sa.Column("trace_id", sa.String(), nullable=True, index=True),
    sa.Column("created_at", UtcDateTime("created_at"), nullable=False),
    sa.Column("updated_at", UtcDateTime("updated_at"), nullable=False),
    sa.Column("delivered_at", UtcDateTime("delivered_at"), nullable=True),
    sa.Index("uq_deliveries_target_idempotency_key", "target", "idempotency_key", unique=True),
    sa.Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    sa.Index("ix_deliveries_status_lease_until", "status", "lease_until"),
    sa.Index("ix_deliveries_target_status", "target", "status"),
)  # fmt: skip

delivery_attempts = sa.Table(
    "delivery_attempts", metadata,
    sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
    sa.Column(
        "delivery_id", KEY, sa.ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("at", UtcDateTime("at"), nullable=False),
    sa.Column("outcome", sa.String(), nullable=False),
    sa.Column("error", sa.String(), nullable=True),
    sa.Column("duration_ms", sa.Integer(), nullable=True),
    sa.Index("ix_delivery_attempts_delivery_id_id", "delivery_id", "id"),
)  # fmt: skip

delivery_targets = sa.Table(
    "delivery_targets", metadata,
    sa.Column("target", KEY, primary_key=True),
    sa.Column("rate_per_second", sa.Float(), nullable=False),
    sa.Column("burst", sa.Integer(), nullable=False),
    sa.Column("failure_threshold", sa.Integer(), nullable=False),
    sa.Column("cool_down_seconds", sa.Float(), nullable=False),
    sa.Column("tokens", sa.Float(), nullable=False),
    sa.Column("tokens_updated_at", UtcDateTime("tokens_updated_at"), nullable=False),
    sa.Column("circuit_state", sa.String(), nullable=False),
    sa.Column("consecutive_failures", sa.Integer(), nullable=False),
    sa.Column("opened_at", UtcDateTime("opened_at"), nullable=True),
)  # fmt: skip
