"""``suture replay`` and ``suture trace`` against a real SQLite file and a bus built here.

The composition root will wire ``Hub.bus``; until then the commands' ``open_hub`` is replaced by
a hub of this test's making, on the same kind of database.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from uuid import uuid4

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner, Result

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.audit import AuditKey
from suture.entrypoints.cli import bus as bus_cli
from suture.eventlog.envelope import Envelope
from suture.services.audit import AuditTrail
from suture.services.handlers import HandlerContext
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork


def fail(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    raise ValueError("poison")


@pytest.fixture
def bus(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MessageBus]:
    path = tmp_path / "cli.db"
    shutil.copyfile(sqlite_template, path)
    engine: sa.Engine = create_engine(f"sqlite:///{path}")
    built = MessageBus(lambda: SqlAlchemyUnitOfWork(engine), {"fail": fail}, {"test.*": ["fail"]})
    audit = AuditTrail(built.uow, AuditKey.from_secret("test-secret"), lambda: datetime.now(UTC))
    hub = SimpleNamespace(bus=built, uow_factory=built.uow, audit=audit, close=lambda: None)
    monkeypatch.setattr(bus_cli, "open_hub", lambda: hub)
    yield built
    engine.dispose()


def suture(*args: str) -> Result:
    app = typer.Typer()
    app.command("replay")(bus_cli.replay_command)
    app.command("trace")(bus_cli.trace_command)
    return CliRunner().invoke(app, list(args))


def dead_event(bus: MessageBus, correlation: str) -> str:
    envelope = bus.envelope(
        "test.thing.happened", {}, idempotency_key=uuid4().hex, correlation_id=correlation
    )
    with bus.uow() as uow:
        bus.publish(uow, envelope)
        uow.commit()
    for _ in range(bus.retry_policy.max_attempts):  # processed at once, whatever the backoff
        bus.process("fail", str(envelope.id))
    return str(envelope.id)


def test_replay_dry_run_lists_the_dead_letters_it_would_redrive(bus: MessageBus) -> None:
    event_id = dead_event(bus, "PO-CLI")

    result = suture("replay", "--dead-letter", "--dry-run", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"] == [{"handler": "fail", "event_id": event_id}]


def test_replay_without_a_selection_exits_2_saying_what_to_give(bus: MessageBus) -> None:
    result = suture("replay")

    assert result.exit_code == 2
    assert "exactly one of" in result.output


def test_trace_prints_the_timeline_of_a_business_key_as_json(bus: MessageBus) -> None:
    event_id = dead_event(bus, "PO-TRACE-CLI")

    result = suture("trace", "PO-TRACE-CLI", "--json")
    kinds = {(row["kind"], row["ref"]) for row in json.loads(result.stdout)["timeline"]}

    assert result.exit_code == 0, result.output
    assert {("event", event_id), ("attempt", event_id), ("work", event_id)} == kinds
