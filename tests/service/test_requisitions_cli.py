"""``suture requisitions`` and ``suture partners`` against a real hub on a SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.audit import Actor
from suture.domain.masterdata import CostCenter, Department, Facility, Item, Supplier
from suture.domain.units import Packaging, PackagingLevel
from suture.entrypoints.cli import app
from suture.services.requisitions import RequestedLine

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SUTURE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SUTURE_X12_OUTBOX_DIR": str(tmp_path / "x12"),
        "SUTURE_ERP_OUTBOX_DIR": str(tmp_path / "erp"),
    }


@pytest.fixture
def hub(env: dict[str, str]) -> Iterator[Hub]:
    built = build(Settings(database_url=env["SUTURE_DATABASE_URL"]))
    with built.uow_factory() as uow:
        uow.facilities.add(Facility(id="fac-a", code="A", name="A"))
        uow.cost_centers.add(CostCenter(id="cc", facility_id="fac-a", code="CC", name="CC"))
        uow.departments.add(
            Department(id="or", facility_id="fac-a", code="OR", name="OR", cost_center_id="cc")
        )
        uow.suppliers.add(Supplier(id="sup-1", name="Acme"))
        uow.items.add(
            Item(id="scope", description="Scope", manufacturer="Acme", catalog_number="S",
                 packaging=Packaging((PackagingLevel("EA", 1, None),)), purchase_uom="EA",
                 supplier_id="sup-1", list_price=Decimal("4000.00"))
        )  # fmt: skip
        uow.commit()
    yield built
    built.close()


def pending(hub: Hub) -> str:
    submitted = hub.requisitions.submit(
        facility_id="fac-a", department_id="or", lines=[RequestedLine("scope", Decimal(1))],
        actor=Actor("nurse", "test"),
    )  # fmt: skip
    while hub.bus.run_once():
        pass
    return submitted.id


def test_the_work_list_shows_a_pending_requisition_and_approve_orders_it_once_a_partner_is_set(
    hub: Hub, env: dict[str, str]
) -> None:
    req = pending(hub)

    listed = runner.invoke(app, ["requisitions", "list", "--json"], env=env)
    approved = runner.invoke(app, ["requisitions", "approve", req, "--by", "pat"], env=env)
    again = runner.invoke(app, ["requisitions", "approve", req, "--by", "pat"], env=env)
    while hub.bus.run_once():
        pass
    parked = hub.requisitions.show(req).status
    partner = runner.invoke(
        app, ["partners", "set", "sup-1", "--isa-qualifier", "ZZ", "--isa-id", "ACME"], env=env
    )
    while hub.bus.run_once():
        pass
    shown = json.loads(runner.invoke(app, ["requisitions", "show", req, "--json"], env=env).stdout)
    partners = json.loads(runner.invoke(app, ["partners", "list", "--json"], env=env).stdout)

    assert [(r["id"], r["approver"], r["amount"]) for r in json.loads(listed.stdout)] == [
        (req, "department_manager", "4000.0000")
    ]
    assert (approved.exit_code, approved.stdout.strip()) == (0, f"{req}: approved")
    assert again.stdout.strip() == f"{req}: already approved: nothing changed"
    assert parked == "approved"  # no partner profile yet: the PO step waits
    assert partner.exit_code == 0
    assert "1 parked work item(s) re-driven" in partner.stdout
    assert (shown["status"], shown["decided_by"], shown["purchase_orders"]) == (
        "ordered",
        "pat",
        [f"PO-{req}-1"],
    )
    assert [(p["supplier_id"], p["last_control_number"]) for p in partners] == [("sup-1", 1)]


def test_reject_needs_a_reason_and_a_conflicting_decision_exits_1(
    hub: Hub, env: dict[str, str]
) -> None:
    req = pending(hub)

    empty = runner.invoke(app, ["requisitions", "reject", req, "--reason", " "], env=env)
    rejected = runner.invoke(app, ["requisitions", "reject", req, "--reason", "loaner"], env=env)
    conflict = runner.invoke(app, ["requisitions", "approve", req], env=env)
    unknown = runner.invoke(app, ["requisitions", "show", "REQ-NONE"], env=env)

    assert (empty.exit_code, rejected.exit_code, conflict.exit_code) == (2, 0, 1)
    assert "is rejected: cannot approve" in " ".join(conflict.stderr.split())
    assert unknown.exit_code == 1


def test_a_bad_partner_profile_is_refused_naming_the_field(env: dict[str, str], hub: Hub) -> None:
    refused = runner.invoke(
        app, ["partners", "set", "sup-1", "--isa-qualifier", "QQ", "--isa-id", "ACME"], env=env
    )
    assert refused.exit_code == 2
    assert "isa_qualifier: 'QQ' is not one of" in " ".join(refused.stderr.split())


def test_a_bad_approval_policy_file_stops_start_up_naming_file_line_and_key(
    env: dict[str, str], tmp_path: Path
) -> None:
    policy = tmp_path / "approval.yaml"
    policy.write_text("- name: only\n  match: {amount: {lt: 10}}\n  outcome: auto\n")

    # Wide enough for the path in one piece: the temporary folder's length varies (pytest-xdist
    # adds a folder per worker), and rich folds a long word at the line's end.
    wide = {**env, "SUTURE_APPROVAL_POLICY": str(policy), "COLUMNS": "200"}
    refused = runner.invoke(app, ["requisitions", "list"], env=wide)

    assert refused.exit_code == 2
    assert f"{policy}:1: rules[0].match: the last rule must have no match predicates" in (
        " ".join(refused.stderr.split())
    )
