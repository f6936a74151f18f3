"""Per-client throttling in memory, over HTTP: each client has its own moving-window budget,
every charged response says what is left, the 429 says when to retry, and the token endpoint is
limited per remote address before any client is known."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from api_security_app import AuthHub, MovableClock, make_app
from fastapi.testclient import TestClient
from test_api_security import bearer, hub_with, token_for

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.adapters.security.hashing import Argon2SecretHasher
from suture.domain.access import Scope
from suture.services.clients import ClientRegistry


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def registry(uow: Callable[[], SqlAlchemyUnitOfWork], clock: MovableClock) -> ClientRegistry:
    return ClientRegistry(
        uow, Argon2SecretHasher(time_cost=1, memory_cost_kib=8, parallelism=1), clock
    )


def limited(registry: ClientRegistry, clock: MovableClock, **limits: str) -> AuthHub:
    return hub_with(registry, clock, **limits)


def test_each_response_says_the_budget_left_and_the_next_request_over_it_is_429(
    registry: ClientRegistry, clock: MovableClock
) -> None:
    created = registry.create("ERP", {Scope.SYSTEM_READ}, ["F1"])
    with TestClient(make_app(limited(registry, clock, client_limit="3/minute"))) as api:
        token = token_for(api, created)
        answers = [api.get("/whoami", headers=bearer(token)) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["ratelimit-limit"] for a in answers} == {"3"}
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["title"] == "Too Many Requests"


def test_error_responses_of_a_charged_request_carry_the_headers_too(
    registry: ClientRegistry, clock: MovableClock
) -> None:
    created = registry.create("reader", {Scope.SYSTEM_READ}, ["F1"])
    with TestClient(make_app(limited(registry, clock, client_limit="10/minute"))) as api:
        answer = api.put("/records/po-1", headers=bearer(token_for(api, created)))

    assert (answer.status_code, answer.headers["ratelimit-remaining"]) == (403, "9")


def test_one_clients_spent_budget_does_not_limit_another(
    registry: ClientRegistry, clock: MovableClock
) -> None:
    greedy = registry.create("greedy", {Scope.SYSTEM_READ}, ["F1"])
    modest = registry.create("modest", {Scope.SYSTEM_READ}, ["F1"])
    with TestClient(make_app(limited(registry, clock, client_limit="1/minute"))) as api:
        greedy_token, modest_token = token_for(api, greedy), token_for(api, modest)
        spent = [api.get("/whoami", headers=bearer(greedy_token)).status_code for _ in range(2)]
        other = api.get("/whoami", headers=bearer(modest_token)).status_code

    assert (spent, other) == ([200, 429], 200)


def test_the_token_endpoint_is_limited_per_remote_address_even_for_bad_credentials(
    registry: ClientRegistry, clock: MovableClock
) -> None:
    with TestClient(make_app(limited(registry, clock, address_limit="2/minute"))) as api:
        answers = [
            api.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
            )
            for _ in range(3)
        ]

    assert [a.status_code for a in answers] == [401, 401, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["1", "0", "0"]


def test_an_unauthenticated_api_request_is_not_charged_to_anyone(
    registry: ClientRegistry, clock: MovableClock
) -> None:
    with TestClient(make_app(limited(registry, clock))) as api:
        answer = api.get("/whoami")

    assert answer.status_code == 401
    assert "ratelimit-limit" not in answer.headers
