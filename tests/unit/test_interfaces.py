"""The integration inventory's domain: what an interface must hold, its route, and governance."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from suture.domain.authority import ObjectType
from suture.domain.interfaces import (
    Direction,
    Finding,
    Governance,
    GovernanceStatus,
    Interface,
    InterfaceError,
    InterfaceFormat,
    Mode,
    ModernizationClass,
    Route,
    UnmanagedSource,
    assess,
)

TODAY = date(2026, 11, 25)
AT = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def governed(**changes: object) -> Interface:
    """An inbound interface that passes every check, with ``changes`` applied."""
    fields: dict[str, object] = {
        "name": "ehr-charges-hl7",
        "direction": "inbound",
        "format": "hl7v2",
        "channel": "mllp",
        "source_system": "rcm",
        "target_system": "suture",
        "authoritative_objects": ("charge",),
        "owner": "revenue-integration",
        "sla_latency_minutes": 5,
        "contract": "HL7 v2.5.1 DFT^P03",
        "schema_version": "2.5.1",
        "authentication": "vpn-ip-allowlist",
        "mode": "live",
        "modernization": "retain",
    }
    return Interface(**(fields | changes))  # type: ignore[arg-type]


def test_text_values_become_the_vocabulary_of_the_inventory() -> None:
    interface = governed()

    assert (
        interface.direction,
        interface.format,
        interface.mode,
        interface.modernization,
        interface.authoritative_objects,
    ) == (
        Direction.INBOUND,
        InterfaceFormat.HL7V2,
        Mode.LIVE,
        ModernizationClass.RETAIN,
        (ObjectType.CHARGE,),
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "EHR Charges"}, "name"),
        ({"format": "HL7"}, "format"),
        ({"direction": "sideways"}, "direction"),
        ({"mode": "pilot"}, "mode"),
        ({"modernization": "rewrite"}, "modernization"),
        ({"channel": " "}, "channel"),
        ({"source_system": " rcm"}, "source_system"),
        ({"authoritative_objects": ("charge", "patient")}, "authoritative_objects"),
        ({"sla_latency_minutes": 0}, "sla_latency_minutes"),
        ({"registered_at": datetime(2026, 1, 1)}, "registered_at"),  # noqa: DTZ001
    ],
)
def test_an_invalid_field_is_refused_naming_it(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InterfaceError) as refused:
        governed(**changes)

    assert refused.value.field == field


def test_an_unknown_format_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(InterfaceError) as refused:
        governed(format="HL7")

    assert str(refused.value) == (
        "format: 'HL7' is not one of hl7v2, x12, fhir, csv, json, erp-jsonrpc, file"
    )


def test_blank_optional_text_is_absent() -> None:
    assert governed(owner="  ", contract="").owner is None


def test_an_active_inbound_interface_routes_its_channel_and_source_system() -> None:
    assert governed().route == Route("mllp", "rcm")


def test_outbound_and_retired_interfaces_route_no_traffic() -> None:
    outbound = governed(direction="outbound", channel="erp")
    retired = governed(retired_on=TODAY)

    assert (outbound.route, retired.route) == (None, None)


def test_an_interface_meeting_every_check_is_governed() -> None:
    assert assess(governed(), TODAY) == Governance("ehr-charges-hl7", GovernanceStatus.GOVERNED)


def test_each_missing_control_is_a_required_finding_naming_its_field() -> None:
    bare = governed(
        owner=None, contract=None, schema_version=None, sla_latency_minutes=None,
        authentication=None,
    )  # fmt: skip

    verdict = assess(bare, TODAY)

    assert verdict.status is GovernanceStatus.UNGOVERNED
    assert verdict.findings == (
        Finding("owner", "no owner: nobody is accountable for the interface", True),
        Finding("contract", "no contract: no schema or specification named", True),
        Finding("sla", "no SLA: neither a latency nor an availability", True),
        Finding("authentication", "no authentication method", True),
    )


def test_authentication_none_is_no_authentication() -> None:
    verdict = assess(governed(authentication="None"), TODAY)

    assert verdict.findings == (Finding("authentication", "no authentication method", True),)


def test_an_availability_alone_is_an_sla() -> None:
    verdict = assess(governed(sla_latency_minutes=None, sla_availability="24x7"), TODAY)

    assert verdict.status is GovernanceStatus.GOVERNED


def test_an_interface_on_or_past_its_sunset_date_is_ungoverned() -> None:
    verdict = assess(governed(sunset_on=date(2026, 11, 20)), TODAY)

    assert verdict == Governance(
        "ehr-charges-hl7",
        GovernanceStatus.UNGOVERNED,
        (Finding("sunset_on", "past its sunset date 2026-11-20 (5 days ago)", True),),
    )


def test_a_sunset_within_30_days_needs_attention() -> None:
    verdict = assess(governed(sunset_on=date(2026, 12, 20)), TODAY)

    assert verdict.status is GovernanceStatus.NEEDS_ATTENTION
    assert verdict.findings == (
        Finding("sunset_on", "sunset on 2026-12-20, within 30 days", False),
    )


@pytest.mark.parametrize(
    ("changes", "finding"),
    [
        (
            {"schema_version": None},
            Finding("schema_version", "the contract names no schema version", False),
        ),
        (
            {"authentication": "oauth2"},
            Finding("api_client", "OAuth2 authentication names no API client", False),
        ),
        (
            {"mode": "legacy", "modernization": None},
            Finding("modernization", "legacy mode without a modernization class", False),
        ),
        (
            {"modernization": "retire"},
            Finding("sunset_on", "classed retire without a sunset date", False),
        ),
    ],
)
def test_advisory_gaps_only_need_attention(changes: dict[str, object], finding: Finding) -> None:
    verdict = assess(governed(**changes), TODAY)

    assert (verdict.status, verdict.findings) == (GovernanceStatus.NEEDS_ATTENTION, (finding,))


def test_oauth2_with_its_client_named_is_governed() -> None:
    verdict = assess(governed(authentication="oauth2", api_client="client-7"), TODAY)

    assert verdict.status is GovernanceStatus.GOVERNED


def test_required_and_advisory_findings_together_are_ungoverned() -> None:
    legacy = governed(mode="legacy", modernization=None, owner=None)

    verdict = assess(legacy, TODAY)

    assert verdict.status is GovernanceStatus.UNGOVERNED
    assert [f.field for f in verdict.findings] == ["owner", "modernization"]


def test_an_unmanaged_source_counts_at_least_one_message() -> None:
    with pytest.raises(InterfaceError) as refused:
        UnmanagedSource(
            channel="mllp", source_system="x", format="hl7v2", first_seen=AT, last_seen=AT,
            message_count=0,
        )  # fmt: skip

    assert refused.value.field == "message_count"


def test_replacing_a_field_validates_again() -> None:
    with pytest.raises(InterfaceError):
        dataclasses.replace(governed(), format="edi")
