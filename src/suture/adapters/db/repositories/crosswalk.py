"""The crosswalk repository: mappings of local codes to canonical ids, with their history.

The rules (no silent remapping, supersede closes the old entry) are the domain's
(``domain/crosswalk.py``); this repository stores their outcome and makes "at most one current
entry per key" a database constraint: a partial unique index on the key where ``valid_to IS
NULL``. A second current entry for a key is refused with :class:`StorageError` even when two
processes race, which is what keeps a code from mapping to two ids at once.

System-wide entries (facility None) are stored with facility ``''`` (``tables.SYSTEM_WIDE``), so
the unique index covers them too; the empty string is therefore not a valid facility id here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa

from suture.adapters.db import tables as t
from suture.adapters.db.errors import StorageError, storage_errors
from suture.domain.crosswalk import CrosswalkEntry, CrosswalkKey, CrosswalkKind

#: Local codes per ``IN (…)`` list of :meth:`CrosswalkRepository.current_many`.
CHUNK = 500


class CrosswalkRepository:
    table = t.crosswalk_entries

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def current(self, key: CrosswalkKey) -> CrosswalkEntry | None:
        rows = self._select(self._is(key) & self.table.c.valid_to.is_(None))
        return rows[0] if rows else None

    def current_many(self, keys: Iterable[CrosswalkKey]) -> dict[CrosswalkKey, CrosswalkEntry]:
        """The current entry of each key that has one, in one query per (system, facility, kind)
        and :data:`CHUNK` codes: the bulk path of seeding and imports."""
        groups: dict[tuple[str, str | None, CrosswalkKind], set[str]] = defaultdict(set)
        for key in keys:
            groups[(key.source_system, key.facility_id, key.kind)].add(key.local_code)
        c = self.table.c
        found: dict[CrosswalkKey, CrosswalkEntry] = {}
        for (source_system, facility_id, kind), codes in groups.items():
            ordered = sorted(codes)
            for start in range(0, len(ordered), CHUNK):
                entries = self._select(
                    (c.source_system == source_system)
                    & (c.facility_id == _stored(facility_id))
                    & (c.kind == kind.value)
                    & c.local_code.in_(ordered[start : start + CHUNK])
                    & c.valid_to.is_(None)
                )
                found.update((entry.key, entry) for entry in entries)
        return found

    def candidates(
        self, source_system: str, kind: CrosswalkKind, local_code: str, facility_id: str | None
    ) -> list[CrosswalkEntry]:
        """Current entries of the code at the facility and system-wide, the facility's first."""
        c = self.table.c
        facilities = [t.SYSTEM_WIDE] if facility_id is None else [facility_id, t.SYSTEM_WIDE]
        found = self._select(
            (c.source_system == source_system)
            & (c.kind == kind.value)
            & (c.local_code == local_code)
            & c.facility_id.in_(facilities)
            & c.valid_to.is_(None)
        )
        return sorted(found, key=lambda entry: entry.key.facility_id is None)

    def history(self, key: CrosswalkKey) -> list[CrosswalkEntry]:
        """Every entry of the key, oldest first, the current one (if any) last."""
        entries = self._select(self._is(key))
        return sorted(entries, key=lambda e: (e.valid_to is None, e.valid_from))

    def close(self, entry: CrosswalkEntry) -> None:
        """Set ``valid_to`` on the current entry ``entry`` describes (same key, id and start).

        Refused when ``entry`` has no ``valid_to`` or no such current entry exists, for example
        because another process superseded it first: the caller decided on stale data.
        """
        if entry.valid_to is None:
            raise StorageError("valid_to", f"closing {entry.key} needs the time it ended")
        c = self.table.c
        statement = (
            sa.update(self.table)
            .where(
                self._is(entry.key)
                & c.valid_to.is_(None)
                & (c.canonical_id == entry.canonical_id)
                & (c.valid_from == entry.valid_from)
            )
            .values(valid_to=entry.valid_to)
        )
        with storage_errors(self.table.name):
            closed = self._connection.execute(statement).rowcount
        if closed != 1:
            raise StorageError(
                "canonical_id",
                f"{entry.key} has no current entry to {entry.canonical_id} "
                f"valid from {entry.valid_from.isoformat()}",
            )

    def add(self, entry: CrosswalkEntry) -> None:
        self.add_many([entry])

    def add_many(self, entries: Iterable[CrosswalkEntry]) -> int:
        """Insert new entries with one ``executemany``; returns how many."""
        values = [self._values(entry) for entry in entries]
        if values:
            with storage_errors(self.table.name):
                self._connection.execute(sa.insert(self.table), values)
        return len(values)

    def _values(self, entry: CrosswalkEntry) -> dict[str, object]:
        if entry.key.facility_id == t.SYSTEM_WIDE:
            raise StorageError("facility_id", "must be None for a system-wide entry, not ''")
        return {
            "source_system": entry.key.source_system,
            "facility_id": _stored(entry.key.facility_id),
            "kind": entry.key.kind.value,
            "local_code": entry.key.local_code,
            "canonical_id": entry.canonical_id,
            "valid_from": entry.valid_from,
            "valid_to": entry.valid_to,
            "recorded_by": entry.recorded_by,
        }

    def count_by_facility(self) -> dict[str | None, int]:
        """Current entries per facility; system-wide ones under None."""
        column = self.table.c.facility_id
        query = (
            sa.select(column, sa.func.count())
            .where(self.table.c.valid_to.is_(None))
            .group_by(column)
        )
        with storage_errors(self.table.name):
            rows = self._connection.execute(query)
            return {_loaded(facility): number for facility, number in rows}

    def _is(self, key: CrosswalkKey) -> sa.ColumnElement[bool]:
        c = self.table.c
        return (
            (c.source_system == key.source_system)
            & (c.facility_id == _stored(key.facility_id))
            & (c.kind == key.kind.value)
            & (c.local_code == key.local_code)
        )

    def _select(self, condition: sa.ColumnElement[bool]) -> list[CrosswalkEntry]:
        query = sa.select(self.table).where(condition).order_by(self.table.c.id)
        with storage_errors(self.table.name):
            rows = self._connection.execute(query).all()
        return [
            CrosswalkEntry(
                key=CrosswalkKey(
                    source_system=row.source_system,
                    facility_id=_loaded(row.facility_id),
                    kind=CrosswalkKind(row.kind),
                    local_code=row.local_code,
                ),
                canonical_id=row.canonical_id,
                valid_from=row.valid_from,
                valid_to=row.valid_to,
                recorded_by=row.recorded_by,
            )
            for row in rows
        ]


def _stored(facility_id: str | None) -> str:
    return t.SYSTEM_WIDE if facility_id is None else facility_id


def _loaded(facility_id: str) -> str | None:
    return None if facility_id == t.SYSTEM_WIDE else facility_id
