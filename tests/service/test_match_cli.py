"""``suture match``: run, show and tolerances from the terminal.

The commands run through a Typer application built here, against a hub made in the test: a real
migrated SQLite file, the real bus, match process and audit trail, and a fixed clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa
import typer
from match_world import (
    AT,
    World,
    build_bus,
    drain,
    invoice_line,
    later,
    new_world,
    receipt_line,
    receive_invoice,
    record_receipt,
    seed,
)
from typer.testing import CliRunner, Result

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.audit import AuditKey
from suture.domain.matching import Tolerance
from suture.entrypoints.cli import match as cli
from suture.entrypoints.cli.audit import operator_name
from suture.services.audit import AuditTrail
from suture.services.deliveries import DeliveryQueue
from suture.services.messagebus import MessageBus
from suture.services.workflows.match_operations import MatchOperations
from suture.services.workflows.three_way_match import ThreeWayMatch


@dataclass
class TestHub:
    """The attributes of ``bootstrap.Hub`` the match commands use."""

    __test__ = False

    matching: MatchOperations
    audit: AuditTrail
    bus: MessageBus

    def close(self) -> None:
        pass


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[sa.Engine]:  # SQLite only: the CLI, not the storage
    created = create_engine(sqlite_url)
    ensure_schema(created)
    yield created
    created.dispose()


@pytest.fixture
def hub(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> TestHub:
    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    bus, process = build_bus(uow, lambda: AT)
    made = TestHub(
        MatchOperations(uow, bus, process, lambda: AT),
        AuditTrail(uow, AuditKey.from_secret("test-secret"), lambda: AT),
        bus,
    )
    monkeypatch.setattr(cli, "open_hub", lambda: made)
    return made


@pytest.fixture
def world(engine: sa.Engine) -> World:
    created = new_world()
    with SqlAlchemyUnitOfWork(engine) as unit:
        seed(unit, created)
    return created


def suture(*args: str) -> Result:
    app = typer.Typer()
    app.add_typer(cli.match_app, name="match")
    return CliRunner().invoke(app, ["match", *args])


def test_run_matches_an_invoice_and_show_prints_its_lines(
    hub: TestHub, engine: sa.Engine, world: World
) -> None:
    with SqlAlchemyUnitOfWork(engine) as unit:
        record_receipt(hub.bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(hub.bus, unit, world, "A", invoice_line(1, world.glove, "2", "50.00", "CS"))

    ran = suture("run", world.invoice_id("A"), "--json")
    shown = suture("show", world.invoice_id("A"), "--json")

    assert ran.exit_code == 0, ran.output
    runs = json.loads(ran.stdout)
    assert [(r["ran"], r["status"], r["attempts"], r["matched_amount"]) for r in runs] == [
        (True, "matched", 1, "100.00")
    ]
    view = json.loads(shown.stdout)
    line = view["match"]["lines"][0]
    assert (view["invoice_status"], Decimal(line["invoiced_eaches"]), line["finding"]) == (
        "matched",
        100,
        "matched",
    )
    actions = [record.entry.action for record in hub.audit.list(limit=10)]
    assert actions == ["match.run"]


def test_show_prints_the_stored_amounts_to_the_cent_as_run_did(
    hub: TestHub, engine: sa.Engine, world: World
) -> None:
    """The column keeps four places; the match's amounts are cents (docs, OpenAPI)."""
    with SqlAlchemyUnitOfWork(engine) as unit:
        record_receipt(hub.bus, unit, world, "1", receipt_line(1, world.glove, "60"))
        receive_invoice(hub.bus, unit, world, "A", invoice_line(1, world.glove, "100", "1.00"))
    ran = json.loads(suture("run", world.invoice_id("A"), "--json").stdout)[0]

    shown = json.loads(suture("show", world.invoice_id("A"), "--json").stdout)["match"]

    amounts = ("invoice_amount", "matched_amount", "variance_amount")
    assert [shown[k] for k in amounts] == [ran[k] for k in amounts] == ["100.00", "0.00", "40.00"]


