"""Tables of the hash-chained audit trail (issue 7; ``domain/audit.py``).

``audit_log`` holds one row per recorded action, keyed by its place in the chain (``seq``, given
by the appender as head + 1, never by the database, so a deleted row leaves a visible gap).
Rows are inserted and never updated. ``audit_chain_head`` holds exactly one row (``id`` 1,
inserted by the migration): the last row's sequence number and hash with a MAC of both. Every
append locks and rewrites it in the appending transaction, which is what keeps the chain linear
under concurrency: on PostgreSQL the ``SELECT … FOR UPDATE`` of that row makes a second appender
wait until the first commits, and then read the moved head; on SQLite ``BEGIN IMMEDIATE``
serialises writers already. A row lock rather than an advisory lock, because advisory locks are
per database, and two schemas of one server (tests, tenants) each have a chain of their own.

Imported by the audit repository, and so by the unit of work; Alembic's env imports it too.
"""

from __future__ import annotations

import sqlalchemy as sa

from suture.adapters.db.tables import metadata
from suture.adapters.db.types import UtcDateTime

#: 64-bit on PostgreSQL; an ``INTEGER PRIMARY KEY`` on SQLite.
SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: The one row of ``audit_chain_head``.
HEAD_ID = 1


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("seq", SEQUENCE, primary_key=True, autoincrement=False),
    sa.Column("at", UtcDateTime("at"), nullable=False),
    _text("actor"), _text("client_id"), _text("scope", nullable=True), _text("action"),
    _text("target_type", nullable=True), _text("target_id", nullable=True),
    _text("before", nullable=True), _text("after", nullable=True),
    _text("outcome"), _text("reason", nullable=True),
    _text("previous_hash"), _text("hash"),
    sa.Index("ix_audit_log_action", "action", "seq"),
    sa.Index("ix_audit_log_actor", "actor", "seq"),
    sa.Index("ix_audit_log_at", "at"),
)  # fmt: skip

audit_chain_head = sa.Table(
    "audit_chain_head", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("seq", SEQUENCE, nullable=False),
    _text("hash"), _text("mac", nullable=True),
)  # fmt: skip
