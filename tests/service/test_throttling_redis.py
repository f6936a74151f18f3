"""Rate limits shared through a real Redis: several API processes (here, several limiters and
applications on one Redis) spend one budget per client; a limiter that cannot reach Redis falls
back to its own in-memory budget instead of failing every request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import uuid4

from api_security_app import AuthHub, MovableClock, make_app
from fastapi.testclient import TestClient

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.adapters.rate_limits import RateLimiter
from suture.adapters.security.hashing import Argon2SecretHasher
from suture.adapters.security.tokens import JwtCodec
from suture.domain.access import Scope
from suture.services.clients import ClientRegistry
from suture.services.tokens import TokenService

SECRET = "a-test-secret-of-at-least-32-characters!"


def shared_limiter(url: str, prefix: str, limit: str = "3/minute") -> RateLimiter:
    return RateLimiter(url, client_limit=limit, address_limit=limit, key_prefix=prefix)


def test_two_limiters_on_one_redis_spend_one_budget(redis_url: str) -> None:
    prefix = f"suture-test-{uuid4().hex}"
    first, second = shared_limiter(redis_url, prefix), shared_limiter(redis_url, prefix)

    decisions = [
        limiter.charge_client("client-1").allowed for limiter in (first, second, first, second)
    ]

    assert first.shared
    assert decisions == [True, True, True, False]


def test_limiters_in_memory_keep_budgets_of_their_own() -> None:
    first, second = RateLimiter(client_limit="1/minute"), RateLimiter(client_limit="1/minute")

    assert [first.charge_client("c").allowed, second.charge_client("c").allowed] == [True, True]


def test_a_limiter_that_cannot_reach_redis_falls_back_to_its_own_budget() -> None:
    unreachable = RateLimiter("redis://127.0.0.1:1/0", client_limit="2/minute")

    decisions = [unreachable.charge_client("c").allowed for _ in range(3)]

    assert decisions == [True, True, False]


def test_two_api_processes_on_one_redis_answer_429_once_the_shared_budget_is_spent(
    redis_url: str, uow: Callable[[], SqlAlchemyUnitOfWork]
) -> None:
    clock = MovableClock()
    registry = ClientRegistry(
        uow, Argon2SecretHasher(time_cost=1, memory_cost_kib=8, parallelism=1), clock
    )
    prefix = f"suture-test-{uuid4().hex}"

    def process() -> TestClient:
        tokens = TokenService(
            JwtCodec.hs256(SECRET),
            registry,
            clock,
            issuer="suture",
            audience="suture-api",
            revocation_ttl=timedelta(0),
        )
        limiter = RateLimiter(
            redis_url, client_limit="3/minute", address_limit="100/minute", key_prefix=prefix
        )
        return TestClient(make_app(AuthHub(registry, tokens, limiter)))

    created = registry.create("ERP", {Scope.SYSTEM_READ}, ["F1"])
    with process() as one, process() as two:
        answer = one.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": created.client.id,
                "client_secret": created.secret,
            },
        )
        auth = {"authorization": f"Bearer {answer.json()['access_token']}"}
        answers = [api.get("/whoami", headers=auth) for api in (one, two, one, two)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
