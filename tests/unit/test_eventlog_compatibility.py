"""Backward compatibility of event schemas: what `suture schemas check` will refuse.

Each "before" model stands for the committed schema of a version, each "after" for the current
model of the same version; the rule is that a reader of "after" must read every "before" payload.
"""

from __future__ import annotations

import json
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from suture.eventlog.compatibility import check_compatibility, registry_diff
from suture.eventlog.events import SupplyUsageRecorded, SupplyUsageRecordedV1, build_registry
from suture.eventlog.schemas import DecimalString, EventPayload, SchemaRegistry, export


def schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="validation")


def breaking(before: type[BaseModel], after: type[BaseModel]) -> list[str]:
    return check_compatibility(schema(before), schema(after))


class Usage(EventPayload):
    usage_id: str
    quantity: DecimalString
    lot: str | None = None


class Channel(StrEnum):
    HL7 = "hl7v2"
    X12 = "x12"
    CSV = "csv"


class NarrowChannel(StrEnum):
    HL7 = "hl7v2"
    X12 = "x12"


# What breaks


def test_a_removed_field_breaks() -> None:
    class After(EventPayload):
        usage_id: str
        quantity: DecimalString

    assert breaking(Usage, After) == ["removed field 'lot'"]


def test_a_changed_type_breaks() -> None:
    class After(EventPayload):
        usage_id: str
        quantity: int
        lot: str | None = None

    assert breaking(Usage, After) == ["changed type of 'quantity' from string to integer"]


def test_a_new_required_field_breaks() -> None:
    class After(Usage):
        uom: str

    assert breaking(Usage, After) == ["new required field 'uom'"]


def test_an_optional_field_that_becomes_required_breaks() -> None:
    class After(EventPayload):
        usage_id: str
        quantity: DecimalString
        lot: str

    assert breaking(Usage, After) == [
        "changed type of 'lot' from null/string to string",
        "field 'lot' became required",
    ]


def test_a_narrowed_literal_breaks() -> None:
    class Before(EventPayload):
        format: Literal["hl7v2", "x12", "csv"]

    class After(EventPayload):
        format: Literal["hl7v2", "x12"]

    assert breaking(Before, After) == ["narrowed enum of 'format': removed \"csv\""]


def test_a_narrowed_enum_breaks_through_its_reference() -> None:
    class Before(EventPayload):
        channel: Channel

    class After(EventPayload):
        channel: NarrowChannel

    assert breaking(Before, After) == ["narrowed enum of 'channel': removed \"csv\""]


def test_restricting_free_text_to_values_breaks() -> None:
    class Before(EventPayload):
        channel: str

    class After(EventPayload):
        channel: Channel

    assert breaking(Before, After) == ['narrowed \'channel\' to the values "csv", "hl7v2", "x12"']


def test_a_tighter_pattern_or_bound_breaks() -> None:
    class Before(EventPayload):
        lot: str = Field(max_length=20)

    class After(EventPayload):
        lot: str = Field(max_length=10, pattern="^[A-Z0-9]+$")

    assert breaking(Before, After) == [
        "changed pattern of 'lot' from None to '^[A-Z0-9]+$'",
        "lowered maxLength of 'lot' to 10",
    ]


def test_refusing_additional_fields_breaks() -> None:
    class Before(BaseModel):
        usage_id: str

    class After(BaseModel):
        model_config = ConfigDict(extra="forbid")
        usage_id: str

    assert breaking(Before, After) == ["the payload no longer accepts additional fields"]


def test_a_change_inside_a_nested_list_is_named_by_its_path() -> None:
    class Line(EventPayload):
        item_id: str
        lot: str | None = None

    class LineAfter(EventPayload):
        item_id: str

    class Before(EventPayload):
        lines: list[Line]

    class After(EventPayload):
        lines: list[LineAfter]

    assert breaking(Before, After) == ["removed field 'lines[].lot'"]


# What does not break


def test_a_new_optional_field_does_not_break() -> None:
    class After(Usage):
        serial: str | None = None

    assert breaking(Usage, After) == []


