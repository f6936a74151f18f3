"""A small FastAPI application built from the auth pieces, for the API security tests.

It mounts the token endpoint and four routes over an in-memory record set, each route using
the dependencies as the real System routes will: ``require(scope)``, ``RecordScope`` for lists,
``check_record`` for one record. The hub holds a real client registry on the test's database,
the token service on a clock the test moves, and a rate limiter (memory or Redis).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import FastAPI

from suture.adapters.rate_limits import RateLimiter
from suture.domain.access import Principal, Scope
from suture.entrypoints.api import oauth, security
from suture.entrypoints.api.security import CurrentPrincipal, RecordScope, check_record, require
from suture.services.clients import ClientRegistry
from suture.services.tokens import TokenService

AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

#: Purchase orders of two facilities and two suppliers, and a system-wide item.
RECORDS: dict[str, dict[str, Any]] = {
    "po-1": {"id": "po-1", "facility_id": "F1", "supplier_id": "S1"},
    "po-2": {"id": "po-2", "facility_id": "F1", "supplier_id": "S2"},
    "po-3": {"id": "po-3", "facility_id": "F2", "supplier_id": "S1"},
    "item-1": {"id": "item-1", "facility_id": None, "supplier_id": None},
}


@dataclass
class MovableClock:
    now: datetime = AT

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class AuthHub:
    """The attributes of ``bootstrap.Hub`` the auth pieces use."""

    clients: ClientRegistry
    tokens: TokenService
    rate_limiter: RateLimiter


def make_app(hub: AuthHub) -> FastAPI:
    app = FastAPI()
    app.state.hub = hub
    security.install(app)
    app.include_router(oauth.router)

    @app.get("/whoami")
    def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
        return {"client_id": principal.client_id, "scopes": sorted(principal.scopes)}

    @app.get("/records")
    def list_records(
        _: Annotated[Principal, require(Scope.SYSTEM_READ)], scope: RecordScope
    ) -> list[str]:
        return [
            record["id"]
            for record in RECORDS.values()
            if scope.allows(record["facility_id"], record["supplier_id"])
        ]

    @app.get("/records/{record_id}")
    def get_record(
        record_id: str, principal: Annotated[Principal, require(Scope.SYSTEM_READ)]
    ) -> dict[str, Any]:
        record = RECORDS[record_id]
        check_record(
            principal, facility_id=record["facility_id"], supplier_id=record["supplier_id"]
        )
        return record

    @app.put("/records/{record_id}")
    def put_record(
        record_id: str, principal: Annotated[Principal, require(Scope.SYSTEM_WRITE)]
    ) -> dict[str, Any]:
        record = RECORDS[record_id]
        check_record(principal, facility_id=record["facility_id"], write=True)
        return record

    @app.get("/phi")
    def read_phi(_: Annotated[Principal, require(Scope.PHI_READ)]) -> str:
        return "raw"

    return app
