"""Schemathesis against the running service's OpenAPI (issue 7, "Done means").

The service runs on a real uvicorn socket over a seeded SQLite hub; Schemathesis reads the
served ``/openapi.json`` and, for every operation, sends generated requests, valid and invalid,
with an all-facilities token holding every scope. Every answer must be free of server errors
and conform to the document: documented status code, content type, response schema and
headers. Hypothesis is derandomized so a run is reproducible.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.domain.masterdata import Facility, Supplier
from suture.domain.purchasing import PurchaseOrder, PurchaseOrderLine
from suture.domain.revenue import Charge
from suture.entrypoints.api.app import create_app
from suture.entrypoints.api.server import HttpThread


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    folder = tmp_path_factory.mktemp("fuzz")
    built = build(
        Settings(
            database_url=f"sqlite:///{folder / 'fuzz.db'}",
            erp_outbox_dir=folder / "out",
            rate_limit_client="1000000/minute",
        )
    )
    with built.uow_factory() as uow:
        uow.facilities.add(Facility(id="fac-a", code="GH", name="General", timezone="UTC"))
        uow.suppliers.add(Supplier(id="sup-1", name="Acme"))
        uow.purchase_orders.add(
            PurchaseOrder(
                id="po-1", number="PO-1", facility_id="fac-a", supplier_id="sup-1",
                order_date=date(2026, 3, 2),
                lines=[PurchaseOrderLine(line_number=1, item_id="item-1", quantity=Decimal(2),
                                         uom="BX", unit_price=Decimal("10.5"))],
            )
        )  # fmt: skip
        uow.charges.add(
            Charge(
                id="chg-1", facility_id="fac-a", encounter_token="tok", cdm_code="CDM100",
                quantity=Decimal(1), amount=Decimal("50"),
                service_at=datetime(2026, 3, 2, tzinfo=UTC),
            )
        )  # fmt: skip
        uow.commit()
    yield built
    built.close()


@pytest.fixture(scope="module")
def base_url(hub: Hub) -> Iterator[str]:
    server = HttpThread(create_app(hub), "127.0.0.1", 0)
    port = server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="module")
def authorization(hub: Hub) -> dict[str, str]:
    scopes = set(Scope) - {Scope.EXPERIENCE_SUPPLIER}  # that one needs a supplier-bound client
    created = hub.clients.create("fuzzer", scopes, [ALL_FACILITIES])
    return {"Authorization": f"Bearer {hub.tokens.issue(created.client).access_token}"}


def test_every_operation_answers_within_its_contract(
    base_url: str, authorization: dict[str, str], tmp_path: Path
) -> None:
    # The CLI rather than the pytest integration: the latter's fixture loader does not run on
    # pytest 9 (schemathesis reads a removed ``_nodeid`` attribute), and the CLI is what an
    # integration engineer runs against a deployed hub anyway.
    ((name, value),) = authorization.items()
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            f"{base_url}/openapi.json",
            "--header",
            f"{name}: {value}",
            "--max-examples",
            "25",
            "--seed",
            "7",
            "--generation-deterministic",
            # Hypothesis gives up on the raw-body operation now and then (a binary body of at
            # least one byte filters many examples); that is about generation, not the API.
            "--suppress-health-check",
            "filter_too_much",
            "--no-color",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