def test_a_widened_type_does_not_break() -> None:
    class Before(EventPayload):
        count: int
        note: str

    class After(EventPayload):
        count: Decimal | int
        note: str | None

    assert breaking(Before, After) == []


def test_a_widened_enum_does_not_break() -> None:
    class Before(EventPayload):
        channel: NarrowChannel

    class After(EventPayload):
        channel: Channel

    assert breaking(Before, After) == []


def test_an_unchanged_schema_does_not_break() -> None:
    assert breaking(Usage, Usage) == []


# The registry against its committed export


def committed_v1_only() -> dict[str, dict[str, Any]]:
    """The export as committed before supply.usage.recorded v2 existed."""
    current = export(build_registry())
    return {key: value for key, value in current.items() if key != "supply.usage.recorded/v2"}


def test_the_catalog_matches_its_own_export_read_back_from_json() -> None:
    committed = json.loads(json.dumps(export(build_registry())))
    assert registry_diff(committed, export(build_registry())) == []


def test_a_new_version_with_an_upcaster_passes() -> None:
    assert registry_diff(committed_v1_only(), export(build_registry())) == []


def test_a_new_version_without_an_upcaster_fails() -> None:
    registry = SchemaRegistry()
    registry.register("supply.usage.recorded", 1, SupplyUsageRecordedV1)
    registry.register("supply.usage.recorded", 2, SupplyUsageRecorded)
    committed = {"supply.usage.recorded/v1": schema(SupplyUsageRecordedV1)}
    assert registry_diff(committed, export(registry)) == [
        "supply.usage.recorded/v2: new version without an upcaster from v1"
    ]


def test_editing_v1_in_place_instead_of_raising_the_version_fails() -> None:
    registry = SchemaRegistry()
    registry.register("supply.usage.recorded", 1, SupplyUsageRecorded)
    assert registry_diff(committed_v1_only(), export(registry)) == [
        "charge.posted/v1: removed (payloads of a committed version stay in the log)",
        "crosswalk.mapped/v1: removed (payloads of a committed version stay in the log)",
        "finance.usage.costed/v1: removed (payloads of a committed version stay in the log)",
        "inventory.usage.applied/v1: removed (payloads of a committed version stay in the log)",
        "masterdata.item.changed/v1: removed (payloads of a committed version stay in the log)",
        "message.received/v1: removed (payloads of a committed version stay in the log)",
        "purchasing.invoice.matched/v1: removed (payloads of a committed version stay in the log)",
        "purchasing.invoice.received/v1: removed (payloads of a committed version stay in the log)",
        "purchasing.order.acknowledged/v1: "
        "removed (payloads of a committed version stay in the log)",
        "purchasing.order.raised/v1: removed (payloads of a committed version stay in the log)",
        "purchasing.receipt.recorded/v1: removed (payloads of a committed version stay in the log)",
        "purchasing.requisition.approval_requested/v1: "
        "removed (payloads of a committed version stay in the log)",
        "purchasing.requisition.approved/v1: "
        "removed (payloads of a committed version stay in the log)",
        "purchasing.requisition.raised/v1: "
        "removed (payloads of a committed version stay in the log)",
        "purchasing.requisition.rejected/v1: "
        "removed (payloads of a committed version stay in the log)",
        "purchasing.shipment.noticed/v1: removed (payloads of a committed version stay in the log)",
        "supply.usage.recorded/v1: new required field 'uom'",
    ]


def test_a_version_that_skips_one_fails() -> None:
    current = {
        "note.taken/v1": schema(Usage),
        "note.taken/v3": schema(Usage) | {"x-suture-upcast-from": 2},
    }
    assert registry_diff({"note.taken/v1": schema(Usage)}, current) == [
        "note.taken/v3: new version, but note.taken/v2 does not exist (versions must not skip)"
    ]


@pytest.mark.parametrize("key", ["note.taken", "note.taken/1"])
def test_a_key_that_is_not_type_slash_version_fails(key: str) -> None:
    assert registry_diff({}, {key: schema(Usage)}) == [f"{key}: not a 'type/vN' key"]


def test_a_new_event_type_passes() -> None:
    assert registry_diff({}, {"note.taken/v1": schema(Usage)}) == []
