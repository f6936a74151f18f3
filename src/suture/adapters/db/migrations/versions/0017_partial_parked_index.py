"""``ix_handler_work_parked_on`` holds parked items only (``WHERE parked_on IS NOT NULL``).

Issue 3: every work item is inserted, claimed (an ``UPDATE`` that moves its lease, an indexed
column, so a new version with every index entry) and deleted, and each version wrote an entry
of this index, almost always a null: only a parked item has a dependency key, and only parked
items are looked up by it (``redrive``: ``parked_on = :key``, which implies the predicate on
both databases). One index entry fewer per item version on the bus's hot path. The downgrade
restores the whole index.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

INDEX = "ix_handler_work_parked_on"
PREDICATE = "parked_on IS NOT NULL"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="handler_work")
    op.create_index(
        INDEX, "handler_work", ["parked_on"],
        sqlite_where=sa.text(PREDICATE), postgresql_where=sa.text(PREDICATE),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index(INDEX, table_name="handler_work")
    op.create_index(INDEX, "handler_work", ["parked_on"])
