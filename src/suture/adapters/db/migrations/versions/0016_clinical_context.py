"""The clinical context: ``encounters`` (ADT, BAR) and ``staff_members`` (MFN^M02).

Issue 4: HL7 v2 ADT and BAR^P01/P05 give the account and encounter context of a visit, MFN^M02
the staff master as reference data (``adapters/db/context_tables.py``). The downgrade drops
both: the revenue cycle's messages stay in the inbox and a replay rebuilds them.

Revision ID: 0016
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import UtcDateTime

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

#: Ids sort bytewise on both databases (``tables.KEY``, frozen here as of this revision).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "encounters",
        sa.Column("facility_id", KEY, nullable=False),
        sa.Column("encounter_token", KEY, nullable=False),
        _text("account_token", nullable=True), _text("patient_class", nullable=True),
        _at("admitted_at", nullable=True), _at("discharged_at", nullable=True),
        _text("last_event", nullable=True), _text("source_system"), _at("updated_at"),
        sa.PrimaryKeyConstraint("facility_id", "encounter_token", name="pk_encounters"),
    )  # fmt: skip
    op.create_table(
        "staff_members",
        sa.Column("source_system", KEY, nullable=False), sa.Column("staff_id", KEY, nullable=False),
        _text("family_name"), _text("given_name"), _text("prefix"), _text("staff_type"),
        _text("job_title"), _text("specialty"), sa.Column("active", sa.Boolean(), nullable=False),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("source_system", "staff_id", name="pk_staff_members"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("staff_members")
    op.drop_table("encounters")
