"""The inventory file: YAML in, validated interfaces out, every error at its file, line and key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from suture.domain.interfaces import Direction, InterfaceFormat, Mode, ModernizationClass
from suture.services.inventory_file import InventoryFileError, load_inventory

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "inventory.yaml"

ONE = """\
interfaces:
  - name: ehr-charges-hl7
    direction: inbound
    format: hl7v2
    channel: mllp
    source_system: rcm
    target_system: suture
"""


def refusal(text: str) -> str:
    with pytest.raises(InventoryFileError) as refused:
        load_inventory(text, "inventory.yaml")
    return str(refused.value)


def test_the_documented_example_loads() -> None:
    interfaces = load_inventory(EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE))

    legacy = interfaces[-1]
    assert [i.name for i in interfaces] == [
        "ehr-charges-hl7", "x12-sup-0001-documents", "erp-file-export", "legacy-mms-items",
    ]  # fmt: skip
    assert (legacy.direction, legacy.format, legacy.mode, legacy.modernization) == (
        Direction.INBOUND, InterfaceFormat.CSV, Mode.LEGACY, ModernizationClass.RETIRE,
    )  # fmt: skip
    assert (legacy.sunset_on, legacy.authentication) == (date(2027, 6, 30), "none")


def test_a_minimal_interface_takes_the_defaults() -> None:
    (interface,) = load_inventory(ONE, "inventory.yaml")

    assert (interface.mode, interface.owner, interface.authoritative_objects) == (
        Mode.LIVE, None, (),
    )  # fmt: skip


def test_scalars_stay_the_text_written() -> None:
    text = ONE + "    schema_version: 005010\n    owner: no\n"

    (interface,) = load_inventory(text, "inventory.yaml")

    assert (interface.schema_version, interface.owner) == ("005010", "no")


def test_a_missing_required_key_is_named_at_its_interface() -> None:
    text = ONE.replace("    channel: mllp\n", "")

    assert refusal(text) == "inventory.yaml:2: interfaces[0].channel: missing"


def test_an_unknown_key_is_named_at_its_line() -> None:
    text = ONE + "    ownr: revenue-integration\n"

    assert refusal(text).startswith("inventory.yaml:8: interfaces[0].ownr: unknown key;")


def test_a_value_the_domain_refuses_is_reported_at_its_key() -> None:
    text = ONE.replace("format: hl7v2", "format: HL7")

    assert refusal(text) == (
        "inventory.yaml:4: interfaces[0].format: 'HL7' is not one of hl7v2, x12, fhir, csv, "
        "json, erp-jsonrpc, file"
    )


def test_an_unknown_object_type_is_reported_at_its_key() -> None:
    text = ONE + "    authoritative_objects: [charge, patient]\n"

    assert refusal(text).startswith(
        "inventory.yaml:8: interfaces[0].authoritative_objects: unknown object type 'patient'"
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("    sunset_on: 30/06/2027\n", "sunset_on: '30/06/2027' is not a date like 2027-06-30"),
        ("    sla_latency_minutes: 5m\n", "sla_latency_minutes: '5m' is not a whole number"),
    ],
)
def test_a_malformed_date_or_number_is_refused(line: str, reason: str) -> None:
    assert refusal(ONE + line).startswith(f"inventory.yaml:8: interfaces[0].{reason}")


def test_a_name_listed_twice_is_refused_naming_the_first_line() -> None:
    text = ONE + ONE.removeprefix("interfaces:\n")

    assert refusal(text) == (
        "inventory.yaml:8: interfaces[1].name: 'ehr-charges-hl7' is listed already, at line 2"
    )


def test_a_duplicate_key_is_refused() -> None:
    text = ONE + "    format: x12\n"

    assert refusal(text) == "inventory.yaml:8: interfaces[0].format: duplicate key"


def test_broken_yaml_keeps_its_line() -> None:
    text = ONE + "    owner: [unclosed\n"

    assert refusal(text).startswith("inventory.yaml:")
    assert refusal(text).split(":")[1].isdigit()


def test_a_document_without_interfaces_is_refused() -> None:
    assert refusal("services: []\n").startswith("inventory.yaml:1: inventory.services: unknown")
