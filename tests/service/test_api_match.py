"""The three-way match over HTTP on a real hub (SQLite): the Process API runs it, the supplier
Experience API shows its match and payment status."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from match_world import (
    World,
    invoice_line,
    later,
    new_world,
    receipt_line,
    receive_invoice,
    record_receipt,
    seed,
)

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import Scope
from suture.entrypoints.api.app import create_app

RUN = "/api/v1/process/invoices/{}/match"
SUPPLIER = "/api/v1/experience/supplier/invoices/{}/match"


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


@pytest.fixture
def world(hub: Hub) -> World:
    created = new_world()
    with hub.uow_factory() as uow:
        seed(uow, created)
    with hub.uow_factory() as uow:
        record_receipt(hub.bus, uow, created, "1", receipt_line(1, created.glove, "100"))
        receive_invoice(hub.bus, uow, created, "A", invoice_line(1, created.glove, "100", "1.00"))
    return created


def headers(hub: Hub, scopes: set[Scope], facilities: list[str], supplier: str | None = None
            ) -> dict[str, str]:  # fmt: skip
    created = hub.clients.create("match", scopes, facilities, supplier_id=supplier)
    return {"authorization": f"Bearer {hub.tokens.issue(created.client).access_token}"}


def test_running_the_match_answers_the_outcome_line_by_line_and_is_audited(
    api: TestClient, hub: Hub, world: World
) -> None:
    operator = headers(hub, {Scope.PROCESS_EXECUTE}, [world.facility_id])

    first = api.post(RUN.format(world.invoice_id("A")), headers=operator)
    again = api.post(RUN.format(world.invoice_id("A")), headers=operator)

    assert first.status_code == 200, first.text
    body: dict[str, Any] = first.json()
    assert (body["ran"], body["match"]["status"], body["match"]["matched_amount"],
            body["match"]["attempts"]) == (True, "matched", "100.00", 1)  # fmt: skip
    assert [(line["line_number"], line["finding"]) for line in body["match"]["lines"]] == [
        (1, "matched")
    ]
    assert (again.json()["ran"], again.json()["match"]["attempts"]) == (False, 1)
    audit = [r.entry for r in hub.audit.list(action="match.run")]
    assert [(e.target_id, e.outcome.value, e.after) for e in audit] == [
        (world.invoice_id("A"), "success", "status=matched attempts=1")
    ] * 2


def test_an_unknown_invoice_is_a_404_problem(api: TestClient, hub: Hub) -> None:
    answer = api.post(RUN.format("INV-NOPE"), headers=headers(hub, {Scope.PROCESS_EXECUTE}, ["*"]))

    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert "no invoice 'INV-NOPE'" in answer.json()["detail"]


def test_the_supplier_sees_pending_then_approved_for_payment(
    api: TestClient, hub: Hub, world: World
) -> None:
    supplier = headers(hub, {Scope.EXPERIENCE_SUPPLIER}, [world.facility_id], world.supplier_id)

    before = api.get(SUPPLIER.format(world.invoice_id("A")), headers=supplier).json()
    hub.matching.run(world.invoice_id("A"))
    after = api.get(SUPPLIER.format(world.invoice_id("A")), headers=supplier).json()

    assert (before["payment_status"], before["match"]) == ("pending", None)
    assert (after["invoice_status"], after["payment_status"], after["match"]["status"]) == (
        "matched", "approved_for_payment", "matched",
    )  # fmt: skip


def test_the_supplier_lists_each_invoice_with_its_match_and_payment_status(
    api: TestClient, hub: Hub, world: World
) -> None:
    with hub.uow_factory() as uow:
        receive_invoice(hub.bus, uow, world, "B", invoice_line(1, world.glove, "500", "1.00"),
                        invoice_date=date(2025, 3, 1))  # fmt: skip
    hub.matching.run_open()
    supplier = headers(hub, {Scope.EXPERIENCE_SUPPLIER}, [world.facility_id], world.supplier_id)
    other = headers(hub, {Scope.EXPERIENCE_SUPPLIER}, [world.facility_id], "another-supplier")

    mine = api.get("/api/v1/experience/supplier/invoice-status", headers=supplier)
    theirs = api.get("/api/v1/experience/supplier/invoice-status", headers=other)

    assert mine.status_code == 200, mine.text
    assert [
        (i["invoice_id"], i["payment_status"], i["match"]["findings"]) for i in mine.json()["items"]
    ] == [
        (world.invoice_id("A"), "approved_for_payment", []),
        (world.invoice_id("B"), "on_hold", ["quantity_variance"]),
    ]
    assert theirs.json() == {"items": [], "next_cursor": None}


NOT_DUPLICATE = "/api/v1/process/invoices/{}/not-duplicate"


@pytest.fixture
def twins(hub: Hub) -> World:
    """A matched (50 gloves of the 100 received) and B, same PO, amount and date under another
    number, held as a suspected duplicate of A: B matches once cleared."""
    world = new_world()
    with hub.uow_factory() as uow:
        seed(uow, world)
    with hub.uow_factory() as uow:
        record_receipt(hub.bus, uow, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(hub.bus, uow, world, "A", invoice_line(1, world.glove, "50", "1.00"))
        receive_invoice(hub.bus, uow, world, "B", invoice_line(1, world.glove, "50", "1.00"),
                        at=later(5))  # fmt: skip
    hub.matching.run(world.invoice_id("A"))
    hub.matching.run(world.invoice_id("B"))
    return world


def test_not_duplicate_records_the_decision_re_runs_and_is_audited(
    api: TestClient, hub: Hub, twins: World
) -> None:
    operator = headers(hub, {Scope.PROCESS_EXECUTE}, [twins.facility_id])

    answer = api.post(NOT_DUPLICATE.format(twins.invoice_id("B")), headers=operator,
                      json={"reason": "two deliveries on the same day"})  # fmt: skip
    rerun = api.post(RUN.format(twins.invoice_id("B")), headers=operator)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    (decision,) = body["duplicate_clearances"]
    client_id = decision["decided_by"]
    assert (body["ran"], body["match"]["status"], body["match"]["attempts"],
            body["match"]["duplicate_of"]) == (True, "matched", 2, None)  # fmt: skip
    assert {k: v for k, v in decision.items() if k != "decided_at"} == {
        "invoice_id": twins.invoice_id("B"), "original_invoice_id": twins.invoice_id("A"),
        "reason": "two deliveries on the same day", "decided_by": client_id,
    }  # fmt: skip
    assert rerun.json()["duplicate_clearances"] == [decision]
    (record,) = hub.audit.list(action="match.not_duplicate")
    assert (record.entry.actor.client_id, record.entry.target_id, record.entry.outcome.value,
            record.entry.before, record.entry.after, record.entry.reason) == (
        client_id, twins.invoice_id("B"), "success", f"duplicate_of={twins.invoice_id('A')}",
        "status=matched attempts=2", "two deliveries on the same day",
    )  # fmt: skip


def test_not_duplicate_of_an_invoice_not_held_as_a_duplicate_is_a_409_problem(
    api: TestClient, hub: Hub, twins: World
) -> None:
    operator = headers(hub, {Scope.PROCESS_EXECUTE}, [twins.facility_id])

    answer = api.post(NOT_DUPLICATE.format(twins.invoice_id("A")), headers=operator,
                      json={"reason": "checked"})  # fmt: skip

    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == "status"
    (record,) = hub.audit.list(action="match.not_duplicate")
    assert record.entry.outcome.value == "failed"


def test_not_duplicate_of_the_same_invoice_number_is_a_409_problem_naming_the_number(
    api: TestClient, hub: Hub, world: World
) -> None:
    with hub.uow_factory() as uow:
        receive_invoice(hub.bus, uow, world, "A", invoice_line(1, world.glove, "100", "1.00"),
                        id=world.invoice_id("A-again"), at=later(5))  # fmt: skip
    hub.matching.run(world.invoice_id("A"))
    hub.matching.run(world.invoice_id("A-again"))
    operator = headers(hub, {Scope.PROCESS_EXECUTE}, [world.facility_id])

    answer = api.post(NOT_DUPLICATE.format(world.invoice_id("A-again")), headers=operator,
                      json={"reason": "checked"})  # fmt: skip

    assert answer.status_code == 409, answer.text
    assert answer.json()["errors"][0]["field"] == "number"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_not_duplicate_without_a_reason_is_a_422_problem(
    api: TestClient, hub: Hub, twins: World, body: dict[str, str]
) -> None:
    operator = headers(hub, {Scope.PROCESS_EXECUTE}, [twins.facility_id])

    answer = api.post(NOT_DUPLICATE.format(twins.invoice_id("B")), headers=operator, json=body)

    assert answer.status_code == 422, answer.text
    assert "reason" in answer.json()["errors"][0]["field"]
    assert hub.matching.show(twins.invoice_id("B")).clearances == ()


def test_not_duplicate_of_an_unknown_invoice_is_a_404_problem(api: TestClient, hub: Hub) -> None:
    operator = headers(hub, {Scope.PROCESS_EXECUTE}, ["*"])

    answer = api.post(NOT_DUPLICATE.format("INV-NOPE"), headers=operator,
                      json={"reason": "checked"})  # fmt: skip

    assert answer.status_code == 404
    assert "no invoice 'INV-NOPE'" in answer.json()["detail"]


@pytest.mark.parametrize("who", ["another facility", "the invoice's supplier", "no scope"])
def test_not_duplicate_needs_the_scope_the_facility_and_no_supplier_binding(
    api: TestClient, hub: Hub, twins: World, who: str
) -> None:
    caller = {
        "another facility": headers(hub, {Scope.PROCESS_EXECUTE}, ["FAC-elsewhere"]),
        "the invoice's supplier": headers(
            hub, {Scope.PROCESS_EXECUTE}, [twins.facility_id], twins.supplier_id
        ),
        "no scope": headers(hub, {Scope.SYSTEM_READ}, [twins.facility_id]),
    }[who]

    answer = api.post(NOT_DUPLICATE.format(twins.invoice_id("B")), headers=caller,
                      json={"reason": "checked"})  # fmt: skip

    assert answer.status_code == 403, answer.text
    assert hub.matching.show(twins.invoice_id("B")).clearances == ()
