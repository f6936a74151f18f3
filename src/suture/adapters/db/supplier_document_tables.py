"""Tables of the supplier's inbound documents (issue 5, procure-to-pay; revision 0012).

- ``expected_receipts`` and ``expected_receipt_lines``: what an X12 856 ship notice announced
  for one PO, until the dock confirms it (``domain/purchasing.py``, :class:`ExpectedReceipt`).
- ``x12_interchanges``: one row per interchange applied, keyed by the sender (ISA05:ISA06) and
  its control number (ISA13), so the same interchange re-sent with other bytes (a new timestamp
  in ISA09) is recognised by a unique key and not applied twice (STYLE.md habit 3).
- ``x12_control_numbers``: the last interchange control number used towards each partner, so
  the 997s we send carry increasing ISA13/GS06 numbers.

Like the other transactional tables they hold ids only, without foreign keys to master data.
"""

from __future__ import annotations

import sqlalchemy as sa

from suture.adapters.db.tables import KEY, metadata
from suture.adapters.db.types import ExactDecimal, UtcDateTime


def _text(name: str, *, nullable: bool = False, index: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable, index=index)


expected_receipts = sa.Table(
    "expected_receipts", metadata,
    sa.Column("id", KEY, primary_key=True),
    _text("number"), _text("facility_id", index=True), _text("supplier_id", index=True),
    _text("purchase_order_id", index=True), _text("purchase_order_number"),
    sa.Column("noticed_at", UtcDateTime("noticed_at"), nullable=False),
    sa.Column("shipped_on", sa.Date(), nullable=True), _text("status"),
    _text("receipt_id", nullable=True), _text("source_system"),
)  # fmt: skip

expected_receipt_lines = sa.Table(
    "expected_receipt_lines", metadata,
    sa.Column(
        "expected_receipt_id", KEY,
        sa.ForeignKey("expected_receipts.id", ondelete="CASCADE"), primary_key=True,
    ),
    sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("line_number", sa.Integer(), nullable=False), _text("item_id"),
    sa.Column("quantity", ExactDecimal("quantity"), nullable=False), _text("uom"),
    sa.Column("po_line_number", sa.Integer(), nullable=True),
    _text("supplier_part_number", nullable=True), _text("gtin", nullable=True),
    _text("lot", nullable=True), _text("serial", nullable=True),
    sa.Column("expiry", sa.Date(), nullable=True),
)  # fmt: skip

x12_interchanges = sa.Table(
    "x12_interchanges", metadata,
    sa.Column("sender", KEY, primary_key=True),
    sa.Column("control_number", KEY, primary_key=True),
    _text("message_id"),
    sa.Column("received_at", UtcDateTime("received_at"), nullable=False),
)  # fmt: skip

x12_control_numbers = sa.Table(
    "x12_control_numbers", metadata,
    sa.Column("partner", KEY, primary_key=True),
    sa.Column("last", sa.BigInteger(), nullable=False),
)  # fmt: skip
