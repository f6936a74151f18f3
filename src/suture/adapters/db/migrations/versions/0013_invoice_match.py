"""The three-way match's state and tolerances: ``invoice_matches``, ``match_tolerances``.

Issue 5, "procure-to-pay: three-way match" (``adapters/db/match_tables.py``). Written out
explicitly, like the revisions before it. The downgrade drops both tables: matched invoices,
their vouchers and exceptions stay, but an invoice re-run afterwards would be matched again
(and queue its voucher under the same idempotency key, which the delivery queue drops).

Revision ID: 0013
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import ExactDecimal, UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

#: Ids sort bytewise on both databases (``tables.KEY``, frozen here as of this revision).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _dec(name: str) -> sa.Column[object]:
    return sa.Column(name, ExactDecimal(), nullable=False)


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "invoice_matches",
        sa.Column("invoice_id", KEY, nullable=False),
        _text("invoice_number"), _text("facility_id"), _text("supplier_id"),
        _text("purchase_order_number", nullable=True), _text("purchase_order_id", nullable=True),
        _text("status"), _text("findings"), sa.Column("lines", sa.Text(), nullable=False),
        _dec("invoice_amount"), _dec("matched_amount"), _dec("variance_amount"),
        sa.Column("attempts", sa.Integer(), nullable=False), _at("received_at"),
        _at("updated_at"), _at("matched_at", nullable=True), _text("duplicate_of", nullable=True),
        _text("voucher_id", nullable=True), _text("trace_id", nullable=True),
        sa.PrimaryKeyConstraint("invoice_id", name="pk_invoice_matches"),
    )  # fmt: skip
    op.create_index(
        "ix_invoice_matches_purchase_order_id", "invoice_matches", ["purchase_order_id"]
    )
    op.create_index(
        "ix_invoice_matches_facility_id_status", "invoice_matches", ["facility_id", "status"]
    )
    op.create_table(
        "match_tolerances",
        sa.Column("facility_id", KEY, nullable=False),
        sa.Column("supplier_id", KEY, nullable=False),
        _dec("price_percent"), _dec("price_amount"), _dec("quantity_percent"),
        _dec("quantity_amount"), _at("updated_at"),
        sa.PrimaryKeyConstraint("facility_id", "supplier_id", name="pk_match_tolerances"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("match_tolerances")
    op.drop_index("ix_invoice_matches_facility_id_status", "invoice_matches")
    op.drop_index("ix_invoice_matches_purchase_order_id", "invoice_matches")
    op.drop_table("invoice_matches")