def test_run_po_re_runs_the_pos_held_invoices(
    hub: TestHub, engine: sa.Engine, world: World
) -> None:
    with SqlAlchemyUnitOfWork(engine) as unit:
        receive_invoice(hub.bus, unit, world, "A", invoice_line(1, world.glove, "100", "1.00"))
    drain(hub.bus)
    with SqlAlchemyUnitOfWork(engine) as unit:
        record_receipt(hub.bus, unit, world, "1", receipt_line(1, world.glove, "100"))

    result = suture("run", "--po", world.po_number, "--json")

    assert [(r["invoice_id"], r["status"]) for r in json.loads(result.stdout)] == [
        (world.invoice_id("A"), "matched")
    ]


def test_show_names_a_held_invoices_exceptions_and_what_it_duplicates(
    hub: TestHub, engine: sa.Engine, world: World
) -> None:
    with SqlAlchemyUnitOfWork(engine) as unit:
        record_receipt(hub.bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(hub.bus, unit, world, "A", invoice_line(1, world.glove, "50", "1.00"))
    drain(hub.bus)
    with SqlAlchemyUnitOfWork(engine) as unit:
        receive_invoice(hub.bus, unit, world, "A", invoice_line(1, world.glove, "50", "1.00"),
                        id=world.invoice_id("A-again"), at=later(5))  # fmt: skip
    drain(hub.bus)

    shown = suture("show", world.invoice_id("A-again"))

    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert f"exceptions: duplicate_invoice (duplicate of {world.invoice_id('A')})" in text


def test_run_po_of_a_po_number_nothing_knows_is_refused_naming_it(
    hub: TestHub, world: World
) -> None:
    """A typo would say "0 invoices run" and exit 0, as if the PO had nothing held."""
    result = suture("run", "--po", "PO-NOPE")
    known = suture("run", "--po", world.po_number, "--json")

    assert (result.exit_code, known.exit_code, json.loads(known.stdout)) == (1, 0, [])
    assert "purchase_order_number: no purchase order 'PO-NOPE'" in " ".join(result.output.split())


@pytest.mark.parametrize("args", [(), ("INV-1", "--all-open"), ("--po", "P", "--all-open")])
def test_run_needs_exactly_one_target(hub: TestHub, args: tuple[str, ...]) -> None:
    result = suture("run", *args)

    assert result.exit_code == 2
    assert "exactly one of INVOICE, --po PO or --all-open" in result.output


def test_an_unknown_invoice_is_refused_naming_it(hub: TestHub) -> None:
    result = suture("show", "INV-NOPE")

    assert result.exit_code == 1
    assert "invoice_id: no invoice 'INV-NOPE'" in result.output


def test_tolerances_set_then_list_shows_the_default_and_the_rule(
    hub: TestHub, world: World
) -> None:
    set_ = suture("tolerances", "set", "--supplier", world.supplier_id, "--price-percent", "2.5",
                  "--price-amount", "10")  # fmt: skip
    listed = suture("tolerances", "list", "--json")

    assert set_.exit_code == 0, set_.output
    assert json.loads(listed.stdout) == [
        {"facility_id": None, "supplier_id": None, "source": "settings", "price_percent": "0",
         "price_amount": "0", "quantity_percent": "0", "quantity_amount": "0"},
        {"facility_id": None, "supplier_id": world.supplier_id, "source": "rule",
         "price_percent": "2.5000", "price_amount": "10.0000", "quantity_percent": "0.0000",
         "quantity_amount": "0.0000"},
    ]  # fmt: skip


def rule_of(scope: dict[str, str | None]) -> dict[str, str]:
    """The tolerance values of the listed rule of ``scope`` (facility_id, supplier_id)."""
    listed = json.loads(suture("tolerances", "list", "--json").stdout)
    found = [row for row in listed if row["source"] == "rule"
             and {k: row[k] for k in ("facility_id", "supplier_id")} == scope]  # fmt: skip
    assert len(found) == 1, listed
    return {k: f"{Decimal(v):f}" for k, v in found[0].items()
            if k not in {"facility_id", "supplier_id", "source"}}  # fmt: skip


def test_tolerances_set_changes_only_the_options_given_and_keeps_the_rules_others(
    hub: TestHub, world: World
) -> None:
    scope = {"facility_id": None, "supplier_id": world.supplier_id}
    suture("tolerances", "set", "--supplier", world.supplier_id, "--price-percent", "2",
           "--price-amount", "50", "--quantity-percent", "1", "--quantity-amount", "3")  # fmt: skip

    changed = suture("tolerances", "set", "--supplier", world.supplier_id, "--price-percent", "5")

    assert changed.exit_code == 0, changed.output
    assert rule_of(scope) == {
        "price_percent": "5.0000", "price_amount": "50.0000", "quantity_percent": "1.0000",
        "quantity_amount": "3.0000",
    }  # fmt: skip
    assert "price 5 % and 50 a line, quantity 1 % and 3 EA" in " ".join(changed.output.split())


def test_a_new_rule_takes_the_options_left_out_from_the_tolerance_in_force_for_its_scope(
    hub: TestHub, engine: sa.Engine, world: World
) -> None:
    """The settings' default first; a default rule (neither scope) once there is one."""
    hub.matching = MatchOperations(
        lambda: SqlAlchemyUnitOfWork(engine), hub.bus,
        ThreeWayMatch(DeliveryQueue(), Tolerance(price_percent=Decimal(2),
                                                 price_amount=Decimal(25))),
        lambda: AT,
    )  # fmt: skip

    suture("tolerances", "set", "--quantity-amount", "4")
    suture("tolerances", "set", "--supplier", world.supplier_id, "--price-percent", "5")

    assert rule_of({"facility_id": None, "supplier_id": None}) == {
        "price_percent": "2.0000", "price_amount": "25.0000", "quantity_percent": "0.0000",
        "quantity_amount": "4.0000",
    }  # fmt: skip
    assert rule_of({"facility_id": None, "supplier_id": world.supplier_id}) == {
        "price_percent": "5.0000", "price_amount": "25.0000", "quantity_percent": "0.0000",
        "quantity_amount": "4.0000",
    }  # fmt: skip


def test_tolerances_set_without_a_value_is_refused(hub: TestHub, world: World) -> None:
    result = suture("tolerances", "set", "--supplier", world.supplier_id)

    assert result.exit_code == 2
    assert "give at least one of --price-percent" in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("option", "field"), [("--facility", "facility_id"), ("--supplier", "supplier_id")]
)
def test_a_tolerance_for_an_unknown_facility_or_supplier_is_refused_naming_it(
    hub: TestHub, world: World, option: str, field: str
) -> None:
    """A typo would store a rule no invoice ever meets, and the default would go on applying."""
    result = suture("tolerances", "set", option, "SUP-27", "--price-percent", "5")
    listed = suture("tolerances", "list", "--json")

    assert result.exit_code == 1
    assert f"{field}: no {option[2:]} 'SUP-27'" in result.output
    assert [row["source"] for row in json.loads(listed.stdout)] == ["settings"]


