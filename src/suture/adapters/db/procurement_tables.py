"""Tables of procure-to-pay's ordering half (revision 0011; docs/workflows.md).

``requisition_approvals`` is the approval workflow's state, one row per requisition id,
inserted with ``ON CONFLICT DO NOTHING`` so that of two deliveries of the same requisition one
applies the policy. ``trading_partners`` holds each supplier's X12 profile and the last control
number used for it (locked and incremented in the transaction that queues an 850).

Like the transactional tables they hold ids only, without foreign keys to master data: a
profile may be set before the supplier master is loaded.
"""

from __future__ import annotations

import sqlalchemy as sa

from suture.adapters.db.tables import KEY, metadata
from suture.adapters.db.types import ExactDecimal, UtcDateTime


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(name), nullable=nullable)


requisition_approvals = sa.Table(
    "requisition_approvals", metadata,
    sa.Column("requisition_id", KEY, primary_key=True),
    _text("facility_id"), _text("department_id", nullable=True), _text("reason"),
    _text("status"), sa.Column("amount", ExactDecimal("amount"), nullable=False),
    sa.Column("off_contract", sa.Boolean(), nullable=False), _text("rule"),
    _text("approver", nullable=True), _text("decided_by", nullable=True),
    _at("decided_at", nullable=True), _text("note", nullable=True),
    _text("purchase_orders", nullable=True), _text("trace_id", nullable=True),
    _at("created_at"), _at("updated_at"),
    sa.Index("ix_requisition_approvals_facility_id_status", "facility_id", "status"),
)  # fmt: skip

trading_partners = sa.Table(
    "trading_partners", metadata,
    sa.Column("supplier_id", KEY, primary_key=True),
    _text("isa_qualifier"), _text("isa_id"), _text("gs_id"), _text("x12_version"),
    _text("usage_indicator"), _text("delivery_target", nullable=True),
    sa.Column("last_control_number", sa.Integer(), nullable=False), _at("updated_at"),
)  # fmt: skip
