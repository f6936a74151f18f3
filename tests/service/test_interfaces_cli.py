"""``suture interfaces …``, the governed share in ``suture status``, and the seeded inventory.

Each test runs the root application against a SQLite file of its own (``SUTURE_DATABASE_URL``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from suture.domain.interfaces import GovernanceStatus, assess
from suture.entrypoints.cli import app
from suture.services.synthetic import PROFILES, HealthSystemGenerator
from suture.services.synthetic.interfaces import demo_inventory

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "inventory.yaml"
HL7 = (
    b"MSH|^~\\&|SHADOW|SYN01|SUTURE|SYN01|20250301083000||DFT^P03|C1|P|2.5.1\r"
    b"EVN|P03|20250301083000\r"
)
GOVERNED = [
    "--direction", "inbound", "--format", "hl7v2", "--channel", "mllp", "--source", "rcm",
    "--target", "suture", "--object", "charge", "--owner", "revenue-integration",
    "--sla-latency-minutes", "5", "--contract", "HL7 v2.5.1 DFT^P03", "--schema-version",
    "2.5.1", "--authentication", "vpn-ip-allowlist",
]  # fmt: skip


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    monkeypatch.setenv("SUTURE_DATABASE_URL", url)
    monkeypatch.setenv("SUTURE_ERP_OUTBOX_DIR", str(tmp_path / "outbox"))
    return url


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def as_json(*args: str) -> Any:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_add_registers_and_prints_the_governance_status() -> None:
    result = run("interfaces", "add", "ehr-charges-hl7", *GOVERNED)

    assert result.exit_code == 0, result.output
    assert result.output == "ehr-charges-hl7 registered: governed\n"


def test_add_names_each_failed_check() -> None:
    result = run("interfaces", "add", "legacy-mms", "--direction", "inbound", "--format", "csv",
                 "--channel", "file", "--source", "legacy-mms", "--target", "suture",
                 "--mode", "legacy")  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "legacy-mms registered: ungoverned",
        "  owner: no owner: nobody is accountable for the interface",
        "  contract: no contract: no schema or specification named",
        "  sla: no SLA: neither a latency nor an availability",
        "  authentication: no authentication method",
        "  modernization: legacy mode without a modernization class (advisory)",
    ]


def test_show_json_has_every_field_and_the_verdict() -> None:
    run("interfaces", "add", "ehr-charges-hl7", *GOVERNED, "--facility", "FAC-01")

    shown = as_json("interfaces", "show", "ehr-charges-hl7")

    assert {k: v for k, v in shown.items() if k not in {"registered_at", "updated_at"}} == {
        "name": "ehr-charges-hl7", "description": "", "direction": "inbound", "format": "hl7v2",
        "channel": "mllp", "source_system": "rcm", "target_system": "suture",
        "authoritative_objects": ["charge"], "owner": "revenue-integration",
        "sla_latency_minutes": 5, "sla_availability": None, "contract": "HL7 v2.5.1 DFT^P03",
        "schema_version": "2.5.1", "authentication": "vpn-ip-allowlist", "api_client": None,
        "mode": "live", "modernization": None, "sunset_on": None, "facility_ids": ["FAC-01"],
        "retired_on": None, "governance": {"status": "governed", "findings": []},
    }  # fmt: skip


def test_refusals_exit_1_and_invalid_input_exits_2() -> None:
    run("interfaces", "add", "ehr-charges-hl7", *GOVERNED)

    taken = run("interfaces", "add", "ehr-charges-hl7", *GOVERNED)
    route = run("interfaces", "add", "second", *GOVERNED)
    invalid = run("interfaces", "add", "Bad Name", *GOVERNED)
    unknown = run("interfaces", "show", "nowhere")

    assert [r.exit_code for r in (taken, route, invalid, unknown)] == [1, 1, 2, 1]
    assert "interface 'ehr-charges-hl7' exists" in taken.output
    assert "is the route of interface 'ehr-charges-hl7' already" in route.output


def test_update_sets_and_clears_fields() -> None:
    run("interfaces", "add", "ehr-charges-hl7", *GOVERNED)

    result = run("interfaces", "update", "ehr-charges-hl7", "--set", "owner=supply-chain-it",
                 "--set", "facility_ids=FAC-01, FAC-02", "--set", "sunset_on=2027-06-30",
                 "--clear", "contract", "--json")  # fmt: skip

    assert result.exit_code == 0, result.output
    changed = json.loads(result.output)
    assert (changed["owner"], changed["facility_ids"], changed["sunset_on"]) == (
        "supply-chain-it", ["FAC-01", "FAC-02"], "2027-06-30",
    )  # fmt: skip
    assert changed["governance"]["status"] == "ungoverned"
    assert run("interfaces", "update", "ehr-charges-hl7", "--set", "bogus=1").exit_code == 2


def test_retired_interfaces_are_listed_only_with_all() -> None:
    run("interfaces", "add", "ehr-charges-hl7", *GOVERNED)

    retired = run("interfaces", "retire", "ehr-charges-hl7", "--on", "2026-11-01")

    assert retired.output == "ehr-charges-hl7 retired on 2026-11-01\n"
    assert as_json("interfaces", "list") == []
    assert [i["retired_on"] for i in as_json("interfaces", "list", "--all")] == ["2026-11-01"]


def test_import_registers_the_file_and_again_changes_nothing() -> None:
    first = run("interfaces", "import", str(EXAMPLE))
    again = as_json("interfaces", "import", str(EXAMPLE))

    assert first.exit_code == 0, first.output
    assert "4 interfaces: 4 added, 0 updated, 0 unchanged" in first.output
    assert again == {"added": 0, "updated": 0, "unchanged": 4}
    listed = as_json("interfaces", "list", "--status", "ungoverned")
    assert [i["name"] for i in listed] == ["legacy-mms-items"]


def test_an_invalid_file_names_file_line_key_and_reason_and_changes_nothing(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace("format: x12", "format: edi"))

    result = run("interfaces", "import", str(bad))

    assert result.exit_code == 2
    assert f"{bad}:25: interfaces[1].format: 'edi' is not one of" in " ".join(result.output.split())
    assert as_json("interfaces", "list") == []


def test_hl7_from_an_unregistered_source_is_reported_as_unmanaged(tmp_path: Path) -> None:
    run("interfaces", "add", "ehr-charges-batch", *GOVERNED[:5], "file", *GOVERNED[6:])
    feed, shadow = tmp_path / "feed.hl7", tmp_path / "shadow.hl7"
    feed.write_bytes(HL7)
    shadow.write_bytes(HL7.replace(b"|C1|", b"|C2|"))

    run("ingest", str(feed), "--source-system", "rcm")
    run("ingest", str(shadow), "--source-system", "shadow-ehr")

    unmanaged = as_json("interfaces", "unmanaged")
    assert [(u["channel"], u["source_system"], u["format"], u["message_count"])
            for u in unmanaged] == [("file", "shadow-ehr", "hl7v2", 1)]  # fmt: skip
    kpi = as_json("interfaces", "governance")["kpi"]
    assert (kpi["messages"], kpi["governed_messages"], kpi["unmanaged_messages"]) == (2, 1, 1)
    assert kpi["governed_traffic_share"] == 0.5


def test_status_reports_the_governed_share() -> None:
    run("interfaces", "import", str(EXAMPLE))

    status = as_json("status")
    text = run("status").output

    assert status["governance"]["registered"] == 4
    assert status["governance"]["governed_share"] == 0.75
    assert "governed interfaces: 3 of 4 (75.0%)" in text


def test_the_seeded_demo_inventory_has_governed_and_ungoverned_interfaces() -> None:
    at = datetime(2026, 11, 25, tzinfo=UTC)
    tiny = replace(PROFILES["demo"], items=60, suppliers=4, contracts=4, par_items_per_location=5)

    inventory = demo_inventory(HealthSystemGenerator(tiny, 42), at)

    statuses = {i.name: assess(i, at.date()).status for i in inventory}
    assert statuses["ehr-charges-hl7"] is GovernanceStatus.GOVERNED
    assert statuses["legacy-mms-items"] is GovernanceStatus.UNGOVERNED
    assert statuses["fhir-supply-delivery"] is GovernanceStatus.NEEDS_ATTENTION
    routes = [i.route for i in inventory if i.route is not None]
    assert len(routes) == len(set(routes))


def test_seed_registers_the_demo_inventory(monkeypatch: pytest.MonkeyPatch) -> None:
    tiny = replace(PROFILES["demo"], name="tiny", items=60, suppliers=4, contracts=4,
                   par_items_per_location=5)  # fmt: skip
    monkeypatch.setitem(PROFILES, "tiny", tiny)

    result = run("seed", "--profile", "tiny")

    assert result.exit_code == 0, result.output
    names = {i["name"] for i in as_json("interfaces", "list")}
    assert {"ehr-charges-hl7", "legacy-mms-items", "x12-sup-0001-documents"} <= names


def test_help_lists_every_subcommand() -> None:
    result = run("interfaces", "--help")

    for command in ("add", "list", "show", "update", "retire", "import", "unmanaged",
                    "governance"):  # fmt: skip
        assert command in result.output
