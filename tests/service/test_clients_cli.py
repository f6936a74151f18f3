"""``suture clients create|list|revoke`` against a real migrated SQLite file: the secret is
printed once and authenticates, lists never show it, revoking is final."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner, Result

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.adapters.security.hashing import Argon2SecretHasher
from suture.domain.masterdata import Facility
from suture.entrypoints.cli import clients as cli
from suture.services.clients import ClientRegistry, InvalidClientError

AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@dataclass
class TestHub:
    """The attribute of ``bootstrap.Hub`` the client commands use."""

    __test__ = False

    clients: ClientRegistry
    closed: int = 0

    def close(self) -> None:
        self.closed += 1


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[sa.Engine]:  # SQLite only: the CLI, not the storage
    created = create_engine(sqlite_url)
    ensure_schema(created)
    yield created
    created.dispose()


@pytest.fixture
def hub(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> TestHub:
    registry = ClientRegistry(
        lambda: SqlAlchemyUnitOfWork(engine),
        Argon2SecretHasher(time_cost=1, memory_cost_kib=8, parallelism=1),
        lambda: AT,
    )
    made = TestHub(registry)
    monkeypatch.setattr(cli, "open_hub", lambda: made)
    return made


def suture(*args: str) -> Result:
    app = typer.Typer()
    app.add_typer(cli.clients_app, name="clients")
    return CliRunner().invoke(app, ["clients", *args])


def create_json(*args: str) -> dict[str, object]:
    result = suture("create", "--json", *args)
    assert result.exit_code == 0, result.output
    created: dict[str, object] = json.loads(result.stdout)
    return created


def test_create_prints_the_client_and_a_secret_that_authenticates(hub: TestHub) -> None:
    created = create_json(
        "--name", "Acme portal", "--scopes", "experience:supplier,system:read",
        "--facility", "F1", "--facility", "F2", "--supplier", "S1",
    )  # fmt: skip

    client = hub.clients.authenticate(str(created["client_id"]), str(created["client_secret"]))
    assert {k: v for k, v in created.items() if k not in {"client_id", "client_secret"}} == {
        "name": "Acme portal",
        "scopes": ["experience:supplier", "system:read"],
        "facility_ids": ["F1", "F2"],
        "supplier_id": "S1",
        "created_at": AT.isoformat(),
        "revoked_at": None,
    }
    assert client.id == created["client_id"]
    assert hub.closed == 1


def test_create_as_text_says_the_secret_is_shown_once(hub: TestHub) -> None:
    result = suture("create", "--name", "ERP", "--scopes", "system:read", "--facility", "*")

    lines = result.stdout.splitlines()
    assert result.exit_code == 0
    assert [line.split(":", 1)[0] for line in lines[:2]] == ["client_id", "client_secret"]
    assert "shown once" in lines[2]


def test_create_warns_of_a_facility_or_supplier_not_on_record(
    hub: TestHub, engine: sa.Engine
) -> None:
    with SqlAlchemyUnitOfWork(engine) as uow:
        uow.facilities.add(Facility(id="FAC-01", code="GH", name="General"))
        uow.commit()

    result = suture(
        "create", "--name", "ERP", "--scopes", "system:read",
        "--facility", "FAC-01", "--facility", "fac-02", "--supplier", "SUP-9",
    )  # fmt: skip

    assert result.exit_code == 0  # created: the master data may come later
    assert " ".join(result.stderr.split()) == (
        "warning facility_ids: no facility 'fac-02' on record; supplier_id: no supplier "
        "'SUP-9' on record. The client sees none of their records until they are."
    )
    assert len(hub.clients.list()) == 1


def test_create_for_every_facility_warns_of_nothing(hub: TestHub) -> None:
    result = suture("create", "--name", "ERP", "--scopes", "system:read", "--facility", "*")
    assert (result.exit_code, result.stderr) == (0, "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scopes", "system:delete"], "scope: unknown scope system:delete"),
        (["--scopes", "experience:supplier"], "supplier_id: experience:supplier needs a supplier"),
    ],
)
def test_create_refuses_bad_input_with_exit_2_naming_the_field(
    hub: TestHub, args: list[str], message: str
) -> None:
    result = suture("create", "--name", "x", "--facility", "F1", *args)

    assert (result.exit_code, message in result.output) == (2, True)
    assert hub.clients.list() == []


def test_list_never_shows_a_secret(hub: TestHub) -> None:
    created = create_json("--name", "ERP", "--scopes", "system:read", "--facility", "F1")

    result = suture("list", "--json")

    assert [c["client_id"] for c in json.loads(result.stdout)] == [created["client_id"]]
    assert str(created["client_secret"]) not in result.stdout
    assert "secret" not in result.stdout


def test_revoke_ends_the_client_and_list_active_leaves_it_out(hub: TestHub) -> None:
    created = create_json("--name", "ERP", "--scopes", "system:read", "--facility", "F1")

    result = suture("revoke", str(created["client_id"]))

    assert (result.exit_code, f"revoked at {AT.isoformat()}" in result.stdout) == (0, True)
    assert json.loads(suture("list", "--json", "--active").stdout) == []
    with pytest.raises(InvalidClientError):
        hub.clients.authenticate(str(created["client_id"]), str(created["client_secret"]))


def test_revoking_an_unknown_client_exits_1(hub: TestHub) -> None:
    result = suture("revoke", "no-such-client")

    assert (result.exit_code, "no API client no-such-client" in result.output) == (1, True)
