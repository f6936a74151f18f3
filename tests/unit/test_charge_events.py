"""The one ``charge.posted`` payload every edge writes (``services/charge_events.py``): what the
event's model reads and writes, checked as the model checks it, dated in the facility's day."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.masterdata import Facility
from suture.domain.revenue import Charge, ChargeType
from suture.eventlog.errors import PayloadError
from suture.eventlog.events import ChargePosted
from suture.eventlog.ids import idempotency_key
from suture.services.charge_events import (
    CHARGE_POSTED,
    facility_zone,
    posted_key,
    posted_payload,
)

CHICAGO = ZoneInfo("America/Chicago")


def charge(**changes: object) -> Charge:
    fields: dict[str, object] = {
        "id": "chg-1",
        "facility_id": "fac-1",
        "encounter_token": "tok-enc",
        "cdm_code": "CDM100",
        "quantity": Decimal("2"),
        "amount": Decimal("50.00"),
        "service_at": datetime(2026, 11, 21, 2, 0, tzinfo=UTC),  # 20:00 the day before in Chicago
        "transaction_type": ChargeType.CHARGE,
        "department_id": "SURG",
        "hcpcs": "C1776",
    }
    return Charge(**{**fields, **changes})  # type: ignore[arg-type]


@given(
    quantity=st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False),
    amount=st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False),
    revenue_code=st.none() | st.from_regex(r"\A[0-9]{4}\Z"),
    credit=st.booleans(),
)
def test_the_payload_is_what_the_model_reads_and_writes_less_an_absent_revenue_code(
    quantity: Decimal, amount: Decimal, revenue_code: str | None, credit: bool
) -> None:
    kind = ChargeType.CREDIT if credit else ChargeType.CHARGE
    payload = posted_payload(
        charge(quantity=quantity, amount=amount, revenue_code=revenue_code,
               transaction_type=kind),
        CHICAGO,
    )  # fmt: skip
    dumped = ChargePosted.model_validate(payload).model_dump(mode="json")
    assert dumped == {"revenue_code": None, **payload}
    assert list(payload) == [name for name in dumped if name in payload]  # the model's order
    assert ("revenue_code" in payload) is (revenue_code is not None)


def test_the_service_date_is_the_day_in_the_zone_given() -> None:
    assert posted_payload(charge(), CHICAGO)["service_date"] == "2026-11-20"
    assert posted_payload(charge(), UTC)["service_date"] == "2026-11-21"


def test_a_value_the_model_would_refuse_is_refused_by_field() -> None:
    with pytest.raises(PayloadError, match=r"payload\.revenue_code"):
        posted_payload(charge(revenue_code="27"), UTC)
    with pytest.raises(PayloadError, match=r"payload\.quantity"):
        posted_payload(charge(quantity=Decimal("NaN")), UTC)


def test_the_facility_zone_falls_back_when_none_or_unknown() -> None:
    def facility(zone: str) -> Facility:
        return Facility(id="f", code="F", name="F", timezone=zone)

    assert facility_zone(facility("America/Chicago")) is CHICAGO
    assert facility_zone(facility(""), CHICAGO) is CHICAGO
    assert facility_zone(facility("Mars/Olympus_Mons")) is UTC
    assert facility_zone(None) is UTC


def test_the_key_is_the_charge_ids() -> None:
    assert posted_key("chg-1") == idempotency_key(CHARGE_POSTED, "chg-1")
