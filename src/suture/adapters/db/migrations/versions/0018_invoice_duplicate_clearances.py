"""``invoice_duplicate_clearances``: "invoice X is not a duplicate of invoice Y", as decided.

The three-way match holds a suspected duplicate (same supplier, PO, amount and date under
another number) until someone says it is not one; the decision is kept per pair, with who, when
and why (``adapters/db/match_tables.py``, ``domain/duplicate_clearance.py``). The downgrade drops
the table: every cleared invoice not yet matched would be held as a duplicate again on its next
re-run (the matched ones stay matched).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import UtcDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

#: Ids sort bytewise on both databases (``tables.KEY``, frozen here as of this revision).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "invoice_duplicate_clearances",
        sa.Column("invoice_id", KEY, nullable=False),
        sa.Column("original_invoice_id", KEY, nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "invoice_id", "original_invoice_id", name="pk_invoice_duplicate_clearances"
        ),
    )


def downgrade() -> None:
    op.drop_table("invoice_duplicate_clearances")
