"""Access tokens: issued with the client's scopes, facilities and supplier; refused once
expired (on a clock the test moves), for another issuer or audience, or when the client was
revoked, through the revocation cache. A real registry on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.adapters.security.hashing import Argon2SecretHasher
from suture.adapters.security.tokens import JwtCodec
from suture.domain.access import ALL_FACILITIES, ApiClient, Principal, Scope, ScopeNotGrantedError
from suture.services.clients import ClientRegistry
from suture.services.tokens import InvalidTokenError, TokenService

AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
SECRET = "a-test-secret-of-at-least-32-characters!"


@dataclass
class MovableClock:
    now: datetime = AT

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def registry(uow: Callable[[], SqlAlchemyUnitOfWork], clock: MovableClock) -> ClientRegistry:
    return ClientRegistry(
        uow, Argon2SecretHasher(time_cost=1, memory_cost_kib=8, parallelism=1), clock
    )


def service(registry: ClientRegistry, clock: MovableClock, **options: Any) -> TokenService:
    settings: dict[str, Any] = {"issuer": "suture", "audience": "suture-api"} | options
    return TokenService(JwtCodec.hs256(SECRET), registry, clock, **settings)


@pytest.fixture
def tokens(registry: ClientRegistry, clock: MovableClock) -> TokenService:
    return service(registry, clock)


@pytest.fixture
def portal(registry: ClientRegistry) -> ApiClient:
    return registry.create(
        "Acme portal",
        {Scope.EXPERIENCE_SUPPLIER, Scope.SYSTEM_READ},
        ["F1", "F2"],
        supplier_id="S1",
    ).client


def test_a_token_carries_the_client_its_scopes_facilities_and_supplier(
    tokens: TokenService, portal: ApiClient
) -> None:
    issued = tokens.issue(portal)

    assert (issued.token_type, issued.expires_in, issued.scope) == (
        "Bearer",
        900,
        "experience:supplier system:read",
    )
    assert tokens.verify(issued.access_token) == Principal(
        client_id=portal.id,
        scopes=frozenset({Scope.EXPERIENCE_SUPPLIER, Scope.SYSTEM_READ}),
        facility_ids=frozenset({"F1", "F2"}),
        supplier_id="S1",
    )


def test_the_claims_are_those_of_rfc_9068(tokens: TokenService, portal: ApiClient) -> None:
    claims = JwtCodec.hs256(SECRET).decode(tokens.issue(portal).access_token)

    assert set(claims) == {
        "iss",
        "aud",
        "sub",
        "scope",
        "facilities",
        "supplier",
        "iat",
        "exp",
        "jti",
    }
    assert (claims["iss"], claims["aud"], claims["sub"]) == ("suture", "suture-api", portal.id)
    assert claims["exp"] - claims["iat"] == 900


def test_a_client_asking_for_fewer_scopes_gets_a_token_with_those_only(
    tokens: TokenService, portal: ApiClient
) -> None:
    issued = tokens.issue(portal, frozenset({Scope.SYSTEM_READ}))

    assert tokens.verify(issued.access_token).scopes == {Scope.SYSTEM_READ}


def test_a_client_asking_for_more_than_its_scopes_gets_no_token(
    tokens: TokenService, portal: ApiClient
) -> None:
    with pytest.raises(ScopeNotGrantedError):
        tokens.issue(portal, frozenset({Scope.PROCESS_EXECUTE}))


def test_a_token_is_refused_from_the_second_it_expires(
    tokens: TokenService, portal: ApiClient, clock: MovableClock
) -> None:
    token = tokens.issue(portal).access_token
    clock.advance(seconds=899)
    tokens.verify(token)

    clock.advance(seconds=1)
    with pytest.raises(InvalidTokenError) as refused:
        tokens.verify(token)

    assert (refused.value.field, refused.value.reason) == ("token", "expired")


def test_the_lifetime_is_configurable(
    registry: ClientRegistry, clock: MovableClock, portal: ApiClient
) -> None:
    short = service(registry, clock, lifetime=timedelta(minutes=1))

    assert short.issue(portal).expires_in == 60


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"issuer": "someone-else"}, "issued by another issuer"),
        ({"audience": "another-api"}, "meant for another audience"),
    ],
)
def test_a_token_of_another_issuer_or_audience_is_refused(
    registry: ClientRegistry,
    clock: MovableClock,
    portal: ApiClient,
    options: dict[str, str],
    reason: str,
) -> None:
    token = service(registry, clock, **options).issue(portal).access_token

    with pytest.raises(InvalidTokenError) as refused:
        service(registry, clock).verify(token)

    assert refused.value.reason == reason


def test_a_token_issued_in_the_future_is_refused(
    registry: ClientRegistry, clock: MovableClock, portal: ApiClient
) -> None:
    ahead = MovableClock(AT + timedelta(minutes=5))
    token = service(registry, ahead).issue(portal).access_token

    with pytest.raises(InvalidTokenError) as refused:
        service(registry, clock).verify(token)

    assert refused.value.reason == "issued in the future"


def test_a_token_signed_with_another_key_is_refused(
    tokens: TokenService, registry: ClientRegistry, clock: MovableClock, portal: ApiClient
) -> None:
    forged = TokenService(
        JwtCodec.hs256("another-secret-of-at-least-32-characters"),
        registry,
        clock,
        issuer="suture",
        audience="suture-api",
    ).issue(portal)

    with pytest.raises(InvalidTokenError) as refused:
        tokens.verify(forged.access_token)

    assert refused.value.reason == "bad signature"


def test_a_revoked_clients_unexpired_token_is_refused_at_once_without_a_cache(
    registry: ClientRegistry, clock: MovableClock, portal: ApiClient
) -> None:
    tokens = service(registry, clock, revocation_ttl=timedelta(0))
    token = tokens.issue(portal).access_token
    tokens.verify(token)

    registry.revoke(portal.id)

    with pytest.raises(InvalidTokenError) as refused:
        tokens.verify(token)
    assert refused.value.reason == "the client is revoked or unknown"


def test_a_revocation_reaches_a_caching_verifier_when_its_cache_entry_expires(
    registry: ClientRegistry, clock: MovableClock, portal: ApiClient
) -> None:
    tokens = service(registry, clock, revocation_ttl=timedelta(seconds=5))
    token = tokens.issue(portal).access_token
    tokens.verify(token)
    registry.revoke(portal.id)

    clock.advance(seconds=4)
    still_cached = tokens.verify(token).client_id
    clock.advance(seconds=1)

    assert still_cached == portal.id
    with pytest.raises(InvalidTokenError):
        tokens.verify(token)


def test_a_token_of_an_unknown_client_is_refused(
    tokens: TokenService, registry: ClientRegistry
) -> None:
    ghost = ApiClient(
        id="ghost",
        name="never stored",
        scopes=frozenset({Scope.ADMIN}),
        facility_ids=frozenset({ALL_FACILITIES}),
        created_at=AT,
    )

    with pytest.raises(InvalidTokenError) as refused:
        tokens.verify(tokens.issue(ghost).access_token)

    assert refused.value.reason == "the client is revoked or unknown"


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c"])
def test_a_malformed_token_is_refused(tokens: TokenService, token: str) -> None:
    with pytest.raises(InvalidTokenError) as refused:
        tokens.verify(token)

    assert refused.value.field == "token"
