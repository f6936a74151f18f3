"""A supplier's trading-partner profile: checked when set, control numbers never reused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from suture.domain.errors import DomainError
from suture.domain.trading_partners import MAX_CONTROL_NUMBER, TradingPartner

AT = datetime(2025, 3, 3, tzinfo=UTC)


def profile(**changes: object) -> TradingPartner:
    values: dict[str, object] = {
        "supplier_id": "SUP-1", "isa_qualifier": "ZZ", "isa_id": "ACME", "gs_id": "ACMEGS",
        "updated_at": AT,
    }  # fmt: skip
    return TradingPartner(**(values | changes))  # type: ignore[arg-type]


def test_the_target_defaults_to_the_suppliers_x12_target() -> None:
    assert (profile().target, profile(delivery_target="x12:van").target) == ("x12:SUP-1", "x12:van")


def test_the_next_control_number_follows_the_last_and_wraps_after_nine_nines() -> None:
    assert profile(last_control_number=41).next_control_number() == 42
    assert profile(last_control_number=MAX_CONTROL_NUMBER).next_control_number() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"isa_qualifier": "QQ"}, "isa_qualifier"),
        ({"isa_id": "A" * 16}, "isa_id"),
        ({"isa_id": "ACME*1"}, "isa_id"),
        ({"gs_id": "A"}, "gs_id"),
        ({"x12_version": "003040"}, "x12_version"),
        ({"usage_indicator": "X"}, "usage_indicator"),
        ({"delivery_target": "no target"}, "delivery_target"),
    ],
)
def test_a_bad_profile_is_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(DomainError) as refused:
        profile(**changes)
    assert refused.value.field == field
