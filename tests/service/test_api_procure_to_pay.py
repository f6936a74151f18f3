"""Procure-to-pay inbound over HTTP on a real hub (SQLite): X12 through the System API, dock
receipts through the Process API, and the supplier's invoices, acknowledgments and receipts
through the Experience API."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_x12_ingest import ACK_855, ASN_856
from x12_world import CENTRAL, FACILITY, SUPPLIER, events, interchange, seed

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.domain.audit import Outcome
from suture.domain.exceptions import ExceptionStatus, ExceptionType
from suture.domain.masterdata import Facility, Supplier
from suture.entrypoints.api.app import create_app

MESSAGES = "/api/v1/system/messages"
EXPECTED = "/api/v1/system/expected-receipts"
RECEIPTS = "/api/v1/process/receipts"
SUPPLIER_API = "/api/v1/experience/supplier"
X12 = {"content-type": "application/edi-x12"}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", erp_outbox_dir=tmp_path / "out")
    )
    seed(built.engine)
    with built.uow_factory() as uow:
        uow.facilities.add(Facility(id="fac-other", code="OT", name="Other"))
        uow.suppliers.add(Supplier(id="sup-zed", name="Zed"))
        uow.commit()
    yield built
    built.close()


@pytest.fixture
def api(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as client:
        yield client


def bearer(
    hub: Hub, scopes: set[Scope], facilities: list[str], supplier: str | None = None
) -> dict[str, str]:
    created = hub.clients.create("t", scopes, facilities, supplier_id=supplier)
    return {"authorization": f"Bearer {hub.tokens.issue(created.client).access_token}"}


def post_x12(api: TestClient, hub: Hub, raw: bytes) -> dict[str, Any]:
    headers = X12 | bearer(hub, {Scope.SYSTEM_WRITE}, [ALL_FACILITIES])
    answer = api.post(MESSAGES, content=raw, headers=headers, params={"interface": "x12-as2"})
    assert answer.status_code == 202, answer.text
    body: dict[str, Any] = answer.json()
    return body


def noticed(api: TestClient, hub: Hub) -> str:
    post_x12(api, hub, interchange([("856", ASN_856)], functional_id="SH"))
    page = api.get(EXPECTED, headers=bearer(hub, {Scope.SYSTEM_READ}, [FACILITY])).json()
    (item,) = page["items"]
    return str(item["id"])


def test_an_x12_body_is_applied_and_its_997_queued(api: TestClient, hub: Hub) -> None:
    body = post_x12(api, hub, interchange([("855", ACK_855)]))

    assert (body["format"], body["status"], body["acknowledgments"], body["status_reason"]) == (
        "x12", "processed", 1, None,
    )  # fmt: skip
    assert len(events(hub.engine, "purchasing.order.acknowledged")) == 1


def test_an_x12_body_from_an_unknown_sender_is_parked_with_the_reason(
    api: TestClient, hub: Hub
) -> None:
    body = post_x12(api, hub, interchange([("855", ACK_855)], sender="STRANGER"))

    assert (body["status"], body["acknowledgments"]) == ("parked", 0)
    assert body["status_reason"].startswith("unknown sender: ISA06 'STRANGER'")


def test_expected_receipts_list_the_ship_notice_with_its_lines(api: TestClient, hub: Hub) -> None:
    expected_id = noticed(api, hub)

    one = api.get(
        f"{EXPECTED}/{expected_id}", headers=bearer(hub, {Scope.SYSTEM_READ}, [FACILITY])
    ).json()
    assert (one["number"], one["status"], one["purchase_order_number"]) == (
        "SHIP-77", "expected", "PO-1001",
    )  # fmt: skip
    assert [(line["item_id"], line["serial"]) for line in one["lines"]] == [
        ("item-gauze", None), ("item-screw", "SER-1"), ("item-screw", "SER-2"),
        ("item-screw", "SER-3"),
    ]  # fmt: skip


def test_the_dock_receives_a_ship_notice_and_the_receipt_is_audited(
    api: TestClient, hub: Hub
) -> None:
    expected_id = noticed(api, hub)
    headers = bearer(hub, {Scope.PROCESS_EXECUTE}, [FACILITY])

    answer = api.post(
        RECEIPTS,
        json={"expected_receipt_id": expected_id, "lines": [{"line_number": 1, "quantity": "4"}]},
        headers=headers,
    )

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["number"], body["location_id"], len(body["lines"])) == (
        "RCV-SHIP-77", CENTRAL, 4,
    )  # fmt: skip
    with hub.uow_factory() as uow:
        position = uow.stock.get(CENTRAL, "item-gauze")
    assert position is not None
    assert position.on_hand == Decimal(40)
    (record,) = hub.audit.list(action="receipt.record")
    assert (record.entry.target_id, record.entry.after) == (
        expected_id, f"receipt={body['id']} lines=4",
    )  # fmt: skip
    assert len(events(hub.engine, "purchasing.receipt.recorded")) == 1


def test_a_receipt_beyond_what_the_po_left_open_reports_the_over_receipt(
    api: TestClient, hub: Hub
) -> None:
    """The dock saw 201 and nothing else: the over-receipt's exception was the only trace."""
    expected_id = noticed(api, hub)
    headers = bearer(hub, {Scope.PROCESS_EXECUTE}, [FACILITY])

    answer = api.post(
        RECEIPTS,
        json={"expected_receipt_id": expected_id, "lines": [{"line_number": 1, "quantity": "7"}]},
        headers=headers,
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["over_receipts"] == [
        {
            "po_line_number": 1, "item_id": "item-gauze", "uom": "BX", "ordered": "5",
            "received_before": "0", "open": "5", "received_now": "7", "excess": "2",
        }
    ]  # fmt: skip


def test_a_receipt_within_the_po_reports_no_over_receipt(api: TestClient, hub: Hub) -> None:
    expected_id = noticed(api, hub)
    headers = bearer(hub, {Scope.PROCESS_EXECUTE}, [FACILITY])

    answer = api.post(RECEIPTS, json={"expected_receipt_id": expected_id}, headers=headers)

    assert answer.status_code == 201, answer.text
    assert answer.json()["over_receipts"] == []


def test_receiving_at_a_facility_outside_the_client_is_403_and_audited_as_denied(
    api: TestClient, hub: Hub
) -> None:
    expected_id = noticed(api, hub)

    answer = api.post(
        RECEIPTS,
        json={"expected_receipt_id": expected_id},
        headers=bearer(hub, {Scope.PROCESS_EXECUTE}, ["fac-other"]),
    )

    assert answer.status_code == 403
    (record,) = hub.audit.list(action="receipt.record")
    assert record.entry.outcome is Outcome.DENIED
    assert events(hub.engine, "purchasing.receipt.recorded") == []


def test_receiving_an_unknown_notice_is_404_and_a_bad_line_is_422(
    api: TestClient, hub: Hub
) -> None:
    headers = bearer(hub, {Scope.PROCESS_EXECUTE}, [ALL_FACILITIES])
    expected_id = noticed(api, hub)

    missing = api.post(RECEIPTS, json={"expected_receipt_id": "nope"}, headers=headers)
    stray = api.post(
        RECEIPTS,
        json={"expected_receipt_id": expected_id, "lines": [{"line_number": 9, "quantity": "1"}]},
        headers=headers,
    )

    assert missing.status_code == 404
    assert stray.status_code == 422
    assert stray.json()["errors"] == [
        {"field": "line_number", "reason": "ship notice SHIP-77 has no line 9"}
    ]


def test_a_receipt_naming_a_line_twice_is_422_and_receives_nothing(
    api: TestClient, hub: Hub
) -> None:
    """Two counts of one line (two pallets?) kept only the last: 2 of the 5 boxes vanished."""
    headers = bearer(hub, {Scope.PROCESS_EXECUTE}, [ALL_FACILITIES])
    expected_id = noticed(api, hub)
    twice = [{"line_number": 1, "quantity": "2"}, {"line_number": 1, "quantity": "3"}]

    answer = api.post(RECEIPTS, json={"expected_receipt_id": expected_id, "lines": twice},
                      headers=headers)  # fmt: skip

    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "lines[1].line_number", "reason": "line 1 is counted twice; give it once"}
    ]
    assert events(hub.engine, "purchasing.receipt.recorded") == []


