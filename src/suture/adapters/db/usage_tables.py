"""Tables of the usage workflow (DESIGN.md §4; ``domain/usage_workflow.py``, revision 0010).

``usage_workflows`` is the process manager's state: one row per usage id, inserted by the
workflow's first step with ``ON CONFLICT DO NOTHING``, so that of two deliveries of the same
usage (two event ids, one business key) exactly one moves stock; the other finds the row and
stops. ``expected_charges`` holds the charge each chargeable usage should bring, keyed by usage
id, indexed by encounter for reconciliation.

Like the transactional tables, they hold ids only, without foreign keys to master data.
"""

from __future__ import annotations

import sqlalchemy as sa

from suture.adapters.db.tables import KEY, metadata
from suture.adapters.db.types import ExactDecimal, UtcDateTime


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _dec(name: str) -> sa.Column[object]:
    return sa.Column(name, ExactDecimal(name), nullable=False)


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(name), nullable=False)


usage_workflows = sa.Table(
    "usage_workflows", metadata,
    sa.Column("usage_id", KEY, primary_key=True),
    _text("facility_id"), _text("location_id"), _text("item_id"), _text("step"),
    _dec("eaches"), sa.Column("consigned", sa.Boolean(), nullable=False),
    sa.Column("stockout", sa.Boolean(), nullable=False), _text("price_source"),
    _dec("unit_price"), _dec("amount"), _text("contract_id", nullable=True),
    _text("requisition_id", nullable=True), _text("bill_only_po_id", nullable=True),
    _text("replenishment_po_id", nullable=True), _text("journal_id", nullable=True),
    _text("expected_charge_id", nullable=True), _text("cost_center_id", nullable=True),
    _text("trace_id", nullable=True), _at("started_at"), _at("updated_at"),
    sa.Index("ix_usage_workflows_facility_id_step", "facility_id", "step"),
)  # fmt: skip

expected_charges = sa.Table(
    "expected_charges", metadata,
    sa.Column("id", KEY, primary_key=True),
    _text("facility_id"), _text("encounter_token", nullable=True), _text("item_id"),
    _text("cdm_code"), _text("hcpcs", nullable=True), _text("revenue_code", nullable=True),
    _dec("quantity"), _dec("cost"), _at("used_at"), _text("department_id", nullable=True),
    _at("recorded_at"),
    sa.Index("ix_expected_charges_facility_id_encounter_token", "facility_id",
             "encounter_token"),
)  # fmt: skip
