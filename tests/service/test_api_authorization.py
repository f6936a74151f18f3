"""The authorization matrix over every API route (issue 7, "Done means").

Every operation under ``/api/v1`` and ``/fhir/R4`` (but the public FHIR metadata) is called
with no token, an expired token, a revoked client's token and a token lacking the operation's
scope: each gets ``401`` or ``403`` with a problem body and no data. Every list is asked for a
facility outside the token (``403``), and every record type that belongs to no supplier is
refused to a supplier's token. The right token gets ``200`` on every list. Routes are
enumerated from the application, so a new route is in the matrix the day it is added.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suture.bootstrap import Hub, build, token_codec
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.entrypoints.api.app import create_app
from suture.services.tokens import TokenService

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "errors"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("authz")
    return Settings(
        database_url=f"sqlite:///{folder / 'authz.db'}",
        erp_outbox_dir=folder / "out",
        auth_revocation_cache_seconds=0,
        rate_limit_client="100000/minute",
    )


@pytest.fixture(scope="module")
def hub(settings: Settings) -> Iterator[Hub]:
    built = build(settings)
    yield built
    built.close()


@pytest.fixture(scope="module")
def api(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as client:
        yield client


#: Operations under those prefixes that need no token: the FHIR CapabilityStatement (FHIR R4
#: http.html#capabilities: a client reads it before it has credentials).
PUBLIC = {"/fhir/R4/metadata"}


def _document() -> dict[str, Any]:
    settings = Settings(database_url="sqlite:///:memory:", erp_outbox_dir=Path("/nonexistent"))
    hub = build(settings, migrate=False)
    try:
        return create_app(hub).openapi()
    finally:
        hub.close()


DOCUMENT = _document()


def operations(*, lists: bool = False) -> list[tuple[str, str, str]]:
    """(method, path with placeholders filled, scope) of every /api/v1 and /fhir/R4 operation
    (but :data:`PUBLIC`), read from the OpenAPI document, whose security requirement names the
    scope each operation needs.
    ``lists``: only the paged lists that take a ``facility_id`` filter."""
    found = []
    for path, item in sorted(DOCUMENT["paths"].items()):
        if not path.startswith(("/api/v1/", "/fhir/R4")) or path in PUBLIC:
            continue
        for method, operation in sorted(item.items()):
            (requirement,) = operation["security"]
            (scope,) = requirement["oauth2"]
            ok = operation["responses"].get("200", {}).get("content", {}).get("application/json")
            paged = "Page" in str((ok or {}).get("schema", {}).get("$ref", ""))
            filtered = any(p["name"] == "facility_id" for p in operation.get("parameters", []))
            if lists and not (paged and filtered):
                continue
            found.append((method.upper(), re.sub(r"\{[^}]+\}", "anything", path), scope))
    return found


OPERATIONS = operations()
LISTS = operations(lists=True)
NO_SUPPLIER = [
    p
    for m, p, _ in LISTS
    if p.rsplit("/", 1)[-1]
    in {"facilities", "cost-centers", "departments", "locations", "requisitions", "receipts",
        "charges", "usage", "journals"}
]  # fmt: skip


#: Tokens by (scopes, facilities, supplier): creating a client hashes its secret with argon2,
#: a deliberately slow step, so each kind of client is made once per module.
_TOKENS: dict[tuple[frozenset[Scope], tuple[str, ...], str | None], str] = {}


def token(hub: Hub, scopes: set[Scope], facilities: list[str], supplier: str | None = None) -> str:
    if Scope.EXPERIENCE_SUPPLIER in scopes and supplier is None:
        supplier = "sup-1"  # the supplier scope is only granted to a supplier-bound client
    key = (frozenset(scopes), tuple(facilities), supplier)
    if key not in _TOKENS:
        created = hub.clients.create("matrix", scopes, facilities, supplier_id=supplier)
        _TOKENS[key] = hub.tokens.issue(created.client).access_token
    return _TOKENS[key]


def _bound(scope: str) -> str | None:
    return "sup-1" if scope == Scope.EXPERIENCE_SUPPLIER else None


def call(api: TestClient, method: str, path: str, token: str | None, **params: str) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    if method == "POST":
        headers["content-type"] = "application/hl7-v2"
        return api.request(method, path, headers=headers, params=params, content=b"MSH|^~\\&|")
    return api.request(method, path, headers=headers, params=params)


def assert_refused(answer: Any, status: int) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert set(answer.json()) == PROBLEM_KEYS
    assert "www-authenticate" in answer.headers


def test_the_matrix_covers_every_system_api_operation() -> None:
    assert len(OPERATIONS) >= 29
    assert {s for _, _, s in OPERATIONS} <= {str(scope) for scope in Scope}
    fhir = {(m, p, s) for m, p, s in OPERATIONS if p.startswith("/fhir/")}
    kinds = ("", "/ChargeItem", "/Device", "/Invoice", "/Procedure", "/SupplyDelivery")
    expected = {("POST", f"/fhir/R4{kind}", "system:write") for kind in (*kinds, "/SupplyRequest")}
    assert fhir == expected


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS)
def test_no_token_is_401(api: TestClient, method: str, path: str, scope: str) -> None:
    assert_refused(call(api, method, path, None), 401)


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS)
def test_an_expired_token_is_401(  # noqa: PLR0917  (fixtures and parameters)
    api: TestClient, hub: Hub, settings: Settings, method: str, path: str, scope: str
) -> None:
    created = hub.clients.create(
        "matrix", {Scope(scope)}, [ALL_FACILITIES], supplier_id=_bound(scope)
    )
    an_hour_ago = hub.clock() - timedelta(hours=1)
    issuer = TokenService(
        token_codec(settings),
        hub.clients,
        lambda: an_hour_ago,
        issuer=settings.auth_jwt_issuer,
        audience=settings.auth_jwt_audience,
    )
    assert_refused(call(api, method, path, issuer.issue(created.client).access_token), 401)


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS)
def test_a_revoked_clients_token_is_401(
    api: TestClient, hub: Hub, method: str, path: str, scope: str
) -> None:
    created = hub.clients.create(
        "matrix", {Scope(scope)}, [ALL_FACILITIES], supplier_id=_bound(scope)
    )
    issued = hub.tokens.issue(created.client).access_token
    hub.clients.revoke(created.client.id)
    assert_refused(call(api, method, path, issued), 401)


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS)
def test_a_token_without_the_operations_scope_is_403(
    api: TestClient, hub: Hub, method: str, path: str, scope: str
) -> None:
    # Every other scope but admin (which implies it) and the supplier scope (which needs a
    # supplier-bound client).
    others = {s for s in Scope if s.value != scope} - {Scope.ADMIN, Scope.EXPERIENCE_SUPPLIER}
    assert_refused(call(api, method, path, token(hub, others, [ALL_FACILITIES])), 403)


@pytest.mark.parametrize(("method", "path", "scope"), LISTS)
def test_a_list_of_another_facility_is_403(
    api: TestClient, hub: Hub, method: str, path: str, scope: str
) -> None:
    answer = call(api, method, path, token(hub, {Scope(scope)}, ["fac-a"]), facility_id="fac-b")
    assert_refused(answer, 403)


@pytest.mark.parametrize("path", NO_SUPPLIER)
def test_a_supplier_token_gets_no_record_that_belongs_to_no_supplier(
    api: TestClient, hub: Hub, path: str
) -> None:
    supplier = token(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES], supplier="sup-1")
    assert_refused(call(api, "GET", path, supplier), 403)
    assert_refused(call(api, "GET", f"{path}/anything", supplier), 403)


@pytest.mark.parametrize(("method", "path", "scope"), LISTS)
def test_the_right_token_gets_the_list(
    api: TestClient, hub: Hub, method: str, path: str, scope: str
) -> None:
    answer = call(api, method, path, token(hub, {Scope(scope)}, ["fac-a"]))
    assert answer.status_code == 200
    assert set(answer.json()) == {"items", "next_cursor"}


def test_the_procure_to_pay_inbound_routes_are_in_the_matrix_with_their_scopes() -> None:
    assert {
        ("POST", "/api/v1/process/receipts", Scope.PROCESS_EXECUTE),
        ("GET", "/api/v1/system/expected-receipts", Scope.SYSTEM_READ),
        ("GET", "/api/v1/system/expected-receipts/anything", Scope.SYSTEM_READ),
        ("POST", "/api/v1/experience/supplier/invoices", Scope.EXPERIENCE_SUPPLIER),
        ("GET", "/api/v1/experience/supplier/acknowledgments", Scope.EXPERIENCE_SUPPLIER),
        ("GET", "/api/v1/experience/supplier/receipts", Scope.EXPERIENCE_SUPPLIER),
    } <= set(OPERATIONS)
