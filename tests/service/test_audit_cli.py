"""``suture audit`` and the operator actions the other commands record, through the root app.

Every test runs the real ``suture`` application against a SQLite file named by
``SUTURE_DATABASE_URL``, wired by the composition root, with ``LOGNAME`` fixing the operating-
system user the commands record as the actor.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.audit import Actor
from suture.domain.exceptions import ExceptionItem, ExceptionType
from suture.entrypoints.cli import app
from suture.services.exceptions import open_exception

AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
GOLDEN = Path(__file__).parent.parent / "golden" / "masterdata"


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("SUTURE_DATABASE_URL", url)
    monkeypatch.setenv("SUTURE_ERP_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("LOGNAME", "ana")
    monkeypatch.setenv("COLUMNS", "200")  # rich reads the width at each print
    return url


@pytest.fixture
def hub(database: str) -> Iterator[Hub]:
    built = build(Settings())
    yield built
    built.close()


def suture(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def entries(*args: str) -> list[dict[str, Any]]:
    result = suture("audit", "list", "--json", *args)
    assert result.exit_code == 0, result.output
    listed: list[dict[str, Any]] = json.loads(result.stdout)
    return listed


def summary(entry: dict[str, Any]) -> tuple[Any, ...]:
    names = ("actor", "client_id", "action", "target_type", "before", "after", "outcome")
    return tuple(entry[name] for name in (*names, "reason"))


def open_item(hub: Hub) -> ExceptionItem:
    with hub.uow_factory() as uow:
        item = open_exception(
            uow, type=ExceptionType.HANDLER_FAILED, facility_id="FAC-1", reason="timeout", at=AT,
            message_id="M1",
        )  # fmt: skip
        uow.commit()
    return item


def test_verify_exits_0_on_an_intact_chain_and_prints_its_head(hub: Hub) -> None:
    last = hub.audit.record_alone(Actor("svc", "client-1"), "exception.retry")

    result = suture("audit", "verify")

    assert (result.exit_code, result.stdout.strip()) == (
        0,
        f"intact: 1 entries; head 1 {last.hash}",
    )


def test_verify_exits_1_naming_the_sequence_number_and_the_reason(hub: Hub) -> None:
    for _ in range(3):
        hub.audit.record_alone(Actor("svc", "client-1"), "exception.retry")
    with hub.engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"))

    result = suture("audit", "verify")
    as_json = suture("audit", "verify", "--json")

    assert (result.exit_code, result.stderr.split(":")[:2]) == (1, ["broken at 2", " changed"])
    assert (as_json.exit_code, json.loads(as_json.stdout)["broken"]) == (
        1,
        {
            "seq": 2,
            "reason": "changed",
            "detail": "row 2 does not match its hash: changed, forged or moved",
        },
    )


def test_verify_detects_a_deleted_row(hub: Hub) -> None:
    for _ in range(3):
        hub.audit.record_alone(Actor("svc", "client-1"), "exception.retry")
    with hub.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_log WHERE seq = 1"))

    result = suture("audit", "verify")

    assert (result.exit_code, result.stderr.startswith("broken at 1: deleted")) == (1, True)


def test_show_prints_one_entry_and_exits_1_for_an_unknown_one(hub: Hub) -> None:
    record = hub.audit.record_alone(
        Actor("svc", "client-1", "process:execute"), "exception.dismiss", target_id="EX-1"
    )

    shown = suture("audit", "show", "1", "--json")
    missing = suture("audit", "show", "2")

    assert (shown.exit_code, json.loads(shown.stdout)["hash"]) == (0, record.hash)
    assert json.loads(shown.stdout)["scope"] == "process:execute"
    assert (missing.exit_code, missing.stderr.strip()) == (1, "no audit entry 2")


def test_list_filters_by_action_and_actor(hub: Hub) -> None:
    hub.audit.record_alone(Actor("svc", "client-1"), "exception.retry")
    hub.audit.record_alone(Actor("ana", "cli"), "replay.run")
    hub.audit.record_alone(Actor("ana", "cli"), "exception.dismiss", target_id="EX-9")

    by_area = [e["seq"] for e in entries("--action", "exception.*")]
    by_actor = [e["seq"] for e in entries("--actor", "ana")]
    table = suture("audit", "list")

    assert (by_area, by_actor) == ([1, 3], [2, 3])
    assert (table.exit_code, "exception.dismiss" in table.stdout) == (0, True)


def test_dismissing_an_exception_records_who_what_before_and_after(hub: Hub) -> None:
    item = open_item(hub)

    result = suture("exceptions", "dismiss", item.id, "--reason", "duplicate feed")

    assert result.exit_code == 0
    assert [summary(e) for e in entries()] == [
        (
            "ana", "cli", "exception.dismiss", "exception", "status=open owner=-",
            "status=dismissed owner=-", "success", None,
        )
    ]  # fmt: skip


def test_a_refused_exception_action_is_recorded_as_failed_with_the_reason(hub: Hub) -> None:
    item = open_item(hub)
    suture("exceptions", "dismiss", item.id, "--reason", "duplicate feed")

    again = suture("exceptions", "resolve", item.id, "--note", "fixed", "--by", "bob")

    recorded = entries("--action", "exception.resolve")
    assert again.exit_code == 1
    assert [(e["actor"], e["before"], e["outcome"]) for e in recorded] == [
        ("ana", "status=dismissed owner=-", "failed")
    ]
    assert "dismissed" in recorded[0]["reason"]


def test_acting_for_someone_else_records_both(hub: Hub) -> None:
    item = open_item(hub)

    suture("exceptions", "assign", item.id, "carol", "--by", "bob")

    assert [e["after"] for e in entries()] == ["status=open owner=carol by=bob"]


def test_a_replay_is_recorded_and_a_dry_run_is_not(hub: Hub) -> None:
    dry = suture("replay", "--since", "2025-03-01", "--dry-run")
    real = suture("replay", "--since", "2025-03-01")

    assert (dry.exit_code, real.exit_code) == (0, 0)
    assert [summary(e) for e in entries()] == [
        (
            "ana", "cli", "replay.run", "events", "since=2025-03-01T00:00:00+00:00",
            "0 work items re-driven from 0 events; 0 already processed", "success", None,
        )
    ]  # fmt: skip


def test_a_masterdata_import_is_recorded_with_its_counts(hub: Hub) -> None:
    result = suture("masterdata", "import", "suppliers", GOLDEN / "suppliers.csv")

    recorded = entries("--action", "masterdata.import")
    assert result.exit_code == 1  # the golden file has rejected rows on purpose
    assert [(e["target_type"], e["target_id"], e["outcome"]) for e in recorded] == [
        ("suppliers", "suppliers.csv", "success")
    ]
    assert "rejected" in recorded[0]["after"]


def test_a_migration_is_recorded_with_the_revisions_before_and_after(tmp_path: Path) -> None:
    result = suture("migrate")

    assert result.exit_code == 0, result.output
    assert [(e["action"], e["before"], e["outcome"]) for e in entries()] == [
        ("database.migrate", "revision=empty", "success")
    ]
    assert suture("audit", "verify").exit_code == 0
