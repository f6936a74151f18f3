"""``POST /api/v1/process/reconciliations``: the batch reconciliation of a period over HTTP.

A real hub on SQLite (``bootstrap.build``), its charges and expected charges posted as their
workflows post them and reconciled continuously by the hub's own bus; the Process API then
reconciles the period in batch and answers the summary, recorded in the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from reconciliation_world import Ward, drain

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.domain.audit import Outcome
from suture.entrypoints.api.app import create_app

RECONCILE = "/api/v1/process/reconciliations"


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


def operator(hub: Hub, facilities: list[str]) -> tuple[str, dict[str, str]]:
    created = hub.clients.create("recon", {Scope.PROCESS_EXECUTE}, facilities)
    return created.client.id, {
        "authorization": f"Bearer {hub.tokens.issue(created.client).access_token}"
    }


def test_a_period_is_reconciled_and_summarised_by_side_and_outcome(
    api: TestClient, hub: Hub
) -> None:
    ward = Ward(hub.uow_factory, hub.bus)
    ward.put_on_record()
    ward.price("CDM-KNEE", "4000.00")
    ward.use("U1", "2")
    ward.use("U2", encounter="ENC2")
    ward.charge("C2", encounter="ENC2")
    drain(hub.bus)
    client_id, headers = operator(hub, [ward.facility_id])

    answer = api.post(
        RECONCILE, headers=headers,
        json={"from": "2026-03-01", "to": "2026-03-31", "facility_id": ward.facility_id},
    )  # fmt: skip

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["lines"], body["unmatched"], body["revenue_at_risk"]) == (3, 1, "8000.00")
    assert {(o["side"], o["outcome"], o["lines"]) for o in body["outcomes"]} == {
        ("usage", "usage_without_charge", 1), ("usage", "matched", 1), ("charge", "matched", 1),
    }  # fmt: skip
    (record,) = hub.audit.list(action="reconciliation.run")
    assert (record.entry.actor.client_id, record.entry.after) == (
        client_id, "lines=3 unmatched=1",
    )  # fmt: skip


def test_a_period_that_ends_before_it_starts_is_422_naming_the_field(
    api: TestClient, hub: Hub
) -> None:
    _, headers = operator(hub, ["fac-a"])

    answer = api.post(
        RECONCILE, headers=headers, json={"from": "2026-03-02", "to": "2026-03-01",
                                          "facility_id": "fac-a"},
    )  # fmt: skip

    assert answer.status_code == 422
    assert "before from" in answer.text


def test_a_number_is_not_a_date(api: TestClient, hub: Hub) -> None:
    _, headers = operator(hub, ["fac-a"])

    answer = api.post(
        RECONCILE, headers=headers, json={"from": 0, "to": "2026-03-01", "facility_id": "fac-a"}
    )

    assert answer.status_code == 422


def test_a_day_outside_the_calendar_window_is_422(api: TestClient, hub: Hub) -> None:
    _, headers = operator(hub, ["fac-a"])

    answer = api.post(
        RECONCILE, headers=headers, json={"from": "0001-01-01", "to": "0001-01-02",
                                          "facility_id": "fac-a"},
    )  # fmt: skip

    assert answer.status_code == 422
    assert "outside" in answer.text


def test_a_facility_not_on_record_is_422_not_an_empty_summary(api: TestClient, hub: Hub) -> None:
    """A typo reconciled nothing and answered 200 with zeros: read as a clean month."""
    _, headers = operator(hub, [ALL_FACILITIES])

    answer = api.post(
        RECONCILE, headers=headers, json={"from": "2026-03-01", "to": "2026-03-31",
                                          "facility_id": "FAC-NOPE"},
    )  # fmt: skip

    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == [{"field": "facility_id", "reason": "no such facility"}]
    (record,) = hub.audit.list(action="reconciliation.run")
    assert record.entry.outcome is Outcome.FAILED
