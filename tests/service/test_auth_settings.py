"""Settings of the API's authentication and throttling, and the hub they wire: unsafe values are
refused outside development, RS256/ES256 need their key file, the hub signs with what is set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest
from pydantic import ValidationError
from test_token_codec import write_keys

from suture.bootstrap import build
from suture.config import Settings
from suture.domain.access import Scope

PRODUCTION_SECRET = "p" * 40


def refusal(**values: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        Settings(**values)
    return str(refused.value)


def test_the_defaults_are_short_lived_hs256_tokens_and_a_per_client_budget() -> None:
    settings = Settings()

    assert (
        settings.auth_token_lifetime_seconds,
        settings.auth_jwt_algorithm,
        settings.rate_limit_client,
        settings.rate_limit_token,
        settings.redis_url,
    ) == (900, "HS256", "600/minute", "30/minute", None)


def test_rs256_without_a_private_key_file_is_refused_naming_the_setting() -> None:
    assert "SUTURE_AUTH_JWT_PRIVATE_KEY_FILE" in refusal(auth_jwt_algorithm="RS256")


@pytest.mark.parametrize(
    ("values", "setting"),
    [
        ({"auth_token_lifetime_seconds": 7200}, "SUTURE_AUTH_TOKEN_LIFETIME_SECONDS"),
        ({"auth_revocation_cache_seconds": 120}, "SUTURE_AUTH_REVOCATION_CACHE_SECONDS"),
    ],
)
def test_long_lived_tokens_and_revocation_caches_are_refused_outside_development(
    values: dict[str, Any], setting: str
) -> None:
    Settings(**values)  # development allows them

    assert setting in refusal(environment="production", secret_key=PRODUCTION_SECRET, **values)


@pytest.mark.parametrize("limit", ["lots", "10/fortnight", "1/second;2/minute"])
def test_a_rate_limit_that_is_not_one_count_per_period_is_refused(limit: str) -> None:
    assert "600/minute" in refusal(rate_limit_client=limit)


def test_a_redis_url_must_name_redis() -> None:
    assert "redis://" in refusal(redis_url="http://cache:6379")


def test_the_hub_signs_with_the_configured_key_file_and_shares_budgets_through_redis(
    sqlite_url: str, tmp_path: Path
) -> None:
    private, public = write_keys(tmp_path, "ES256")
    settings = Settings(
        database_url=sqlite_url,
        auth_jwt_algorithm="ES256",
        auth_jwt_private_key_file=private,
        auth_jwt_public_key_file=public,
        redis_url="redis://127.0.0.1:6379/7",
    )
    hub = build(settings)
    try:
        client = hub.clients.create("ERP", {Scope.SYSTEM_READ}, ["F1"]).client
        token = hub.tokens.issue(client).access_token
        principal = hub.tokens.verify(token)
    finally:
        hub.close()

    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    assert principal.client_id == client.id
    assert hub.rate_limiter.shared
