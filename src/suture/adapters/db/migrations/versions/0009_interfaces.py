"""The integration inventory and unmanaged traffic (issue 7): ``interfaces``, ``unmanaged_sources``.

Written out explicitly, like the revisions before it, so it keeps its meaning when
``interface_tables.py`` changes later. ``active_route`` carries the route of an active inbound
interface (NULL otherwise) under a unique index: one active inbound interface per route. The
downgrade drops the inventory and what was recorded of unmanaged traffic.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: Ids sort bytewise on both databases (``tables.KEY``, frozen here as of this revision).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")

INTERFACES = "interfaces"
UNMANAGED = "unmanaged_sources"


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(), nullable=False)


def upgrade() -> None:
    op.create_table(
        INTERFACES,
        sa.Column("name", KEY, nullable=False),
        _text("description"),
        _text("direction"),
        _text("format"),
        _text("channel"),
        _text("source_system"),
        _text("target_system"),
        sa.Column("authoritative_objects", sa.JSON(), nullable=False),
        _text("owner", nullable=True),
        sa.Column("sla_latency_minutes", sa.Integer(), nullable=True),
        _text("sla_availability", nullable=True),
        _text("contract", nullable=True),
        _text("schema_version", nullable=True),
        _text("authentication", nullable=True),
        _text("api_client", nullable=True),
        _text("mode"),
        _text("modernization", nullable=True),
        sa.Column("sunset_on", sa.Date(), nullable=True),
        sa.Column("facility_ids", sa.JSON(), nullable=False),
        sa.Column("retired_on", sa.Date(), nullable=True),
        _at("registered_at"),
        _at("updated_at"),
        _text("active_route", nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_interfaces"),
    )
    op.create_index("uq_interfaces_active_route", INTERFACES, ["active_route"], unique=True)
    op.create_table(
        UNMANAGED,
        sa.Column("channel", KEY, nullable=False),
        sa.Column("source_system", KEY, nullable=False),
        _text("format"),
        _at("first_seen"),
        _at("last_seen"),
        sa.Column("message_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "source_system", name="pk_unmanaged_sources"),
    )


def downgrade() -> None:
    op.drop_table(UNMANAGED)
    op.drop_index("uq_interfaces_active_route", table_name=INTERFACES)
    op.drop_table(INTERFACES)
