"""The client registry on a real unit of work (SQLite and PostgreSQL) with argon2id hashing:
secrets are shown once and stored hashed, authentication does not tell which part was wrong,
revocation is final."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.adapters.security.hashing import Argon2SecretHasher
from suture.domain.access import AccessError, Scope
from suture.services.clients import (
    ClientRegistry,
    InvalidClientError,
    UnknownClientError,
)

AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
#: Cheap argon2id parameters: the tests check behaviour, not the cost.
CHEAP = {"time_cost": 1, "memory_cost_kib": 8, "parallelism": 1}


@pytest.fixture
def registry(uow: Callable[[], SqlAlchemyUnitOfWork]) -> ClientRegistry:
    return ClientRegistry(uow, Argon2SecretHasher(**CHEAP), lambda: AT)


def test_a_new_client_gets_a_random_secret_stored_only_as_an_argon2id_hash(
    registry: ClientRegistry, uow: Callable[[], SqlAlchemyUnitOfWork]
) -> None:
    created = registry.create("ERP bridge", {Scope.SYSTEM_READ}, ["F1"])

    with uow() as work:
        stored = work.clients.credentials(created.client.id)

    assert stored is not None
    assert stored[0] == created.client
    assert stored[1].startswith("$argon2id$")
    assert created.secret not in stored[1]
    assert len(created.secret) >= 43  # 32 random bytes, URL-safe base64


def test_two_clients_never_share_a_secret(registry: ClientRegistry) -> None:
    first = registry.create("a", {Scope.SYSTEM_READ}, ["F1"])
    second = registry.create("b", {Scope.SYSTEM_READ}, ["F1"])

    assert first.secret != second.secret


def test_the_right_secret_authenticates_the_client(registry: ClientRegistry) -> None:
    created = registry.create("ERP bridge", {Scope.SYSTEM_READ}, ["F1"])

    assert registry.authenticate(created.client.id, created.secret) == created.client


@pytest.mark.parametrize("case", ["wrong secret", "unknown client", "revoked client"])
def test_authentication_fails_alike_whatever_was_wrong(registry: ClientRegistry, case: str) -> None:
    created = registry.create("ERP bridge", {Scope.SYSTEM_READ}, ["F1"])
    client_id, secret = created.client.id, created.secret
    if case == "wrong secret":
        secret += "x"
    elif case == "unknown client":
        client_id = "no-such-client"
    else:
        registry.revoke(client_id)

    with pytest.raises(InvalidClientError) as refused:
        registry.authenticate(client_id, secret)

    assert (refused.value.field, refused.value.reason) == (
        "client",
        "unknown client or wrong secret",
    )


def test_a_hash_made_with_weaker_parameters_is_replaced_on_login(
    uow: Callable[[], SqlAlchemyUnitOfWork],
) -> None:
    weak = ClientRegistry(uow, Argon2SecretHasher(**CHEAP), lambda: AT)
    created = weak.create("ERP bridge", {Scope.SYSTEM_READ}, ["F1"])
    stronger = ClientRegistry(
        uow, Argon2SecretHasher(time_cost=2, memory_cost_kib=16, parallelism=1), lambda: AT
    )

    stronger.authenticate(created.client.id, created.secret)

    with uow() as work:
        stored = work.clients.credentials(created.client.id)
    assert stored is not None
    assert "m=16,t=2,p=1" in stored[1]
    assert stronger.authenticate(created.client.id, created.secret) == created.client


def test_revoking_is_final_and_keeps_the_first_time(
    uow: Callable[[], SqlAlchemyUnitOfWork],
) -> None:
    now = [AT]
    registry = ClientRegistry(uow, Argon2SecretHasher(**CHEAP), lambda: now[0])
    created = registry.create("ERP bridge", {Scope.SYSTEM_READ}, ["F1"])

    first = registry.revoke(created.client.id)
    now[0] = AT + timedelta(hours=1)
    again = registry.revoke(created.client.id)

    assert (first.revoked_at, again.revoked_at) == (AT, AT)
    assert not registry.is_active(created.client.id)


def test_revoking_an_unknown_client_is_refused_naming_it(registry: ClientRegistry) -> None:
    with pytest.raises(UnknownClientError) as refused:
        registry.revoke("no-such-client")

    assert (refused.value.field, refused.value.reason) == (
        "client_id",
        "no API client no-such-client",
    )


def test_a_client_breaking_an_access_rule_is_not_stored(registry: ClientRegistry) -> None:
    with pytest.raises(AccessError) as refused:
        registry.create("portal", {Scope.EXPERIENCE_SUPPLIER}, ["F1"])

    assert refused.value.field == "supplier_id"


def test_the_list_shows_clients_and_can_leave_revoked_ones_out(registry: ClientRegistry) -> None:
    kept = registry.create("kept", {Scope.SYSTEM_READ}, ["F1"]).client
    gone = registry.create("gone", {Scope.SYSTEM_READ}, ["F1"]).client
    registry.revoke(gone.id)

    every = {c.id for c in registry.list(limit=1000)}
    active = {c.id for c in registry.list(include_revoked=False, limit=1000)}

    assert {kept.id, gone.id} <= every
    assert kept.id in active
    assert gone.id not in active
