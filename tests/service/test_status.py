"""``suture status``: object counts per facility and the message backbone, from a wired hub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.exceptions import ExceptionType
from suture.entrypoints.cli import app
from suture.services.exceptions import open_exception
from suture.services.status import backbone_status

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'status.db'}"
    monkeypatch.setenv("SUTURE_DATABASE_URL", url)
    monkeypatch.setenv("SUTURE_ERP_OUTBOX_DIR", str(tmp_path / "outbox"))
    return url


@pytest.fixture
def hub(database: str) -> Iterator[Hub]:
    built = build(Settings())
    yield built
    built.close()


def fill_backbone(hub: Hub) -> None:
    hub.inbox.receive(
        b"MSH|^~\\&|RCM|FAC-01\r",
        format="hl7v2",
        interface="mllp:charges",
        source_system="rcm",
        received_at=NOW,
    )
    with hub.uow_factory() as uow:
        open_exception(
            uow,
            type=ExceptionType.MISSING_ITEM_MAPPING,
            facility_id="FAC-01",
            reason="no item for local code 12345",
            at=NOW,
            dependency="item:mms/FAC-01/12345",
        )
        hub.delivery_queue.enqueue(
            uow,
            target="erp:file",
            operation="journal.post",
            payload=b"header\n",
            idempotency_key="journal-1",
            at=NOW,
        )
        uow.commit()


def test_backbone_status_counts_messages_deliveries_and_open_exceptions(hub: Hub) -> None:
    fill_backbone(hub)

    status = backbone_status(hub.uow_factory, NOW)

    assert status.inbox["received"] == 1
    assert status.deliveries == {
        "pending": 1, "in_flight": 0, "delivered": 0, "dead": 0, "shadowed": 0, "parked": 0
    }  # fmt: skip
    assert status.open_exceptions == {"missing_item_mapping": 1}
    assert status.overdue_exceptions == 0
    assert status.pending_work == 0


def test_status_json_reports_objects_and_backbone(hub: Hub) -> None:
    fill_backbone(hub)

    result = CliRunner().invoke(app, ["status", "--json"])

    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["schema_revision"] is not None
    assert payload["backbone"]["inbox"]["received"] == 1
    assert payload["backbone"]["open_exceptions"] == {"missing_item_mapping": 1}
    assert set(payload["objects"]) >= {"facilities", "items", "charges"}


def test_a_bad_setting_is_named_and_exits_2(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUTURE_BUS_MAX_ATTEMPTS", "0")

    result = CliRunner().invoke(app, ["status"])

    assert result.exit_code == 2
    assert "SUTURE_BUS_MAX_ATTEMPTS" in result.output


def test_a_routing_policy_naming_an_unknown_destination_stops_start_up(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "routing.yaml"
    policy.write_text(
        "- name: usage\n  match:\n    type: supply.usage.*\n  destinations: [nowhere]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SUTURE_ROUTING_POLICY", str(policy))
    # Wide enough for the path in one piece: the temporary folder's length varies (pytest-xdist
    # adds a folder per worker), and rich folds a long word at the line's end.
    monkeypatch.setenv("COLUMNS", "200")

    result = CliRunner().invoke(app, ["status"])

    assert result.exit_code == 2
    assert f"{policy}:4" in result.output
    assert "nowhere" in result.output


@pytest.mark.parametrize("setting", ["SUTURE_ROUTING_POLICY", "SUTURE_APPROVAL_POLICY"])
def test_a_policy_file_that_cannot_be_read_is_named_and_exits_2(
    setting: str, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    absent = tmp_path / "absent.yaml"
    monkeypatch.setenv(setting, str(absent))
    monkeypatch.setenv("COLUMNS", "200")

    result = CliRunner().invoke(app, ["status"])

    assert result.exit_code == 2
    assert f"{absent}: {setting}: cannot read: No such file or directory" in result.output


TRYTON = {
    "SUTURE_ERP_KIND": "tryton",
    "SUTURE_ERP_URL": "http://127.0.0.1:9",
    "SUTURE_ERP_DATABASE": "suture",
    "SUTURE_ERP_USER": "suture",
}


@pytest.mark.parametrize(
    "case",
    [
        ("SUTURE_ERP_PASSWORD_FILE", None, "No such file or directory", TRYTON),
        ("SUTURE_ERP_PASSWORD_FILE", b"", "the file is empty", TRYTON),
        ("SUTURE_ERP_PASSWORD_FILE", b"\xff\xfe\n", "not UTF-8 text", TRYTON),
        ("SUTURE_CSV_FEEDS", b"\xff\xfe", "not UTF-8 text (byte 0)", {}),
        ("SUTURE_ERP_MAPPING_FILE", b"\xff\xfe", "not UTF-8 text (byte 0)",
         {**TRYTON, "SUTURE_ERP_PASSWORD": "secret"}),
        ("SUTURE_ROUTING_POLICY", b"\xff\xfe", "not UTF-8 text (byte 0)", {}),
    ],
)  # fmt: skip
def test_a_settings_file_that_cannot_be_read_is_named_and_exits_2(
    case: tuple[str, bytes | None, str, dict[str, str]],
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setting, content, reason, others = case
    path = tmp_path / "setting.file"
    if content is not None:
        path.write_bytes(content)
    for name, value in {**others, setting: str(path), "COLUMNS": "300"}.items():
        monkeypatch.setenv(name, value)

    result = CliRunner().invoke(app, ["status"])

    assert result.exit_code == 2
    assert result.output.startswith("configuration error: ")
    assert setting in result.output
    assert reason in result.output


@pytest.mark.parametrize("command", ["status", "migrate"])
def test_a_database_that_cannot_be_opened_is_named_and_exits_2(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}"  # a folder: SQLite cannot open it
    monkeypatch.setenv("SUTURE_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "300")

    result = CliRunner().invoke(app, [command])

    assert result.exit_code == 2
    assert result.output.startswith(f"database error: SUTURE_DATABASE_URL ({url}): ")
    assert "unable to open database file" in result.output


def test_status_without_nats_reports_no_stream_consumer(hub: Hub) -> None:
    result = CliRunner().invoke(app, ["status", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["backbone"]["consumer"] is None


def test_status_with_nats_down_reports_why_the_consumer_lag_is_unknown(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUTURE_NATS_URL", "nats://127.0.0.1:1")  # nothing listens there

    result = CliRunner().invoke(app, ["status"])

    assert result.exit_code == 0, result.output
    assert "stream consumer SUTURE/suture-workers" in result.output
    assert "unknown: cannot connect" in result.output
