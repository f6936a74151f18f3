"""The API client repository (``services/unit_of_work.py``, ``ApiClientRepository``)."""

from __future__ import annotations

import builtins
import json
from typing import Any

import sqlalchemy as sa

from suture.adapters.db.client_tables import api_clients
from suture.adapters.db.errors import StorageError, storage_errors
from suture.domain.access import ApiClient, format_scopes, parse_scopes


class ApiClientRepository:
    table = api_clients

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add(self, client: ApiClient, secret_hash: str) -> None:
        row = self._to_row(client) | {"secret_hash": secret_hash}
        with storage_errors(self.table.name):
            self._connection.execute(sa.insert(self.table), row)

    def get(self, client_id: str) -> ApiClient | None:
        found = self.credentials(client_id)
        return found[0] if found is not None else None

    def credentials(self, client_id: str) -> tuple[ApiClient, str] | None:
        query = sa.select(self.table).where(self.table.c.id == client_id)
        with storage_errors(self.table.name):
            row = self._connection.execute(query).first()
        if row is None:
            return None
        return self._from_row(row._mapping), row.secret_hash

    def set_secret_hash(self, client_id: str, secret_hash: str) -> None:
        self._update(client_id, {"secret_hash": secret_hash})

    def save_revoked(self, client: ApiClient) -> None:
        self._update(client.id, {"revoked_at": client.revoked_at})

    def list(
        self, *, include_revoked: bool = True, after: str | None = None, limit: int = 100
    ) -> builtins.list[ApiClient]:
        if limit < 1:
            raise StorageError("limit", f"must be at least 1, got {limit}")
        c = self.table.c
        query = sa.select(self.table).order_by(c.id).limit(limit)
        if not include_revoked:
            query = query.where(c.revoked_at.is_(None))
        if after is not None:
            query = query.where(c.id > after)
        with storage_errors(self.table.name):
            rows = self._connection.execute(query).all()
        return [self._from_row(row._mapping) for row in rows]

    def _update(self, client_id: str, values: dict[str, Any]) -> None:
        statement = sa.update(self.table).where(self.table.c.id == client_id).values(values)
        with storage_errors(self.table.name):
            updated = self._connection.execute(statement).rowcount
        if updated != 1:
            raise StorageError("api_clients.id", f"no stored API client {client_id}")

    @staticmethod
    def _to_row(client: ApiClient) -> dict[str, Any]:
        return {
            "id": client.id,
            "name": client.name,
            "scopes": format_scopes(client.scopes),
            "facility_ids": json.dumps(sorted(client.facility_ids)),
            "supplier_id": client.supplier_id,
            "created_at": client.created_at,
            "revoked_at": client.revoked_at,
        }

    @staticmethod
    def _from_row(row: Any) -> ApiClient:
        return ApiClient(
            id=row["id"],
            name=row["name"],
            scopes=parse_scopes(row["scopes"]),
            facility_ids=frozenset(json.loads(row["facility_ids"])),
            supplier_id=row["supplier_id"],
            created_at=row["created_at"],
            revoked_at=row["revoked_at"],
        )
