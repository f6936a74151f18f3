"""The supplier's inbound documents: PO line acknowledgments and receipts, expected receipts
(856), applied X12 interchanges and our 997 control numbers (``supplier_document_tables.py``).

Issue 5, procure-to-pay inbound. The downgrade drops the new tables and columns; the PO lines
lose what their 855s and receipts said, so downgrade only a database that will be rebuilt.

Revision ID: 0012
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import ExactDecimal, UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

#: Ids sort bytewise on both databases (``tables.KEY``, frozen here as of this revision).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")

_PO_LINE_COLUMNS = (
    "acknowledgment", "acknowledged_quantity", "acknowledged_unit_price", "expected_date",
    "received_quantity",
)  # fmt: skip


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("purchase_order_lines") as batch:
        batch.add_column(_text("acknowledgment", nullable=True))
        batch.add_column(sa.Column("acknowledged_quantity", ExactDecimal(), nullable=True))
        batch.add_column(sa.Column("acknowledged_unit_price", ExactDecimal(), nullable=True))
        batch.add_column(sa.Column("expected_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("received_quantity", ExactDecimal(), nullable=True))
    op.create_table(
        "expected_receipts",
        sa.Column("id", KEY, nullable=False),
        _text("number"), _text("facility_id"), _text("supplier_id"), _text("purchase_order_id"),
        _text("purchase_order_number"), sa.Column("noticed_at", UtcDateTime(), nullable=False),
        sa.Column("shipped_on", sa.Date(), nullable=True), _text("status"),
        _text("receipt_id", nullable=True), _text("source_system"),
        sa.PrimaryKeyConstraint("id", name="pk_expected_receipts"),
    )  # fmt: skip
    for column in ("facility_id", "supplier_id", "purchase_order_id"):
        op.create_index(f"ix_expected_receipts_{column}", "expected_receipts", [column])
    op.create_table(
        "expected_receipt_lines",
        sa.Column("expected_receipt_id", KEY, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False), _text("item_id"),
        sa.Column("quantity", ExactDecimal(), nullable=False), _text("uom"),
        sa.Column("po_line_number", sa.Integer(), nullable=True),
        _text("supplier_part_number", nullable=True), _text("gtin", nullable=True),
        _text("lot", nullable=True), _text("serial", nullable=True),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["expected_receipt_id"], ["expected_receipts.id"], ondelete="CASCADE",
            name="fk_expected_receipt_lines_expected_receipt_id",
        ),
        sa.PrimaryKeyConstraint(
            "expected_receipt_id", "position", name="pk_expected_receipt_lines"
        ),
    )  # fmt: skip
    op.create_table(
        "x12_interchanges",
        sa.Column("sender", KEY, nullable=False),
        sa.Column("control_number", KEY, nullable=False),
        _text("message_id"),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sender", "control_number", name="pk_x12_interchanges"),
    )
    op.create_table(
        "x12_control_numbers",
        sa.Column("partner", KEY, nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("partner", name="pk_x12_control_numbers"),
    )


def downgrade() -> None:
    op.drop_table("x12_control_numbers")
    op.drop_table("x12_interchanges")
    op.drop_table("expected_receipt_lines")
    for column in ("purchase_order_id", "supplier_id", "facility_id"):
        op.drop_index(f"ix_expected_receipts_{column}", "expected_receipts")
    op.drop_table("expected_receipts")
    with op.batch_alter_table("purchase_order_lines") as batch:
        for column in reversed(_PO_LINE_COLUMNS):
            batch.drop_column(column)
