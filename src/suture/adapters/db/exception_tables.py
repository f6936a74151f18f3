"""Tables of the exception work queue (DESIGN.md §5; ``domain/exceptions.py``).

``exception_items`` holds one row per item, with its subject (``domain.exceptions.subject_of``)
as a column of its own. The partial unique index on ``(subject, type)`` over active rows makes
"one active item per type and subject" a database fact, on SQLite and PostgreSQL alike, so two
workers that dead-letter the same message at once leave one item. Queries for active rows spell
the active condition exactly as :data:`ACTIVE_PREDICATE`, the index's predicate, so PostgreSQL's
planner can prove the partial index applies whatever the parameters.

``exception_actions`` is the append-only trail of every change (who, what, when, why); rows are
inserted and never updated, their ``id`` giving the order.

Imported by the exception repository, and so by the unit of work; modules that need the complete
``metadata`` (migrations' comparison tests, Alembic's env) import it explicitly.
"""

from __future__ import annotations

import sqlalchemy as sa

from suture.adapters.db.tables import KEY, metadata
from suture.adapters.db.types import UtcDateTime

#: An active item (open or in progress) as SQL: the domain gives an item ``resolved_at`` exactly
#: when it is resolved or dismissed. A NULL test, unlike ``status IN (…)``, reads back from both
#: databases as written, so the migration test can check the partial index kept its predicate.
ACTIVE_PREDICATE = "resolved_at IS NULL"
#: 64-bit on PostgreSQL; an ``INTEGER PRIMARY KEY`` (the rowid) on SQLite.
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(name), nullable=nullable)


exception_items = sa.Table(
    "exception_items", metadata,
    sa.Column("id", KEY, primary_key=True),
    _text("type"), _text("status"), _text("facility_id", nullable=True), _text("queue"),
    _text("owner", nullable=True), _at("opened_at"), _at("sla_due_at"), _at("updated_at"),
    _text("reason"), sa.Column("subject", KEY, nullable=False),
    _text("message_id", nullable=True), _text("event_id", nullable=True),
    _text("handler", nullable=True), _text("delivery_id", nullable=True),
    _text("trace_id", nullable=True), _text("correlation_id", nullable=True),
    _text("dependency", nullable=True),
    _at("resolved_at", nullable=True), _text("resolved_by", nullable=True),
    _text("resolution_note", nullable=True),
    sa.Index("ix_exception_items_status_queue", "status", "queue", "id"),
    sa.Index("ix_exception_items_facility_id_status", "facility_id", "status", "id"),
    sa.Index("ix_exception_items_sla_due_at", "sla_due_at"),
    sa.Index("ix_exception_items_dependency", "dependency"),
    sa.Index("ix_exception_items_subject", "subject"),
    sa.Index(
        "uq_exception_items_active_subject", "subject", "type",
        unique=True,
        sqlite_where=sa.text(ACTIVE_PREDICATE),
        postgresql_where=sa.text(ACTIVE_PREDICATE),
    ),
)  # fmt: skip

exception_actions = sa.Table(
    "exception_actions", metadata,
    sa.Column("id", POSITION, primary_key=True, autoincrement=True),
    sa.Column(
        "item_id", KEY, sa.ForeignKey("exception_items.id", ondelete="CASCADE"), nullable=False
    ),
    _text("kind"), _at("at"), _text("actor"), _text("detail", nullable=True),
    sa.Index("ix_exception_actions_item_id_id", "item_id", "id"),
)  # fmt: skip
