"""The inbox: inbound messages with their raw bytes and status (DESIGN.md §3, guarantee 1).

Written out explicitly, like 0001, so it keeps its meaning when ``tables.py`` changes later.
The downgrade drops the table and with it every stored message: run it only on a database whose
inbox holds nothing that is still needed.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Ids sort bytewise on both databases (``tables.KEY``, frozen here as of this revision).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")

TABLE = "inbox_messages"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", KEY, nullable=False),
        sa.Column("format", sa.String(), nullable=False),
        sa.Column("interface", sa.String(), nullable=False),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.Column("facility_id", sa.String(), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("checksum", sa.String(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("trace_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("status_reason", sa.String(), nullable=True),
        sa.Column("correlation_id", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inbox_messages"),
    )
    op.create_index(
        "uq_inbox_messages_interface_checksum", TABLE, ["interface", "checksum"], unique=True
    )
    op.create_index("ix_inbox_messages_interface_id", TABLE, ["interface", "id"])
    op.create_index("ix_inbox_messages_status_id", TABLE, ["status", "id"])
    op.create_index("ix_inbox_messages_received_at", TABLE, ["received_at"])
    op.create_index("ix_inbox_messages_trace_id", TABLE, ["trace_id"])
    op.create_index("ix_inbox_messages_correlation_id", TABLE, ["correlation_id"])


def downgrade() -> None:
    op.drop_table(TABLE)
