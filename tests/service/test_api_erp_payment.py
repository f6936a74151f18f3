"""The ERP's payment of an invoice over HTTP (docs/erp.md, "Payment status"): the System API
and the supplier's Experience API read it from the ERP at the request. The hub is real
(SQLite); the ERP is a scripted fake behind the real ``ErpPayments``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from match_world import (
    World,
    invoice_line,
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
from suture.services.erp import ErpUnavailableError, PaymentState, PaymentStatus
from suture.services.erp_payments import ErpPayments

SYSTEM = "/api/v1/system/invoices/{}/payment"
SUPPLIER = "/api/v1/experience/supplier/invoices/{}/payment"


@dataclass
class PayingErp:
    """An ERP that reports an amount to pay, or has paid, or cannot be reached."""

    paid: set[str] = field(default_factory=set)
    down: bool = False

    def payment_status(self, invoice_number: str, supplier_id: str) -> PaymentStatus:
        if self.down:
            raise ErpUnavailableError("target", "Tryton: connection refused")
        if invoice_number in self.paid:
            return PaymentStatus(
                invoice_number=invoice_number, state=PaymentState.PAID, amount_to_pay=Decimal(0)
            )
        return PaymentStatus(
            invoice_number=invoice_number, state=PaymentState.POSTED,
            amount_to_pay=Decimal("100.00"),
        )  # fmt: skip


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", erp_outbox_dir=tmp_path / "out")
    )
    yield built
    built.close()


@pytest.fixture
def erp(hub: Hub) -> PayingErp:
    fake = PayingErp()
    hub.erp_payments = ErpPayments(hub.uow_factory, fake)  # type: ignore[arg-type]
    return fake


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


def number(hub: Hub, invoice_id: str) -> str:
    with hub.uow_factory() as uow:
        invoice = uow.invoices.get(invoice_id)
    assert invoice is not None
    return invoice.number


def headers(hub: Hub, scopes: set[Scope], facilities: list[str], supplier: str | None = None
            ) -> dict[str, str]:  # fmt: skip
    created = hub.clients.create("erp-payment", scopes, facilities, supplier_id=supplier)
    return {"authorization": f"Bearer {hub.tokens.issue(created.client).access_token}"}


def test_the_system_api_shows_the_erps_state_and_amount_to_pay_beside_suture_s_status(
    api: TestClient, hub: Hub, erp: PayingErp, world: World
) -> None:
    reader = headers(hub, {Scope.SYSTEM_READ}, [world.facility_id])

    answer = api.get(SYSTEM.format(world.invoice_id("A")), headers=reader)

    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body == {
        "invoice_id": world.invoice_id("A"), "invoice_number": number(hub, world.invoice_id("A")),
        "supplier_id": world.supplier_id, "invoice_status": "received", "erp_state": "posted",
        "amount_to_pay": "100.00", "note": None,
    }  # fmt: skip


def test_the_supplier_sees_its_invoice_paid_by_the_erp_and_another_supplier_is_refused(
    api: TestClient, hub: Hub, erp: PayingErp, world: World
) -> None:
    hub.matching.run(world.invoice_id("A"))
    erp.paid.add(number(hub, world.invoice_id("A")))
    supplier = headers(hub, {Scope.EXPERIENCE_SUPPLIER}, [world.facility_id], world.supplier_id)
    other = headers(hub, {Scope.EXPERIENCE_SUPPLIER}, [world.facility_id], "another-supplier")

    mine = api.get(SUPPLIER.format(world.invoice_id("A")), headers=supplier)
    theirs = api.get(SUPPLIER.format(world.invoice_id("A")), headers=other)

    assert mine.status_code == 200, mine.text
    assert (mine.json()["erp_state"], mine.json()["amount_to_pay"]) == ("paid", "0")
    assert mine.json()["invoice_status"] == "matched"  # a GET reads: the sync marks it paid
    assert theirs.status_code == 403


def test_a_payment_read_changes_nothing_and_the_sync_marks_what_the_erp_paid(
    api: TestClient, hub: Hub, erp: PayingErp, world: World
) -> None:
    hub.matching.run(world.invoice_id("A"))
    erp.paid.add(number(hub, world.invoice_id("A")))
    reader = headers(hub, {Scope.SYSTEM_READ}, [world.facility_id])
    invoice = f"/api/v1/system/invoices/{world.invoice_id('A')}"

    read = [api.get(SYSTEM.format(world.invoice_id("A")), headers=reader) for _ in range(2)]
    before = api.get(invoice, headers=reader).json()["status"]
    assert hub.erp_payments is not None
    synced = hub.erp_payments.sync()
    after = api.get(SYSTEM.format(world.invoice_id("A")), headers=reader)

    assert [r.json()["invoice_status"] for r in read] == ["matched", "matched"]
    assert [r.json()["erp_state"] for r in read] == ["paid", "paid"]
    assert before == "matched"
    assert (synced.checked, synced.paid) == (1, 1)
    assert after.json()["invoice_status"] == "paid"


def test_an_erp_that_cannot_be_reached_is_a_503_problem_to_retry(
    api: TestClient, hub: Hub, erp: PayingErp, world: World
) -> None:
    erp.down = True
    reader = headers(hub, {Scope.SYSTEM_READ}, [world.facility_id])

    answer = api.get(SYSTEM.format(world.invoice_id("A")), headers=reader)

    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "30"
    assert answer.json()["detail"] == (
        "the ERP is unavailable; retry later: Tryton: connection refused"
    )


def test_an_erp_of_interface_files_cannot_be_read_back_422(
    api: TestClient, hub: Hub, world: World
) -> None:
    reader = headers(hub, {Scope.SYSTEM_READ}, [world.facility_id])

    answer = api.get(SYSTEM.format(world.invoice_id("A")), headers=reader)

    assert answer.status_code == 422
    assert "cannot be read back" in answer.json()["detail"]


def test_an_unknown_invoice_is_a_404(api: TestClient, hub: Hub, erp: PayingErp) -> None:
    answer = api.get(SYSTEM.format("nope"), headers=headers(hub, {Scope.SYSTEM_READ}, ["*"]))

    assert answer.status_code == 404
