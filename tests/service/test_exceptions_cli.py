"""``suture exceptions``: list, show, assign, retry, resolve, dismiss from the terminal.

The commands run through a Typer application built here, against a hub made in the test: a real
migrated SQLite file, the real work queue, a recording re-drive and a fixed clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner, Result

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.audit import AuditKey
from suture.domain.exceptions import ExceptionItem, ExceptionType
from suture.entrypoints.cli import exceptions as cli
from suture.services.audit import AuditTrail
from suture.services.exceptions import WorkQueue, open_exception

T = ExceptionType
AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
NOW = AT + timedelta(hours=3)


@dataclass
class RecordingRedrive:
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def retry_event(self, handler: str, event_id: str) -> None:
        self.calls.append(("retry_event", handler, event_id))

    def retry_message(self, message_id: str) -> None:
        self.calls.append(("retry_message", message_id))

    def retry_delivery(self, delivery_id: str) -> None:
        self.calls.append(("retry_delivery", delivery_id))


@dataclass
class TestHub:
    """The attributes of ``bootstrap.Hub`` the exception commands use."""

    __test__ = False

    work_queue: WorkQueue
    clock: Callable[[], datetime]
    audit: AuditTrail
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
def redrive() -> RecordingRedrive:
    return RecordingRedrive()


@pytest.fixture
def hub(engine: sa.Engine, redrive: RecordingRedrive, monkeypatch: pytest.MonkeyPatch) -> TestHub:
    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    made = TestHub(
        WorkQueue(uow, redrive, lambda: NOW),
        lambda: NOW,
        AuditTrail(uow, AuditKey.from_secret("test-secret"), lambda: NOW),
    )
    monkeypatch.setattr(cli, "open_hub", lambda: made)
    return made


@pytest.fixture
def fail(engine: sa.Engine) -> Callable[..., ExceptionItem]:
    def open_one(type: ExceptionType = T.HANDLER_FAILED, **links: Any) -> ExceptionItem:
        values = {"reason": "handler raised TimeoutError", "at": AT, "facility_id": "fac-1"}
        with SqlAlchemyUnitOfWork(engine) as work:
            item = open_exception(work, type=type, **(values | links))
            work.commit()
        return item

    return open_one


def suture(*args: str) -> Result:
    app = typer.Typer()
    app.add_typer(cli.exceptions_app, name="exceptions")
    return CliRunner().invoke(app, ["exceptions", *args])


def test_list_json_shows_open_items_with_their_sla_state(
    hub: TestHub, fail: Callable[..., ExceptionItem]
) -> None:
    late = fail(T.DELIVERY_FAILED, delivery_id="D1")  # due after 2 h: overdue at NOW
    on_time = fail(T.MISSING_ITEM_MAPPING, message_id="M1", at=AT + timedelta(seconds=1))
    dismissed = fail(message_id="M2", at=AT + timedelta(seconds=2))
    hub.work_queue.dismiss(dismissed.id, by="ana", reason="noise")

    result = suture("list", "--json")

    listed = [(i["id"], i["queue"], i["overdue"]) for i in json.loads(result.stdout)]
    assert (result.exit_code, listed) == (
        0,
        [(late.id, "integration", True), (on_time.id, "supply-chain", False)],
    )
    assert hub.closed == 1


def test_list_filters_by_type_and_overdue(hub: TestHub, fail: Callable[..., ExceptionItem]) -> None:
    late = fail(T.DELIVERY_FAILED, delivery_id="D1")
    fail(T.MISSING_ITEM_MAPPING, message_id="M1", at=AT + timedelta(seconds=1))

    by_type = suture("list", "--json", "--type", "delivery_failed")
    overdue = suture("list", "--json", "--overdue")

    assert [[i["id"] for i in json.loads(r.stdout)] for r in (by_type, overdue)] == [
        [late.id],
        [late.id],
    ]


def test_list_refuses_a_queue_or_facility_that_does_not_exist_instead_of_listing_none(
    hub: TestHub, fail: Callable[..., ExceptionItem]
) -> None:
    fail(T.DELIVERY_FAILED, delivery_id="D1")

    queue = suture("list", "--queue", "integratoin")
    facility = suture("list", "--facility", "FAC-9")

    assert (queue.exit_code, " ".join(queue.stderr.split())) == (
        2,
        "error queue: no such queue; one of: accounts-payable, finance, integration, "
        "revenue-integrity, supply-chain",
    )
    assert (facility.exit_code, facility.stderr.strip()) == (2, "error facility: no such facility")


def test_list_prints_a_table_with_age_and_overdue_time(
    hub: TestHub, fail: Callable[..., ExceptionItem], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # rich reads the width at each print
    fail(T.DELIVERY_FAILED, delivery_id="D1", reason="ERP returned HTTP 503")

    result = suture("list")

    assert result.exit_code == 0
    assert ("3h 0m" in result.stdout, "overdue 1h 0m" in result.stdout) == (True, True)
    assert "ERP returned HTTP 503" in result.stdout


def test_show_json_has_every_field_the_links_and_the_history(
    hub: TestHub, fail: Callable[..., ExceptionItem]
) -> None:
    item = fail(event_id="E1", handler="record_usage", trace_id="a" * 32, correlation_id="PO-9")
    hub.work_queue.assign(item.id, "bob", by="ana")

    result = suture("show", item.id, "--json")

    shown = json.loads(result.stdout)
    assert result.exit_code == 0
    assert {
        k: shown["item"][k] for k in ("event_id", "handler", "trace_id", "owner", "subject")
    } == {
        "event_id": "E1",
        "handler": "record_usage",
        "trace_id": "a" * 32,
        "owner": "bob",
        "subject": "event:E1/record_usage",
    }
    assert [(a["kind"], a["actor"]) for a in shown["actions"]] == [
        ("opened", "suture"),
        ("assigned", "ana"),
    ]


def test_show_prints_the_fields_and_history(
    hub: TestHub, fail: Callable[..., ExceptionItem]
) -> None:
    item = fail(message_id="M1")

    result = suture("show", item.id)

    assert result.exit_code == 0
    assert ("message:M1" in result.stdout, "suture opened" in result.stdout) == (True, True)


def test_dismiss_without_a_reason_exits_2_naming_the_option(
    hub: TestHub, fail: Callable[..., ExceptionItem]
) -> None:
    item = fail(message_id="M1")

    result = suture("dismiss", item.id)

    assert (result.exit_code, "--reason" in result.output) == (2, True)


def test_dismiss_with_an_empty_reason_exits_2_and_leaves_the_item_open(
    hub: TestHub, fail: Callable[..., ExceptionItem]
) -> None:
    item = fail(message_id="M1")

    result = suture("dismiss", item.id, "--reason", "  ", "--by", "ana")

    assert (result.exit_code, "reason" in result.output) == (2, True)
    assert hub.work_queue.show(item.id).item == item


def test_dismiss_records_who_and_why(hub: TestHub, fail: Callable[..., ExceptionItem]) -> None:
    item = fail(message_id="M1")

    result = suture("dismiss", item.id, "--reason", "test message from vendor", "--by", "ana")

    closed = hub.work_queue.show(item.id).item
    assert result.exit_code == 0
    assert (closed.status, closed.resolved_by, closed.resolution_note) == (
        "dismissed",
        "ana",
        "test message from vendor",
    )


def test_by_defaults_to_the_login_name(
    hub: TestHub, fail: Callable[..., ExceptionItem], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGNAME", "dora")
    item = fail(message_id="M1")

    suture("assign", item.id, "bob")

    assert hub.work_queue.show(item.id).actions[-1].actor == "dora"


def test_retry_redrives_the_subject_and_reports_in_progress(
    hub: TestHub, fail: Callable[..., ExceptionItem], redrive: RecordingRedrive
) -> None:
    item = fail(T.DELIVERY_FAILED, delivery_id="D7")

    result = suture("retry", item.id, "--by", "ana")

    assert (result.exit_code, redrive.calls) == (0, [("retry_delivery", "D7")])
    assert "in_progress" in result.stdout


def test_retry_of_an_item_about_a_dependency_exits_1_saying_what_to_do(
    hub: TestHub, fail: Callable[..., ExceptionItem], redrive: RecordingRedrive
) -> None:
    item = fail(T.PARKED_DEPENDENCY, dependency="supplier:V-1")

    result = suture("retry", item.id)

    assert (result.exit_code, redrive.calls) == (1, [])
    assert "fix the cause" in result.output


def test_resolve_needs_a_note_and_closes_the_item(
    hub: TestHub, fail: Callable[..., ExceptionItem]
) -> None:
    item = fail(message_id="M1")

    without = suture("resolve", item.id)
    with_note = suture("resolve", item.id, "--note", "crosswalk fixed", "--by", "ana")

    assert (without.exit_code, with_note.exit_code) == (2, 0)
    assert hub.work_queue.show(item.id).item.status == "resolved"


def test_acting_on_an_unknown_or_closed_item_exits_1(
    hub: TestHub, fail: Callable[..., ExceptionItem]
) -> None:
    item = fail(message_id="M1")
    hub.work_queue.resolve(item.id, by="ana", note="fixed")

    unknown = suture("assign", "no-such-id", "bob")
    closed = suture("dismiss", item.id, "--reason", "late")

    assert (unknown.exit_code, closed.exit_code) == (1, 1)
    assert ("no-such-id" in unknown.output, "resolved" in closed.output) == (True, True)


def test_list_on_a_narrow_terminal_prints_an_item_a_block(
    hub: TestHub, fail: Callable[..., ExceptionItem], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # the table's id column alone would take 36
    reason = "ERP returned HTTP 503 three times in a row; the circuit breaker opened at 10:02"
    item = fail(T.DELIVERY_FAILED, delivery_id="D1", reason=reason)

    result = suture("list")

    lines = result.stdout.splitlines()
    assert result.exit_code == 0
    assert item.id in [line.strip() for line in lines]  # whole, on a line of its own
    assert max(len(line.rstrip()) for line in lines) <= 80
    start = [line.strip() for line in lines].index(item.id) + 1
    block = " ".join(" ".join(lines[start:]).split())  # the item's block, its wrapping undone
    fields = (
        "delivery_failed at fac-1 · queue integration · unassigned · opened 3h 0m ago · "
        "overdue 1h 0m"
    )
    assert block == f"{fields} {reason}"
