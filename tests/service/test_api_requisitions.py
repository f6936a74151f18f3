"""Departmental requests (Experience API) and requisition approval (Process API) over HTTP, on a
real hub (SQLite): submit, follow, approve, reject, each facility-scoped and audited."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import Scope
from suture.domain.masterdata import (
    CostCenter,
    Department,
    Facility,
    Item,
    Location,
    LocationKind,
    Supplier,
)
from suture.domain.trading_partners import TradingPartner
from suture.domain.units import Packaging, PackagingLevel
from suture.entrypoints.api.app import create_app

DEPARTMENT = "/api/v1/experience/department/requisitions"
PROCESS = "/api/v1/process/requisitions"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = build(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'api.db'}",
            erp_outbox_dir=tmp_path / "out",
            x12_outbox_dir=tmp_path / "x12",
        )
    )
    each = Packaging((PackagingLevel("EA", 1, None),))
    with built.uow_factory() as uow:
        for fac in ("fac-a", "fac-b"):
            uow.facilities.add(Facility(id=fac, code=fac.upper(), name=fac))
            uow.cost_centers.add(CostCenter(id=f"cc-{fac}", facility_id=fac, code="CC", name="c"))
            uow.departments.add(
                Department(id=f"or-{fac}", facility_id=fac, code="OR", name="Surgery",
                           cost_center_id=f"cc-{fac}")
            )  # fmt: skip
            uow.locations.add(
                Location(id=f"dock-{fac}", facility_id=fac, code="DOCK", name="Dock",
                         kind=LocationKind.CENTRAL_SUPPLY)
            )  # fmt: skip
        uow.suppliers.add(Supplier(id="sup-1", name="Acme"))
        uow.items.add_many([
            Item(id="sponge", description="Sponge", manufacturer="Acme", catalog_number="S1",
                 packaging=each, purchase_uom="EA", supplier_id="sup-1",
                 list_price=Decimal("2.00")),
            Item(id="scope", description="Scope", manufacturer="Acme", catalog_number="S2",
                 packaging=each, purchase_uom="EA", supplier_id="sup-1",
                 list_price=Decimal("4000.00")),
        ])  # fmt: skip
        uow.trading_partners.save(
            TradingPartner(supplier_id="sup-1", isa_qualifier="ZZ", isa_id="ACME",
                           gs_id="ACME", updated_at=built.clock())
        )  # fmt: skip
        uow.commit()
    yield built
    built.close()


@pytest.fixture
def api(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as client:
        yield client


def headers(hub: Hub, scope: Scope, facilities: list[str]) -> dict[str, str]:
    created = hub.clients.create("client", {scope}, facilities)
    return {"authorization": f"Bearer {hub.tokens.issue(created.client).access_token}"}


def drain(hub: Hub) -> None:
    while hub.bus.run_once():
        pass


def submit(api: TestClient, who: dict[str, str], item: str, facility: str = "fac-a") -> Any:
    body = {
        "facility_id": facility,
        "department_id": f"or-{facility}",
        "lines": [{"item_id": item, "quantity": "3"}],
    }
    return api.post(DEPARTMENT, headers=who, json=body)


def test_a_department_submits_a_requisition_and_follows_it_to_its_purchase_order(
    api: TestClient, hub: Hub
) -> None:
    dept = headers(hub, Scope.EXPERIENCE_DEPARTMENT, ["fac-a"])
    answer = submit(api, dept, "sponge")
    assert answer.status_code == 201, answer.text
    submitted = answer.json()
    drain(hub)

    followed = api.get(f"{DEPARTMENT}/{submitted['id']}", headers=dept).json()
    listed = api.get(DEPARTMENT, headers=dept).json()

    assert submitted["status"] == "pending_approval"
    assert {k: followed[k] for k in ("status", "reason", "amount", "rule", "decided_by")} == {
        "status": "ordered", "reason": "department", "amount": "6.0000",
        "rule": "under-1000-auto", "decided_by": "policy:under-1000-auto",
    }  # fmt: skip
    assert followed["purchase_orders"] == [f"PO-{submitted['id']}-1"]
    assert [item["id"] for item in listed["items"]] == [submitted["id"]]


def test_the_hubs_delivery_worker_drops_the_850_in_the_x12_outbox_and_the_po_is_sent(
    api: TestClient, hub: Hub, tmp_path: Path
) -> None:
    dept = headers(hub, Scope.EXPERIENCE_DEPARTMENT, ["fac-a"])
    req = submit(api, dept, "sponge").json()["id"]
    drain(hub)

    sent = hub.delivery_worker.run_once()

    po = f"PO-{req}-1"
    with hub.uow_factory() as uow:
        order = uow.purchase_orders.by_number(po)
    dropped = tmp_path / "x12" / "x12_sup-1" / f"850-{po}.x12"
    assert (sent, order and order.status.value) == (1, "sent")
    assert dropped.read_bytes().startswith(b"ISA*00*")


def test_an_approver_approves_from_the_work_list_once(api: TestClient, hub: Hub) -> None:
    dept = headers(hub, Scope.EXPERIENCE_DEPARTMENT, ["fac-a"])
    operator = headers(hub, Scope.PROCESS_EXECUTE, ["fac-a"])
    req = submit(api, dept, "scope").json()["id"]
    drain(hub)

    work_list = api.get(PROCESS, headers=operator, params={"approver": "department_manager"})
    first = api.post(f"{PROCESS}/{req}/approve", headers=operator, json={"note": "budgeted"})
    drain(hub)
    again = api.post(f"{PROCESS}/{req}/approve", headers=operator)
    refused = api.post(f"{PROCESS}/{req}/reject", headers=operator, json={"reason": "no"})

    assert [item["id"] for item in work_list.json()["items"]] == [req]
    assert (first.status_code, first.json()["changed"]) == (200, True)
    assert (again.status_code, again.json()["changed"]) == (200, False)
    assert again.json()["requisition"]["status"] == "ordered"
    assert again.json()["requisition"]["note"] == "budgeted"
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    actions = [
        (r.entry.action, str(r.entry.outcome))
        for r in hub.audit.list(action="requisition.*")
        if r.entry.target_id == req
    ]
    assert actions == [
        ("requisition.submit", "success"), ("requisition.approve", "success"),
        ("requisition.approve", "success"), ("requisition.reject", "failed"),
    ]  # fmt: skip


def test_a_rejection_needs_a_reason_and_is_kept_with_the_requisition(
    api: TestClient, hub: Hub
) -> None:
    dept = headers(hub, Scope.EXPERIENCE_DEPARTMENT, ["fac-a"])
    operator = headers(hub, Scope.PROCESS_EXECUTE, ["fac-a"])
    req = submit(api, dept, "scope").json()["id"]
    drain(hub)

    no_reason = api.post(f"{PROCESS}/{req}/reject", headers=operator, json={"reason": ""})
    rejected = api.post(f"{PROCESS}/{req}/reject", headers=operator, json={"reason": "loaner"})
    drain(hub)
    seen = api.get(f"{DEPARTMENT}/{req}", headers=dept).json()

    assert no_reason.status_code == 422
    assert [e["field"] for e in no_reason.json()["errors"]] == ["body.reason"]
    assert rejected.status_code == 200
    assert {k: seen[k] for k in ("status", "note", "purchase_orders")} == {
        "status": "rejected",
        "note": "loaner",
        "purchase_orders": [],
    }


def test_another_facilitys_requisition_is_refused_and_the_refusal_audited(
    api: TestClient, hub: Hub
) -> None:
    theirs = submit(api, headers(hub, Scope.EXPERIENCE_DEPARTMENT, ["fac-b"]), "scope", "fac-b")
    req = theirs.json()["id"]
    drain(hub)
    dept_a = headers(hub, Scope.EXPERIENCE_DEPARTMENT, ["fac-a"])
    operator_a = headers(hub, Scope.PROCESS_EXECUTE, ["fac-a"])

    answers = [
        submit(api, dept_a, "sponge", "fac-b"),
        api.get(f"{DEPARTMENT}/{req}", headers=dept_a),
        api.get(f"{PROCESS}/{req}", headers=operator_a),
        api.post(f"{PROCESS}/{req}/approve", headers=operator_a),
        api.post(f"{PROCESS}/{req}/reject", headers=operator_a, json={"reason": "x"}),
    ]

    assert [a.status_code for a in answers] == [403] * 5
    assert all("requisition" not in a.json() and "items" not in a.json() for a in answers)
    assert hub.requisitions.show(req).status == "pending_approval"
    denied = [
        r.entry.action
        for r in hub.audit.list(action="requisition.*")
        if r.entry.target_id == req and str(r.entry.outcome) == "denied"
    ]
    assert denied == ["requisition.approve", "requisition.reject"]


def test_an_unknown_requisition_is_404_and_a_bad_line_names_its_field(
    api: TestClient, hub: Hub
) -> None:
    dept = headers(hub, Scope.EXPERIENCE_DEPARTMENT, ["fac-a"])
    operator = headers(hub, Scope.PROCESS_EXECUTE, ["fac-a"])

    missing = api.post(f"{PROCESS}/REQ-NONE/approve", headers=operator)
    bad = submit(api, dept, "no-such-item")

    assert missing.status_code == 404
    assert [
        (r.entry.target_id, str(r.entry.outcome)) for r in hub.audit.list(action="requisition.*")
    ] == [("REQ-NONE", "failed"), (None, "failed")]  # the approval, then the refused submission
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"field": "lines[0].item_id", "reason": "no active item 'no-such-item'"}
    ]


@pytest.mark.parametrize("location", ["dock-fac-b", "no-such-location"])
def test_a_delivery_location_outside_the_requisitions_facility_is_refused_and_nothing_stored(
    api: TestClient, hub: Hub, location: str
) -> None:
    dept = headers(hub, Scope.EXPERIENCE_DEPARTMENT, ["fac-a"])
    body = {
        "facility_id": "fac-a",
        "department_id": "or-fac-a",
        "location_id": location,
        "lines": [{"item_id": "sponge", "quantity": "3"}],
    }

    refused = api.post(DEPARTMENT, headers=dept, json=body)
    accepted = api.post(DEPARTMENT, headers=dept, json=body | {"location_id": "dock-fac-a"})
    drain(hub)

    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "location_id", "reason": f"no location {location!r} at fac-a"}
    ]
    assert accepted.status_code == 201
    listed = api.get(DEPARTMENT, headers=dept).json()["items"]
    assert [item["location_id"] for item in listed] == ["dock-fac-a"]
