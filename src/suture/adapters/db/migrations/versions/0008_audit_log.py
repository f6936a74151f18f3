"""The hash-chained audit trail (issue 7): ``audit_log`` and its one-row ``audit_chain_head``.

Written out explicitly, like the revisions before it. The head row starts empty (sequence 0, the
genesis hash, no MAC: the migration does not know the key); the first append gives it a MAC. The
downgrade drops the whole trail, and with it the evidence it holds: export it first.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: 64-bit on PostgreSQL; an ``INTEGER PRIMARY KEY`` on SQLite (frozen as of this revision).
SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: ``domain.audit.GENESIS_HASH``, frozen here.
GENESIS_HASH = "0" * 64

LOG = "audit_log"
HEAD = "audit_chain_head"


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        LOG,
        sa.Column("seq", SEQUENCE, autoincrement=False, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        _text("actor"),
        _text("client_id"),
        _text("scope", nullable=True),
        _text("action"),
        _text("target_type", nullable=True),
        _text("target_id", nullable=True),
        _text("before", nullable=True),
        _text("after", nullable=True),
        _text("outcome"),
        _text("reason", nullable=True),
        _text("previous_hash"),
        _text("hash"),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_action", LOG, ["action", "seq"])
    op.create_index("ix_audit_log_actor", LOG, ["actor", "seq"])
    op.create_index("ix_audit_log_at", LOG, ["at"])
    head = op.create_table(
        HEAD,
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", SEQUENCE, nullable=False),
        _text("hash"),
        _text("mac", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_chain_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH, "mac": None}])


def downgrade() -> None:
    op.drop_table(HEAD)
    op.drop_table(LOG)
