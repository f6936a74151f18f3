"""Upcasting: payloads written under an old version load as the latest one.

The worked example is ``supply.usage.recorded``: v1 (2025) had no unit of measure, its
quantities were eaches; v2 requires ``uom``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from suture.eventlog.errors import PayloadError, SchemaError, UpcastError
from suture.eventlog.events import SupplyUsageRecorded, build_registry
from suture.eventlog.upcasting import Upcaster

#: A v1 payload as it sits in the event log, written before v2 existed.
STORED_V1: dict[str, Any] = {
    "usage_id": "U-1",
    "facility_id": "fac-1",
    "location_id": "OR-3",
    "item_id": "item-gloves",
    "item_category": "42132203",
    "supplier_id": None,
    "quantity": "12",
    "used_at": "2025-01-15T09:30:00+00:00",
    "encounter_token": "tok-enc-9",
    "department_id": None,
    "lot": None,
    "serial": None,
    "consigned": False,
}


def upcast_error(upcaster: Upcaster, version: int) -> str:
    with pytest.raises(UpcastError) as caught:
        upcaster.upcast("note.taken", version, {})
    return str(caught.value)


def chain() -> Upcaster:
    upcaster = Upcaster()
    upcaster.register("note.taken", 1, lambda payload: {**payload, "steps": ["1→2"]})
    upcaster.register(
        "note.taken", 2, lambda payload: {**payload, "steps": [*payload["steps"], "2→3"]}
    )
    return upcaster


# The worked example


def test_a_stored_v1_usage_loads_as_v2_in_eaches() -> None:
    loaded = build_registry().load("supply.usage.recorded", 1, STORED_V1)
    assert loaded == SupplyUsageRecorded(
        usage_id="U-1",
        facility_id="fac-1",
        location_id="OR-3",
        item_id="item-gloves",
        item_category="42132203",
        quantity=Decimal("12"),
        uom="EA",
        used_at=datetime(2025, 1, 15, 9, 30, tzinfo=UTC),
        encounter_token="tok-enc-9",
    )


def test_a_v2_usage_loads_unchanged() -> None:
    stored_v2 = STORED_V1 | {"uom": "BX", "quantity": "1"}
    loaded = build_registry().load("supply.usage.recorded", 2, stored_v2)
    assert loaded.model_dump(mode="json") == stored_v2 | {"used_at": "2025-01-15T09:30:00Z"}


def test_a_malformed_v1_payload_is_refused_in_v1_terms_before_upcasting() -> None:
    with pytest.raises(PayloadError) as caught:
        build_registry().load("supply.usage.recorded", 1, STORED_V1 | {"quantity": "twelve"})
    assert (caught.value.field, caught.value.reason) == (
        "payload.quantity",
        "Value error, 'twelve' is not a decimal string such as '12.50' (supply.usage.recorded/v1)",
    )


def test_a_v1_payload_with_a_unit_is_refused_because_v1_had_none() -> None:
    with pytest.raises(PayloadError) as caught:
        build_registry().load("supply.usage.recorded", 1, STORED_V1 | {"uom": "BX"})
    assert caught.value.field == "payload.uom"


def test_upcasting_leaves_the_stored_payload_untouched() -> None:
    stored = dict(STORED_V1)
    build_registry().load("supply.usage.recorded", 1, stored)
    assert stored == STORED_V1


# The chain


def test_steps_apply_in_order_up_to_the_latest_version() -> None:
    assert chain().upcast("note.taken", 1, {"text": "hi"}) == (
        3,
        {"text": "hi", "steps": ["1→2", "2→3"]},
    )


def test_a_payload_at_the_latest_version_is_returned_as_it_is() -> None:
    assert chain().upcast("note.taken", 3, {"text": "hi"}) == (3, {"text": "hi"})


def test_a_type_without_upcasters_stays_at_its_version() -> None:
    assert Upcaster().upcast("charge.posted", 1, {"charge_id": "C-1"}) == (1, {"charge_id": "C-1"})


def test_upcasting_can_stop_at_a_given_version() -> None:
    assert chain().upcast("note.taken", 1, {}, to=2) == (2, {"steps": ["1→2"]})


def test_a_missing_step_is_named_rather_than_skipped() -> None:
    upcaster = Upcaster()
    upcaster.register("note.taken", 2, lambda payload: payload)
    assert (
        upcast_error(upcaster, 1) == "note.taken: no upcaster from v1 to v2 (reading a v1 payload)"
    )


def test_a_payload_newer_than_the_reader_is_refused() -> None:
    with pytest.raises(UpcastError) as caught:
        build_registry().load("supply.usage.recorded", 3, STORED_V1)
    assert str(caught.value) == (
        "supply.usage.recorded: v3 is newer than v2, the latest this reader knows"
    )


def test_a_step_registered_twice_is_refused() -> None:
    upcaster = chain()
    with pytest.raises(SchemaError) as caught:
        upcaster.register("note.taken", 1, lambda payload: payload)
    assert str(caught.value) == "note.taken: an upcaster from v1 is already registered"


def test_the_step_decorator_registers_the_function() -> None:
    upcaster = Upcaster()

    @upcaster.step("note.taken", 1)
    def add_author(payload: dict[str, Any]) -> dict[str, Any]:
        return {**payload, "author": "unknown"}

    assert upcaster.upcast("note.taken", 1, {}) == (2, {"author": "unknown"})
