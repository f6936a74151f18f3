"""The event log's tables: events (the outbox), work per handler, tracking and attempts.

DESIGN.md §3 guarantees 2 to 5, on the shared ``metadata`` of ``tables.py``:

- ``events``: the log. ``position`` (SQLite ``INTEGER PRIMARY KEY``, PostgreSQL ``BIGINT``
  identity) is the order of appending, never the UUIDv7 id, whose clock belongs to the
  publisher. ``idempotency_key`` is unique: a business fact ingested twice gets a second event
  id but the same key, and is appended once. ``payload`` is the payload's JSON text (compact,
  sorted keys); decimals travel in it as strings, so it round-trips exactly on both databases.
  Rows are never updated or deleted, so SQLite's rowid is never reused and needs no
  ``AUTOINCREMENT``.
- ``handler_work``: one row per (handler, event) still to do: ``pending`` (due at
  ``next_attempt_at``), ``parked`` on a dependency key, or ``dead``. The row is deleted when the
  handler's transaction commits, together with the insertion of the tracking row.
- ``tracking``: ``(handler, event_id)`` done; its primary key is the exactly-once guard (STYLE.md
  habit 3). Kept forever, so a replay or a redelivery is recognised.
- ``handler_attempts``: every failed attempt, append-only, for the trace.

Ids of events are :data:`~suture.adapters.db.tables.KEY` (bytewise order on both databases).
"""

from __future__ import annotations

import sqlalchemy as sa

from suture.adapters.db.tables import KEY, metadata
from suture.adapters.db.types import UtcDateTime

#: A 64-bit log position on PostgreSQL; SQLite makes only an ``INTEGER`` primary key its rowid.
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _key(name: str, *, primary_key: bool = False) -> sa.Column[str]:
    return sa.Column(name, KEY, primary_key=primary_key, nullable=False)


events = sa.Table(
    "events", metadata,
    sa.Column("position", POSITION, sa.Identity(), primary_key=True),
    sa.Column("id", KEY, nullable=False, unique=True),
    _text("type"), sa.Column("schema_version", sa.Integer(), nullable=False),
    sa.Column("occurred_at", UtcDateTime("occurred_at"), nullable=False),
    sa.Column("recorded_at", UtcDateTime("recorded_at"), nullable=False),
    _text("source_system"), _text("source_facility", nullable=True),
    _text("trace_id"), _text("correlation_id"), sa.Column("causation_id", KEY, nullable=True),
    _text("idempotency_key"), sa.Column("payload", sa.Text(), nullable=False),
    sa.Index("uq_events_idempotency_key", "idempotency_key", unique=True),
    sa.Index("ix_events_trace_id", "trace_id"),
    sa.Index("ix_events_correlation_id", "correlation_id"),
    sa.Index("ix_events_recorded_at", "recorded_at"),
    sa.Index("ix_events_type_recorded_at", "type", "recorded_at"),
)  # fmt: skip

#: Only parked items have a dependency key: the index holds those alone, so that inserting,
#: claiming and completing work (all of it unparked) writes no entry in it (migration 0017).
PARKED_PREDICATE = "parked_on IS NOT NULL"

handler_work = sa.Table(
    "handler_work", metadata,
    _key("handler", primary_key=True), _key("event_id", primary_key=True),
    sa.Column("event_position", POSITION, nullable=False),
    _text("status"), sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime("next_attempt_at"), nullable=False),
    _text("last_error", nullable=True), _text("parked_on", nullable=True),
    sa.Column("updated_at", UtcDateTime("updated_at"), nullable=False),
    sa.Index("ix_handler_work_claim", "status", "next_attempt_at", "event_position"),
    sa.Index(
        "ix_handler_work_parked_on", "parked_on",
        sqlite_where=sa.text(PARKED_PREDICATE), postgresql_where=sa.text(PARKED_PREDICATE),
    ),
    sa.Index("ix_handler_work_event_id", "event_id"),
)  # fmt: skip

tracking = sa.Table(
    "tracking", metadata,
    _key("handler", primary_key=True), _key("event_id", primary_key=True),
    sa.Column("processed_at", UtcDateTime("processed_at"), nullable=False),
    sa.Index("ix_tracking_event_id", "event_id"),
)  # fmt: skip

handler_attempts = sa.Table(
    "handler_attempts", metadata,
    sa.Column("id", POSITION, sa.Identity(), primary_key=True),
    _key("handler"), _key("event_id"), sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("at", UtcDateTime("at"), nullable=False), _text("error_kind"), _text("outcome"),
    _text("error"),
    sa.Index("ix_handler_attempts_event_id", "event_id", "handler"),
)  # fmt: skip

#: Events the relay has handed to the distributed stream (NATS JetStream, DESIGN.md §8), kept
#: apart so ``events`` stays append-only. An event without a row here is still to publish; a
#: row is written only after the stream acknowledged the publication.
event_publications = sa.Table(
    "event_publications", metadata,
    _key("event_id", primary_key=True),
    sa.Column("published_at", UtcDateTime("published_at"), nullable=False),
)  # fmt: skip