def invoice_body(**overrides: Any) -> dict[str, Any]:
    return {
        "number": "INV-9", "invoice_date": "2025-03-05", "purchase_order_number": "PO-1001",
        "lines": [
            {"po_line_number": 1, "quantity": "5", "uom": "BX", "unit_price": "12.50"},
            {"supplier_part_number": "ACME-S45", "quantity": "3", "uom": "EA",
             "unit_price": "250.00"},
        ],
        "freight": "10.00",
    } | overrides  # fmt: skip


def test_a_supplier_submits_an_invoice_filed_like_an_810(api: TestClient, hub: Hub) -> None:
    headers = bearer(hub, {Scope.EXPERIENCE_SUPPLIER}, [ALL_FACILITIES], SUPPLIER)

    answer = api.post(f"{SUPPLIER_API}/invoices", json=invoice_body(), headers=headers)
    again = api.post(f"{SUPPLIER_API}/invoices", json=invoice_body(), headers=headers)

    assert answer.status_code == 201, answer.text
    invoice_id = answer.json()["invoice_id"]
    assert again.json() == answer.json() | {"duplicate": True}
    assert events(hub.engine, "purchasing.invoice.received") == [
        {
            "invoice_id": invoice_id, "invoice_number": "INV-9", "supplier_id": SUPPLIER,
            "facility_id": FACILITY, "purchase_order_number": "PO-1001", "amount": "822.50",
        }
    ]  # fmt: skip
    listed = api.get(f"{SUPPLIER_API}/invoices", headers=headers).json()["items"]
    (mine,) = listed
    # PO-1001 orders the screw on two lines: which one this bills is the match's to decide
    assert [(line["item_id"], line["po_line_number"]) for line in mine["lines"]] == [
        ("item-gauze", 1), ("item-screw", None),
    ]  # fmt: skip
    assert mine["freight"] == "10.0000"
    assert hub.inbox.get(answer.json()["message_id"]).status == "processed"


