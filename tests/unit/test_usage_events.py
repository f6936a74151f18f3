"""The usage workflow's events built as JSON by typed code (``usage_events.py``) against their
models: the same payload key for key and in order, the same envelope byte for byte, and what
the model refuses refused too."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suture.domain.costing import PriceSource
from suture.eventlog.envelope import to_json
from suture.eventlog.errors import PayloadError
from suture.eventlog.events import UsageApplied, UsageCosted, build_registry
from suture.eventlog.payloads import JsonPayload, datetime_text
from suture.services.messagebus import MessageBus
from suture.services.workflows.usage_events import usage_applied, usage_costed

NOW = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)

ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
maybe_ids = st.none() | ids
decimals = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12),
                       max_value=10**12, places=6) | st.sampled_from(
    [Decimal("0"), Decimal("-0"), Decimal("1E+3"), Decimal("1E-7"), Decimal("2.5000")]
)  # fmt: skip
offsets = st.sampled_from([UTC, timezone(timedelta(hours=-5)),
                           timezone(timedelta(hours=5, minutes=30)),
                           timezone(timedelta(seconds=30)), timezone(timedelta(0))])  # fmt: skip
NAIVE_FROM, NAIVE_TO = datetime(1971, 1, 1), datetime(2200, 1, 1)  # noqa: DTZ001
times = st.builds(lambda t, tz: t.replace(tzinfo=tz),
                  st.datetimes(min_value=NAIVE_FROM, max_value=NAIVE_TO), offsets)  # fmt: skip

applied_fields = st.fixed_dictionaries({
    "usage_id": ids, "facility_id": ids, "location_id": ids, "item_id": ids,
    "item_category": st.none() | st.from_regex(r"\A[0-9]{8}\Z"), "supplier_id": maybe_ids,
    "eaches": decimals, "consigned": st.booleans(), "stockout": st.booleans(),
    "on_hand_after": decimals, "price_source": st.sampled_from(list(PriceSource)),
    "unit_price": decimals, "amount": decimals, "contract_id": maybe_ids,
    "requisition_id": maybe_ids, "bill_only_po_id": maybe_ids, "replenishment_po_id": maybe_ids,
    "department_id": maybe_ids, "encounter_token": maybe_ids, "used_at": times,
})  # fmt: skip
costed_fields = st.fixed_dictionaries({
    "usage_id": ids, "facility_id": ids, "item_id": ids, "department_id": ids,
    "cost_center_id": ids, "amount": decimals, "journal_id": maybe_ids, "cdm_code": maybe_ids,
    "expected_charge_id": maybe_ids, "encounter_token": maybe_ids,
})  # fmt: skip


def _model_fields(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.value if isinstance(v, PriceSource) else v for k, v in fields.items()}


def _bus() -> MessageBus:
    return MessageBus(lambda: None, {}, registry=build_registry(), clock=lambda: NOW)  # type: ignore[arg-type,return-value]


def _same_envelope(event_type: str, fast: JsonPayload, model: pydantic.BaseModel) -> None:
    bus = _bus()
    common: dict[str, Any] = {
        "idempotency_key": "k", "correlation_id": "c", "trace_id": "t",
        "occurred_at": NOW, "source_facility": "F1",
    }  # fmt: skip
    slow = bus.envelope(event_type, model, **common)
    quick = bus.envelope(event_type, fast, **common)
    assert quick.validated_by(bus.registry)
    assert to_json(dataclasses.replace(quick, id=slow.id)) == to_json(slow)


@settings(max_examples=300, deadline=None)
@given(applied_fields)
def test_usage_applied_is_the_models_json_form(fields: dict[str, Any]) -> None:
    model = UsageApplied(**_model_fields(fields))
    fast = usage_applied(**fields)
    assert fast.model is UsageApplied
    assert list(fast.data.items()) == list(model.model_dump(mode="json").items())
    _same_envelope("inventory.usage.applied", fast, model)


@settings(max_examples=200, deadline=None)
@given(costed_fields)
def test_usage_costed_is_the_models_json_form(fields: dict[str, Any]) -> None:
    model = UsageCosted(**fields)
    fast = usage_costed(**fields)
    assert fast.model is UsageCosted
    assert list(fast.data.items()) == list(model.model_dump(mode="json").items())
    _same_envelope("finance.usage.costed", fast, model)


def test_a_time_read_back_from_an_event_is_written_as_the_model_writes_it() -> None:
    """``used_at`` comes from the input event, read by pydantic (its own UTC tzinfo)."""
    read = UsageApplied.model_validate(
        usage_applied(**_applied(used_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC))).data
    )
    assert read.used_at.tzinfo is not UTC
    assert datetime_text(read.used_at, "used_at") == "2026-01-02T03:04:05.000006Z"


def _applied(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "usage_id": "U1", "facility_id": "F1", "location_id": "L1", "item_id": "I1",
        "item_category": "42132203", "supplier_id": None, "eaches": Decimal(2),
        "consigned": False, "stockout": False, "on_hand_after": Decimal(10),
        "price_source": PriceSource.CONTRACT, "unit_price": Decimal("0.25"),
        "amount": Decimal("0.50"), "contract_id": None, "requisition_id": None,
        "bill_only_po_id": None, "replenishment_po_id": None, "department_id": None,
        "encounter_token": None, "used_at": NOW,
    }  # fmt: skip
    return fields | changes


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": Decimal("1E+31")}, "payload.amount"),
        ({"eaches": Decimal("NaN")}, "payload.eaches"),
        ({"on_hand_after": Decimal("-Infinity")}, "payload.on_hand_after"),
        ({"used_at": NAIVE_FROM}, "payload.used_at"),
        ({"item_category": "4213220"}, "payload.item_category"),
        ({"item_category": "4213220x"}, "payload.item_category"),
    ],
)
def test_what_the_model_refuses_is_refused(changes: dict[str, Any], field: str) -> None:
    fields = _applied(**changes)
    with pytest.raises(pydantic.ValidationError):
        UsageApplied(**_model_fields(fields))
    with pytest.raises(PayloadError) as raised:
        usage_applied(**fields)
    assert raised.value.field == field
