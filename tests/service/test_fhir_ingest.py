"""FhirIngest on SQLite and on PostgreSQL: a transaction Bundle is all or nothing, a batch keeps
what it could apply. Tests stay apart by random facility and item ids (tests/conftest.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fhir_api_support import bundle, charge_item, supply_delivery

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.exceptions import ExceptionType
from suture.domain.masterdata import Facility, Item, Location, LocationKind
from suture.domain.messages import MessageStatus
from suture.domain.units import Packaging, PackagingLevel
from suture.eventlog.events import build_registry
from suture.services.fhir_ingest import FhirIngest
from suture.services.inbox import Inbox
from suture.services.messagebus import MessageBus
from suture.services.phi import PhiTokenizer
from suture.services.queries import RecordQuery

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
Uow = Callable[[], SqlAlchemyUnitOfWork]


@pytest.fixture
def facility(uow: Uow) -> Facility:
    suffix = uuid.uuid4().hex[:12]
    made = Facility(id=f"fac-{suffix}", code=f"F{suffix}", name="General", timezone="UTC")
    with uow() as unit:
        unit.facilities.add(made)
        unit.locations.add(
            Location(id=f"loc-{suffix}", facility_id=made.id, code="OR1", name="OR 1",
                     kind=LocationKind.OPERATING_ROOM)
        )  # fmt: skip
        unit.items.add(
            Item(id=f"item-{suffix}", description="Gauze", manufacturer="Acme",
                 catalog_number=suffix, packaging=Packaging((PackagingLevel("EA", 1),)),
                 purchase_uom="EA")
        )  # fmt: skip
        unit.commit()
    return made


@pytest.fixture
def ingest(uow: Uow) -> FhirIngest:
    bus = MessageBus(uow, handlers={}, clock=lambda: NOW, registry=build_registry())
    return FhirIngest(uow, Inbox(uow), bus, PhiTokenizer("test-secret"), lambda: NOW)


def raw(resource: dict[str, Any]) -> bytes:
    return json.dumps(resource).encode()


def charges_of(uow: Uow, facility: Facility) -> int:
    with uow() as unit:
        return len(unit.charges.find(RecordQuery(facility_ids=[facility.id])))


def test_a_transaction_that_cannot_apply_its_last_entry_stores_none(
    uow: Uow, ingest: FhirIngest, facility: Facility
) -> None:
    unique = uuid.uuid4().hex
    sent = bundle("transaction", charge_item(unique), supply_delivery(item="NOPE"))
    reply = ingest.submit_bundle(raw(sent), facility=facility, source_system="client-1")
    assert reply.status == 422
    assert charges_of(uow, facility) == 0
    stored = ingest_message(uow, reply.message_id)
    assert stored.status is MessageStatus.FAILED
    with uow() as unit:
        (item,) = unit.exceptions.list(facility_id=facility.id)
    assert item.type is ExceptionType.MISSING_ITEM_MAPPING


def test_a_batch_keeps_the_entries_it_could_apply(
    uow: Uow, ingest: FhirIngest, facility: Facility
) -> None:
    item_id = facility.id.replace("fac-", "item-")
    sent = bundle(
        "batch",
        charge_item(uuid.uuid4().hex),
        supply_delivery(item="NOPE"),
        supply_delivery(item=item_id),
    )
    reply = ingest.submit_bundle(raw(sent), facility=facility, source_system="client-1")
    assert [entry.status for entry in reply.entries] == [201, 422, 201]
    assert charges_of(uow, facility) == 1
    with uow() as unit:
        usage = unit.usage.find(RecordQuery(facility_ids=[facility.id]))
    assert [u.item_id for u in usage] == [item_id]
    assert ingest_message(uow, reply.message_id).status is MessageStatus.PROCESSED


def ingest_message(uow: Uow, message_id: str) -> Any:
    with uow() as unit:
        return unit.inbox.get(message_id)
