"""Shared setup of the FHIR endpoint tests: a seeded hub on SQLite, writers' tokens, resources."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import Scope
from suture.domain.masterdata import Facility, Item, Location, LocationKind, Supplier
from suture.domain.units import Packaging, PackagingLevel
from suture.entrypoints.api.app import create_app

FHIR = {"content-type": "application/fhir+json"}
GTIN = "00844588003288"
UDI = f"(01){GTIN}(17)291120(10)LOT7(21)SN1"
UNKNOWN_UDI = "(01)00614141999996(10)LOT1"
MRN = "MRN-448812"
VISIT = "VISIT-99031"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'fhir.db'}", erp_outbox_dir=tmp_path / "out")
    )
    with built.uow_factory() as uow:
        uow.facilities.add_many(
            [
                Facility(id="fac-gh", code="GH", name="General", timezone="UTC"),
                Facility(id="fac-st", code="ST", name="St Mary", timezone="UTC"),
            ]
        )
        uow.suppliers.add(Supplier(id="sup-1", name="Acme", gln="0614141000005"))
        uow.locations.add(
            Location(id="loc-or1", facility_id="fac-gh", code="OR1", name="OR 1",
                     kind=LocationKind.OPERATING_ROOM)
        )  # fmt: skip
        uow.items.add(
            Item(
                id="item-hip", description="Hip stem", manufacturer="Acme", catalog_number="H1",
                packaging=Packaging((PackagingLevel("EA", 1, GTIN),)), purchase_uom="EA",
                supplier_id="sup-1", is_implant=True, unspsc="42295300",
            )
        )  # fmt: skip
        uow.commit()
    yield built
    built.close()


@pytest.fixture
def api(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as client:
        yield client


def writer(hub: Hub, facilities: list[str], scopes: set[Scope] | None = None) -> dict[str, str]:
    created = hub.clients.create("fhir feed", scopes or {Scope.SYSTEM_WRITE}, facilities)
    return FHIR | {"authorization": f"Bearer {hub.tokens.issue(created.client).access_token}"}


def body(resource: dict[str, Any]) -> bytes:
    return json.dumps(resource).encode()


def charge_item(identifier: str = "CI-1", **changes: Any) -> dict[str, Any]:
    return {
        "resourceType": "ChargeItem",
        "identifier": [{"system": "urn:rcm", "value": identifier}],
        "status": "billable",
        "code": {"coding": [{"system": "urn:cdm", "code": "CDM100"}]},
        "subject": {"identifier": {"value": MRN}},
        "context": {"reference": "Encounter/e1", "identifier": {"value": VISIT}},
        "quantity": {"value": 2},
        "priceOverride": {"value": 150.25, "currency": "USD"},
        "occurrenceDateTime": "2026-11-20T10:00:00Z",
    } | changes


def device(hrf: str = UDI, device_id: str = "dev-1") -> dict[str, Any]:
    return {"resourceType": "Device", "id": device_id, "udiCarrier": [{"carrierHRF": hrf}]}


def supplier_invoice(number: str = "INV-77", issuer: str = "0614141000005") -> dict[str, Any]:
    return {
        "resourceType": "Invoice",
        "identifier": [{"value": number}],
        "status": "issued",
        "issuer": {"identifier": {"value": issuer}},
        "date": "2026-11-20",
        "lineItem": [
            {
                "sequence": 1,
                "chargeItemCodeableConcept": {"coding": [{"code": "H1"}]},
                "priceComponent": [
                    {"type": "base", "factor": 2, "amount": {"value": 50, "currency": "USD"}}
                ],
            }
        ],
        "totalGross": {"value": 100, "currency": "USD"},
    }


def patient_invoice() -> dict[str, Any]:
    return {
        "resourceType": "Invoice",
        "identifier": [{"value": "PINV-1"}],
        "status": "issued",
        "subject": {"reference": "Patient/p1", "identifier": {"value": MRN}},
        "totalGross": {"value": 10, "currency": "USD"},
    }


def supply_request(item: str = GTIN) -> dict[str, Any]:
    return {
        "resourceType": "SupplyRequest",
        "identifier": [{"value": "REQ-5"}],
        "status": "active",
        "itemCodeableConcept": {"coding": [{"code": item}]},
        "quantity": {"value": 3, "code": "EA"},
        "authoredOn": "2026-11-20T09:00:00Z",
    }


def supply_delivery(item: str = GTIN, location: str = "OR1") -> dict[str, Any]:
    return {
        "resourceType": "SupplyDelivery",
        "identifier": [{"value": "SD-1"}],
        "status": "completed",
        "suppliedItem": {
            "quantity": {"value": 1, "code": "EA"},
            "itemCodeableConcept": {"coding": [{"code": item}]},
        },
        "occurrenceDateTime": "2026-11-20T11:00:00Z",
        "destination": {"reference": f"Location/{location}"},
    }


def procedure(hrf: str = UDI) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "identifier": [{"value": "PROC-1"}],
        "status": "completed",
        "contained": [device(hrf, "imp")],
        "subject": {"reference": "Patient/p1", "identifier": {"value": MRN}},
        "encounter": {"reference": "Encounter/e1", "identifier": {"value": VISIT}},
        "performedDateTime": "2026-11-20T12:00:00Z",
        "location": {"reference": "Location/OR1"},
        "focalDevice": [{"manipulated": {"reference": "#imp"}}],
    }


def bundle(kind: str, *resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {"resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}
            for resource in resources
        ],
    }


def count(hub: Hub, repository: str) -> int:
    with hub.uow_factory() as uow:
        return len(getattr(uow, repository).list(limit=500))


def raw_of(hub: Hub, message_id: str) -> bytes | None:
    return hub.inbox.get(message_id, with_raw=True).raw


def message_id_of(location: str) -> str:
    return location.rsplit("/", 1)[-1].split(".", 1)[0]


__all__ = ["Decimal"]
