"""Tables of the three-way match (DESIGN.md §4; ``domain/matching.py``, revision 0013).

``invoice_matches`` is the match process manager's state: one row per invoice id with the
outcome, the per-line detail (a JSON document of :class:`~suture.domain.matching.LineMatch`
values, decimals as strings), the amounts, the attempt count, and the instants of the invoice
cycle time KPI (``received_at``, ``matched_at``). ``match_tolerances`` holds the tolerance rules:
one row per scope, where ``''`` in ``facility_id`` or ``supplier_id`` means "any" (a NULL would
never collide in the primary key). ``invoice_duplicate_clearances`` (revision 0018) holds the
decisions that an invoice is not a duplicate of an original
(``domain/duplicate_clearance.py``), one row per pair.

Like the transactional tables, they hold ids only, without foreign keys to master data.
"""

from __future__ import annotations

import sqlalchemy as sa

from suture.adapters.db.tables import KEY, metadata
from suture.adapters.db.types import ExactDecimal, UtcDateTime

#: The ``facility_id`` / ``supplier_id`` of a tolerance rule that applies to any.
ANY = ""


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _dec(name: str) -> sa.Column[object]:
    return sa.Column(name, ExactDecimal(name), nullable=False)


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(name), nullable=nullable)


invoice_matches = sa.Table(
    "invoice_matches", metadata,
    sa.Column("invoice_id", KEY, primary_key=True),
    _text("invoice_number"), _text("facility_id"), _text("supplier_id"),
    _text("purchase_order_number", nullable=True), _text("purchase_order_id", nullable=True),
    _text("status"), _text("findings"), sa.Column("lines", sa.Text(), nullable=False),
    _dec("invoice_amount"), _dec("matched_amount"), _dec("variance_amount"),
    sa.Column("attempts", sa.Integer(), nullable=False), _at("received_at"), _at("updated_at"),
    _at("matched_at", nullable=True), _text("duplicate_of", nullable=True),
    _text("voucher_id", nullable=True), _text("trace_id", nullable=True),
    sa.Index("ix_invoice_matches_purchase_order_id", "purchase_order_id"),
    sa.Index("ix_invoice_matches_facility_id_status", "facility_id", "status"),
)  # fmt: skip

match_tolerances = sa.Table(
    "match_tolerances", metadata,
    sa.Column("facility_id", KEY, primary_key=True),
    sa.Column("supplier_id", KEY, primary_key=True),
    _dec("price_percent"), _dec("price_amount"), _dec("quantity_percent"),
    _dec("quantity_amount"), _at("updated_at"),
)  # fmt: skip

invoice_duplicate_clearances = sa.Table(
    "invoice_duplicate_clearances", metadata,
    sa.Column("invoice_id", KEY, primary_key=True),
    sa.Column("original_invoice_id", KEY, primary_key=True),
    _text("reason"), _text("decided_by"), _at("decided_at"),
)  # fmt: skip
