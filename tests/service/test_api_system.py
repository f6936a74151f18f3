"""The System API's reads over HTTP on a real hub (SQLite): scoping, pages, filters, lookups.

Two facilities and two suppliers; purchase orders across them; charges at both. Each test asks
with a token of a real API client and checks exactly which records come back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.domain.masterdata import Facility, Supplier
from suture.domain.purchasing import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from suture.domain.revenue import Charge
from suture.entrypoints.api.app import create_app

PO = "/api/v1/system/purchase-orders"


def purchase_order(
    number: str, facility: str, supplier: str, day: int, status: str
) -> PurchaseOrder:
    return PurchaseOrder(
        id=f"po-{number}", number=number, facility_id=facility, supplier_id=supplier,
        order_date=date(2026, 3, day), status=PurchaseOrderStatus(status),
        lines=[PurchaseOrderLine(line_number=1, item_id="item-1", quantity=Decimal(2), uom="BX",
                                 unit_price=Decimal("1234.5678"))],
    )  # fmt: skip


def charge(charge_id: str, facility: str) -> Charge:
    return Charge(
        id=charge_id, facility_id=facility, encounter_token="tok-enc", cdm_code="2780001",
        quantity=Decimal(1), amount=Decimal("99.50"),
        service_at=datetime(2026, 3, 9, 12, 0, tzinfo=UTC),
    )  # fmt: skip


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", erp_outbox_dir=tmp_path / "out")
    )
    with built.uow_factory() as uow:
        uow.facilities.add_many(
            [Facility(id=f, code=f.upper(), name=f) for f in ("fac-a", "fac-b")]
        )
        uow.suppliers.add_many([Supplier(id=s, name=s) for s in ("sup-1", "sup-2")])
        uow.purchase_orders.add_many(
            [
                purchase_order("PO-1", "fac-a", "sup-1", 2, "sent"),
                purchase_order("PO-2", "fac-b", "sup-1", 3, "acknowledged"),
                purchase_order("PO-3", "fac-a", "sup-2", 20, "sent"),
            ]
        )
        uow.charges.add_many([charge("chg-a", "fac-a"), charge("chg-b", "fac-b")])
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
    created = hub.clients.create("test", scopes, facilities, supplier_id=supplier)
    return {"authorization": f"Bearer {hub.tokens.issue(created.client).access_token}"}


def numbers(body: dict[str, Any]) -> list[str]:
    return [record["number"] for record in body["items"]]


def test_a_facility_token_lists_only_its_facilitys_purchase_orders(
    api: TestClient, hub: Hub
) -> None:
    answer = api.get(PO, headers=bearer(hub, {Scope.SYSTEM_READ}, ["fac-a"]))
    assert answer.status_code == 200
    assert numbers(answer.json()) == ["PO-1", "PO-3"]


def test_an_all_facilities_token_lists_every_purchase_order_with_decimal_strings(
    api: TestClient, hub: Hub
) -> None:
    body = api.get(PO, headers=bearer(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES])).json()
    assert numbers(body) == ["PO-1", "PO-2", "PO-3"]
    assert body["items"][0]["lines"] == [
        {"line_number": 1, "item_id": "item-1", "quantity": "2.0000", "uom": "BX",
         "unit_price": "1234.5678", "contract_id": None, "off_contract": False,
         "acknowledgment": None,
         "acknowledged_quantity": None, "acknowledged_unit_price": None, "expected_date": None,
         "received_quantity": "0"}
    ]  # fmt: skip
    assert body["next_cursor"] is None


def test_pages_follow_the_cursor_to_the_end(api: TestClient, hub: Hub) -> None:
    headers = bearer(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES])
    first = api.get(PO, params={"limit": 2}, headers=headers).json()
    second = api.get(PO, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers)
    assert numbers(first) == ["PO-1", "PO-2"]
    assert (numbers(second.json()), second.json()["next_cursor"]) == (["PO-3"], None)


def test_a_cursor_this_service_did_not_issue_is_a_422_naming_the_cursor(
    api: TestClient, hub: Hub
) -> None:
    answer = api.get(
        PO, params={"cursor": "%%%"}, headers=bearer(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES])
    )
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["query.cursor"]


def test_status_number_and_date_filters_narrow_the_list(api: TestClient, hub: Hub) -> None:
    headers = bearer(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES])
    assert numbers(api.get(PO, params={"status": "sent"}, headers=headers).json()) == [
        "PO-1",
        "PO-3",
    ]
    assert numbers(api.get(PO, params={"number": "PO-2"}, headers=headers).json()) == ["PO-2"]
    in_range = api.get(PO, params={"since": "2026-03-03", "until": "2026-03-19"}, headers=headers)
    assert numbers(in_range.json()) == ["PO-2"]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("requisitions", "draft, pending_approval, approved, rejected, ordered"),
        (
            "purchase-orders",
            "draft, sent, acknowledged, partially_received, received, closed, cancelled",
        ),
        ("expected-receipts", "expected, received"),
        ("invoices", "received, matched, exception, approved, paid"),
    ],
)
def test_an_unknown_status_filter_is_a_422_naming_the_allowed_values(
    api: TestClient, hub: Hub, path: str, allowed: str
) -> None:
    headers = bearer(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES])
    answer = api.get(f"/api/v1/system/{path}", params={"status": "Sent "}, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "query.status", "reason": f"Value error, must be one of: {allowed}"}
    ]


def test_an_unknown_facility_or_supplier_filter_is_a_422_not_an_empty_page(
    api: TestClient, hub: Hub
) -> None:
    headers = bearer(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES])
    answer = api.get(PO, params={"facility_id": "FAC-A", "supplier_id": "sup-9"}, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "query.facility_id", "reason": "no such facility"},
        {"field": "query.supplier_id", "reason": "no such supplier"},
    ]


def test_a_known_facility_filter_with_no_records_is_an_empty_page(
    api: TestClient, hub: Hub
) -> None:
    headers = bearer(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES])
    answer = api.get("/api/v1/system/journals", params={"facility_id": "fac-a"}, headers=headers)
    assert (answer.status_code, answer.json()) == (200, {"items": [], "next_cursor": None})


def test_asking_for_a_facility_outside_the_token_is_403_not_an_empty_page(
    api: TestClient, hub: Hub
) -> None:
    answer = api.get(
        PO, params={"facility_id": "fac-b"}, headers=bearer(hub, {Scope.SYSTEM_READ}, ["fac-a"])
    )
    assert answer.status_code == 403
    assert "items" not in answer.json()


def test_a_record_of_another_facility_is_403_without_its_data(api: TestClient, hub: Hub) -> None:
    answer = api.get(f"{PO}/po-PO-2", headers=bearer(hub, {Scope.SYSTEM_READ}, ["fac-a"]))
    assert answer.status_code == 403
    assert set(answer.json()) == {"type", "title", "status", "detail", "instance", "errors"}


def test_one_purchase_order_by_id(api: TestClient, hub: Hub) -> None:
    answer = api.get(f"{PO}/po-PO-1", headers=bearer(hub, {Scope.SYSTEM_READ}, ["fac-a"]))
    assert answer.status_code == 200
    assert (answer.json()["number"], answer.json()["supplier_id"]) == ("PO-1", "sup-1")


def test_an_unknown_id_is_404(api: TestClient, hub: Hub) -> None:
    answer = api.get(f"{PO}/po-nope", headers=bearer(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES]))
    assert answer.status_code == 404
    assert answer.json()["detail"] == "no purchase order po-nope"


def test_a_supplier_token_sees_only_its_own_purchase_orders(api: TestClient, hub: Hub) -> None:
    headers = bearer(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES], supplier="sup-1")
    assert numbers(api.get(PO, headers=headers).json()) == ["PO-1", "PO-2"]
    assert api.get(f"{PO}/po-PO-3", headers=headers).status_code == 403


def test_a_supplier_token_may_not_read_records_that_belong_to_no_supplier(
    api: TestClient, hub: Hub
) -> None:
    headers = bearer(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES], supplier="sup-1")
    assert api.get("/api/v1/system/charges", headers=headers).status_code == 403
    assert api.get("/api/v1/system/charges/chg-a", headers=headers).status_code == 403


def test_charges_are_facility_scoped_too(api: TestClient, hub: Hub) -> None:
    body = api.get("/api/v1/system/charges", headers=bearer(hub, {Scope.SYSTEM_READ}, ["fac-b"]))
    assert [c["id"] for c in body.json()["items"]] == ["chg-b"]


def test_system_wide_records_are_visible_to_a_facility_token(api: TestClient, hub: Hub) -> None:
    body = api.get("/api/v1/system/suppliers", headers=bearer(hub, {Scope.SYSTEM_READ}, ["fac-a"]))
    assert [s["id"] for s in body.json()["items"]] == ["sup-1", "sup-2"]


def test_a_token_without_system_read_is_403(api: TestClient, hub: Hub) -> None:
    answer = api.get(PO, headers=bearer(hub, {Scope.PROCESS_EXECUTE}, [ALL_FACILITIES]))
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer.headers["www-authenticate"]


def test_no_token_is_401_with_a_bearer_challenge(api: TestClient) -> None:
    answer = api.get(PO)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_read_is_answered_while_a_writer_holds_the_write_lock(api: TestClient, hub: Hub) -> None:
    headers = bearer(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES])
    with hub.uow_factory() as writer:  # SQLite: BEGIN IMMEDIATE, the write lock is held
        writer.charges.add(charge("chg-c", "fac-a"))
        answer = api.get(PO, headers=headers)
        writer.commit()
    assert answer.status_code == 200
    assert numbers(answer.json()) == ["PO-1", "PO-2", "PO-3"]