def test_a_negative_tolerance_is_refused_naming_the_field(hub: TestHub) -> None:
    result = suture("tolerances", "set", "--quantity-amount", "-1")

    assert result.exit_code == 2
    assert "quantity_amount: must be a finite, non-negative decimal" in result.output


def test_removing_a_rule_that_does_not_exist_is_refused(hub: TestHub) -> None:
    result = suture("tolerances", "remove", "--facility", "F9")

    assert result.exit_code == 1
    assert "no tolerance rule for F9/any" in result.output


def receive_twins(hub: TestHub, engine: sa.Engine, world: World) -> None:
    """A, then B five minutes later: same PO, amount and date; B is held as a suspected
    duplicate of A, and A matched."""
    with SqlAlchemyUnitOfWork(engine) as unit:
        record_receipt(hub.bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(hub.bus, unit, world, "A", invoice_line(1, world.glove, "50", "1.00"))
        receive_invoice(hub.bus, unit, world, "B", invoice_line(1, world.glove, "50", "1.00"),
                        at=later(5))  # fmt: skip
    drain(hub.bus)


def test_not_duplicate_records_the_decision_re_runs_and_show_says_it(
    hub: TestHub, engine: sa.Engine, world: World
) -> None:
    receive_twins(hub, engine, world)

    cleared = suture("not-duplicate", world.invoice_id("B"), "--reason", "two deliveries",
                     "--json")  # fmt: skip
    shown = suture("show", world.invoice_id("B"))
    shown_json = json.loads(suture("show", world.invoice_id("B"), "--json").stdout)

    assert cleared.exit_code == 0, cleared.output
    body = json.loads(cleared.stdout)
    decision = {
        "invoice_id": world.invoice_id("B"), "original_invoice_id": world.invoice_id("A"),
        "reason": "two deliveries", "decided_by": operator_name(),
        "decided_at": AT.isoformat(),
    }  # fmt: skip
    assert (body["decision"], body["ran"], body["status"], body["attempts"]) == (
        decision, True, "matched", 2,
    )  # fmt: skip
    assert shown_json["duplicate_clearances"] == [decision]
    text = " ".join(shown.output.split())
    assert (
        f"not a duplicate of invoice {world.invoice_id('A')}: decided by {operator_name()} at "
        f"{AT.isoformat()}: two deliveries"
    ) in text
    (record,) = hub.audit.list(action="match.not_duplicate")
    assert (record.entry.target_id, record.entry.outcome.value, record.entry.before,
            record.entry.after, record.entry.reason) == (
        world.invoice_id("B"), "success", f"duplicate_of={world.invoice_id('A')}",
        "status=matched attempts=2 findings=-", "two deliveries",
    )  # fmt: skip


def test_not_duplicate_prints_the_decision_and_what_the_re_run_found(
    hub: TestHub, engine: sa.Engine, world: World
) -> None:
    receive_twins(hub, engine, world)

    cleared = suture("not-duplicate", world.invoice_id("B"), "--reason", "two deliveries")

    assert cleared.exit_code == 0, cleared.output
    text = " ".join(cleared.output.split())
    assert f"not a duplicate of invoice {world.invoice_id('A')}" in text
    assert "re-run: matched after 2 attempt(s)" in text


def test_not_duplicate_of_the_same_invoice_number_is_refused_and_audited_as_failed(
    hub: TestHub, engine: sa.Engine, world: World
) -> None:
    with SqlAlchemyUnitOfWork(engine) as unit:
        record_receipt(hub.bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(hub.bus, unit, world, "A", invoice_line(1, world.glove, "50", "1.00"))
        receive_invoice(hub.bus, unit, world, "A", invoice_line(1, world.glove, "50", "1.00"),
                        id=world.invoice_id("A-again"), at=later(5))  # fmt: skip
    drain(hub.bus)

    refused = suture("not-duplicate", world.invoice_id("A-again"), "--reason", "checked")

    assert refused.exit_code == 1
    assert "number: invoice" in refused.output
    assert "always a duplicate" in " ".join(refused.output.split())
    (record,) = hub.audit.list(action="match.not_duplicate")
    assert (record.entry.outcome.value, record.entry.reason is not None) == ("failed", True)


def test_not_duplicate_of_an_invoice_not_held_as_a_duplicate_is_refused(
    hub: TestHub, engine: sa.Engine, world: World
) -> None:
    receive_twins(hub, engine, world)

    refused = suture("not-duplicate", world.invoice_id("A"), "--reason", "checked")

    assert refused.exit_code == 1
    assert "status: invoice" in refused.output
    assert "not held as a duplicate" in " ".join(refused.output.split())


@pytest.mark.parametrize("args", [(), ("--reason", "  ")])
def test_not_duplicate_needs_a_reason(
    hub: TestHub, engine: sa.Engine, world: World, args: tuple[str, ...]
) -> None:
    receive_twins(hub, engine, world)

    refused = suture("not-duplicate", world.invoice_id("B"), *args)

    assert refused.exit_code == 2
    assert "reason" in refused.output.lower()


def test_not_duplicate_of_an_unknown_invoice_is_refused_naming_it(hub: TestHub) -> None:
    result = suture("not-duplicate", "INV-NOPE", "--reason", "checked")

    assert result.exit_code == 1
    assert "invoice_id: no invoice 'INV-NOPE'" in result.output
