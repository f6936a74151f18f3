"""Charge-to-cost reconciliation's tables: ``chargemaster_prices``, ``reconciliation_lines``.

``chargemaster_prices`` is the CDM price list per facility with effective dates (master data,
owned by the revenue cycle), keyed ``(facility, CDM code, effective from)``: reconciliation
prices a missed charge with it (revenue at risk). ``reconciliation_lines`` is the continuous
reconciliation's state: one row per line of either side, with its current verdict, grouped by
the key ``(facility_id, encounter_key, cdm_code)`` the handler re-evaluates; ``due_at`` is when
an unmatched line ages into an exception (NULL when it needs none, or has one), and
``matched_at`` when a usage line was first fully billed (the lag KPI).
"""

from __future__ import annotations

import sqlalchemy as sa

from suture.adapters.db.tables import KEY, metadata
from suture.adapters.db.types import ExactDecimal, UtcDateTime


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _dec(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, ExactDecimal(name), nullable=nullable)


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(name), nullable=nullable)


chargemaster_prices = sa.Table(
    "chargemaster_prices", metadata,
    sa.Column("facility_id", KEY, primary_key=True), sa.Column("cdm_code", KEY, primary_key=True),
    sa.Column("effective_from", sa.Date(), primary_key=True),
    sa.Column("effective_to", sa.Date(), nullable=True), _dec("unit_price"),
    _text("description", nullable=True), _text("source_system"),
)  # fmt: skip

reconciliation_lines = sa.Table(
    "reconciliation_lines", metadata,
    sa.Column("side", KEY, primary_key=True), sa.Column("line_id", KEY, primary_key=True),
    _text("facility_id"), _text("encounter_key"), _text("cdm_code"), _at("line_at"),
    _dec("quantity"), _text("outcome"), _dec("unbilled"), _dec("revenue_at_risk", nullable=True),
    _at("matched_at", nullable=True), _at("due_at", nullable=True),
    _text("exception_id", nullable=True), _at("updated_at"),
    sa.Index("ix_reconciliation_lines_facility_id_encounter_key_cdm_code", "facility_id",
             "encounter_key", "cdm_code"),
    sa.Index("ix_reconciliation_lines_due_at", "due_at"),
)  # fmt: skip
