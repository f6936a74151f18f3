"""The schema registry and the event catalog: registering, validating, dumping, exporting."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from suture.domain.crosswalk import CrosswalkKind
from suture.eventlog.envelope import Envelope, from_json, to_json
from suture.eventlog.errors import DependencyKey, PayloadError, SchemaError
from suture.eventlog.events import (
    ChargePosted,
    CrosswalkMapped,
    SupplyUsageRecorded,
    build_registry,
)
from suture.eventlog.schemas import UPCAST_FROM, DecimalString, EventPayload, SchemaRegistry, export

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class Note(EventPayload):
    text: str


class Amount(EventPayload):
    amount: DecimalString


def usage(**changes: Any) -> SupplyUsageRecorded:
    fields: dict[str, Any] = {
        "usage_id": "U-1",
        "facility_id": "fac-1",
        "location_id": "OR-3",
        "item_id": "item-gloves",
        "item_category": "42132203",
        "quantity": Decimal("2"),
        "uom": "BX",
        "used_at": AT,
    }
    return SupplyUsageRecorded(**(fields | changes))


def refusal(action: Any, *args: Any) -> tuple[str, str]:
    with pytest.raises(SchemaError) as caught:
        action(*args)
    return caught.value.field, caught.value.reason


# Registering


def test_registry_refuses_a_version_registered_twice() -> None:
    registry = SchemaRegistry()
    registry.register("note.taken", 1, Note)
    assert refusal(registry.register, "note.taken", 1, Amount) == (
        "note.taken",
        "v1 is already registered",
    )


def test_registry_refuses_one_model_for_two_versions() -> None:
    registry = SchemaRegistry()
    registry.register("note.taken", 1, Note)
    assert refusal(registry.register, "note.taken", 2, Note) == (
        "Note",
        "is already registered for another version",
    )


def test_registry_refuses_a_type_that_is_not_dotted_lowercase() -> None:
    assert refusal(SchemaRegistry().register, "NoteTaken", 1, Note) == (
        "type",
        "'NoteTaken' is not a dotted lowercase event type",
    )


def test_registry_decorator_registers_the_class_and_returns_it() -> None:
    registry = SchemaRegistry()
    decorated = registry.event("note.taken", 1)(Note)
    assert (decorated, registry.key_of(Note(text="x"))) == (Note, ("note.taken", 1))


def test_latest_is_the_highest_registered_version() -> None:
    assert build_registry().latest("supply.usage.recorded") == 2


def test_an_unknown_event_type_is_named() -> None:
    assert refusal(build_registry().latest, "supply.usage.voided") == (
        "type",
        "'supply.usage.voided' is not a registered event type",
    )


def test_an_unknown_version_is_named() -> None:
    assert refusal(build_registry().model, "charge.posted", 3) == (
        "charge.posted",
        "v3 is not a registered version",
    )


def test_the_catalog_has_no_gaps_and_an_upcaster_to_every_later_version() -> None:
    assert build_registry().problems() == []


def test_problems_name_a_skipped_version_and_a_missing_upcaster() -> None:
    registry = SchemaRegistry()
    registry.register("note.taken", 1, Note)
    registry.register("note.taken", 3, Amount)
    assert registry.problems() == [
        "note.taken/v2: missing (versions must not skip)",
        "note.taken/v3: no upcaster from v2",
    ]


# Validating and dumping


def test_validate_names_the_field_and_the_version() -> None:
    registry = build_registry()
    payload = usage().model_dump(mode="json") | {"quantity": 2.5}
    with pytest.raises(PayloadError) as caught:
        registry.validate("supply.usage.recorded", 2, payload)
    assert (caught.value.field, caught.value.reason) == (
        "payload.quantity",
        "Value error, 2.5 is not a decimal string such as '12.50' (supply.usage.recorded/v2)",
    )


def test_validate_counts_the_other_problems() -> None:
    with pytest.raises(PayloadError) as caught:
        build_registry().validate("charge.posted", 1, {})
    assert (caught.value.field, caught.value.reason) == (
        "payload.charge_id",
        "Field required (charge.posted/v1, and 7 more problems)",
    )


def test_an_unknown_field_in_a_payload_is_refused() -> None:
    payload = usage().model_dump(mode="json") | {"colour": "blue"}
    with pytest.raises(PayloadError) as caught:
        build_registry().validate("supply.usage.recorded", 2, payload)
    assert caught.value.field == "payload.colour"


def test_dump_gives_type_version_and_payload_with_decimals_as_plain_strings() -> None:
    assert build_registry().dump(usage(quantity=Decimal("1E+1"))) == (
        "supply.usage.recorded",
        2,
        {
            "usage_id": "U-1",
            "facility_id": "fac-1",
            "location_id": "OR-3",
            "item_id": "item-gloves",
            "item_category": "42132203",
            "supplier_id": None,
            "quantity": "10",
            "uom": "BX",
            "used_at": "2025-03-01T12:00:00Z",
            "encounter_token": None,
            "department_id": None,
            "lot": None,
            "serial": None,
            "consigned": False,
        },
    )


@pytest.mark.parametrize("text", ["12.50", "-3", "1E-7", "0"])
def test_a_decimal_string_reads_exactly(text: str) -> None:
    assert Amount.model_validate({"amount": text}).amount.as_tuple() == Decimal(text).as_tuple()


@pytest.mark.parametrize("value", ["1,000.00", "NaN", "Infinity", True, "1E+31", "", " 1"])
def test_a_decimal_string_refuses_what_is_not_a_plain_finite_decimal(value: object) -> None:
    registry = SchemaRegistry()
    registry.register("amount.noted", 1, Amount)
    with pytest.raises(PayloadError) as caught:
        registry.validate("amount.noted", 1, {"amount": value})
    assert caught.value.field == "payload.amount"


def test_a_decimal_string_read_again_is_the_same_value_and_a_refusal_is_never_remembered() -> None:
    registry = SchemaRegistry()
    registry.register("amount.noted", 1, Amount)
    first, again = (registry.validate("amount.noted", 1, {"amount": "2500.00"}) for _ in "ab")
    refusals = []
    for _ in range(2):
        with pytest.raises(PayloadError) as caught:
            registry.validate("amount.noted", 1, {"amount": "NaN"})
        refusals.append(caught.value.field)
    assert (first, str(again.amount), refusals) == (again, "2500.00", ["payload.amount"] * 2)


def test_an_event_survives_the_envelope_and_loads_as_the_same_model() -> None:
    registry = build_registry()
    charge = ChargePosted(
        charge_id="C-1",
        facility_id="fac-1",
        encounter_token="tok-enc-9",
        cdm_code="27800123",
        revenue_code="0278",
        hcpcs="C1776",
        transaction_type="CG",  # type: ignore[arg-type]
        quantity=Decimal("1"),
        amount=Decimal("4250.00"),
        service_date=AT.date(),
    )
    event_type, version, payload = registry.dump(charge)
    sent = Envelope(
        id=uuid.UUID("01953a7c-5000-7000-8000-000000000001"),
        type=event_type,
        schema_version=version,
        occurred_at=AT,
        recorded_at=AT,
        source_system="epic",
        source_facility="fac-1",
        trace_id="trace-1",
        correlation_id="tok-enc-9",
        causation_id=None,
        idempotency_key="key-1",
        payload=payload,
    )
    received = from_json(to_json(sent))
    assert registry.load(received.type, received.schema_version, received.payload) == charge


def test_a_crosswalk_mapping_names_the_dependency_parked_messages_wait_for() -> None:
    mapped = CrosswalkMapped(
        source_system="epic",
        facility_id="fac-1",
        kind=CrosswalkKind.ITEM,
        local_code="LOC-42",
        canonical_id="item-gloves",
        mapped_at=AT,
    )
    assert mapped.dependency() == DependencyKey("item", "epic/fac-1/item/LOC-42")


# Export


def test_export_keys_every_version_as_type_slash_v_n() -> None:
    assert sorted(export(build_registry())) == [
        "charge.posted/v1",
        "crosswalk.mapped/v1",
        "finance.usage.costed/v1",
        "inventory.usage.applied/v1",
        "masterdata.item.changed/v1",
        "message.received/v1",
        "purchasing.invoice.matched/v1",
        "purchasing.invoice.received/v1",
        "purchasing.order.acknowledged/v1",
        "purchasing.order.raised/v1",
        "purchasing.receipt.recorded/v1",
        "purchasing.requisition.approval_requested/v1",
        "purchasing.requisition.approved/v1",
        "purchasing.requisition.raised/v1",
        "purchasing.requisition.rejected/v1",
        "purchasing.shipment.noticed/v1",
        "supply.usage.recorded/v1",
        "supply.usage.recorded/v2",
    ]


def test_export_marks_a_version_reached_by_an_upcaster() -> None:
    schemas = export(build_registry())
    marks = (
        schemas["supply.usage.recorded/v1"].get(UPCAST_FROM),
        schemas["supply.usage.recorded/v2"][UPCAST_FROM],
    )
    assert marks == (None, 1)


def test_export_writes_a_decimal_as_a_string_schema() -> None:
    quantity = export(build_registry())["supply.usage.recorded/v2"]["properties"]["quantity"]
    assert quantity == {
        "type": "string",
        "pattern": r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$",
        "title": "Quantity",
    }


def test_key_of_refuses_a_model_that_is_not_registered() -> None:
    class Stray(BaseModel):
        pass

    assert refusal(build_registry().key_of, Stray) == ("Stray", "is not a registered event model")
