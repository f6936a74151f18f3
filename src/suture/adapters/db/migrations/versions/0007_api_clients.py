"""API clients of the OAuth2 client-credentials flow (issue 7): ``api_clients``.

Written out explicitly, like the revisions before it. The downgrade drops every client, and with
them every secret: tokens already issued stop verifying (their client is unknown).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: Ids sort bytewise on both databases (``tables.KEY``, frozen here as of this revision).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")

CLIENTS = "api_clients"


def upgrade() -> None:
    op.create_table(
        CLIENTS,
        sa.Column("id", KEY, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("scopes", sa.String(), nullable=False),
        sa.Column("facility_ids", sa.String(), nullable=False),
        sa.Column("supplier_id", sa.String(), nullable=True),
        sa.Column("secret_hash", sa.String(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_clients"),
    )


def downgrade() -> None:
    op.drop_table(CLIENTS)
