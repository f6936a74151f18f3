"""The outbound delivery queue: deliveries, their attempts, and each target's limits and state.

Written out explicitly, like the revisions before it, so it keeps its meaning when
``delivery_tables.py`` changes later. The downgrade drops every queued delivery and its history:
run it only on a database whose queue is drained or no longer needed.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: Ids sort bytewise on both databases (``tables.KEY``, frozen here as of this revision).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
#: 64-bit on PostgreSQL; an ``INTEGER PRIMARY KEY`` (the rowid) on SQLite.
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

DELIVERIES = "deliveries"
ATTEMPTS = "delivery_attempts"
TARGETS = "delivery_targets"


def upgrade() -> None:
    op.create_table(
        DELIVERIES,
        sa.Column("id", KEY, nullable=False),
        sa.Column("target", KEY, nullable=False),
        sa.Column("operation", sa.String(), nullable=False),
        sa.Column("idempotency_key", sa.String(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("facility_id", sa.String(), nullable=True),
        sa.Column("correlation_id", sa.String(), nullable=True),
        sa.Column("trace_id", sa.String(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
    )
    op.create_index(
        "uq_deliveries_target_idempotency_key",
        DELIVERIES,
        ["target", "idempotency_key"],
        unique=True,
    )
    op.create_index(
        "ix_deliveries_status_next_attempt_at", DELIVERIES, ["status", "next_attempt_at"]
    )
    op.create_index("ix_deliveries_status_lease_until", DELIVERIES, ["status", "lease_until"])
    op.create_index("ix_deliveries_target_status", DELIVERIES, ["target", "status"])
    op.create_index("ix_deliveries_correlation_id", DELIVERIES, ["correlation_id"])
    op.create_index("ix_deliveries_trace_id", DELIVERIES, ["trace_id"])

    op.create_table(
        ATTEMPTS,
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("delivery_id", KEY, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            [f"{DELIVERIES}.id"],
            name="fk_delivery_attempts_delivery_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_attempts"),
    )
    op.create_index("ix_delivery_attempts_delivery_id_id", ATTEMPTS, ["delivery_id", "id"])

    op.create_table(
        TARGETS,
        sa.Column("target", KEY, nullable=False),
        sa.Column("rate_per_second", sa.Float(), nullable=False),
        sa.Column("burst", sa.Integer(), nullable=False),
        sa.Column("failure_threshold", sa.Integer(), nullable=False),
        sa.Column("cool_down_seconds", sa.Float(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("tokens_updated_at", UtcDateTime(), nullable=False),
        sa.Column("circuit_state", sa.String(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("target", name="pk_delivery_targets"),
    )


def downgrade() -> None:
    op.drop_table(TARGETS)
    op.drop_table(ATTEMPTS)
    op.drop_table(DELIVERIES)