def test_an_invoice_naming_no_known_po_nor_facility_is_422_and_kept_failed(
    api: TestClient, hub: Hub
) -> None:
    headers = bearer(hub, {Scope.EXPERIENCE_SUPPLIER}, [ALL_FACILITIES], SUPPLIER)

    answer = api.post(
        f"{SUPPLIER_API}/invoices",
        json=invoice_body(purchase_order_number="PO-404"),
        headers=headers,
    )

    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {
            "field": "purchase_order_number",
            "reason": "invoice INV-9: PO PO-404 is not known and no N1*ST, BT or BY names a "
            "facility",
        }
    ]
    (failed,) = hub.inbox.list(interface="supplier-api")
    assert failed.status == "failed"


def test_an_invoice_for_a_facility_outside_the_suppliers_client_is_403(
    api: TestClient, hub: Hub
) -> None:
    headers = bearer(hub, {Scope.EXPERIENCE_SUPPLIER}, ["fac-other"], SUPPLIER)

    answer = api.post(f"{SUPPLIER_API}/invoices", json=invoice_body(), headers=headers)

    assert answer.status_code == 403
    assert events(hub.engine, "purchasing.invoice.received") == []


def test_a_supplier_sees_its_acknowledgments_and_not_another_suppliers(
    api: TestClient, hub: Hub
) -> None:
    post_x12(api, hub, interchange([("855", ACK_855)]))
    ours = bearer(hub, {Scope.EXPERIENCE_SUPPLIER}, [ALL_FACILITIES], SUPPLIER)
    theirs = bearer(hub, {Scope.EXPERIENCE_SUPPLIER}, [ALL_FACILITIES], "sup-zed")

    (po,) = api.get(f"{SUPPLIER_API}/acknowledgments", headers=ours).json()["items"]
    other = api.get(f"{SUPPLIER_API}/acknowledgments", headers=theirs).json()["items"]

    assert (po["number"], po["status"]) == ("PO-1001", "acknowledged")
    assert [(line["acknowledgment"], line["expected_date"]) for line in po["lines"]] == [
        ("accepted", None), ("backordered", "2025-03-15"), ("rejected", None),
        ("price_changed", None),
    ]  # fmt: skip
    assert other == []


