"""The integration inventory over HTTP: governance verdicts, registration, unmanaged traffic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.entrypoints.api.app import create_app

INTERFACES = "/api/v1/system/interfaces"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", erp_outbox_dir=tmp_path / "out")
    )
    yield built
    built.close()


@pytest.fixture
def api(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as client:
        yield client


def bearer(hub: Hub, scopes: set[Scope]) -> dict[str, str]:
    created = hub.clients.create("gov", scopes, [ALL_FACILITIES])
    return {"authorization": f"Bearer {hub.tokens.issue(created.client).access_token}"}


def charges_feed(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "epic-charges", "direction": "inbound", "format": "hl7v2", "channel": "mllp",
        "source_system": "epic", "target_system": "suture", "owner": "rev-cycle team",
        "sla_latency_minutes": 5, "contract": "docs/hl7v2.md", "schema_version": "2.5.1",
        "authentication": "mllp-tls", "authoritative_objects": ["charge"], **overrides,
    }  # fmt: skip


def test_an_admin_registers_an_interface_and_everyone_reads_its_verdict(
    api: TestClient, hub: Hub
) -> None:
    added = api.post(INTERFACES, json=charges_feed(), headers=bearer(hub, {Scope.ADMIN}))
    assert (added.status_code, added.json()["governance"]) == (201, "governed")
    reader = bearer(hub, {Scope.SYSTEM_READ})
    listed = api.get(INTERFACES, headers=reader).json()["items"]
    assert [(i["name"], i["governance"], i["findings"]) for i in listed] == [
        ("epic-charges", "governed", [])
    ]
    (record,) = hub.audit.list(action="interface.add")
    assert (record.entry.target_id, str(record.entry.outcome)) == ("epic-charges", "success")


def test_an_interface_without_owner_or_authentication_is_ungoverned_naming_why(
    api: TestClient, hub: Hub
) -> None:
    answer = api.post(
        INTERFACES,
        json=charges_feed(name="legacy-mms", owner=None, authentication="none"),
        headers=bearer(hub, {Scope.ADMIN}),
    )
    body = answer.json()
    assert body["governance"] == "ungoverned"
    assert {f["field"] for f in body["findings"] if f["required"]} == {"owner", "authentication"}


def test_registering_needs_admin_and_a_duplicate_is_409(api: TestClient, hub: Hub) -> None:
    refused = api.post(INTERFACES, json=charges_feed(), headers=bearer(hub, {Scope.SYSTEM_WRITE}))
    assert refused.status_code == 403
    admin = bearer(hub, {Scope.ADMIN})
    assert api.post(INTERFACES, json=charges_feed(), headers=admin).status_code == 201
    assert api.post(INTERFACES, json=charges_feed(), headers=admin).status_code == 409


def test_traffic_from_an_unregistered_source_is_listed_as_unmanaged(
    api: TestClient, hub: Hub
) -> None:
    hub.inbox.receive(
        b"MSH|^~\\&|CERNER|GH\r", format="hl7v2", interface="mllp", source_system="cerner",
        received_at=hub.clock(),
    )  # fmt: skip
    body = api.get("/api/v1/system/unmanaged-sources", headers=bearer(hub, {Scope.SYSTEM_READ}))
    assert [
        (s["channel"], s["source_system"], s["message_count"]) for s in body.json()["items"]
    ] == [("mllp", "cerner", 1)]


def test_retiring_an_interface_is_audited(api: TestClient, hub: Hub) -> None:
    admin = bearer(hub, {Scope.ADMIN})
    api.post(INTERFACES, json=charges_feed(), headers=admin)
    retired = api.post(f"{INTERFACES}/epic-charges/retire", headers=admin)
    assert retired.status_code == 200
    assert retired.json()["retired_on"] is not None
    assert api.get(f"{INTERFACES}/nope", headers=admin).status_code == 404
