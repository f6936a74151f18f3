"""The positional ``charge_from_fields`` builds exactly what the keyword-only ``Charge`` does."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import UTC, datetime
from decimal import Decimal

from suture.domain.revenue import Charge, ChargeType, charge_from_fields

VALUES = {
    "id": "CHG-0123456789ABCDEF0123",
    "facility_id": "MAIN_HOSP",
    "encounter_token": "enc-token",
    "cdm_code": "27800123",
    "quantity": Decimal(2),
    "amount": Decimal("8400.00"),
    "service_at": datetime(2024, 3, 15, 14, 30, tzinfo=UTC),
    "transaction_type": ChargeType.CREDIT,
    "account_token": "acct-token",
    "department_id": "OR",
    "hcpcs": "C1776",
    "revenue_code": "0278",
    "source_system": "epic",
}


def test_its_parameters_are_the_fields_of_a_charge_in_order() -> None:
    fields = [field.name for field in dataclasses.fields(Charge)]
    assert list(inspect.signature(charge_from_fields).parameters) == fields
    assert list(VALUES) == fields


def test_it_builds_the_charge_the_constructor_builds() -> None:
    built = charge_from_fields(*VALUES.values())
    assert type(built) is Charge
    assert built == Charge(**VALUES)
    assert dataclasses.asdict(built) == VALUES


def test_optional_fields_given_as_their_defaults_equal_a_charge_that_omits_them() -> None:
    required = {name: VALUES[name] for name in list(VALUES)[:7]}
    defaults = [ChargeType.CHARGE, None, None, None, None, Charge(**required).source_system]
    assert charge_from_fields(*required.values(), *defaults) == Charge(**required)
