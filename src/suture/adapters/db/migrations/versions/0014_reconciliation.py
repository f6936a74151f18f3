"""Charge-to-cost reconciliation: ``chargemaster_prices`` and ``reconciliation_lines``.

Issue 5, "charge-to-cost reconciliation" (``adapters/db/reconciliation_tables.py``). The
downgrade drops both: the chargemaster can be imported again, and the continuous state is
rebuilt by replaying ``charge.posted`` and ``finance.usage.costed`` to ``charge_reconciliation``.

Revision ID: 0014
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import ExactDecimal, UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

#: Ids sort bytewise on both databases (``tables.KEY``, frozen here as of this revision).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _dec(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, ExactDecimal(), nullable=nullable)


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "chargemaster_prices",
        sa.Column("facility_id", KEY, nullable=False), sa.Column("cdm_code", KEY, nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True), _dec("unit_price"),
        _text("description", nullable=True), _text("source_system"),
        sa.PrimaryKeyConstraint("facility_id", "cdm_code", "effective_from",
                                name="pk_chargemaster_prices"),
    )  # fmt: skip
    op.create_table(
        "reconciliation_lines",
        sa.Column("side", KEY, nullable=False), sa.Column("line_id", KEY, nullable=False),
        _text("facility_id"), _text("encounter_key"), _text("cdm_code"), _at("line_at"),
        _dec("quantity"), _text("outcome"), _dec("unbilled"),
        _dec("revenue_at_risk", nullable=True), _at("matched_at", nullable=True),
        _at("due_at", nullable=True), _text("exception_id", nullable=True), _at("updated_at"),
        sa.PrimaryKeyConstraint("side", "line_id", name="pk_reconciliation_lines"),
    )  # fmt: skip
    op.create_index(
        "ix_reconciliation_lines_facility_id_encounter_key_cdm_code",
        "reconciliation_lines", ["facility_id", "encounter_key", "cdm_code"],
    )  # fmt: skip
    op.create_index("ix_reconciliation_lines_due_at", "reconciliation_lines", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_reconciliation_lines_due_at", "reconciliation_lines")
    op.drop_index(
        "ix_reconciliation_lines_facility_id_encounter_key_cdm_code", "reconciliation_lines"
    )
    op.drop_table("reconciliation_lines")
    op.drop_table("chargemaster_prices")
