"""The exception work queue: items, one active per type and subject, and their action trail.

Written out explicitly, like the revisions before it, so it keeps its meaning when
``exception_tables.py`` changes later. The downgrade drops every item and its history: run it
only on a database whose work queue is no longer needed.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: Ids sort bytewise on both databases (``tables.KEY``, frozen here as of this revision).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
#: 64-bit on PostgreSQL; an ``INTEGER PRIMARY KEY`` (the rowid) on SQLite.
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: An active item (open or in progress) has no ``resolved_at``; frozen as of this revision.
ACTIVE = "resolved_at IS NULL"

ITEMS = "exception_items"
ACTIONS = "exception_actions"


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        ITEMS,
        sa.Column("id", KEY, nullable=False),
        _text("type"),
        _text("status"),
        _text("facility_id", nullable=True),
        _text("queue"),
        _text("owner", nullable=True),
        _at("opened_at"),
        _at("sla_due_at"),
        _at("updated_at"),
        _text("reason"),
        sa.Column("subject", KEY, nullable=False),
        _text("message_id", nullable=True),
        _text("event_id", nullable=True),
        _text("handler", nullable=True),
        _text("delivery_id", nullable=True),
        _text("trace_id", nullable=True),
        _text("correlation_id", nullable=True),
        _text("dependency", nullable=True),
        _at("resolved_at", nullable=True),
        _text("resolved_by", nullable=True),
        _text("resolution_note", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_exception_items"),
    )
    op.create_index("ix_exception_items_status_queue", ITEMS, ["status", "queue", "id"])
    op.create_index("ix_exception_items_facility_id_status", ITEMS, ["facility_id", "status", "id"])
    op.create_index("ix_exception_items_sla_due_at", ITEMS, ["sla_due_at"])
    op.create_index("ix_exception_items_dependency", ITEMS, ["dependency"])
    op.create_index("ix_exception_items_subject", ITEMS, ["subject"])
    op.create_index(
        "uq_exception_items_active_subject",
        ITEMS,
        ["subject", "type"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )
    op.create_table(
        ACTIONS,
        sa.Column("id", POSITION, autoincrement=True, nullable=False),
        sa.Column("item_id", KEY, nullable=False),
        _text("kind"),
        _at("at"),
        _text("actor"),
        _text("detail", nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            [f"{ITEMS}.id"],
            name="fk_exception_actions_item_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_exception_actions"),
    )
    op.create_index("ix_exception_actions_item_id_id", ACTIONS, ["item_id", "id"])


def downgrade() -> None:
    op.drop_table(ACTIONS)
    op.drop_table(ITEMS)
