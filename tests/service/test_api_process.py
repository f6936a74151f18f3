"""Process APIs over HTTP on a real hub (SQLite): the exception queue, replay, crosswalk fixes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.domain.crosswalk import CrosswalkKey, CrosswalkKind
from suture.domain.exceptions import ExceptionType
from suture.domain.masterdata import Facility, Item
from suture.domain.units import Packaging, PackagingLevel
from suture.entrypoints.api.app import create_app
from suture.services.exceptions import open_exception
from suture.services.redrive import mapping_dependency

EXCEPTIONS = "/api/v1/process/exceptions"
CROSSWALKS = "/api/v1/process/crosswalks"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", erp_outbox_dir=tmp_path / "out")
    )
    with built.uow_factory() as uow:
        uow.facilities.add_many(
            [Facility(id=f, code=f.upper(), name=f) for f in ("fac-a", "fac-b")]
        )
        uow.items.add(
            Item(id="item-1", description="Hip stem", manufacturer="Acme", catalog_number="C1",
                 packaging=Packaging((PackagingLevel("EA", 1, None),)), purchase_uom="EA")
        )  # fmt: skip
        uow.commit()
    yield built
    built.close()


@pytest.fixture
def api(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as client:
        yield client


def operator(hub: Hub, facilities: list[str]) -> tuple[str, dict[str, str]]:
    created = hub.clients.create("ops", {Scope.PROCESS_EXECUTE}, facilities)
    token = hub.tokens.issue(created.client).access_token
    return created.client.id, {"authorization": f"Bearer {token}"}


def open_item(hub: Hub, facility: str, reason: str = "no item for local code 42", **kw: Any) -> str:
    with hub.uow_factory() as uow:
        item = open_exception(
            uow, type=ExceptionType.MISSING_ITEM_MAPPING, facility_id=facility, reason=reason,
            at=hub.clock(), correlation_id=f"corr-{reason}", **kw,
        )  # fmt: skip
        uow.commit()
    return item.id


def test_an_operator_lists_only_its_facilitys_open_items(api: TestClient, hub: Hub) -> None:
    ours, _ = open_item(hub, "fac-a"), open_item(hub, "fac-b", "other")
    _, headers = operator(hub, ["fac-a"])
    body = api.get(EXCEPTIONS, headers=headers).json()
    assert [item["id"] for item in body["items"]] == [ours]
    assert body["items"][0]["type"] == "missing_item_mapping"


def test_an_item_of_another_facility_is_403(api: TestClient, hub: Hub) -> None:
    theirs = open_item(hub, "fac-b")
    _, headers = operator(hub, ["fac-a"])
    assert api.get(f"{EXCEPTIONS}/{theirs}", headers=headers).status_code == 403
    assert (
        api.post(
            f"{EXCEPTIONS}/{theirs}/dismiss", json={"reason": "x"}, headers=headers
        ).status_code
        == 403
    )
    assert api.get(f"{EXCEPTIONS}/{theirs}", headers=operator(hub, ["fac-b"])[1]).status_code == 200


def test_dismissing_keeps_the_reason_in_the_trail_and_the_audit(api: TestClient, hub: Hub) -> None:
    item_id = open_item(hub, "fac-a")
    client_id, headers = operator(hub, ["fac-a"])
    answer = api.post(
        f"{EXCEPTIONS}/{item_id}/dismiss", json={"reason": "test data"}, headers=headers
    )
    assert (answer.status_code, answer.json()["status"]) == (200, "dismissed")
    trail = api.get(f"{EXCEPTIONS}/{item_id}", headers=headers).json()["actions"]
    assert (trail[-1]["kind"], trail[-1]["actor"], trail[-1]["detail"]) == (
        "dismissed",
        client_id,
        "test data",
    )
    (record,) = hub.audit.list(action="exception.dismiss")
    assert (record.entry.actor.client_id, record.entry.target_id, record.entry.after) == (
        client_id,
        item_id,
        "status=dismissed",
    )


def test_assign_then_resolve(api: TestClient, hub: Hub) -> None:
    item_id = open_item(hub, "fac-a")
    _, headers = operator(hub, ["fac-a"])
    assigned = api.post(f"{EXCEPTIONS}/{item_id}/assign", json={"owner": "dana"}, headers=headers)
    assert assigned.json()["owner"] == "dana"
    resolved = api.post(
        f"{EXCEPTIONS}/{item_id}/resolve", json={"note": "mapped by hand"}, headers=headers
    )
    assert (resolved.json()["status"], resolved.json()["resolution_note"]) == (
        "resolved",
        "mapped by hand",
    )


def test_a_dismiss_without_a_reason_is_422_naming_the_field(api: TestClient, hub: Hub) -> None:
    item_id = open_item(hub, "fac-a")
    answer = api.post(
        f"{EXCEPTIONS}/{item_id}/dismiss", json={"reason": ""}, headers=operator(hub, ["fac-a"])[1]
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "body.reason"


def test_an_unknown_item_is_404(api: TestClient, hub: Hub) -> None:
    _, headers = operator(hub, [ALL_FACILITIES])
    assert api.get(f"{EXCEPTIONS}/nope", headers=headers).status_code == 404


def test_retrying_an_item_with_nothing_to_redrive_fails_and_is_audited(
    api: TestClient, hub: Hub
) -> None:
    item_id = open_item(hub, "fac-a")
    answer = api.post(f"{EXCEPTIONS}/{item_id}/retry", headers=operator(hub, ["fac-a"])[1])
    assert answer.status_code == 422
    (record,) = hub.audit.list(action="exception.retry")
    assert str(record.entry.outcome) == "failed"


def mapping(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "item", "source_system": "mms", "facility_id": "fac-a", "local_code": "42",
        "canonical_id": "item-1", **overrides,
    }  # fmt: skip


def test_a_crosswalk_fix_resolves_what_was_parked_on_it(api: TestClient, hub: Hub) -> None:
    key = CrosswalkKey("mms", "fac-a", CrosswalkKind.ITEM, "42")
    parked = open_item(hub, "fac-a", dependency=mapping_dependency(key))
    _, headers = operator(hub, ["fac-a"])
    added = api.post(CROSSWALKS, json=mapping(), headers=headers)
    assert (added.status_code, added.json()["outcome"]) == (201, "added")
    again = api.post(CROSSWALKS, json=mapping(), headers=headers)
    assert (again.status_code, again.json()["outcome"]) == (200, "unchanged")
    item = api.get(f"{EXCEPTIONS}/{parked}", headers=headers).json()["item"]
    assert item["status"] == "resolved"
    with hub.uow_factory() as uow:
        assert uow.crosswalks.current(key).canonical_id == "item-1"  # type: ignore[union-attr]


def test_a_crosswalk_to_a_missing_record_or_a_conflict_is_refused(
    api: TestClient, hub: Hub
) -> None:
    _, headers = operator(hub, ["fac-a"])
    missing = api.post(CROSSWALKS, json=mapping(canonical_id="item-x"), headers=headers)
    assert (missing.status_code, missing.json()["errors"][0]["field"]) == (422, "canonical_id")
    api.post(CROSSWALKS, json=mapping(), headers=headers)
    with hub.uow_factory() as uow:
        uow.items.add(
            Item(id="item-2", description="Knee", manufacturer="Acme", catalog_number="C2",
                 packaging=Packaging((PackagingLevel("EA", 1, None),)), purchase_uom="EA")
        )  # fmt: skip
        uow.commit()
    conflict = api.post(CROSSWALKS, json=mapping(canonical_id="item-2"), headers=headers)
    assert conflict.status_code == 422
    superseded = api.post(
        CROSSWALKS, json=mapping(canonical_id="item-2", supersede=True), headers=headers
    )
    assert (superseded.status_code, superseded.json()["outcome"]) == (201, "superseded")
    outcomes = [str(r.entry.outcome) for r in hub.audit.list(action="crosswalk.map")]
    assert outcomes == ["failed", "success", "failed", "success"]


def test_a_crosswalk_for_another_facility_is_403(api: TestClient, hub: Hub) -> None:
    answer = api.post(
        CROSSWALKS, json=mapping(facility_id="fac-b"), headers=operator(hub, ["fac-a"])[1]
    )
    assert answer.status_code == 403


def test_a_replay_dry_run_reports_and_changes_nothing(api: TestClient, hub: Hub) -> None:
    _, headers = operator(hub, [ALL_FACILITIES])
    answer = api.post("/api/v1/process/replay", json={"dead_letter": True}, headers=headers)
    assert answer.status_code == 200
    assert answer.json() == {
        "dry_run": True, "events": 0, "items": 0, "already_processed": 0, "sample": []
    }  # fmt: skip
    assert hub.audit.list(action="replay.run") == []


def test_a_replay_needs_every_facility_and_one_selection(api: TestClient, hub: Hub) -> None:
    local = api.post(
        "/api/v1/process/replay", json={"dead_letter": True}, headers=operator(hub, ["fac-a"])[1]
    )
    assert local.status_code == 403
    _, headers = operator(hub, [ALL_FACILITIES])
    none = api.post("/api/v1/process/replay", json={}, headers=headers)
    assert (none.status_code, none.json()["errors"][0]["field"]) == (422, "selection")


def test_a_replay_for_an_unknown_handler_is_a_422_naming_the_known_ones(
    api: TestClient, hub: Hub
) -> None:
    _, headers = operator(hub, [ALL_FACILITIES])
    answer = api.post(
        "/api/v1/process/replay", json={"dead_letter": True, "handler": "inventroy"},
        headers=headers,
    )  # fmt: skip
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert error["field"] == "handler"
    assert error["reason"].startswith("no such handler; one of: ")
    assert "inventory" in error["reason"].split("one of: ")[1].split(", ")
    assert "inventroy" not in answer.text


def test_an_unknown_exception_queue_filter_is_a_422_naming_the_queues(
    api: TestClient, hub: Hub
) -> None:
    _, headers = operator(hub, [ALL_FACILITIES])
    answer = api.get(EXCEPTIONS, params={"queue": "accounts_payable"}, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {
            "field": "query.queue",
            "reason": "Value error, must be one of: accounts-payable, finance, integration, "
            "revenue-integrity, supply-chain",
        }
    ]
