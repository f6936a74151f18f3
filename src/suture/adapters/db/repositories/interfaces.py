"""The interface repository: the integration inventory and the unmanaged-traffic counters.

``record_unmanaged`` runs inside the inbox's store transaction, on the ingest hot path, so it is
one ``INSERT … ON CONFLICT (channel, source_system) DO UPDATE`` for every route of the batch
(SQLite 3.35+ and PostgreSQL spell it the same), the count added and first/last seen widened by
``CASE`` (portable where ``GREATEST`` is not). Rows are written in route order, so two
PostgreSQL transactions recording the same routes lock them in the same order and cannot
deadlock on each other.

``inbound_traffic`` reads ``inbox_messages`` (served by its ``received_at`` index): traffic is
counted from the messages stored, never kept twice.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from suture.adapters.db import tables as t
from suture.adapters.db.errors import StorageError, storage_errors
from suture.adapters.db.interface_tables import ROUTE_SEPARATOR, interfaces, unmanaged_sources
from suture.domain.interfaces import (
    Direction,
    Interface,
    InterfaceFormat,
    Mode,
    ModernizationClass,
    Route,
    UnmanagedSource,
)


@functools.cache
def _record_unmanaged(dialect: str) -> sa.Insert:
    """The upsert of ``record_unmanaged``, built once per dialect: building the statement and
    its cache key cost more than running it, once per stored group."""
    table = unmanaged_sources
    insert = sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)
    new = insert.excluded
    c = table.c
    return insert.on_conflict_do_update(
        index_elements=["channel", "source_system"],
        set_={
            "format": new.format,
            "first_seen": sa.case(
                (new.first_seen < c.first_seen, new.first_seen), else_=c.first_seen
            ),
            "last_seen": sa.case((new.last_seen > c.last_seen, new.last_seen), else_=c.last_seen),
            "message_count": c.message_count + new.message_count,
        },
    )


class InterfaceRepository:
    table = interfaces

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def get(self, name: str) -> Interface | None:
        found = self._load(sa.select(self.table).where(self.table.c.name == name))
        return found[0] if found else None

    def add(self, interface: Interface) -> None:
        with storage_errors(self.table.name):
            self._connection.execute(sa.insert(self.table), _to_row(interface))

    def save(self, interface: Interface) -> None:
        row = _to_row(interface)
        with storage_errors(self.table.name):
            updated = self._connection.execute(
                sa.update(self.table).where(self.table.c.name == interface.name).values(row)
            ).rowcount
        if updated != 1:
            raise StorageError("interfaces.name", f"no stored interface {interface.name!r}")

    def list(
        self, *, include_retired: bool = False, after: str | None = None, limit: int = 1000
    ) -> builtins.list[Interface]:
        if limit < 1:
            raise StorageError("limit", f"must be at least 1, got {limit}")
        c = self.table.c
        query = sa.select(self.table).order_by(c.name).limit(limit)
        if not include_retired:
            query = query.where(c.retired_on.is_(None))
        if after is not None:
            query = query.where(c.name > after)
        return self._load(query)

    def routes(self) -> set[Route]:
        c = self.table.c
        query = sa.select(c.channel, c.source_system).where(c.active_route.is_not(None))
        with storage_errors(self.table.name):
            return {Route(*row) for row in self._connection.execute(query).all()}

    def record_unmanaged(self, sources: Sequence[UnmanagedSource]) -> None:
        if not sources:
            return
        statement = _record_unmanaged(self._connection.dialect.name)
        rows = [
            {
                "channel": s.channel,
                "source_system": s.source_system,
                "format": s.format,
                "first_seen": s.first_seen,
                "last_seen": s.last_seen,
                "message_count": s.message_count,
            }
            for s in sorted(sources, key=lambda source: source.route)
        ]
        with storage_errors(unmanaged_sources.name):
            self._connection.execute(statement, rows)

    def unmanaged(self) -> builtins.list[UnmanagedSource]:
        c = unmanaged_sources.c
        query = sa.select(unmanaged_sources).order_by(c.channel, c.source_system)
        with storage_errors(unmanaged_sources.name):
            rows = self._connection.execute(query).all()
        return [
            UnmanagedSource(
                channel=row.channel,
                source_system=row.source_system,
                format=row.format,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
                message_count=row.message_count,
            )
            for row in rows
        ]

    def inbound_traffic(self, since: datetime) -> dict[Route, int]:
        c = t.inbox_messages.c
        query = (
            sa.select(c.interface, c.source_system, sa.func.count())
            .where(c.received_at >= since)
            .group_by(c.interface, c.source_system)
        )
        with storage_errors(t.inbox_messages.name):
            rows = self._connection.execute(query).all()
        return {Route(interface, source): n for interface, source, n in rows}

    def _load(self, query: sa.Select[Any]) -> builtins.list[Interface]:
        with storage_errors(self.table.name):
            rows = self._connection.execute(query).all()
        return [_from_row(row._mapping) for row in rows]


def _to_row(interface: Interface) -> dict[str, Any]:
    if interface.registered_at is None or interface.updated_at is None:
        raise StorageError("registered_at", f"interface {interface.name!r} has no times to store")
    route = interface.route
    return {
        "name": interface.name,
        "description": interface.description,
        "direction": interface.direction.value,
        "format": interface.format.value,
        "channel": interface.channel,
        "source_system": interface.source_system,
        "target_system": interface.target_system,
        "authoritative_objects": [each.value for each in interface.authoritative_objects],
        "owner": interface.owner,
        "sla_latency_minutes": interface.sla_latency_minutes,
        "sla_availability": interface.sla_availability,
        "contract": interface.contract,
        "schema_version": interface.schema_version,
        "authentication": interface.authentication,
        "api_client": interface.api_client,
        "mode": interface.mode.value,
        "modernization": None if interface.modernization is None else interface.modernization.value,
        "sunset_on": interface.sunset_on,
        "facility_ids": list(interface.facility_ids),
        "retired_on": interface.retired_on,
        "registered_at": interface.registered_at,
        "updated_at": interface.updated_at,
        "active_route": None if route is None else ROUTE_SEPARATOR.join(route),
    }


def _from_row(row: Any) -> Interface:
    modernization = row["modernization"]
    return Interface(
        name=row["name"],
        description=row["description"],
        direction=Direction(row["direction"]),
        format=InterfaceFormat(row["format"]),
        channel=row["channel"],
        source_system=row["source_system"],
        target_system=row["target_system"],
        authoritative_objects=tuple(row["authoritative_objects"]),
        owner=row["owner"],
        sla_latency_minutes=row["sla_latency_minutes"],
        sla_availability=row["sla_availability"],
        contract=row["contract"],
        schema_version=row["schema_version"],
        authentication=row["authentication"],
        api_client=row["api_client"],
        mode=Mode(row["mode"]),
        modernization=None if modernization is None else ModernizationClass(modernization),
        sunset_on=row["sunset_on"],
        facility_ids=tuple(row["facility_ids"]),
        retired_on=row["retired_on"],
        registered_at=row["registered_at"],
        updated_at=row["updated_at"],
    )
