"""Publishing an event's model: typed code hands the bus the model that validated itself.

``MessageBus.envelope`` given a registered model builds the envelope from the model's JSON-mode
dump at the model's version, and publishing does not read the payload against the registry
again; a dict (an untrusted edge) is still validated on publish, and refused with the field
named. The envelope says which registry vouched for it; a copy or a changed envelope never
says so. Also here: the handlers an event goes to, decided once per type where the type alone
decides, and event by event where a rule reading the payload names a handler.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.eventlog.envelope import Envelope
from suture.eventlog.errors import EnvelopeError, PayloadError, SchemaError
from suture.eventlog.events import (
    SupplyUsageRecorded,
    SupplyUsageRecordedV1,
    UsageCosted,
    build_registry,
)
from suture.eventlog.ids import uuid7
from suture.eventlog.routing import load_policy
from suture.services.handlers import HandlerContext
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork

AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
INVENTORY = "inventory"
LEGACY = "legacy_mms_export"


@pytest.fixture
def uow(tmp_path: Path, sqlite_template: Path) -> Iterator[Callable[[], UnitOfWork]]:
    path = tmp_path / "bus.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    yield lambda: SqlAlchemyUnitOfWork(engine)
    engine.dispose()


def ignore(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    """A handler with no effect: these tests look at what is appended for it."""


POLICY = """
- name: usage-to-inventory
  match: {type: "supply.usage.*"}
  destinations: [inventory]
- name: medical-usage-at-fac-1
  match: {type: "supply.usage.*", facility: [fac-1], item_category: ["42*"]}
  destinations: [legacy_mms_export]
- name: costed-to-reconciliation
  match: {type: finance.usage.costed}
  destinations: [charge_reconciliation]
