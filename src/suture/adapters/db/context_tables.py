"""Tables of the clinical context (migration 0016): encounters and staff reference data."""

from __future__ import annotations

import sqlalchemy as sa

from suture.adapters.db.tables import KEY, metadata
from suture.adapters.db.types import UtcDateTime

encounters = sa.Table(
    "encounters", metadata,
    sa.Column("facility_id", KEY, primary_key=True),
    sa.Column("encounter_token", KEY, primary_key=True),
    sa.Column("account_token", sa.String(), nullable=True),
    sa.Column("patient_class", sa.String(), nullable=True),
    sa.Column("admitted_at", UtcDateTime("admitted_at"), nullable=True),
    sa.Column("discharged_at", UtcDateTime("discharged_at"), nullable=True),
    sa.Column("last_event", sa.String(), nullable=True),
    sa.Column("source_system", sa.String(), nullable=False),
    sa.Column("updated_at", UtcDateTime("updated_at"), nullable=False),
)  # fmt: skip

staff_members = sa.Table(
    "staff_members", metadata,
    sa.Column("source_system", KEY, primary_key=True),
    sa.Column("staff_id", KEY, primary_key=True),
    sa.Column("family_name", sa.String(), nullable=False),
    sa.Column("given_name", sa.String(), nullable=False),
    sa.Column("prefix", sa.String(), nullable=False),
    sa.Column("staff_type", sa.String(), nullable=False),
    sa.Column("job_title", sa.String(), nullable=False),
    sa.Column("specialty", sa.String(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("updated_at", UtcDateTime("updated_at"), nullable=False),
)  # fmt: skip
