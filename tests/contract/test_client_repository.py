"""The API client repository on SQLite and PostgreSQL: clients round-trip whole, secrets stay
with their client, revocation is written, lists page by id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from suture.adapters.db.errors import StorageError
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.access import ApiClient, Scope

AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
Uow = Callable[[], SqlAlchemyUnitOfWork]


def new_client(**overrides: object) -> ApiClient:
    fields: dict[str, object] = {
        "id": f"cl-{uuid4().hex}",
        "name": "Acme portal",
        "scopes": frozenset({Scope.EXPERIENCE_SUPPLIER, Scope.SYSTEM_READ}),
        "facility_ids": frozenset({"F 1", "F2"}),
        "supplier_id": "SUP-1",
        "created_at": AT,
    }
    return ApiClient(**(fields | overrides))  # type: ignore[arg-type]


def test_a_stored_client_reads_back_whole_with_its_secret_hash(uow: Uow) -> None:
    client = new_client()
    with uow() as work:
        work.clients.add(client, "$argon2id$hash")
        work.commit()

    with uow() as work:
        found = (work.clients.get(client.id), work.clients.credentials(client.id))

    assert found == (client, (client, "$argon2id$hash"))


def test_an_unknown_client_is_none(uow: Uow) -> None:
    with uow() as work:
        assert (work.clients.get("nope"), work.clients.credentials("nope")) == (None, None)


def test_a_client_id_is_stored_once(uow: Uow) -> None:
    client = new_client()
    with uow() as work:
        work.clients.add(client, "h1")
        work.commit()

    with uow() as work, pytest.raises(StorageError):
        work.clients.add(client, "h2")


def test_revocation_and_a_new_hash_are_written(uow: Uow) -> None:
    client = new_client()
    with uow() as work:
        work.clients.add(client, "old")
        work.commit()

    revoked = client.revoke(AT + timedelta(days=1))
    with uow() as work:
        work.clients.save_revoked(revoked)
        work.clients.set_secret_hash(client.id, "new")
        work.commit()

    with uow() as work:
        assert work.clients.credentials(client.id) == (revoked, "new")


def test_lists_page_by_id_and_may_leave_revoked_clients_out(uow: Uow) -> None:
    prefix = f"cl-{uuid4().hex}"
    clients = [new_client(id=f"{prefix}-{n}") for n in range(3)]
    with uow() as work:
        for client in clients:
            work.clients.add(client, "h")
        work.clients.save_revoked(clients[1].revoke(AT))
        work.commit()

    with uow() as work:
        page = [c.id for c in work.clients.list(after=f"{prefix}-", limit=2)]
        active = [c.id for c in work.clients.list(include_revoked=False, after=f"{prefix}-")]

    assert page == [f"{prefix}-0", f"{prefix}-1"]
    assert [i for i in active if i.startswith(prefix)] == [f"{prefix}-0", f"{prefix}-2"]
