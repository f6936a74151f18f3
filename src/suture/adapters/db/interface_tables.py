"""Tables of the integration inventory (DESIGN.md §6; ``domain/interfaces.py``).

``interfaces`` holds one row per interface, keyed by name. Its ``active_route`` column is the
route of an active inbound interface (channel and source system joined by a line feed) and NULL
for outbound and retired ones; a unique index on it makes "one active inbound interface per
route" a database fact on SQLite and PostgreSQL alike (NULLs never collide), without a partial
index predicate. ``authoritative_objects`` and ``facility_ids`` are short JSON lists.

``unmanaged_sources`` has one row per route that traffic arrived on while no active inbound
interface had it: how many messages, first and last seen.

Imported by the interface repository, and so by the unit of work; the migrations' environment
imports it to complete ``metadata``.
"""

from __future__ import annotations

import sqlalchemy as sa

from suture.adapters.db.tables import KEY, metadata
from suture.adapters.db.types import UtcDateTime

#: Joins a route's channel and source system in ``interfaces.active_route``.
ROUTE_SEPARATOR = "\n"


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(name), nullable=False)


interfaces = sa.Table(
    "interfaces", metadata,
    sa.Column("name", KEY, primary_key=True),
    _text("description"), _text("direction"), _text("format"), _text("channel"),
    _text("source_system"), _text("target_system"),
    sa.Column("authoritative_objects", sa.JSON(), nullable=False),
    _text("owner", nullable=True),
    sa.Column("sla_latency_minutes", sa.Integer(), nullable=True),
    _text("sla_availability", nullable=True), _text("contract", nullable=True),
    _text("schema_version", nullable=True), _text("authentication", nullable=True),
    _text("api_client", nullable=True), _text("mode"), _text("modernization", nullable=True),
    sa.Column("sunset_on", sa.Date(), nullable=True),
    sa.Column("facility_ids", sa.JSON(), nullable=False),
    sa.Column("retired_on", sa.Date(), nullable=True),
    _at("registered_at"), _at("updated_at"),
    _text("active_route", nullable=True),
    sa.Index("uq_interfaces_active_route", "active_route", unique=True),
)  # fmt: skip

unmanaged_sources = sa.Table(
    "unmanaged_sources", metadata,
    sa.Column("channel", KEY, primary_key=True),
    sa.Column("source_system", KEY, primary_key=True),
    _text("format"), _at("first_seen"), _at("last_seen"),
    sa.Column("message_count", sa.BigInteger(), nullable=False),
)  # fmt: skip
