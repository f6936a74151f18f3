"""The token endpoint and the security dependencies over HTTP, with a real client registry on
SQLite and PostgreSQL: RFC 6749 token requests (Basic and form), RFC 6750 bearer challenges,
scopes, facility and supplier scoping, revocation and expiry on a clock the test moves."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx2 as httpx
import pytest
from api_security_app import AuthHub, MovableClock, make_app
from fastapi.testclient import TestClient
from test_token_codec import write_keys

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.adapters.rate_limits import RateLimiter
from suture.adapters.security.hashing import Argon2SecretHasher
from suture.adapters.security.tokens import JwtCodec
from suture.domain.access import ALL_FACILITIES, Scope
from suture.services.clients import ClientRegistry, CreatedClient
from suture.services.tokens import TokenCodec, TokenService

SECRET = "a-test-secret-of-at-least-32-characters!"
FORM = {"content-type": "application/x-www-form-urlencoded"}
PROBLEM = "application/problem+json"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def registry(uow: Callable[[], SqlAlchemyUnitOfWork], clock: MovableClock) -> ClientRegistry:
    return ClientRegistry(
        uow, Argon2SecretHasher(time_cost=1, memory_cost_kib=8, parallelism=1), clock
    )


def hub_with(
    registry: ClientRegistry, clock: MovableClock, codec: TokenCodec | None = None, **limits: str
) -> AuthHub:
    tokens = TokenService(
        codec or JwtCodec.hs256(SECRET),
        registry,
        clock,
        issuer="suture",
        audience="suture-api",
        revocation_ttl=timedelta(0),
    )
    return AuthHub(registry, tokens, RateLimiter(**limits))


@pytest.fixture
def api(registry: ClientRegistry, clock: MovableClock) -> Iterator[TestClient]:
    with TestClient(make_app(hub_with(registry, clock))) as client:
        yield client


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"authorization": f"Basic {base64.b64encode(pair).decode()}"} | FORM


def token_for(api: TestClient, created: CreatedClient, scope: str | None = None) -> str:
    body = "grant_type=client_credentials" + (f"&scope={quote_plus(scope)}" if scope else "")
    answer = api.post(
        "/oauth/token", content=body, headers=basic(created.client.id, created.secret)
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def problem_of(answer: httpx.Response) -> dict[str, Any]:
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    return body


# --- the token endpoint (RFC 6749 §4.4, §5) --------------------------------------------------


def test_a_client_gets_a_token_with_http_basic(api: TestClient, registry: ClientRegistry) -> None:
    created = registry.create("ERP", {Scope.SYSTEM_READ, Scope.SYSTEM_WRITE}, ["F1"])

    answer = api.post(
        "/oauth/token",
        content="grant_type=client_credentials",
        headers=basic(created.client.id, created.secret),
    )

    body = answer.json()
    assert (answer.status_code, answer.headers["cache-control"]) == (200, "no-store")
    assert {k: v for k, v in body.items() if k != "access_token"} == {
        "token_type": "Bearer",
        "expires_in": 900,
        "scope": "system:read system:write",
    }
    assert api.get("/whoami", headers=bearer(body["access_token"])).json() == {
        "client_id": created.client.id,
        "scopes": ["system:read", "system:write"],
    }


def test_a_client_gets_a_token_with_form_credentials_and_a_subset_of_its_scopes(
    api: TestClient, registry: ClientRegistry
) -> None:
    created = registry.create("ERP", {Scope.SYSTEM_READ, Scope.SYSTEM_WRITE}, ["F1"])

    answer = api.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created.client.id,
            "client_secret": created.secret,
            "scope": "system:read",
        },
    )

    assert (answer.status_code, answer.json()["scope"]) == (200, "system:read")


@pytest.mark.parametrize("how", ["basic", "form"])
def test_a_wrong_secret_is_invalid_client_401_with_a_challenge(
    api: TestClient, registry: ClientRegistry, how: str
) -> None:
    created = registry.create("ERP", {Scope.SYSTEM_READ}, ["F1"])
    if how == "basic":
        answer = api.post(
            "/oauth/token",
            content="grant_type=client_credentials",
            headers=basic(created.client.id, "wrong"),
        )
    else:
        answer = api.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": created.client.id,
                "client_secret": "wrong",
            },
        )

    problem = problem_of(answer)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Basic realm="suture"'
    assert (problem["error"], problem["error_description"]) == (
        "invalid_client",
        "unknown client or wrong secret",
    )
    assert problem["errors"] == [{"field": "client_id", "reason": "unknown client or wrong secret"}]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ("grant_type=password&username=a&password=b", 400, "unsupported_grant_type"),
        ("scope=system:read", 400, "invalid_request"),
        ("grant_type=client_credentials&grant_type=client_credentials", 400, "invalid_request"),
        ("grant_type=client_credentials&scope=system:delete", 400, "invalid_scope"),
        ("grant_type=client_credentials&scope=admin", 400, "invalid_scope"),
    ],
)
def test_a_bad_token_request_gets_its_rfc_6749_error(
    api: TestClient, registry: ClientRegistry, body: str, status: int, error: str
) -> None:
    created = registry.create("ERP", {Scope.SYSTEM_READ}, ["F1"])

    answer = api.post(
        "/oauth/token", content=body, headers=basic(created.client.id, created.secret)
    )

    assert (answer.status_code, problem_of(answer)["error"]) == (status, error)


def test_credentials_both_in_basic_and_in_the_form_are_refused(
    api: TestClient, registry: ClientRegistry
) -> None:
    created = registry.create("ERP", {Scope.SYSTEM_READ}, ["F1"])
    body = f"grant_type=client_credentials&client_secret={quote_plus(created.secret)}"

    answer = api.post(
        "/oauth/token", content=body, headers=basic(created.client.id, created.secret)
    )

    assert (answer.status_code, problem_of(answer)["error"]) == (400, "invalid_request")


def test_a_token_request_that_is_not_a_form_is_refused(api: TestClient) -> None:
    answer = api.post("/oauth/token", json={"grant_type": "client_credentials"})

    assert (answer.status_code, problem_of(answer)["error"]) == (400, "invalid_request")


def test_a_token_request_larger_than_8_kib_is_refused_unread(api: TestClient) -> None:
    answer = api.post(
        "/oauth/token", content="grant_type=client_credentials&scope=" + "x" * 9000, headers=FORM
    )

    assert (answer.status_code, problem_of(answer)["error"]) == (400, "invalid_request")


def test_a_revoked_client_gets_no_token(api: TestClient, registry: ClientRegistry) -> None:
    created = registry.create("ERP", {Scope.SYSTEM_READ}, ["F1"])
    registry.revoke(created.client.id)

    answer = api.post(
        "/oauth/token",
        content="grant_type=client_credentials",
        headers=basic(created.client.id, created.secret),
    )

    assert (answer.status_code, problem_of(answer)["error"]) == (401, "invalid_client")


# --- bearer tokens (RFC 6750) ----------------------------------------------------------------


def test_a_request_without_a_token_is_401_with_a_bare_bearer_challenge(api: TestClient) -> None:
    answer = api.get("/whoami")

    assert (answer.status_code, answer.headers["www-authenticate"]) == (
        401,
        'Bearer realm="suture"',
    )
    assert problem_of(answer)["errors"] == [
        {"field": "authorization", "reason": "a bearer token is required"}
    ]


def test_a_revoked_clients_unexpired_token_is_refused_afterwards(
    api: TestClient, registry: ClientRegistry
) -> None:
    created = registry.create("ERP", {Scope.SYSTEM_READ}, ["F1"])
    token = token_for(api, created)
    before = api.get("/whoami", headers=bearer(token)).status_code

    registry.revoke(created.client.id)
    after = api.get("/whoami", headers=bearer(token))

    assert (before, after.status_code) == (200, 401)
    assert after.headers["www-authenticate"] == (
        'Bearer realm="suture", error="invalid_token", '
        'error_description="invalid token: the client is revoked or unknown"'
    )


def test_an_expired_token_is_refused(
    api: TestClient, registry: ClientRegistry, clock: MovableClock
) -> None:
    created = registry.create("ERP", {Scope.SYSTEM_READ}, ["F1"])
    token = token_for(api, created)

    clock.advance(minutes=15)
    answer = api.get("/whoami", headers=bearer(token))

    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert problem_of(answer)["errors"] == [{"field": "token", "reason": "invalid token: expired"}]


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Basic abc", "Bearer "])
def test_a_malformed_authorization_is_401(api: TestClient, header: str) -> None:
    answer = api.get("/whoami", headers={"authorization": header})

    assert answer.status_code == 401
    assert "error=" in answer.headers["www-authenticate"]


def test_a_token_without_the_scope_is_403_naming_the_scope(
    api: TestClient, registry: ClientRegistry
) -> None:
    created = registry.create("ERP", {Scope.SYSTEM_READ}, ["F1"])

    answer = api.put("/records/po-1", headers=bearer(token_for(api, created)))

    assert answer.status_code == 403
    assert answer.headers["www-authenticate"] == (
        'Bearer realm="suture", error="insufficient_scope", scope="system:write"'
    )
    assert problem_of(answer)["errors"] == [
        {"field": "scope", "reason": "requires the system:write scope"}
    ]


def test_admin_does_not_read_phi_without_the_phi_scope(
    api: TestClient, registry: ClientRegistry
) -> None:
    admin = registry.create("ops", {Scope.ADMIN}, [ALL_FACILITIES])
    reader = registry.create("ops", {Scope.PHI_READ}, [ALL_FACILITIES])

    assert api.get("/phi", headers=bearer(token_for(api, admin))).status_code == 403
    assert api.get("/phi", headers=bearer(token_for(api, reader))).status_code == 200


# --- facility and supplier scoping -----------------------------------------------------------


def test_a_list_shows_only_the_tokens_facilities_and_system_wide_records(
    api: TestClient, registry: ClientRegistry
) -> None:
    created = registry.create("F1 reader", {Scope.SYSTEM_READ}, ["F1"])

    answer = api.get("/records", headers=bearer(token_for(api, created)))

    assert answer.json() == ["po-1", "po-2", "item-1"]


def test_a_supplier_token_lists_only_its_supplier_records(
    api: TestClient, registry: ClientRegistry
) -> None:
    created = registry.create(
        "S1 portal",
        {Scope.SYSTEM_READ, Scope.EXPERIENCE_SUPPLIER},
        [ALL_FACILITIES],
        supplier_id="S1",
    )

    answer = api.get("/records", headers=bearer(token_for(api, created)))

    assert answer.json() == ["po-1", "po-3"]


@pytest.mark.parametrize(
    ("query", "field"), [("facility_id=F2", "facility_id"), ("supplier_id=S2", "supplier_id")]
)
def test_asking_a_list_for_another_facility_or_supplier_is_403(
    api: TestClient, registry: ClientRegistry, query: str, field: str
) -> None:
    created = registry.create(
        "S1 portal", {Scope.SYSTEM_READ, Scope.EXPERIENCE_SUPPLIER}, ["F1"], supplier_id="S1"
    )

    answer = api.get(f"/records?{query}", headers=bearer(token_for(api, created)))

    assert answer.status_code == 403
    assert [e["field"] for e in problem_of(answer)["errors"]] == [field]


@pytest.mark.parametrize(
    ("record", "status"), [("po-1", 200), ("po-2", 403), ("po-3", 403), ("item-1", 403)]
)
def test_one_record_is_shown_only_in_the_tokens_facility_and_supplier(
    api: TestClient, registry: ClientRegistry, record: str, status: int
) -> None:
    created = registry.create(
        "S1 portal", {Scope.SYSTEM_READ, Scope.EXPERIENCE_SUPPLIER}, ["F1"], supplier_id="S1"
    )

    answer = api.get(f"/records/{record}", headers=bearer(token_for(api, created)))

    assert answer.status_code == status
    assert ("id" in answer.json()) == (status == 200)  # a refusal carries no data


@pytest.mark.parametrize(
    ("facilities", "record", "status"),
    [(["F1"], "po-1", 200), (["F1"], "item-1", 403), ([ALL_FACILITIES], "item-1", 200)],
)
def test_system_wide_records_are_written_only_with_every_facility(
    api: TestClient, registry: ClientRegistry, facilities: list[str], record: str, status: int
) -> None:
    created = registry.create("writer", {Scope.SYSTEM_WRITE, Scope.SYSTEM_READ}, facilities)

    assert api.put(f"/records/{record}", headers=bearer(token_for(api, created))).status_code == (
        status
    )


# --- RS256 ----------------------------------------------------------------------------------


def test_rs256_tokens_from_key_files_authenticate_requests(
    registry: ClientRegistry, clock: MovableClock, tmp_path: Path
) -> None:
    private, public = write_keys(tmp_path, "RS256")
    hub = hub_with(registry, clock, JwtCodec.from_key_files("RS256", private, public))
    created = registry.create("ERP", {Scope.SYSTEM_READ}, ["F1"])

    with TestClient(make_app(hub)) as api:
        token = token_for(api, created)
        answer = api.get("/whoami", headers=bearer(token))

    assert answer.status_code == 200
    assert token.count(".") == 2
    assert base64.urlsafe_b64decode(token.split(".")[0] + "==").startswith(b'{"alg":"RS256"')
