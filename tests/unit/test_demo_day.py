"""The demo day's plan and its messages, read back by the hub's own codecs.

The plan (``services/synthetic/day.py``) is pure and deterministic; the messages
(``day_messages.py``) must decode, field for field, into what the plan says was charged and
used: otherwise the end-to-end demo could not find what it planted.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

import pytest

from suture.domain.errors import DomainError
from suture.formats.csv import Decoded, ImportKind, decode_usage_rows, default_profile, read_rows
from suture.formats.fhir import Decoding, Settings
from suture.formats.fhir.bundles import decode_bundle
from suture.formats.fhir.usage import DecodedUsage
from suture.formats.hl7v2 import DecodedCharges, decode_message
from suture.formats.udi import parse_udi
from suture.services.synthetic import PROFILES, HealthSystemGenerator
from suture.services.synthetic.day import HospitalDay, UsageLine, plan_day
from suture.services.synthetic.day_messages import dft_p03, procedure_bundle, usage_csv

START = datetime(2026, 11, 24, tzinfo=UTC)


def tokenize(value: str) -> str:
    return f"tok({value})"


def generator(seed: int) -> HealthSystemGenerator:
    return HealthSystemGenerator(replace(PROFILES["demo"], history_days=1), seed)


@pytest.fixture(scope="module")
def day() -> HospitalDay:
    return plan_day(generator(6), procedures=30, start=START)


def test_the_same_seed_plans_the_same_day_and_another_seed_another() -> None:
    first = plan_day(generator(6), procedures=30, start=START)
    again = plan_day(generator(6), procedures=30, start=START)
    other = plan_day(generator(7), procedures=30, start=START)

    assert again.planted == first.planted
    assert again.opening == first.opening
    assert [p.encounter for p in again.procedures] == [p.encounter for p in first.procedures]
    assert [p.encounter for p in other.procedures] != [p.encounter for p in first.procedures]


def test_the_day_lies_within_one_day_from_start_in_time_order(day: HospitalDay) -> None:
    times = [procedure.at for procedure in day.procedures]

    assert times == sorted(times)
    assert times[0] >= START
    assert times[-1] < START + timedelta(days=1)


def test_every_empty_position_is_a_stockout_at_its_first_usage(day: HospitalDay) -> None:
    assert day.planted.empty_positions > 0
    assert day.planted.stockouts >= day.planted.empty_positions


def test_a_profile_spread_over_more_than_a_day_is_refused() -> None:
    with pytest.raises(DomainError, match="history_days"):
        plan_day(HealthSystemGenerator(PROFILES["demo"], 6), procedures=3, start=START)


def test_the_dft_p03_decodes_to_the_procedures_charges(day: HospitalDay) -> None:
    procedure = next(p for p in day.procedures if len(p.charges) > 1)

    decoded = decode_message(dft_p03(procedure, "SYN01", "DEMO1"), tokenize=tokenize)

    assert isinstance(decoded, DecodedCharges)
    assert decoded.facility_code == "SYN01"
    assert decoded.encounter_token == f"tok({procedure.encounter})"
    assert [line.transaction_id for line in decoded.lines] == [
        f"CHG-{procedure.number:06d}-{n}" for n in range(1, len(procedure.charges) + 1)
    ]
    assert [(c.cdm_code, c.quantity, c.amount, c.service_at) for c in decoded.charges] == [
        (c.cdm_code, c.quantity, c.amount, procedure.at.replace(microsecond=0))
        for c in procedure.charges
    ]


def test_the_fhir_bundle_decodes_to_the_usage_lines_with_the_visit(day: HospitalDay) -> None:
    procedure = next(
        p for p in day.procedures
        if p.facility_id != day.legacy_facility_id
        and any(line.udi for line in _lines(day, p.number))
    )  # fmt: skip
    lines = _lines(day, procedure.number)
    decoding = Decoding(
        settings=Settings(facility_id=procedure.facility_id, zone=UTC, currency="USD"),
        tokenize=tokenize,
        read_udi=partial(parse_udi, today=START.date()),
    )

    bundle = decode_bundle(procedure_bundle([(procedure, lines)]), decoding)

    assert bundle.ok, bundle.issues
    (entry,) = bundle.entries
    assert entry.decoded is not None
    usage = entry.decoded.record
    assert isinstance(usage, DecodedUsage)
    assert {line.encounter_token for line in usage.lines} == {f"tok({procedure.encounter})"}
    assert {line.location for line in usage.lines} == {procedure.location_id}
    assert [
        (line.device.serial if line.device else "", line.item_code or "") for line in usage.lines
    ] == [(line.serial or "", "" if line.udi else line.item.id) for line in lines if line.udi] + [
        ("", line.item.id) for line in lines if not line.udi
    ]


def test_the_legacy_csv_decodes_to_the_legacy_facilitys_lines(day: HospitalDay) -> None:
    lines = [line for line in day.usage_lines if line.legacy]
    profile = default_profile(ImportKind.USAGE)
    stream = io.StringIO(usage_csv(lines, "SYN03").decode("utf-8"), newline="")

    results = list(decode_usage_rows(read_rows(stream, profile), profile, tokenize=tokenize))

    assert all(isinstance(result, Decoded) for result in results)
    decoded = [result.value for result in results if isinstance(result, Decoded)]
    assert [
        (u.encounter_token, u.location, u.quantity, u.used_at, u.item.gtin) for u in decoded
    ] == [
        (f"tok({line.procedure.encounter})", line.procedure.location_id, Decimal(line.quantity),
         line.procedure.at.replace(second=0, microsecond=0), line.item.gtin)
        for line in lines
    ]  # fmt: skip


def _lines(day: HospitalDay, number: int) -> list[UsageLine]:
    return [line for line in day.usage_lines if line.procedure.number == number]
