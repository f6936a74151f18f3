"""Experience APIs over HTTP on a real hub (SQLite): supplier self-service and the dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.domain.exceptions import ExceptionType
from suture.domain.invoicing import Invoice, InvoiceLine, InvoiceStatus
from suture.domain.masterdata import Facility, Supplier
from suture.domain.purchasing import PurchaseOrder, PurchaseOrderLine
from suture.entrypoints.api.app import create_app
from suture.services.exceptions import open_exception

SUPPLIER = "/api/v1/experience/supplier"


def order(number: str, supplier: str) -> PurchaseOrder:
    return PurchaseOrder(
        id=f"po-{number}", number=number, facility_id="fac-a", supplier_id=supplier,
        order_date=date(2026, 3, 2),
        lines=[PurchaseOrderLine(line_number=1, item_id="item-1", quantity=Decimal(1), uom="EA",
                                 unit_price=Decimal("10"))],
    )  # fmt: skip


def invoice(number: str, supplier: str, status: InvoiceStatus) -> Invoice:
    return Invoice(
        id=f"inv-{number}", number=number, supplier_id=supplier, facility_id="fac-a",
        invoice_date=date(2026, 3, 9), status=status,
        lines=[InvoiceLine(line_number=1, item_id="item-1", quantity=Decimal(1), uom="EA",
                           unit_price=Decimal("10"))],
    )  # fmt: skip


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", erp_outbox_dir=tmp_path / "out")
    )
    with built.uow_factory() as uow:
        uow.facilities.add(Facility(id="fac-a", code="GH", name="General"))
        uow.suppliers.add_many(
            [Supplier(id="sup-1", name="Acme"), Supplier(id="sup-2", name="Zed")]
        )
        uow.purchase_orders.add_many([order("PO-1", "sup-1"), order("PO-2", "sup-2")])
        uow.invoices.add_many(
            [
                invoice("I-1", "sup-1", InvoiceStatus.MATCHED),
                invoice("I-2", "sup-1", InvoiceStatus.EXCEPTION),
                invoice("I-3", "sup-2", InvoiceStatus.PAID),
            ]
        )
        open_exception(
            uow, type=ExceptionType.DUPLICATE_INVOICE, facility_id="fac-a",
            reason="invoice I-2 repeats I-1", at=built.clock(), correlation_id="I-2",
        )  # fmt: skip
        uow.commit()
    yield built
    built.close()


@pytest.fixture
def api(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as client:
        yield client


def bearer(hub: Hub, scopes: set[Scope], supplier: str | None = None) -> dict[str, str]:
    created = hub.clients.create("x", scopes, [ALL_FACILITIES], supplier_id=supplier)
    return {"authorization": f"Bearer {hub.tokens.issue(created.client).access_token}"}


def test_a_supplier_sees_its_own_purchase_orders_only(api: TestClient, hub: Hub) -> None:
    headers = bearer(hub, {Scope.EXPERIENCE_SUPPLIER}, supplier="sup-1")
    body = api.get(f"{SUPPLIER}/purchase-orders", headers=headers).json()
    assert [po["number"] for po in body["items"]] == ["PO-1"]
    assert api.get(f"{SUPPLIER}/purchase-orders/po-PO-2", headers=headers).status_code == 403


def test_a_supplier_sees_its_invoices_with_their_match_status(api: TestClient, hub: Hub) -> None:
    headers = bearer(hub, {Scope.EXPERIENCE_SUPPLIER}, supplier="sup-1")
    body = api.get(f"{SUPPLIER}/invoices", headers=headers).json()
    assert [(i["number"], i["status"]) for i in body["items"]] == [
        ("I-1", "matched"),
        ("I-2", "exception"),
    ]
    only = api.get(f"{SUPPLIER}/invoices", params={"status": "exception"}, headers=headers)
    assert [i["number"] for i in only.json()["items"]] == ["I-2"]
    assert api.get(f"{SUPPLIER}/invoices/inv-I-3", headers=headers).status_code == 403


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (
            "purchase-orders",
            "draft, sent, acknowledged, partially_received, received, closed, cancelled",
        ),
        (
            "acknowledgments",
            "draft, sent, acknowledged, partially_received, received, closed, cancelled",
        ),
        ("invoices", "received, matched, exception, approved, paid"),
        ("invoice-status", "received, matched, exception, approved, paid"),
        ("receipts", "expected, received"),
    ],
)
def test_a_supplier_list_refuses_an_unknown_status_naming_the_allowed_values(
    api: TestClient, hub: Hub, path: str, allowed: str
) -> None:
    headers = bearer(hub, {Scope.EXPERIENCE_SUPPLIER}, supplier="sup-1")
    answer = api.get(f"{SUPPLIER}/{path}", params={"status": "exceptions"}, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "query.status", "reason": f"Value error, must be one of: {allowed}"}
    ]


def test_the_supplier_filter_cannot_be_widened(api: TestClient, hub: Hub) -> None:
    headers = bearer(hub, {Scope.EXPERIENCE_SUPPLIER}, supplier="sup-1")
    answer = api.get(f"{SUPPLIER}/invoices", params={"supplier_id": "sup-2"}, headers=headers)
    assert [i["number"] for i in answer.json()["items"]] == ["I-1", "I-2"]


def test_the_dashboard_reports_exceptions_and_governance(api: TestClient, hub: Hub) -> None:
    answer = api.get("/api/v1/experience/dashboard", headers=bearer(hub, {Scope.SYSTEM_READ}))
    assert answer.status_code == 200
    body = answer.json()
    assert body["open_exceptions"] == {"duplicate_invoice": 1}
    assert body["governance"]["registered"] == 0
    assert body["governance"]["governed_share"] is None


def test_the_dashboard_needs_every_facility(api: TestClient, hub: Hub) -> None:
    created = hub.clients.create("x", {Scope.SYSTEM_READ}, ["fac-a"])
    headers = {"authorization": f"Bearer {hub.tokens.issue(created.client).access_token}"}
    assert api.get("/api/v1/experience/dashboard", headers=headers).status_code == 403
