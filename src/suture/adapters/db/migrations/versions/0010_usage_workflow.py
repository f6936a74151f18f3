"""The usage workflow's state and expected charges: ``usage_workflows``, ``expected_charges``.

Issue 5, "usage → inventory → replenishment → cost" (``adapters/db/usage_tables.py``). Written
out explicitly, like the revisions before it. The downgrade drops both tables: the workflows'
effects (stock, requisitions, POs, journals, deliveries) stay, but a usage replayed afterwards
would run its workflow again, so downgrade only a database that will be rebuilt.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import ExactDecimal, UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: Ids sort bytewise on both databases (``tables.KEY``, frozen here as of this revision).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _dec(name: str) -> sa.Column[object]:
    return sa.Column(name, ExactDecimal(), nullable=False)


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "usage_workflows",
        sa.Column("usage_id", KEY, nullable=False),
        _text("facility_id"), _text("location_id"), _text("item_id"), _text("step"),
        _dec("eaches"), sa.Column("consigned", sa.Boolean(), nullable=False),
        sa.Column("stockout", sa.Boolean(), nullable=False), _text("price_source"),
        _dec("unit_price"), _dec("amount"), _text("contract_id", nullable=True),
        _text("requisition_id", nullable=True), _text("bill_only_po_id", nullable=True),
        _text("replenishment_po_id", nullable=True), _text("journal_id", nullable=True),
        _text("expected_charge_id", nullable=True), _text("cost_center_id", nullable=True),
        _text("trace_id", nullable=True), _at("started_at"), _at("updated_at"),
        sa.PrimaryKeyConstraint("usage_id", name="pk_usage_workflows"),
    )  # fmt: skip
    op.create_index(
        "ix_usage_workflows_facility_id_step", "usage_workflows", ["facility_id", "step"]
    )
    op.create_table(
        "expected_charges",
        sa.Column("id", KEY, nullable=False),
        _text("facility_id"), _text("encounter_token", nullable=True), _text("item_id"),
        _text("cdm_code"), _text("hcpcs", nullable=True), _text("revenue_code", nullable=True),
        _dec("quantity"), _dec("cost"), _at("used_at"), _text("department_id", nullable=True),
        _at("recorded_at"),
        sa.PrimaryKeyConstraint("id", name="pk_expected_charges"),
    )  # fmt: skip
    op.create_index(
        "ix_expected_charges_facility_id_encounter_token",
        "expected_charges", ["facility_id", "encounter_token"],
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_expected_charges_facility_id_encounter_token", "expected_charges")
    op.drop_table("expected_charges")
    op.drop_index("ix_usage_workflows_facility_id_step", "usage_workflows")
    op.drop_table("usage_workflows")
