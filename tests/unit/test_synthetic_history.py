"""Synthetic charges and usage: reproducible, one story, and nothing that looks like a patient."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import islice

import pytest

from suture.domain.crosswalk import CrosswalkKind
from suture.domain.errors import DomainError
from suture.domain.identifiers import validate_gtin
from suture.domain.inventory import UsageRecord
from suture.domain.revenue import Charge, ChargeType
from suture.services.synthetic import PROFILES, HealthSystemGenerator
from suture.services.synthetic.profiles import Profile

START = datetime(2024, 6, 1, tzinfo=UTC)
DEMO = PROFILES["demo"]
COUNT = 3_000


@pytest.fixture(scope="module")
def generator() -> HealthSystemGenerator:
    return HealthSystemGenerator(DEMO, 42)


@pytest.fixture(scope="module")
def charges(generator: HealthSystemGenerator) -> list[Charge]:
    return list(generator.charges(COUNT, START))


@pytest.fixture(scope="module")
def usage(generator: HealthSystemGenerator) -> list[UsageRecord]:
    return list(generator.usage(COUNT, START))


def test_history_yields_exactly_the_count_asked_for(
    charges: list[Charge], usage: list[UsageRecord]
) -> None:
    assert (len(charges), len(usage)) == (COUNT, COUNT)


def test_same_seed_yields_the_same_history(charges: list[Charge], usage: list[UsageRecord]) -> None:
    again = HealthSystemGenerator(DEMO, 42)

    assert list(again.usage(COUNT, START)) == usage
    assert list(again.charges(COUNT, START)) == charges


def test_the_first_charges_do_not_depend_on_how_many_are_asked_for(
    generator: HealthSystemGenerator, charges: list[Charge]
) -> None:
    assert list(generator.charges(100, START)) == charges[:100]


def test_another_seed_yields_another_history(charges: list[Charge]) -> None:
    other = list(HealthSystemGenerator(DEMO, 7).charges(100, START))

    assert [c.encounter_token for c in other] != [c.encounter_token for c in charges[:100]]


def test_history_is_spread_over_the_window_in_utc(
    charges: list[Charge], usage: list[UsageRecord]
) -> None:
    end = START + timedelta(days=DEMO.history_days)
    times = [c.service_at for c in charges] + [u.used_at for u in usage]

    assert all(START <= at < end and at.utcoffset() == timedelta(0) for at in times)
    assert max(times) - min(times) > timedelta(days=DEMO.history_days * 0.9)


def test_charges_bill_cdm_codes_the_hospital_crosswalks_to_chargeable_items(
    generator: HealthSystemGenerator, charges: list[Charge]
) -> None:
    cdm = {
        (entry.key.facility_id, entry.key.local_code): entry.canonical_id
        for entry in generator.crosswalks(START)
        if entry.key.kind is CrosswalkKind.CHARGE_CODE
    }
    items = {item.id: item for item in generator.items()}

    for charge in charges:
        item = items[cdm[(charge.facility_id, charge.cdm_code)]]
        assert (item.is_chargeable, charge.hcpcs, charge.revenue_code) == (
            True,
            item.hcpcs,
            item.revenue_code,
        )
        assert charge.transaction_type is ChargeType.CHARGE
        assert isinstance(charge.amount, Decimal)
        assert charge.amount > 0


def _billed_lines(
    generator: HealthSystemGenerator, charges: list[Charge], usage: list[UsageRecord]
) -> tuple[set[tuple[str, str]], list[tuple[str, str]]]:
    """(encounter, item) used, and charged, on the encounters whose usage is complete here."""
    complete = {u.encounter_token for u in usage} - {usage[-1].encounter_token}
    item_of = {item.cdm_code: item.id for item in generator.items() if item.cdm_code}
    used = {(u.encounter_token or "", u.item_id) for u in usage if u.encounter_token in complete}
    billed = [(c.encounter_token, item_of[c.cdm_code]) for c in charges]
    return used, [line for line in billed if line[0] in complete]


def test_nearly_every_charge_bills_an_item_used_on_its_encounter(
    generator: HealthSystemGenerator, charges: list[Charge], usage: list[UsageRecord]
) -> None:
    used, billed = _billed_lines(generator, charges, usage)
    documented = sum(line in used for line in billed)

    assert 0.97 * len(billed) <= documented < len(billed)


def test_a_few_chargeable_items_used_are_never_charged(
    generator: HealthSystemGenerator, charges: list[Charge], usage: list[UsageRecord]
) -> None:
    chargeable = {item.id for item in generator.items() if item.is_chargeable}
    used, billed = _billed_lines(generator, charges, usage)
    billable = {line for line in used if line[1] in chargeable}
    missed = billable - set(billed)

    assert 0 < len(missed) < 0.1 * len(billable)


def test_encounter_and_account_tokens_are_opaque_never_mrn_like(
    charges: list[Charge], usage: list[UsageRecord]
) -> None:
    token = re.compile(r"^(enc|acct)_[0-9a-f]{24}$")
    tokens = [c.encounter_token for c in charges] + [c.account_token or "" for c in charges]
    tokens += [u.encounter_token or "" for u in usage]

    assert all(token.match(value) for value in tokens)


def test_implant_usage_carries_a_gs1_udi_with_lot_serial_and_expiry(
    generator: HealthSystemGenerator, usage: list[UsageRecord]
) -> None:
    implants = {item.id for item in generator.items() if item.is_implant}
    udi = re.compile(r"^\(01\)(\d{14})\(17\)(\d{6})\(10\)(L\d{6})\(21\)(SN\d{8})$")
    used = [record for record in usage if record.item_id in implants]

    assert used
    for record in used:
        match = udi.match(record.udi or "")
        assert match is not None
        assert validate_gtin(match[1]) == match[1]
        assert (match[3], match[4]) == (record.lot, record.serial)
        assert record.expiry is not None
        assert record.expiry > record.used_at.date()


def test_history_refuses_a_naive_start(generator: HealthSystemGenerator) -> None:
    with pytest.raises(DomainError, match="start: must be timezone-aware"):
        next(generator.charges(1, datetime(2024, 6, 1)))  # noqa: DTZ001 - refused on purpose


def test_history_refuses_a_negative_count(generator: HealthSystemGenerator) -> None:
    with pytest.raises(DomainError, match="count"):
        generator.usage(-1, START)


def test_a_system_without_chargeable_items_refuses_to_invent_charges() -> None:
    bare = Profile(
        name="bare", hospitals=1, departments_per_hospital=4, nursing_units_per_hospital=1,
        suppliers=2, items=20, implant_share=0.0, chargeable_share=0.0, contracts=1,
        par_items_per_location=5,
    )  # fmt: skip
    generator = HealthSystemGenerator(bare, 1)
    assert not any(item.is_chargeable for item in generator.items()), "seed 1 drew one"

    with pytest.raises(DomainError, match="chargeable_share"):
        next(generator.charges(1, START))


def test_history_streams_lazily(generator: HealthSystemGenerator) -> None:
    huge = generator.charges(10**9, START)

    assert len(list(islice(huge, 5))) == 5


def test_procedures_carry_the_same_usage_and_charges_as_the_flat_streams(
    generator: HealthSystemGenerator,
) -> None:
    procedures = list(generator.procedures(200, START))
    usage = [record for procedure in procedures for record in procedure.usage]
    charges = [record for procedure in procedures for record in procedure.charges]

    assert usage == list(generator.usage(len(usage), START))
    assert charges == list(islice(generator.charges(10 * len(charges), START), len(charges)))
    for procedure in procedures:
        assert {u.encounter_token for u in procedure.usage} <= {procedure.encounter}
        assert {c.encounter_token for c in procedure.charges} <= {procedure.encounter}
        assert {u.location_id for u in procedure.usage} <= {procedure.location_id}
