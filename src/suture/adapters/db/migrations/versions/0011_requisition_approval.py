"""Procure-to-pay, ordering half: requisition approvals, trading partners, off-contract lines.

Issue 5 (``adapters/db/procurement_tables.py``): the approval workflow's state per requisition,
each supplier's X12 trading-partner profile, and the ``off_contract`` flag of a purchase-order
line (existing lines were priced by the usage workflow, which flags its own mismatches in the
exception queue: they default to false). The downgrade drops both tables and the column.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import ExactDecimal, UtcDateTime

revision = "0011"
down_revision = "0010"
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
        "requisition_approvals",
        sa.Column("requisition_id", KEY, nullable=False),
        _text("facility_id"), _text("department_id", nullable=True), _text("reason"),
        _text("status"), sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("off_contract", sa.Boolean(), nullable=False), _text("rule"),
        _text("approver", nullable=True), _text("decided_by", nullable=True),
        _at("decided_at", nullable=True), _text("note", nullable=True),
        _text("purchase_orders", nullable=True), _text("trace_id", nullable=True),
        _at("created_at"), _at("updated_at"),
        sa.PrimaryKeyConstraint("requisition_id", name="pk_requisition_approvals"),
    )  # fmt: skip
    op.create_index(
        "ix_requisition_approvals_facility_id_status",
        "requisition_approvals", ["facility_id", "status"],
    )  # fmt: skip
    op.create_table(
        "trading_partners",
        sa.Column("supplier_id", KEY, nullable=False),
        _text("isa_qualifier"), _text("isa_id"), _text("gs_id"), _text("x12_version"),
        _text("usage_indicator"), _text("delivery_target", nullable=True),
        sa.Column("last_control_number", sa.Integer(), nullable=False), _at("updated_at"),
        sa.PrimaryKeyConstraint("supplier_id", name="pk_trading_partners"),
    )  # fmt: skip
    with op.batch_alter_table("purchase_order_lines") as batch:
        batch.add_column(
            sa.Column("off_contract", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("purchase_order_lines") as batch:
        batch.drop_column("off_contract")
    op.drop_table("trading_partners")
    op.drop_index("ix_requisition_approvals_facility_id_status", "requisition_approvals")
    op.drop_table("requisition_approvals")
