"""The event log: events (outbox), handler work, tracking and attempts (``eventlog_tables.py``).

Written out explicitly, like 0001 and 0002, so it keeps its meaning when the tables change later.
The downgrade drops the log, the tracking rows that guard exactly-once handling and the work
still to do: run it only on a database whose events are no longer needed.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: Ids sort bytewise on both databases (``tables.KEY``, frozen here as of this revision).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
#: 64-bit on PostgreSQL; an ``INTEGER PRIMARY KEY`` (the rowid) on SQLite.
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

TABLES = ("events", "handler_work", "tracking", "handler_attempts")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", POSITION, sa.Identity(), nullable=False),
        sa.Column("id", KEY, nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.Column("source_facility", sa.String(), nullable=True),
        sa.Column("trace_id", sa.String(), nullable=False),
        sa.Column("correlation_id", sa.String(), nullable=False),
        sa.Column("causation_id", KEY, nullable=True),
        sa.Column("idempotency_key", sa.String(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("position", name="pk_events"),
        sa.UniqueConstraint("id", name="uq_events_id"),
    )
    op.create_index("uq_events_idempotency_key", "events", ["idempotency_key"], unique=True)
    op.create_index("ix_events_trace_id", "events", ["trace_id"])
    op.create_index("ix_events_correlation_id", "events", ["correlation_id"])
    op.create_index("ix_events_recorded_at", "events", ["recorded_at"])
    op.create_index("ix_events_type_recorded_at", "events", ["type", "recorded_at"])

    op.create_table(
        "handler_work",
        sa.Column("handler", KEY, nullable=False),
        sa.Column("event_id", KEY, nullable=False),
        sa.Column("event_position", POSITION, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("parked_on", sa.String(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("handler", "event_id", name="pk_handler_work"),
    )
    op.create_index(
        "ix_handler_work_claim", "handler_work", ["status", "next_attempt_at", "event_position"]
    )
    op.create_index("ix_handler_work_parked_on", "handler_work", ["parked_on"])
    op.create_index("ix_handler_work_event_id", "handler_work", ["event_id"])

    op.create_table(
        "tracking",
        sa.Column("handler", KEY, nullable=False),
        sa.Column("event_id", KEY, nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("handler", "event_id", name="pk_tracking"),
    )
    op.create_index("ix_tracking_event_id", "tracking", ["event_id"])

    op.create_table(
        "handler_attempts",
        sa.Column("id", POSITION, sa.Identity(), nullable=False),
        sa.Column("handler", KEY, nullable=False),
        sa.Column("event_id", KEY, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("error_kind", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("error", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_handler_attempts"),
    )
    op.create_index("ix_handler_attempts_event_id", "handler_attempts", ["event_id", "handler"])


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