"""


def make_bus(uow: Callable[[], UnitOfWork], *handlers: str) -> MessageBus:
    names = handlers or (INVENTORY,)
    policy = load_policy(
        POLICY, "test.yaml", destinations=[INVENTORY, LEGACY, "charge_reconciliation"]
    )
    return MessageBus(
        uow, dict.fromkeys(names, ignore), policy=policy, registry=build_registry(),
        clock=lambda: AT,
    )  # fmt: skip


def usage(
    usage_id: str = "U-1", facility: str = "fac-2", category: str = "42132203"
) -> SupplyUsageRecorded:
    return SupplyUsageRecorded(
        usage_id=usage_id, facility_id=facility, location_id="LOC", item_id="ITEM",
        item_category=category, quantity=Decimal("2.50"), uom="EA", used_at=AT,
    )  # fmt: skip


def stored(bus: MessageBus, envelope: Envelope) -> Envelope | None:
    with bus.uow() as u:
        return u.events.get(str(envelope.id))


def test_an_event_built_from_its_model_is_stored_as_its_dump_would_be(
    uow: Callable[[], UnitOfWork],
) -> None:
    bus = make_bus(uow)
    typed = bus.envelope("supply.usage.recorded", usage("U-1"), idempotency_key="a",
                         correlation_id="E")  # fmt: skip
    dumped = bus.envelope("supply.usage.recorded", usage("U-1").model_dump(mode="json"),
                          idempotency_key="b", correlation_id="E")  # fmt: skip

    with bus.uow() as u:
        assert bus.publish_many(u, [typed, dumped]) == 2
        u.commit()

    read = [stored(bus, typed), stored(bus, dumped)]
    assert [(e.schema_version, e.payload) for e in read if e] == [
        (2, dumped.payload),
        (2, dumped.payload),
    ]


def test_an_event_built_from_its_model_is_vouched_for_by_the_bus_registry_only(
    uow: Callable[[], UnitOfWork],
) -> None:
    bus = make_bus(uow)
    typed = bus.envelope("supply.usage.recorded", usage(), idempotency_key="a", correlation_id="E")
    dumped = bus.envelope(
        "supply.usage.recorded", usage().model_dump(mode="json"), idempotency_key="b",
        correlation_id="E",
    )  # fmt: skip

    assert [
        typed.validated_by(bus.registry),
        typed.validated_by(build_registry()),
        typed.validated_by(None),
        replace(typed, payload={**typed.payload, "quantity": "x"}).validated_by(bus.registry),
        dumped.validated_by(bus.registry),
    ] == [True, False, False, False, False]


def test_an_old_version_model_is_published_at_its_own_version(
    uow: Callable[[], UnitOfWork],
) -> None:
    bus = make_bus(uow)
    old = SupplyUsageRecordedV1(
        usage_id="U-1", facility_id="fac-2", location_id="LOC", item_id="ITEM",
        quantity=Decimal(3), used_at=AT,
    )  # fmt: skip
    envelope = bus.envelope("supply.usage.recorded", old, idempotency_key="a", correlation_id="E")

    with bus.uow() as u:
        bus.publish(u, envelope)
        u.commit()

    found = stored(bus, envelope)
    assert found is not None
    assert (found.schema_version, found.payload["quantity"]) == (1, "3")


def test_a_model_of_another_type_or_version_is_refused(uow: Callable[[], UnitOfWork]) -> None:
    bus = make_bus(uow)

    with pytest.raises(SchemaError) as other_type:
        bus.envelope("finance.usage.costed", usage(), idempotency_key="a", correlation_id="E")
    with pytest.raises(SchemaError) as other_version:
        bus.envelope("supply.usage.recorded", usage(), idempotency_key="a", correlation_id="E",
                     schema_version=1)  # fmt: skip

    assert [str(other_type.value), str(other_version.value)] == [
        "payload: a SupplyUsageRecorded is supply.usage.recorded/v2, not finance.usage.costed",
        "payload: a SupplyUsageRecorded is supply.usage.recorded/v2, not supply.usage.recorded/v1",
    ]


def test_an_untrusted_payload_is_still_refused_on_publish_naming_the_field(
    uow: Callable[[], UnitOfWork],
) -> None:
    bus = make_bus(uow)
    good = bus.envelope("supply.usage.recorded", usage("U-1"), idempotency_key="a",
                        correlation_id="E")  # fmt: skip
    bad = bus.envelope(
        "supply.usage.recorded", {**usage("U-2").model_dump(mode="json"), "quantity": "two"},
        idempotency_key="b", correlation_id="E",
    )  # fmt: skip

    with bus.uow() as u, pytest.raises(PayloadError) as refused:
        bus.publish_many(u, [good, bad])

    assert (refused.value.field, stored(bus, good)) == ("payload.quantity", None)


def test_a_vouched_envelope_still_refuses_an_empty_field_a_naive_time_or_a_float() -> None:
    registry = build_registry()
    fields = {
        "id": uuid7(AT), "type": "supply.usage.recorded", "schema_version": 2,
        "occurred_at": AT, "recorded_at": AT, "source_system": "epic", "source_facility": None,
        "trace_id": "t", "correlation_id": "c", "causation_id": None, "idempotency_key": "k",
        "payload": usage().model_dump(mode="json"), "validated_by": registry,
    }  # fmt: skip
    refused = []
    for change in (
        {"trace_id": ""},
        {"occurred_at": AT.replace(tzinfo=None)},
        {"payload": {"amount": 1.5}},
    ):
        with pytest.raises(EnvelopeError) as error:
            Envelope.of_valid_payload(**{**fields, **change})  # type: ignore[arg-type]
        refused.append(error.value.field)

    assert refused == ["trace_id", "occurred_at", "payload.amount"]


def test_the_type_alone_routes_an_event_when_no_rule_reading_the_payload_names_a_handler(
    uow: Callable[[], UnitOfWork],
) -> None:
    bus = make_bus(uow, INVENTORY)
    at_fac_1 = bus.envelope("supply.usage.recorded", usage("U-1", facility="fac-1"),
                            idempotency_key="a", correlation_id="E")  # fmt: skip
    costed = bus.envelope(
        "finance.usage.costed",
        UsageCosted(usage_id="U-1", facility_id="fac-1", item_id="I", department_id="D",
                    cost_center_id="CC", amount=Decimal(1)),
        idempotency_key="b", correlation_id="E",
    )  # fmt: skip

    assert [bus.subscribers(at_fac_1), bus.subscribers(costed)] == [[INVENTORY], []]


def test_a_rule_reading_the_payload_that_names_a_handler_routes_event_by_event(
    uow: Callable[[], UnitOfWork],
) -> None:
    bus = make_bus(uow, INVENTORY, LEGACY)
    events = [
        bus.envelope("supply.usage.recorded", usage(f"U-{n}", facility=facility, category=category),
                     idempotency_key=str(n), correlation_id="E")
        for n, (facility, category) in enumerate(
            [("fac-1", "42132203"), ("fac-2", "42132203"), ("fac-1", "51101500")]
        )
    ]  # fmt: skip

    assert [bus.subscribers(e) for e in events] == [[INVENTORY, LEGACY], [INVENTORY], [INVENTORY]]