def test_a_supplier_sees_its_ship_notices_become_receipts(api: TestClient, hub: Hub) -> None:
    expected_id = noticed(api, hub)
    ours = bearer(hub, {Scope.EXPERIENCE_SUPPLIER}, [ALL_FACILITIES], SUPPLIER)
    before = api.get(f"{SUPPLIER_API}/receipts", headers=ours).json()["items"]
    api.post(
        RECEIPTS,
        json={"expected_receipt_id": expected_id},
        headers=bearer(hub, {Scope.PROCESS_EXECUTE}, [ALL_FACILITIES]),
    )

    (after,) = api.get(f"{SUPPLIER_API}/receipts", headers=ours).json()["items"]

    assert [(r["number"], r["status"], r["receipt_id"]) for r in before] == [
        ("SHIP-77", "expected", None)
    ]
    assert (after["status"], after["receipt_id"] is not None) == ("received", True)


def drain(hub: Hub) -> None:
    """Run the bus until no work is due (what `suture serve`'s dispatcher does)."""
    for _ in range(20):
        if hub.bus.run_once() == 0:
            return


def test_mapping_an_unknown_sender_re_drives_its_parked_interchange(
    api: TestClient, hub: Hub
) -> None:
    parked = post_x12(api, hub, interchange([("855", ACK_855)], sender="ACME-VAN-7"))
    drain(hub)
    assert hub.inbox.get(parked["message_id"]).status == "parked"

    mapped = api.post(
        "/api/v1/process/crosswalks",
        json={"kind": "supplier", "source_system": "x12", "facility_id": None,
              "local_code": "ACME-VAN-7", "canonical_id": SUPPLIER},
        headers=bearer(hub, {Scope.PROCESS_EXECUTE}, [ALL_FACILITIES]),
    )  # fmt: skip
    drain(hub)

    assert mapped.status_code == 201, mapped.text
    assert mapped.json()["redriven"] == 1
    assert hub.inbox.get(parked["message_id"]).status == "processed"
    assert len(events(hub.engine, "purchasing.order.acknowledged")) == 1
    with hub.uow_factory() as uow:
        (item,) = uow.exceptions.list(type=ExceptionType.UNKNOWN_SUPPLIER)
        queued = uow.deliveries.list(target=f"x12:{SUPPLIER}")
    assert item.status is ExceptionStatus.RESOLVED
    assert len(queued) == 1


def test_a_failed_interchange_retried_from_the_exception_queue_applies_once_fixed(
    api: TestClient, hub: Hub
) -> None:
    failed = post_x12(api, hub, interchange([("855", ACK_855), ("855", ["BAK*00*AC"])]))
    assert failed["status"] == "failed"
    with hub.uow_factory() as uow:
        (item,) = uow.exceptions.list(type=ExceptionType.MALFORMED_MESSAGE)

    hub.work_queue.retry(item.id, by="analyst")
    drain(hub)

    # the broken set is still broken: the item is open again, the good set was not applied twice
    with hub.uow_factory() as uow:
        again = uow.exceptions.get(item.id)
    assert again is not None
    assert again.status is ExceptionStatus.OPEN
    assert hub.inbox.get(failed["message_id"]).status == "failed"
    assert len(events(hub.engine, "purchasing.order.acknowledged")) == 1
