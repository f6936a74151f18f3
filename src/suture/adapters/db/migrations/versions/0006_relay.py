"""The relay's record of published events: ``event_publications``.

A separate table, so the event log stays append-only: the relay of DESIGN.md §8 inserts one row
per event once NATS JetStream has acknowledged it. Written out explicitly, like the revisions
before it. The downgrade forgets what was published; a relay started afterwards publishes the
whole log again, which the stream's de-duplication window and the tracking rows make harmless.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Ids sort bytewise on both databases (``tables.KEY``, frozen here as of this revision).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")

PUBLICATIONS = "event_publications"


def upgrade() -> None:
    op.create_table(
        PUBLICATIONS,
        sa.Column("event_id", KEY, nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_event_publications"),
    )


def downgrade() -> None:
    op.drop_table(PUBLICATIONS)
