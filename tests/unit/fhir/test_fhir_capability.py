"""The CapabilityStatement lists exactly the interactions and resource types the codec takes."""

from __future__ import annotations

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from suture.formats.fhir import BUNDLE_TYPES, SUPPORTED_TYPES, capability_statement


def statement() -> dict[str, object]:
    return capability_statement(
        base_url="https://hub.example.org/fhir/R4", date="2026-11-25", software_version="0.1.0"
    )


def test_the_statement_is_a_valid_capability_statement() -> None:
    CapabilityStatement.model_validate(statement())


def test_it_lists_create_of_exactly_the_supported_types_and_batch_and_transaction() -> None:
    rest = statement()["rest"]
    assert isinstance(rest, list)
    (server,) = rest
    assert server["mode"] == "server"
    assert {r["type"]: r["interaction"] for r in server["resource"]} == {
        kind: [{"code": "create"}] for kind in SUPPORTED_TYPES
    }
    assert server["interaction"] == [{"code": kind} for kind in BUNDLE_TYPES]
    assert sorted(SUPPORTED_TYPES) == [
        "ChargeItem",
        "Device",
        "Invoice",
        "Procedure",
        "SupplyDelivery",
        "SupplyRequest",
    ]


def test_it_says_r4_and_json() -> None:
    assert (statement()["fhirVersion"], statement()["format"]) == (
        "4.0.1",
        ["application/fhir+json", "json"],
    )
